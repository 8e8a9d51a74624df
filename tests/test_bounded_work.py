"""Work per image follows the pixels the model needs, not what the file declares."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from traffic_signs import Classifier
from traffic_signs.errors import ImageError
from traffic_signs.imaging import SERVING_SHORT_SIDE, decode, load_for_model
from traffic_signs.prediction.search import MAX_WINDOWS, window_boxes


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


def _encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _noise(width: int, height: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8))


def test_large_jpeg_is_decoded_reduced_and_the_box_is_in_original_pixels(classifier):
    data = _encoded(_noise(600, 400).resize((6000, 4000)), "JPEG", quality=70)
    decoded = decode(data, "big.jpg", short_side=SERVING_SHORT_SIDE)
    assert SERVING_SHORT_SIDE <= min(decoded.image.size) < 2 * SERVING_SHORT_SIDE
    assert decoded.original_size == (6000, 4000)
    box = classifier.predict(data, search=True, name="big.jpg").box
    assert box is not None and box[2] <= 6000 and box[3] <= 4000 and box[2] - box[0] > 400


def test_deep_and_palette_pictures_are_reduced_before_conversion():
    deep = Image.fromarray(np.full((3000, 2500), 40_000, dtype=np.uint16))
    for picture in (deep, Image.new("P", (3000, 2500), 7), Image.new("RGBA", (3000, 2500), (0, 0, 0, 0))):
        decoded = decode(_encoded(picture, "PNG"), "p.png", short_side=SERVING_SHORT_SIDE)
        assert decoded.image.mode == "RGB" and min(decoded.image.size) < 2500
    assert load_for_model(_encoded(deep, "PNG"), 32)[0, 0, 0] == 255  # scaled by its peak, as before


def test_serving_pixel_cap_refuses_what_it_would_have_to_decode_whole(classifier, monkeypatch):
    monkeypatch.setenv("TRAFFIC_SIGNS_MAX_PIXELS", "4000000")
    with pytest.raises(ImageError, match="4,000,000-pixel limit"):
        classifier.predict(_encoded(Image.new("L", (2500, 2000)), "PNG"), name="wide.png")
    jpeg = _encoded(Image.new("RGB", (4000, 3000), (200, 30, 30)), "JPEG")  # decoded at 1/2 scale: under the cap
    assert classifier.predict(jpeg, name="photo.jpg").box is not None


def test_elongated_strip_is_refused_for_search_and_classified_whole(classifier):
    strip = _encoded(Image.new("RGB", (20_000, 129), (90, 90, 90)), "PNG")
    started = time.monotonic()
    with pytest.raises(ImageError, match="too elongated"):
        classifier.predict(strip, name="strip.png")
    assert classifier.predict(strip, search=False).box is None
    assert time.monotonic() - started < 5


def test_windows_are_capped_and_a_long_photo_costs_no_more_than_a_wide_one(classifier):
    assert len(window_boxes(5120, 256)) <= MAX_WINDOWS
    assert len(window_boxes(455, 256)) == 2077  # a 16:9 photo is searched as before

    def seconds(width: int, height: int) -> float:
        started = time.monotonic()
        assert classifier.predict(_encoded(_noise(width, height), "PNG"), name="p.png").box is not None
        return time.monotonic() - started

    assert seconds(2580, 129) < 3 * seconds(910, 512) + 2  # generous: this machine is shared


def test_tiny_image_with_search_forced_is_answered(classifier):
    for size in [(1, 1), (3, 7), (9, 2)]:
        prediction = classifier.predict(_encoded(Image.new("RGB", size, (255, 0, 0)), "PNG"), search=True)
        assert prediction.box is not None and len(prediction.top_k) == 5


@pytest.mark.parametrize("fmt", ["TGA", "SGI", "ICO", "PCX", "IM", "DDS", "EPS"])
def test_formats_outside_the_allow_list_are_refused(fmt):
    picture = Image.new("RGB", (16, 16), (10, 200, 10))
    data = _encoded(picture, fmt) if fmt != "EPS" else b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 16 16\n"
    with pytest.raises(ImageError, match="not an image format"):
        load_for_model(data, 32)
