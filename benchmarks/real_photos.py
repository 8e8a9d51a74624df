"""Real photos: how `predict` does on the pictures people actually take.

    python benchmarks/real_photos.py [--model M] [--detector D] [--threshold T] [--no-search] [--int8]
                                     [--photos DIR] [--out FILE]
    python benchmarks/real_photos.py --thresholds 0.90,0.92,0.94 [--model M]   # the same figures per threshold

Scores the product's own `predict` (decode included) on a folder of labelled real photos and
web images of signs: ``labels.csv`` with ``file,set,class_id,framing,box`` (``class_id`` -1 for a
sign with no GTSRB class, whose right answer is "unknown sign"; ``set`` german|nongerman;
``framing`` crop|medium|scene; ``box`` the main sign as fractions "x1 y1 x2 y2"). The default
folder is ``$TRAFFIC_SIGNS_REAL_PHOTOS`` or ``../shared/data/real-photos`` beside the project.

For each set and framing: answered right / answered wrong / unknown (signs with a GTSRB class),
top-1 (the best sign's first class, threshold ignored), no-class signs flagged unknown, and the
share of labelled boxes that the answer's box overlaps with IoU >= 0.5 (the answer's box is the
whole picture when it has none). Latency is per photo, file read and decode included, one
photo at a time. Writes the summary and every photo's outcome to
``benchmarks/results/real_photos.json`` so two designs can be compared photo by photo.

``--thresholds`` runs the folder once per "unknown sign" threshold and prints the headline
figures side by side (``real_photos_thresholds.json``): the threshold trades German signs
answered right against signs with no GTSRB class flagged unknown, and validation, which holds
no such signs, cannot see the second half of that trade.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from traffic_signs import Classifier
from traffic_signs.benchmarking import cpu_name
from traffic_signs.errors import ImageError
from traffic_signs.evaluation.metrics import wilson_interval
from traffic_signs.prediction.detect import box_iou as overlap

RESULTS = Path(__file__).parent / "results"
DEFAULT_PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real-photos"
FRAMINGS = ("crop", "medium", "scene")


def photo_folder(given: Path | None) -> Path:
    folder = given or Path(os.environ.get("TRAFFIC_SIGNS_REAL_PHOTOS", DEFAULT_PHOTOS))
    if not (folder / "labels.csv").is_file():
        raise SystemExit(f"{folder}: no labels.csv (pass --photos DIR or set TRAFFIC_SIGNS_REAL_PHOTOS)")
    return folder


def score_photo(classifier: Classifier, folder: Path, row: dict[str, str], predict_options: dict) -> dict[str, Any]:
    """One photo through `predict`, timed, and its outcome against the label."""
    path = folder / row["file"]
    start = time.perf_counter()
    try:
        prediction = classifier.predict(path, **predict_options)
    except ImageError as exc:
        return {"file": row["file"], "error": str(exc)}
    seconds = time.perf_counter() - start
    truth = int(row["class_id"])
    answer = prediction.class_id
    outcome = ("right" if answer == truth else "wrong") if truth >= 0 else ("flagged" if answer is None else "wrong")
    if truth >= 0 and answer is None:
        outcome = "unknown"
    size = prediction.image_size
    box = prediction.box or (0, 0, size[0], size[1])
    box_iou = None
    if row.get("box"):
        x0, y0, x1, y1 = (float(v) for v in row["box"].split())
        box_iou = overlap(box, (x0 * size[0], y0 * size[1], x1 * size[0], y1 * size[1]))
    signs = getattr(prediction, "signs", None) or []
    return {
        "file": row["file"], "set": row["set"], "framing": row["framing"], "class_id": truth,
        "answer": answer, "confidence": round(prediction.confidence, 4), "outcome": outcome,
        "top1": prediction.top_k[0]["class_id"] == truth if truth >= 0 else None,
        "iou": None if box_iou is None else round(box_iou, 3), "signs": len(signs),
        "any_sign_right": any(s.class_id == truth for s in signs) if truth >= 0 else None,
        "seconds": round(seconds, 5),
    }


def interval(successes: int, total: int) -> list[float]:
    """The 95% Wilson interval of a share, rounded as the shares are."""
    return [round(bound, 4) for bound in wilson_interval(successes, total)]


def summarise(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """Shares per group: right / wrong / unknown, top-1, flagged, box IoU >= 0.5; for right and
    flagged also their 95% interval, since one photo of 32 moves a share 3 points."""
    def shares(rows: list[dict[str, Any]]) -> dict[str, Any]:
        known = [r for r in rows if r["class_id"] >= 0]
        no_class = [r for r in rows if r["class_id"] < 0]
        boxed = [r for r in rows if r["iou"] is not None and r["framing"] != "crop"]
        out: dict[str, Any] = {"photos": len(rows), "with_class": len(known), "no_class": len(no_class)}
        if known:
            counts = {outcome: sum(r["outcome"] == outcome for r in known) for outcome in ("right", "wrong", "unknown")}
            for outcome, count in counts.items():
                out[outcome] = round(count / len(known), 4)
            out["top1"] = round(sum(r["top1"] for r in known) / len(known), 4)
            out["right_ci95"] = interval(counts["right"], len(known))
        if no_class:
            flagged = sum(r["outcome"] == "flagged" for r in no_class)
            out["no_class_flagged"] = round(flagged / len(no_class), 4)
            out["no_class_flagged_ci95"] = interval(flagged, len(no_class))
        if boxed:
            out["box_iou_0.5"] = round(sum(r["iou"] >= 0.5 for r in boxed) / len(boxed), 4)
            out["boxes"] = len(boxed)
        return out

    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in outcomes:
        for key in ("all", r["set"], f"{r['set']}/{r['framing']}", f"framing/{r['framing']}"):
            groups[key].append(r)
        if r["framing"] != "crop":
            groups[f"{r['set']}/medium+scene"].append(r)
    summary = {key: shares(rows) for key, rows in sorted(groups.items())}
    seconds = sorted(r["seconds"] for r in outcomes)
    summary["latency_ms"] = {
        "p50": round(1000 * statistics.median(seconds), 2),
        "p99": round(1000 * float(np.percentile(seconds, 99)), 2),
        "max": round(1000 * seconds[-1], 2),
        "total_s": round(sum(seconds), 2),
    }
    return summary


def print_table(summary: dict[str, Any]) -> None:
    print(f"{'group':<26}{'photos':>7}{'right':>8}{'wrong':>8}{'unknown':>9}{'top-1':>8}{'flagged':>9}{'IoU>=.5':>9}")
    for key, s in summary.items():
        if key == "latency_ms":
            continue
        def pct(name: str, s: dict = s) -> str:
            return f"{100 * s[name]:.1f}%" if name in s else "-"
        print(f"{key:<26}{s['photos']:>7}{pct('right'):>8}{pct('wrong'):>8}{pct('unknown'):>9}{pct('top1'):>8}"
              f"{pct('no_class_flagged'):>9}{pct('box_iou_0.5'):>9}")
    for key in ("german", "nongerman", "all"):
        s = summary.get(key, {})
        if "right_ci95" in s:
            low, high = s["right_ci95"]
            print(f"{key}: right {100 * s['right']:.1f}% (95% interval {100 * low:.1f}-{100 * high:.1f}%)", end="")
            if "no_class_flagged_ci95" in s:
                low, high = s["no_class_flagged_ci95"]
                print(f", flagged {100 * s['no_class_flagged']:.1f}% ({100 * low:.1f}-{100 * high:.1f}%)", end="")
            print()
    lat = summary["latency_ms"]
    print(f"latency per photo: p50 {lat['p50']} ms, p99 {lat['p99']} ms, max {lat['max']} ms, total {lat['total_s']} s")


def failure_gallery(folder: Path, outcomes: list[dict[str, Any]], path: Path, side: int = 160) -> int:
    """A contact sheet of every photo answered wrong (red) or not answered (orange), with the truth
    (green) and the answer. Kept out of the repository: the photos are other people's work."""
    from PIL import Image, ImageDraw

    from traffic_signs.classes import CLASS_NAMES

    failed = [o for o in outcomes if o["outcome"] in ("wrong", "unknown")]
    columns = 8
    sheet = Image.new("RGB", (columns * side, max(1, -(-len(failed) // columns)) * (side + 28)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, o in enumerate(failed):
        photo = Image.open(folder / o["file"]).convert("RGB")
        photo.thumbnail((side, side))
        x, y = (i % columns) * side, (i // columns) * (side + 28)
        sheet.paste(photo, (x, y))
        truth = CLASS_NAMES[o["class_id"]] if o["class_id"] >= 0 else "no class"
        answer = CLASS_NAMES[o["answer"]] if o["answer"] is not None else "unknown"
        colour = (200, 0, 0) if o["outcome"] == "wrong" else (230, 120, 0)
        draw.text((x + 2, y + side), f"{truth[:26]}", fill=(0, 120, 0))
        draw.text((x + 2, y + side + 12), f"-> {answer[:23]} {o['confidence']:.2f}", fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return len(failed)


HEADLINES = (("german", "right"), ("german", "wrong"), ("nongerman", "right"), ("nongerman", "wrong"),
             ("all", "no_class_flagged"), ("all", "top1"), ("all", "box_iou_0.5"))


def threshold_sweep(classifier: Classifier, folder: Path, rows: list[dict[str, str]], options: dict,
                    thresholds: list[float], out: Path) -> None:
    """The headline figures at each threshold, one row each, printed and written to ``out``."""
    print("threshold  " + "  ".join(f"{group[:3]}/{figure[:7]:<7}" for group, figure in HEADLINES))
    sweep = []
    for threshold in thresholds:
        classifier.threshold = threshold
        outcomes = [o for o in (score_photo(classifier, folder, row, options) for row in rows) if "error" not in o]
        summary = summarise(outcomes)
        figures = {f"{group}/{figure}": summary[group][figure] for group, figure in HEADLINES}
        sweep.append({"threshold": threshold, **figures})
        print(f"{threshold:<9.4f}  " + "  ".join(f"{100 * v:>11.1f}" for v in figures.values()))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": classifier.name, "cpu": cpu_name(), "photos": str(folder),
                               "sweep": sweep}, indent=1) + "\n")
    print(f"→ {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="shipped model name, run folder, model .json or .onnx")
    parser.add_argument("--detector", default=None, help="sign detector: shipped name, run folder or .json (default: "
                        "the shipped one)")
    parser.add_argument("--threshold", type=float, default=None, help="unknown-sign threshold (default: the model's)")
    parser.add_argument("--thresholds", default=None, metavar="T,T,...",
                        help="score the folder at each of these thresholds (writes real_photos_thresholds.json)")
    parser.add_argument("--no-search", action="store_true", help="classify every picture whole, as `predict` does")
    parser.add_argument("--int8", action="store_true")
    parser.add_argument("--photos", type=Path, default=None, help="folder with labels.csv and the images")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N photos")
    parser.add_argument("--out", type=Path, default=RESULTS / "real_photos.json")
    parser.add_argument("--gallery", type=Path, default=None, help="also draw the failures into this image file")
    args = parser.parse_args()
    folder = photo_folder(args.photos)
    rows = list(csv.DictReader((folder / "labels.csv").open(newline="")))[: args.limit]
    classifier = Classifier.load(args.model, threshold=args.threshold, int8=args.int8, detector=args.detector)
    options = {"search": False} if args.no_search else {}
    classifier.predict(folder / rows[0]["file"], **options)  # warm-up: the first run allocates
    if args.thresholds:
        out = args.out if args.out != RESULTS / "real_photos.json" else RESULTS / "real_photos_thresholds.json"
        threshold_sweep(classifier, folder, rows, options, [float(t) for t in args.thresholds.split(",")], out)
        return
    outcomes = [score_photo(classifier, folder, row, options) for row in rows]
    errors = [o for o in outcomes if "error" in o]
    outcomes = [o for o in outcomes if "error" not in o]
    summary = summarise(outcomes)
    print_table(summary)
    result = {
        "model": classifier.name, "threshold": classifier.threshold, "options": vars(args) | {"out": str(args.out),
                                                                                            "photos": str(folder)},
        "cpu": cpu_name(), "errors": errors, "summary": summary, "photos": outcomes,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(f"→ {args.out}  ({result['cpu']})")
    if args.gallery:
        print(f"{failure_gallery(folder, outcomes, args.gallery)} failures drawn → {args.gallery}")


if __name__ == "__main__":
    main()
