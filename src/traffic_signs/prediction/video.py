"""Read a clip frame by frame with bounded work, and write one back with boxes drawn on it.

Clips are decoded with PyAV (FFmpeg's libraries, bundled in its wheels): it hands out every
frame's own timestamp (so variable-frame-rate phone clips keep their true times), converts
and shrinks a frame in one swscale pass straight from the decoder's YUV (the detector's
256-px picture never costs a full-size RGB frame), decodes on two threads, and writes H.264
(libx264), which browsers play. OpenCV's wheels decode about as fast but give approximate
timestamps and cannot write H.264 (their FFmpeg leaves out the GPL encoder). PyAV's wheels
are 36 MB (104 MB installed) against OpenCV's 61 MB (153 MB). Licence: PyAV's code is BSD,
but its wheels bundle x264/x265, so the binary wheel is GPL; an MIT project can ship it as
long as what bundles it is offered under the GPL's terms (source available). It is in the
``video`` extra, and in the Docker image, which stays under its 500 MB cap at 425 MB through the
trims in scripts/slim_venv.sh (stripped, PyAV's own modules shrink from 31 to 5.5 MB).

What is trusted: nothing the container declares. A clip's duration, frame count and size are
only used for a progress bar and a first size check; work stops on frames actually decoded
(``max_seconds``, ``max_frames``), every decoded frame's own size is checked before it is
converted, and frames are shrunk to fit 1280x720 as they leave the decoder. Only MP4/MOV,
Matroska/WebM and AVI containers are opened, recognised by their first bytes and opened with
that demuxer alone (never FFmpeg's probing, which also knows playlists that open other
files), from a file object, so no FFmpeg protocol is ever used.

A folder of pictures is a clip too (``open_clip(folder, sequence=True)``): its images in
natural name order, ``fps`` frames a second.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from queue import Empty, Full, Queue

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from traffic_signs.errors import ImageError, ImageFormatError, StorageError, TrafficSignsError
from traffic_signs.imaging import decode

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi")
SEQUENCE_SUFFIXES = (".png", ".jpg", ".jpeg", ".ppm", ".bmp", ".webp", ".tif", ".tiff")
MAX_LONG_SIDE, MAX_SHORT_SIDE = 1280, 720  # frames are decoded to fit 720p, portrait or landscape
# The decoder holds a frame at the clip's own size before it is shrunk: 8K is the most allowed.
MAX_SOURCE_PIXELS = 7680 * 4320
DEFAULT_MAX_SECONDS = 3600.0
SEQUENCE_FPS = 30.0
DECODER_THREADS = 2  # frame threading: on this kind of 2-core machine 2 beat 1 and "all cores" alike
# Containers by their first bytes -> the only demuxer the file is handed to.
MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
# Video codecs people's cameras, phones and screen recorders write; others are refused unread.
CODECS = ("h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mjpeg", "mpeg1video", "mpeg2video", "msmpeg4v3",
          "h263", "prores", "rawvideo")


@dataclass
class ClipInfo:
    """What a clip is, as far as the decoder has seen it."""

    file: str
    width: int  # decoded frame size (at most 1280x720)
    height: int
    fps: float  # the stream's average frame rate (a live source's pace in --realtime)
    source_size: tuple[int, int]  # the clip's own frame size
    declared_frames: int | None = None  # what the container says (for a progress bar only)
    declared_seconds: float | None = None
    codec: str = ""
    decoded_frames: int = 0
    stopped_at_limit: bool = False  # max_seconds or max_frames ended the clip early
    damage: str | None = None  # the decoder stopped on broken data after some frames

    def to_dict(self) -> dict:
        return {"width": self.width, "height": self.height, "fps": round(self.fps, 3),
                "source_size": list(self.source_size), "codec": self.codec, "decoded_frames": self.decoded_frames,
                "stopped_at_limit": self.stopped_at_limit, "damage": self.damage}


class ClipFrame:
    """One decoded frame: its place and time in the clip, and its pixels on demand.

    The detector's small picture and the full (at most 720p) picture are converted only when
    asked for, each in one pass from the decoder's own pixels.
    """

    def __init__(self, index: int, time_s: float, size: tuple[int, int], source, rotation: int = 0):
        self.index, self.time_s, self.size = index, time_s, size
        self._source = source  # an av.VideoFrame or a PIL image
        self._rotation = rotation  # quarter turns counter-clockwise to stand the picture upright
        self._picture: Image.Image | None = None
        self._small: dict[int, Image.Image] = {}

    def small(self, long_side: int) -> Image.Image:
        """The frame shrunk so its long side is ``long_side`` (antialiased), for the detector."""
        if long_side not in self._small:
            scale = long_side / max(self.size)
            width, height = max(1, round(self.size[0] * scale)), max(1, round(self.size[1] * scale))
            if self._picture is not None or isinstance(self._source, Image.Image):
                small = self.picture().resize((width, height), Image.Resampling.BILINEAR, reducing_gap=3.0)
            else:
                small = self._convert(width, height)
            self._small[long_side] = small
        return self._small[long_side]

    def picture(self) -> Image.Image:
        """The whole frame at its decoded size, RGB."""
        if self._picture is None:
            if isinstance(self._source, Image.Image):
                self._picture = self._source
            else:
                self._picture = self._convert(*self.size)
        return self._picture

    def _convert(self, width: int, height: int) -> Image.Image:
        stored = (height, width) if self._rotation % 2 else (width, height)  # the decoder's orientation
        pixels = self._source.to_ndarray(format="rgb24", width=stored[0], height=stored[1], interpolation="AREA")
        if self._rotation:
            pixels = np.ascontiguousarray(np.rot90(pixels, self._rotation))
        return Image.fromarray(pixels)


@dataclass
class Clip:
    """An open clip: ``frames()`` yields its frames in order, within the limits."""

    info: ClipInfo
    max_seconds: float | None
    max_frames: int | None
    _frames: Iterator[ClipFrame] = field(repr=False)
    _close: list = field(default_factory=list, repr=False)

    def frames(self) -> Iterator[ClipFrame]:
        for frame in self._frames:
            if (self.max_frames is not None and frame.index >= self.max_frames) or \
                    (self.max_seconds is not None and frame.time_s > self.max_seconds):
                self.info.stopped_at_limit = True
                return
            self.info.decoded_frames = frame.index + 1
            yield frame

    def close(self) -> None:
        for close in self._close:
            with contextlib.suppress(Exception):
                close()

    def __enter__(self) -> Clip:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def prefetched(frames: Iterator[ClipFrame], prepare: Callable[[ClipFrame], object] | None = None,
               depth: int = 4) -> Iterator[ClipFrame]:
    """``frames`` decoded (and ``prepare``-d) on a second thread, at most ``depth`` ahead.

    FFmpeg's decoder and swscale run without Python's lock, so decoding the next frames and
    converting them for the detector overlaps with the models reading this one. Errors are
    raised here, in the caller's thread, in order; leaving the loop early stops the thread.
    """
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for frame in frames:
                if prepare is not None:
                    prepare(frame)
                while not stop.is_set():
                    try:
                        queue.put((frame, None), timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put((done, None))
        except BaseException as exc:  # handed to the caller's thread, which raises it
            queue.put((done, exc))

    worker = threading.Thread(target=produce, name="clip-decoder", daemon=True)
    worker.start()
    try:
        while True:
            item, error = queue.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            with contextlib.suppress(Empty):
                queue.get(timeout=0.05)
        worker.join()


def is_video_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def open_clip(source: str | Path, *, sequence: bool = False, max_seconds: float | None = DEFAULT_MAX_SECONDS,
              max_frames: int | None = None, fps: float = SEQUENCE_FPS, label: str | None = None) -> Clip:
    """Open a video file, or with ``sequence`` a folder of pictures, or raise :class:`ImageError`."""
    label = label or str(source)
    if sequence:
        return _open_sequence(Path(source), label, fps, max_seconds, max_frames)
    return _open_video(Path(source), label, max_seconds, max_frames)


def fit_720p(width: int, height: int) -> tuple[int, int]:
    """The size a frame is decoded at: shrunk (never enlarged) to fit 1280x720, either way round;
    even, as H.264 wants."""
    long_side, short_side = max(width, height), min(width, height)
    scale = min(1.0, MAX_LONG_SIDE / long_side, MAX_SHORT_SIDE / short_side)
    if scale == 1.0:
        return width, height
    return max(2, 2 * round(width * scale / 2)), max(2, 2 * round(height * scale / 2))


def _check_size(width: int, height: int, label: str) -> None:
    if width < 1 or height < 1:
        raise ImageError(f"{label}: video frames have no pixels ({width}x{height})")
    if width * height > MAX_SOURCE_PIXELS:
        raise ImageError(f"{label}: {width}x{height} frames are larger than the {MAX_SOURCE_PIXELS:,}-pixel limit")


def _open_regular(path: Path, label: str):
    """A binary file object for a regular file; a FIFO, device or socket is refused, not read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ImageError(f"{label}: cannot read file ({exc.strerror or exc})") from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise ImageError(f"{label}: not a regular file")
    if info.st_size == 0:
        os.close(fd)
        raise ImageFormatError(f"{label}: empty file")
    return os.fdopen(fd, "rb")


def container_format(head: bytes) -> str | None:
    """The demuxer for a file starting with ``head``: mov (MP4/MOV), matroska (MKV/WebM), avi; else None."""
    if head[4:8] in MP4_BOXES:
        return "mov"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    return None


def pyav():
    """The ``av`` module, or a clear error naming the extra that installs it."""
    try:
        import av
    except ImportError as exc:
        raise TrafficSignsError("reading clips needs PyAV: pip install 'traffic-signs[video]'") from exc
    return av


def _open_video(path: Path, label: str, max_seconds: float | None, max_frames: int | None) -> Clip:
    av = pyav()
    file = _open_regular(path, label)
    try:
        demuxer = container_format(file.read(12))
        if demuxer is None:
            raise ImageFormatError(f"{label}: not a video this tool reads (MP4/MOV, MKV/WebM or AVI)")
        file.seek(0)
        container = av.open(file, format=demuxer, buffer_size=1 << 20)
    except ImageError:
        file.close()
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        file.close()
        raise ImageError(f"{label}: cannot read video ({_ffmpeg_message(exc)})") from exc
    try:
        info, stream = _video_stream(container, label)
    except Exception:
        container.close()
        file.close()
        raise
    clip = Clip(info, max_seconds, max_frames, _decode_frames(container, stream, info, label))
    clip._close = [container.close, file.close]
    return clip


def _video_stream(container, label: str):
    """The first video stream, checked and set up for decoding, and what it declares."""
    if not container.streams.video:
        raise ImageFormatError(f"{label}: no video stream in the file")
    stream = container.streams.video[0]
    codec = stream.codec_context
    name = codec.codec.canonical_name  # the format's name (av1), not the decoder's (libdav1d)
    if name not in CODECS:
        raise ImageFormatError(f"{label}: video codec {name!r} is not one this tool reads ({', '.join(CODECS)})")
    _check_size(codec.width, codec.height, label)
    stream.thread_type = "AUTO"
    codec.thread_count = DECODER_THREADS
    rate = stream.average_rate or stream.guessed_rate
    fps = float(rate) if rate and 0 < float(rate) <= 1000 else 30.0
    declared_seconds = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
    width, height = fit_720p(codec.width, codec.height)
    info = ClipInfo(label, width, height, fps, (codec.width, codec.height), stream.frames or None, declared_seconds,
                    name)
    return info, stream


def _decode_frames(container, stream, info: ClipInfo, label: str) -> Iterator[ClipFrame]:
    """Frames in presentation order with their own times (seconds from the first frame)."""
    import av

    index, start = 0, None
    frames = container.decode(stream)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            break
        except (av.error.FFmpegError, OSError, ValueError, MemoryError) as exc:
            if index == 0:
                raise ImageError(f"{label}: cannot decode video ({_ffmpeg_message(exc)})") from exc
            info.damage = f"decoding stopped after {index} frames: {_ffmpeg_message(exc)}"
            break
        _check_size(frame.width, frame.height, label)
        pts_time = float(frame.pts * frame.time_base) if frame.pts is not None and frame.time_base else None
        if start is None:
            start = pts_time or 0.0
        time_s = pts_time - start if pts_time is not None else index / info.fps
        turns = round((frame.rotation or 0) / 90) % 4
        upright = (frame.height, frame.width) if turns % 2 else (frame.width, frame.height)
        size = fit_720p(*upright)
        if index == 0:
            info.width, info.height = size
        yield ClipFrame(index, max(0.0, time_s), size, frame, turns)
        index += 1
    if index == 0:
        raise ImageError(f"{label}: no video frames in the file")


def _ffmpeg_message(exc: Exception) -> str:
    return str(getattr(exc, "strerror", None) or exc).splitlines()[0][:200]


def _natural_key(name: str) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def sequence_files(folder: Path, label: str) -> list[Path]:
    """The pictures in ``folder`` (not its sub-folders), in natural name order (frame2 before frame10)."""
    if not folder.is_dir():
        raise ImageError(f"{label}: not a folder of pictures")
    try:
        files = [p for p in folder.iterdir() if p.suffix.lower() in SEQUENCE_SUFFIXES and p.is_file()]
    except OSError as exc:
        raise ImageError(f"{label}: cannot read folder ({exc.strerror or exc})") from exc
    if not files:
        raise ImageError(f"{label}: no pictures in the folder ({', '.join(SEQUENCE_SUFFIXES)})")
    return sorted(files, key=lambda p: _natural_key(p.name))


def _open_sequence(folder: Path, label: str, fps: float, max_seconds: float | None, max_frames: int | None) -> Clip:
    if not 0 < fps <= 1000:
        raise ImageError(f"{label}: frame rate {fps} is not between 0 and 1000")
    files = sequence_files(folder, label)
    first = decode(files[0], str(files[0]), MAX_SOURCE_PIXELS, MAX_SHORT_SIDE).image
    size = fit_720p(*first.size)
    info = ClipInfo(label, size[0], size[1], fps, first.size, len(files), len(files) / fps, "pictures")

    def frames() -> Iterator[ClipFrame]:
        for index, path in enumerate(files):
            picture = first if index == 0 else decode(path, str(path), MAX_SOURCE_PIXELS, MAX_SHORT_SIDE).image
            if picture.size != size:  # a sequence is a clip of its first picture's size
                picture = picture.resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)
            yield ClipFrame(index, index / fps, size, picture)

    return Clip(info, max_seconds, max_frames, frames())


def draw_boxes(picture: Image.Image, boxes: list[tuple[tuple[int, int, int, int], str]],
               font: ImageFont.ImageFont | None = None) -> Image.Image:
    """Each (box, text) drawn on ``picture`` in place: a yellow box, its text on black above it."""
    draw = ImageDraw.Draw(picture)
    font = font or ImageFont.load_default(size=max(12, picture.height // 40))
    width = max(2, picture.height // 240)
    for box, text in boxes:
        draw.rectangle(box, outline=(255, 215, 0), width=width)
        left, top, right, bottom = draw.textbbox((box[0], box[1]), text, font=font)
        y = box[1] - (bottom - top) - 2 * width if box[1] - (bottom - top) - 2 * width >= 0 else box[3] + width
        draw.rectangle((left - 1, y - 1, right + 3, y + bottom - top + 3), fill=(0, 0, 0))
        draw.text((box[0] + 1, y - (top - box[1])), text, fill=(255, 215, 0), font=font)
    return picture


class AnnotatedWriter:
    """An H.264 MP4 (libx264, yuv420p, fast start) of frames with labelled boxes drawn on them."""

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float):
        av = pyav()
        self.path = Path(path)
        self.size = (size[0] // 2 * 2, size[1] // 2 * 2)  # H.264 in 4:2:0 wants even sides
        try:
            self._container = av.open(str(self.path), "w", format="mp4", options={"movflags": "+faststart"})
        except (av.error.FFmpegError, OSError) as exc:
            raise StorageError(f"{self.path}: cannot write video ({_ffmpeg_message(exc)})") from exc
        rate = Fraction(fps).limit_denominator(1001)
        self._stream = self._container.add_stream("libx264", rate=rate)
        self._stream.width, self._stream.height = self.size
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"preset": "veryfast", "crf": "23"}
        self._rate = rate
        self._last_pts = -1
        font_size = max(12, self.size[1] // 40)
        self._font = ImageFont.load_default(size=font_size)

    def write(self, picture: Image.Image, time_s: float, boxes: list[tuple[tuple[int, int, int, int], str]]) -> None:
        """Draw each (box, text) on ``picture`` and append it at ``time_s``."""
        import av

        picture = picture.copy() if picture.size == self.size else picture.resize(self.size)
        draw_boxes(picture, boxes, self._font)
        frame = av.VideoFrame.from_image(picture)
        frame.pts = max(self._last_pts + 1, round(time_s * self._rate))
        self._last_pts = frame.pts
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except (av.error.FFmpegError, OSError) as exc:
            raise StorageError(f"{self.path}: cannot write video ({_ffmpeg_message(exc)})") from exc

    def close(self) -> None:
        import av

        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
        except (av.error.FFmpegError, OSError) as exc:
            raise StorageError(f"{self.path}: cannot write video ({_ffmpeg_message(exc)})") from exc
