"""Classify image files: paths, folders (recursive) and globs, with the shipped model by default.

  traffic-signs predict photo.jpg
  traffic-signs predict photos/ 'more/*.png' --format json --top-k 3
  traffic-signs predict street.jpg --no-search      # classify the whole picture as one crop
  traffic-signs predict street.jpg --annotate street-signs.jpg   # the picture, every sign boxed and named
  traffic-signs predict photos/ --annotate drawn/    # one annotated picture per photo, in a folder

Every sign in a picture is found and named: the table prints one line per sign when there
are several, JSON lists them under "signs" (most confident first) while the top-level fields
describe the main one. A file that cannot be read is reported (`{"file", "error"}` in JSON)
and the others still run; the exit code is 1 if any file failed. ``--annotate`` draws what
was found (``Result.plot``) on the decoded picture: one picture to a .jpg, .png or .webp file,
several into a folder as ``<name>.jpg``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traffic_signs.errors import TrafficSignsError
from traffic_signs.files import staged
from traffic_signs.inputs import expand_paths
from traffic_signs.prediction.video_cli import add_video_arguments, clip_options_given, is_video_run, run_video

if TYPE_CHECKING:
    from traffic_signs.prediction.results import FileErrorJSON, Result

    Answer = Result | FileErrorJSON

PICTURE_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files, folders or glob patterns")
    parser.add_argument("--model", default=None, help="shipped model name, run folder, model .json or .onnx")
    parser.add_argument("--int8", action="store_true", help="run the model's 8-bit integer export (faster)")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--format", choices=["table", "json", "csv"], default="table")
    parser.add_argument("--threshold", type=float, default=None,
                        help="unknown-sign threshold on calibrated confidence (default: the model's)")
    parser.add_argument("--no-search", action="store_true",
                        help="classify the whole image as one crop (do not look for the signs in it)")
    parser.add_argument("--detector", default=None,
                        help="sign detector: shipped name, run folder or .json (default: the shipped one)")
    parser.add_argument("--annotate", type=Path, default=None, metavar="OUT",
                        help="draw every sign found, boxed and named: one picture to a .jpg, .png or .webp "
                        "file, several into a folder; a clip to an H.264 .mp4 (one clip only)")
    add_video_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if is_video_run(args):
        return run_video(args)
    # here, not at the top: --help stays fast without ONNX Runtime and the prediction modules
    from traffic_signs.prediction.reader import Classifier

    _refuse_clip_options(args)
    entries = expand_paths(args.paths)
    drawn_to = annotation_paths(args.annotate, [file for file, _ in entries])  # before any work: a bad OUT fails fast
    classifier = Classifier.load(args.model, threshold=args.threshold, int8=args.int8, detector=args.detector)
    options = {"top_k": args.top_k, "search": False if args.no_search else None}
    answers = [classifier.predict_or_error(file, file, **options) if problem is None
               else {"file": file, "error": problem, "kind": "image"} for file, problem in entries]
    {"json": _print_json, "csv": _print_csv, "table": _print_table}[args.format](answers)
    drawn = [save_annotated(answer, drawn_to[answer.file]) for answer in answers if not isinstance(answer, dict)
             and answer.file in drawn_to]
    if drawn:
        print(f"annotated: {len(drawn)} picture{'' if len(drawn) == 1 else 's'} -> {args.annotate}", file=sys.stderr)
    return 1 if any(isinstance(answer, dict) for answer in answers) else 0


def _refuse_clip_options(args: argparse.Namespace) -> None:
    """Options that only clips use are an error with pictures, not silently ignored."""
    if given := clip_options_given(args):
        raise TrafficSignsError(f"{', '.join(given)}: only for clips (.mp4 .m4v .mov .mkv .webm .avi, or a folder "
                                "with --video), and these paths are pictures")


def annotation_paths(out: Path | None, files: list[str]) -> dict[str, Path]:
    """Where ``--annotate OUT`` writes each picture's drawing: OUT itself when it names one picture
    file (.jpg .jpeg .png .webp), else ``OUT/<name>.jpg``, numbered when two pictures share a name."""
    if out is None:
        return {}
    suffix = out.suffix.lower()
    if suffix and not out.is_dir():
        if suffix not in PICTURE_FORMATS:
            raise TrafficSignsError(f"--annotate {out}: write a picture as {', '.join(PICTURE_FORMATS)}, "
                                    "or name a folder for several")
        if len(files) != 1:
            raise TrafficSignsError(f"--annotate {out}: {len(files)} pictures go into a folder; name a folder, "
                                    "not a picture file")
        return {files[0]: out}
    paths: dict[str, Path] = {}
    taken: set[str] = set()
    for file in files:
        stem, number = Path(file).stem, 1
        name = f"{stem}.jpg"
        while name in taken:
            number += 1
            name = f"{stem}-{number}.jpg"
        taken.add(name)
        paths[file] = out / name
    return paths


def save_annotated(result: Result, path: Path) -> Path:
    """The picture with its signs drawn (``Result.plot``), written whole or not at all."""
    picture_format = PICTURE_FORMATS[path.suffix.lower()]
    with staged(path) as tmp:
        result.plot().save(tmp, format=picture_format, **({"quality": 90} if picture_format == "JPEG" else {}))
    return path


def _print_json(answers: list[Answer]) -> None:
    print(json.dumps([_json(answer) for answer in answers], indent=2))


def _print_csv(answers: list[Answer]) -> None:
    writer = csv.writer(sys.stdout)
    writer.writerow(["file", "class_id", "label", "confidence", "unknown", "box", "signs", "error"])
    for r in map(_json, answers):
        box = " ".join(map(str, r["box"])) if r.get("box") else ""
        writer.writerow([r["file"], r.get("class_id", ""), r.get("label", ""), r.get("confidence", ""),
                         r.get("unknown", ""), box, len(r.get("signs", [])), r.get("error", "")])


def _print_table(answers: list[Answer]) -> None:
    for answer in answers:
        print(f"{answer['file']}: ERROR {answer['error']}" if isinstance(answer, dict) else answer.describe())


def _json(answer: Answer) -> dict[str, Any]:
    return dict(answer) if isinstance(answer, dict) else dict(answer.to_dict())
