"""A short H.264 clip of one sign approaching the camera along a street, to check a serving
environment end to end: scripts/verify_runtime.py reads it in the Docker build, and
scripts/docker_smoke.sh posts it to the running image's ``POST /v1/track``.

    python scripts/sign_clip.py OUT.mp4        # writes the clip, prints the sign's class id

The sign is drawn from its design (``data.drawn_signs``), so no dataset image is needed and the
image's own packages suffice (PyAV, Pillow, NumPy); written with libx264, as phones write clips.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from traffic_signs.data.drawn_signs import draw_class

WIDTH, HEIGHT, FPS, FRAMES = 640, 360, 30, 45
SIGN = 14  # stop: its design is plain geometry and text, drawn exactly


def street() -> Image.Image:
    """Sky over a road, with a little noise: no sign in it."""
    rows = np.linspace(0, 1, HEIGHT)[:, None, None]
    pixels = np.where(rows < 0.45, np.array([120, 165, 225]), np.array([80, 90, 85]))
    pixels = pixels + np.random.default_rng(0).normal(0, 6, (HEIGHT, WIDTH, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def frames() -> list[Image.Image]:
    """The sign growing from 30 to 140 px as it passes on the right, never touching the frame's edge."""
    background, sign = street(), Image.fromarray(draw_class(SIGN, 256, np.random.default_rng(0)))
    out = []
    for n in range(FRAMES):
        u = n / (FRAMES - 1)
        side = int(30 + 110 * u)
        picture = background.copy()
        picture.paste(sign.resize((side, side)), (int(380 + 100 * u), int(150 - 120 * u)), sign.resize((side, side)))
        out.append(picture)
    return out


def write_sign_clip(path: str | Path) -> int:
    """Write the clip to ``path`` (MP4, H.264, yuv420p); returns the sign's GTSRB class id."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for n, picture in enumerate(frames()):
            frame = av.VideoFrame.from_image(picture)
            frame.pts, frame.time_base = n, Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return SIGN


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python scripts/sign_clip.py OUT.mp4")
    print(write_sign_clip(sys.argv[1]))
