"""Real photos: how `predict` does on the pictures people actually take.

    python benchmarks/real_photos.py [--model M] [--detector D] [--threshold T] [--no-search] [--int8]
                                     [--photos DIR] [--out FILE]
    python benchmarks/real_photos.py --thresholds 0.90,0.92,0.94 [--model M]   # the same figures per threshold
    python benchmarks/real_photos.py --cross-validate [--folds 5] [--seed 0] [--thresholds GRID]
                                     [--objective penalty|targets] [--penalty 10] [--model A --model B ...]

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

``--cross-validate`` makes that choice honestly (``real_photos_cv.json``): every photo is scored
under every candidate (each ``--model`` at each threshold of the grid), the folder is split into
folds of whole source projects, and each fold is scored with the candidate chosen on the other
folds by the objective (see :mod:`traffic_signs.evaluation.crossval`). It prints the
cross-validated figures with 95% intervals beside the in-sample ones (the same choice made on all
photos) and their gap, and which design and threshold each fold chose. With several ``--model``
values the design is chosen per fold too. The networks read each photo once per design
(``Classifier.look``) and the reader decides at every threshold (``Classifier.decide``).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from traffic_signs import Classifier
from traffic_signs.benchmarking import cpu_name, real_photo_folder
from traffic_signs.errors import ImageError
from traffic_signs.evaluation import crossval
from traffic_signs.evaluation.metrics import wilson_interval
from traffic_signs.prediction.detect import box_iou as overlap
from traffic_signs.prediction.detect import on_labelled_sign

if TYPE_CHECKING:
    from traffic_signs.prediction.results import Result

RESULTS = Path(__file__).parent / "results"
FRAMINGS = ("crop", "medium", "scene")
# 0.5 to 0.995, finer where the shipped threshold and the trade it makes lie
CV_THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99,
                 0.995)


def photo_folder(given: Path | None) -> Path:
    folder = given or real_photo_folder()
    if not (folder / "labels.csv").is_file():
        raise SystemExit(f"{folder}: no labels.csv (pass --photos DIR or set TRAFFIC_SIGNS_REAL_PHOTOS)")
    return folder


def score_photo(classifier: Classifier, folder: Path, row: dict[str, str], predict_options: dict) -> dict[str, Any]:
    """One photo through `predict`, timed, and its outcome against the label."""
    start = time.perf_counter()
    try:
        result = classifier.predict(folder / row["file"], **predict_options)
    except ImageError as exc:
        return {"file": row["file"], "error": str(exc)}
    return judged(result, row, time.perf_counter() - start)


def outcomes_at(classifier: Classifier, folder: Path, row: dict[str, str], thresholds: list[float],
                predict_options: dict) -> list[dict[str, Any]]:
    """One photo's outcome at each "unknown sign" threshold: the networks read it once
    (``Classifier.look``), the reader decides at every threshold (``Classifier.decide``)."""
    search = predict_options.get("search")
    start = time.perf_counter()
    try:
        picture, evidence = classifier.look(folder / row["file"], search)
    except ImageError as exc:
        return [{"file": row["file"], "error": str(exc)}] * len(thresholds)
    seconds = time.perf_counter() - start
    return [judged(classifier.decide(picture, evidence, threshold), row, seconds) for threshold in thresholds]


def judged(result: Result, row: dict[str, str], seconds: float) -> dict[str, Any]:
    """A photo's answer against its label: right / wrong / unknown (or flagged, for a no-class
    sign), top-1, and how well the answer's box overlaps the labelled one."""
    truth = int(row["class_id"])
    answer = result.class_id
    outcome = ("right" if answer == truth else "wrong") if truth >= 0 else ("flagged" if answer is None else "wrong")
    if truth >= 0 and answer is None:
        outcome = "unknown"
    size = result.image_size
    box = result.box or (0, 0, size[0], size[1])
    box_iou, unknown_off_sign = None, None
    if row.get("box"):
        x0, y0, x1, y1 = (float(v) for v in row["box"].split())
        labelled = (x0 * size[0], y0 * size[1], x1 * size[0], y1 * size[1])
        box_iou = overlap(box, labelled)
        unknown_off_sign = sum(s.unknown and not on_labelled_sign(s.box, labelled) for s in result.signs)
    return {
        "file": row["file"], "set": row["set"], "framing": row["framing"], "class_id": truth,
        "answer": answer, "confidence": round(result.confidence, 4), "outcome": outcome,
        "top1": result.top_k[0]["class_id"] == truth if truth >= 0 else None,
        "iou": None if box_iou is None else round(box_iou, 3), "signs": len(result.signs),
        "unknown_off_sign": unknown_off_sign,
        "any_sign_right": any(s.class_id == truth for s in result.signs) if truth >= 0 else None,
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
        off_sign = [r["unknown_off_sign"] for r in rows if r["unknown_off_sign"] is not None]
        out["unknown_boxes_off_sign"] = sum(off_sign)  # "unknown sign" boxes that are not the labelled sign
        out["photos_with_unknown_off_sign"] = sum(n > 0 for n in off_sign)
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
    every = summary["all"]
    print(f"\"unknown sign\" boxes off the labelled sign: {every['unknown_boxes_off_sign']}, in "
          f"{every['photos_with_unknown_off_sign']} photos")
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
    per_photo = [outcomes_at(classifier, folder, row, thresholds, options) for row in rows]
    sweep = []
    for t, threshold in enumerate(thresholds):
        summary = summarise([o[t] for o in per_photo if "error" not in o[t]])
        figures = {f"{group}/{figure}": summary.get(group, {}).get(figure) for group, figure in HEADLINES}
        sweep.append({"threshold": threshold, **figures})
        print(f"{threshold:<9.4f}  " + "  ".join("          -" if v is None else f"{100 * v:>11.1f}"
                                                  for v in figures.values()))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": classifier.name, "cpu": cpu_name(), "photos": str(folder),
                               "sweep": sweep}, indent=1) + "\n")
    print(f"→ {out}")


CV_OPTIONS = ("cross_validate", "folds", "seed", "objective", "penalty")  # not in a plain run's JSON
OUTCOME_CODES = {"right": "R", "wrong": "W", "unknown": "U", "flagged": "F"}


def outcome_table(designs: dict[str, Classifier], folder: Path, rows: list[dict[str, str]],
                  thresholds: list[float], options: dict
                  ) -> tuple[crossval.OutcomeTable, list[list[dict[str, Any]]], list[dict[str, Any]]]:
    """Every photo through `predict` for every design at every threshold: the table the choice is
    made on, each candidate's scored photos (candidate-major), and the photos that could not be read."""
    candidates = [crossval.Candidate(design, threshold) for design in designs for threshold in thresholds]
    scored: list[list[dict[str, Any]]] = [[] for _ in candidates]
    for d, (design, classifier) in enumerate(designs.items()):
        start = time.perf_counter()
        for row in rows:
            for t, outcome in enumerate(outcomes_at(classifier, folder, row, thresholds, options)):
                scored[d * len(thresholds) + t].append(outcome)
        print(f"{design}: {len(rows)} photos x {len(thresholds)} thresholds in {time.perf_counter() - start:.0f} s")
    errors = {o["file"]: o for photos in scored for o in photos if "error" in o}
    scored = [[o for o in photos if o["file"] not in errors] for photos in scored]
    first = scored[0]
    table = crossval.OutcomeTable(
        tuple(candidates), np.array([[o["outcome"] for o in photos] for photos in scored]),
        np.array([[bool(o["top1"]) for o in photos] for photos in scored]),
        np.array([o["set"] for o in first]), np.array([o["class_id"] < 0 for o in first]))
    return table, scored, list(errors.values())


def objective_named(name: str, penalty: float) -> crossval.Objective:
    return {"penalty": crossval.penalty_objective, "targets": crossval.targets_objective}[name](penalty)


def print_cross_validation(result: crossval.CrossValidation, projects: np.ndarray, seed: int,
                           objective: crossval.Objective) -> None:
    """The headline: cross-validated figures beside the in-sample ones, and each fold's choice."""
    held_out, whole = crossval.figures(result.cross_validated), crossval.figures(result.in_sample_tally)
    print(f"cross-validated over {len(result.choices)} folds of whole source projects (seed {seed}); "
          f"objective: {objective.__doc__}")
    print(f"{'figure':<18}{'cross-validated (95% interval)':<36}{'in-sample':>10}{'gap':>8}   target")
    targets = {name: f"{'>=' if rule == 'at least' else '<='} {100 * bound:g}%"
               for name, rule, bound in crossval.TARGETS}
    for name, cv in held_out.items():
        if cv["share"] is None:
            continue
        low, high = cv["ci95"]
        cell = f"{100 * cv['share']:5.1f}% ({100 * low:.1f}-{100 * high:.1f}%) {cv['count']}/{cv['of']}"
        inside = whole[name]["share"]
        print(f"{name:<18}{cell:<36}{100 * inside:>9.1f}%{100 * (inside - cv['share']):>+8.1f}   "
              f"{targets.get(name, '')}")
    print(f"in-sample choice (made on all photos): {result.in_sample}, score {fmt_score(result.in_sample_score)}")
    print(f"{'fold':<6}{'projects':>9}{'photos':>8}{'no-class':>10}   {'chosen on the other folds':<34}{'score':>10}")
    for choice in result.choices:
        members = result.folds == choice.fold
        print(f"{choice.fold:<6}{len(set(projects[members])):>9}{int(members.sum()):>8}{choice.held_out['no_class']:>10}"
              f"   {str(choice.candidate):<34}{fmt_score(choice.training_score):>10}")


def fmt_score(score: tuple[float, ...]) -> str:
    return " / ".join(f"{value:g}" for value in score)


def cross_validation_json(result: crossval.CrossValidation, table: crossval.OutcomeTable,
                          scored: list[list[dict[str, Any]]], rows: dict[str, dict[str, str]],
                          objective: crossval.Objective) -> dict[str, Any]:
    """The result: figures, the choices, and every photo's held-out outcome (with its outcome under
    every candidate, so another objective can be tried without running the photos again)."""
    held_out, whole = crossval.figures(result.cross_validated), crossval.figures(result.in_sample_tally)
    photos = []
    for p, first in enumerate(scored[0]):
        chosen = scored[result.held_out[p]][p]
        candidate = table.candidates[result.held_out[p]]
        photos.append({
            "file": first["file"], "source_repo": rows[first["file"]]["source_repo"], "fold": int(result.folds[p]),
            "set": first["set"], "framing": first["framing"], "class_id": first["class_id"],
            "design": candidate.design, "threshold": candidate.threshold, "outcome": chosen["outcome"],
            "answer": chosen["answer"], "confidence": chosen["confidence"], "top1": chosen["top1"],
            "outcomes": "".join(OUTCOME_CODES[str(o)] for o in table.outcomes[:, p]),
        })
    return {
        "objective": objective.__doc__, "candidates": [str(c) for c in table.candidates],
        "outcome_codes": OUTCOME_CODES,
        "cross_validated": held_out, "in_sample": whole,
        "gap": {name: None if cv["share"] is None else round(whole[name]["share"] - cv["share"], 4)
                for name, cv in held_out.items()},
        "in_sample_choice": {"design": result.in_sample.design, "threshold": result.in_sample.threshold,
                             "score": list(result.in_sample_score)},
        "folds": [{"fold": c.fold, "photos": int((result.folds == c.fold).sum()), "no_class": c.held_out["no_class"],
                   "design": c.candidate.design, "threshold": c.candidate.threshold,
                   "training_score": list(c.training_score), "held_out": crossval.figures(c.held_out)}
                  for c in result.choices],
        "photos": photos,
    }


def run_cross_validation(args: argparse.Namespace, folder: Path, rows: list[dict[str, str]], options: dict) -> None:
    """``--cross-validate``: the outcome table, the grouped folds, the choice per fold, the report."""
    if rows and "source_repo" not in rows[0]:
        raise SystemExit(f"{folder / 'labels.csv'}: no source_repo column to group photos by")
    thresholds = sorted({float(t) for t in args.thresholds.split(",")}) if args.thresholds else list(CV_THRESHOLDS)
    if not all(0.0 <= t <= 1.0 for t in thresholds):
        raise SystemExit(f"--thresholds {args.thresholds}: thresholds are confidences between 0 and 1")
    models = args.model or [None]
    if len(set(models)) != len(models):
        raise SystemExit("--model: a design is named twice")
    start = time.perf_counter()
    designs = {}
    for model in models:
        classifier = Classifier.load(model, int8=args.int8, detector=args.detector)
        classifier.predict(folder / rows[0]["file"], **options)  # warm-up: the first run allocates
        designs[classifier.name if model is None else str(model)] = classifier
    table, scored, errors = outcome_table(designs, folder, rows, thresholds, options)
    by_file = {row["file"]: row for row in rows}
    projects = np.array([by_file[o["file"]]["source_repo"] for o in scored[0]])
    try:
        folds = crossval.grouped_folds(projects, args.folds, args.seed, table.no_class)
    except ValueError as exc:
        raise SystemExit(f"--folds {args.folds}: {exc}") from exc
    objective = objective_named(args.objective, args.penalty)
    result = crossval.cross_validate(table, folds, objective)
    seconds = time.perf_counter() - start
    print_cross_validation(result, projects, args.seed, objective)
    print(f"wall time {seconds:.0f} s ({cpu_name()})")
    out = args.out if args.out != RESULTS / "real_photos.json" else RESULTS / "real_photos_cv.json"
    report = {"designs": list(designs), "cpu": cpu_name(), "photos_folder": str(folder), "folds_count": args.folds,
              "seed": args.seed, "thresholds": thresholds, "options": {"no_search": args.no_search, "int8": args.int8,
                                                                       "detector": args.detector},
              "wall_seconds": round(seconds, 1), "errors": errors,
              **cross_validation_json(result, table, scored, by_file, objective)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(f"→ {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, action="append",
                        help="shipped model name, run folder, model .json or .onnx (with --cross-validate: once per "
                        "design to choose among)")
    parser.add_argument("--detector", default=None, help="sign detector: shipped name, run folder or .json (default: "
                        "the shipped one)")
    parser.add_argument("--threshold", type=float, default=None, help="unknown-sign threshold (default: the model's)")
    parser.add_argument("--thresholds", default=None, metavar="T,T,...",
                        help="score the folder at each of these thresholds (writes real_photos_thresholds.json); "
                        "with --cross-validate, the thresholds to choose among (default: "
                        f"{','.join(f'{t:g}' for t in CV_THRESHOLDS)})")
    parser.add_argument("--no-search", action="store_true", help="classify every picture whole, as `predict` does")
    parser.add_argument("--int8", action="store_true")
    parser.add_argument("--photos", type=Path, default=None, help="folder with labels.csv and the images")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N photos")
    parser.add_argument("--out", type=Path, default=RESULTS / "real_photos.json")
    parser.add_argument("--gallery", type=Path, default=None, help="also draw the failures into this image file")
    cv = parser.add_argument_group("cross-validation (see traffic_signs.evaluation.crossval)")
    cv.add_argument("--cross-validate", action="store_true",
                    help="choose the threshold (and the design, with several --model) on some source projects and "
                    "score it on the others (writes real_photos_cv.json)")
    cv.add_argument("--folds", type=int, default=5, help="folds of whole source projects (default 5)")
    cv.add_argument("--seed", type=int, default=0, help="orders projects of equal weight when dealing folds")
    cv.add_argument("--objective", choices=("penalty", "targets"), default="penalty",
                    help="penalty: right answers - PENALTY x wrong answers (a named no-class sign is wrong); "
                    "targets: the project's targets met, then the penalty objective (default: penalty)")
    cv.add_argument("--penalty", type=float, default=crossval.DEFAULT_PENALTY,
                    help=f"what one wrong answer costs in right answers (default {crossval.DEFAULT_PENALTY:g})")
    args = parser.parse_args()
    folder = photo_folder(args.photos)
    rows = list(csv.DictReader((folder / "labels.csv").open(newline="")))[: args.limit]
    options = {"search": False} if args.no_search else {}
    if args.cross_validate:
        if args.threshold is not None or args.gallery:
            parser.error("--cross-validate chooses the threshold itself and draws no gallery")
        run_cross_validation(args, folder, rows, options)
        return
    if args.model and len(args.model) > 1:
        parser.error("several --model values only with --cross-validate")
    args.model = args.model[0] if args.model else None
    classifier = Classifier.load(args.model, threshold=args.threshold, int8=args.int8, detector=args.detector)
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
        "model": classifier.name, "threshold": classifier.threshold,
        "options": {k: v for k, v in vars(args).items() if k not in CV_OPTIONS} | {"out": str(args.out),
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
