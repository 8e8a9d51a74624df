"""Average several trained runs into one committee model.

  traffic-signs train --model signnet-stn --seed 0 --out runs/signnet-stn-seed0    # ...and seeds 1, 2
  traffic-signs committee runs/signnet-stn-seed{0,1,2}/last.json --out runs/signnet-stn-x3
  traffic-signs export runs/signnet-stn-x3

Each member is a run folder (its best-on-validation weights), a model .json or a model name.
The members must share the training data and validation split; the committee is written as
``OUT/best.json`` + ``OUT/best.safetensors`` with its validation accuracy, so ``evaluate``,
``export``, ``predict`` and ``serve`` take it like any run.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from traffic_signs.data.options import add_data_arguments
from traffic_signs.errors import ModelFileError
from traffic_signs.models.model_file import COMMITTEE, Member, ModelFile, read_model_file
from traffic_signs.models.resolve import resolve_model_path

if TYPE_CHECKING:
    from traffic_signs.models.committee import Committee


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("members", nargs="+", help="run folders, model .json files or model names (two or more)")
    parser.add_argument("--out", required=True, help="folder for the committee (written as OUT/best.json)")
    add_data_arguments(parser)


def run(args: argparse.Namespace) -> int:
    paths = [resolve_model_path(member) for member in args.members]
    summary = build_committee(paths, Path(args.out), args.data_dir, args.cache_dir)
    print(json.dumps(summary, indent=2))
    return 0


def build_committee(paths: list[Path], out: Path, data_dir: str | None = None,
                    cache_dir: str | None = None) -> dict:
    """Assemble, score on the shared validation tracks, and save; returns what was measured."""
    # here, not at the top: --help stays fast without torch
    from traffic_signs.models.inference import validation_accuracy
    from traffic_signs.models.io import save_model

    refuse_to_overwrite_a_run(out, "committee", lambda existing: existing.is_committee)
    committee, model_file = assemble(paths)
    val_accuracy, val_images = validation_accuracy(committee, model_file, data_dir, cache_dir, str(out))
    model_file = replace(model_file, metrics={"val_accuracy": val_accuracy, "val_images": val_images})
    out.mkdir(parents=True, exist_ok=True)
    json_path = save_model(out / "best", committee, model_file)
    return {"committee": str(json_path), "val_accuracy": val_accuracy, "val_images": val_images,
            "members": [{"source": m.source, "val_accuracy": m.val_accuracy} for m in model_file.members or []]}


def refuse_to_overwrite_a_run(out: Path, kind: str, is_kind: Callable[[ModelFile], bool]) -> None:
    """OUT may hold an older committee or soup (``is_kind``: rebuilt in place), never a trained
    run's weights: its ``best.json`` would be replaced by the average."""
    existing = out / "best.json"
    if existing.is_file() and not is_kind(read_model_file(existing)):
        raise ModelFileError(f"{existing}: holds a trained run, not a {kind}; choose another --out folder")


def assemble(paths: list[Path]) -> tuple[Committee, ModelFile]:
    """Load verified member files and return the committee with its model file."""
    # here, not at the top: --help stays fast without torch
    from traffic_signs.models.committee import check_compatible, committee_of
    from traffic_signs.models.io import load_model

    loaded = [load_model(path) for path in paths]
    model_files = [model_file for _, model_file in loaded]
    if len(model_files) < 2:
        raise ModelFileError("a committee needs at least two member models")
    check_compatible(paths, model_files)
    first = model_files[0]
    model_file = ModelFile(
        architecture=COMMITTEE, class_names=first.class_names, input_size=first.input_size, input=first.input,
        normalisation=first.normalisation, data_checksum=first.data_checksum,
        train_config=first.train_config,  # the shared split (and member 0's recipe)
        parameters=sum(m.parameters or 0 for m in model_files), macs=sum(m.macs or 0 for m in model_files),
        members=[_member(path, m) for path, m in zip(paths, model_files, strict=True)])
    return committee_of([model for model, _ in loaded]).eval(), model_file


def _member(path: Path, model_file: ModelFile) -> Member:
    """How a member's model file is recorded in the committee's."""
    cfg = model_file.train_config or {}
    return Member(architecture=model_file.architecture, source=str(path), checkpoint=Path(path).stem,
                  seed=cfg.get("seed"), epochs=cfg.get("epochs"), epoch=model_file.epoch,
                  precision=model_file.precision or "fp32", train_config=cfg, sha256=model_file.sha256,
                  val_accuracy=model_file.metrics.get("val_accuracy"))
