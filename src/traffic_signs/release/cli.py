"""Export a trained run to ONNX, calibrated, ready for the torch-free runtime.

  traffic-signs export runs/signnet                       # writes runs/signnet/best.onnx, updates best.json
  traffic-signs export runs/signnet-stn-x3 --ship signnet-stn-x3  # also installs it as the shipped model

Export fits the temperature and chooses the "unknown sign" threshold on the run's own
validation tracks (never on test), writes the ONNX graph (dynamic batch, input N x 3 x S x S
floats in [0, 1], output logits, plus Grad-CAM maps where the model has them), and records
both calibration values and the ONNX file's SHA-256 in the model JSON. ``--ship`` also
evaluates the official test set and writes the package's MODEL_CARD.md from the measured files
(the card describes the model last shipped; the one the product loads by default is
``prediction.crops.DEFAULT_MODEL``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from traffic_signs.data.options import add_data_arguments
from traffic_signs.models.resolve import resolve_model_path
from traffic_signs.training.recipe import training_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("model", help="run folder, model .json, or registered model name")
    parser.add_argument("--ship", metavar="NAME", default=None,
                        help="install as the package's shipped model NAME (and write its model card)")
    parser.add_argument("--command", default=None,
                        help="the training command, quoted, for the model card (default: from the run)")
    parser.add_argument("--threshold", type=float, default=None, metavar="T",
                        help="the 'unknown sign' threshold to ship instead of the validation one (never below it), "
                             "e.g. chosen with `python benchmarks/real_photos.py --thresholds ...`")
    parser.add_argument("--threshold-chosen-on", default=None, metavar="TEXT",
                        help="where --threshold was chosen, for the model file and card")
    parser.add_argument("--real-photos-cv", type=Path, default=None, metavar="FILE",
                        help="with --ship: the model's cross-validated real-photo figures for its card, the JSON "
                             "`python benchmarks/real_photos.py --cross-validate --model RUN --out FILE` wrote")
    parser.add_argument("--int8", action="store_true",
                        help="also write an 8-bit integer copy (<stem>.int8.onnx) for throughput")
    add_data_arguments(parser)


def run(args: argparse.Namespace) -> int:
    # here, not at the top: --help stays fast without torch
    from traffic_signs.release.export import export
    from traffic_signs.release.ship import ship

    json_path = resolve_model_path(args.model)
    model_file = export(json_path, args.data_dir, args.cache_dir, int8=args.int8, threshold=args.threshold,
                        threshold_chosen_on=args.threshold_chosen_on)
    print(json.dumps({"model": str(json_path), "onnx": model_file.onnx, "onnx_int8": model_file.onnx_int8,
                      "onnx_cams": model_file.onnx_cams,
                      "temperature": model_file.temperature, "threshold": model_file.threshold}))
    if args.ship:
        command = args.command or training_command(model_file, f"runs/{args.ship}")
        card = ship(json_path, args.ship, command, args.data_dir, args.cache_dir, args.real_photos_cv)
        print(f"shipped as {card.parent / args.ship}.json with {card}")
    return 0
