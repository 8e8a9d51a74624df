"""Validation split by whole tracks.

A GTSRB track is 30 frames of one physical sign seen from a car driving past it; its frames
are near-duplicates. Splitting images at random would put frames of one sign on both sides
and make validation accuracy a measure of memory. Here whole tracks go to validation:
for every class, ``round(fraction * tracks_in_class)`` tracks (at least one when the class
has two or more), chosen with a seeded generator, so the split is stratified per class,
reproducible, and no track is ever on both sides. Images without a track (layouts that
carry none) are each treated as a track of their own.
"""

from __future__ import annotations

import numpy as np

DEFAULT_VAL_FRACTION = 0.1
DEFAULT_SPLIT_SEED = 0


def track_split(
    labels: np.ndarray,
    tracks: np.ndarray,
    fraction: float = DEFAULT_VAL_FRACTION,
    seed: int = DEFAULT_SPLIT_SEED,
) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted (train_index, val_index) arrays over the images."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must be between 0 and 1, not {fraction}")
    keys = np.array(
        [t if t else f"__image{i}" for i, t in enumerate(tracks)], dtype=object
    )
    rng = np.random.default_rng(seed)
    val_mask = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        in_class = labels == label
        class_tracks = np.unique(keys[in_class].astype(str))
        if len(class_tracks) < 2:
            continue
        count = max(1, int(round(fraction * len(class_tracks))))
        chosen = rng.choice(class_tracks, size=count, replace=False)
        val_mask |= in_class & np.isin(keys.astype(str), chosen)
    return np.flatnonzero(~val_mask), np.flatnonzero(val_mask)
