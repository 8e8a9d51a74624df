"""SignFinder's training settings, torch-free so the command line can state their defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DetectorConfig:
    scenes: int = 24000
    side: int = 192
    epochs: int = 4
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    threads: int = 1
