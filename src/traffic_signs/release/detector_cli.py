"""`traffic-signs ship-detector`: export a trained SignFinder, score it and install it as shipped.

    traffic-signs ship-detector runs/signfinder [--name signfinder] [--scenes 500]

torch is imported only when the command runs (see release/detector.py for the steps).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from traffic_signs.data.options import add_data_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, metavar="RUN", help="a train-detector run folder (its last.json)")
    parser.add_argument("--name", default="signfinder")
    parser.add_argument("--scenes", type=int, default=500, help="test scenes to score it on")
    add_data_arguments(parser)


def run(args: argparse.Namespace) -> int:
    # here, not at the top: --help stays fast without torch
    from traffic_signs.models.detector import load_detector
    from traffic_signs.release.detector import export_detector, score_on_test_scenes, ship_detector

    json_path = args.folder / "last.json" if args.folder.is_dir() else args.folder
    export_detector(load_detector(json_path)[0], json_path)
    scores = score_on_test_scenes(json_path, args.scenes, data_dir=args.data_dir, cache_dir=args.cache_dir)
    print(json.dumps(scores))
    print(f"shipped; card: {ship_detector(json_path, args.name, scores)}")
    return 0
