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
