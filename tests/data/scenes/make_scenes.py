"""Draws the street scenes in this folder: signs drawn from their German designs (no dataset
images), on poles, over a sky, trees and a road; their boxes and classes go to scenes.json.

    python tests/data/scenes/make_scenes.py

Drawn signs are clean vector shapes, unlike any photo the models learnt from, so finding and
naming them checks that the detector and the classifier carry over to new pictures.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).parent
RED, WHITE, BLACK, BLUE, YELLOW = (200, 16, 30), (245, 245, 245), (20, 20, 20), (20, 80, 170), (250, 200, 0)


def font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


HEIGHT = {18: 0.9}  # a warning triangle is 0.9 of its width high


def no_entry(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    side = x1 - x0
    draw.ellipse(box, fill=RED)
    draw.rectangle((x0 + side * 0.18, y0 + side * 0.42, x1 - side * 0.18, y1 - side * 0.42), fill=WHITE)


def yield_sign(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    side = x1 - x0
    draw.polygon([(x0, y0), (x1, y0), ((x0 + x1) / 2, y1)], fill=RED)
    inset = side * 0.16
    draw.polygon([(x0 + inset, y0 + inset * 0.58), (x1 - inset, y0 + inset * 0.58), ((x0 + x1) / 2, y1 - inset * 1.15)],
                 fill=WHITE)


def stop_sign(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2
    points = [(cx + r * math.cos(math.pi / 8 + k * math.pi / 4), cy + r * math.sin(math.pi / 8 + k * math.pi / 4))
              for k in range(8)]
    draw.polygon(points, fill=WHITE)
    inner = [(cx + 0.9 * (px - cx), cy + 0.9 * (py - cy)) for px, py in points]
    draw.polygon(inner, fill=RED)
    draw.text((cx, cy), "STOP", fill=WHITE, font=font(int(r * 0.62)), anchor="mm")


def priority_road(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2
    draw.polygon([(cx, y0), (x1, cy), (cx, y1), (x0, cy)], fill=WHITE)
    k = 0.62
    draw.polygon([(cx, cy - r * k), (cx + r * k, cy), (cx, cy + r * k), (cx - r * k, cy)], fill=YELLOW)


def ahead_only(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    side = x1 - x0
    cx = (x0 + x1) / 2
    draw.ellipse(box, fill=BLUE)
    draw.rectangle((cx - side * 0.07, y0 + side * 0.38, cx + side * 0.07, y1 - side * 0.15), fill=WHITE)
    draw.polygon([(cx, y0 + side * 0.14), (cx + side * 0.22, y0 + side * 0.42), (cx - side * 0.22, y0 + side * 0.42)],
                 fill=WHITE)


def general_caution(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    side, cx = x1 - x0, (x0 + x1) / 2
    draw.polygon([(cx, y0), (x1, y0 + side * 0.9), (x0, y0 + side * 0.9)], fill=RED)
    inset = side * 0.14
    draw.polygon([(cx, y0 + inset * 1.6), (x1 - inset, y0 + side * 0.9 - inset * 0.6),
                  (x0 + inset, y0 + side * 0.9 - inset * 0.6)], fill=WHITE)
    draw.rectangle((cx - side * 0.04, y0 + side * 0.33, cx + side * 0.04, y0 + side * 0.62), fill=BLACK)
    draw.ellipse((cx - side * 0.05, y0 + side * 0.67, cx + side * 0.05, y0 + side * 0.77), fill=BLACK)


# Signs whose German design needs no special font (speed limits use the DIN typeface).
DRAW = {12: priority_road, 13: yield_sign, 14: stop_sign, 17: no_entry, 18: general_caution, 35: ahead_only}


def street(width: int, height: int, seed: int) -> Image.Image:
    """Sky, a band of trees, a road: a plain street without signs."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, height)[:, None, None]
    sky = np.array([110, 160, 225]) * (1 - t) + np.array([200, 220, 240]) * t
    pixels = np.broadcast_to(sky, (height, width, 3)).copy()
    horizon = int(height * 0.55)
    trees = rng.normal(0, 18, (height - horizon, width, 3)) + np.array([60, 110, 50])
    pixels[horizon:] = trees
    road = int(height * 0.8)
    pixels[road:] = rng.normal(0, 6, (height - road, width, 3)) + np.array([95, 95, 100])
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1))
    return image


SCENES = [  # (file, width, height, [(class_id, x0, y0, side)])
    ("two_signs.jpg", 640, 480, [(18, 120, 140, 96), (12, 420, 160, 96)]),
    ("three_signs.jpg", 800, 600, [(14, 90, 180, 110), (17, 360, 120, 80), (13, 600, 200, 100)]),
    ("stacked.jpg", 480, 640, [(35, 200, 150, 90), (17, 200, 245, 90)]),
]


def main() -> None:
    records = []
    for index, (name, width, height, signs) in enumerate(SCENES):
        image = street(width, height, index)
        draw = ImageDraw.Draw(image)
        for _, x0, y0, side in signs:
            pole = (x0 + side / 2 - side / 20, y0 + side / 2, x0 + side / 2 + side / 20, height)
            draw.rectangle(pole, fill=(130, 130, 135))
        boxes = []
        for class_id, x0, y0, side in signs:
            box = (x0, y0, x0 + side, y0 + side)
            DRAW[class_id](draw, box)
            boxes.append({"class_id": class_id, "box": [x0, y0, x0 + side, y0 + round(side * HEIGHT.get(class_id, 1))]})
        image.save(HERE / name, quality=92)
        records.append({"file": name, "signs": boxes})
    (HERE / "scenes.json").write_text(json.dumps(records, indent=1) + "\n")


if __name__ == "__main__":
    main()
