"""A real browser (Debian's Chromium, driven by Playwright) uses the real app."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from traffic_signs.classes import CLASS_NAMES

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed "
                                "(scripts/install_browser.sh installs it)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    port = _free_port()
    env = {**os.environ, "PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "traffic_signs", "serve", "app", "--host", "127.0.0.1"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            break
        except OSError:
            assert process.poll() is None, "the app exited"
            assert time.monotonic() < deadline, "the app did not come up"
            time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(timeout=20)


@contextlib.contextmanager
def page_with_upload(app_url: str, picture: Path):
    """The app's page in Debian's Chromium (headless, without the background networking this
    closed machine refuses), once ``picture`` has been dropped on its uploader."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(app_url)
            page.get_by_text("Traffic sign recognition").first.wait_for(timeout=60_000)
            page.locator("input[type=file]").first.set_input_files(str(picture))
            yield page
        finally:
            browser.close()


def test_upload_a_real_sign_and_read_its_name(app_url, gtsrb_dir, tmp_path_factory):
    with zipfile.ZipFile(gtsrb_dir / "GTSRB_Final_Test_GT.zip") as gt:
        name, *_, label = gt.read("GT-final_test.csv").decode().splitlines()[1].split(";")
    out = tmp_path_factory.mktemp("browser")
    with zipfile.ZipFile(gtsrb_dir / "GTSRB_Final_Test_Images.zip") as images:
        image = Image.open(io.BytesIO(images.read(f"GTSRB/Final_Test/Images/{name}")))
        image.resize((96, 96)).save(out / "sign.png")
    with page_with_upload(app_url, out / "sign.png") as page:
        page.get_by_text(CLASS_NAMES[int(label)]).first.wait_for(timeout=60_000)
        page.get_by_text("Grad-CAM").first.wait_for(timeout=60_000)
        page.screenshot(path=str(out / "app.png"), full_page=True)
    assert (out / "app.png").stat().st_size > 10_000


def test_a_street_photo_shows_every_sign_by_name(app_url, tmp_path):
    with page_with_upload(app_url, Path(__file__).parent / "data" / "scenes" / "three_signs.jpg") as page:
        page.get_by_text("3 signs in this picture").first.wait_for(timeout=60_000)
        for name in ("Stop", "No entry", "Yield"):
            page.get_by_text(name).first.wait_for(timeout=10_000)
        page.screenshot(path=str(tmp_path / "street.png"), full_page=True)
    assert (tmp_path / "street.png").stat().st_size > 10_000


def test_an_uploaded_clip_plays_back_in_the_browser_with_its_sign_named(app_url, test_set, tmp_path):
    """A real H.264 clip through the real app in Chromium: the sign is named once and the annotated
    clip loads in the page's video player (its metadata read: a playable stream, 40 frames long)."""
    pytest.importorskip("av")
    import numpy as np

    from test_video import approach, write_clip
    from traffic_signs import Classifier

    classifier = Classifier.load()
    index = next(i for i in np.flatnonzero(test_set.labels == 12)[:20]
                 if int(classifier.probabilities(test_set.images[i][None]).argmax()) == 12)
    clip = write_clip(tmp_path / "drive.mp4", approach(test_set.images[index], 12, frames=40))
    with page_with_upload(app_url, clip) as page:
        page.get_by_text("1 sign in drive.mp4").first.wait_for(timeout=120_000)
        page.get_by_text(CLASS_NAMES[12]).first.wait_for(timeout=10_000)
        page.wait_for_function("() => { const v = document.querySelector('video');"
                               " return v && v.readyState >= 1 && v.duration > 1; }", timeout=60_000)
        duration = page.evaluate("() => document.querySelector('video').duration")
        page.screenshot(path=str(tmp_path / "clip.png"), full_page=True)
    assert 1.2 < duration < 1.5  # 40 frames at 30 fps


def test_the_live_camera_names_a_sign_from_a_fake_camera(app_url, test_set, tmp_path):
    """Chromium's fake camera plays a real clip of a sign approaching, looped; the app's live camera
    streams it to the server over WebRTC and names the sign while it is in view."""
    av = pytest.importorskip("av")
    pytest.importorskip("streamlit_webrtc")
    import numpy as np
    from playwright.sync_api import sync_playwright

    from test_video import approach
    from traffic_signs import Classifier

    classifier = Classifier.load()
    index = next(i for i in np.flatnonzero(test_set.labels == 12)[:20]
                 if int(classifier.probabilities(test_set.images[i][None]).argmax()) == 12)
    camera = tmp_path / "camera.y4m"
    with av.open(str(camera), "w", format="yuv4mpegpipe") as out:  # the format Chromium's fake camera plays
        stream = out.add_stream("rawvideo", rate=30)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for pixels in approach(test_set.images[index], 12, frames=90):
            picture = Image.fromarray(pixels).resize((640, 360))
            out.mux(stream.encode(av.VideoFrame.from_image(picture)))
        out.mux(stream.encode())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--use-fake-ui-for-media-stream",
                  "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera}"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(app_url)
            page.get_by_text("Live camera: name signs as they pass").first.click(timeout=60_000)
            start = page.frame_locator("iframe[title*='webrtc']").get_by_role("button", name="START")
            start.click(timeout=60_000)
            page.get_by_text("Named so far").first.wait_for(timeout=60_000)
            page.wait_for_function("(name) => document.body.innerText.includes(name)", arg=CLASS_NAMES[12],
                                   timeout=90_000)
            page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
        finally:
            browser.close()
