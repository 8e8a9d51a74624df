"""Train SignFinder, the sign detector, on synthetic scenes (see :mod:`traffic_signs.data.scenes`).

    traffic-signs train-detector --out runs/signfinder [--scenes 24000] [--epochs 4] [--seed 1]

The scenes are made once, held as one uint8 tensor, and every batch is flipped and re-lit
as tensor ops (a mirrored sign is still a sign to a class-agnostic detector). The loss is
CenterNet's: a focal loss on the heat map, whose targets are Gaussians around each sign's
centre, plus L1 on log box size and centre offset at the centre cells. A checkpoint (weights
as safetensors, state as JSON) is written after every epoch and ``--resume`` continues from
it. ``traffic-signs ship-detector`` exports the finished model to ONNX, scores it and ships it.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from traffic_signs.data.cache import load_split
from traffic_signs.data.drawn_signs import draw_signs
from traffic_signs.data.scenes import SceneMaker, background_photos, make_scenes
from traffic_signs.models.detector import STRIDE, SignFinder, load_detector, save_detector
from traffic_signs.training.checkpoint import Progress, load_optimizer, load_progress, save_optimizer, save_progress
from traffic_signs.training.detector_config import DetectorConfig

SIZE_WEIGHT = 0.1
OFFSET_WEIGHT = 1.0


def targets(boxes: list[np.ndarray], side: int) -> tuple[np.ndarray, ...]:
    """CenterNet targets for a batch: heat (N,1,H,W), size and offset (N,2,H,W), centre mask (N,1,H,W)."""
    cells = side // STRIDE
    n = len(boxes)
    heat = np.zeros((n, 1, cells, cells), np.float32)
    size = np.zeros((n, 2, cells, cells), np.float32)
    offset = np.zeros((n, 2, cells, cells), np.float32)
    mask = np.zeros((n, 1, cells, cells), np.float32)
    grid = np.arange(cells, dtype=np.float32)
    for i, scene_boxes in enumerate(boxes):
        for x0, y0, x1, y1 in scene_boxes:
            cx, cy = (x0 + x1) / 2 / STRIDE, (y0 + y1) / 2 / STRIDE
            w, h = max(x1 - x0, 1.0) / STRIDE, max(y1 - y0, 1.0) / STRIDE
            ix, iy = min(int(cx), cells - 1), min(int(cy), cells - 1)
            sx, sy = max(w / 6, 0.5), max(h / 6, 0.5)
            gauss = np.exp(-((grid[None, :] - ix) ** 2) / (2 * sx * sx) - ((grid[:, None] - iy) ** 2) / (2 * sy * sy))
            heat[i, 0] = np.maximum(heat[i, 0], gauss)
            heat[i, 0, iy, ix] = 1.0
            size[i, :, iy, ix] = (math.log(w), math.log(h))
            offset[i, :, iy, ix] = (cx - ix, cy - iy)
            mask[i, 0, iy, ix] = 1.0
    return heat, size, offset, mask


def detector_loss(out: torch.Tensor, heat: torch.Tensor, size: torch.Tensor, offset: torch.Tensor,
                  mask: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Focal loss on the heat map (penalty-reduced near centres) + L1 on size and offset at centres."""
    pred = torch.sigmoid(out[:, :1].float()).clamp(1e-4, 1 - 1e-4)
    positive = heat.eq(1).float()
    count = positive.sum().clamp(min=1)
    pos = (torch.log(pred) * (1 - pred) ** 2 * positive).sum()
    neg = (torch.log(1 - pred) * pred**2 * (1 - heat) ** 4 * (1 - positive)).sum()
    focal = -(pos + neg) / count
    size_l1 = (F.l1_loss(out[:, 1:3], size, reduction="none") * mask).sum() / count
    offset_l1 = (F.l1_loss(out[:, 3:5], offset, reduction="none") * mask).sum() / count
    loss = focal + SIZE_WEIGHT * size_l1 + OFFSET_WEIGHT * offset_l1
    return loss, {"focal": focal.item(), "size": size_l1.item(), "offset": offset_l1.item()}


def augment_batch(images: torch.Tensor, boxes: list[np.ndarray], generator: torch.Generator
                  ) -> tuple[torch.Tensor, list[np.ndarray]]:
    """Mirror half the scenes (boxes too) and re-light every scene: tensor ops on the whole batch."""
    n, _, _, side = images.shape
    flip = torch.rand(n, generator=generator) < 0.5
    images = torch.where(flip[:, None, None, None], images.flip(3), images)
    boxes = [np.stack([side - b[:, 2], b[:, 1], side - b[:, 0], b[:, 3]], 1) if f and len(b) else b
             for b, f in zip(boxes, flip.tolist(), strict=True)]
    gain = 1 + 0.25 * (torch.rand(n, 3, 1, 1, generator=generator) - 0.5)  # white balance
    images = (images * gain).clamp(0, 1)
    return images, boxes


def scenes_for(config: DetectorConfig, data_dir: str | None, cache_dir: str | None,
               background_folders: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Make the training scenes: GTSRB training signs on sign-free photographs."""
    photos = background_photos(background_folders)
    train = load_split("train", data_dir, 32, cache_dir)
    drawings = None
    if config.drawn_share > 0:  # signs of other designs than GTSRB's, and sharp ones at large sizes
        drawings = np.concatenate([draw_signs(2000, 128, config.seed, outliers=True)[0],
                                   draw_signs(1000, 128, config.seed + 1, outliers=False)[0]])
    maker = SceneMaker(photos, train.images, train.labels, config.side, config.seed, drawings, config.drawn_share,
                       config.night_share, config.defocus_share)
    print(f"making {config.scenes:,} scenes from {len(photos)} photographs and {len(train):,} signs", flush=True)
    return make_scenes(maker, config.scenes)


def train_detector(config: DetectorConfig, out: Path, images: np.ndarray, boxes: list[np.ndarray],
                   resume: bool = False, stop_after: int | None = None) -> SignFinder:
    """Train on ``config.threads`` torch threads, then give the caller back its own thread count
    (a caller that trains something else next must not inherit ours)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        return _train(config, out, images, boxes, resume, stop_after)
    finally:
        torch.set_num_threads(previous)


def _train(config: DetectorConfig, out: Path, images: np.ndarray, boxes: list[np.ndarray], resume: bool,
           stop_after: int | None) -> SignFinder:
    """The training loop, top to bottom: batches, loss, AdamW with a cosine decay, a checkpoint per epoch."""
    torch.manual_seed(config.seed)
    model = SignFinder().to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = len(images) // config.batch_size
    total = steps_per_epoch * config.epochs

    def lr_factor(step: int) -> float:  # 200 warm-up steps, then a cosine decay to zero
        return min(1.0, (step + 1) / 200) * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    start_epoch, history = 0, []
    progress = load_progress(out) if resume else None
    if progress:
        model.load_state_dict(load_detector(out / "last.json")[0].state_dict())
        load_optimizer(out, optimizer)
        start_epoch, history = progress.epoch, progress.history
        schedule.last_epoch = start_epoch * steps_per_epoch
        for group, base in zip(optimizer.param_groups, schedule.base_lrs, strict=True):
            group["lr"] = base * lr_factor(schedule.last_epoch)
        print(f"resumed after epoch {start_epoch}")
    pixels = torch.from_numpy(images)
    for epoch in range(start_epoch, min(config.epochs, stop_after or config.epochs)):
        generator = torch.Generator().manual_seed(config.seed * 1000 + epoch)
        order = torch.randperm(len(images), generator=generator)
        model.train()
        started, sums = time.perf_counter(), {"loss": 0.0}
        for step in range(steps_per_epoch):
            index = order[step * config.batch_size : (step + 1) * config.batch_size]
            batch = pixels[index].permute(0, 3, 1, 2).float().div(255)
            batch, batch_boxes = augment_batch(batch, [boxes[i] for i in index.tolist()], generator)
            heat, size, offset, mask = (torch.from_numpy(t) for t in targets(batch_boxes, config.side))
            loss, parts = detector_loss(model(batch.contiguous(memory_format=torch.channels_last)),
                                        heat, size, offset, mask)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            sums["loss"] += loss.item()
            for key, value in parts.items():
                sums[key] = sums.get(key, 0.0) + value
            if step % 100 == 0:
                print(f"epoch {epoch + 1} step {step}/{steps_per_epoch} loss {loss.item():.3f} "
                      f"{(step + 1) * config.batch_size / (time.perf_counter() - started):.0f} scenes/s", flush=True)
        history.append({k: round(v / steps_per_epoch, 4) for k, v in sums.items()} |
                       {"epoch": epoch + 1, "seconds": round(time.perf_counter() - started, 1)})
        save_checkpoint(out, model, optimizer, config, history)
        print(json.dumps(history[-1]), flush=True)
    return model


def save_checkpoint(out: Path, model: SignFinder, optimizer: torch.optim.Optimizer, config: DetectorConfig,
                    history: list[dict]) -> None:
    """Weights, then optimizer, then the progress file that names the epoch: a run killed while
    writing resumes from the previous complete epoch."""
    out.mkdir(parents=True, exist_ok=True)
    save_detector(out / "last", model, len(history), history, asdict(config))
    save_optimizer(out, optimizer)
    save_progress(out, Progress(epoch=len(history), epochs=config.epochs, history=history, config=asdict(config)))
