"""Hostile images through the real CLI and the real HTTP API: only clean errors, server stays up.

    python benchmarks/fuzz_inputs.py [--count 10000] [--cli-count 2000]

Generates ``--count`` seeded inputs of 10 kinds (random bytes; truncated or corrupted PNG,
JPEG, PPM, GIF, TIFF, WebP, BMP; PNG and PPM headers declaring huge or zero dimensions;
1xN strips; 16-bit, CMYK, palette-with-transparency, LA, animated GIF; JPEGs with broken
EXIF), POSTs every one to ``traffic-signs serve api`` on loopback and checks that each answer
is a 200 with predictions or a 4xx JSON error, never a 5xx or a dropped connection, and
that the server's resident memory stays bounded. ``--cli-count`` of them also go through
``traffic-signs predict FILE... --format json`` in batches of 500 files: every file must come
back as a result or a ``{"file", "error"}`` row, with exit code 0 or 1 and no traceback.
Writes benchmarks/results/fuzz_inputs.json.
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from api_load import start_server

RESULTS = Path(__file__).parent / "results"
FORMATS = ["PNG", "JPEG", "PPM", "GIF", "TIFF", "WEBP", "BMP"]


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def random_picture(rng: np.random.Generator, max_side: int = 96) -> Image.Image:
    width, height = (int(v) for v in rng.integers(1, max_side, 2))
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def png_header(width: int, height: int, bit_depth: int = 8, colour_type: int = 2) -> bytes:
    """A PNG whose IHDR declares any size, followed by a tiny IDAT: a decompression-bomb probe."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def huge_header(rng: np.random.Generator) -> bytes:
    if rng.random() < 0.5:
        return png_header(int(rng.integers(10_000, 2**31 - 1)), int(rng.integers(10_000, 2**31 - 1)))
    return f"P6\n{rng.integers(10_000, 10**9)} {rng.integers(10_000, 10**9)}\n255\n".encode() + rng.bytes(64)


def zero_size_header(rng: np.random.Generator) -> bytes:
    return png_header(0, int(rng.integers(0, 100))) if rng.random() < 0.5 else b"P6\n0 0\n255\n"


def strip(rng: np.random.Generator) -> bytes:
    image = Image.new("RGB", (1, int(rng.integers(1, 3000))), tuple(int(v) for v in rng.integers(0, 256, 3)))
    return encoded(image.transpose(Image.Transpose.ROTATE_90) if rng.random() < 0.5 else image, "PNG")


def broken_exif_jpeg(rng: np.random.Generator) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = int(rng.integers(0, 65536))  # orientation, mostly out of range (valid: 1-8)
    data = bytearray(encoded(random_picture(rng), "JPEG", exif=exif.tobytes()))
    start = data.find(b"Exif")
    for _ in range(int(rng.integers(1, 6))):  # scribble inside the EXIF block
        data[start + int(rng.integers(0, 40))] = int(rng.integers(0, 256))
    return bytes(data)


def animated_gif(rng: np.random.Generator) -> bytes:
    frames = [Image.new("P", (int(rng.integers(1, 64)),) * 2, int(rng.integers(0, 256))) for _ in range(3)]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)


def unusual_mode(rng: np.random.Generator) -> bytes:
    picture = random_picture(rng)
    mode = ["I;16", "CMYK", "P", "LA", "RGBA", "L", "1"][int(rng.integers(0, 7))]
    if mode == "I;16":
        return encoded(Image.fromarray(rng.integers(0, 65536, picture.size[::-1], dtype=np.uint16)), "PNG")
    if mode == "CMYK":
        return encoded(picture.convert("CMYK"), ["JPEG", "TIFF"][int(rng.integers(0, 2))])
    if mode == "P":
        return encoded(picture.convert("P"), "PNG", transparency=int(rng.integers(0, 256)))
    return encoded(picture.convert(mode), "PNG")


def corrupted(rng: np.random.Generator, truncate: bool) -> bytes:
    data = bytearray(encoded(random_picture(rng), FORMATS[int(rng.integers(0, len(FORMATS)))]))
    if truncate:
        return bytes(data[: int(rng.integers(1, len(data)))])
    for _ in range(int(rng.integers(1, 9))):
        data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
    return bytes(data)


GENERATORS = {
    "random bytes": lambda rng: rng.bytes(int(rng.integers(0, 4096))),
    "truncated file": lambda rng: corrupted(rng, truncate=True),
    "corrupted bytes": lambda rng: corrupted(rng, truncate=False),
    "huge declared size": huge_header,
    "zero-size header": zero_size_header,
    "1xN strip": strip,
    "unusual mode": unusual_mode,
    "animated GIF": animated_gif,
    "broken EXIF": broken_exif_jpeg,
    "valid picture": lambda rng: encoded(random_picture(rng), FORMATS[int(rng.integers(0, len(FORMATS)))]),
}


def generate(count: int, seed: int) -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(seed)
    kinds = list(GENERATORS)
    return [(kind, GENERATORS[kind](rng)) for kind in (kinds[i % len(kinds)] for i in range(count))]


def resident_mb(pid: int) -> float:
    """Resident memory of the server and its children (uvicorn workers)."""
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)], capture_output=True, text=True)
    return sum(int(v) for v in out.stdout.split()) / 1024


def fuzz_api(inputs: list[tuple[str, bytes]], clients: int) -> dict:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = start_server(port, workers=1)
    url = f"http://127.0.0.1:{port}/v1/predict"
    statuses: Counter = Counter()
    by_kind: dict[str, Counter] = {}
    bad: list[str] = []
    try:
        memory_start = resident_mb(server.pid)
        with httpx.Client(timeout=60) as client, ThreadPoolExecutor(clients) as pool:
            def post(item: tuple[str, bytes]) -> tuple[str, str]:
                kind, data = item
                try:
                    response = client.post(url, files={"files": ("input", data)})
                    body = response.json()
                except (httpx.HTTPError, ValueError) as exc:
                    return kind, f"failed: {type(exc).__name__}"
                clean = response.status_code == 200 or (400 <= response.status_code < 500 and "error" in body)
                return kind, str(response.status_code) if clean else f"unclean {response.status_code}"
            started = time.perf_counter()
            for kind, status in pool.map(post, inputs):
                statuses[status] += 1
                by_kind.setdefault(kind, Counter())[status] += 1
                if not status.isdigit():
                    bad.append(f"{kind}: {status}")
            seconds = time.perf_counter() - started
        memory_end = resident_mb(server.pid)
        alive = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"requests": len(inputs), "seconds": round(seconds, 1), "statuses": dict(statuses),
            "statuses_by_kind": {kind: dict(counts) for kind, counts in by_kind.items()},
            "unclean": len(bad), "unclean_examples": bad[:10], "server_alive_after": alive,
            "server_rss_mb_start": round(memory_start, 1), "server_rss_mb_end": round(memory_end, 1)}


def fuzz_cli(inputs: list[tuple[str, bytes]], batch: int = 500) -> dict:
    outcomes: Counter = Counter()
    bad: list[str] = []
    for start in range(0, len(inputs), batch):
        with tempfile.TemporaryDirectory() as folder:
            names = {}
            for i, (kind, data) in enumerate(inputs[start : start + batch]):
                name = Path(folder) / f"input-{i:04d}.img"
                name.write_bytes(data)
                names[str(name)] = kind
            done = subprocess.run([sys.executable, "-m", "traffic_signs", "predict", *names, "--format", "json"],
                                  capture_output=True, text=True)
            rows = json.loads(done.stdout) if done.stdout.strip() else []
            if done.returncode not in (0, 1) or "Traceback" in done.stderr or len(rows) != len(names):
                bad.append(f"batch {start}: exit {done.returncode}, {len(rows)} rows, {done.stderr[-300:]}")
            for row in rows:
                outcomes["error row" if "error" in row else "prediction"] += 1
    return {"files": len(inputs), "outcomes": dict(outcomes), "unclean_batches": len(bad), "unclean_examples": bad[:5]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--cli-count", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "fuzz_inputs.json")
    args = parser.parse_args()
    inputs = generate(args.count, args.seed)
    kinds = Counter(kind for kind, _ in inputs)
    api = fuzz_api(inputs, args.clients)
    print("API:", json.dumps(api), flush=True)
    cli = fuzz_cli(inputs[: args.cli_count])
    print("CLI:", json.dumps(cli), flush=True)
    summary = {"inputs": args.count, "seed": args.seed, "kinds": dict(kinds), "api": api, "cli": cli}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    ok = api["unclean"] == 0 and api["server_alive_after"] and cli["unclean_batches"] == 0
    print("clean" if ok else "UNCLEAN: see the examples above")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
