"""One clip through the HTTP API: how long `POST /v1/track` takes and the server's peak memory.

    python benchmarks/api_track.py [--seconds 20] [--out FILE]

Makes a 1280x720, 30 fps H.264 clip of drawn signs approaching a camera along a street (three
signs, one after the other; `data.drawn_signs`, so no dataset image is involved), starts
`traffic-signs serve api` in its own process, posts the clip once to warm up and then times a
second request, and reads the server's peak resident memory (VmHWM) from /proc. Writes
``benchmarks/results/api_track.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
from PIL import Image

from traffic_signs.benchmarking import cpu_name
from traffic_signs.data.drawn_signs import draw_class

RESULTS = Path(__file__).parent / "results"
WIDTH, HEIGHT, FPS = 1280, 720, 30
SIGNS = (12, 14, 17)  # priority road, stop, no entry: drawn from their designs


def street() -> np.ndarray:
    rows = np.linspace(0, 1, HEIGHT)[:, None, None]
    return np.where(rows < 0.45, np.array([120, 165, 225]), np.array([80, 90, 85])).repeat(WIDTH, 1).astype(np.uint8)


def make_clip(path: Path, seconds: float) -> Path:
    """Signs growing from 24 to 220 px as they pass on the right, one every third of the clip."""
    rng = np.random.default_rng(0)
    background = street()
    drawings = [Image.fromarray(draw_class(c, 256, rng)) for c in SIGNS]
    frames = int(seconds * FPS)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for n in range(frames):
            part, u = divmod(n * len(SIGNS) / frames, 1.0)
            side = int(24 + 196 * u)
            picture = Image.fromarray(background)
            sign = drawings[int(part)].resize((side, side))
            picture.paste(sign, (int(700 + 400 * u), int(300 - 150 * u)), sign)
            frame = av.VideoFrame.from_image(picture)
            frame.pts, frame.time_base = n, Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "api_track.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        clip = make_clip(Path(folder) / "drive.mp4", args.seconds)
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "traffic_signs", "serve", "api", "--host", "127.0.0.1",
                                   "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env={**os.environ, "TRAFFIC_SIGNS_MAX_FILE_BYTES": str(50 * 2**20),
                                       "TRAFFIC_SIGNS_MAX_REQUEST_BYTES": str(60 * 2**20)})
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the API did not become ready")
                time.sleep(0.3)
            data = clip.read_bytes()
            post = lambda: httpx.post(f"{url}/v1/track", files={"file": ("drive.mp4", data)}, timeout=300)  # noqa: E731
            post()  # warm-up
            start = time.perf_counter()
            answer = post()
            seconds = time.perf_counter() - start
            peak = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=20)
    result = answer.json()
    figures = {"clip_seconds": args.seconds, "clip_bytes": len(data), "size": [WIDTH, HEIGHT], "fps": FPS,
               "status": answer.status_code, "request_seconds": round(seconds, 2),
               "server_peak_rss_mb": round(peak, 1), "tracks": [(t["label"], round(t["confidence"], 3))
                                                                for t in result.get("tracks", [])],
               "decoded_frames": result.get("clip", {}).get("decoded_frames"), "cpu": cpu_name(),
               "load_average": round(os.getloadavg()[0], 1)}
    print(json.dumps(figures, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
