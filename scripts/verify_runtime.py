"""Prove a trimmed serving environment still does everything the Docker image serves, so that a
cut that breaks something fails the build, not a visitor's request:

* every shared library left in the environment loads (a stripped library that no longer loads,
  or one a cut took away from another, shows here);
* the shipped model classifies a picture, and the API app is built;
* a real H.264 clip of a drawn sign (scripts/sign_clip.py) is decoded and tracked with the sign
  named, as ``POST /v1/track`` and the app do, then written again annotated (H.264) and read back;
* the Streamlit page runs a picture upload and a clip upload (played back annotated, its sign
  named) without an exception;
* the live camera, where streamlit-webrtc is installed: pyarrow and pandas import (Streamlit's
  custom components, streamlit-webrtc's among them, load both when they run), and the clip
  streamed over a real WebRTC connection between two aiortc peers on this machine (ICE, DTLS,
  SRTP, VP8) into the app's LiveCamera, as a browser streams its camera, has the sign named.
  Where it is not (the Docker image), the page says so when the live camera is switched on.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import re
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from sign_clip import FRAMES, write_sign_clip
from streamlit.testing.v1 import AppTest

import traffic_signs
from traffic_signs import Classifier
from traffic_signs.prediction.video import open_clip
from traffic_signs.prediction.video_signs import annotate_clip
from traffic_signs.serving.api import create_app

APP = f"{traffic_signs.__path__[0]}/serving/app.py"


# In a child process that leaves without running exit handlers: some modules loaded bare (never
# imported) crash in their destructors at interpreter exit, which says nothing about loading them.
LOAD_ALL = "import ctypes, os, sys\nfor path in sys.argv[1:]:\n    ctypes.CDLL(path)\nos._exit(0)"


def shared_libraries_load() -> int:
    """dlopen every shared library in site-packages (and so the libraries each one needs)."""
    site = Path(sysconfig.get_paths()["purelib"])
    libraries = [str(p) for p in site.rglob("*.so*") if p.is_file() and re.search(r"\.so(\.\d+)*$", p.name)]
    loaded = subprocess.run([sys.executable, "-c", LOAD_ALL, *libraries], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr  # OSError naming the library and why it does not load
    return len(libraries)


def picture_bytes() -> bytes:
    picture = Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def clip_tracked_and_annotated(classifier: Classifier, clip: Path, sign: int) -> None:
    records = []
    tracks = list(classifier.track(clip, on_frame=records.append))
    assert [t.class_id for t in tracks] == [sign], [t.to_dict() for t in tracks]
    out = clip.with_name("annotated.mp4")
    annotate_clip(clip, out, records, tracks)
    with open_clip(out) as annotated:
        decoded = sum(1 for _ in annotated.frames())
        assert decoded == FRAMES and annotated.info.codec == "h264", (decoded, annotated.info)


def page_runs(picture: bytes, clip: Path, sign_name: str) -> None:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.file_uploader[0].set_value([("x.png", picture, "image/png"), ("drive.mp4", clip.read_bytes(), "video/mp4")])
    app.run()
    assert not app.exception and not app.error, (app.exception, app.error)
    assert app.warning or app.success  # the picture's answer
    assert any(sign_name in m.value and "frames" in m.value for m in app.markdown), [m.value for m in app.markdown]
    assert any(element.type == "video" for element in app.main), "no annotated clip shown"


def live_camera_checked(classifier: Classifier, clip: Path, sign_name: str) -> str:
    if importlib.util.find_spec("streamlit_webrtc") is None:
        app = AppTest.from_file(APP, default_timeout=60)
        app.run()
        next(t for t in app.toggle if t.label.startswith("Live camera")).set_value(True)
        app.run()
        assert not app.exception and any("video extra" in i.value for i in app.info), (app.exception, app.info)
        return "live camera: not installed, and the page says so"
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401
    from streamlit_webrtc import WebRtcMode, webrtc_streamer  # noqa: F401  (what the app's live camera imports)

    seen = asyncio.run(live_camera_names(classifier, clip))
    assert any(sign_name in text for text in seen), seen
    return f"live camera over WebRTC: {sign_name} named"


async def live_camera_names(classifier: Classifier, clip: Path) -> list[str]:
    """Stream ``clip`` from one aiortc peer to another, as a browser sends its camera to the app,
    and feed what arrives to LiveCamera; returns every sign named on the way."""
    from aiortc import RTCPeerConnection
    from aiortc.contrib.media import MediaPlayer
    from aiortc.mediastreams import MediaStreamError

    from traffic_signs.serving.live import LiveCamera

    sender, receiver = RTCPeerConnection(), RTCPeerConnection()
    sender.addTrack(MediaPlayer(str(clip)).video)
    arrived = asyncio.get_running_loop().create_future()
    receiver.on("track", arrived.set_result)
    try:
        await sender.setLocalDescription(await sender.createOffer())
        await receiver.setRemoteDescription(sender.localDescription)
        await receiver.setLocalDescription(await receiver.createAnswer())
        await sender.setRemoteDescription(receiver.localDescription)
        track = await asyncio.wait_for(arrived, 30)
        camera, seen = LiveCamera(classifier, classifier.threshold), []
        for _ in range(FRAMES):
            try:
                frame = await asyncio.wait_for(track.recv(), 10)
            except (MediaStreamError, TimeoutError):
                break  # the clip has ended, or its last frames were lost on the way
            await asyncio.to_thread(camera.recv, frame)
            in_view, named = camera.names()
            seen += in_view + named
        return seen
    finally:
        await sender.close()
        await receiver.close()


def main() -> None:
    print(f"{shared_libraries_load()} shared libraries load")
    classifier = Classifier.load()
    picture = picture_bytes()
    print("picture:", classifier.predict(picture).to_dict()["label"])
    create_app()
    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "drive.mp4"
        sign = write_sign_clip(clip)
        name = classifier.class_names[sign]
        clip_tracked_and_annotated(classifier, clip, sign)
        print(f"clip: {name} tracked, annotated clip written and read back")
        page_runs(picture, clip, name)
        print("app: picture and clip")
        print(live_camera_checked(classifier, clip, name))
    print("runtime verified")


if __name__ == "__main__":
    main()
