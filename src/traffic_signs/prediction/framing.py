"""Frame each sign as GTSRB framed its crops, model-sized, ready for one batched classifier call.

GTSRB's crops are the sign plus a ~10% border, stretched to a square, so that is how a sign is
cut out of a photo: each box the detector found at three framings (tight, GTSRB-like, loose),
averaged later so that a box a few pixels off does not change the answer. The whole picture is
framed too: most pictures people send are crops, and the reader reads them whole first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from traffic_signs.imaging import to_model_input
from traffic_signs.prediction.results import Box

# A GTSRB crop is the sign plus a ~10% border on each side: the sign spans ~81% of the crop.
FRAMINGS = (1.15, 1.25, 1.4)  # crop side / sign side, averaged (tight, GTSRB-like, loose)


@dataclass
class Crops:
    """The model-sized crops of one picture: the whole picture, and every box at every framing."""

    whole_box: Box  # the whole picture, in its own pixels
    whole: np.ndarray  # uint8 1 x S x S x 3
    boxes: list[Box]
    of_boxes: np.ndarray  # uint8 (boxes x FRAMINGS) x S x S x 3, a box's framings side by side


def frame(picture: Image.Image, boxes: list[Box], size: int) -> Crops:
    """The whole picture and each box at each of ``FRAMINGS``, as ``size`` x ``size`` crops."""
    of_boxes = (np.stack([sign_crop(picture, box, framing, size) for box in boxes for framing in FRAMINGS])
                if boxes else np.zeros((0, size, size, 3), np.uint8))
    return Crops((0, 0, picture.width, picture.height), whole_crop(picture, size), boxes, of_boxes)


def whole_crop(picture: Image.Image, size: int) -> np.ndarray:
    """The picture as one crop. A large photo is first shrunk by whole factors (``reducing_gap``):
    the same antialiased result for a 32 px input, at a fraction of the cost."""
    small = picture.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0)
    return to_model_input(small, size)[None]


def sign_crop(picture: Image.Image, box: Box, framing: float, size: int) -> np.ndarray:
    """The box's sign framed like a GTSRB crop: a square ``framing`` times the sign's side, model-sized."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w, half_h = (x1 - x0) * framing / 2, (y1 - y0) * framing / 2
    window = (max(0.0, cx - half_w), max(0.0, cy - half_h), min(picture.width, cx + half_w),
              min(picture.height, cy + half_h))
    return np.asarray(picture.resize((size, size), Image.Resampling.BILINEAR, box=window), dtype=np.uint8)
