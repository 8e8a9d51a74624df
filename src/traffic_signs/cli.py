"""The ``traffic-signs`` command: one subcommand per step of the pipeline.

Each subcommand lives beside the code it drives, as a module with ``add_arguments(parser)``
and ``run(args) -> int``; this file only wires them together, so ``--help`` stays fast
(heavy imports happen inside ``run``).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from traffic_signs.errors import TrafficSignsError

# subcommand -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "download": ("traffic_signs.data.download_cli", "fetch and verify the GTSRB archives"),
    "train": ("traffic_signs.training.cli", "train a registered model"),
    "evaluate": ("traffic_signs.evaluation.cli", "evaluate a run or model on val or test"),
    "compare": ("traffic_signs.evaluation.compare", "train and compare every registered model"),
    "predict": ("traffic_signs.prediction.cli", "classify image files"),
    "train-detector": ("traffic_signs.training.detector_cli", "train the sign detector on synthetic scenes"),
    "ship-detector": ("traffic_signs.release.detector_cli", "score the sign detector and install it as shipped"),
    "committee": ("traffic_signs.models.committee_cli", "average several trained runs into one model"),
    "soup": ("traffic_signs.models.soup_cli", "average the weights of runs fine-tuned from the same weights"),
    "export": ("traffic_signs.release.cli", "export a run to ONNX"),
    "serve": ("traffic_signs.serving.cli", "run the web app or the HTTP API"),
    "robustness": ("traffic_signs.release.robustness_cli", "accuracy under image corruptions"),
    "models": ("traffic_signs.models.cli", "list the registered models"),
    "settings": ("traffic_signs.settings_cli", "show the settings the environment gives (docs/configuration.md)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="traffic-signs",
        description="Traffic sign recognition on GTSRB: train, evaluate, classify, serve.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("traffic_signs"):
                continue  # a subcommand not built into this installation
            raise
        command = sub.add_parser(name, help=help_text, description=module.__doc__)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except TrafficSignsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
