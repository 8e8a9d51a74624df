"""Time to accuracy: wall seconds from the zip archives to a trained model, vs test accuracy.

Every measurement starts with an empty decode cache, so reading and decoding the archives
is inside the clock, as it is for a new user. Each model is trained with
``--time-budget B`` (the schedule is sized to fit B seconds, decoding included), then scored
on the official 12,630-image test set (scoring is outside the clock), twice: with the
best-on-validation weights the run keeps and with its last epoch's (the learning rate has
decayed to zero there; see the README on which epoch to keep). Several ``--seeds`` show how
reliably a budget reaches an accuracy.

    python benchmarks/time_to_accuracy.py --models signnet-s,lenet5 --budgets 60,120,170
    python benchmarks/time_to_accuracy.py --models signnet --budgets 170 --seeds 0,1,2

Prints a table and writes benchmarks/results/time_to_accuracy.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch

from traffic_signs.data.cache import load_split
from traffic_signs.data.gtsrb import resolve_data_dir
from traffic_signs.models.catalog import list_models
from traffic_signs.models.inference import torch_logits
from traffic_signs.models.io import load_model
from traffic_signs.training.loop import train
from traffic_signs.training.recipe import TrainConfig

RESULTS = Path(__file__).parent / "results"


def measure(model: str, budget: float, data_dir: Path, seed: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="tta-") as tmp:
        cfg = TrainConfig(model=model, epochs=10_000, time_budget=budget, seed=seed,
                          data_dir=str(data_dir), cache_dir=str(Path(tmp) / "cache"))
        start = time.perf_counter()
        progress = train(cfg, Path(tmp) / "run", progress_bar=False)
        wall = time.perf_counter() - start
        test = load_split("test", data_dir, 32, Path(tmp) / "cache")
        accuracy = {}
        for kept in ("best", "last"):
            net, _ = load_model(Path(tmp) / "run" / f"{kept}.json")
            accuracy[kept] = float((torch_logits(net, test.images).argmax(1) == test.labels).mean())
    return {"model": model, "budget_s": budget, "seed": seed, "wall_s": round(wall, 1), "epochs": progress.epoch,
            "precision": progress.environment["precision"], "val_accuracy": progress.best_val_accuracy,
            "test_accuracy": accuracy["best"], "test_accuracy_last_epoch": accuracy["last"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(list_models()))
    parser.add_argument("--budgets", default="60,120,170", help="comma-separated seconds")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds")
    parser.add_argument("--out", type=Path, default=RESULTS / "time_to_accuracy.json")
    args = parser.parse_args()
    data_dir = resolve_data_dir(args.data_dir)
    rows = []
    print(f"{'model':<12} {'budget s':>8} {'seed':>4} {'wall s':>7} {'epochs':>6} {'prec':>5} {'val acc':>8} "
          f"{'test (best val)':>15} {'test (last)':>11}")
    for model in args.models.split(","):
        for budget in (float(b) for b in args.budgets.split(",")):
            for seed in (int(s) for s in args.seeds.split(",")):
                row = measure(model, budget, data_dir, seed)
                rows.append(row)
                print(f"{model:<12} {budget:>8.0f} {seed:>4} {row['wall_s']:>7.1f} {row['epochs']:>6} "
                      f"{row['precision']:>5} {row['val_accuracy']:>8.4f} {row['test_accuracy']:>15.4f} "
                      f"{row['test_accuracy_last_epoch']:>11.4f}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    environment = {"torch": torch.__version__, "threads": torch.get_num_threads(),
                   "machine": platform.machine(), "python": platform.python_version()}
    args.out.write_text(json.dumps({"environment": environment, "results": rows}, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
