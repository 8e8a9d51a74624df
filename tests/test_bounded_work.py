"""Work per image follows the pixels the model needs, not what the file declares."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from traffic_signs import Classifier
from traffic_signs.errors import ImageError
from traffic_signs.imaging import SERVING_SHORT_SIDE, decode, load_for_model
from traffic_signs.prediction.detect import MAX_SIGNS, box_iou
from traffic_signs.settings import overridden

SCENES = Path(__file__).parent / "data" / "scenes"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


def _encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _noise(width: int, height: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8))


def test_large_jpeg_is_decoded_reduced_and_the_boxes_are_in_original_pixels(classifier):
    """The drawn three-sign street enlarged 7.5x to 6000 x 4500: found in the reduced picture,
    boxed in the original's pixels."""
    record = next(r for r in json.loads((SCENES / "scenes.json").read_text()) if r["file"] == "three_signs.jpg")
    data = _encoded(Image.open(SCENES / "three_signs.jpg").resize((6000, 4500)), "JPEG", quality=85)
    decoded = decode(data, "big.jpg", short_side=SERVING_SHORT_SIDE)
    assert SERVING_SHORT_SIDE <= min(decoded.image.size) < 2 * SERVING_SHORT_SIDE
    assert decoded.original_size == (6000, 4500)
    prediction = classifier.predict(data, name="big.jpg")
    assert prediction.image_size == (6000, 4500)
    for truth in record["signs"]:
        scaled = tuple(v * 7.5 for v in truth["box"])
        assert max(box_iou(sign.box, scaled) for sign in prediction.signs) >= 0.4


def test_deep_and_palette_pictures_are_reduced_before_conversion():
    deep = Image.fromarray(np.full((3000, 2500), 40_000, dtype=np.uint16))
    for picture in (deep, Image.new("P", (3000, 2500), 7), Image.new("RGBA", (3000, 2500), (0, 0, 0, 0))):
        decoded = decode(_encoded(picture, "PNG"), "p.png", short_side=SERVING_SHORT_SIDE)
        assert decoded.image.mode == "RGB" and min(decoded.image.size) < 2500
    assert load_for_model(_encoded(deep, "PNG"), 32)[0, 0, 0] == 255  # scaled by its peak, as before


def test_serving_pixel_cap_refuses_what_it_would_have_to_decode_whole(classifier):
    with overridden(max_pixels=4_000_000):
        with pytest.raises(ImageError, match="4,000,000-pixel limit"):
            classifier.predict(_encoded(Image.new("L", (2500, 2000)), "PNG"), name="wide.png")
        jpeg = _encoded(Image.new("RGB", (4000, 3000), (200, 30, 30)), "JPEG")  # decoded at 1/2 scale: under the cap
        assert classifier.predict(jpeg, name="photo.jpg").image_size == (4000, 3000)


def test_elongated_strip_is_answered_at_the_cost_of_a_photo(classifier):
    """The detector sees every picture at 256 px on its long side, so a 155:1 strip costs what a
    photo costs (the window search it replaced made 4.4 M windows of the 387,596 px one)."""
    strip = _encoded(Image.new("RGB", (20_000, 129), (90, 90, 90)), "PNG")
    started = time.monotonic()
    assert classifier.predict(strip, name="strip.png").box is None
    assert classifier.predict(strip, search=False).box is None
    assert time.monotonic() - started < 5


def test_signs_per_picture_are_capped_and_a_long_photo_costs_no_more_than_a_wide_one(classifier):
    many = Image.new("RGB", (1600, 1200), (110, 160, 220))
    stop = Image.open(SCENES / "three_signs.jpg").crop((90, 180, 200, 290))
    for k in range(24):
        many.paste(stop, (30 + (k % 8) * 190, 60 + (k // 8) * 380))
    assert 1 <= len(classifier.predict(many).signs) <= MAX_SIGNS

    def seconds(width: int, height: int) -> float:
        started = time.monotonic()
        classifier.predict(_encoded(_noise(width, height), "PNG"), name="p.png")
        return time.monotonic() - started

    assert seconds(2580, 129) < 3 * seconds(910, 512) + 2  # generous: this machine is shared


def test_tiny_image_with_search_forced_is_answered(classifier):
    for size in [(1, 1), (3, 7), (9, 2)]:
        prediction = classifier.predict(_encoded(Image.new("RGB", size, (255, 0, 0)), "PNG"), search=True)
        assert prediction.image_size == size and len(prediction.top_k) == 5


@pytest.mark.parametrize("fmt", ["TGA", "SGI", "ICO", "PCX", "IM", "DDS", "EPS"])
def test_formats_outside_the_allow_list_are_refused(fmt):
    picture = Image.new("RGB", (16, 16), (10, 200, 10))
    data = _encoded(picture, fmt) if fmt != "EPS" else b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 16 16\n"
    with pytest.raises(ImageError, match="not an image format"):
        load_for_model(data, 32)
