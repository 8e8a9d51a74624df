"""Every sign a clip passes, tracked and named once: decode -> find boxes -> track -> classify -> vote.

    from traffic_signs.prediction.video_signs import track
    for sign in track(Classifier.load(), "drive.mp4"):
        print(sign.to_dict())

Each processed frame costs one detector pass on a 256-px copy of the frame (converted from
the decoder's YUV at that size) and at most one batched classifier call for every track that
wants a new crop. A track asks for one when its sign has grown since its last crop
(``GROWTH``) or has not been read for ``REFRESH_S`` seconds, and its box is clear of the
frame's edge (a sign half out of the picture is not a sign the classifier knows). Each crop is
taken at one of the photo reader's framings in turn (``FRAMINGS``): over a track the framings
average out as they do for a photo, at a third of the cost. The full-size RGB frame is made
only on frames where a crop is taken.

``SignReader`` is the only code here that touches the models: swap it to change how a frame's
signs are found and read.

``realtime`` treats the clip as a live camera: frames arrive at the clip's own pace, and a
frame that arrived while the previous one was still being read is dropped, as a live source
would drop it. Without it every ``stride``-th frame is read, however long that takes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from traffic_signs.prediction.detect import LONG_SIDE, Detection
from traffic_signs.prediction.framing import FRAMINGS, sign_crop
from traffic_signs.prediction.results import UNKNOWN_LABEL
from traffic_signs.prediction.tracking import Box, LiveTrack, SignTracker, Track
from traffic_signs.prediction.video import (
    DEFAULT_MAX_SECONDS,
    SEQUENCE_FPS,
    AnnotatedWriter,
    ClipFrame,
    ClipInfo,
    open_clip,
    prefetched,
)

GROWTH = 1.15  # a new crop when the sign's side has grown this much since the last one...
REFRESH_S = 0.2  # ...or this long after it (a sign the camera holds still, a blurred spell)
# An unknown track is reported when the detector's mean score on it is at least this (chosen on the
# synthetic GTSRB and sign-free drives; no real sign's track was lost by it there).
UNKNOWN_MIN_SCORE = 0.6
# A named track is reported when the detector was sure of it at least once (its peak score), or
# its sign was large: on the synthetic sign-free drives every false track peaked below 0.47 and
# was at most 77 px, and of the GTSRB drives' signs one peaked below 0.54 (see docs/video.md);
# the detector is least sure of signs that fill much of the picture, which a wallpaper's
# pattern never does.
NAMED_MIN_PEAK = 0.5
LARGE_SIDE = 200  # px in the decoded frame (at most 720p)
REFINE_WINDOW = 1.6  # a crop's box is found again in a window this many times its side...
REFINE_MIN = 96  # ...of at least this many pixels (see SignReader.refine)...
REFINE_BELOW = 32  # ...when the box is under this many pixels in the detector's 256-px view
MIN_READ_SIDE = 20  # a sign smaller than this (px) is not read: GTSRB's smallest crops hold ~12-px signs
EDGE = 2  # a box this close to the frame's edge is cut by it: not classified


class SignReader:
    """The per-frame model work: find sign boxes in a frame, and classify crops of some of them.

    Wraps a :class:`~traffic_signs.prediction.reader.Classifier` (its detector,
    ``probabilities``, ``input_size``) and nothing else of it.
    """

    def __init__(self, classifier):
        if classifier.detector is None:
            raise ValueError("tracking signs in a clip needs a classifier with a detector")
        self.classifier = classifier

    def find(self, frame: ClipFrame) -> list[Detection]:
        """The frame's sign boxes, in the frame's pixels, strongest first."""
        small = frame.small(LONG_SIDE)
        scale_x, scale_y = frame.size[0] / small.width, frame.size[1] / small.height
        return [Detection((round(d.box[0] * scale_x), round(d.box[1] * scale_y), round(d.box[2] * scale_x),
                           round(d.box[3] * scale_y)), d.score) for d in self.classifier.detector.detect(small)]

    def refine(self, frame: ClipFrame, box: Box) -> Box:
        """The sign's box found again in a window around ``box`` seen at up to the frame's full
        resolution. In the detector's 256-px view a sign of a few pixels gets a box several times
        too big (a 20-px sign boxed at 90 px), whose crop is mostly background and read as another
        sign; in a window ~1.6 times the box the sign is large enough to be boxed right. The
        detection nearest the window's centre is taken; none found keeps ``box``. Boxes of
        ``REFINE_BELOW`` px or more in the detector's view are kept as they are: they are right,
        and a window on a large sign can box a part of it (the bar of a No entry sign)."""
        x0, y0, x1, y1 = box
        width, height = frame.size
        if max(x1 - x0, y1 - y0) * LONG_SIDE / max(width, height) >= REFINE_BELOW:
            return box  # large enough in the detector's view to be boxed right there
        side = min(width, height, max(REFINE_MIN, round(REFINE_WINDOW * max(x1 - x0, y1 - y0))))
        left = min(max(0, round((x0 + x1 - side) / 2)), width - side)
        top = min(max(0, round((y0 + y1 - side) / 2)), height - side)
        window = frame.picture().crop((left, top, left + side, top + side))
        centre = ((x0 + x1) / 2 - left, (y0 + y1) / 2 - top)
        found = self.classifier.detector.detect(window)
        if not found:
            return box
        near = min(found, key=lambda d: math.hypot((d.box[0] + d.box[2]) / 2 - centre[0],
                                                   (d.box[1] + d.box[3]) / 2 - centre[1]))
        return (near.box[0] + left, near.box[1] + top, near.box[2] + left, near.box[3] + top)

    def classify(self, frame: ClipFrame, boxes: list[Box], framings: list[float]) -> tuple[np.ndarray, np.ndarray]:
        """Model-sized crops of ``boxes`` (each at its framing) and their class probabilities, in one call."""
        picture, size = frame.picture(), self.classifier.input_size
        crops = np.stack([sign_crop(picture, box, framing, size) for box, framing in zip(boxes, framings, strict=True)])
        return crops, self.classifier.probabilities(crops)


@dataclass
class FrameRecord:
    """The signs seen in one processed frame (a line of ``--frames-jsonl``)."""

    frame: int
    time_s: float
    signs: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"frame": self.frame, "time_s": round(self.time_s, 3), "signs": self.signs}


@dataclass
class RunStats:
    processed_frames: int = 0
    dropped_frames: int = 0  # --realtime: frames that arrived while the reader was busy
    seconds: float = 0.0  # wall time, decode to the last track
    # --realtime: for each frame read, seconds from its arrival (its time on the live clock) to its
    # answer; what a live page's boxes and names lag behind the camera
    lags_s: list[float] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        lags = {"lag_s_p50": round(float(np.median(self.lags_s)), 4),
                "lag_s_max": round(max(self.lags_s), 4)} if self.lags_s else {}
        return {"processed_frames": self.processed_frames, "dropped_frames": self.dropped_frames,
                "seconds": round(self.seconds, 3), **lags}


@dataclass
class ClipTracks:
    """An iterable of the clip's :class:`Track` objects, each yielded when its sign has left the
    picture (or the clip ends); ``info`` and ``stats`` fill in as the clip is read."""

    classifier: Any
    source: str | Path
    stride: int = 1
    realtime: bool = False
    sequence: bool = False
    fps: float = SEQUENCE_FPS
    max_seconds: float | None = DEFAULT_MAX_SECONDS
    max_frames: int | None = None
    on_frame: Callable[[FrameRecord], None] | None = None
    progress: bool = False
    # Decode on a second thread (see video.prefetched): measured 15-25% slower on a 2-core machine
    # shared with other work (load ~10), where no core is idle to overlap with, so off by default.
    prefetch: bool = False
    unknown_min_score: float = UNKNOWN_MIN_SCORE
    named_min_peak: float = NAMED_MIN_PEAK
    threshold: float | None = None  # "unknown sign" below this voted confidence (default: the classifier's)
    tracker: Callable[[], SignTracker] = SignTracker
    info: ClipInfo | None = None
    stats: RunStats = field(default_factory=RunStats)
    # --realtime: the live clock's zero (perf_counter at which the clip's time 0 arrived), set by
    # ``_paced`` as the first frame arrives and read after each frame to measure its lag
    _origin: float | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        if self.stride < 1:
            raise ValueError(f"stride must be at least 1, not {self.stride}")

    def __iter__(self) -> Iterator[Track]:
        reader = SignReader(self.classifier)
        tracker = self.tracker()
        reported: dict[int, int | None] = {}
        started = time.perf_counter()
        with open_clip(self.source, sequence=self.sequence, max_seconds=self.max_seconds, max_frames=self.max_frames,
                       fps=self.fps) as clip:
            self.info = clip.info
            frames = self._strided(self._with_progress(clip.frames(), clip.info))
            if self.prefetch:  # in realtime, frames that will be dropped are not converted ahead
                frames = prefetched(frames, None if self.realtime else lambda frame: frame.small(LONG_SIDE))
            try:
                for frame in self._paced(frames):
                    self.stats.processed_frames += 1
                    followed = read_frame(reader, tracker, frame)
                    if self.realtime:
                        self.stats.lags_s.append(time.perf_counter() - self._origin - frame.time_s)
                    if self.on_frame is not None:
                        self.on_frame(self._record(frame, followed))
                    yield from self._reported(tracker.take_ended(), reported)
            finally:
                frames.close()  # the decoding thread stops before the clip is closed
            tracker.finish()
            yield from self._reported(tracker.take_ended(), reported)
        self.stats.seconds = time.perf_counter() - started

    def _strided(self, frames: Iterator[ClipFrame]) -> Iterator[ClipFrame]:
        return (frame for frame in frames if frame.index % self.stride == 0)

    def _paced(self, frames: Iterator[ClipFrame]) -> Iterator[ClipFrame]:
        """With ``realtime``, frames at the clip's pace from the first one on, those that arrive
        while the previous one is being read dropped."""
        self._origin = None
        for frame in frames:
            if not self.realtime:
                yield frame
                continue
            if self._origin is None:  # the live clock: the first frame arrives now
                self._origin = time.perf_counter() - frame.time_s
            clock = time.perf_counter() - self._origin
            if clock > frame.time_s + 1.0 / self.info.fps:  # the next frame has arrived: this one is gone
                self.stats.dropped_frames += 1
                continue
            if clock < frame.time_s:
                time.sleep(frame.time_s - clock)  # a live camera has not shot it yet
            yield frame

    def _with_progress(self, frames: Iterator[ClipFrame], info: ClipInfo) -> Iterator[ClipFrame]:
        if not self.progress:
            yield from frames
            return
        from tqdm import tqdm

        total = info.declared_frames if info.declared_frames and info.declared_frames < 10**7 else None
        with tqdm(frames, total=total, unit="frame", desc=Path(str(self.source)).name, leave=False,
                  disable=None) as bar:
            yield from bar

    def _record(self, frame: ClipFrame, followed: list[tuple[LiveTrack, Detection]]) -> FrameRecord:
        return frame_record(frame, followed, self._named)

    def _reported(self, ended: list[LiveTrack], reported: dict[int, int | None]) -> Iterator[Track]:
        yield from reported_signs(ended, self._named, reported, self.unknown_min_score, self.named_min_peak)

    def _named(self, live: LiveTrack) -> Track:
        threshold = self.classifier.threshold if self.threshold is None else self.threshold
        return name_track(live, threshold, self.classifier.class_names)


class LiveTracks:
    """Signs on a live camera: each frame is pushed as it comes and answered at once with its
    tracked boxes and their names so far, so a page can draw them while the sign is still in view.
    The same reader, tracker and vote as a clip's; ``named`` keeps every sign that was reported."""

    def __init__(self, classifier, threshold: float | None = None):
        self.reader, self.tracker = SignReader(classifier), SignTracker()
        self.threshold = classifier.threshold if threshold is None else threshold
        self.class_names = classifier.class_names
        self.frames = 0
        self.named: list[Track] = []
        self._reported: dict[int, int | None] = {}

    def push(self, picture: Image.Image, time_s: float) -> FrameRecord:
        """One camera frame (RGB, any size up to 720p) at ``time_s`` seconds since the camera started."""
        frame = ClipFrame(self.frames, time_s, picture.size, picture)
        self.frames += 1
        followed = read_frame(self.reader, self.tracker, frame)
        self.named += reported_signs(self.tracker.take_ended(), self.name, self._reported)
        return frame_record(frame, followed, self.name)

    def name(self, live: LiveTrack) -> Track:
        return name_track(live, self.threshold, self.class_names)


def frame_record(frame: ClipFrame, followed: list[tuple[LiveTrack, Detection]],
                 named: Callable[[LiveTrack], Track]) -> FrameRecord:
    """The frame's tracked boxes, each with its track's name so far."""
    signs = []
    for live, detection in followed:
        answer = named(live)
        signs.append({"track_id": live.track_id, "box": list(detection.box), "score": round(detection.score, 4),
                      "class_id": answer.class_id, "label": answer.label, "confidence": round(answer.confidence, 4)})
    return FrameRecord(frame.index, frame.time_s, signs)


def track(classifier, source: str | Path, **options) -> ClipTracks:
    """The signs in the clip at ``source``, one :class:`Track` each (see :class:`ClipTracks` for options)."""
    return ClipTracks(classifier, source, **options)


def wants_crop(track: LiveTrack, frame_size: tuple[int, int], time_s: float) -> bool:
    """Whether to classify this track's sign in this frame (see the module's docstring)."""
    x0, y0, x1, y1 = track.box
    if x0 < EDGE or y0 < EDGE or x1 > frame_size[0] - EDGE or y1 > frame_size[1] - EDGE:
        return False
    return track.side >= GROWTH * track.classified_side or time_s - track.classified_time_s >= REFRESH_S


def read_frame(reader: SignReader, tracker: SignTracker, frame: ClipFrame) -> list[tuple[LiveTrack, Detection]]:
    """One frame: its boxes, the tracks they continue, a crop for each track that wants one (its
    box refined; a sign still under ``MIN_READ_SIDE`` px is not read yet)."""
    followed = tracker.update(reader.find(frame), frame.index, frame.time_s)
    chosen = [live for live, _ in followed if wants_crop(live, frame.size, frame.time_s)]
    boxes = [reader.refine(frame, live.box) for live in chosen]
    readable = [k for k, box in enumerate(boxes) if max(box[2] - box[0], box[3] - box[1]) >= MIN_READ_SIDE]
    chosen, boxes = [chosen[k] for k in readable], [boxes[k] for k in readable]
    if chosen:
        framings = [FRAMINGS[live.crops_taken % len(FRAMINGS)] for live in chosen]
        crops, probs = reader.classify(frame, boxes, framings)
        for live, box, crop, p in zip(chosen, boxes, crops, probs, strict=True):
            live.add_crop(p, crop, box)
            live.classified_side, live.classified_time_s = live.side, frame.time_s
            live.crops_taken += 1
    return followed


def reported_signs(ended: list[LiveTrack], name: Callable[[LiveTrack], Track], reported: dict[int, int | None],
                   unknown_min_score: float = UNKNOWN_MIN_SCORE, named_min_peak: float = NAMED_MIN_PEAK) -> list[Track]:
    """The ended tracks that are signs of the clip, by id (``reported`` collects their ids and
    classes over the clip): each is an answer (``is_answer``), and a piece of a larger sign
    (``part_of``) is not one when that sign was reported; a piece of a sign that was not stays a
    sign of its own. A twin (``twin_of``: the same sign boxed tightly inside a loose box) is not
    one when its loose box was reported with its answer, or when it names nothing: read as
    another sign, it may be the sign inside a loose box on something else."""
    answers: list[Track] = []
    for live in sorted(ended, key=lambda t: t.part_of is not None or t.twin_of is not None):  # whole signs first
        named = name(live)
        if not is_answer(live, named, unknown_min_score, named_min_peak) or live.part_of in reported:
            continue
        if live.twin_of in reported and (named.unknown or reported[live.twin_of] == named.class_id):
            continue
        reported[live.track_id] = named.class_id
        answers.append(named)
    return sorted(answers, key=lambda t: t.track_id)


def is_answer(live: LiveTrack, named: Track, unknown_min_score: float = UNKNOWN_MIN_SCORE,
              named_min_peak: float = NAMED_MIN_PEAK) -> bool:
    """Whether an ended track is one of the clip's signs: read at least once, and, unknown, found
    with the detector's confidence on average (a faint, unnamed track is more often no sign at
    all), or, named, found sure once or large (a faint, small track named by a classifier that is
    sure of a patch of wallpaper is a pattern that looks like a sign)."""
    if not live.vote.crops:
        return False
    if named.unknown:
        return live.mean_score >= unknown_min_score
    x0, y0, x1, y1 = named.best_box
    return live.peak_score >= named_min_peak or max(x1 - x0, y1 - y0) >= LARGE_SIDE


def name_track(live: LiveTrack, threshold: float, class_names: list[str]) -> Track:
    """The track's one answer: the vote's class, or "unknown sign" below the classifier's threshold
    (or when no crop of it could be read)."""
    probs = live.vote.probs()
    best = int(np.argmax(probs)) if probs is not None else None
    confidence = float(probs[best]) if probs is not None else 0.0
    unknown = best is None or confidence < threshold
    return Track(live.track_id, None if unknown else best, UNKNOWN_LABEL if unknown else class_names[best], confidence,
                 unknown, live.first_frame, live.last_frame, live.first_time_s, live.time_s,
                 live.best_box or tuple(int(v) for v in live.box), live.hits)


def annotate_clip(source: str | Path, out: str | Path, records: list[FrameRecord], tracks: list[Track], *,
                  sequence: bool = False, fps: float = SEQUENCE_FPS, max_seconds: float | None = DEFAULT_MAX_SECONDS,
                  max_frames: int | None = None) -> dict[int, Image.Image]:
    """Write ``source`` again with every reported track's box and final name drawn on it; a frame
    that was not read (``stride``, dropped) shows the boxes of the last frame that was. Returns each
    track's picture where its sign was largest, cut out as the clip is written (no second pass)."""
    names = {t.track_id: f"{t.label} {100 * t.confidence:.0f}%" if not t.unknown else t.label for t in tracks}
    by_frame = {r.frame: r for r in records}
    largest = largest_boxes(records, set(names))
    thumbnails: dict[int, Image.Image] = {}
    with open_clip(source, sequence=sequence, max_seconds=max_seconds, max_frames=max_frames, fps=fps) as clip:
        writer, shown = None, []
        try:
            for frame in clip.frames():
                if writer is None:
                    writer = AnnotatedWriter(out, frame.size, clip.info.fps)
                if frame.index in by_frame:
                    shown = [(tuple(s["box"]), names[s["track_id"]]) for s in by_frame[frame.index].signs
                             if s["track_id"] in names]
                thumbnails |= {track_id: frame.picture().crop(box) for track_id, (index, box) in largest.items()
                               if index == frame.index}
                writer.write(frame.picture(), frame.time_s, shown)
        finally:
            if writer is not None:
                writer.close()
    return thumbnails


def largest_boxes(records: list[FrameRecord], track_ids: set[int]) -> dict[int, tuple[int, tuple[int, ...]]]:
    """Each track's frame and box where its sign was seen largest."""
    best: dict[int, tuple[int, tuple[int, ...]]] = {}
    for record in records:
        for sign in record.signs:
            box, track_id = tuple(sign["box"]), sign["track_id"]
            if track_id in track_ids and _area(box) > _area(best.get(track_id, (0, (0, 0, 0, 0)))[1]):
                best[track_id] = (record.frame, box)
    return best


def _area(box: tuple[int, ...]) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])
