"""The training loop, readable top to bottom.

The whole training split sits in memory as one uint8 tensor. Each step draws a batch of
indices (class-balanced sampling against GTSRB's 210-to-2,250 imbalance), augments the batch
with tensor ops, and takes one AdamW step on a warm-up + linear-decay schedule. With
``outlier_weight`` > 0 each batch also carries upside-down signs, and the loss pushes the
model's answer on them towards "no class in particular" (outlier exposure, Hendrycks et al.
2019), so that a confident answer means a sign it knows. With ``consistency`` > 0 each batch
also carries a harshly corrupted copy of itself (noise, JPEG, rain, blur, occlusion), and the
loss asks for the same answer on both copies (Jensen-Shannon consistency, as in AugMix,
Hendrycks et al. 2020): the copy teaches robustness without a label of its own. After every
epoch the model is scored on the track-held-out validation split and a complete,
resumable checkpoint is written. Randomness is re-seeded from (seed, epoch) at every epoch
start, so ``--resume`` continues exactly where an interrupted run stopped.

Runs as one process, or under ``torchrun`` with DistributedDataParallel (gloo on CPU, nccl on
GPU): every rank draws the same global batch and trains on its own slice of it.
"""

from __future__ import annotations

import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from traffic_signs.classes import CLASS_NAMES, turnable
from traffic_signs.data.augment import augment, corrupt, to_float
from traffic_signs.data.cache import ImageSet, load_split
from traffic_signs.data.split import split_training_data
from traffic_signs.models.catalog import create, get_entry
from traffic_signs.models.complexity import count_macs, count_parameters
from traffic_signs.models.inference import torch_logits
from traffic_signs.models.io import save_model
from traffic_signs.models.layers import GTSRB_MEAN, GTSRB_STD
from traffic_signs.models.model_file import ModelFile, Normalisation
from traffic_signs.training import checkpoint
from traffic_signs.training.recipe import PRECISIONS, TrainConfig


@dataclass
class Distributed:
    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed() -> tuple[Distributed, torch.device]:
    """Join the torchrun process group when launched by torchrun; pick a GPU if present."""
    device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Distributed(), device
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    rank = dist.get_rank()
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    else:  # share the cores between the processes instead of oversubscribing them
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    return Distributed(rank, world), device


def learning_rate(cfg: TrainConfig, step: int, total_steps: int) -> float:
    warmup = min(cfg.warmup_steps, max(1, total_steps // 10))
    if step < warmup:
        return cfg.lr * (step + 1) / warmup
    return cfg.lr * max(0.0, (total_steps - step) / max(1, total_steps - warmup))


def resolve_precision(requested: str, device: torch.device) -> str:
    """The arithmetic the forward pass runs in: "fp32" or "bf16".

    bfloat16 autocast nearly doubles CPU training speed where the cores have native bf16
    instructions (AVX512-BF16 or AMX) and costs no accuracy here (weights, optimizer state and
    the loss stay fp32); without them PyTorch emulates it and runs slower, so "auto" keeps fp32.
    """
    if requested not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {requested!r}")
    if requested != "auto":
        return requested
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    capabilities = torch.cpu.get_capabilities()
    native = capabilities.get("avx512_bf16") or capabilities.get("amx_bf16")
    return "bf16" if native else "fp32"


def upside_down(images_nhwc: torch.Tensor) -> torch.Tensor:
    """A half turn of uint8 N x H x W x 3 images."""
    return images_nhwc.flip(1, 2)


def distance_from_uniform(logits: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy from the uniform distribution to softmax(logits), minus its minimum log C.

    Zero when the model spreads its answer evenly; large when it is confident in any class.
    """
    return (torch.logsumexp(logits, 1) - logits.mean(1)).mean() - math.log(logits.shape[1])


def jensen_shannon(logits_a: torch.Tensor, logits_b: torch.Tensor) -> torch.Tensor:
    """Mean Jensen-Shannon divergence between the softmax answers of two views of the same images.

    Zero when both views get the same distribution; bounded by log 2, so a hopeless view
    cannot dominate the loss the way a KL term could.
    """
    p, q = logits_a.softmax(1), logits_b.softmax(1)
    log_mixture = ((p + q) / 2).clamp_min(1e-7).log()
    return (F.kl_div(log_mixture, p, reduction="batchmean") + F.kl_div(log_mixture, q, reduction="batchmean")) / 2


def sampling_weights(labels: np.ndarray, balance: float) -> torch.Tensor:
    """Per-image weights so class c is drawn with probability proportional to n_c^(1-balance)."""
    counts = np.bincount(labels, minlength=len(CLASS_NAMES)).astype(np.float64)
    return torch.from_numpy(counts[labels] ** -balance)


def model_file_for(cfg: TrainConfig, data: ImageSet, **measured: Any) -> ModelFile:
    """A checkpoint's model file: what the weights are, what they were trained on and how, and
    what was ``measured`` (parameters, macs, epoch, precision, metrics)."""
    return ModelFile(architecture=cfg.model, class_names=list(CLASS_NAMES), input_size=get_entry(cfg.model).input_size,
                     input="RGB, N x 3 x H x W float in [0, 1]; the model normalises internally",
                     normalisation=Normalisation(list(GTSRB_MEAN), list(GTSRB_STD)),
                     data_checksum=data.checksum, train_config=cfg.to_dict(), **measured)


_WARMUP_STEPS, _TIMED_STEPS = 4, 12  # --time-budget: steps skipped, then steps timed
_BUDGET_MARGIN = 0.03


def train(cfg: TrainConfig, run_dir: Path, resume: bool = False, progress_bar: bool = True) -> dict:
    """Train ``cfg.model`` into ``run_dir``; returns the final progress record."""
    ddp, device = setup_distributed()
    run_dir = Path(run_dir)
    started = time.perf_counter()

    # --- data: the whole split as one uint8 tensor, validation held out by track -----------
    data = load_split("train", cfg.data_dir, get_entry(cfg.model).input_size, cfg.cache_dir,
                      progress=ddp.main and progress_bar)
    data, train_index, val_index = split_training_data(data, cfg.split)
    train_images = torch.from_numpy(data.images[train_index])
    train_labels = torch.from_numpy(data.labels[train_index])
    val = data.subset(val_index)
    weights = sampling_weights(data.labels[train_index], cfg.balance)
    steps_per_epoch = max(1, len(train_index) // cfg.batch_size)
    outliers_per_step = cfg.batch_size // 4 if cfg.outlier_weight > 0 else 0
    turnable_index = torch.from_numpy(turnable(data.labels[train_index]))

    # --- model and optimizer --------------------------------------------------------------
    torch.manual_seed(cfg.seed)
    model = create(cfg.model).to(device).to(memory_format=torch.channels_last)
    params, macs = count_parameters(model), count_macs(model, get_entry(cfg.model).input_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    model_ddp = nn.parallel.DistributedDataParallel(model) if ddp.world > 1 else model
    precision = resolve_precision(cfg.precision, device)

    state: dict[str, Any] = {"epoch": 0, "epochs": cfg.epochs, "history": [], "best_val_accuracy": -1.0,
                             "train_seconds": 0.0}
    previous = checkpoint.load_progress(run_dir) if resume else None
    if previous is not None:
        model.load_state_dict(checkpoint.load_weights(run_dir / "last.json"))
        checkpoint.load_optimizer(run_dir, optimizer)
        state = previous
        _log(ddp, f"resuming {run_dir} after epoch {state['epoch']} of {state['epochs']}")
    elif resume:
        _log(ddp, f"nothing to resume in {run_dir}; starting fresh")

    # --- epochs ---------------------------------------------------------------------------
    while state["epoch"] < state["epochs"]:
        epoch = state["epoch"]
        epoch_start = time.perf_counter()
        generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
        torch.manual_seed(cfg.seed * 1_000_003 + epoch)  # dropout
        order = torch.multinomial(weights, steps_per_epoch * cfg.batch_size, replacement=True,
                                  generator=generator)
        if outliers_per_step:
            outlier_order = turnable_index[torch.randint(len(turnable_index), (steps_per_epoch * outliers_per_step,),
                                                   generator=generator)]
        model_ddp.train()
        seen = correct = 0
        loss_sum = 0.0
        bar = _progress(ddp, progress_bar, steps_per_epoch, f"epoch {epoch + 1}/{state['epochs']}")
        warm_at, warm_steps = epoch_start, min(_WARMUP_STEPS, steps_per_epoch // 2)
        plan_after = min(warm_steps + _TIMED_STEPS, steps_per_epoch)
        for step in range(steps_per_epoch):
            global_step = epoch * steps_per_epoch + step
            batch = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            images = augment(to_float(train_images[batch]), cfg.augment, generator)
            labels = train_labels[batch[ddp.rank :: ddp.world]].to(device)  # each rank trains on its slice
            views = [images]
            if outliers_per_step:
                picked = outlier_order[step * outliers_per_step : (step + 1) * outliers_per_step]
                views.append(augment(to_float(upside_down(train_images[picked])), cfg.augment, generator))
            if cfg.consistency > 0:
                views.append(corrupt(images, cfg.harsh, generator))
            sizes = [len(view[ddp.rank :: ddp.world]) for view in views]
            inputs = torch.cat([view[ddp.rank :: ddp.world] for view in views])
            inputs = inputs.to(device).contiguous(memory_format=torch.channels_last)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(cfg, global_step, state["epochs"] * steps_per_epoch)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
                all_logits = list(model_ddp(inputs).float().split(sizes))
            logits = all_logits.pop(0)
            loss = F.cross_entropy(logits, labels, label_smoothing=cfg.label_smoothing)
            if outliers_per_step:
                loss = loss + cfg.outlier_weight * distance_from_uniform(all_logits.pop(0))
            if cfg.consistency > 0:
                loss = loss + cfg.consistency * jensen_shannon(logits, all_logits.pop(0))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            seen += len(labels)
            correct += (logits.argmax(1) == labels).sum().item()
            loss_sum += loss.item() * len(labels)
            if bar is not None:
                rate = seen * ddp.world / (time.perf_counter() - epoch_start)
                bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}",
                                img_s=f"{rate:.0f}")
                bar.update()
            if epoch == 0 and cfg.time_budget is not None:
                if step + 1 == warm_steps:
                    warm_at = time.perf_counter()  # the first steps pay for kernel set-up: not timed
                if step + 1 == plan_after:
                    state["epochs"] = _epochs_for_budget(
                        ddp, cfg.time_budget - (time.perf_counter() - started),
                        (time.perf_counter() - warm_at) / (plan_after - warm_steps),
                        steps_per_epoch - plan_after, steps_per_epoch, len(val), cfg.batch_size)
        if bar is not None:
            bar.close()

        # --- validation and checkpoint (rank 0 writes) ------------------------------------
        state["train_seconds"] += time.perf_counter() - epoch_start
        state["epoch"] = epoch + 1
        if cfg.time_budget is not None and epoch + 1 < state["epochs"]:  # the machine's speed drifts: re-plan
            per_step = (time.perf_counter() - epoch_start) / steps_per_epoch
            state["epochs"] = _epochs_for_budget(
                ddp, cfg.time_budget - (time.perf_counter() - started), per_step, 0,
                steps_per_epoch, len(val), cfg.batch_size, epochs_done=epoch + 1)
        if ddp.main:
            val_logits = torch_logits(model, val.images)
            val_accuracy = float((val_logits.argmax(1) == val.labels).mean()) if len(val) else 0.0
            record = {
                "epoch": epoch + 1,
                "train_loss": loss_sum / seen,
                "train_accuracy": correct / seen,
                "val_accuracy": val_accuracy,
                "lr": optimizer.param_groups[0]["lr"],
                "seconds": time.perf_counter() - epoch_start,
                "images_per_second": seen * ddp.world / (time.perf_counter() - epoch_start),
            }
            state["history"].append(record)
            model_file = model_file_for(cfg, data, parameters=params, macs=macs, epoch=epoch + 1,
                                        precision=precision,
                                        metrics={"val_accuracy": val_accuracy, "val_images": len(val)})
            save_model(run_dir / "last", model, model_file)
            # A tie goes to the later epoch, further down the learning-rate decay: with a model
            # that misses 2-10 of 3,990 validation images, ties are common.
            if val_accuracy >= state["best_val_accuracy"]:
                state["best_val_accuracy"] = val_accuracy
                state["best_epoch"] = epoch + 1
                save_model(run_dir / "best", model, model_file)
            checkpoint.save_optimizer(run_dir, optimizer)
            state["config"] = cfg.to_dict()
            state["environment"] = {**_environment(ddp), "precision": precision}
            checkpoint.save_progress(run_dir, state)  # last: marks the checkpoint complete
            _log(ddp, f"epoch {epoch + 1}/{state['epochs']}: loss {record['train_loss']:.4f} "
                      f"train acc {record['train_accuracy']:.4f} val acc {val_accuracy:.4f} "
                      f"({record['images_per_second']:.0f} img/s)")
        if ddp.world > 1:
            dist.barrier()
        if cfg.time_budget is not None and time.perf_counter() - started > cfg.time_budget:
            if state["epoch"] < state["epochs"]:
                _log(ddp, "time budget spent; stopping after this epoch")
            break

    if ddp.main:
        from traffic_signs.training.plots import plot_history

        plot_history(state["history"], run_dir / "curves.png", cfg.model)
        checkpoint.atomic_write_json(run_dir / "history.json", state["history"])
    state["wall_seconds"] = time.perf_counter() - started
    return state


def _epochs_for_budget(ddp: Distributed, seconds_left: float, per_step: float, steps_left: int,
                       steps_per_epoch: int, val_images: int, batch_size: int, epochs_done: int = 0) -> int:
    """Total epochs for the run: those done, plus what fits in ``seconds_left`` at the measured
    step time (the same on every rank).

    Planned once early in the first epoch (``per_step`` timed after the warm-up steps,
    ``steps_left`` of the current epoch still to run, which counts as one planned epoch), then
    again after every epoch from that epoch's speed, so the learning-rate schedule ends when
    the budget does even when the shared machine speeds up or slows down. Validation passes
    cost about a third of a training step per batch; ``_BUDGET_MARGIN`` of the time is kept
    for the last checkpoint and plot.
    """
    validation = per_step * val_images / batch_size / 3
    per_epoch = per_step * steps_per_epoch + validation
    after_current = seconds_left * (1 - _BUDGET_MARGIN) - per_step * steps_left - validation
    epochs = epochs_done + int(steps_left > 0) + max(0, math.floor(after_current / per_epoch))
    epochs = max(1, epochs)
    if ddp.world > 1:
        planned = torch.tensor([epochs])
        dist.broadcast(planned, src=0)
        epochs = int(planned.item())
    _log(ddp, f"time budget: {per_epoch:.1f} s per epoch measured, {epochs} epochs in all")
    return epochs


def _progress(ddp: Distributed, enabled: bool, total: int, desc: str):
    if not (enabled and ddp.main):
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", leave=False, file=sys.stderr)


def _log(ddp: Distributed, message: str) -> None:
    if ddp.main:
        print(message, file=sys.stderr, flush=True)


def _environment(ddp: Distributed) -> dict[str, Any]:
    return {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "processes": ddp.world,
        "cpu_count": os.cpu_count(),
    }
