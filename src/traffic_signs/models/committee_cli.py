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
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("members", nargs="+", help="run folders, model .json files or model names (two or more)")
    parser.add_argument("--out", required=True, help="folder for the committee (written as OUT/best.json)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--cache-dir", default=None)


def run(args: argparse.Namespace) -> int:
    from traffic_signs.models.resolve import resolve_model_path

    paths = [resolve_model_path(member) for member in args.members]
    summary = build_committee(paths, Path(args.out), args.data_dir, args.cache_dir)
    print(json.dumps(summary, indent=2))
    return 0


def build_committee(paths: list[Path], out: Path, data_dir: str | None = None,
                    cache_dir: str | None = None) -> dict:
    """Assemble, score on the shared validation tracks, and save; returns what was measured."""
    from traffic_signs.data.cache import load_split
    from traffic_signs.data.split import validation_subset
    from traffic_signs.models.committee import assemble
    from traffic_signs.models.inference import torch_logits
    from traffic_signs.models.io import held_out_split, save_model

    _refuse_to_overwrite_a_run(out)
    committee, meta = assemble(paths)
    val = validation_subset(load_split("train", data_dir, meta["input_size"], cache_dir),
                            held_out_split(meta, out), meta.get("data_checksum"), str(out))
    val_accuracy = float((torch_logits(committee, val.images).argmax(1) == val.labels).mean())
    meta["metrics"] = {"val_accuracy": val_accuracy, "val_images": len(val)}
    out.mkdir(parents=True, exist_ok=True)
    json_path = save_model(out / "best", committee, meta)
    return {"committee": str(json_path), "val_accuracy": val_accuracy, "val_images": len(val),
            "members": [{"source": m["source"], "val_accuracy": m["val_accuracy"]} for m in meta["members"]]}


def _refuse_to_overwrite_a_run(out: Path) -> None:
    """OUT may hold an older committee (rebuilt in place), never a trained run's weights."""
    from traffic_signs.errors import ModelFileError
    from traffic_signs.models.committee import ARCHITECTURE
    from traffic_signs.models.io import read_metadata

    existing = out / "best.json"
    if existing.is_file() and read_metadata(existing).get("architecture") != ARCHITECTURE:
        raise ModelFileError(f"{existing}: holds a trained run, not a committee; choose another --out folder")

