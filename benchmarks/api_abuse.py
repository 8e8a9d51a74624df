"""Abuse on the HTTP API: the probes of a hostile or unlucky client against a real server.

    python benchmarks/api_abuse.py [--seconds 20] [--clients 32] [--settle 10]

Starts `traffic-signs serve api` on a free loopback port and runs each probe in turn: huge or
elongated pictures, a lossless WebP and a 16-bit PNG of 50 MP, the worst picture still allowed
(15 MP, 16-bit) from ``--clients`` clients for ``--seconds``, ordinary photos from as many
clients, a chunked body past the limit, slow clients that never finish their headers, a client
that hangs up mid-request, formats outside the allow-list, unknown paths. For every probe it
reports the status codes, the server's peak RSS during the probe and its settled RSS
``--settle`` seconds after, and the latency of /healthz polled throughout. Writes
benchmarks/results/api_abuse.json. Loopback only, bounded in count and time.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from traffic_signs.benchmarking import start_api_server

RESULTS = Path(__file__).parent / "results"
Probe = Callable[[str, argparse.Namespace], list[str]]  # returns one outcome (status or error name) per request


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo(width: int, height: int, seed: int = 0) -> bytes:
    """An ordinary JPEG photo: smooth noise, searched for a sign by the server."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height // 16, width // 16, 3), dtype=np.uint8)
    return encoded(Image.fromarray(pixels).resize((width, height)), "JPEG", quality=85)


def post(url: str, name: str, data: bytes, params: dict | None = None, timeout: float = 60) -> str:
    try:
        return str(httpx.post(f"{url}/v1/predict", files=[("files", (name, data))], params=params,
                              timeout=timeout).status_code)
    except httpx.HTTPError as exc:
        return type(exc).__name__


def from_clients(url: str, clients: int, seconds: float, payload: tuple[str, bytes]) -> list[str]:
    deadline = time.monotonic() + seconds

    def client(_: int) -> list[str]:
        outcomes = []
        while time.monotonic() < deadline:
            outcomes.append(post(url, *payload))
        return outcomes

    with ThreadPoolExecutor(clients) as pool:
        return [outcome for outcomes in pool.map(client, range(clients)) for outcome in outcomes]


def probe_huge_and_elongated(url: str, args: argparse.Namespace) -> list[str]:
    strip = encoded(Image.new("L", (20_000, 129)), "PNG")
    tall = encoded(Image.new("L", (387_596, 129)), "PNG")
    return [post(url, "strip.png", strip), post(url, "tall.png", tall)]


def probe_50mp_lossless(url: str, args: argparse.Namespace) -> list[str]:
    webp = encoded(Image.new("RGB", (7071, 7071), (90, 90, 90)), "WEBP", lossless=True)
    deep = encoded(Image.fromarray(np.full((7071, 7071), 40_000, np.uint16)), "PNG")
    return [post(url, "big.webp", webp), post(url, "deep.png", deep)]


def probe_worst_allowed(url: str, args: argparse.Namespace) -> list[str]:
    gradient = np.add.outer(np.arange(3900, dtype=np.uint16) * 16, np.arange(3900, dtype=np.uint16))
    deep = encoded(Image.fromarray(gradient.astype(np.uint16)), "PNG", compress_level=9)
    return from_clients(url, args.clients, args.seconds, ("deep.png", deep))


def probe_ordinary_photos(url: str, args: argparse.Namespace) -> list[str]:
    return from_clients(url, args.clients, args.seconds, ("photo.jpg", photo(640, 480)))


def probe_chunked_body(url: str, args: argparse.Namespace) -> list[str]:
    def body():
        yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\n'
        for _ in range(400):  # 25 MB against the 20 MB limit
            yield b"a" * 65536

    try:
        response = httpx.post(f"{url}/v1/predict", content=body(), timeout=30,
                              headers={"content-type": "multipart/form-data; boundary=b"})
        return [str(response.status_code)]
    except httpx.HTTPError as exc:  # the server may close before the client has sent it all
        return [type(exc).__name__]


def probe_slow_clients(url: str, args: argparse.Namespace) -> list[str]:
    host, port = url.removeprefix("http://").split(":")
    sockets = []
    for _ in range(args.slow_clients):
        sock = socket.create_connection((host, int(port)), timeout=5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
        sockets.append(sock)
    deadline = time.monotonic() + 30
    outcomes = []
    for sock in sockets:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            outcomes.append("closed" if sock.recv(1024) == b"" else "answered")
        except OSError:
            outcomes.append("still open")
        sock.close()
    return outcomes


def probe_hang_up(url: str, args: argparse.Namespace) -> list[str]:
    """16 photos take the server a minute or more; the client leaves after 1 s. The server's CPU
    time over the next 10 s shows whether it went on working for nobody."""
    files = [("files", (f"{i}.jpg", photo(1600, 1200, i))) for i in range(16)]
    try:
        httpx.post(f"{url}/v1/predict", files=files, timeout=1.0)
        outcome = "answered"
    except httpx.TimeoutException:
        outcome = "hung up"
    before = cpu_seconds(args.server_pid)
    time.sleep(10)
    return [outcome, f"server CPU in the 10 s after: {cpu_seconds(args.server_pid) - before:.1f} s"]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def probe_formats_and_paths(url: str, args: argparse.Namespace) -> list[str]:
    small = Image.new("RGB", (16, 16), (200, 0, 0))
    outcomes = [post(url, f"x.{fmt.lower()}", encoded(small, fmt)) for fmt in ("TGA", "SGI", "PCX", "ICO")]
    outcomes.append(post(url, "x.eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 16 16\n"))
    outcomes.append(post(url, "one.png", encoded(small.resize((1, 1)), "PNG"), params={"search": "true"}))
    outcomes += [str(httpx.get(f"{url}/nowhere").status_code), str(httpx.get(f"{url}/v1/predict").status_code)]
    return outcomes


PROBES: dict[str, Probe] = {
    "129 x 20,000 and 129 x 387,596 PNG": probe_huge_and_elongated,
    "7071 x 7071 lossless WebP and 16-bit PNG": probe_50mp_lossless,
    "worst allowed (3900 x 3900 16-bit PNG), all clients": probe_worst_allowed,
    "640 x 480 JPEG photos, all clients": probe_ordinary_photos,
    "25 MB chunked body": probe_chunked_body,
    "slow clients (unfinished headers)": probe_slow_clients,
    "client hangs up after 1 s (16 photos)": probe_hang_up,
    "TGA/SGI/PCX/ICO/EPS, 1x1 search, 404, 405": probe_formats_and_paths,
}


class Watch:
    """Polls the server's RSS and /healthz latency in the background while a probe runs."""

    def __init__(self, url: str, pid: int):
        self.url, self.pid = url, pid
        self.peak_rss = 0
        self.health: list[float] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._rss), threading.Thread(target=self._healthz)]

    def __enter__(self) -> Watch:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _rss(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, rss_bytes(self.pid))
            time.sleep(0.05)

    def _healthz(self) -> None:
        with httpx.Client(timeout=10) as http:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    ok = http.get(f"{self.url}/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.health.append(time.perf_counter() - started if ok else float("inf"))
                time.sleep(0.1)


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def start_server(port: int) -> subprocess.Popen:
    return start_api_server(port)


def run_probe(name: str, probe: Probe, url: str, pid: int, args: argparse.Namespace) -> dict:
    idle = rss_bytes(pid)
    started = time.monotonic()
    with Watch(url, pid) as watch:
        outcomes = probe(url, args)
    seconds = time.monotonic() - started
    time.sleep(args.settle)
    health = np.array(watch.health) * 1000
    answered = health[np.isfinite(health)]
    mb = 2**20
    return {"probe": name, "outcomes": dict(Counter(outcomes)), "seconds": round(seconds, 1),
            "idle_rss_mb": round(idle / mb), "peak_rss_mb": round(watch.peak_rss / mb),
            "settled_rss_mb": round(rss_bytes(pid) / mb), "healthz_checks": len(health),
            "healthz_failed": int(len(health) - len(answered)),
            "healthz_p99_ms": round(float(np.percentile(answered, 99)), 1) if len(answered) else None,
            "healthz_max_ms": round(float(answered.max()), 1) if len(answered) else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="duration of the many-client probes")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--slow-clients", type=int, default=1100)
    parser.add_argument("--settle", type=float, default=10, help="seconds after each probe before settled RSS")
    parser.add_argument("--only", default=None, help="run the probes whose name contains this text")
    parser.add_argument("--out", type=Path, default=RESULTS / "api_abuse.json")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.slow_clients + 256)), hard))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = start_server(port)
    url = f"http://127.0.0.1:{port}"
    args.server_pid = server.pid
    results = []
    try:
        for name, probe in PROBES.items():
            if args.only and args.only not in name:
                continue
            results.append(run_probe(name, probe, url, server.pid, args))
            print(json.dumps(results[-1]), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=20)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"cpu": cpu_name(), "cores": os.cpu_count(), "probes": results}, indent=2) + "\n")


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    main()
