"""Float vs 8-bit integer ONNX export of one trained model: official-test accuracy and speed.

    traffic-signs train --model signnet-m --epochs 30 --seed 0 --out runs/signnet-m
    traffic-signs export runs/signnet-m --int8
    python benchmarks/int8_accuracy.py runs/signnet-m

Top-1 accuracy on the 12,630 official test images through the torch-free Classifier, and
batched throughput (batch 256, median of ``--repeats``) of both graphs, measured in one run.
Writes benchmarks/results/int8_accuracy.json.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from inference import onnx_throughput
from traffic_signs import Classifier
from traffic_signs.data.cache import load_split
from traffic_signs.settings import get_settings, use_settings

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="run folder or model .json exported with --int8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--out", type=Path, default=RESULTS / "int8_accuracy.json")
    args = parser.parse_args()
    use_settings(replace(get_settings(), threads=args.threads))
    test = load_split("test", args.data_dir, 32, args.cache_dir)
    rows = []
    for int8 in (False, True):
        classifier = Classifier.load(args.model, int8=int8)
        accuracy = float((classifier.probabilities(test.images).argmax(1) == test.labels).mean())
        rows.append({"model": classifier.name, "precision": "int8" if int8 else "float32", "test_accuracy": accuracy,
                     "images_per_s": onnx_throughput(classifier, test.images[:256], args.repeats)})
        print(f"{rows[-1]['model']} {rows[-1]['precision']:<8} test accuracy {accuracy:.2%}  "
              f"{rows[-1]['images_per_s']:.0f} img/s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"threads": args.threads, "test_images": len(test), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
