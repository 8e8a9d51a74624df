"""Model files: weights as safetensors, everything else as JSON beside them. Never pickle.

``NAME.safetensors`` holds the tensors; ``NAME.json`` (a :class:`ModelFile`) says what they
are and carries the SHA-256 of the weights file. Loading refuses weights whose hash differs
from the one in the JSON, so a tampered or mismatched pair is caught before a single tensor
is used.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch import nn

from traffic_signs.data.split import SplitSpec
from traffic_signs.errors import ModelFileError, UnknownModelError
from traffic_signs.files import file_digest, staged
from traffic_signs.models.catalog import build_model
from traffic_signs.models.model_file import ModelFile, model_file_text, read_model_file


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


def save_model(stem: Path, model: nn.Module, model_file: ModelFile) -> Path:
    """Write ``stem.safetensors`` and ``stem.json`` (``model_file`` naming and checksumming the
    weights); returns the JSON path.

    Both files are written in full under temporary names before either replaces the old
    pair, so a full disk or a kill never leaves new weights beside old metadata (which the
    checksum check would then refuse, losing the checkpoint).
    """
    stem = Path(stem)
    weights, json_path = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    state = {k: v for k, v in _unwrap(model).state_dict().items()}
    with staged(json_path) as json_tmp, staged(weights) as weights_tmp:  # weights land first
        digest = _write_tensors(weights_tmp, state)
        json_tmp.write_text(model_file_text(replace(model_file, weights=weights.name, sha256=digest)))
    return json_path


def load_state(path: Path) -> tuple[dict[str, torch.Tensor], ModelFile]:
    """Verified (tensors, model file) for a model file given by its .json or .safetensors path."""
    model_file = read_model_file(path)
    weights = Path(path).with_name(model_file.weights or Path(path).stem + ".safetensors")
    if not weights.is_file():
        raise ModelFileError(f"{weights}: weights file not found")
    actual = file_digest(weights)
    if actual != model_file.sha256:
        raise ModelFileError(
            f"{weights}: checksum mismatch (metadata says {model_file.sha256}, file is {actual}); "
            "the weights were modified or belong to another model"
        )
    try:
        return load_file(str(weights)), model_file
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(f"{weights}: unreadable safetensors file ({exc})") from exc


def initial_weights(spec: str, architecture: str, split: SplitSpec, data_checksum: str) -> dict[str, torch.Tensor]:
    """The weights ``--init FILE[:MEMBER]`` names, to fine-tune from: a model file, or one member of
    a committee file. Refused unless it is the same architecture, trained on the same data with
    the same validation tracks held out: otherwise validation would score images it trained on."""
    path, sep, member = spec.rpartition(":")
    if not (sep and member.isdigit()):  # no ":K": the whole file
        path, member = spec, ""
    state, model_file = load_state(Path(path))
    cfg, source_architecture = model_file.train_config or {}, model_file.architecture
    if model_file.is_committee:
        members = model_file.members or []
        if not member or int(member) >= len(members):
            raise ModelFileError(f"--init {spec}: a committee of {len(members)}; name a member, e.g. {path}:0")
        prefix = f"members.{member}."
        state = {key[len(prefix):]: value for key, value in state.items() if key.startswith(prefix)}
        cfg, source_architecture = members[int(member)].train_config, members[int(member)].architecture
    elif member:
        raise ModelFileError(f"--init {spec}: {path} is not a committee, so it has no member {member}")
    if source_architecture != architecture:
        raise ModelFileError(f"--init {spec}: holds {source_architecture}, not {architecture}")
    if model_file.data_checksum != data_checksum or SplitSpec.of(cfg) != split:
        raise ModelFileError(f"--init {spec}: trained on other data or another validation split than this run")
    return state


def load_model(path: Path) -> tuple[nn.Module, ModelFile]:
    """Build the architecture the model file names (a registered model or a committee) and load verified weights."""
    state, model_file = load_state(path)
    try:
        model = build_model(model_file)
    except UnknownModelError as exc:
        raise ModelFileError(f"{path}: {exc}") from exc
    try:
        model.load_state_dict(state)
    except (KeyError, TypeError, RuntimeError) as exc:
        raise ModelFileError(f"{path}: weights do not fit the architecture ({exc})") from exc
    return model.eval(), model_file


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if hasattr(model, "module") else model
