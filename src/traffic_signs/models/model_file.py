"""The JSON half of a model file, typed: one record that every writer fills and every reader trusts.

A model is two files side by side: ``NAME.safetensors`` holds the tensors (see
:mod:`traffic_signs.models.io`) and ``NAME.json`` says what they are: the architecture and
its input, the classes, what the weights were trained on and how, what was measured, and
what the release step added (calibration, the ONNX graphs and their checksums). Training,
committees, export and shipping write it; evaluation, export, the torch-free runtime and the
API read it, all through :class:`ModelFile`.

Reading checks the type of every field and names the file and the field it finds wrong, so a
damaged or hand-edited file is refused at the door with a message instead of failing later
inside a command. Files written before this module existed read as they are. Keys this
version does not know are kept and written back unchanged, so a rewrite (export, shipping)
loses nothing a newer version added. Torch-free, so the runtime reads the same format.
"""

from __future__ import annotations

import json
import math
import re
import types
import typing
from dataclasses import MISSING, Field, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from traffic_signs.data.split import SplitSpec
from traffic_signs.errors import ModelFileError
from traffic_signs.files import atomic_write_json

FORMAT = "traffic-signs-model/1"
MAX_FILE_BYTES = 16 * 2**20  # a model's JSON is a few kB; a committee's tens of kB
INPUT_SIZES = range(8, 513)  # GTSRB models take 32 px; 512 px would already be a large model
MAX_CLASSES = 1000
MAX_TEMPERATURE = 1000.0
_SHA256 = re.compile(r"[0-9a-f]{64}")
COMMITTEE = "committee"  # the architecture of a committee's model file
_NOT_IN_FILE = {"json": False}  # field metadata: kept in memory, never written


@dataclass(frozen=True)
class Normalisation:
    """Per-channel statistics the model subtracts and divides by inside its own graph."""

    mean: list[float]
    std: list[float]
    inside_model: bool = True


@dataclass(frozen=True)
class Calibration:
    """Where the temperature and the "unknown" threshold were fitted, and to what target."""

    fitted_on: str
    images: int
    threshold_max_error: float | None = None
    threshold_confidence: float | None = None
    validation_threshold: float | None = None  # the threshold validation alone chose, when another was set
    threshold_chosen_on: str | None = None  # where a threshold set above it was chosen (None: validation)


@dataclass(frozen=True)
class Member:
    """One model of a committee, as it was when the committee was built."""

    architecture: str
    source: str | None = None  # the member's model file
    checkpoint: str = "best"  # which of its run's two checkpoints: best or last
    seed: int | None = None
    epochs: int | None = None
    epoch: int | None = None  # the epoch its weights are from
    precision: str = "fp32"  # runs from before bf16 training were fp32
    train_config: dict[str, Any] = field(default_factory=dict)
    sha256: str | None = None  # of its weights file
    val_accuracy: float | None = None


@dataclass(frozen=True)
class ModelFile:
    """Everything ``NAME.json`` records, in the order it is written."""

    architecture: str  # a registered model name, or COMMITTEE
    class_names: list[str]
    input_size: int = 32
    input: str | None = None  # how the graph wants its input, in words
    normalisation: Normalisation | None = None
    data_checksum: str | None = None  # of the decoded training data
    train_config: dict[str, Any] | None = None  # the recipe (training.recipe.TrainConfig.to_dict())
    parameters: int | None = None
    macs: int | None = None  # multiply-accumulates per image
    epoch: int | None = None  # the epoch a trained run's weights are from
    precision: str | None = None  # the forward-pass arithmetic it trained in (fp32 when absent)
    members: list[Member] | None = None  # a committee's models
    metrics: dict[str, int | float | None] = field(default_factory=dict)  # val_accuracy, test_accuracy, ...
    weights: str | None = None  # the safetensors file beside this one
    sha256: str | None = None  # of the weights file
    temperature: float | None = None
    threshold: float | None = None  # the "unknown sign" threshold on calibrated confidence
    calibration: Calibration | None = None
    onnx: str | None = None
    onnx_sha256: str | None = None
    onnx_int8: str | None = None
    onnx_int8_sha256: str | None = None
    # The graph that also outputs Grad-CAM maps (models with ``class_activation_maps``): kept apart
    # from ``onnx`` because ONNX Runtime computes every output of a graph on every run, asked for or not.
    onnx_cams: str | None = None
    onnx_cams_sha256: str | None = None
    name: str | None = None  # the name it ships under
    training_command: str | None = None
    checkpoint: str | None = None  # which of its run's checkpoints shipped: best or last
    extra: dict[str, Any] = field(default_factory=dict, metadata=_NOT_IN_FILE)  # keys this version does not know
    source: str = field(default="model file", compare=False, metadata=_NOT_IN_FILE)  # where it was read, for messages

    @classmethod
    def from_json(cls, data: Any, source: str | Path = "model file") -> ModelFile:
        """The typed record of a parsed JSON file; ModelFileError names ``source`` and the field when one is wrong."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ModelFileError(f"{source}: not a traffic-signs model file (format {FORMAT})")
        known = {f.name for f in fields(cls) if _in_file(f)} | {"format"}
        extra = {key: value for key, value in data.items() if key not in known}
        record = replace(_record(cls, data, "", str(source)), extra=extra, source=str(source))
        _check_values(record)
        return record

    def to_json(self) -> dict[str, Any]:
        """The JSON object to write: fields without a value are left out, unknown keys go last."""
        return {"format": FORMAT, **_plain(self), **self.extra}

    @property
    def is_committee(self) -> bool:
        return self.architecture == COMMITTEE

    @property
    def display_name(self) -> str:
        return self.name or self.architecture

    @property
    def threshold_source(self) -> str:
        """Where the threshold was chosen: validation (an error bound on GTSRB-like crops), or where
        export was told it was raised above that (``--threshold-chosen-on``)."""
        calibration = self.calibration
        return calibration.threshold_chosen_on if calibration and calibration.threshold_chosen_on else "validation"

    @property
    def split(self) -> SplitSpec:
        """The validation split the model's run held out (a committee's: its members')."""
        if self.train_config is None:
            raise ModelFileError(f"{self.source}: no train_config, so its validation split is unknown; "
                                 "use --split test")
        return SplitSpec.of(self.train_config)


def read_model_file(path: str | Path) -> ModelFile:
    """The model file given by its .json (or .safetensors) path, read and checked."""
    json_path = Path(path).with_suffix(".json")
    return ModelFile.from_json(_read_json(json_path), json_path)


@dataclass(frozen=True)
class DetectorFile:
    """Everything a sign detector's ``NAME.json`` records (see :mod:`traffic_signs.models.detector`):
    training writes the weights' part, export adds the ONNX graph, shipping its name and scores."""

    weights: str  # the safetensors file beside this one
    sha256: str  # of the weights file
    architecture: str = "signfinder"
    stride: int = 4  # input pixels per cell of the output maps
    epoch: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # losses and seconds per epoch
    config: dict[str, Any] = field(default_factory=dict)  # the training settings (training.detector)
    onnx: str | None = None
    onnx_sha256: str | None = None
    name: str | None = None  # the name it ships under
    test_scenes: dict[str, int | float] | None = None  # recall and precision on official-test scenes
    extra: dict[str, Any] = field(default_factory=dict, metadata=_NOT_IN_FILE)  # keys this version does not know
    source: str = field(default="detector file", compare=False, metadata=_NOT_IN_FILE)

    @classmethod
    def from_json(cls, data: Any, source: str | Path = "detector file") -> DetectorFile:
        """The typed record of a parsed JSON file; ModelFileError names ``source`` and the field when one is wrong."""
        if not isinstance(data, dict) or data.get("architecture") != "signfinder":
            raise ModelFileError(f"{source}: not a sign detector file (architecture signfinder)")
        known = {f.name for f in fields(cls) if _in_file(f)}
        record = replace(_record(cls, data, "", str(source)), source=str(source),
                         extra={key: value for key, value in data.items() if key not in known})
        _check_files(record, ("weights", "onnx"), ("sha256", "onnx_sha256"))
        if record.stride not in STRIDES:
            raise ModelFileError(f"{source}: stride should be one of {STRIDES}, not {_shown(record.stride)}")
        return record

    def to_json(self) -> dict[str, Any]:
        """The JSON object to write, in field order from the architecture on (as the shipped file reads)."""
        plain = _plain(self)
        order = ("architecture", "stride", "epoch", "history", "config", "weights", "sha256")
        return {**{key: plain[key] for key in order if key in plain},
                **{key: value for key, value in plain.items() if key not in order}, **self.extra}


STRIDES = (2, 4, 8, 16, 32)


def read_detector_file(path: str | Path) -> DetectorFile:
    """The detector file given by its .json path, read and checked."""
    json_path = Path(path).with_suffix(".json")
    return DetectorFile.from_json(_read_json(json_path), json_path)


def write_detector_file(path: str | Path, detector_file: DetectorFile) -> None:
    """Write ``path`` atomically (see :func:`traffic_signs.files.staged`)."""
    atomic_write_json(Path(path), detector_file.to_json())


def _read_json(json_path: Path) -> Any:
    """A model's or detector's JSON, parsed; bounded in size and nesting, errors naming the file."""
    try:
        with open(json_path, "rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ModelFileError(f"{json_path}: model metadata not found") from None
    except OSError as exc:
        raise ModelFileError(f"{json_path}: unreadable model metadata ({exc.strerror or exc})") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ModelFileError(f"{json_path}: model metadata larger than {MAX_FILE_BYTES:,} bytes")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ModelFileError(f"{json_path}: unreadable model metadata (nested too deeply)") from None
    except ValueError as exc:
        raise ModelFileError(f"{json_path}: unreadable model metadata ({exc})") from exc
    return data


def _check_values(model_file: ModelFile) -> None:
    """What the types alone do not say: these fields size allocations (``input_size``), divide
    logits (``temperature``: 0 answered NaN) and name the files loaded beside the JSON (a path
    there would reach outside the model's folder)."""
    checks: list[tuple[str, Any, bool, str]] = [
        ("input_size", model_file.input_size, model_file.input_size in INPUT_SIZES,
         f"an integer from {INPUT_SIZES.start} to {INPUT_SIZES.stop - 1}"),
        ("class_names", model_file.class_names, 1 <= len(model_file.class_names) <= MAX_CLASSES,
         f"a list of 1 to {MAX_CLASSES} names"),
        ("temperature", model_file.temperature, _within(model_file.temperature, 0, MAX_TEMPERATURE, low_open=True),
         f"a number above 0, at most {MAX_TEMPERATURE:g}"),
        ("threshold", model_file.threshold, _within(model_file.threshold, 0, 1), "a number from 0 to 1"),
    ]
    for name, value, ok, expected in checks:
        if not ok:
            raise ModelFileError(f"{model_file.source}: {name} should be {expected}, not {_shown(value)}")
    _check_files(model_file, ("weights", "onnx", "onnx_int8", "onnx_cams"),
                 ("sha256", "onnx_sha256", "onnx_int8_sha256", "onnx_cams_sha256"))


def _check_files(record: Any, names: tuple[str, ...], digests: tuple[str, ...]) -> None:
    """File names are plain names beside the JSON (a path would reach outside the model's folder),
    digests are SHA-256s."""
    checks = [(name, _plain_file_name(getattr(record, name)), "a plain file name beside the model's JSON")
              for name in names]
    checks += [(name, getattr(record, name) is None or _SHA256.fullmatch(getattr(record, name)) is not None,
                "a SHA-256 in lowercase hex") for name in digests]
    for name, ok, expected in checks:
        if not ok:
            raise ModelFileError(f"{record.source}: {name} should be {expected}, not {_shown(getattr(record, name))}")


def _within(value: float | None, low: float, high: float, low_open: bool = False) -> bool:
    if value is None:
        return True
    return math.isfinite(value) and (value > low if low_open else value >= low) and value <= high


def _plain_file_name(value: str | None) -> bool:
    return value is None or (0 < len(value) <= 255 and value not in (".", "..")
                             and not any(c in value for c in "/\\\0") and Path(value).name == value)


def write_model_file(path: str | Path, model_file: ModelFile) -> None:
    """Write ``path`` atomically (see :func:`traffic_signs.files.staged`)."""
    atomic_write_json(Path(path), model_file.to_json())


def model_file_text(model_file: ModelFile) -> str:
    """The file's text, exactly as :func:`write_model_file` writes it."""
    return json.dumps(model_file.to_json(), indent=2) + "\n"


def _in_file(f: Field) -> bool:
    return f.metadata.get("json", True)


def _record(cls: type, data: Any, where: str, source: str) -> Any:
    """An instance of dataclass ``cls`` from a JSON object, every field checked against its type."""
    if not isinstance(data, dict):
        raise ModelFileError(f"{source}: {where or 'the file'} should be an object, not {_shown(data)}")
    hints = typing.get_type_hints(cls)
    values = {}
    for f in filter(_in_file, fields(cls)):
        name = f"{where}.{f.name}" if where else f.name
        if f.name in data:
            values[f.name] = _typed(data[f.name], hints[f.name], name, source)
        elif f.default is MISSING and f.default_factory is MISSING:
            raise ModelFileError(f"{source}: {name} is missing")
    return cls(**values)


def _typed(value: Any, hint: Any, name: str, source: str) -> Any:
    """``value`` checked against the type ``hint`` (numbers for a float field become floats)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if value is None and len(options) < len(args):
            return None
        if len(options) == 1:  # X | None: X's own message names the innermost field
            return _typed(value, options[0], name, source)
        for option in options:
            try:
                return _typed(value, option, name, source)
            except ModelFileError:
                continue
    elif hint is Any:
        return value
    elif origin is list:
        if isinstance(value, list):
            return [_typed(item, args[0], f"{name}[{i}]", source) for i, item in enumerate(value)]
    elif origin is dict:
        if isinstance(value, dict):
            return {key: _typed(item, args[1], f"{name}.{key}", source) for key, item in value.items()}
    elif is_dataclass(hint):
        return _record(hint, value, name, source)
    elif _is_a(value, hint):
        return float(value) if hint is float else value
    raise ModelFileError(f"{source}: {name} should be {_described(hint)}, not {_shown(value)}")


def _is_a(value: Any, hint: Any) -> bool:
    if isinstance(value, bool):
        return hint is bool
    if hint is float:
        return isinstance(value, (int, float))
    return isinstance(hint, type) and isinstance(value, hint)


def _described(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(hint) if not (option is int and float in typing.get_args(hint))]
        return " or ".join(_described(option) for option in options)  # an integer is a number too
    words = {str: "a string", int: "an integer", float: "a number", bool: "true or false", type(None): "null",
             list: "a list", dict: "an object"}
    return words.get(origin or hint, "an object")


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _plain(record: Any) -> dict[str, Any]:
    """A dataclass as a JSON object, in field order, without the fields that hold nothing."""
    out = {}
    for f in filter(_in_file, fields(record)):
        value = getattr(record, f.name)
        if value is None or value == {} or value == []:
            continue
        if isinstance(value, list):
            value = [_plain(item) if is_dataclass(item) else item for item in value]
        out[f.name] = _plain(value) if is_dataclass(value) else value
    return out
