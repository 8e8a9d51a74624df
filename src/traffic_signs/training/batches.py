"""Every training step's inputs, drawn from the whole training split held in memory.

The split is one uint8 tensor. Each step draws a batch of indices (class-balanced sampling
against GTSRB's 210-to-2,250 imbalance), re-frames a share of them as photos show signs
(``photo_framing``), augments the whole batch with tensor ops, and adds the extra views the
recipe asks for: pictures of "no GTSRB sign" (``outlier_weight``, ``outliers``; see
:mod:`traffic_signs.data.photo_views`) and a harshly corrupted copy of the batch
(``consistency``). An epoch's
randomness is re-seeded from (seed, epoch), so a resumed run draws exactly what an
uninterrupted one would. Under torchrun every rank draws the same global batch and keeps its
own slice of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from traffic_signs.classes import NUM_CLASSES
from traffic_signs.data.augment import augment, corrupt, mirror, to_float
from traffic_signs.data.cache import ImageSet
from traffic_signs.data.photo_views import PhotoViews, SignPool, turned_over
from traffic_signs.data.scenes import background_photos
from traffic_signs.training.devices import Distributed
from traffic_signs.training.recipe import TrainConfig


@dataclass
class Batch:
    """One step's inputs on the device: this rank's share of every view, one after the other."""

    inputs: torch.Tensor  # N x 3 x H x W floats, channels-last
    labels: torch.Tensor  # of the "clean" view
    views: dict[str, int]  # view name -> its images in ``inputs``, in order: clean, [outliers], [harsh]
    mirrored: torch.Tensor | None = None  # which clean images were mirrored (``mirror_prob``), if any
    framed: torch.Tensor | None = None  # which clean images were re-framed as photos (``photo_framing``), if any

    def split(self, logits: torch.Tensor) -> dict[str, torch.Tensor]:
        """The model's output on ``inputs``, view by view."""
        return dict(zip(self.views, logits.split(list(self.views.values())), strict=True))


class TrainingBatches:
    """The training images and how each step samples, augments and extends a batch of them."""

    def __init__(self, train: ImageSet, cfg: TrainConfig, ddp: Distributed, device: torch.device):
        self.cfg, self.ddp, self.device = cfg, ddp, device
        self.pool = SignPool.of(train.images, train.labels)
        self.images, self.labels = self.pool.images, self.pool.labels
        self.weights = sampling_weights(train.labels, cfg.balance)
        self.steps_per_epoch = max(1, len(train) // cfg.batch_size)
        self.outliers_per_step = cfg.batch_size // 4 if cfg.outlier_weight > 0 else 0
        self.photo_views = photo_views_for(cfg, train.images.shape[1])

    def epoch(self, epoch: int) -> Iterator[Batch]:
        """The epoch's batches, one per step; the epoch's sample is drawn now, each batch when it is asked for."""
        seed = self.cfg.seed * 1_000_003 + epoch
        generator = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)  # dropout
        size, steps = self.cfg.batch_size, self.steps_per_epoch
        order = torch.multinomial(self.weights, steps * size, replacement=True, generator=generator)
        return (self._batch(order[step * size : (step + 1) * size], generator) for step in range(steps))

    def _batch(self, picked: torch.Tensor, generator: torch.Generator) -> Batch:
        cfg, mine = self.cfg, slice(self.ddp.rank, None, self.ddp.world)  # each rank trains on its slice
        images, labels = to_float(self.images[picked]), self.labels[picked]
        framed = None
        if cfg.photo_framing > 0:
            framed = torch.rand(len(picked), generator=generator) < cfg.photo_framing
            images[framed], labels[framed] = self.photo_views.photo_framed(images[framed], labels[framed], generator)
        mirrored = None
        if cfg.augment.mirror_prob > 0:
            images, labels, mirrored = mirror(images, labels, cfg.augment.mirror_prob, generator)
        images = augment(images, cfg.augment, generator)
        views = {"clean": images}
        if self.outliers_per_step:
            outliers = self._outliers(generator)
            views["outliers"] = augment(outliers, cfg.augment, generator)
        if cfg.consistency > 0:
            views["harsh"] = corrupt(images, cfg.harsh, generator)
        inputs = torch.cat([view[mine] for view in views.values()]).to(self.device)
        return Batch(inputs.contiguous(memory_format=torch.channels_last), labels[mine].to(self.device),
                     {name: len(view[mine]) for name, view in views.items()},
                     self._mine(mirrored, mine), self._mine(framed, mine))

    def _mine(self, mask: torch.Tensor | None, mine: slice) -> torch.Tensor | None:
        """This rank's share of a per-image mask of the clean view, on the device."""
        return mask[mine].to(self.device) if mask is not None else None

    def _outliers(self, generator: torch.Generator) -> torch.Tensor:
        if self.photo_views is None:  # upside-down signs only: no photographs needed
            return turned_over(self.images, self.pool.turnable, self.outliers_per_step, generator)
        return self.photo_views.outliers(tuple(self.cfg.outliers), self.outliers_per_step, self.pool, generator)


def photo_views_for(cfg: TrainConfig, side: int) -> PhotoViews | None:
    """The backgrounds and drawings the recipe's photo views need, if it asks for any."""
    if cfg.photo_framing <= 0 and not (cfg.outlier_weight > 0 and set(cfg.outliers) - {"upside_down"}):
        return None
    return PhotoViews(background_photos(), side, cfg.seed, drawn_designs=cfg.drawn_designs)


def sampling_weights(labels: np.ndarray, balance: float) -> torch.Tensor:
    """Per-image weights so class c is drawn with probability proportional to n_c^(1-balance)."""
    counts = np.bincount(labels, minlength=NUM_CLASSES).astype(np.float64)
    return torch.from_numpy(counts[labels] ** -balance)
