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
    drawn_share: float = 0.0  # share of pasted signs that are drawn (data.drawn_signs) instead of GTSRB crops
    night_share: float = 0.0  # share of scenes photographed at night (data.scenes.at_night)
    defocus_share: float = 0.0  # share of scenes whose background is out of focus behind the signs
