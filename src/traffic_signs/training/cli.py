"""Train a registered model on GTSRB into a run folder (weights, metadata, curves).

Examples:
  traffic-signs train --model signnet --epochs 30
  traffic-signs train --model signnet-s --time-budget 150 --out runs/fast
  torchrun --nproc-per-node 2 -m traffic_signs train --model lenet5 --epochs 5
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from traffic_signs.data.augment_config import DRAWN_DESIGNS, HARSH, OUTLIER_KINDS, WEB_EFFECTS
from traffic_signs.data.options import add_data_arguments
from traffic_signs.training.recipe import PRECISIONS, TEACH_ON, TrainConfig, augment_config, default


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--model", required=True, help="registered model name (see `traffic-signs models`)")
    parser.add_argument("--epochs", type=int, default=default("epochs"))
    parser.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                        help="size the schedule to fit this wall time, then stop cleanly")
    parser.add_argument("--out", type=Path, default=None, metavar="RUN_DIR",
                        help="run folder (default: runs/MODEL)")
    parser.add_argument("--seed", type=int, default=default("seed"))
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument("--init", default=None, metavar="FILE[:MEMBER]",
                        help="fine-tune: start from these weights (a model .json of the same architecture, "
                             "or FILE:K for member K of a committee) instead of random ones")
    parser.add_argument("--batch-size", type=int, default=default("batch_size"))
    parser.add_argument("--lr", type=float, default=default("lr"), help="peak learning rate")
    parser.add_argument("--outlier-weight", type=float, default=default("outlier_weight"), metavar="W",
                        help="train on pictures that hold no GTSRB sign (see --outliers) as 'no sign' "
                             "examples with this loss weight (outlier exposure; 0 = off)")
    parser.add_argument("--outliers", type=_outlier_kinds, default=default("outliers"), metavar="KIND,...",
                        help="which outliers: upside_down (signs turned over), background (pieces of "
                             "sign-free photos), fragment (pieces of signs), drawn (signs GTSRB has no "
                             "class for), lookalike (Zone signs, the blue left-or-right fork: no class, yet "
                             "they hold or mimic one), zone (Zone plates around a real GTSRB disc), designs "
                             "(German signs without a class, drawn like the classes of --drawn-designs every: "
                             "other bans, blue discs and squares, warnings, plates; see "
                             "data.drawn_signs.UNKNOWN_DESIGNS); default: upside_down")
    parser.add_argument("--photo-framing", type=float, default=default("photo_framing"), metavar="F",
                        help="re-frame this share of every batch's signs as photos show them: cut out, "
                             "pasted loosely onto sign-free photos, some on poles or above plates, some "
                             "replaced by clean drawings (0 = off)")
    parser.add_argument("--drawn-designs", choices=DRAWN_DESIGNS, default=default("drawn_designs"),
                        help="which GTSRB signs --photo-framing draws cleanly: speed limits and 'No vehicles' "
                             "(speed), or also every sign whose design is plain geometry (all: no entry, yield, "
                             "stop, priority road, warnings, blue arrows; see data.drawn_signs.CLASS_DESIGNS), or "
                             "all 43 classes evenly, pictograms included (every: data.drawn_signs.EVERY_CLASS_DESIGNS)")
    parser.add_argument("--consistency", type=float, default=default("consistency"), metavar="W",
                        help="also train on a harshly corrupted copy of every batch (noise, JPEG, rain, "
                             "blur, occlusion), asking for the same answer on both with this loss weight "
                             "(Jensen-Shannon consistency; 0 = off)")
    parser.add_argument("--distill", type=float, default=default("distill"), metavar="W",
                        help="with --init: keep the starting model's answers on every batch's signs with this "
                             "loss weight while the new outliers are learnt (learning without forgetting; 0 = off); "
                             "with --teacher: learn the teacher's answers instead")
    parser.add_argument("--teacher", default=None, metavar="MODEL.json",
                        help="with --distill W: a trained model file (any architecture, or a committee, with the "
                             "same classes and input size) whose answers on every picture of each batch (signs, "
                             "photo views, outliers) the model learns with loss weight W (distillation); "
                             "with or without --init")
    parser.add_argument("--teach-on", choices=TEACH_ON, default=default("teach_on"),
                        help="with --teacher and --init: where the teacher's answers are learnt: on every "
                             "picture (all), or on the photo-framed signs and the outliers only (photos), the "
                             "plain signs keeping the --init weights' answers, so that a teacher that reads "
                             "GTSRB's own signs less well than the model does not teach it its mistakes there")
    parser.add_argument("--distill-temperature", type=float, default=default("distill_temperature"), metavar="T",
                        help="divide both models' logits by T before comparing their answers, and scale the "
                             "loss by T^2 (Hinton et al. 2015; default 1: the answers as they are)")
    parser.add_argument("--freeze-blocks", type=int, default=default("freeze_blocks"), metavar="N",
                        help="pretrained backbones (efficientnet-lite0): keep the stem and the first N blocks "
                             "at their published weights, batch norm in eval mode there; trains faster "
                             "(default 0: train every layer)")
    parser.add_argument("--harsh", action="append", default=[], metavar="KEY=VALUE",
                        help="change one setting of that corrupted copy, keys as for --augment "
                             "(defaults: data.augment_config.HARSH)")
    parser.add_argument("--augment", action="append", default=[], metavar="KEY=VALUE",
                        help="change one augmentation setting, e.g. noise_prob=0.3 or scale=0.8,1.2 "
                             "(repeatable; the keys are the fields of data.augment_config.AugmentConfig). "
                             "web_prob=P gives a share P of the images one web-photo effect each, chosen among "
                             f"web_effects=NAME,... (default: all of {','.join(WEB_EFFECTS)}); mirror_prob=P "
                             "mirrors a share P of the signs whose mirror image is a sign, with its class "
                             "(classes.MIRRORED)")
    add_data_arguments(parser)
    parser.add_argument("--limit-train", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: all cores; use 1 when other jobs share the CPU)")
    parser.add_argument("--precision", choices=PRECISIONS, default=default("precision"),
                        help="forward-pass arithmetic; auto = bf16 where the CPU/GPU computes it natively "
                             "(AVX512-BF16 or AMX CPUs, where it trains faster), else fp32")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _outlier_kinds(value: str) -> tuple[str, ...]:
    kinds = tuple(kind.strip() for kind in value.split(",") if kind.strip())
    unknown = [kind for kind in kinds if kind not in OUTLIER_KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"{value!r}: choose among {', '.join(OUTLIER_KINDS)}")
    return kinds


def run(args: argparse.Namespace) -> int:
    # here, not at the top: --help stays fast without torch
    import torch

    from traffic_signs.models.catalog import get_entry
    from traffic_signs.training.loop import train

    get_entry(args.model)  # fail fast on an unknown name
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = TrainConfig(model=args.model, epochs=args.epochs, time_budget=args.time_budget,
                      seed=args.seed, batch_size=args.batch_size, lr=args.lr, data_dir=args.data_dir,
                      cache_dir=args.cache_dir, limit_train=args.limit_train,
                      precision=args.precision, augment=augment_config(args.augment),
                      outlier_weight=args.outlier_weight, outliers=args.outliers,
                      photo_framing=args.photo_framing, drawn_designs=args.drawn_designs, init=args.init,
                      consistency=args.consistency, distill=args.distill, teacher=args.teacher,
                      teach_on=args.teach_on,
                      distill_temperature=args.distill_temperature, freeze_blocks=args.freeze_blocks,
                      harsh=augment_config(args.harsh, base=HARSH, flag="--harsh"))
    run_dir = args.out or Path("runs") / args.model
    started = time.perf_counter()
    progress = train(cfg, run_dir, resume=args.resume, progress_bar=not args.no_progress)
    summary = {"run_dir": str(run_dir), "epochs": progress.epoch, "best_val_accuracy": progress.best_val_accuracy,
               "best_epoch": progress.best_epoch, "wall_seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(summary))
    return 0
