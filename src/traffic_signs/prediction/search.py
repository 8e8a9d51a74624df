"""Find the sign in a whole photo: multi-scale windows scored by the calibrated classifier.

People's photos are rarely the tight crops GTSRB is made of. Square windows of several
sizes (15% to 100% of the short side) slide over a downscaled copy of the photo with a
stride of a quarter window; every window is resized to the model input and all of them are
classified in one batched call. The window whose top class has the highest calibrated
probability wins; a second, local pass then tries shifted and rescaled copies of that window
(a coarse grid rarely lands exactly on the sign) and keeps the most confident one. The box is
returned in the original photo's pixels. Windows follow GTSRB's framing, a sign with a ~10%
margin, so a sign fills most of the best window.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

# Calibrated class probabilities (N x C) for uint8 windows (N x S x S x 3) at the model's input size.
Scorer = Callable[[np.ndarray], np.ndarray]

WINDOW_FRACTIONS = (0.15, 0.22, 0.32, 0.45, 0.65, 0.9, 1.0)
WORKING_SIDE = 256  # the photo is searched at this short side; boxes are mapped back
STRIDE_FRACTION = 0.25
REFINE_SCALES = (0.8, 0.9, 1.0, 1.1, 1.25)
REFINE_SHIFTS = (-0.15, -0.075, 0.0, 0.075, 0.15)  # fractions of the window side
# Bounds that hold for any photo, whatever its declared shape: windows per pass (a 4:3 photo
# makes 1,505, a 16:9 one 2,077, both untouched) and windows classified at once (crops are
# made chunk by chunk).
MAX_WINDOWS = 2_400
CHUNK = 256


def window_boxes(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Square windows (x0, y0, x1, y1) covering the image at every scale."""
    short = min(width, height)
    boxes = []
    for fraction in WINDOW_FRACTIONS:
        side = min(short, max(8, int(round(short * fraction))))
        stride = max(1, int(side * STRIDE_FRACTION))
        for y in _positions(height, side, stride):
            for x in _positions(width, side, stride):
                boxes.append((x, y, x + side, y + side))
    return capped(boxes, MAX_WINDOWS)


def capped(boxes: list[tuple[int, int, int, int]], limit: int) -> list[tuple[int, int, int, int]]:
    """At most ``limit`` boxes, spread evenly over the list (every scale keeps some)."""
    if len(boxes) <= limit:
        return boxes
    picks = np.linspace(0, len(boxes) - 1, limit).round().astype(int)
    return [boxes[i] for i in np.unique(picks)]


def _positions(length: int, side: int, stride: int) -> list[int]:
    last = max(0, length - side)
    positions = list(range(0, last + 1, stride))
    if positions[-1] != last:
        positions.append(last)
    return positions


def crops(image: Image.Image, boxes: list[tuple[int, int, int, int]], size: int) -> np.ndarray:
    """All windows resized to ``size`` x ``size``: uint8 N x size x size x 3."""
    return np.stack([np.asarray(image.resize((size, size), Image.Resampling.BILINEAR, box=b)) for b in boxes])


def find_sign(score: Scorer, input_size: int, image: Image.Image) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Calibrated probabilities of the best window and its box in the original image.

    ``score`` rates windows resized to ``input_size`` (a classifier's ``probabilities``).
    """
    scale = min(1.0, WORKING_SIDE / min(image.size))
    small = image if scale == 1.0 else image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.BILINEAR
    )
    _, coarse = best_window(score, input_size, small, window_boxes(*small.size))
    probs, box = best_window(score, input_size, small, refined_boxes(coarse, *small.size))
    x0, y0, x1, y1 = (int(round(v / scale)) for v in box)
    return probs, (x0, y0, min(x1, image.width), min(y1, image.height))


def best_window(score: Scorer, input_size: int, image: Image.Image,
                boxes: list[tuple[int, int, int, int]]) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The most confident box and its calibrated probabilities, classified ``CHUNK`` boxes at a
    time so memory stays flat however many boxes there are."""
    best_probs, best_box, best_score = None, boxes[0], -1.0
    for start in range(0, len(boxes), CHUNK):
        chunk = boxes[start : start + CHUNK]
        probs = score(crops(image, chunk, input_size))
        top = int(probs.max(axis=1).argmax())
        if probs[top].max() > best_score:
            best_probs, best_box, best_score = probs[top], chunk[top], float(probs[top].max())
    assert best_probs is not None  # boxes is never empty: every image has at least one window
    return best_probs, best_box


def refined_boxes(box: tuple[int, int, int, int], width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Shifted and rescaled square copies of ``box`` (itself included), kept inside the image."""
    cx, cy, side = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0]
    boxes = {box}
    for factor in REFINE_SCALES:
        new_side = min(width, height, max(8, int(round(side * factor))))
        for dy in REFINE_SHIFTS:
            for dx in REFINE_SHIFTS:
                x0 = int(round(min(max(0.0, cx + dx * side - new_side / 2), width - new_side)))
                y0 = int(round(min(max(0.0, cy + dy * side - new_side / 2), height - new_side)))
                boxes.add((x0, y0, x0 + new_side, y0 + new_side))
    return sorted(boxes)
