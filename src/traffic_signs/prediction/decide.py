"""The photo rules: from what the classifier read to the answer for the picture.

1. **Whole picture first.** When the classifier names the whole picture, the picture is one
   sign (most uploads are crops) and stays right whatever the detector says; the detector only
   gives its box (``framing_box``).
2. Otherwise **every detected sign** is answered on its own crops, most confident first; a box
   covering so much of the picture that it is the picture's own sign keeps the whole picture's
   reading (``is_picture_sign``). A box the classifier cannot name is reported only where the
   detector holds it more likely a sign than not (``is_reported``).
3. **The main sign** (the top level of the answer): of the signs named with nearly the top
   confidence, the largest (``main_sign``).

Each answer is decided at the threshold of the call, once; boxes are mapped back to the
original picture's pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from traffic_signs.imaging import Decoded
from traffic_signs.prediction.crops import CropClassifier
from traffic_signs.prediction.results import Box, Result, Sign

MAIN_SIGN_MARGIN = 0.02  # confidences this close to the top one count as equally sure (see main_sign)
FRAMING_AGREEMENT = 0.5  # a box frames the whole picture's sign if its crop gives that class at least this
# A detection covering this share of the picture is the picture's own sign, which the whole
# picture has already been read as: a re-read of it through its box may not overrule that.
PICTURE_SIGN = 0.4
# A box answered "unknown sign" is reported when the detector's probability that it is a sign is at
# least this: more likely a sign than not. Below it, with the classifier unable to name it either,
# it was mostly a tree, a window or a car (77% of the boxes off the labelled sign on the real-photo
# folder scored below 0.5; docs/results.md, *Boxes that are not signs*).
UNNAMED_MIN_SCORE = 0.5


@dataclass
class Candidate:
    """A part of the picture (the whole of it, or a detected box) and its calibrated class probabilities."""

    box: Box
    probs: np.ndarray
    score: float | None = None  # the detector's probability that the box is a sign; None: the whole picture

    @property
    def confidence(self) -> float:
        return float(self.probs.max())


@dataclass
class Evidence:
    """What the classifier read in one picture: the whole picture, and each detected box."""

    whole: Candidate
    boxes: list[Candidate]


def decide(evidence: Evidence, model: CropClassifier, picture: Decoded, threshold: float, top_k: int,
           file: str | None) -> Result:
    """The picture's answer at ``threshold``: its signs, its main sign, boxes in original pixels."""
    whole = model.decide(evidence.whole.probs, threshold, top_k, evidence.whole.box)
    if not whole.unknown:  # the picture is one sign the model names (a crop): the detector only frames it
        whole.box = framing_box(evidence.boxes, whole.class_id) or whole.box
        signs = [whole]
    else:
        signs = read_signs(evidence, model, threshold, top_k, picture.image.size)
    main = main_sign(signs) or (signs[0] if signs else whole)
    for sign in signs if main in signs else [*signs, main]:
        sign.box = scaled_box(sign.box, picture.scale, picture.original_size)
    return Result(file, main, signs, picture.original_size, picture.image, picture.scale)


def read_signs(evidence: Evidence, model: CropClassifier, threshold: float, top_k: int,
               size: tuple[int, int]) -> list[Sign]:
    """Every detected sign's answer, most confident first; a box that is the picture's own sign
    (``is_picture_sign``) answers as the whole picture did."""
    signs = [(c, model.decide(evidence.whole.probs if is_picture_sign(c.box, size) else c.probs, threshold, top_k,
                              c.box)) for c in evidence.boxes]
    reported = [sign for c, sign in signs if is_reported(sign, c)]
    return sorted(reported, key=lambda sign: -sign.confidence)  # the detector has merged boxes of one sign


def is_reported(sign: Sign, candidate: Candidate) -> bool:
    """Whether a detected box's answer is one of the picture's signs: named, or, "unknown sign",
    found by a detector that holds it more likely a sign than not (``UNNAMED_MIN_SCORE``)."""
    return not sign.unknown or candidate.score is None or candidate.score >= UNNAMED_MIN_SCORE


def main_sign(signs: list[Sign]) -> Sign | None:
    """The sign the photo is about: of the signs named with (nearly) the top confidence, the largest.

    Two signs read at 0.999 and 0.9999 are both sure; which is the photo's subject is better told
    by size than by that difference (a yield sign above a small arrow plate is about the yield).
    """
    named = [s for s in signs if not s.unknown]
    if not named:
        return None
    top = max(s.confidence for s in named)
    sure = [s for s in named if s.confidence >= top - MAIN_SIGN_MARGIN]
    return max(sure, key=lambda s: (s.box[2] - s.box[0]) * (s.box[3] - s.box[1]))


def is_picture_sign(box: Box, size: tuple[int, int]) -> bool:
    """Whether ``box`` covers so much of the picture (``PICTURE_SIGN``) that it is the sign the
    whole picture shows. A no-class sign in a loose crop is read as unknown whole; its box,
    re-framed as a GTSRB crop, can lose the plate or text that made it no class (the disc of a
    Zone plate) and be named, so the whole picture's reading stands for such a box."""
    return (box[2] - box[0]) * (box[3] - box[1]) >= PICTURE_SIGN * size[0] * size[1]


def framing_box(candidates: list[Candidate], class_id: int) -> Box | None:
    """The box of the sign a whole picture was named for: the detection whose crop gives that class
    the most probability, if it is the likelier reading of that crop (a box on another sign, or
    on a part of this one, gives it little)."""
    best = max(candidates, key=lambda c: c.probs[class_id], default=None)
    return best.box if best is not None and best.probs[class_id] >= FRAMING_AGREEMENT else None


def scaled_box(box: Box, scale: tuple[float, float], size: tuple[int, int]) -> Box:
    """A box in decoded pixels mapped back to the original picture's pixels."""
    x0, y0, x1, y1 = box
    sx, sy = scale
    return (int(round(x0 * sx)), int(round(y0 * sy)), min(size[0], int(round(x1 * sx))),
            min(size[1], int(round(y1 * sy))))
