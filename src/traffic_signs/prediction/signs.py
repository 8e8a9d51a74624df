"""Every sign in a photo: the detector finds them, the classifier names each one.

The whole picture is classified first: when the model names it, the picture is one sign (a
crop, as most uploads are) and stays right whatever the detector would say. Otherwise SignFinder
(:mod:`traffic_signs.prediction.detect`) proposes boxes; each box is cut out the way GTSRB
crops were made (the sign plus a ~10% border, stretched to a square) and classified, three
framings averaged so that a box a few pixels off does not change the answer; the most
confident comes first.

Nothing here is a search for "the most confident window": only boxes the detector believes
are signs are classified, so a patch of sky or foliage is never asked what sign it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from traffic_signs.imaging import to_model_input
from traffic_signs.prediction.detect import Detection

Box = tuple[int, int, int, int]
# A GTSRB crop is the sign plus a ~10% border on each side: the sign spans ~81% of the crop.
FRAMINGS = (1.15, 1.25, 1.4)  # crop side / sign side, averaged (tight, GTSRB-like, loose)


@dataclass
class Candidate:
    box: Box
    probs: np.ndarray  # calibrated class probabilities

    @property
    def confidence(self) -> float:
        return float(self.probs.max())


def sign_crop(image: Image.Image, box: Box, framing: float, size: int) -> np.ndarray:
    """The box's sign framed like a GTSRB crop: a square ``framing`` times the sign's side, model-sized."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w, half_h = (x1 - x0) * framing / 2, (y1 - y0) * framing / 2
    window = (max(0.0, cx - half_w), max(0.0, cy - half_h), min(image.width, cx + half_w),
              min(image.height, cy + half_h))
    return np.asarray(image.resize((size, size), Image.Resampling.BILINEAR, box=window), dtype=np.uint8)


def classify_detections(image: Image.Image, detections: list[Detection], probabilities: Callable,
                        size: int) -> list[Candidate]:
    """One batched classifier call for every detection at every framing; framings averaged."""
    if not detections:
        return []
    crops = np.stack([sign_crop(image, d.box, f, size) for d in detections for f in FRAMINGS])
    probs = probabilities(crops).reshape(len(detections), len(FRAMINGS), -1).mean(axis=1)
    return [Candidate(d.box, p) for d, p in zip(detections, probs, strict=True)]


def whole_picture(image: Image.Image, probabilities: Callable, size: int) -> Candidate:
    """The picture as one crop. A large photo is first shrunk by whole factors (``reducing_gap``):
    the same antialiased result for a 32 px input, at a fraction of the cost."""
    small = image.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0)
    return Candidate((0, 0, image.width, image.height), probabilities(to_model_input(small, size)[None])[0])
