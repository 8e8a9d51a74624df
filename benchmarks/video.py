"""Synthetic drives made from real material, tracked and named by the product, scored.

    python benchmarks/video.py [--limit N] [--stride K] [--realtime] [--tracker sign|bytetrack]
                               [--detector D] [--detector-min-score F]
                               [--named-min-peak F] [--photos DIR] [--clips DIR] [--out FILE]

No labelled video of signs exists here, so this makes drives and knows what is in them:

(a) gtsrb: every validation track of the shipped model (held out from its training by track,
    rebuilt from its split seed and data checksum): the track's 30 frames, in order, are one
    physical sign approaching; each is cut out along its shape and pasted on a background
    photograph (Debian's wallpapers, see data/scenes.py), growing from ~20 px to ~90-200 px
    as it slides out towards the frame's edge, for 2.5 s at 30 fps, with camera shake and a
    slow zoom of the background. (The detector was trained on GTSRB's whole training set and on
    these wallpapers, so detection here is optimistic; naming is held out.)
(b) photo: the labelled signs of the real-photo folder (medium and scene framings): a 16:9
    camera window zooms from the whole photo to the labelled box over 2-4 s, with shake,
    motion blur while it moves, JPEG-damaged frames, a few dropped frames (timestamps jump),
    and H.264 at a lower quality. These score the product, they never train it. Beside each,
    the product's own photo answer (`predict` on the photo) on the same sign.
(c) empty: background photographs panned and zoomed for 3 s, no sign.

Clips are written once (H.264, 1280x720) to a cache folder and reused. Each is read by
``track`` as ``traffic-signs predict clip.mp4 --format json`` does (decode to JSON); per
physical sign: named right / wrong / unknown (its longest matching track decides, and any
matching track named wrong makes it wrong), tracks per sign (fragmentation), time from its
first frame to the first correct running name; tracks in sign-free clips; frames per second
end to end. With ``--realtime`` each clip plays as a live camera and the summary adds the share of
frames dropped and how long after its arrival each frame read was answered (the lag a live page's
boxes and names have). Writes benchmarks/results/video.json (``--out`` for another file).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from traffic_signs import Classifier
from traffic_signs.benchmarking import cpu_name, real_photo_folder
from traffic_signs.data.scenes import SIGN_INSET, background_photos, shape_extent, shape_mask, sign_shape
from traffic_signs.prediction.detect import box_iou, on_labelled_sign
from traffic_signs.prediction.video_signs import track

RESULTS = Path(__file__).parent / "results"
WIDTH, HEIGHT, FPS = 1280, 720, 30
SEED = 2024
DRIVE_FORMAT = 3  # bump when the drives change: cached clips of another format are remade


@dataclass
class Drive:
    """A made clip and what is in it: the sign's class (-1: no GTSRB class, None: no sign) and box per frame."""

    name: str
    kind: str
    class_id: int | None
    boxes: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)  # frame -> truth box
    photo: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "class_id": self.class_id, "photo": self.photo,
                "boxes": {str(k): [round(v, 1) for v in b] for k, b in self.boxes.items()}}


def write_clip(path: Path, frames: Iterator[tuple[np.ndarray, int]], crf: int = 23) -> None:
    """Frames (HxWx3 uint8, frame number at 30 fps; a skipped number is a dropped frame) to H.264."""
    import av

    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": str(crf)}
        stream.codec_context.time_base = Fraction(1, FPS)
        for pixels, number in frames:
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = number, Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    tmp.replace(path)


class Camera:
    """A shaking camera: a smoothed random walk of a few pixels."""

    def __init__(self, rng: np.random.Generator, amplitude: float):
        self.rng, self.amplitude, self.offset, self.velocity = rng, amplitude, np.zeros(2), np.zeros(2)

    def step(self) -> np.ndarray:
        self.velocity = 0.7 * self.velocity + self.rng.normal(0, self.amplitude * 0.5, 2)
        self.offset = np.clip(0.85 * self.offset + self.velocity, -3 * self.amplitude, 3 * self.amplitude)
        return self.offset


def background_view(photo: np.ndarray, rng: np.random.Generator, frames: int) -> list[tuple[float, ...]]:
    """Windows (x0, y0, w, h) into ``photo`` for each frame: a 16:9 view zooming in slowly, drifting."""
    ph, pw = photo.shape[:2]
    w0 = min(pw, ph * 16 / 9) * rng.uniform(0.7, 1.0)
    zoom = rng.uniform(1.05, 1.25)
    cx, cy = rng.uniform(w0 / 2, pw - w0 / 2), rng.uniform(w0 * 9 / 32, ph - w0 * 9 / 32)
    drift = rng.normal(0, w0 * 0.03, 2)
    out = []
    for i in range(frames):
        u = i / max(frames - 1, 1)
        w = w0 / (1 + (zoom - 1) * u)
        x = np.clip(cx + drift[0] * u - w / 2, 0, pw - w)
        y = np.clip(cy + drift[1] * u - w * 9 / 32, 0, ph - w * 9 / 16)
        out.append((x, y, w, w * 9 / 16))
    return out


def shaken(photo: Image.Image, window: tuple[float, ...], shake: np.ndarray) -> tuple[float, float, float, float]:
    """The window moved by the camera's shake (in frame pixels), kept inside the photo: (x0, y0, x1, y1)."""
    x, y, w, h = window
    scale = w / WIDTH
    x = float(np.clip(x + shake[0] * scale, 0, photo.width - w))
    y = float(np.clip(y + shake[1] * scale, 0, photo.height - h))
    return (x, y, min(photo.width, x + w), min(photo.height, y + h))


def render_window(photo: Image.Image, window: tuple[float, ...], shake: np.ndarray) -> np.ndarray:
    box = shaken(photo, window, shake)
    return np.asarray(photo.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR, box=box, reducing_gap=2.0))


def paste_sign(canvas: np.ndarray, crop: np.ndarray, class_id: int, side: int, x: int, y: int) -> tuple[float, ...]:
    """A 32x32 GTSRB crop cut out along its class's shape, its square ``side`` px at (x, y); the sign's box."""
    shape = sign_shape(class_id)
    inner = Image.fromarray(crop).resize((side, side), Image.Resampling.BILINEAR,
                                         box=(32 * SIGN_INSET, 32 * SIGN_INSET, 32 * (1 - SIGN_INSET),
                                              32 * (1 - SIGN_INSET)))
    mask = shape_mask(shape, side)[..., None]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(WIDTH, x + side), min(HEIGHT, y + side)
    if x1 <= x0 or y1 <= y0:
        return (0, 0, 0, 0)
    sign = np.asarray(inner, np.float32)[y0 - y : y1 - y, x0 - x : x1 - x]
    m = mask[y0 - y : y1 - y, x0 - x : x1 - x]
    region = canvas[y0:y1, x0:x1].astype(np.float32)
    canvas[y0:y1, x0:x1] = (region * (1 - m) + sign * m).astype(np.uint8)
    e = shape_extent(shape)
    return (max(0, x + e[0] * side), max(0, y + e[1] * side), min(WIDTH, x + e[2] * side), min(HEIGHT, y + e[3] * side))


def gtsrb_drive(name: str, images: np.ndarray, class_id: int, photo: np.ndarray, rng: np.random.Generator,
                path: Path) -> Drive:
    """One GTSRB track (its frames far to near) approaching on a background photograph."""
    frames = int(2.5 * FPS)
    s0, s1 = rng.uniform(18, 28), rng.uniform(90, 200)
    focus = np.array([WIDTH / 2 + rng.normal(0, 80), HEIGHT * 0.45 + rng.normal(0, 30)])
    angle = rng.uniform(-0.6, 0.25) + (np.pi if rng.random() < 0.3 else 0.0)  # right of the road, or left
    direction = np.array([np.cos(angle), np.sin(angle)])
    spread = rng.uniform(2.0, 3.2)
    views, camera, picture = background_view(photo, rng, frames), Camera(rng, rng.uniform(1, 4)), Image.fromarray(photo)
    drive = Drive(name, "gtsrb", class_id)

    def render() -> Iterator[tuple[np.ndarray, int]]:
        for i in range(frames):
            u = i / (frames - 1)
            side = int(round(1 / ((1 - u) / s0 + u / s1)))
            shake = camera.step()
            canvas = render_window(picture, views[i], shake).copy()
            centre = focus + direction * side * spread - shake
            crop = images[min(len(images) - 1, int(u * len(images)))]
            box = paste_sign(canvas, crop, class_id, side, int(centre[0] - side / 2), int(centre[1] - side / 2))
            if box[2] - box[0] >= 4 and box[3] - box[1] >= 4:
                drive.boxes[i] = box
            yield canvas, i

    write_clip(path, render())
    return drive


def photo_drive(name: str, photo: Image.Image, box_fraction: tuple[float, ...], class_id: int,
                rng: np.random.Generator, path: Path) -> Drive:
    """A camera zooming from the whole photo to its labelled sign, shaking, blurring, dropping frames."""
    pw, ph = photo.size
    bx0, by0, bx1, by1 = (box_fraction[0] * pw, box_fraction[1] * ph, box_fraction[2] * pw, box_fraction[3] * ph)
    bcx, bcy, bside = (bx0 + bx1) / 2, (by0 + by1) / 2, max(bx1 - bx0, by1 - by0, 4)
    w_start = min(pw, ph * 16 / 9)
    w_end = min(w_start, bside / rng.uniform(0.3, 0.5) * 16 / 9)  # the sign ends 30-50% of the height
    frames = int(rng.uniform(2, 4) * FPS)
    camera = Camera(rng, rng.uniform(1, 5))
    drops = set(rng.choice(np.arange(5, frames), size=int(rng.integers(0, 4)), replace=False).tolist())
    drive = Drive(name, "photo", class_id)

    def window(u: float) -> tuple[float, ...]:
        w = w_start * (w_end / w_start) ** u
        h = w * 9 / 16
        cx = np.clip(pw / 2 + (bcx - pw / 2) * u, w / 2, pw - w / 2) if w < pw else pw / 2
        cy = np.clip(ph / 2 + (bcy - ph / 2) * u, h / 2, ph - h / 2) if h < ph else ph / 2
        return (cx - w / 2, cy - h / 2, w, h)

    def render() -> Iterator[tuple[np.ndarray, int]]:
        previous = None
        for i in range(frames):
            u = (i / (frames - 1)) ** 0.8
            x, y, w, h = window(u)
            shake = camera.step()
            view = shaken(photo, (x, y, w, h), shake)
            pixels = np.asarray(photo.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR, box=view, reducing_gap=2.0))
            moving = previous is None or abs(previous[2] - w) / w > 0.01 or np.abs(shake).max() > 3
            if moving and rng.random() < 0.4:  # motion blur along the shake
                pixels = np.asarray(Image.fromarray(pixels).filter(ImageFilter.BoxBlur(rng.uniform(0.5, 2.0))))
            if rng.random() < 0.15:  # a frame damaged by JPEG somewhere on its way
                buffer = _jpeg(pixels, int(rng.integers(15, 40)))
                pixels = buffer
            previous = (x, y, w, h)
            sx, sy = WIDTH / (view[2] - view[0]), HEIGHT / (view[3] - view[1])
            truth = ((bx0 - view[0]) * sx, (by0 - view[1]) * sy, (bx1 - view[0]) * sx, (by1 - view[1]) * sy)
            if i not in drops:
                drive.boxes[i] = tuple(float(np.clip(v, 0, lim)) for v, lim in zip(truth, (WIDTH, HEIGHT) * 2,
                                                                                  strict=True))
                yield pixels, i

    write_clip(path, render(), crf=int(rng.integers(26, 32)))
    return drive


def _jpeg(pixels: np.ndarray, quality: int) -> np.ndarray:
    import io

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def empty_drive(name: str, photo: np.ndarray, rng: np.random.Generator, path: Path) -> Drive:
    """A background photograph panned and zoomed for 3 s: nothing to find."""
    frames = 3 * FPS
    views, camera, picture = background_view(photo, rng, frames), Camera(rng, rng.uniform(1, 4)), Image.fromarray(photo)
    write_clip(path, ((render_window(picture, views[i], camera.step()), i) for i in range(frames)))
    return Drive(name, "empty", None)


def gtsrb_tracks(classifier: Classifier) -> list[tuple[str, int, np.ndarray]]:
    """The shipped model's validation tracks, frames in order: (track, class, 30 x 32 x 32 x 3)."""
    from traffic_signs.data.cache import load_split
    from traffic_signs.data.split import validation_subset

    meta = classifier.metadata
    val = validation_subset(load_split("train", None, 32), meta.split, meta.data_checksum, classifier.name)
    out = []
    for key in sorted(set(val.tracks.tolist())):
        index = np.flatnonzero(val.tracks == key)
        index = index[np.argsort(val.names[index])]
        out.append((str(key), int(val.labels[index[0]]), val.images[index]))
    return out


def photo_rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "labels.csv", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["framing"] in ("medium", "scene") and row["box"]]


def make_drives(classifier: Classifier, clips: Path, photos_folder: Path, limit: int | None) -> list[Drive]:
    """Every drive, made once (cached in ``clips`` with its truth beside it)."""
    clips.mkdir(parents=True, exist_ok=True)
    manifest = clips / f"drives-v{DRIVE_FORMAT}.json"
    if manifest.is_file():
        drives = [Drive(d["name"], d["kind"], d["class_id"], {int(k): tuple(b) for k, b in d["boxes"].items()},
                        d["photo"]) for d in json.loads(manifest.read_text())]
        if limit is None or len(drives) >= 3 * limit:
            return _limited(drives, limit)
    rng = np.random.default_rng(SEED)
    backgrounds = background_photos()
    drives: list[Drive] = []
    started = time.perf_counter()
    for n, (key, class_id, images) in enumerate(_take(gtsrb_tracks(classifier), limit)):
        name = f"gtsrb-{key.replace('/', '-')}"
        photo = backgrounds[n % len(backgrounds)]
        drives.append(gtsrb_drive(name, images, class_id, photo, rng, clips / f"{name}.mp4"))
    for row in _take(photo_rows(photos_folder), limit):
        name = "photo-" + Path(row["file"]).stem[-60:]
        photo = Image.open(photos_folder / row["file"]).convert("RGB")
        box = tuple(float(v) for v in row["box"].split())
        drive = photo_drive(name, photo, box, int(row["class_id"]), rng, clips / f"{name}.mp4")
        drive.photo = row["file"]
        drives.append(drive)
    for n in range(limit or 100):
        name = f"empty-{n:03d}"
        drives.append(empty_drive(name, backgrounds[(7 * n + 3) % len(backgrounds)], rng, clips / f"{name}.mp4"))
    print(f"made {len(drives)} drives in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    manifest.write_text(json.dumps([d.to_dict() for d in drives]))
    return drives


def _take(items: list, limit: int | None) -> list:
    return items if limit is None else items[:limit]


def _limited(drives: list[Drive], limit: int | None) -> list[Drive]:
    if limit is None:
        return drives
    out = []
    for kind in ("gtsrb", "photo", "empty"):
        out += [d for d in drives if d.kind == kind][:limit]
    return out


class RunningNames:
    """Per-frame records with each track's running name, kept for scoring."""

    def __init__(self):
        self.records: list = []

    def __call__(self, record) -> None:
        self.records.append(record)


def run_drive(classifier: Classifier, drive: Drive, clips: Path, options: dict) -> dict[str, Any]:
    """One clip through ``track`` (decode to JSON, timed) and its outcome against the truth."""
    names = RunningNames()
    started = time.perf_counter()
    run = track(classifier, clips / f"{drive.name}.mp4", on_frame=names, **options)
    tracks = [t.to_dict() for t in run]
    json.dumps(tracks)
    seconds = time.perf_counter() - started
    scores: dict[int, list[float]] = {}
    for record in names.records:
        for sign in record.signs:
            scores.setdefault(sign["track_id"], []).append(sign["score"])
    for t in tracks:  # the detector's mean score on each track (what reports an unknown one), and its peak
        track_scores = scores.get(t["track_id"], [0.0])
        t["mean_score"], t["max_score"] = round(float(np.mean(track_scores)), 4), round(float(max(track_scores)), 4)
    return {"name": drive.name, "kind": drive.kind, "class_id": drive.class_id, "photo": drive.photo,
            "frames": run.info.decoded_frames, "processed": run.stats.processed_frames,
            "dropped": run.stats.dropped_frames, "seconds": round(seconds, 4), "tracks": tracks,
            **({"lags_s": [round(lag, 4) for lag in run.stats.lags_s]} if run.stats.lags_s else {}),
            **score(drive, tracks, names.records)}


def on_sign(box: list[int], truth: tuple[float, ...]) -> bool:
    """Whether a tracked box is on the sign: IoU >= 0.3; or (the detector's box on a sign of a few
    pixels is several times too big) the sign's centre inside it and the box at most 6x its side;
    or (a large sign boxed in pieces, the letters of STOP) the box lies 90% inside the sign's."""
    if on_labelled_sign(box, truth):
        return True
    cx, cy = (truth[0] + truth[2]) / 2, (truth[1] + truth[3]) / 2
    inside = box[0] <= cx <= box[2] and box[1] <= cy <= box[3]
    return inside and (box[2] - box[0]) <= 6 * max(truth[2] - truth[0], truth[3] - truth[1], 1)


def score(drive: Drive, tracks: list[dict], records: list) -> dict[str, Any]:
    """Which tracks are the drive's sign, what it was named, how soon it was named right."""
    if drive.class_id is None:
        return {"outcome": "no sign", "sign_tracks": 0, "false_tracks": len(tracks)}
    overlaps: dict[int, list[bool]] = {}
    first_right: dict[int, float] = {}
    truth_label = drive.class_id
    for record in records:
        truth = drive.boxes.get(record.frame)
        for sign in record.signs:
            overlaps.setdefault(sign["track_id"], []).append(truth is not None and on_sign(sign["box"], truth))
            if sign.get("class_id") == truth_label and sign["track_id"] not in first_right:
                first_right[sign["track_id"]] = record.time_s
    ours = [t for t in tracks if np.mean(overlaps.get(t["track_id"], [False])) >= 0.5]
    for t in tracks:
        t["on_sign"] = any(t is o for o in ours)
    false_tracks = len(tracks) - len(ours)
    if not ours:
        return {"outcome": "missed", "sign_tracks": 0, "false_tracks": false_tracks}
    main = max(ours, key=lambda t: t["frames"])
    named = [t["class_id"] for t in ours if not t["unknown"]]
    if drive.class_id < 0:
        outcome = "flagged" if main["unknown"] and not named else "wrong"
    elif any(c != drive.class_id for c in named):
        outcome = "wrong"
    else:
        outcome = "right" if main["class_id"] == drive.class_id else "unknown"
    appear = min((f for f in drive.boxes), default=0) / FPS
    right_times = [first_right[t["track_id"]] for t in ours if t["track_id"] in first_right]
    named_right = bool(right_times) and outcome == "right"
    return {"outcome": outcome, "sign_tracks": len(ours), "false_tracks": false_tracks,
            "time_to_right_s": round(min(right_times) - appear, 3) if named_right else None,
            "found_to_right_s": round(min(right_times) - min(t["first_time_s"] for t in ours), 3) if named_right
            else None}


def photo_answer(classifier: Classifier, folder: Path, photo: str, class_id: int) -> str:
    """The product's answer on the photo itself: right / wrong / unknown (flagged for no-class signs)."""
    answer = classifier.predict(folder / photo).class_id
    if class_id < 0:
        return "flagged" if answer is None else "wrong"
    return "unknown" if answer is None else ("right" if answer == class_id else "wrong")


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for kind in ("gtsrb", "photo"):
        rows = [r for r in results if r["kind"] == kind]
        if not rows:
            continue
        known = [r for r in rows if r["class_id"] >= 0]
        no_class = [r for r in rows if r["class_id"] < 0]
        group: dict[str, Any] = {"signs": len(rows), "with_class": len(known), "no_class": len(no_class)}
        for outcome in ("right", "wrong", "unknown", "missed"):
            group[outcome] = _share(sum(r["outcome"] == outcome for r in known), len(known))
        if no_class:
            group["no_class_flagged"] = _share(sum(r["outcome"] == "flagged" for r in no_class), len(no_class))
        found = [r for r in rows if r["sign_tracks"]]
        group["tracks_per_sign"] = round(sum(r["sign_tracks"] for r in found) / max(1, len(found)), 4)
        group["false_tracks_per_clip"] = round(sum(r["false_tracks"] for r in rows) / len(rows), 4)
        for key in ("time_to_right_s", "found_to_right_s"):  # from the sign's first frame / its first detection
            times = [r[key] for r in rows if r.get(key) is not None]
            if times:
                group[key] = {"p50": round(statistics.median(times), 3),
                              "p90": round(float(np.percentile(times, 90)), 3)}
        if kind == "photo" and all("photo_outcome" in r for r in known):
            group["photo_answer_same_signs"] = {o: _share(sum(r["photo_outcome"] == o for r in known), len(known))
                                                for o in ("right", "wrong", "unknown")}
            if no_class:
                group["photo_answer_same_signs"]["no_class_flagged"] = _share(
                    sum(r["photo_outcome"] == "flagged" for r in no_class), len(no_class))
        summary[kind] = group
    empty = [r for r in results if r["kind"] == "empty"]
    if empty:
        summary["empty"] = {"clips": len(empty), "clips_without_tracks": _share(sum(not r["tracks"] for r in empty),
                                                                               len(empty)),
                            "tracks": sum(len(r["tracks"]) for r in empty)}
    frames, seconds = sum(r["frames"] for r in results), sum(r["seconds"] for r in results)
    per_clip = [r["frames"] / r["seconds"] for r in results]
    summary["speed"] = {"frames": frames, "seconds": round(seconds, 2), "fps_overall": round(frames / seconds, 1),
                        "fps_per_clip_p50": round(statistics.median(per_clip), 1),
                        "fps_per_clip_p10": round(float(np.percentile(per_clip, 10)), 1)}
    lags = [lag for r in results for lag in r.get("lags_s", [])]
    if lags:  # --realtime: how far each frame's answer came after the frame arrived
        summary["realtime"] = {
            "frames_dropped": _share(sum(r["dropped"] for r in results), sum(r["frames"] for r in results)),
            "lag_s_p50": round(float(np.median(lags)), 4), "lag_s_p99": round(float(np.percentile(lags, 99)), 4),
            "lag_s_max": round(max(lags), 4)}
    return summary


def _share(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="at most this many drives of each kind")
    parser.add_argument("--kinds", default="gtsrb,photo,empty", help="which drives to score (comma-separated)")
    parser.add_argument("--stride", type=int, default=1)
    parser.add_argument("--realtime", action="store_true")
    parser.add_argument("--tracker", choices=["sign", "bytetrack"], default="sign")
    parser.add_argument("--unknown-min-score", type=float, default=None,
                        help="report unknown tracks from this mean detector score (default: the product's)")
    parser.add_argument("--named-min-peak", type=float, default=None,
                        help="report named tracks from this peak detector score (default: the product's)")
    parser.add_argument("--detector-min-score", type=float, default=None,
                        help="the detector's box threshold, for the drives and the photo reader "
                             "(default: the product's)")
    parser.add_argument("--detector", default=None, help="sign detector: shipped name, run folder or .json "
                        "(default: the shipped one)")
    parser.add_argument("--photos", type=Path, default=real_photo_folder())
    parser.add_argument("--clips", type=Path, default=None, help="cache folder for the made clips")
    parser.add_argument("--out", type=Path, default=RESULTS / "video.json")
    parser.add_argument("--make-only", action="store_true", help="make (or check) the clips, score nothing")
    args = parser.parse_args()
    from traffic_signs.data.cache import default_cache_dir

    clips = args.clips or Path(default_cache_dir()) / "video-drives"
    classifier = Classifier.load(detector=args.detector)
    if args.detector_min_score is not None:
        classifier.detector.min_score = args.detector_min_score
    drives = make_drives(classifier, clips, args.photos, args.limit)
    if args.make_only:
        return
    drives = [d for d in drives if d.kind in args.kinds.split(",")]
    options: dict[str, Any] = {"stride": args.stride, "realtime": args.realtime}
    if args.unknown_min_score is not None:
        options["unknown_min_score"] = args.unknown_min_score
    if args.named_min_peak is not None:
        options["named_min_peak"] = args.named_min_peak
    if args.tracker == "bytetrack":
        options["tracker"] = ByteTrackAdapter
    results = []
    for n, drive in enumerate(drives):
        result = run_drive(classifier, drive, clips, options)
        if drive.kind == "photo":
            result["photo_outcome"] = photo_answer(classifier, args.photos, drive.photo, drive.class_id)
        results.append(result)
        if (n + 1) % 25 == 0:
            print(f"{n + 1}/{len(drives)} drives", file=sys.stderr, flush=True)
    summary = summarise(results)
    signs = [clips / f"{d.name}.mp4" for d in drives if d.kind == "gtsrb"][:10]
    empty = [clips / f"{d.name}.mp4" for d in drives if d.kind == "empty"][:10]
    if signs and empty:
        summary["speed_stages"] = {"clips_with_a_sign": speed_breakdown(classifier, signs),
                                   "clips_without_signs": speed_breakdown(classifier, empty)}
    print(f"load average while measuring: {os.getloadavg()}", file=sys.stderr)
    summary["load_average_1_5_15"] = [round(v, 2) for v in os.getloadavg()]
    report = {"model": classifier.name, "detector": args.detector or "shipped", "threshold": classifier.threshold,
              "cpu": cpu_name(),
              "threads": os.environ.get("TRAFFIC_SIGNS_THREADS", "default"),
              "options": {"stride": args.stride, "realtime": args.realtime, "tracker": args.tracker,
                          "limit": args.limit, "unknown_min_score": args.unknown_min_score,
                          "named_min_peak": args.named_min_peak, "detector_min_score": args.detector_min_score},
              "summary": summary, "drives": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


def speed_breakdown(classifier: Classifier, paths: list[Path], repeats: int = 3) -> dict[str, float]:
    """Frames/s of each stage on the same clips, median of ``repeats``: decode and shrink for the
    detector, plus the detector, plus everything (tracking, crops, classifier, JSON)."""
    from traffic_signs.prediction.detect import LONG_SIDE
    from traffic_signs.prediction.video import open_clip
    from traffic_signs.prediction.video_signs import SignReader

    reader = SignReader(classifier)

    def decode(path: Path) -> int:
        with open_clip(path) as clip:
            return sum(1 for frame in clip.frames() if frame.small(LONG_SIDE))

    def detect(path: Path) -> int:
        with open_clip(path) as clip:
            return sum(1 for frame in clip.frames() if reader.find(frame) is not None)

    def everything(path: Path) -> int:
        run = track(classifier, path)
        json.dumps([t.to_dict() for t in run])
        return run.info.decoded_frames

    def prefetching(path: Path) -> int:
        run = track(classifier, path, prefetch=True)
        json.dumps([t.to_dict() for t in run])
        return run.info.decoded_frames

    out = {}
    for name, stage in (("decode_and_shrink", decode), ("plus_detector", detect), ("end_to_end", everything),
                        ("end_to_end_decoding_on_a_second_thread", prefetching)):
        rates = []
        for _ in range(repeats):
            started = time.perf_counter()
            frames = sum(stage(path) for path in paths)
            rates.append(frames / (time.perf_counter() - started))
        out[name] = round(statistics.median(rates), 1)
    return out


class ByteTrackAdapter:
    """A ByteTrack port (``pip install cjm-byte-track``: numpy + scipy) behind the tracker's
    interface, so the same drives score both. ByteTrack's Kalman-smoothed boxes are mapped back
    to the detections they matched (IoU >= 0.5); a track ends after the same MAX_GAP_S unseen."""

    def __init__(self):
        from cjm_byte_track.core import BYTETracker

        from traffic_signs.prediction.tracking import MAX_GAP_S

        self.tracker = BYTETracker(track_thresh=0.25, track_buffer=round(MAX_GAP_S * FPS), match_thresh=0.8,
                                   frame_rate=FPS)
        self.max_gap_s = MAX_GAP_S
        self.tracks: dict[int, Any] = {}
        self.ended: list = []
        self._next_id = 1

    def update(self, detections: list, frame: int, time_s: float) -> list:
        from traffic_signs.prediction.tracking import LiveTrack

        dets = np.array([[*d.box, d.score] for d in detections], float).reshape(-1, 5)
        active = self.tracker.update(dets, (HEIGHT, WIDTH), (HEIGHT, WIDTH))
        pairs, used = [], set()
        for st in active:
            if st.frame_id != self.tracker.frame_id or not detections:
                continue
            k = max(range(len(detections)), key=lambda i: box_iou(st.tlbr, detections[i].box))
            if k in used or box_iou(st.tlbr, detections[k].box) < 0.5:
                continue
            used.add(k)
            live = self.tracks.get(st.track_id)
            if live is None:
                live = self.tracks[st.track_id] = LiveTrack(detections[k].box, time_s, frame, time_s, frame,
                                                            detections[k].score, track_id=self._next_id)
                self._next_id += 1
            else:
                live.follow(detections[k], frame, time_s)
            pairs.append((live, detections[k]))
        stale = [key for key, live in self.tracks.items() if time_s - live.time_s > self.max_gap_s]
        self.ended += [self.tracks.pop(key) for key in stale]
        return pairs

    def finish(self) -> None:
        self.ended += list(self.tracks.values())
        self.tracks = {}

    def take_ended(self) -> list:
        ended, self.ended = self.ended, []
        return sorted(ended, key=lambda t: t.track_id)


if __name__ == "__main__":
    main()
