"""A contact sheet of the drawn signs, and how well the shipped model reads the class drawings.

    python benchmarks/drawn_gallery.py --out gallery.png [--per-design 6] [--gtsrb]
    python benchmarks/drawn_gallery.py --fidelity 40 [--model M]

The sheet shows every GTSRB class as ``--drawn-designs every`` draws it (one row per class,
``--per-design`` drawings, with ``--gtsrb`` a real training crop first), then every German
sign design that ``--outliers designs`` draws as "no class" (``UNKNOWN_DESIGNS``), so a person
can see at a glance whether a pictogram reads as its sign.

``--fidelity N`` draws N signs of each class (of the classes whose design has a mirrored
variant, the one GTSRB's photos show: ``drawn_signs.AS_IN_GTSRB``), shows them as GTSRB crops show a sign (on a
plain background, 32 pixels, mildly blurred: ``drawn_signs.on_plain_background``) and prints
how many the model reads as their class at top-1, per class: the model has seen photos, not
drawings, so this measures whether a drawing looks like its sign, not how well the model
generalises. It then shows the German signs without a class the same way and prints the
share the model flags as unknown, and what it names them otherwise. Writes
benchmarks/results/drawn_fidelity.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from traffic_signs.classes import CLASS_NAMES, NUM_CLASSES
from traffic_signs.data.drawn_signs import (
    AS_IN_GTSRB,
    EVERY_CLASS_DESIGNS,
    UNKNOWN_DESIGNS,
    on_plain_background,
    render,
)
from traffic_signs.data.pictograms import font

RESULTS = Path(__file__).parent / "results"
CELL = 64
LABEL = 14


def _cell(drawing: np.ndarray) -> Image.Image:
    """A drawing over a mid-grey checkerboard, so its outline shows."""
    checks = (np.indices((CELL, CELL)).sum(0) // 8 % 2) * 30 + 110
    board = Image.fromarray(np.repeat(checks[..., None], 3, axis=2).astype(np.uint8))
    sign = Image.fromarray(drawing)
    board.paste(sign, (0, 0), sign)
    return board


def _row(label: str, cells: list[Image.Image], width: int) -> Image.Image:
    row = Image.new("RGB", (width, CELL + LABEL), (255, 255, 255))
    for k, cell in enumerate(cells):
        row.paste(cell, (k * (CELL + 2), LABEL))
    ImageDraw.Draw(row).text((2, 1), label, fill=(0, 0, 0), font=font(11))
    return row


def gtsrb_examples(data_dir: str | None) -> dict[int, np.ndarray]:
    """One sharp training crop per class (the one with most contrast among the first 200)."""
    from traffic_signs.data.cache import load_split

    train = load_split("train", data_dir, 32)
    examples = {}
    for class_id in range(NUM_CLASSES):
        picks = np.flatnonzero(train.labels == class_id)[:200]
        best = picks[np.argmax(train.images[picks].reshape(len(picks), -1).std(1))]
        crop = Image.fromarray(train.images[best]).resize((CELL, CELL), Image.Resampling.BICUBIC)
        examples[class_id] = np.dstack([np.asarray(crop), np.full((CELL, CELL), 255, np.uint8)])
    return examples


def contact_sheet(per_design: int, seed: int, examples: dict[int, np.ndarray] | None) -> Image.Image:
    rng = np.random.default_rng(seed)
    columns = per_design + (1 if examples else 0)
    width = max(columns, 2 * per_design) * (CELL + 2)
    rows = []
    for class_id in range(NUM_CLASSES):
        drawings = [render(*EVERY_CLASS_DESIGNS[class_id], CELL, rng) for _ in range(per_design)]
        first = [examples[class_id]] if examples else []
        rows.append(_row(f"{class_id} {CLASS_NAMES[class_id]}", [_cell(d) for d in first + drawings], width))
    names = list(UNKNOWN_DESIGNS)
    for k in range(0, len(names), 2):
        pair = names[k : k + 2]
        cells = [_cell(render(*UNKNOWN_DESIGNS[name], CELL, rng)) for name in pair for _ in range(per_design)]
        rows.append(_row("no class: " + " | ".join(pair), cells, width))
    sheet = Image.new("RGB", (width, sum(r.height for r in rows)), (255, 255, 255))
    top = 0
    for row in rows:
        sheet.paste(row, (0, top))
        top += row.height
    return sheet


def fidelity(model: str | None, per_class: int, seed: int) -> dict[str, object]:
    """Per class, the share of its drawings the model reads as that class (top-1), and what it
    reads most often instead."""
    from traffic_signs import Classifier

    classifier = Classifier.load(model)
    rng = np.random.default_rng(seed)
    per_class_top1, confused = {}, {}
    for class_id in range(NUM_CLASSES):
        drawings = np.stack([render(*AS_IN_GTSRB[class_id], 64, rng) for _ in range(per_class)])
        answers = classifier.probabilities(on_plain_background(drawings, rng)).argmax(1)
        per_class_top1[class_id] = float((answers == class_id).mean())
        wrong = answers[answers != class_id]
        confused[class_id] = int(np.bincount(wrong).argmax()) if len(wrong) else None
    mean = float(np.mean(list(per_class_top1.values())))
    print(f"{'class':<58} {'top-1':>6}  most often read instead")
    for class_id, share in per_class_top1.items():
        instead = confused[class_id]
        other = f"{instead} {CLASS_NAMES[instead]}" if instead is not None else ""
        print(f"{class_id:>2} {CLASS_NAMES[class_id]:<55} {share:>6.0%}  {other}")
    read = sum(share >= 0.5 for share in per_class_top1.values())
    print(f"mean top-1 {mean:.1%}; classes read as themselves in at least half their drawings: {read}/{NUM_CLASSES}")
    unknown = unknown_readings(classifier, per_class, rng)
    return {"model": classifier.name, "per_class": per_class, "seed": seed, "mean_top1": mean,
            "classes_at_least_half": read, "top1": per_class_top1, "most_often_instead": confused,
            "threshold": classifier.threshold, "unknown_designs": unknown}


def unknown_readings(classifier, per_design: int, rng: np.random.Generator) -> dict[str, dict[str, object]]:
    """Per design of a sign without a class: the share the model flags as unknown (below its
    threshold), and the class it names most often with its median confidence."""
    print(f"\n{'no class (--outliers designs)':<28} {'flagged':>8}  most often named")
    readings = {}
    for name, design in UNKNOWN_DESIGNS.items():
        drawings = np.stack([render(*design, 64, rng) for _ in range(per_design)])
        probabilities = classifier.probabilities(on_plain_background(drawings, rng))
        answers, confidence = probabilities.argmax(1), probabilities.max(1)
        named = int(np.bincount(answers).argmax())
        median = float(np.median(confidence[answers == named]))
        flagged = float((confidence < classifier.threshold).mean())
        readings[name] = {"flagged": flagged, "most_often_named": named, "median_confidence": median}
        print(f"{name:<28} {flagged:>8.0%}  {named} {CLASS_NAMES[named]} ({median:.2f})")
    print(f"mean flagged {np.mean([r['flagged'] for r in readings.values()]):.1%} "
          f"(threshold {classifier.threshold:.3f})")
    return readings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="write the contact sheet to this PNG")
    parser.add_argument("--per-design", type=int, default=6)
    parser.add_argument("--gtsrb", action="store_true", help="show a real training crop before each class's drawings")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--fidelity", type=int, default=0, metavar="N",
                        help="classify N drawings per class with the model and print per-class top-1")
    parser.add_argument("--model", default=None, help="exported run folder or model .json (default: the shipped model)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, default=RESULTS / "drawn_fidelity.json")
    args = parser.parse_args()
    if not args.out and not args.fidelity:
        parser.error("nothing to do: give --out FILE.png and/or --fidelity N")
    if args.out:
        examples = gtsrb_examples(args.data_dir) if args.gtsrb else None
        contact_sheet(args.per_design, args.seed, examples).save(args.out)
        print(f"wrote {args.out}")
    if args.fidelity:
        summary = fidelity(args.model, args.fidelity, args.seed)
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
