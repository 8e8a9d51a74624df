"""The API under abuse, on a real uvicorn server on loopback: every probe ends in a clean JSON
refusal (or a correct answer) within seconds, and the health checks keep answering."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from PIL import Image

from loopback import serving
from traffic_signs import Classifier
from traffic_signs.serving.api import Limits, create_app
from traffic_signs.serving.guards import install_error_handlers, server_options

LIMITS = Limits(max_request_bytes=2_000_000, max_files=8, max_file_bytes=500_000, inference_slots=1,
                queue_seconds=0.2, queue_length=0)


def _serve(app: FastAPI, **options) -> Iterator[tuple[str, int]]:
    with serving(app, log_level="critical", **options) as address:
        yield address


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    yield from _serve(create_app(Classifier.load(), limits=LIMITS), **server_options(header_timeout=1.0))


@pytest.fixture(scope="module")
def url(server) -> str:
    return f"http://{server[0]}:{server[1]}"


def _png(width: int, height: int, seed: int = 0) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _photo(width: int, height: int, seed: int = 0) -> bytes:
    """A photo-sized JPEG of smooth noise (no sign in it)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height // 10, width // 10, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).resize((width, height)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _is_error(response: httpx.Response, status: int) -> bool:
    body = response.json()
    return response.status_code == status and body["status"] == status and isinstance(body["error"], str)


def _raw_exchange(server: tuple[str, int], head: bytes, chunks: Iterator[bytes]) -> bytes:
    """Send a request by hand and return what the server answered (stops sending once it has)."""
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(head)
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except OSError:
                break
        answer = b""
        try:
            while piece := sock.recv(65536):
                answer += piece
        except OSError:
            pass
        return answer


def test_chunked_body_is_counted_as_it_streams(server):
    head = (b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n\r\n")
    part = b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\n'
    chunks = [b"%x\r\n%s\r\n" % (len(part), part)] + [b"%x\r\n%s\r\n" % (65536, b"a" * 65536)] * 64
    answer = _raw_exchange(server, head, iter(chunks))  # 4 MB against a 2 MB limit
    assert answer.startswith(b"HTTP/1.1 413") and b'"status":413' in answer


def test_per_file_and_declared_size_limits(url):
    big = httpx.post(f"{url}/v1/predict", files=[("files", ("big.png", b"x" * 600_000))])
    assert _is_error(big, 413) and "per file" in big.json()["error"]
    declared = httpx.post(f"{url}/v1/predict", content=b"x" * 2_100_000,
                          headers={"content-type": "multipart/form-data; boundary=b"})
    assert _is_error(declared, 413)


def test_every_error_has_the_same_json_shape(url):
    assert _is_error(httpx.get(f"{url}/nowhere"), 404)
    assert _is_error(httpx.get(f"{url}/v1/predict"), 405)
    bad_param = httpx.post(f"{url}/v1/predict", params={"top_k": "many"}, files=[("files", ("a.png", _png(8, 8)))])
    assert _is_error(bad_param, 422) and "top_k" in bad_param.json()["error"]
    assert _is_error(httpx.post(f"{url}/v1/predict", content=b"junk",
                                headers={"content-type": "multipart/form-data; boundary=b"}), 400)
    tiny = httpx.post(f"{url}/v1/predict", params={"search": "true"}, files=[("files", ("1.png", _png(1, 1)))])
    assert tiny.status_code == 200 and tiny.json()[0]["unknown"] and tiny.json()[0]["signs"] == []


def test_oversized_pictures_are_refused_and_elongated_ones_answered_fast(url):
    def png(width: int, height: int) -> bytes:
        buffer = io.BytesIO()
        Image.new("L", (width, height)).save(buffer, "PNG")
        return buffer.getvalue()

    started = time.monotonic()
    strip = httpx.post(f"{url}/v1/predict", files=[("files", ("strip.png", png(20_000, 129)))])
    assert strip.status_code == 200 and strip.json()[0]["signs"] == []  # the detector sees it at 256 px
    wide = httpx.post(f"{url}/v1/predict", files=[("files", ("wide.png", png(5000, 4000)))])
    assert _is_error(wide, 422) and "16,000,000-pixel limit" in wide.json()["results"][0]["error"]
    assert time.monotonic() - started < 5


def test_a_bug_answers_json_500_without_a_traceback():
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/broken")
    def broken() -> None:
        raise RuntimeError("/secret/server/path")

    for host, port in _serve(app):
        response = httpx.get(f"http://{host}:{port}/broken")
        assert response.status_code == 500 and response.json() == {"error": "internal error", "status": 500}


def test_full_server_answers_503_with_retry_after_and_health_stays_fast():
    """One slot, held by a request of eight 6-megapixel photos (about 0.1 s each here), while a
    second request waits 0.05 s for it and is turned away."""
    limits = Limits(max_request_bytes=20_000_000, max_files=8, max_file_bytes=2_000_000, inference_slots=1,
                    queue_seconds=0.05, queue_length=0)
    heavy = [("files", (f"street{i}.jpg", _photo(3000, 2000, seed=i))) for i in range(8)]
    with ThreadPoolExecutor(1) as pool, serving(create_app(Classifier.load(), limits=limits)) as (host, port):
        url = f"http://{host}:{port}"
        busy = pool.submit(httpx.post, f"{url}/v1/predict", files=heavy, timeout=120)
        time.sleep(0.3)
        refused = httpx.post(f"{url}/v1/predict", files=[("files", ("s.png", _png(32, 32)))])
        health = []
        for _ in range(5):
            started = time.monotonic()
            assert httpx.get(f"{url}/healthz").status_code == 200
            assert httpx.get(f"{url}/readyz").status_code == 200
            health.append(time.monotonic() - started)
        assert busy.result().status_code == 200
    assert _is_error(refused, 503) and refused.headers["retry-after"] == "1"
    assert max(health) < 1.0


def test_slow_client_is_disconnected(server):
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes the head
        started = time.monotonic()
        assert sock.recv(1024) == b""  # closed by the server
        assert time.monotonic() - started < 3
