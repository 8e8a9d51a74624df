"""A torch model's logits for a uint8 image array, in batches: how training, evaluation and export score."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from traffic_signs.data.augment import to_float
from traffic_signs.data.cache import load_split
from traffic_signs.data.split import validation_subset
from traffic_signs.models.model_file import ModelFile


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


def validation_accuracy(model: nn.Module, model_file: ModelFile, data_dir: str | None, cache_dir: str | None,
                        source: str) -> tuple[float, int]:
    """Top-1 accuracy on the validation tracks ``model_file`` records, and how many images they hold
    (a committee or soup scored on the split its runs held out; ``source`` names it in errors)."""
    val = validation_subset(load_split("train", data_dir, model_file.input_size, cache_dir), model_file.split,
                            model_file.data_checksum, source)
    return float((torch_logits(model, val.images).argmax(1) == val.labels).mean()), len(val)
