"""8-bit integer copies of exported models, for throughput on CPUs with int8 dot products.

Static quantisation with ONNX Runtime: weights per output channel (int8), activations per
tensor (uint8) with ranges observed on a seeded sample of training images, in QDQ format so
ONNX Runtime fuses each quantise-conv-dequantise into one integer kernel. What that gains, and
for which models, is measured by benchmarks/inference.py and benchmarks/int8_accuracy.py (the
docs/results.md, *Speed on 2 CPU cores*).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from traffic_signs.files import staged
from traffic_signs.prediction.runtime import model_input

CALIBRATION_IMAGES = 1024


def quantize_int8(onnx_path: Path, out_path: Path, calibration: np.ndarray, batch: int = 64) -> Path:
    """Write an int8 copy of ``onnx_path`` calibrated on uint8 N x H x W x 3 ``calibration``."""
    # here, not at the top: the quantiser loads onnx (train extra; the serving image leaves both out)
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(model_input(calibration[i : i + batch]) for i in range(0, len(calibration), batch))

        def get_next(self) -> dict[str, np.ndarray] | None:
            images = next(self.batches, None)
            return None if images is None else {"images": images}

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs advice about optional graph pre-processing
    try:
        with staged(out_path) as tmp:
            quantize_static(str(onnx_path), str(tmp), Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
    return out_path


def calibration_sample(images: np.ndarray, count: int = CALIBRATION_IMAGES, seed: int = 0) -> np.ndarray:
    """A seeded sample of (training) images for the activation ranges."""
    index = np.random.default_rng(seed).choice(len(images), min(count, len(images)), replace=False)
    return images[np.sort(index)]
