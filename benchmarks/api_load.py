"""Load on the HTTP API: concurrent clients on loopback against a real uvicorn server.

    python benchmarks/api_load.py [--clients 32] [--requests 3000] [--seconds 60]

Starts `traffic-signs serve api` on a free loopback port, sends real GTSRB test images
(one per request) from ``--clients`` threads until ``--requests`` are done or ``--seconds``
pass, counts every non-200 or malformed answer as an error, stops the server. Prints
requests/s, p50/p99 latency and errors; writes benchmarks/results/api_load.json.
Loopback only, bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import httpx
import numpy as np

from traffic_signs.benchmarking import start_api_server
from traffic_signs.data.gtsrb import resolve_data_dir

RESULTS = Path(__file__).parent / "results"


def real_images(data_dir: Path, count: int = 64) -> list[tuple[bytes, int]]:
    with zipfile.ZipFile(data_dir / "GTSRB_Final_Test_GT.zip") as gt:
        rows = gt.read("GT-final_test.csv").decode().splitlines()[1 : count + 1]
    with zipfile.ZipFile(data_dir / "GTSRB_Final_Test_Images.zip") as images:
        return [(images.read(f"GTSRB/Final_Test/Images/{r.split(';')[0]}"), int(r.split(";")[-1])) for r in rows]


def start_server(port: int, workers: int) -> subprocess.Popen:
    return start_api_server(port, "--workers", str(workers), env={"TRAFFIC_SIGNS_THREADS": "1"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=1, help="API worker processes")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", type=Path, default=RESULTS / "api_load.json")
    args = parser.parse_args()
    images = real_images(resolve_data_dir(args.data_dir))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = start_server(port, args.workers)
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(args.requests))
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def client() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                data, label = images[i % len(images)]
                start = time.perf_counter()
                try:
                    response = http.post("/v1/predict", files=[("files", ("sign.ppm", data))])
                    ok = response.status_code == 200 and "top_k" in response.json()[0]
                except httpx.HTTPError as exc:
                    ok, response = False, exc
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    if not ok:
                        errors.append(str(getattr(response, "status_code", response)))

    try:
        start = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=20)
    ms = np.array(latencies) * 1000
    result = {"clients": args.clients, "workers": args.workers, "requests": len(latencies), "seconds": round(wall, 2),
              "requests_per_s": round(len(latencies) / wall, 1), "p50_ms": round(float(np.percentile(ms, 50)), 2),
              "p99_ms": round(float(np.percentile(ms, 99)), 2), "errors": len(errors)}
    print(json.dumps(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
