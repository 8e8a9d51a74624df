"""Train every registered model on the same data and split, and compare them in one table.

Each model is trained into <runs-dir>/<model> (or, with --reuse, an existing run there is
reused and an unfinished one resumed), evaluated on the run's track-held-out validation
split and on the official test set, and measured: parameters, MACs per image, training
time (state.json), and CPU inference throughput. The test ECE is reported twice: raw, and
after a temperature fitted on the validation split, which is how a model would ship.

Writes <out>/compare.md (one Markdown table plus the command that produced it) and
<out>/compare.json; every model's full evaluation stays in its run folder (eval-val/,
eval-test/).

Examples:
  traffic-signs compare --epochs 30
  traffic-signs compare --models lenet5,signnet-s --time-budget 300
  traffic-signs compare --reuse          # re-measure existing runs without retraining
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traffic_signs.data.options import add_data_arguments
from traffic_signs.data.split import DEFAULT_SPLIT_SEED, DEFAULT_VAL_FRACTION, SplitSpec
from traffic_signs.errors import TrafficSignsError
from traffic_signs.training.recipe import TrainConfig, default

if TYPE_CHECKING:
    from traffic_signs.training.checkpoint import Progress

DEFAULT_RUNS_DIR = Path("runs/compare")
DEFAULT_OUT = Path("results/compare")
BATCH = 256  # images per timed inference batch


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--models", default=None, metavar="A,B,...",
                        help="comma-separated registered models (default: all)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, default=default("epochs"),
                        help=f"epochs per model (default {default('epochs')})")
    length.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                        help="training wall time per model instead of a fixed number of epochs")
    parser.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS_DIR, help=f"default {DEFAULT_RUNS_DIR}")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse finished runs in --runs-dir, resume unfinished ones, train missing ones")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    parser.add_argument("--limit-train", type=int, default=None, metavar="N",
                        help="train on a seeded N-image subset (quick checks; not for published numbers)")
    parser.add_argument("--seed", type=int, default=default("seed"))
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads for training and timing (default: torch's choice)")
    add_data_arguments(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    # here, not at the top: --help stays fast without torch
    import torch

    from traffic_signs.models.catalog import get_entry, list_models

    names = [n.strip() for n in args.models.split(",") if n.strip()] if args.models else list_models()
    if not names:
        raise TrafficSignsError("--models names no model")
    for name in names:
        get_entry(name)  # fail fast on a typo, before hours of training
    threads = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        rows = [measure_model(name, args) for name in names]
        environment = _environment()
    finally:
        torch.set_num_threads(threads)  # in-process callers (tests, notebooks) keep their setting
    rows.sort(key=lambda r: (-r["test"]["accuracy"], r["name"]))
    result = {"command": command_line(args, names), "settings": _settings(args), "environment": environment,
              "models": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "compare.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "compare.md").write_text(markdown(result))
    print((args.out / "compare.md").read_text(), end="")
    _log(f"wrote {args.out / 'compare.md'} and compare.json")
    return 0


def measure_model(name: str, args: argparse.Namespace) -> dict[str, Any]:
    _log(f"compare: {name}")
    progress = ensure_trained(name, args)
    return measure(name, args.runs_dir / name, progress, args.data_dir, args.cache_dir)


def train_config(name: str, args: argparse.Namespace):
    """The same TrainConfig for every model but the architecture: same data, split, seed."""
    return TrainConfig(model=name, epochs=args.epochs, time_budget=args.time_budget, seed=args.seed,
                       data_dir=args.data_dir, cache_dir=args.cache_dir, limit_train=args.limit_train)


def ensure_trained(name: str, args: argparse.Namespace) -> Progress:
    """Train ``name`` into its run folder, or reuse/resume the run there; returns its progress (state.json)."""
    # here, not at the top: --help stays fast without torch
    from traffic_signs.training.checkpoint import load_progress
    from traffic_signs.training.loop import train

    cfg = train_config(name, args)
    run_dir = args.runs_dir / name
    previous = load_progress(run_dir) if args.reuse else None
    if previous is not None:
        _check_same_split(run_dir, previous.config or {}, cfg.to_dict())
        if previous.epoch >= previous.epochs and (run_dir / "best.json").is_file():
            _log(f"  reusing {run_dir} ({previous.epoch} epochs)")
            return previous
        _log(f"  resuming {run_dir} at epoch {previous.epoch} of {previous.epochs}")
    return train(cfg, run_dir, resume=previous is not None, progress_bar=not args.no_progress)


def _check_same_split(run_dir: Path, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Refuse to reuse a run trained on other images or another split: the table would lie."""
    was, now = SplitSpec.of(old), SplitSpec.of(new)
    different = [(k, getattr(was, k), getattr(now, k)) for k in was.differing(now)]
    if old.get("model") not in (None, new["model"]):
        different.append(("model", old.get("model"), new["model"]))
    if different:
        detail = ", ".join(f"{k}: run {a!r} vs now {b!r}" for k, a, b in different)
        raise TrafficSignsError(f"{run_dir}: cannot reuse, trained on another data split ({detail}); "
                                "drop --reuse to retrain, or use another --runs-dir")


def measure(name: str, run_dir: Path, progress: Progress, data_dir: str | None,
            cache_dir: str | None) -> dict[str, Any]:
    """One table row: size, cost, training time, val and test metrics, inference speed."""
    # here, not at the top: --help stays fast without torch
    from traffic_signs.evaluation.evaluate import evaluate_model
    from traffic_signs.models.catalog import get_entry
    from traffic_signs.models.complexity import count_macs, count_parameters
    from traffic_signs.models.io import load_model

    entry = get_entry(name)
    best = run_dir / "best.json"
    val = evaluate_model(best, "val", run_dir / "eval-val", data_dir, cache_dir)
    temperature = val["suggested"]["temperature"] if "suggested" in val else None
    test = evaluate_model(best, "test", run_dir / "eval-test", data_dir, cache_dir, temperature=temperature,
                          temperature_source="fitted on the validation split by `traffic-signs compare`")
    model, _ = load_model(best)
    row = {
        "name": name, "ours": entry.ours, "summary": entry.summary, "run_dir": str(run_dir),
        "parameters": count_parameters(model), "macs": count_macs(model, entry.input_size),
        "epochs": progress.epoch, "train_seconds": progress.train_seconds,
        "best_epoch": progress.best_epoch, "temperature": temperature,
        "val": _split_row(val), "test": _split_row(test),
        "images_per_second": inference_throughput(model, entry.input_size),
    }
    _log(f"  {name}: test accuracy {row['test']['accuracy']:.4f}, {row['images_per_second']:.0f} img/s")
    return row


def _split_row(metrics: dict[str, Any]) -> dict[str, Any]:
    row = {k: metrics[k] for k in ("n", "accuracy", "macro_f1", "ece", "nll", "aurc")}
    if "calibrated" in metrics:
        row["ece_calibrated"] = metrics["calibrated"]["ece"]
        row["nll_calibrated"] = metrics["calibrated"]["nll"]
    return row


def inference_throughput(model, input_size: int, batch: int = BATCH, warmup: int = 3, repeats: int = 7) -> float:
    """Images per second: median of timed forward passes of one batch, after warm-up.

    Eval mode, channels_last, no autograd: how the product serves. The median shrugs off
    the odd slow pass when other processes share the CPU; the numbers are still only
    comparable within one compare run on one machine.
    """
    # here, not at the top: --help stays fast without torch and statistics (which loads decimal, fractions)
    import statistics

    import torch

    model = model.eval().to(memory_format=torch.channels_last)
    x = torch.rand(batch, 3, input_size, input_size).contiguous(memory_format=torch.channels_last)
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            model(x)
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return batch / statistics.median(times)


def command_line(args: argparse.Namespace, names: list[str]) -> str:
    """The command that reproduces this table, with every non-default option spelled out."""
    parts = ["traffic-signs", "compare", "--models", ",".join(names)]
    if args.time_budget is not None:
        parts += ["--time-budget", f"{args.time_budget:g}"]
    else:
        parts += ["--epochs", str(args.epochs)]
    options = [("--limit-train", args.limit_train, None), ("--seed", args.seed, default("seed")),
               ("--threads", args.threads, None), ("--runs-dir", args.runs_dir, DEFAULT_RUNS_DIR),
               ("--out", args.out, DEFAULT_OUT), ("--data-dir", args.data_dir, None),
               ("--cache-dir", args.cache_dir, None)]
    for flag, value, unset in options:
        if value is not None and value != unset:
            parts += [flag, str(value)]
    if args.reuse:
        parts.append("--reuse")
    return shlex.join(parts)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {"epochs": None if args.time_budget is not None else args.epochs, "time_budget": args.time_budget,
            "limit_train": args.limit_train, "seed": args.seed, "val_fraction": DEFAULT_VAL_FRACTION,
            "split_seed": DEFAULT_SPLIT_SEED, "reuse": args.reuse, "runs_dir": str(args.runs_dir),
            "inference_batch": BATCH}


def _environment() -> dict[str, Any]:
    # here, not at the top: --help stays fast without torch
    import torch

    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "torch": torch.__version__, "python": platform.python_version(), "threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(), "machine": platform.machine(), "processor": platform.processor()}


def markdown(result: dict[str, Any]) -> str:
    """compare.md: the command, the conditions, one table, and what each column means."""
    env, settings, rows = result["environment"], result["settings"], result["models"]
    test_n = rows[0]["test"]["n"] if rows else 0
    val_n = rows[0]["val"]["n"] if rows else 0
    length = (f"{settings['epochs']} epoch{'s' if settings['epochs'] != 1 else ''}" if settings["epochs"] is not None
              else f"a {settings['time_budget']:g} s training budget")
    subset = f", a {settings['limit_train']:,}-image training subset" if settings["limit_train"] else ""
    lines = [
        "# Model comparison", "",
        "Produced by:", "", "```", result["command"], "```", "",
        f"Every model: {length}{subset}, seed {settings['seed']}, the same track-held-out validation split "
        f"({val_n:,} images) and the official GTSRB test set ({test_n:,} images). "
        f"CPU, torch {env['torch']}, {env['threads']} threads, {env['cpu_count']} cores, {env['date']}.",
        "",
    ]
    if settings["reuse"]:
        lines += ["Finished runs were reused from earlier training (`--reuse`).", ""]
    lines += [
        "| model | params | MMACs | epochs | train time | val acc | test acc | test macro F1 "
        "| test ECE | test ECE (T) | img/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [_table_row(r) for r in rows]
    lines += ["", "**Bold** = our models (the rest are classic baselines). Sorted by test accuracy. "
              "ECE: expected calibration error, 15 bins; (T) after a temperature fitted on validation. "
              f"img/s: CPU inference, batch {settings['inference_batch']}, median of 7 timed batches after "
              "3 warm-up; train time: training steps only (state.json), without validation. Times depend "
              "on what else the machine was running.", ""]
    return "\n".join(lines)


def _table_row(r: dict[str, Any]) -> str:
    name = f"**{r['name']}** (ours)" if r["ours"] else r["name"]
    t_ece = f"{r['test']['ece_calibrated']:.4f}" if "ece_calibrated" in r["test"] else "-"
    return (f"| {name} | {r['parameters']:,} | {r['macs'] / 1e6:.2f} | {r['epochs']} | "
            f"{_duration(r['train_seconds'])} | {100 * r['val']['accuracy']:.2f}% | "
            f"{100 * r['test']['accuracy']:.2f}% | {r['test']['macro_f1']:.4f} | {r['test']['ece']:.4f} | "
            f"{t_ece} | {r['images_per_second']:,.0f} |")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
