"""Evaluate a trained model on the validation split or the official test set.

MODEL is a run folder (its best.json), a model .json file, or a registered model name
(runs/NAME/best.json, else the model shipped with the package). `--split val` rebuilds
exactly the validation tracks the run held out (fraction, seeds and subset from the model
file's train_config), so the numbers are comparable with the training log.

Writes metrics.json, report.md and four figures into --out (default: <run>/eval-<split>/).

Examples:
  traffic-signs evaluate runs/signnet --split test
  traffic-signs evaluate signnet-s --split val --format json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from traffic_signs.data.options import add_data_arguments
from traffic_signs.models.resolve import DEFAULT_RUNS_DIR, is_shipped, resolve_model_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("model", metavar="MODEL", help="run folder, model .json file, or registered model name")
    parser.add_argument("--split", choices=["val", "test"], default="test",
                        help="the run's held-out validation tracks, or the official test set (default)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="output folder (default: <run>/eval-<split>/)")
    parser.add_argument("--format", choices=["md", "json"], default="md",
                        help="print report.md (default) or a JSON summary on stdout")
    add_data_arguments(parser)


def run(args: argparse.Namespace) -> int:
    # here, not at the top: --help stays fast without torch
    from traffic_signs.evaluation.evaluate import evaluate_model

    model_path = resolve_model_path(args.model)
    out_dir = args.out or default_out_dir(model_path, args.split)
    metrics = evaluate_model(model_path, args.split, out_dir, args.data_dir, args.cache_dir)
    print(f"wrote {out_dir}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps(summary(metrics, out_dir)))
    else:
        print((out_dir / "report.md").read_text(), end="")
    return 0


def default_out_dir(model_path: Path, split: str) -> Path:
    """``<run>/eval-<split>`` for best.json, ``eval-<stem>-<split>`` for other model files.

    A shipped model lives inside the installed package, which is no place for output, so
    its evaluation goes to ``runs/<name>/eval-<split>`` instead.
    """
    if is_shipped(model_path):
        return DEFAULT_RUNS_DIR / model_path.stem / f"eval-{split}"
    prefix = "eval" if model_path.stem == "best" else f"eval-{model_path.stem}"
    return model_path.parent / f"{prefix}-{split}"


def summary(metrics: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """The headline numbers printed by ``--format json``."""
    keys = ("model", "architecture", "split", "n", "accuracy", "macro_f1", "ece", "nll", "aurc", "temperature")
    out = {k: metrics.get(k) for k in keys}
    if "calibrated" in metrics:
        out["calibrated"] = {k: metrics["calibrated"][k] for k in ("ece", "nll", "aurc")}
    for key in ("selective", "suggested"):
        if key in metrics:
            out[key] = metrics[key]
    out["out_dir"] = str(out_dir)
    return out
