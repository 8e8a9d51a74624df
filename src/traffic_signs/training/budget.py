"""``--time-budget``: how many epochs fit in the wall time, so the schedule ends when the budget does.

Planned once early in the first epoch, from the step time measured after the first few steps
(they pay for kernel set-up), then again after every epoch from that epoch's speed, because a
shared machine speeds up and slows down. The learning-rate schedule follows the plan.
"""

from __future__ import annotations

import math
import time

import torch
import torch.distributed as dist

from traffic_signs.training.checkpoint import Progress
from traffic_signs.training.devices import Distributed

_WARMUP_STEPS, _TIMED_STEPS = 4, 12  # steps skipped, then steps timed, in the first epoch
_BUDGET_MARGIN = 0.03  # of the time, kept for the last checkpoint and plot


class TimeBudget:
    """Re-plans ``Progress.epochs`` to fit ``seconds`` (no budget: it never changes anything)."""

    def __init__(self, seconds: float | None, started: float, steps_per_epoch: int, val_images: int,
                 batch_size: int, ddp: Distributed):
        self.seconds, self.started, self.ddp = seconds, started, ddp
        self.steps_per_epoch, self.val_images, self.batch_size = steps_per_epoch, val_images, batch_size
        self._warm_steps = min(_WARMUP_STEPS, steps_per_epoch // 2)
        self._plan_after = min(self._warm_steps + _TIMED_STEPS, steps_per_epoch)
        self._warm_at: float | None = None

    def first_epoch_step(self, step: int, epoch_start: float, progress: Progress) -> None:
        """After step ``step`` of the first epoch: time the steps after the warm-up, and plan from them once."""
        if self.seconds is None:
            return
        now = time.perf_counter()
        if step + 1 == self._warm_steps:
            self._warm_at = now
        if step + 1 == self._plan_after:
            per_step = (now - (self._warm_at or epoch_start)) / (self._plan_after - self._warm_steps)
            progress.epochs = self._plan(per_step, steps_left=self.steps_per_epoch - self._plan_after,
                                         epochs_done=0)

    def epoch_done(self, epoch_start: float, progress: Progress) -> None:
        """After an epoch (``progress.epoch`` counts it): plan the rest from its speed."""
        if self.seconds is not None and progress.epoch < progress.epochs:
            per_step = (time.perf_counter() - epoch_start) / self.steps_per_epoch
            progress.epochs = self._plan(per_step, steps_left=0, epochs_done=progress.epoch)

    def spent(self, progress: Progress) -> bool:
        """Whether the budget is used up (then the run stops after this epoch)."""
        if self.seconds is None or time.perf_counter() - self.started <= self.seconds:
            return False
        if progress.epoch < progress.epochs:
            self.ddp.log("time budget spent; stopping after this epoch")
        return True

    def _plan(self, per_step: float, steps_left: int, epochs_done: int) -> int:
        """Total epochs for the run: those done, the current one while ``steps_left`` of it remain,
        and what fits in the time left at ``per_step`` seconds a step (the same on every rank)."""
        seconds_left = self.seconds - (time.perf_counter() - self.started)
        validation = per_step * self.val_images / self.batch_size / 3  # a third of a step per batch
        per_epoch = per_step * self.steps_per_epoch + validation
        after_current = seconds_left * (1 - _BUDGET_MARGIN) - per_step * steps_left - validation
        epochs = max(1, epochs_done + int(steps_left > 0) + max(0, math.floor(after_current / per_epoch)))
        if self.ddp.world > 1:
            planned = torch.tensor([epochs])
            dist.broadcast(planned, src=0)
            epochs = int(planned.item())
        self.ddp.log(f"time budget: {per_epoch:.1f} s per epoch measured, {epochs} epochs in all")
        return epochs
