"""Small building blocks shared by the architectures."""

from __future__ import annotations

import torch
from torch import nn

# Per-channel statistics of the GTSRB training images (RGB, 0..1). Models normalise their
# own input, so every caller feeds plain [0, 1] pixels and exported models stay self-contained.
GTSRB_MEAN = (0.3398, 0.3117, 0.3210)
GTSRB_STD = (0.2755, 0.2647, 0.2712)


class Normalize(nn.Module):
    """Subtract the dataset mean and divide by its std; part of the model, so of its export."""

    def __init__(self, mean=GTSRB_MEAN, std=GTSRB_STD):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std



class WithCams(nn.Module):
    """Export wrapper: a model's ``class_activation_maps`` (logits, Grad-CAM maps) as its forward."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.class_activation_maps(images)
