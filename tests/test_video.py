"""Signs in clips: real video files written here (H.264 through PyAV) from official-test signs
pasted on a street, read back by the product's decoder, tracker and vote.

The official test set was never seen by the detector (it trains on the training split) nor the
classifier; the street is drawn, so no background photograph is needed.
"""

from __future__ import annotations

import json
import os
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from traffic_signs import Classifier
from traffic_signs.cli import main
from traffic_signs.data.scenes import SIGN_INSET, shape_mask, sign_shape
from traffic_signs.errors import ImageError
from traffic_signs.prediction import video
from traffic_signs.prediction.detect import Detection
from traffic_signs.prediction.tracking import SignTracker, Vote, crop_weight
from traffic_signs.prediction.video_signs import track

av = pytest.importorskip("av")

WIDTH, HEIGHT, FPS = 640, 360, 30
TRACK_KEYS = {"track_id": int, "class_id": (int, type(None)), "label": str, "confidence": float, "unknown": bool,
              "first_frame": int, "last_frame": int, "first_time_s": float, "last_time_s": float, "best_box": list,
              "frames": int}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


def street(rng: np.random.Generator, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """Sky over trees over a road, with noise: no sign in it."""
    rows = np.linspace(0, 1, height)[:, None, None]
    pixels = np.where(rows < 0.45, np.array([120, 165, 225]), np.array([70, 110, 60]))
    pixels = pixels + rng.normal(0, 8, (height, width, 3))
    return np.clip(pixels, 0, 255).astype(np.uint8)


def paste(canvas: np.ndarray, crop: np.ndarray, class_id: int, side: int, x: int, y: int, blur: float = 0) -> None:
    """A 32x32 GTSRB crop cut out along its shape, ``side`` px square at (x, y)."""
    inset = 32 * SIGN_INSET
    sign = Image.fromarray(crop).resize((side, side), Image.Resampling.BILINEAR, box=(inset, inset, 32 - inset,
                                                                                       32 - inset))
    if blur:
        sign = sign.filter(ImageFilter.GaussianBlur(blur))
    mask = shape_mask(sign_shape(class_id), side)[..., None]
    region = canvas[y : y + side, x : x + side].astype(np.float32)
    canvas[y : y + side, x : x + side] = (region * (1 - mask) + np.asarray(sign, np.float32) * mask).astype(np.uint8)


def approach(crop: np.ndarray, class_id: int, frames: int = 45, blur_frames: int = 0, seed: int = 0) -> list:
    """A sign growing from 40 to 150 px and sliding right, on a shaking street."""
    rng = np.random.default_rng(seed)
    background = street(rng)
    out = []
    for i in range(frames):
        u = i / (frames - 1)
        side = int(40 + 110 * u)
        shake = rng.integers(-3, 4, 2)
        x, y = int(300 + 260 * u - side / 2) + shake[0], int(150 - 60 * u - side / 2) + shake[1]
        canvas = background.copy()
        paste(canvas, crop, class_id, side, max(0, x), max(0, y), blur=6 if i < blur_frames else 0)
        out.append(canvas)
    return out


def write_clip(path: Path, frames: list[np.ndarray], codec: str = "libx264", fps: int = FPS,
               container: str | None = None) -> Path:
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p" if codec != "mjpeg" else "yuvj420p"
        for n, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = n, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


@pytest.fixture(scope="module")
def sign(classifier, test_set) -> tuple[np.ndarray, int]:
    """An official-test priority-road sign the classifier names alone (the test's precondition)."""
    for index in np.flatnonzero(test_set.labels == 12)[:20]:
        crop = test_set.images[index]
        if int(classifier.probabilities(crop[None]).argmax()) == 12:
            return crop, 12
    raise AssertionError("no priority-road sign in the first 20 that the classifier names")


@pytest.fixture(scope="module")
def clip(tmp_path_factory, sign) -> Path:
    return write_clip(tmp_path_factory.mktemp("clips") / "approach.mp4", approach(*sign))


def test_one_sign_approaching_is_one_track_named_once(classifier, clip, sign):
    run = classifier.track(clip)  # the Python API: Classifier.load().track("clip.mp4")
    tracks = list(run)
    assert len(tracks) == 1, [t.to_dict() for t in tracks]
    assert tracks[0].class_id == sign[1] and not tracks[0].unknown
    assert tracks[0].frames >= 35  # followed through almost every frame of 45
    assert run.info.decoded_frames == 45 and run.stats.processed_frames == 45
    assert abs(tracks[0].last_time_s - 44 / FPS) < 1e-6


@pytest.mark.parametrize("codec, container, suffix", [("libvpx-vp9", "webm", "webm"), ("mjpeg", "avi", "avi"),
                                                      ("libx264", "matroska", "mkv"), ("libsvtav1", "mp4", "mov")])
def test_other_containers_and_codecs_read_the_same(classifier, tmp_path, sign, codec, container, suffix):
    path = write_clip(tmp_path / f"approach.{suffix}", approach(*sign, frames=30), codec, container=container)
    tracks = list(track(classifier, path))
    assert [t.class_id for t in tracks] == [sign[1]]


def test_the_tracker_keeps_one_id_when_a_fast_sign_skips_frames():
    """Without any model: a sign growing 8% and moving more than its own width between reads
    (every third frame) keeps its id; a second sign elsewhere gets another."""
    tracker = SignTracker()
    ids = set()
    for step in range(20):
        time_s = step * 3 / FPS
        side = 20 * 1.08 ** (3 * step)
        x = 600 + 45 * step * (1 + step / 10)
        near = Detection((int(x), 200, int(x + side), int(200 + side)), 0.9)
        far = Detection((100, 100, 130, 130), 0.8)
        for live, detection in tracker.update([near, far], 3 * step, time_s):
            if detection is near:
                ids.add(live.track_id)
    assert len(ids) == 1
    tracker.finish()
    assert len(tracker.take_ended()) == 2


def test_a_sign_boxed_twice_from_its_first_frame_is_one_track():
    """Two boxes on one sign from the first frame on (the sign, and the sign with its plate below),
    neither yet confirmed when the other appears: one track; a sign beside it keeps its own."""
    tracker = SignTracker()
    ids = set()
    for frame in range(12):
        x = 300 + 4 * frame
        sign = Detection((x, 100, x + 40, 140), 0.8)
        with_plate = Detection((x - 2, 98, x + 42, 175), 0.5)
        beside = Detection((x + 120, 100, x + 160, 140), 0.7)
        ids |= {live.track_id for live, _ in tracker.update([sign, with_plate, beside], frame, frame / FPS)}
    tracker.finish()
    assert len(ids) == 2
    assert len(tracker.take_ended()) == 2


def test_a_faint_small_named_track_is_no_answer_but_a_sure_or_large_one_is():
    """Named tracks the detector never scored above 0.5 count as signs only when large: on
    sign-free drives such tracks were patterns of the background the classifier was sure of."""
    from traffic_signs.prediction.tracking import LiveTrack
    from traffic_signs.prediction.video_signs import is_answer, name_track

    def ended(box, scores):
        live = LiveTrack(box, 0.0, 0, 0.0, 0, scores[0], track_id=1)
        for k, score in enumerate(scores[1:], 1):
            live.follow(Detection(box, score), k, k / FPS)
        probs = np.full(43, 0.01 / 42)
        probs[14] = 0.99
        live.add_crop(probs, np.zeros((32, 32, 3), np.uint8), box)
        return live, name_track(live, 0.95, [str(c) for c in range(43)])

    small, large = (10, 10, 60, 60), (10, 10, 260, 260)
    assert not is_answer(*ended(small, [0.35, 0.4, 0.45]))
    assert is_answer(*ended(small, [0.35, 0.6, 0.45]))
    assert is_answer(*ended(large, [0.35, 0.4, 0.45]))


def read_as(class_id: int | None) -> np.ndarray:
    """A crop's probabilities when it is read as ``class_id`` (at 0.99), or as nothing (None)."""
    if class_id is None:
        return np.full(43, 1 / 43)
    probs = np.full(43, 0.01 / 42)
    probs[class_id] = 0.99
    return probs


def reported_classes(frames: list[list[Detection]], reads) -> list[int]:
    """The classes the real tracker and reporting rule give a clip whose frames hold these
    detections; ``reads(detection)`` is a crop's probabilities, or None where no crop is read.
    An unknown sign is -1."""
    from traffic_signs.prediction.video_signs import name_track, reported_signs

    tracker, ids, signs = SignTracker(), {}, []

    def name(live):
        return name_track(live, 0.95, [str(c) for c in range(43)])

    for frame, detections in enumerate(frames):
        for live, detection in tracker.update(detections, frame, frame / FPS):
            probs = reads(detection)
            if probs is not None:
                live.add_crop(probs, np.zeros((32, 32, 3), np.uint8), detection.box)
        signs += reported_signs(tracker.take_ended(), name, ids)
    tracker.finish()
    signs += reported_signs(tracker.take_ended(), name, ids)
    return sorted(-1 if sign.class_id is None else sign.class_id for sign in signs)


def test_a_piece_of_a_sign_boxed_before_the_whole_sign_is_not_a_sign_of_its_own():
    """A large sign that enters cut by the frame's top edge is boxed in pieces (the letters of
    STOP) before it is boxed whole; a piece read alone (as No entry) and lost from sight just
    before the growing box of the sign comes to hold it is a part of that sign, not reported.
    A sign beside it stays a sign, and so does the piece when the whole sign is never read."""
    beside, other_piece = Detection((900, 300, 940, 340), 0.8), Detection((560, 0, 640, 60), 0.6)
    frames = []
    for frame in range(40):
        side = min(280, 60 * 1.15 ** max(0, frame - 14))
        grows = Detection((440, 0, 440 + round(side), round(side)), 0.9)  # a piece, then the whole sign
        frames.append([grows, other_piece, beside] if frame < 15 else [grows, beside])

    def reads(whole_read: bool):
        def read(detection):
            if detection is beside or detection is other_piece:
                return read_as(33 if detection is beside else 17)
            return read_as(14) if whole_read and detection.box[2] - detection.box[0] >= 200 else None
        return read

    assert reported_classes(frames, reads(whole_read=True)) == [14, 33]
    assert reported_classes(frames, reads(whole_read=False)) == [17, 33]


def test_a_sign_boxed_tightly_and_loosely_is_one_sign_unless_the_loose_box_reads_as_another():
    """The detector boxes a large sign tightly and with a margin (twice the area) in the same
    frames; the loose box first overlaps the tight one in part, so both start tracks. Read alike
    (or the tight one unread), they are one sign; the loose box read as another sign (a false box on
    the sign's pole and the wall behind it) keeps the sign inside it a sign of its own."""
    frames = []
    for frame in range(30):
        side = 80 + 4 * frame
        drop = max(0.0, 0.65 - 0.05 * frame) * side  # the loose box slides onto the sign
        tight = Detection((400, 100, 400 + side, 100 + side), 0.9)
        loose = Detection((round(400 - 0.2 * side), round(100 - 0.2 * side + drop),
                           round(400 + 1.2 * side), round(100 + 1.2 * side + drop)), 0.9)
        frames.append([tight, loose])

    def reported(tight_reads: int | None, loose_reads: int | None) -> list[int]:
        return reported_classes(frames, lambda d: read_as(tight_reads if d.box[0] == 400 else loose_reads))

    assert reported(14, 14) == [14]
    assert reported(None, 14) == [14]
    assert reported(14, 17) == [14, 17]
    assert reported(14, None) == [-1, 14]


def test_a_one_frame_detection_is_no_track():
    tracker = SignTracker()
    tracker.update([Detection((10, 10, 40, 40), 0.9)], 0, 0.0)
    for frame in range(1, 30):
        tracker.update([], frame, frame / FPS)
    tracker.finish()
    assert tracker.take_ended() == []


def test_a_small_signs_box_is_found_again_at_full_resolution(classifier, sign):
    """A 28-px sign in a 720p frame, given the kind of box the detector's 256-px view draws on it
    (100 px), is boxed again tightly before it is cut out."""
    from traffic_signs.prediction.detect import box_iou
    from traffic_signs.prediction.video import ClipFrame
    from traffic_signs.prediction.video_signs import SignReader

    canvas = street(np.random.default_rng(3), 1280, 720)
    paste(canvas, *sign, 28, 700, 300)
    frame = ClipFrame(0, 0.0, (1280, 720), Image.fromarray(canvas))
    refined = SignReader(classifier).refine(frame, (664, 264, 764, 364))
    assert box_iou(refined, (700, 300, 728, 328)) >= 0.5, refined


def test_the_vote_beats_a_single_frame_when_the_first_frames_are_blurred(classifier, test_set):
    """Crops of one real sign: the first eight blurred past reading, then three sharp ones. The
    first crop alone is not named right; the weighted vote is, with the classifier's threshold."""
    checked = 0
    for index in range(0, 600, 7):
        crop, label = test_set.images[index], int(test_set.labels[index])
        blurred = np.asarray(Image.fromarray(crop).filter(ImageFilter.GaussianBlur(2.5)))
        probs_blurred, probs_sharp = classifier.probabilities(np.stack([blurred, crop]))
        if probs_blurred.argmax() == label and probs_blurred.max() >= classifier.threshold:
            continue  # blur did not hide this one: no test of the vote
        if probs_sharp.argmax() != label:
            continue  # the classifier misses it even sharp
        vote = Vote()
        for _ in range(8):
            vote.add(probs_blurred, crop_weight(blurred, 20))
        for side in (40, 60, 80):
            vote.add(probs_sharp, crop_weight(crop, side))
        voted = vote.probs()
        assert voted.argmax() == label and voted.max() >= classifier.threshold, index
        checked += 1
    assert checked >= 5


def test_an_approach_blurred_at_first_is_named_right(classifier, tmp_path, sign):
    path = write_clip(tmp_path / "blurred.mp4", approach(*sign, blur_frames=25))
    tracks = list(track(classifier, path))
    assert [t.class_id for t in tracks] == [sign[1]]


def test_stride_reads_every_kth_frame(classifier, clip, sign):
    run = track(classifier, clip, stride=3)
    tracks = list(run)
    assert run.stats.processed_frames == 15 and [t.class_id for t in tracks] == [sign[1]]


def test_decoding_on_a_second_thread_gives_the_same_tracks(classifier, clip):
    alone, prefetched = list(track(classifier, clip)), list(track(classifier, clip, prefetch=True))
    assert [t.to_dict() for t in alone] == [t.to_dict() for t in prefetched]


def test_realtime_reads_or_drops_every_frame_at_the_clips_pace(classifier, clip):
    run = track(classifier, clip, realtime=True)
    list(run)
    assert run.stats.processed_frames + run.stats.dropped_frames == 45
    assert run.stats.seconds >= 44 / FPS  # paced like a camera: never faster than the clip
    lags = run.stats.lags_s  # each frame read is answered after it arrived, and the JSON says how late
    assert len(lags) == run.stats.processed_frames and min(lags) >= 0
    assert run.stats.to_dict()["lag_s_max"] == round(max(lags), 4)


def test_a_clip_read_as_fast_as_it_decodes_reports_no_lag(classifier, clip):
    run = track(classifier, clip)
    list(run)
    assert run.stats.lags_s == [] and "lag_s_max" not in run.stats.to_dict()


def test_the_table_of_a_live_run_says_what_was_dropped_and_how_late(capsys, clip, sign):
    assert main(["predict", str(clip), "--realtime"]) == 0
    head, row = capsys.readouterr().out.splitlines()[:2]
    assert re.search(r"\(\d+ read, \d+ dropped; answers \d+ ms behind the camera, at most \d+ ms\)$", head)
    assert f"{sign[1]:>3} Priority road" in row  # the sign named, as without --realtime


def test_json_contract_frames_jsonl_and_annotated_clip(tmp_path, capsys, clip, sign):
    jsonl, annotated = tmp_path / "frames.jsonl", tmp_path / "annotated.mp4"
    code = main(["predict", str(clip), "--format", "json", "--frames-jsonl", str(jsonl), "--annotate", str(annotated)])
    assert code == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert set(result) == {"file", "clip", "stats", "tracks"}
    (only,) = result["tracks"]
    assert set(only) == set(TRACK_KEYS)
    for key, kind in TRACK_KEYS.items():
        assert isinstance(only[key], kind), key
    assert only["class_id"] == sign[1] and len(only["best_box"]) == 4
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [line["frame"] for line in lines] == list(range(45))
    assert {s["track_id"] for line in lines for s in line["signs"]} == {only["track_id"]}
    with av.open(str(annotated)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        assert stream.codec_context.name == "h264" and len(frames) == 45
        assert (frames[0].width, frames[0].height) == (WIDTH, HEIGHT)
    drawn = frames[40].to_ndarray(format="rgb24").astype(int)  # the box is drawn in yellow (255, 215, 0)
    assert ((drawn[..., 0] > 200) & (drawn[..., 1] > 170) & (drawn[..., 2] < 80)).sum() > 100


def test_a_folder_of_pictures_is_a_clip(classifier, tmp_path, sign):
    for n, pixels in enumerate(approach(*sign, frames=30)):
        Image.fromarray(pixels).save(tmp_path / f"frame{n}.png")  # frame2 before frame10: natural order
    run = track(classifier, tmp_path, sequence=True, fps=15)
    tracks = list(run)
    assert [t.class_id for t in tracks] == [sign[1]]
    assert run.info.decoded_frames == 30 and abs(tracks[0].last_time_s - 29 / 15) < 1e-6


def test_limits_stop_the_clip_on_frames_actually_decoded(classifier, clip):
    run = track(classifier, clip, max_frames=10)
    list(run)
    assert run.info.decoded_frames == 10 and run.info.stopped_at_limit
    run = track(classifier, clip, max_seconds=0.5)
    list(run)
    assert run.info.decoded_frames == 16 and run.info.stopped_at_limit


def test_frames_are_decoded_at_most_at_720p(tmp_path):
    rng = np.random.default_rng(1)
    big = [rng.integers(0, 255, (1080, 1920, 3), dtype=np.uint8) for _ in range(2)]
    with video.open_clip(write_clip(tmp_path / "1080p.mp4", big)) as clip:
        frame = next(clip.frames())
        assert frame.size == (1280, 720) and frame.picture().size == (1280, 720)
        assert clip.info.source_size == (1920, 1080)


def _error(path: Path, **options) -> str:
    with pytest.raises(ImageError) as caught, video.open_clip(path, **options) as clip:
        list(clip.frames())
    return str(caught.value)


def test_bad_files_give_clean_errors(tmp_path, clip):
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert "empty file" in _error(tmp_path / "empty.mp4")
    Image.new("RGB", (64, 64)).save(tmp_path / "picture.png")
    os.rename(tmp_path / "picture.png", tmp_path / "picture.mp4")
    assert "not a video this tool reads" in _error(tmp_path / "picture.mp4")
    (tmp_path / "text.mkv").write_text("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\nfile:///etc/passwd\n")
    assert "not a video this tool reads" in _error(tmp_path / "text.mkv")
    data = clip.read_bytes()
    (tmp_path / "garbage.mp4").write_bytes(data[:32] + np.random.default_rng(0).bytes(20000))
    assert _error(tmp_path / "garbage.mp4")
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])  # the index (moov) is written last: gone
    assert "cannot read video" in _error(tmp_path / "cut.mp4")
    os.mkfifo(tmp_path / "fifo.mp4")
    assert "not a regular file" in _error(tmp_path / "fifo.mp4")
    assert "no pictures" in _error(tmp_path, sequence=True)


def test_a_clip_cut_after_its_index_gives_the_frames_it_has(tmp_path, sign):
    """A fast-start MP4 (index first) cut short decodes up to the cut, never past it."""
    path = tmp_path / "faststart.mp4"
    frames = approach(*sign)
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for pixels in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        out.mux(stream.encode())
    data = path.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[:-1500])  # the last few frames (a still street: ~100-400 bytes each)
    with video.open_clip(tmp_path / "cut.mp4") as clip:
        decoded = list(clip.frames())
        assert 0 < len(decoded) < 45 and "decoding stopped" in clip.info.damage
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])  # inside the first (key) frame: nothing to show
    assert "cannot decode video" in _error(tmp_path / "cut.mp4")


def test_frames_larger_than_the_limit_are_refused_before_decoding(tmp_path, monkeypatch, clip):
    monkeypatch.setattr(video, "MAX_SOURCE_PIXELS", 320 * 180)
    assert "larger than the 57,600-pixel limit" in _error(clip)


def test_a_clip_path_that_fails_is_an_error_row_and_exit_code_1(tmp_path, capsys, clip):
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100)
    code = main(["predict", str(tmp_path / "broken.mp4"), str(clip), "--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert code == 1 and "error" in rows[0] and rows[1]["tracks"]


def test_leaving_a_clip_early_stops_its_decoding_thread(classifier, clip):
    import threading

    def stop_at_frame_5(record) -> None:
        if record.frame == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        list(track(classifier, clip, on_frame=stop_at_frame_5, prefetch=True))
    assert not [t for t in threading.enumerate() if t.name == "clip-decoder"]
