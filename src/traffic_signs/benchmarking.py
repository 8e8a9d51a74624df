"""What the benchmarks share: the CPU named beside every speed figure, the real-photo folder, an API server.

The same code ran 3-6x slower on AVX2-only CPUs than on ones with AVX-512/AMX, so a speed
figure without its CPU means little.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

VECTOR_PREFIXES = ("avx512", "amx")
VECTOR_FLAGS = ("avx2", "avx_vnni")


def cpu_name() -> str:
    """e.g. "AMD EPYC, 2 cores, avx2" (Linux; elsewhere the platform's processor name)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    first_cpu = info.split("\n\n")[0].splitlines()
    fields = {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in first_cpu)}
    name = fields.get("model name", platform.machine())
    flags = fields.get("flags", "").split()
    vector = sorted({f for f in flags if f.startswith(VECTOR_PREFIXES) or f in VECTOR_FLAGS})
    return f"{name}, {os.cpu_count()} cores, {' '.join(vector) or 'no AVX2'}"


def real_photo_folder() -> Path:
    """The labelled real photos: ``$TRAFFIC_SIGNS_REAL_PHOTOS``, else ``../shared/data/real-photos`` beside
    the project's checkout (where CI puts it). One place, so every benchmark and test reads the same folder."""
    beside_checkout = Path(__file__).resolve().parents[3] / "shared" / "data" / "real-photos"
    return Path(os.environ.get("TRAFFIC_SIGNS_REAL_PHOTOS", beside_checkout))


def start_api_server(port: int, *extra_args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``traffic-signs serve api`` on loopback in a child process, returned once /readyz answers 200."""
    process = subprocess.Popen([sys.executable, "-m", "traffic_signs", "serve", "api", "--host", "127.0.0.1",
                                "--port", str(port), *extra_args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return process
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("API server did not become ready")
