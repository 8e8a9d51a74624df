"""Model files: weights as safetensors, everything else as JSON beside them. Never pickle.

``NAME.safetensors`` holds the tensors; ``NAME.json`` holds the architecture name, class
names, input size, normalisation, the data checksum, metrics, and the SHA-256 of the
weights file. Loading refuses weights whose hash differs from the one in the JSON, so a
tampered or mismatched pair is caught before a single tensor is used.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch import nn

from traffic_signs.data.split import SplitSpec
from traffic_signs.errors import ModelFileError, UnknownModelError
from traffic_signs.files import file_digest, staged
from traffic_signs.models.catalog import create
from traffic_signs.models.committee import ARCHITECTURE as COMMITTEE
from traffic_signs.models.committee import committee_of

FORMAT = "traffic-signs-model/1"


def save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> str:
    """Atomically write safetensors; returns the SHA-256 of the written file."""
    with staged(path) as tmp:
        return _write_tensors(tmp, tensors)


def _write_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> str:
    """Serialise in memory, write with plain file I/O: a full disk then raises OSError
    (safetensors' own file writer reports it as a generic SafetensorError)."""
    data = save({k: v.detach().contiguous().cpu() for k, v in tensors.items()})
    with open(path, "wb") as handle:
        handle.write(data)
    return hashlib.sha256(data).hexdigest()


def save_model(stem: Path, model: nn.Module, metadata: dict[str, Any]) -> Path:
    """Write ``stem.safetensors`` and ``stem.json``; returns the JSON path.

    Both files are written in full under temporary names before either replaces the old
    pair, so a full disk or a kill never leaves new weights beside old metadata (which the
    checksum check would then refuse, losing the checkpoint).
    """
    stem = Path(stem)
    weights, json_path = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    state = {k: v for k, v in _unwrap(model).state_dict().items()}
    with staged(json_path) as json_tmp, staged(weights) as weights_tmp:  # weights land first
        digest = _write_tensors(weights_tmp, state)
        meta = {"format": FORMAT, **metadata, "weights": weights.name, "sha256": digest}
        json_tmp.write_text(json.dumps(meta, indent=2) + "\n")
    return json_path


def read_metadata(path: Path) -> dict[str, Any]:
    path = Path(path)
    json_path = path.with_suffix(".json")
    try:
        meta = json.loads(json_path.read_text())
    except FileNotFoundError:
        raise ModelFileError(f"{json_path}: model metadata not found") from None
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{json_path}: unreadable model metadata ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{json_path}: not a traffic-signs model file (format {FORMAT})")
    return meta


def held_out_split(meta: dict[str, Any], model_path: Path | str = "model") -> SplitSpec:
    """The split a model file's run trained on; a file without a recorded recipe has none."""
    cfg = meta.get("train_config")
    if not isinstance(cfg, dict):
        raise ModelFileError(f"{model_path}: no train_config, so its validation split is unknown; use --split test")
    return SplitSpec.of(cfg)


def load_state(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Verified (tensors, metadata) for a model file given by its .json or .safetensors path."""
    meta = read_metadata(path)
    weights = Path(path).with_name(meta.get("weights", Path(path).stem + ".safetensors"))
    if not weights.is_file():
        raise ModelFileError(f"{weights}: weights file not found")
    actual = file_digest(weights)
    if actual != meta.get("sha256"):
        raise ModelFileError(
            f"{weights}: checksum mismatch (metadata says {meta.get('sha256')}, file is {actual}); "
            "the weights were modified or belong to another model"
        )
    try:
        return load_file(str(weights)), meta
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(f"{weights}: unreadable safetensors file ({exc})") from exc


def build_model(meta: dict[str, Any]) -> nn.Module:
    """The untrained module a model file describes: a registered architecture or a committee."""
    num_classes = len(meta["class_names"])
    if meta["architecture"] == COMMITTEE:
        return committee_of([create(member["architecture"], num_classes) for member in meta["members"]])
    return create(meta["architecture"], num_classes)


def load_model(path: Path) -> tuple[nn.Module, dict[str, Any]]:
    """Build the architecture the metadata names (a registered model or a committee) and load verified weights."""
    state, meta = load_state(path)
    try:
        model = build_model(meta)
        model.load_state_dict(state)
    except (UnknownModelError, KeyError, TypeError, RuntimeError) as exc:
        raise ModelFileError(f"{path}: weights do not fit the architecture ({exc})") from exc
    return model.eval(), meta


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if hasattr(model, "module") else model
