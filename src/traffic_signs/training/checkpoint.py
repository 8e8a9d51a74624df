"""Resumable run state: model, optimizer and progress, written after every epoch.

Layout of a run folder::

    last.safetensors / last.json            model after the latest epoch (a model file)
    optimizer.safetensors / optimizer.json  optimizer tensors and scalars
    state.json                              epoch, planned epochs, history, best score
    best.safetensors / best.json            weights with the best validation accuracy

``state.json`` is written last and names the epoch it describes, so a run killed while
writing leaves the previous complete checkpoint in force.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from traffic_signs.errors import ModelFileError
from traffic_signs.files import atomic_write_json, file_digest
from traffic_signs.models.io import load_state, save_tensors


def save_optimizer(run_dir: Path, optimizer: torch.optim.Optimizer) -> None:
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, slots in state["state"].items():
        for key, value in slots.items():
            if torch.is_tensor(value):
                tensors[f"{index}.{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    digest = save_tensors(run_dir / "optimizer.safetensors", tensors)
    atomic_write_json(
        run_dir / "optimizer.json",
        {"param_groups": state["param_groups"], "scalars": scalars, "sha256": digest},
    )


def load_optimizer(run_dir: Path, optimizer: torch.optim.Optimizer) -> None:
    meta = json.loads((run_dir / "optimizer.json").read_text())
    weights = run_dir / "optimizer.safetensors"
    if file_digest(weights) != meta["sha256"]:
        raise ModelFileError(f"{weights}: checksum mismatch; cannot resume from it")
    per_param: dict[int, dict[str, Any]] = {}
    for key, value in load_file(str(weights)).items():
        index, slot = key.split(".", 1)
        per_param.setdefault(int(index), {})[slot] = value
    for index, slots in meta["scalars"].items():
        per_param.setdefault(int(index), {}).update(slots)
    optimizer.load_state_dict({"state": per_param, "param_groups": meta["param_groups"]})


@dataclass
class Progress:
    """``state.json``: how far the run is, what every epoch measured, and its best epoch so far."""

    epoch: int = 0  # epochs done
    epochs: int = 0  # epochs planned (a time budget re-plans them)
    history: list[dict[str, float]] = field(default_factory=list)  # one record per epoch done
    best_val_accuracy: float = -1.0
    train_seconds: float = 0.0  # training steps only, without validation
    best_epoch: int | None = None
    config: dict[str, Any] | None = None  # the recipe (TrainConfig.to_dict())
    environment: dict[str, Any] | None = None  # where it ran: torch, threads, processes, precision


def save_progress(run_dir: Path, progress: Progress) -> None:
    atomic_write_json(run_dir / "state.json", asdict(progress))


def load_progress(run_dir: Path) -> Progress | None:
    path = run_dir / "state.json"
    if not path.is_file():
        return None
    recorded = json.loads(path.read_text())
    return Progress(**{f.name: recorded[f.name] for f in fields(Progress) if f.name in recorded})


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    return load_state(path)[0]


