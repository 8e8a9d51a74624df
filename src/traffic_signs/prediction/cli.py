"""Classify image files: paths, folders (recursive) and globs, with the shipped model by default.

  traffic-signs predict photo.jpg
  traffic-signs predict photos/ 'more/*.png' --format json --top-k 3
  traffic-signs predict street.jpg --no-search      # classify the whole picture as one crop

Every sign in a picture is found and named: the table prints one line per sign when there
are several, JSON lists them under "signs" (most confident first) while the top-level fields
describe the main one. A file that cannot be read is reported (`{"file", "error"}` in JSON)
and the others still run; the exit code is 1 if any file failed.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import re
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from traffic_signs.prediction.video_cli import add_video_arguments, is_video_run, run_video

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".pbm", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


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
    add_video_arguments(parser)


Entry = tuple[str, str | None]  # a file to classify, or a path and why it cannot be


def expand_paths(patterns: list[str]) -> list[Entry]:
    """Files named directly, found in folders (recursively) or matched by globs, in order.

    Folders and ``**`` globs are walked without following symlinked folders (a symlink loop
    cannot make the walk endless); a folder or path that cannot be read becomes an error entry
    and the run goes on.
    """
    entries: list[Entry] = []
    for pattern in patterns:
        try:
            info = os.stat(pattern)
        except FileNotFoundError:
            info = None
        except OSError as exc:
            entries.append((pattern, f"{pattern}: cannot read ({exc.strerror or exc})"))
            continue
        if info is not None and stat.S_ISDIR(info.st_mode):
            entries += _walk(pattern, lambda path: Path(path).suffix.lower() in IMAGE_SUFFIXES)
        elif info is not None:
            entries.append((pattern, None))
        else:
            matches = _glob(pattern)
            entries += matches if matches else [(pattern, None)]  # a missing file is reported as an error
    return entries


def _walk(folder: str, wanted: Callable[[str], bool]) -> list[Entry]:
    files: list[str] = []
    problems: list[Entry] = []

    def unreadable(exc: OSError) -> None:
        where = exc.filename or folder
        problems.append((where, f"{where}: cannot read folder ({exc.strerror or exc})"))

    for root, dirs, names in os.walk(folder, onerror=unreadable):  # followlinks=False
        dirs.sort()
        files += [path for name in names if wanted(path := os.path.join(root, name))]
    return [(file, None) for file in sorted(files)] + problems


def _glob(pattern: str) -> list[Entry]:
    if "**" not in pattern:
        return [(match, None) for match in sorted(glob.glob(pattern))]
    pattern = os.path.normpath(pattern)
    parts = Path(pattern).parts
    fixed = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    base = str(Path(*parts[:fixed])) if fixed else "."
    if not os.path.isdir(base):
        return []
    matcher = re.compile(_glob_regex(pattern))
    entries = _walk(base, lambda path: matcher.fullmatch(os.path.normpath(path)) is not None)
    return [(os.path.normpath(path), problem) for path, problem in entries]


def _glob_regex(pattern: str) -> str:
    """A glob with ``**`` (any number of folders), ``*``, ``?`` and ``[...]`` as a regex on paths."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (close := pattern.find("]", i + 2)) > 0:
            members = pattern[i + 1 : close].replace("\\", "\\\\")
            out.append("[" + ("^" + members[1:] if members.startswith("!") else members) + "]")
            i = close + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def classify_files(classifier, entries: list[Entry], top_k: int, search: bool | None) -> list[dict[str, Any]]:
    from traffic_signs.errors import ImageError

    results = []
    for file, problem in entries:
        if problem is not None:
            results.append({"file": file, "error": problem})
            continue
        try:
            results.append(classifier.predict(file, top_k=top_k, search=search, name=file).to_dict())
        except ImageError as exc:
            results.append({"file": file, "error": str(exc)})
    return results


def run(args: argparse.Namespace) -> int:
    if is_video_run(args):
        return run_video(args)
    from traffic_signs.prediction.classifier import Classifier

    classifier = Classifier.load(args.model, threshold=args.threshold, int8=args.int8, detector=args.detector)
    results = classify_files(classifier, expand_paths(args.paths), args.top_k, False if args.no_search else None)
    {"json": _print_json, "csv": _print_csv, "table": _print_table}[args.format](results)
    return 1 if any("error" in r for r in results) else 0


def _print_json(results: list[dict[str, Any]]) -> None:
    print(json.dumps(results, indent=2))


def _print_csv(results: list[dict[str, Any]]) -> None:
    writer = csv.writer(sys.stdout)
    writer.writerow(["file", "class_id", "label", "confidence", "unknown", "box", "signs", "error"])
    for r in results:
        box = " ".join(map(str, r["box"])) if r.get("box") else ""
        writer.writerow([r["file"], r.get("class_id", ""), r.get("label", ""), r.get("confidence", ""),
                         r.get("unknown", ""), box, len(r.get("signs", [])), r.get("error", "")])


def _print_table(results: list[dict[str, Any]]) -> None:
    for r in results:
        if "error" in r:
            print(f"{r['file']}: ERROR {r['error']}")
            continue
        signs = r.get("signs", [])
        if len(signs) > 1:
            print(f"{r['file']}: {len(signs)} signs")
            for sign in signs:
                print(f"    {_describe(sign)}")
        else:
            print(f"{r['file']}: {_describe(r)}")


def _describe(answer: dict[str, Any]) -> str:
    """' 14 Stop (99.2%)  box (x0, y0, x1, y1)', or '  ? unknown sign (...)'."""
    where = f"  box {tuple(answer['box'])}" if answer.get("box") else ""
    ident = "  ?" if answer["unknown"] else f"{answer['class_id']:>3}"
    return f"{ident} {answer['label']} ({100 * answer['confidence']:.1f}%){where}"
