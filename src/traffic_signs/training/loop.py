"""The training loop, readable top to bottom.

Each step takes a ready batch (see :mod:`traffic_signs.training.batches`: class-balanced,
augmented, with the extra views the recipe asks for) and one AdamW step on a warm-up +
linear-decay schedule (see :mod:`traffic_signs.training.losses` for what it minimises). After
every epoch the model is scored on the track-held-out validation split and a complete,
resumable checkpoint is written (:mod:`traffic_signs.training.checkpoint`); ``--time-budget``
re-plans the number of epochs as it goes (:mod:`traffic_signs.training.budget`).

Runs as one process, or under ``torchrun`` with DistributedDataParallel (gloo on CPU, nccl on
GPU): every rank draws the same global batch and trains on its own slice of it.
"""

from __future__ import annotations

import copy
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from traffic_signs.classes import CLASS_NAMES, NUM_CLASSES
from traffic_signs.data.augment import MIRROR
from traffic_signs.data.cache import ImageSet, load_split
from traffic_signs.data.split import split_training_data
from traffic_signs.errors import TrafficSignsError
from traffic_signs.files import atomic_write_json
from traffic_signs.models.catalog import ModelEntry, get_entry
from traffic_signs.models.complexity import count_macs, count_parameters
from traffic_signs.models.inference import torch_logits
from traffic_signs.models.io import initial_weights, load_model, save_model
from traffic_signs.models.model_file import ModelFile, Normalisation
from traffic_signs.training import checkpoint
from traffic_signs.training.batches import Batch, TrainingBatches
from traffic_signs.training.budget import TimeBudget
from traffic_signs.training.checkpoint import Progress
from traffic_signs.training.devices import Distributed, resolve_precision, setup_distributed
from traffic_signs.training.losses import training_loss
from traffic_signs.training.plots import plot_history
from traffic_signs.training.recipe import TEACH_ON, TrainConfig


@dataclass
class Run:
    """What stays fixed while a run trains: where it writes, its data, its model and optimizer."""

    cfg: TrainConfig
    run_dir: Path
    ddp: Distributed
    batches: TrainingBatches
    val: ImageSet
    model: nn.Module
    trainer: nn.Module  # the model, wrapped for DistributedDataParallel under torchrun
    optimizer: torch.optim.Optimizer
    precision: str  # "fp32" or "bf16"
    model_file: ModelFile  # what every checkpoint of this run records, before its epoch's figures
    teacher: nn.Module | None = None  # the frozen --init copy or --teacher model whose answers ``distill`` asks for
    keeper: nn.Module | None = None  # with --teach-on photos: the frozen --init copy, whose answers plain signs keep


@dataclass
class EpochMeter:
    """This rank's running loss and accuracy on the clean view, over one epoch."""

    started: float
    seen: int = 0
    correct: int = 0
    loss_sum: float = 0.0

    def add(self, loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
        self.seen += len(labels)
        self.correct += (logits.argmax(1) == labels).sum().item()
        self.loss_sum += loss.item() * len(labels)

    @property
    def loss(self) -> float:
        return self.loss_sum / self.seen

    @property
    def accuracy(self) -> float:
        return self.correct / self.seen

    def images_per_second(self, world: int) -> float:
        return self.seen * world / (time.perf_counter() - self.started)


def train(cfg: TrainConfig, run_dir: Path, resume: bool = False, progress_bar: bool = True) -> Progress:
    """Train ``cfg.model`` into ``run_dir``; returns the final progress record."""
    started = time.perf_counter()
    run = start(cfg, Path(run_dir), progress_bar)
    progress = resumed(run) if resume else Progress(epochs=cfg.epochs)
    budget = TimeBudget(cfg.time_budget, started, run.batches.steps_per_epoch, len(run.val), cfg.batch_size, run.ddp)
    while progress.epoch < progress.epochs:
        meter = train_epoch(run, progress, budget, progress_bar)
        progress.train_seconds += time.perf_counter() - meter.started
        progress.epoch += 1
        budget.epoch_done(meter.started, progress)
        if run.ddp.main:
            validate_and_checkpoint(run, progress, meter)
        if run.ddp.world > 1:
            dist.barrier()
        if budget.spent(progress):
            break
    if run.ddp.main:
        plot_history(progress.history, run.run_dir / "curves.png", cfg.model)
        atomic_write_json(run.run_dir / "history.json", progress.history)
    return progress


def start(cfg: TrainConfig, run_dir: Path, progress_bar: bool) -> Run:
    """Load the data (validation held out by track), build the model and its optimizer."""
    if cfg.distill > 0 and not (cfg.init or cfg.teacher):
        raise TrafficSignsError("--distill keeps the answers of the --init weights or learns a --teacher's: "
                                "give --init too, or --teacher")
    if cfg.teacher and cfg.distill <= 0:
        raise TrafficSignsError("--teacher: its answers are learnt with --distill W; give a weight W > 0")
    if cfg.teach_on not in TEACH_ON:
        raise TrafficSignsError(f"--teach-on {cfg.teach_on}: choose one of {', '.join(TEACH_ON)}")
    if cfg.teach_on != "all" and not (cfg.teacher and cfg.init):
        raise TrafficSignsError(f"--teach-on {cfg.teach_on}: the plain signs keep the --init weights' answers "
                                "and the photos learn the --teacher's; give both")
    if not cfg.distill_temperature > 0:
        raise TrafficSignsError(f"--distill-temperature {cfg.distill_temperature}: must be above 0")
    ddp, device = setup_distributed()
    entry = get_entry(cfg.model)
    data = load_split("train", cfg.data_dir, entry.input_size, cfg.cache_dir, progress=ddp.main and progress_bar)
    data, train_index, val_index = split_training_data(data, cfg.split)
    teacher = loaded_teacher(cfg.teacher, entry.input_size) if cfg.teacher else None
    torch.manual_seed(cfg.seed)
    model = starting_model(cfg, entry, data.checksum).to(device).to(memory_format=torch.channels_last)
    model_file = ModelFile(
        architecture=cfg.model, class_names=list(CLASS_NAMES), input_size=entry.input_size,
        input="RGB, N x 3 x H x W float in [0, 1]; the model normalises internally",
        normalisation=Normalisation(list(entry.mean), list(entry.std)), data_checksum=data.checksum,
        train_config=cfg.to_dict(), parameters=count_parameters(model), macs=count_macs(model, entry.input_size))
    trained = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=cfg.lr, weight_decay=cfg.weight_decay)
    trainer = nn.parallel.DistributedDataParallel(model) if ddp.world > 1 else model
    if cfg.distill > 0 and teacher is None:
        teacher = frozen_copy(model)
    keeper = frozen_copy(model) if cfg.teach_on == "photos" else None
    return Run(cfg, run_dir, ddp, TrainingBatches(data.subset(train_index), cfg, ddp, device), data.subset(val_index),
               model, trainer, optimizer, resolve_precision(cfg.precision, device), model_file,
               *(on_device(frozen, device) for frozen in (teacher, keeper)))


def on_device(model: nn.Module | None, device: torch.device) -> nn.Module | None:
    return model.to(device).to(memory_format=torch.channels_last) if model is not None else None


def starting_model(cfg: TrainConfig, entry: ModelEntry, data_checksum: str) -> nn.Module:
    """The model before its first step: the --init weights, else published ones where the architecture
    has them (a pretrained backbone), else a random start; its first blocks frozen if asked."""
    if cfg.init:
        model = entry.build(NUM_CLASSES)
        model.load_state_dict(initial_weights(cfg.init, cfg.model, cfg.split, data_checksum))
    else:
        model = entry.fresh(NUM_CLASSES)
    if cfg.freeze_blocks:
        if not hasattr(model, "freeze"):
            raise TrafficSignsError(f"--freeze-blocks: {cfg.model} has no pretrained blocks to freeze")
        model.freeze(cfg.freeze_blocks)
    return model


def loaded_teacher(path: str, input_size: int) -> nn.Module:
    """The --teacher model file, loaded through the verifying loader, frozen; refused unless it answers
    in the same classes, in the same order, on the same input size as the model it teaches."""
    teacher, teacher_file = load_model(Path(path))
    if teacher_file.class_names != list(CLASS_NAMES):
        raise TrafficSignsError(f"--teacher {path}: its {len(teacher_file.class_names)} classes are not this "
                                "model's (GTSRB's 43, in order); its answers cannot be learnt")
    if teacher_file.input_size != input_size:
        raise TrafficSignsError(f"--teacher {path}: takes {teacher_file.input_size} px images, this model "
                                f"{input_size} px")
    return teacher.requires_grad_(False).eval()


def frozen_copy(model: nn.Module) -> nn.Module:
    """The model as it starts (its --init weights), in eval mode and without gradients: the teacher."""
    teacher = copy.deepcopy(model).eval()
    for parameter in teacher.parameters():
        parameter.requires_grad_(False)
    return teacher


def resumed(run: Run) -> Progress:
    """The progress of the run in ``run_dir``, its weights and optimizer loaded; a fresh start if there is none."""
    previous = checkpoint.load_progress(run.run_dir)
    if previous is None:
        run.ddp.log(f"nothing to resume in {run.run_dir}; starting fresh")
        return Progress(epochs=run.cfg.epochs)
    run.model.load_state_dict(checkpoint.load_weights(run.run_dir / "last.json"))
    checkpoint.load_optimizer(run.run_dir, run.optimizer)
    run.ddp.log(f"resuming {run.run_dir} after epoch {previous.epoch} of {previous.epochs}")
    return previous


def train_epoch(run: Run, progress: Progress, budget: TimeBudget, progress_bar: bool) -> EpochMeter:
    """One pass over the epoch's batches, one optimizer step each."""
    epoch, steps = progress.epoch, run.batches.steps_per_epoch
    meter = EpochMeter(time.perf_counter())
    run.trainer.train()
    bar = _progress(run.ddp, progress_bar, steps, f"epoch {epoch + 1}/{progress.epochs}")
    for step, batch in enumerate(run.batches.epoch(epoch)):
        for group in run.optimizer.param_groups:
            group["lr"] = learning_rate(run.cfg, epoch * steps + step, progress.epochs * steps)
        loss, logits = train_step(run, batch)
        meter.add(loss, logits, batch.labels)
        if bar is not None:
            bar.set_postfix(loss=f"{meter.loss:.3f}", acc=f"{meter.accuracy:.3f}",
                            img_s=f"{meter.images_per_second(run.ddp.world):.0f}")
            bar.update()
        if epoch == 0:
            budget.first_epoch_step(step, meter.started, progress)
    if bar is not None:
        bar.close()
    return meter


def train_step(run: Run, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward (in bf16 where asked), loss, backward, AdamW; returns the loss and the clean view's logits."""
    with torch.autocast(run.batches.device.type, dtype=torch.bfloat16, enabled=run.precision == "bf16"):
        logits = batch.split(run.trainer(batch.inputs).float())
        teacher_logits = None
        if run.teacher is not None:
            with torch.no_grad():
                teacher_logits = teacher_answers(run, batch)
    loss = training_loss(run.cfg, logits, batch.labels, teacher_logits)
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    run.optimizer.step()
    return loss, logits["clean"]


def teacher_answers(run: Run, batch: Batch) -> torch.Tensor:
    """The teacher's logits on every view (a ``--teacher``) or on the clean one (the ``--init``
    copy). With ``--teach-on photos`` the clean view's plain signs (not photo-framed) get the
    ``--init`` copy's answers instead: the teacher is asked only where it knows more, and sees only
    those images (a teacher committee costs several students a forward pass)."""
    taught = batch.inputs if run.cfg.teacher else batch.inputs[: batch.views["clean"]]
    if run.keeper is None:
        return answers(run.teacher, taught, batch.mirrored)
    clean, device = len(batch.labels), taught.device
    framed = batch.framed if batch.framed is not None else torch.zeros(clean, dtype=torch.bool, device=device)
    asked = torch.cat([framed, torch.ones(len(taught) - clean, dtype=torch.bool, device=device)])
    logits = torch.empty(len(taught), NUM_CLASSES, device=device)
    for model, rows, signs in ((run.teacher, asked, framed), (run.keeper, ~asked, ~framed)):
        if rows.any():  # each image goes through the one model whose answer it learns
            mirrored = batch.mirrored[signs] if batch.mirrored is not None else None
            logits[rows] = answers(model, taught[rows], mirrored)
    return logits


def answers(model: nn.Module, taught: torch.Tensor, mirrored: torch.Tensor | None) -> torch.Tensor:
    """A frozen model's logits on ``taught``, whose first images may be mirrored signs. A mirrored
    sign is shown to it as it was and its answer mirrored (``MIRROR``): a teacher that knows a sign
    in one handing only would otherwise teach the wrong class."""
    if mirrored is None or not mirrored.any():
        return model(taught).float()
    flipped = torch.zeros(len(taught), dtype=torch.bool, device=taught.device)
    flipped[: len(mirrored)] = mirrored
    taught = torch.where(flipped[:, None, None, None], taught.flip(-1), taught)
    logits = model(taught).float()
    # class c of the sign is class MIRROR[c] mirrored; MIRROR is its own inverse (pairs and fixed points)
    return torch.where(flipped[:, None], logits[:, MIRROR.to(logits.device)], logits)


def learning_rate(cfg: TrainConfig, step: int, total_steps: int) -> float:
    warmup = min(cfg.warmup_steps, max(1, total_steps // 10))
    if step < warmup:
        return cfg.lr * (step + 1) / warmup
    return cfg.lr * max(0.0, (total_steps - step) / max(1, total_steps - warmup))


def validate_and_checkpoint(run: Run, progress: Progress, meter: EpochMeter) -> None:
    """Score the epoch on validation and write a complete checkpoint, ``state.json`` last (rank 0 only)."""
    val_logits = torch_logits(run.model, run.val.images)
    val_accuracy = float((val_logits.argmax(1) == run.val.labels).mean()) if len(run.val) else 0.0
    progress.history.append({
        "epoch": progress.epoch, "train_loss": meter.loss, "train_accuracy": meter.accuracy,
        "val_accuracy": val_accuracy, "lr": run.optimizer.param_groups[0]["lr"],
        "seconds": time.perf_counter() - meter.started, "images_per_second": meter.images_per_second(run.ddp.world),
    })
    model_file = replace(run.model_file, epoch=progress.epoch, precision=run.precision,
                         metrics={"val_accuracy": val_accuracy, "val_images": len(run.val)})
    save_model(run.run_dir / "last", run.model, model_file)
    # A tie goes to the later epoch, further down the learning-rate decay: with a model
    # that misses 2-10 of 3,990 validation images, ties are common.
    if val_accuracy >= progress.best_val_accuracy:
        progress.best_val_accuracy, progress.best_epoch = val_accuracy, progress.epoch
        save_model(run.run_dir / "best", run.model, model_file)
    checkpoint.save_optimizer(run.run_dir, run.optimizer)
    progress.config = run.cfg.to_dict()
    progress.environment = {**run.ddp.environment(), "precision": run.precision}
    checkpoint.save_progress(run.run_dir, progress)  # last: marks the checkpoint complete
    record = progress.history[-1]
    run.ddp.log(f"epoch {progress.epoch}/{progress.epochs}: loss {record['train_loss']:.4f} "
                f"train acc {record['train_accuracy']:.4f} val acc {val_accuracy:.4f} "
                f"({record['images_per_second']:.0f} img/s)")


def _progress(ddp: Distributed, enabled: bool, total: int, desc: str):
    if not (enabled and ddp.main):
        return None
    return tqdm(total=total, desc=desc, unit="step", leave=False, file=sys.stderr)
