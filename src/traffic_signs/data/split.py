"""Validation split by whole tracks.

A GTSRB track is 30 frames of one physical sign seen from a car driving past it; its frames
are near-duplicates. Splitting images at random would put frames of one sign on both sides
and make validation accuracy a measure of memory. Here whole tracks go to validation:
for every class, ``round(fraction * tracks_in_class)`` tracks (at least one when the class
has two or more), chosen with a seeded generator, so the split is stratified per class,
reproducible, and no track is ever on both sides. Images without a track (layouts that
carry none) are each treated as a track of their own.

A run records what fixed its split (:class:`SplitSpec`); everything that needs the run's
validation images (evaluation, committees, export) rebuilds them from it here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from traffic_signs.errors import DataError

if TYPE_CHECKING:
    from traffic_signs.data.cache import ImageSet

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


@dataclass(frozen=True)
class SplitSpec:
    """What fixes a run's validation tracks, as its ``train_config`` records it.

    With ``limit_train`` a run first keeps a random subset of that many images, drawn with
    the run's own seed (``subset_seed``); without it the seed plays no part in the split.
    """

    val_fraction: float = DEFAULT_VAL_FRACTION
    split_seed: int = DEFAULT_SPLIT_SEED
    limit_train: int | None = None
    subset_seed: int | None = None

    @classmethod
    def of(cls, train_config: Mapping[str, Any]) -> SplitSpec:
        """The split a recorded ``train_config`` trained on (keys it lacks take today's defaults)."""
        limit = train_config.get("limit_train") or None
        return cls(train_config.get("val_fraction", DEFAULT_VAL_FRACTION),
                   train_config.get("split_seed", DEFAULT_SPLIT_SEED),
                   limit, train_config.get("seed", 0) if limit else None)

    def differing(self, other: SplitSpec) -> list[str]:
        """The settings in which ``other`` draws another split, by name."""
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]


def split_training_data(data: ImageSet, spec: SplitSpec) -> tuple[ImageSet, np.ndarray, np.ndarray]:
    """The images a run trains on and its (train, val) indices.

    Training, evaluation, committees and export all call this, so every one of them sees
    exactly the tracks the run held out: the seeded ``limit_train`` subset first (a random
    subset, so every class stays represented), then ``track_split``.
    """
    if spec.limit_train:
        keep = np.random.default_rng(spec.subset_seed).permutation(len(data))[: spec.limit_train]
        data = data.subset(np.sort(keep))
    train_index, val_index = track_split(data.labels, data.tracks, spec.val_fraction, spec.split_seed)
    return data, train_index, val_index


def validation_subset(data: ImageSet, spec: SplitSpec, trained_on: str | None = None,
                      model: str = "model") -> ImageSet:
    """The validation images of a run trained on ``data`` with ``spec``, rebuilt exactly.

    ``trained_on`` is the checksum of the run's training data: any difference would leak
    training tracks into validation and inflate the score, so a mismatch is an error naming
    ``model``, not a warning.
    """
    if trained_on and trained_on != data.checksum:
        raise DataError(
            f"{model} was trained on other training data (checksum {trained_on}, these files give "
            f"{data.checksum}); its validation split cannot be rebuilt, use --split test"
        )
    data, _, val_index = split_training_data(data, spec)
    return data.subset(val_index)
