"""Where are the signs? SignFinder on ONNX Runtime (torch-free): one pass over the photo.

The photo is shrunk so its long side is 256 px (signs people photograph stay above ~8 px
there, and the pass costs a few milliseconds), padded with grey to a multiple of 32, and the
heat map's peaks become boxes in the original photo's pixels. See
:mod:`traffic_signs.models.detector` for the network and :mod:`traffic_signs.data.scenes` for
what it learnt from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from traffic_signs.errors import ModelFileError
from traffic_signs.models.model_file import read_detector_file
from traffic_signs.models.resolve import find_exported_json, shipped_dir
from traffic_signs.prediction.runtime import model_input, verified_session

DEFAULT_DETECTOR = "signfinder"
LONG_SIDE = 256  # the photo's long side during detection
MULTIPLE = 32  # the network halves the resolution five times
PAD_GREY = 128
MIN_SCORE = 0.3  # a peak below this sign probability is not a sign (chosen on the real-photo folder)
MAX_SIGNS = 8  # at most this many boxes per photo go on to the classifier
OVERLAP = 0.5  # boxes overlapping a stronger one this much (IoU) are the same sign
INSIDE = 0.7  # a box lying this much inside a stronger one is a part of that sign (its text, its symbol)


@dataclass(frozen=True)
class Detection:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the photo's pixels
    score: float  # the detector's probability that a sign is centred there


def same_sign(box: tuple[float, ...], stronger: tuple[float, ...]) -> bool:
    """Whether ``box`` is the sign ``stronger`` already names: a near copy of it, or a part of it."""
    return box_iou(box, stronger) > OVERLAP or share_inside(box, stronger) > INSIDE


def on_labelled_sign(box: tuple[float, ...], sign: tuple[float, ...]) -> bool:
    """Whether a box found in a picture is a sign someone labelled there, as the benchmarks score
    it: overlapping it (IoU >= 0.3), or a part of it (lying 90% inside it: a large sign boxed in
    pieces, the letters of STOP)."""
    return box_iou(box, sign) >= 0.3 or share_inside(box, sign) >= 0.9


def share_inside(box: tuple[float, ...], outer: tuple[float, ...]) -> float:
    """The share of ``box`` that lies inside ``outer``."""
    w = max(0.0, min(box[2], outer[2]) - max(box[0], outer[0]))
    h = max(0.0, min(box[3], outer[3]) - max(box[1], outer[1]))
    area = (box[2] - box[0]) * (box[3] - box[1])
    return w * h / area if area > 0 else 0.0


def box_iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def find_detector_json(model: str | Path | None = None) -> Path:
    """The detector's JSON for a name (in runs/, else shipped), run folder or .json/.onnx path;
    ``None`` is the shipped detector itself, whatever runs/ holds under its name."""
    if model is None:
        return shipped_dir() / f"{DEFAULT_DETECTOR}.json"
    return find_exported_json(model, "last", (".onnx",), "detector", "detector")


class SignDetector:
    """An exported SignFinder: photo in, sign boxes with scores out."""

    def __init__(self, json_path: Path, min_score: float = MIN_SCORE):
        self.json_path = Path(json_path)
        self.metadata = read_detector_file(self.json_path)
        if self.metadata.onnx is None:
            raise ModelFileError(f"{self.json_path}: not an exported detector (no ONNX graph); "
                                 "run `traffic-signs ship-detector` on its run folder")
        onnx_path = self.json_path.with_name(self.metadata.onnx)
        self.stride = self.metadata.stride
        self.min_score = min_score
        self._session = verified_session(onnx_path, self.metadata.onnx_sha256, self.json_path.name)

    @classmethod
    def load(cls, model: str | Path | None = None) -> SignDetector:
        return cls(find_detector_json(model))

    def maps(self, image: Image.Image) -> tuple[np.ndarray, float]:
        """The raw output (5 x rows x cols) for ``image`` and the scale applied to it."""
        scale = LONG_SIDE / max(image.size)
        width, height = max(1, round(image.width * scale)), max(1, round(image.height * scale))
        small = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=3.0)
        padded_h, padded_w = -(-height // MULTIPLE) * MULTIPLE, -(-width // MULTIPLE) * MULTIPLE
        canvas = np.full((padded_h, padded_w, 3), PAD_GREY, np.uint8)
        canvas[:height, :width] = np.asarray(small)
        return self._session.run(["maps"], {"images": model_input(canvas[None])})[0][0], scale

    def detect(self, image: Image.Image, max_signs: int = MAX_SIGNS) -> list[Detection]:
        """Boxes of the signs in ``image`` (an RGB PIL image), strongest first."""
        maps, scale = self.maps(image)
        heat = 1.0 / (1.0 + np.exp(-maps[0]))
        peaks = heat >= _max3x3(heat)
        rows, cols = np.nonzero(peaks & (heat >= self.min_score))
        order = np.argsort(-heat[rows, cols])[: 4 * max_signs]
        found: list[Detection] = []
        for r, c in zip(rows[order], cols[order], strict=True):
            cx, cy = (c + maps[3, r, c]) * self.stride, (r + maps[4, r, c]) * self.stride
            w, h = np.exp(maps[1, r, c]) * self.stride, np.exp(maps[2, r, c]) * self.stride
            box = _clip((cx - w / 2) / scale, (cy - h / 2) / scale, (cx + w / 2) / scale, (cy + h / 2) / scale,
                        image.size)
            if box[2] - box[0] < 2 or box[3] - box[1] < 2:
                continue
            if not any(same_sign(box, kept.box) for kept in found):
                found.append(Detection(box, float(heat[r, c])))
            if len(found) == max_signs:
                break
        return found


def _max3x3(heat: np.ndarray) -> np.ndarray:
    """Each cell's maximum over its 3 x 3 neighbourhood (a peak equals it)."""
    padded = np.pad(heat, 1, constant_values=-np.inf)
    rows, cols = heat.shape
    return np.max([padded[dy : dy + rows, dx : dx + cols] for dy in range(3) for dx in range(3)], axis=0)


def _clip(x0: float, y0: float, x1: float, y1: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    width, height = size
    return (int(round(min(max(x0, 0), width))), int(round(min(max(y0, 0), height))),
            int(round(min(max(x1, 0), width))), int(round(min(max(y1, 0), height))))
