"""`traffic-signs train-detector`: train SignFinder on synthetic scenes (see training/detector.py).

    traffic-signs train-detector --out runs/signfinder [--scenes 24000] [--epochs 4] [--seed 1]

torch is imported only when the command runs, so the command line (and the serving image,
which has no torch) can list it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from traffic_signs.data.options import add_data_arguments
from traffic_signs.training.detector_config import DetectorConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = DetectorConfig()
    parser.add_argument("--out", type=Path, default=Path("runs/signfinder"))
    parser.add_argument("--scenes", type=int, default=defaults.scenes)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--drawn-share", type=float, default=defaults.drawn_share, metavar="F",
                        help="paste drawn signs (GTSRB speed limits and signs GTSRB has no class for: "
                             "blue squares, plates, other speed limits ...) for this share of the signs")
    parser.add_argument("--night-share", type=float, default=defaults.night_share, metavar="F",
                        help="photograph this share of the scenes at night: a dark, tinted background behind "
                             "signs lit by flash or headlights")
    parser.add_argument("--defocus-share", type=float, default=defaults.defocus_share, metavar="F",
                        help="blur the background of this share of the scenes, as a shallow depth of field "
                             "does behind a sharp sign, with sharp shapes and pieces of photos in front of it")
    parser.add_argument("--backgrounds", action="append", default=[], metavar="DIR",
                        help="another folder of sign-free photographs (repeatable)")
    parser.add_argument("--resume", action="store_true")
    add_data_arguments(parser)


def run(args: argparse.Namespace) -> int:
    # here, not at the top: --help stays fast without torch
    from traffic_signs.training.detector import scenes_for, train_detector

    config = DetectorConfig(scenes=args.scenes, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                            seed=args.seed, threads=args.threads, drawn_share=args.drawn_share,
                            night_share=args.night_share, defocus_share=args.defocus_share)
    images, boxes = scenes_for(config, args.data_dir, args.cache_dir, args.backgrounds)
    train_detector(config, args.out, images, boxes, resume=args.resume)
    print(f"trained: {args.out / 'last.json'}; `traffic-signs ship-detector {args.out}` exports, scores and ships it")
    return 0
