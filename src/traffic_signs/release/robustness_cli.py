"""Accuracy of an exported model under common image corruptions at five severities.

  traffic-signs robustness [MODEL] [--limit 2000] [--out DIR]

MODEL is an exported model (shipped name, run folder, .json or .onnx; default: the shipped
one), scored on the torch-free runtime as the product runs it. The corruptions and their
severities are listed in ``evaluation/robustness.py``. Writes robustness.md (table),
robustness.json and robustness.png.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from traffic_signs.data.options import add_data_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("model", nargs="?", default=None, help="exported model (default: the shipped one)")
    parser.add_argument("--limit", type=int, default=2000, help="seeded subset of the test set (0 = all 12,630)")
    parser.add_argument("--out", type=Path, default=Path("results/robustness"))
    add_data_arguments(parser)


def run(args: argparse.Namespace) -> int:
    # here, not at the top: --help stays fast without ONNX Runtime and the data and prediction modules
    from traffic_signs.evaluation.robustness import markdown, plot, robustness_on_test_set
    from traffic_signs.prediction.reader import Classifier

    classifier = Classifier.load(args.model)
    table, images = robustness_on_test_set(classifier.probabilities, classifier.input_size, args.limit,
                                           args.data_dir, args.cache_dir)
    args.out.mkdir(parents=True, exist_ok=True)
    text = markdown(table, images)
    (args.out / "robustness.md").write_text(text)
    (args.out / "robustness.json").write_text(json.dumps({"images": images, **table}, indent=2) + "\n")
    plot(table, args.out / "robustness.png")
    print(text)
    return 0
