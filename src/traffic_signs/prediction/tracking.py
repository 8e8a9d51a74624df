"""Follow each physical sign through a clip, and name it once by a vote over its crops.

The tracker. Every frame, each live track predicts where its sign is now from its last box
and its velocity (centre and log-size, per second, so a skipped frame or a variable frame
rate only means a longer step), and detections are matched to predictions greedily, the
best overlap first. A sign approaching a camera grows and slides outward ever faster; a
small one can move further than its own width between two processed frames (``--stride``,
dropped frames), where plain IoU with the last box is zero, so a pair also matches when the
detection's centre lies within the predicted box's size of the predicted centre at a similar
scale. A track becomes public (gets an id) after ``MIN_HITS`` detections, which keeps a
detector's one-frame mistake out of the answer, and ends after ``MAX_GAP_S`` seconds unseen.
A detection left over that holds, or lies inside, a followed sign's box (the sign with its
plate, its symbol alone) starts no track: it is the same sign boxed twice.
A track whose box (predicted, once unseen) comes to lie inside a sign seen with four times its
area was a piece of that sign: a large sign that enters the picture cut by its edge is boxed in
pieces before it is boxed whole. It waits until that sign ends and is not reported if it is.
A track inside a sign seen with 1.5 to 4 times its area is its twin: the detector boxes a large
sign tightly and with a margin in the same frames, and until the two overlap enough both start
tracks. Area alone cannot tell a twin from a sign inside a larger false box (a Stop sign inside
a box on its pole and the wall behind, read as No entry), so a twin is dropped only when it reads
as its larger box does (or reads nothing), which is decided when they end (``reported_signs``).

Why not an off-the-shelf tracker: ``norfair`` requires numpy < 2 (the project is on 2.x);
``supervision`` dropped its ByteTrack for the ``trackers`` package, which pulls OpenCV's GUI
wheel (needs libGL) and matplotlib and scipy into a runtime image capped at 500 MB; the
remaining ByteTrack ports are one-person 0.0.x packages on scipy. With at most eight boxes a
frame, a greedy match on predicted boxes is what those do in effect (their Kalman filter is a
smoothed velocity too). On the synthetic drives of benchmarks/video.py (``--tracker bytetrack``,
the same reader and vote) a ByteTrack port split real-photo signs into 1.14 tracks each against
1.06 here (1.04 since two boxes of one sign confirmed together make one track), and named one
GTSRB sign wrong where this named none.

The vote. Each classified crop adds its log-probabilities weighted by how much it shows:
w = min(side, 2 x model input) x sharpness, where sharpness is the Laplacian's variance over
the intensity's variance in the model-sized crop (what the classifier sees: a big box
shrunk to 32 px is sharp even if the camera blurred it a little; a small or smeared one is
not), so the near, large and sharp views decide and a blurred far glimpse barely counts. The
voted distribution is the weighted geometric mean of the crops' distributions, normalised:
a product of experts scaled back to one crop's confidence, so thirty agreeing crops do not
become more sure than one sure crop and the classifier's own "unknown" threshold still applies
to the voted confidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from typing_extensions import TypedDict

from traffic_signs.prediction.detect import Detection, box_iou, same_sign, share_inside

Box = tuple[int, int, int, int]
MIN_HITS = 3  # detections before a track is a sign (a one- or two-frame detection is noise)
MAX_GAP_S = 0.7  # a track unseen this long has left the picture
MIN_IOU = 0.1  # a detection overlapping a prediction this much is the same sign
NEAR = 1.0  # or its centre within this many predicted sizes of the predicted centre...
SCALE_RATIO = 1.8  # ...at a size within this factor
VELOCITY_MEMORY = 0.5  # weight of the newest step in the smoothed velocity
SHARP_PIXELS = 64  # a crop's side counts up to this (two 32-px model inputs)
LOG_FLOOR = 1e-6  # a crop's probability below this counts as this (one crop cannot veto a class)
PART_AREA = 4.0  # a sign seen with at least this many times a track's area...
PART_INSIDE = 0.9  # ...around at least this share of the track's box makes the track a part of it
TWIN_AREA = 1.5  # a sign seen with 1.5 to PART_AREA times a track's area around it makes the track its twin


class TrackJSON(TypedDict):
    """One physical sign in a clip, named once."""

    track_id: int
    class_id: int | None
    """null when the answer is 'unknown sign'"""
    label: str
    confidence: float
    """the vote's calibrated confidence"""
    unknown: bool
    first_frame: int
    last_frame: int
    first_time_s: float
    last_time_s: float
    best_box: list[int]
    """x0, y0, x1, y1 in the clip's pixels, where the sign was read best"""
    frames: int
    """frames the sign was followed in"""


TrackJSON.__pydantic_config__ = {"extra": "forbid", "use_attribute_docstrings": True}  # type: ignore[attr-defined]


@dataclass
class Track:
    """One physical sign seen in a clip, named once."""

    track_id: int
    class_id: int | None  # None when unknown
    label: str
    confidence: float  # the voted probability of the named class
    unknown: bool
    first_frame: int
    last_frame: int
    first_time_s: float
    last_time_s: float
    best_box: Box  # the box of the crop that weighed most in the vote (the sign seen best)
    frames: int  # frames processed in which the sign was detected

    def to_dict(self) -> TrackJSON:
        return {"track_id": self.track_id, "class_id": self.class_id, "label": self.label,
                "confidence": round(self.confidence, 6), "unknown": self.unknown, "first_frame": self.first_frame,
                "last_frame": self.last_frame, "first_time_s": round(self.first_time_s, 3),
                "last_time_s": round(self.last_time_s, 3), "best_box": list(self.best_box), "frames": self.frames}


def sharpness(crop: np.ndarray) -> float:
    """High-frequency share of a uint8 crop's detail: var(Laplacian) / var(intensity), ~0 when blurred."""
    grey = crop.astype(np.float32).mean(axis=2)
    laplacian = (grey[1:-1, :-2] + grey[1:-1, 2:] + grey[:-2, 1:-1] + grey[2:, 1:-1] - 4 * grey[1:-1, 1:-1])
    return float(laplacian.var() / (grey.var() + 1.0))


def crop_weight(crop: np.ndarray, side: float) -> float:
    """How much one crop counts in its track's vote: its sign's side (capped) times its sharpness."""
    return min(side, SHARP_PIXELS) / SHARP_PIXELS * sharpness(crop)


@dataclass
class Vote:
    """The weighted sum of a track's crops' log-probabilities."""

    log_sum: np.ndarray | None = None
    weight: float = 0.0
    crops: int = 0

    def add(self, probs: np.ndarray, weight: float) -> None:
        weight = max(weight, 1e-3)  # a featureless crop still counts a little
        contribution = weight * np.log(np.maximum(probs, LOG_FLOOR))
        self.log_sum = contribution if self.log_sum is None else self.log_sum + contribution
        self.weight += weight
        self.crops += 1

    def probs(self) -> np.ndarray | None:
        """The weighted geometric mean of the crops' distributions, normalised."""
        if self.log_sum is None:
            return None
        z = self.log_sum / self.weight
        e = np.exp(z - z.max())
        return e / e.sum()


@dataclass
class LiveTrack:
    """A track while it is followed: where its sign is going, and its vote so far."""

    box: tuple[float, float, float, float]
    time_s: float
    first_frame: int
    first_time_s: float
    last_frame: int
    score: float
    track_id: int | None = None  # given when the track is confirmed
    hits: int = 1
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4))  # d(cx, cy, log w, log h)/dt
    vote: Vote = field(default_factory=Vote)
    best_weight: float = -1.0
    best_box: Box | None = None
    classified_side: float = 0.0  # the sign's side when last classified
    classified_time_s: float = -math.inf
    crops_taken: int = 0
    score_sum: float = 0.0  # the detector's scores over the track's detections
    peak_score: float = 0.0  # the detector's best score on the track
    part_of: int | None = None  # the id of a larger sign this track turned out to be a piece of
    twin_of: int | None = None  # the id of a sign boxed loosely around this track's sign in the same frames

    def __post_init__(self):
        self.score_sum = self.peak_score = self.score

    @property
    def mean_score(self) -> float:
        return self.score_sum / self.hits

    def predicted(self, time_s: float) -> tuple[float, float, float, float]:
        state = _to_state(self.box) + self.velocity * (time_s - self.time_s)
        return _from_state(state)

    def match(self, box: Box, time_s: float) -> float:
        """How well ``box`` continues this track: against where its sign should be now, or (a
        zoom that stopped, a prediction that overshot) where it was last seen."""
        return max(match_score(self.predicted(time_s), box), match_score(self.box, box))

    def follow(self, detection: Detection, frame: int, time_s: float) -> None:
        step = time_s - self.time_s
        if step > 0:
            observed = (_to_state(detection.box) - _to_state(self.box)) / step
            self.velocity = observed if self.hits == 1 else \
                VELOCITY_MEMORY * observed + (1 - VELOCITY_MEMORY) * self.velocity
        self.box, self.time_s, self.last_frame, self.score = detection.box, time_s, frame, detection.score
        self.hits += 1
        self.score_sum += detection.score
        self.peak_score = max(self.peak_score, detection.score)

    @property
    def side(self) -> float:
        return math.sqrt(max(1.0, (self.box[2] - self.box[0]) * (self.box[3] - self.box[1])))

    def add_crop(self, probs: np.ndarray, crop: np.ndarray, box: Box) -> None:
        """One classified crop of the sign, cut at ``box`` (its side sets the crop's weight)."""
        side = math.sqrt(max(1, (box[2] - box[0]) * (box[3] - box[1])))
        weight = crop_weight(crop, side)
        self.vote.add(probs, weight)
        if weight > self.best_weight:
            self.best_weight, self.best_box = weight, tuple(int(v) for v in box)


def _boxed_twice(box: tuple[float, ...], followed: list[tuple[float, ...]]) -> bool:
    """Whether ``box`` is one of the ``followed`` signs again: a near copy, a part of it, or it with more around it."""
    return any(same_sign(box, other) or same_sign(other, box) for other in followed)


def _area(box: tuple[float, ...]) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _to_state(box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2, math.log(max(x1 - x0, 1.0)), math.log(max(y1 - y0, 1.0))])


def _from_state(state: np.ndarray) -> tuple[float, float, float, float]:
    cx, cy, log_w, log_h = state
    w, h = math.exp(log_w), math.exp(log_h)
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def match_score(predicted: tuple[float, ...], box: tuple[float, ...]) -> float:
    """How well ``box`` continues a track predicted at ``predicted``: its IoU, or for a sign that
    moved past its own width, a small score when near at a similar size; 0 when not the same sign."""
    iou = box_iou(predicted, box)
    if iou >= MIN_IOU:
        return iou
    pw, ph = predicted[2] - predicted[0], predicted[3] - predicted[1]
    bw, bh = box[2] - box[0], box[3] - box[1]
    size, other = math.sqrt(max(pw * ph, 1.0)), math.sqrt(max(bw * bh, 1.0))
    if max(size, other) / min(size, other) > SCALE_RATIO:
        return 0.0
    distance = math.hypot((predicted[0] + predicted[2] - box[0] - box[2]) / 2,
                          (predicted[1] + predicted[3] - box[1] - box[3]) / 2)
    return MIN_IOU * (1 - distance / (NEAR * size)) if distance < NEAR * size else 0.0


class SignTracker:
    """Detections in, (track, detection) pairs out; tracks that ended are collected in ``ended``."""

    def __init__(self, min_hits: int = MIN_HITS, max_gap_s: float = MAX_GAP_S):
        self.min_hits, self.max_gap_s = min_hits, max_gap_s
        self.live: list[LiveTrack] = []
        self.ended: list[LiveTrack] = []
        self._next_id = 1

    def update(self, detections: list[Detection], frame: int, time_s: float) -> list[tuple[LiveTrack, Detection]]:
        """Match this frame's detections to the live tracks; start tracks for the rest."""
        pairs = sorted(((track.track_id is not None, track.match(d.box, time_s), t, k)
                        for t, track in enumerate(self.live) for k, d in enumerate(detections)), reverse=True)
        taken_tracks, taken_detections, matched = set(), set(), []
        for _, score, t, k in pairs:  # confirmed tracks choose first: a new track cannot take their sign
            if score <= 0 or t in taken_tracks or k in taken_detections:
                continue
            taken_tracks.add(t)
            taken_detections.add(k)
            self.live[t].follow(detections[k], frame, time_s)
            matched.append((self.live[t], detections[k]))
        confirmed = [track.box for track in self.live if track.track_id is not None]
        for k, detection in enumerate(detections):
            if k not in taken_detections and not _boxed_twice(detection.box, confirmed):
                self.live.append(LiveTrack(detection.box, time_s, frame, time_s, frame, detection.score))
        self._confirm()
        self._mark_parts(time_s)
        self._end_stale(time_s)
        return [(track, detection) for track, detection in matched if track.track_id is not None]

    def _confirm(self) -> None:
        """Give an id to each candidate with ``min_hits`` detections, the largest box first; a
        candidate that is by now a confirmed sign boxed twice (two boxes of one sign in the frames
        before either was confirmed: the sign and its symbol, the sign with its plate and the
        sign), as a new detection would be, is dropped instead. On the real-photo drives this took
        the signs' tracks from 1.053 to 1.038 a sign (docs/video.md)."""
        ready = sorted((t for t in self.live if t.track_id is None and t.hits >= self.min_hits),
                       key=lambda t: (t.box[2] - t.box[0]) * (t.box[3] - t.box[1]), reverse=True)
        for track in ready:
            confirmed = [t.box for t in self.live if t.track_id is not None and t.time_s == track.time_s]
            if _boxed_twice(track.box, confirmed):
                self.live.remove(track)
            else:
                track.track_id, self._next_id = self._next_id, self._next_id + 1

    def _mark_parts(self, time_s: float) -> None:
        """A confirmed track whose box (where it is predicted, if unseen now) lies inside a sign
        seen in this frame with ``PART_AREA`` times its area was a piece of that sign: a large sign
        that enters the picture cut by its edge is boxed in pieces (the letters of STOP) before it
        is boxed whole, and a piece read alone can look like another sign (No entry). Inside a sign
        seen with ``TWIN_AREA`` to ``PART_AREA`` times its area it is that sign's twin, the same sign
        boxed tightly beside a loose box. Which of them is reported is decided when they end
        (``take_ended``, ``reported_signs``)."""
        seen = [t for t in self.live if t.track_id is not None and t.time_s == time_s]
        for track in self.live:
            if track.track_id is None or track.part_of is not None:
                continue
            box = track.box if track.time_s == time_s else track.predicted(time_s)
            for whole in seen:
                if whole is track or share_inside(box, whole.box) < PART_INSIDE:
                    continue
                if _area(whole.box) >= PART_AREA * _area(box):
                    track.part_of = whole.track_id
                    break
                if track.twin_of is None and _area(whole.box) >= TWIN_AREA * _area(box):
                    track.twin_of = whole.track_id

    def _end_stale(self, time_s: float) -> None:
        stale = [t for t in self.live if time_s - t.time_s > self.max_gap_s]
        self.live = [t for t in self.live if time_s - t.time_s <= self.max_gap_s]
        self.ended += [t for t in stale if t.track_id is not None]

    def finish(self) -> None:
        """The clip ended: every confirmed live track ends with it."""
        self.ended += [t for t in self.live if t.track_id is not None]
        self.live = []

    def take_ended(self) -> list[LiveTrack]:
        """The tracks that ended, by id; a piece or a twin of a sign still followed waits until that sign ends."""
        followed = {t.track_id for t in self.live if t.track_id is not None}

        def waits(track: LiveTrack) -> bool:
            return track.part_of in followed or track.twin_of in followed

        ended = [t for t in self.ended if not waits(t)]
        self.ended = [t for t in self.ended if waits(t)]
        return sorted(ended, key=lambda t: t.track_id)
