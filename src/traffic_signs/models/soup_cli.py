"""Average the weights of runs fine-tuned from the same starting weights into one model (a model soup).

  traffic-signs train --init BASE.json:0 --seed 0 ... --out runs/signnet-stn-seed0    # one recipe
  traffic-signs train --init BASE.json:0 --seed 6 ... --out runs/signnet-stn-seed6    # another
  traffic-signs soup runs/signnet-stn-seed0/last.json runs/signnet-stn-seed6/last.json --out runs/signnet-stn-soup0

Runs fine-tuned from one set of weights stay in one basin of the loss, so the mean of their
weights is a model too, and often a better one: it keeps most of what averaging their answers
(a committee) gains at the cost of one model ("Model soups", Wortsman et al., 2022). Runs that
started apart have no such mean, so the ingredients must share their ``--init`` weights, their
architecture, training data and validation split. The soup is written as ``OUT/best.json`` with
its validation accuracy and every ingredient's recipe (``train_config["soup"]``), so the
retraining command names them all; ``committee``, ``evaluate`` and ``export`` take it like a run.

``--init-share A`` moves the soup a share A of the way back to the ingredients' shared ``--init``
weights (WiSE-FT, Wortsman et al., 2022): fine-tuning on photo views bought real-photo answers
with a little of what the starting weights knew of GTSRB's own crops, and the way back buys
most of that back while keeping most of the gain (README, *Real photos*).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from traffic_signs.data.options import add_data_arguments
from traffic_signs.errors import ModelFileError
from traffic_signs.models.committee_cli import refuse_to_overwrite_a_run
from traffic_signs.models.model_file import ModelFile
from traffic_signs.models.resolve import resolve_model_path

if TYPE_CHECKING:
    import torch


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("ingredients", nargs="+", help="model .json files or run folders fine-tuned from the same "
                                                       "--init weights (two or more; one with --init-share)")
    parser.add_argument("--out", required=True, help="folder for the soup (written as OUT/best.json)")
    parser.add_argument("--init-share", type=_share, default=0.0, metavar="A",
                        help="weigh the ingredients' shared --init weights in with this share, the mean of "
                             "the ingredients with 1 - A (WiSE-FT; default 0: the plain mean)")
    add_data_arguments(parser)


def _share(value: str) -> float:
    share = float(value)
    if not 0 <= share < 1:
        raise argparse.ArgumentTypeError(f"{value}: a share in [0, 1)")
    return share


def run(args: argparse.Namespace) -> int:
    paths = [resolve_model_path(spec) for spec in args.ingredients]
    print(json.dumps(make_soup(paths, Path(args.out), args.data_dir, args.cache_dir, args.init_share), indent=2))
    return 0


def make_soup(paths: list[Path], out: Path, data_dir: str | None = None, cache_dir: str | None = None,
              init_share: float = 0.0) -> dict:
    """Average the ingredients' weights (with ``init_share`` of their ``--init`` weights), score the
    soup on their validation tracks, save it."""
    # here, not at the top: --help stays fast without torch
    from traffic_signs.models.inference import validation_accuracy
    from traffic_signs.models.io import load_model, save_model

    refuse_to_overwrite_a_run(out, "soup", lambda existing: bool((existing.train_config or {}).get("soup")))
    loaded = [load_model(path) for path in paths]
    check_ingredients(paths, [model_file for _, model_file in loaded], init_share)
    states = [model.state_dict() for model, _ in loaded]
    soup, first = loaded[0][0], loaded[0][1]
    start = _init_weights(first) if init_share else None
    blended = {key: _blend([s[key] for s in states], None if start is None else start[key], init_share)
               .to(value.dtype) if value.is_floating_point() else value for key, value in states[0].items()}
    soup.load_state_dict(blended)
    ingredients = [_ingredient(path, model_file) for path, (_, model_file) in zip(paths, loaded, strict=True)]
    recipe = {"soup": ingredients, **({"soup_init_share": init_share} if init_share else {})}
    model_file = replace(first, train_config={**(first.train_config or {}), **recipe})
    val_accuracy, val_images = validation_accuracy(soup, model_file, data_dir, cache_dir, str(out))
    model_file = replace(model_file, metrics={"val_accuracy": val_accuracy, "val_images": val_images})
    out.mkdir(parents=True, exist_ok=True)
    json_path = save_model(out / "best", soup, model_file)
    return {"soup": str(json_path), "val_accuracy": val_accuracy,
            "ingredients": [{"source": str(p), "val_accuracy": m.metrics.get("val_accuracy")} for p, (_, m)
                            in zip(paths, loaded, strict=True)]}


def _blend(tensors: list[torch.Tensor], start: torch.Tensor | None, init_share: float) -> torch.Tensor:
    """The mean of ``tensors``, moved ``init_share`` of the way to ``start`` (when there is one)."""
    # here, not at the top: --help stays fast without torch
    import torch

    mean = torch.stack([t.float() for t in tensors]).mean(0)
    return mean if start is None else (1 - init_share) * mean + init_share * start.float()


def _init_weights(model_file: ModelFile) -> dict[str, torch.Tensor]:
    """The ``--init`` weights the ingredients share, checked as training checked them."""
    # here, not at the top: --help stays fast without torch
    from traffic_signs.models.io import initial_weights

    return initial_weights(model_file.train_config["init"], model_file.architecture, model_file.split,
                           model_file.data_checksum)


def check_ingredients(paths: list[Path], model_files: list[ModelFile], init_share: float = 0.0) -> None:
    """Refuse what has no meaningful mean, naming the odd one out: besides what a committee's
    members must share (``committee.check_compatible``), one architecture and one start. One
    ingredient is a soup only with its start weighed in (``init_share``: WiSE-FT of one run)."""
    # here, not at the top: --help stays fast without torch
    from traffic_signs.models.committee import check_compatible

    if len(model_files) < (1 if init_share else 2):
        raise ModelFileError("a soup needs at least two ingredients, or one with --init-share")
    first = model_files[0]
    for path, model_file in zip(paths, model_files, strict=True):
        cfg = model_file.train_config or {}
        if model_file.is_committee or cfg.get("soup"):
            raise ModelFileError(f"{path}: is a committee or a soup; list the runs it was made of")
        if not cfg.get("init"):
            raise ModelFileError(f"{path}: was not fine-tuned (--init): runs trained from scratch have no mean")
        checks = {"architecture": (model_file.architecture, first.architecture),
                  "--init weights": (cfg.get("init"), (first.train_config or {}).get("init"))}
        for what, (mine, theirs) in checks.items():
            if mine != theirs:
                raise ModelFileError(f"{path}: other {what} than {paths[0]} ({mine} against {theirs})")
    check_compatible(paths, model_files, members="soup ingredients")


def _ingredient(path: Path, model_file: ModelFile) -> dict:
    """What the soup records of one ingredient: enough to retrain it and to check it."""
    return {"train_config": model_file.train_config or {}, "epoch": model_file.epoch,
            "precision": model_file.precision or "fp32", "checkpoint": Path(path).stem, "sha256": model_file.sha256}
