"""The web app's live camera: the browser streams its camera to the server over WebRTC
(streamlit-webrtc, aiortc), each frame goes through the clip tracker as it arrives, and comes back
with every sign boxed and named so far.

Frames are read one at a time; when the reader falls behind, streamlit-webrtc drops the frames
that arrived meanwhile (``async_processing``), so the picture never lags behind a growing queue.
Needs the ``video`` extra (PyAV and streamlit-webrtc); the app offers the live camera only then.
"""

from __future__ import annotations

import threading
import time

import av
from streamlit_webrtc import VideoProcessorBase

from traffic_signs.prediction.video import MAX_LONG_SIDE, MAX_SHORT_SIDE, draw_boxes
from traffic_signs.prediction.video_signs import LiveTracks


class LiveCamera(VideoProcessorBase):
    """One visitor's camera: a tracker of its own, fed frame by frame."""

    def __init__(self, classifier, threshold: float):
        self.live = LiveTracks(classifier, threshold)
        self.lock = threading.Lock()  # frames arrive on WebRTC's thread, the page reads on its own
        self.started = time.monotonic()
        self.showing: list[str] = []

    def recv(self, frame: av.VideoFrame) -> av.VideoFrame:
        picture = frame.to_image()
        picture.thumbnail((MAX_LONG_SIDE, MAX_SHORT_SIDE) if picture.width >= picture.height
                          else (MAX_SHORT_SIDE, MAX_LONG_SIDE))  # as clips are decoded: at most 720p
        time_s = frame.time if frame.time is not None else time.monotonic() - self.started
        with self.lock:
            record = self.live.push(picture, time_s)
            self.showing = [sign_text(sign) for sign in record.signs]
        boxes = [(tuple(sign["box"]), sign_text(sign)) for sign in record.signs]
        return av.VideoFrame.from_image(draw_boxes(picture, boxes))

    def names(self) -> tuple[list[str], list[str]]:
        """The signs in view now, and every sign named since the camera started (most recent first)."""
        with self.lock:
            passed = [f"{t.label} ({t.confidence:.0%})" for t in reversed(self.live.named)]
            return list(self.showing), passed


def sign_text(sign: dict) -> str:
    """"Priority road 99%", as a frame record names a followed sign so far."""
    return f"{sign['label']} {100 * sign['confidence']:.0f}%"
