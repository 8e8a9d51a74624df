"""Turn what a user types for a model into the path of its ``.json`` model file.

Every command that takes a model (evaluate, predict, export, serve) accepts the same three
spellings, resolved in this order:

1. a run folder: its ``best.json`` (the best-validation weights of the run);
2. a model file: ``something.json`` (or its ``.safetensors`` twin);
3. a model name: ``runs/NAME/best.json`` when you trained one here, else the model shipped
   inside the package as ``traffic_signs/shipped/NAME.json``.

A trained run deliberately wins over the shipped model, so retraining ``signnet`` and then
running ``traffic-signs evaluate signnet`` evaluates what you just trained.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from traffic_signs.errors import ModelFileError

DEFAULT_RUNS_DIR = Path("runs")


def shipped_dir() -> Path:
    """The package's ``shipped/`` folder (it may not exist in a checkout without models).

    The package is installed as plain files (editable or wheel), so the traversable is a
    real directory and the weights beside each JSON are reachable by path.
    """
    return Path(str(resources.files("traffic_signs") / "shipped"))


def is_shipped(path: Path) -> bool:
    """Whether ``path`` lies inside the installed package (so nothing should be written beside it)."""
    try:
        return Path(path).resolve().is_relative_to(shipped_dir().resolve())
    except OSError:
        return False


def resolve_model_path(spec: str | Path, runs_dir: Path = DEFAULT_RUNS_DIR) -> Path:
    """The model ``.json`` that ``spec`` (run folder, model file or model name) refers to."""
    path = Path(spec)
    if path.is_dir():
        best = path / "best.json"
        if not best.is_file():
            raise ModelFileError(f"{path}: run folder without best.json (has training finished an epoch?)")
        return best
    if path.suffix in (".json", ".safetensors"):
        json_path = path.with_suffix(".json")
        if not json_path.is_file():
            raise ModelFileError(f"{json_path}: model file not found")
        return json_path
    return _by_name(str(spec), Path(runs_dir))


def find_exported_json(spec: str | Path, checkpoint: str, suffixes: tuple[str, ...], kind: str, name_kind: str,
                       usable: Callable[[Path], bool] = Path.is_file) -> Path:
    """The JSON of an exported model (the runtime's spellings, torch-free): a run folder's
    ``CHECKPOINT.json``, a ``.json`` or a file with one of ``suffixes`` beside it, or a name:
    ``runs/NAME/CHECKPOINT.json``, else the shipped ``NAME.json``, the first that is ``usable``.
    ``kind`` and ``name_kind`` name what was looked for in the two errors."""
    path = Path(spec)
    if path.is_dir():
        path = path / f"{checkpoint}.json"
    elif path.suffix in suffixes:
        path = path.with_suffix(".json")
    elif path.suffix != ".json":
        for candidate in (DEFAULT_RUNS_DIR / str(spec) / f"{checkpoint}.json", shipped_dir() / f"{spec}.json"):
            if candidate.is_file() and usable(candidate):
                return candidate
        raise ModelFileError(f"{str(spec)!r}: no {name_kind} of that name (shipped or in runs/)")
    if not path.is_file():
        raise ModelFileError(f"{path}: {kind} file not found")
    return path


def _by_name(name: str, runs_dir: Path) -> Path:
    # here, not at the top: the catalog imports torch, and prediction and serving run without it
    from traffic_signs.models.catalog import list_models

    trained, shipped = runs_dir / name / "best.json", shipped_dir() / f"{name}.json"
    for candidate in (trained, shipped):  # shipped names include committees, which are not registered
        if candidate.is_file():
            return candidate
    known = list_models()
    if name not in known:
        names = sorted({*known, *(p.stem for p in shipped_dir().glob("*.json"))})
        raise ModelFileError(
            f"{name!r} is not a run folder, a model .json file, a registered or a shipped model "
            f"({', '.join(names)})"
        )
    raise ModelFileError(
        f"no trained or shipped {name!r} model: looked for {trained} and {shipped}; "
        f"train one with `traffic-signs train --model {name}`"
    )
