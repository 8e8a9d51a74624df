"""Hostile bytes on the one decode path every input takes: a picture or a clean ImageError."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from traffic_signs.errors import ImageError
from traffic_signs.imaging import load_for_model

FORMATS = ["PNG", "JPEG", "PPM", "GIF", "TIFF", "WEBP", "BMP"]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _valid(fmt: str, width: int, height: int, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt)
    return buffer.getvalue()


def _decodes_or_refuses(data: bytes) -> None:
    try:
        array = load_for_model(data, 32)
    except ImageError as exc:
        assert str(exc)
        return
    assert array.shape == (32, 32, 3) and array.dtype == np.uint8


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data):
    _decodes_or_refuses(data)


@FUZZ
@given(st.sampled_from(FORMATS), st.integers(1, 80), st.integers(1, 80), st.integers(0, 2**16),
       st.floats(0, 1), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=8))
def test_truncated_and_corrupted_files(fmt, width, height, seed, cut, flips):
    data = bytearray(_valid(fmt, width, height, seed))
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    _decodes_or_refuses(bytes(data[: max(1, int(cut * len(data)))]))


@FUZZ
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from([b"P6", b"P5"]))
def test_declared_dimensions_never_allocate_a_bomb(width, height, magic):
    _decodes_or_refuses(magic + f"\n{width} {height}\n255\n".encode() + b"\x00" * 64)


def test_degenerate_and_unusual_images():
    for size in [(1, 1), (1, 500), (500, 1)]:
        assert load_for_model(_valid("PNG", *size, 0), 32).shape == (32, 32, 3)
    frames = [Image.new("P", (20, 20), i) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    assert load_for_model(buffer.getvalue(), 32).shape == (32, 32, 3)
    for mode in ("I;16", "CMYK", "LA", "P", "1", "F"):
        buffer = io.BytesIO()
        Image.new(mode, (10, 7)).save(buffer, "TIFF")
        assert load_for_model(buffer.getvalue(), 32).shape == (32, 32, 3)
