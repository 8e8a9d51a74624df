"""A torch model's logits for a uint8 image array, in batches: how training, evaluation and export score."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from traffic_signs.data.augment import to_float


@torch.no_grad()
def torch_logits(model: nn.Module, images: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Logits N x C for uint8 N x H x W x 3 images (model in eval mode for the call)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    outputs = []
    try:
        for start in range(0, len(images), batch_size):
            batch = torch.from_numpy(images[start : start + batch_size]).to(device)
            x = to_float(batch).contiguous(memory_format=torch.channels_last)
            outputs.append(model(x).float().cpu())
    finally:
        model.train(was_training)
    return torch.cat(outputs).numpy() if outputs else np.zeros((0, 0), np.float32)
