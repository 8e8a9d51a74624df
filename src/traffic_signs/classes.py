"""The 43 GTSRB sign classes, in class-id order (the ids of the official CSV files)."""

from __future__ import annotations

import numpy as np

CLASS_NAMES: tuple[str, ...] = (
    "Speed limit (20km/h)",
    "Speed limit (30km/h)",
    "Speed limit (50km/h)",
    "Speed limit (60km/h)",
    "Speed limit (70km/h)",
    "Speed limit (80km/h)",
    "End of speed limit (80km/h)",
    "Speed limit (100km/h)",
    "Speed limit (120km/h)",
    "No passing",
    "No passing for vehicles over 3.5 metric tons",
    "Right-of-way at the next intersection",
    "Priority road",
    "Yield",
    "Stop",
    "No vehicles",
    "Vehicles over 3.5 metric tons prohibited",
    "No entry",
    "General caution",
    "Dangerous curve to the left",
    "Dangerous curve to the right",
    "Double curve",
    "Bumpy road",
    "Slippery road",
    "Road narrows on the right",
    "Road work",
    "Traffic signals",
    "Pedestrians",
    "Children crossing",
    "Bicycles crossing",
    "Beware of ice/snow",
    "Wild animals crossing",
    "End of all speed and passing limits",
    "Turn right ahead",
    "Turn left ahead",
    "Ahead only",
    "Go straight or right",
    "Go straight or left",
    "Keep right",
    "Keep left",
    "Roundabout mandatory",
    "End of no passing",
    "End of no passing by vehicles over 3.5 metric tons",
)

NUM_CLASSES = len(CLASS_NAMES)
assert NUM_CLASSES == 43

# Signs that look the same after a half turn (180 degrees): priority road, no vehicles, no
# entry, end of all limits, roundabout (three-fold, so turned it is still a roundabout). Every
# other sign turned upside down is not a valid sign, so training can use it as an example of
# "no sign" and benchmarks can count it as an input that should be flagged unknown.
HALF_TURN_SYMMETRIC: tuple[int, ...] = (12, 15, 17, 32, 40)


def turnable(labels: np.ndarray) -> np.ndarray:
    """Indices of the images whose sign is no valid sign once turned upside down."""
    return np.flatnonzero(~np.isin(labels, HALF_TURN_SYMMETRIC))


# The class of each sign's mirror image, for the signs whose mirror image is a sign of a GTSRB class
# with the same meaning: the mirror-symmetric designs (right-of-way, priority road, Yield, no
# vehicles, no entry, general caution, bumpy road, traffic signals, ice/snow, ahead only); the
# left / right pairs, each the other's mirror image (curves, turn ahead, straight or turn, keep
# left / right); the warning signs German rules draw in both handings (double curve first left or
# first right, pedestrians, children, cyclists and deer from either side, Zeichen 105, 133, 136,
# 138, 142 -10 / -20); and the roundabout, whose arrows turn clockwise where traffic keeps left. Every
# other sign mirrored is no sign (a mirrored 30, a Stop, the end-of-limit stripes the wrong way).
MIRRORED: dict[int, int] = {
    **{c: c for c in (11, 12, 13, 15, 17, 18, 21, 22, 26, 27, 28, 29, 30, 31, 35, 40)},
    **{a: b for a, b in ((19, 20), (33, 34), (36, 37), (38, 39))},
    **{b: a for a, b in ((19, 20), (33, 34), (36, 37), (38, 39))},
}


def mirror_permutation() -> np.ndarray:
    """``perm[c]``: the class a sign of class ``c`` is once mirrored (``c`` itself where it is no sign)."""
    perm = np.arange(NUM_CLASSES)
    for before, after in MIRRORED.items():
        perm[before] = after
    return perm
