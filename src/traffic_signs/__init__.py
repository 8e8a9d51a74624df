"""Traffic sign recognition on GTSRB.

    from traffic_signs import Classifier
    Classifier.load().predict("photo.jpg")

Attributes are imported lazily so ``import traffic_signs`` stays light (no torch, no ONNX
Runtime until a classifier is actually used).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Classifier", "Prediction", "__version__"]

if TYPE_CHECKING:
    from traffic_signs.prediction.classifier import Classifier, Prediction


def __getattr__(name: str) -> Any:
    if name in ("Classifier", "Prediction"):
        from traffic_signs.prediction import classifier

        return getattr(classifier, name)
    raise AttributeError(f"module 'traffic_signs' has no attribute {name!r}")
