"""Traffic sign recognition on GTSRB.

    from traffic_signs import Classifier
    result = Classifier.load().predict("photo.jpg")
    print(result.describe())

Attributes are imported lazily so ``import traffic_signs`` stays light (no torch, no ONNX
Runtime until a classifier is actually used).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Classifier", "Result", "Sign", "__version__"]

if TYPE_CHECKING:
    from traffic_signs.prediction.reader import Classifier
    from traffic_signs.prediction.results import Result, Sign

_HOMES = {"Classifier": "reader", "Result": "results", "Sign": "results"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f"traffic_signs.prediction.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'traffic_signs' has no attribute {name!r}")
