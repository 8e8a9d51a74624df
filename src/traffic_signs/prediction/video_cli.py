"""`traffic-signs predict` on clips: every sign a video passes, tracked and named once.

  traffic-signs predict drive.mp4
  traffic-signs predict drive.mp4 --format json --stride 2 --frames-jsonl boxes.jsonl --annotate out.mp4
  traffic-signs predict frames/ --video --fps 25      # a folder of pictures as a clip
  traffic-signs predict drive.mp4 --realtime          # as a live camera: frames dropped while busy

A path ending in .mp4 .m4v .mov .mkv .webm or .avi (or any path with --video) is read as a clip.
JSON gives per clip ``{"file", "clip", "stats", "tracks"}`` with one Track per physical sign
(see :class:`traffic_signs.prediction.tracking.Track`), or ``{"file", "error"}``.
``--frames-jsonl`` writes one line per processed frame: its boxes, track ids and running names
(as they were known then: a track that is not reported in the end, an unknown one the detector
was unsure of, still has its boxes there).
``--annotate`` writes the clip again (H.264 MP4, at most 720p) with each track's box and final name.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any


def add_video_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("clips (.mp4 .m4v .mov .mkv .webm .avi, or a folder with --video)")
    group.add_argument("--video", action="store_true", help="read every path as a clip (a folder: its pictures)")
    clip_only = [
        group.add_argument("--stride", type=int, default=1, metavar="K", help="read every K-th frame (default 1)"),
        group.add_argument("--realtime", action="store_true",
                           help="pace frames at the clip's own rate and drop those that arrive while busy"),
        group.add_argument("--frames-jsonl", type=Path, default=None, metavar="FILE",
                           help="write the boxes of every processed frame, one JSON line each"),
        group.add_argument("--max-seconds", type=float, default=None, metavar="S",
                           help="read at most the first S seconds of each clip (default 3600)"),
        group.add_argument("--max-frames", type=int, default=None, metavar="N",
                           help="read at most N frames of each clip"),
        group.add_argument("--fps", type=float, default=None, help="frame rate of a folder of pictures (default 30)"),
    ]
    # what a run over pictures would ignore, with the defaults declared above (see ``clip_options_given``)
    parser.set_defaults(clip_only=[(action.option_strings[0], action.dest, action.default) for action in clip_only])


def clip_options_given(args: argparse.Namespace) -> list[str]:
    """The options only clips use that were given a value other than their default."""
    return [flag for flag, dest, default in args.clip_only if getattr(args, dest) != default]


def is_video_run(args: argparse.Namespace) -> bool:
    """Whether ``predict`` was given clips (the image path is not used then)."""
    from traffic_signs.prediction.video import is_video_path

    return bool(args.video) or any(is_video_path(path) for path in args.paths)


def run_video(args: argparse.Namespace) -> int:
    from traffic_signs.errors import TrafficSignsError
    from traffic_signs.prediction.reader import Classifier
    from traffic_signs.prediction.video import pyav

    _check_options(args)
    pyav()  # one clear error when PyAV is not installed, not one per clip
    classifier = Classifier.load(args.model, threshold=args.threshold, int8=args.int8, detector=args.detector)
    results = []
    jsonl = _open_jsonl(args.frames_jsonl)
    try:
        for path in args.paths:
            try:
                results.append(read_clip(classifier, path, args, jsonl))
            except TrafficSignsError as exc:
                results.append({"file": path, "error": str(exc)})
    finally:
        if jsonl is not None:
            jsonl.close()
    {"json": _print_json, "csv": _print_csv, "table": _print_table}[args.format](results)
    return 1 if any("error" in r for r in results) else 0


def _check_options(args: argparse.Namespace) -> None:
    from traffic_signs.errors import TrafficSignsError

    if args.stride < 1:
        raise TrafficSignsError(f"--stride must be at least 1, not {args.stride}")
    if args.realtime and args.stride != 1:
        raise TrafficSignsError("--realtime drops frames by itself: give it without --stride")
    if args.annotate is not None and len(args.paths) != 1:
        raise TrafficSignsError("--annotate writes one clip: give one clip path")
    if args.max_seconds is not None and args.max_seconds <= 0:
        raise TrafficSignsError("--max-seconds must be positive")
    if args.max_frames is not None and args.max_frames < 1:
        raise TrafficSignsError("--max-frames must be at least 1")


def _open_jsonl(path: Path | None):
    from traffic_signs.errors import StorageError

    if path is None:
        return None
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise StorageError(f"{path}: cannot write ({exc.strerror or exc})") from exc


def read_clip(classifier, path: str, args: argparse.Namespace, jsonl) -> dict[str, Any]:
    """One clip through the tracker, its frame lines written as they come; annotated after if asked."""
    from traffic_signs.prediction.video import DEFAULT_MAX_SECONDS, SEQUENCE_FPS
    from traffic_signs.prediction.video_signs import annotate_clip, track

    records = []

    def on_frame(record) -> None:
        if jsonl is not None:
            jsonl.write(json.dumps({"file": path, **record.to_dict()}) + "\n")
        if args.annotate is not None:
            records.append(record)

    options = {"sequence": args.video and Path(path).is_dir(), "fps": args.fps or SEQUENCE_FPS,
               "max_seconds": args.max_seconds or DEFAULT_MAX_SECONDS, "max_frames": args.max_frames}
    run = track(classifier, path, stride=args.stride, realtime=args.realtime, on_frame=on_frame,
                progress=args.format == "table", **options)
    tracks = sorted(run, key=lambda t: t.track_id)
    if args.annotate is not None:
        annotate_clip(path, args.annotate, records, tracks, **options)
    if run.info.damage:
        print(f"warning: {path}: {run.info.damage}", file=sys.stderr)
    return {"file": path, "clip": run.info.to_dict(), "stats": run.stats.to_dict(),
            "tracks": [t.to_dict() for t in tracks]}


def _print_json(results: list[dict[str, Any]]) -> None:
    print(json.dumps(results, indent=2))


def _print_csv(results: list[dict[str, Any]]) -> None:
    writer = csv.writer(sys.stdout)
    writer.writerow(["file", "track_id", "class_id", "label", "confidence", "unknown", "first_time_s", "last_time_s",
                     "best_box", "frames", "error"])
    for r in results:
        if "error" in r:
            writer.writerow([r["file"], "", "", "", "", "", "", "", "", "", r["error"]])
        for t in r.get("tracks", []):
            writer.writerow([r["file"], t["track_id"], "" if t["class_id"] is None else t["class_id"], t["label"],
                             t["confidence"], t["unknown"], t["first_time_s"], t["last_time_s"],
                             " ".join(map(str, t["best_box"])), t["frames"], ""])


def _print_table(results: list[dict[str, Any]]) -> None:
    for r in results:
        if "error" in r:
            print(f"{r['file']}: ERROR {r['error']}")
            continue
        tracks, stats = r["tracks"], r["stats"]
        live = (f", {stats['dropped_frames']} dropped; answers {1000 * stats['lag_s_p50']:.0f} ms behind the "
                f"camera, at most {1000 * stats['lag_s_max']:.0f} ms") if "lag_s_p50" in stats else ""
        print(f"{r['file']}: {len(tracks)} sign{'' if len(tracks) == 1 else 's'} in {r['clip']['decoded_frames']} "
              f"frames ({stats['processed_frames']} read{live})")
        for t in tracks:
            ident = "  ?" if t["unknown"] else f"{t['class_id']:>3}"
            print(f"    #{t['track_id']:<3}{ident} {t['label']} ({100 * t['confidence']:.1f}%)  "
                  f"{t['first_time_s']:.2f}-{t['last_time_s']:.2f} s  box {tuple(t['best_box'])}")
