"""Whole-photo mode: GTSRB test signs pasted into larger scenes; how often the search finds
the sign and reads it right, and how well its box overlaps the true one (IoU).

    python benchmarks/search_eval.py [--count 300] [--model M]

Scenes (seeded) are 320-640 px and hold no other sign: smooth colour gradients with noise,
or a blurred patchwork of street background cut from the margins of other test crops. The
sign (an official test crop, enlarged 3-6x) lands at a random place. Writes benchmarks/results/search_eval.json,
with each scene's outcome, so two models can be compared scene by scene (the scenes are the same).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from traffic_signs import Classifier
from traffic_signs.data.cache import load_split

RESULTS = Path(__file__).parent / "results"


def scene(test_images: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A sign-free scene: a colour gradient with noise, or a blurred patchwork of street
    background (the 6x6 corners of other test crops, outside their signs, enlarged)."""
    width, height = int(rng.integers(320, 641)), int(rng.integers(320, 641))
    if rng.random() < 0.5:
        grid = 8
        corners = [_corner(test_images[rng.integers(len(test_images))], rng) for _ in range(grid * grid)]
        rows = [np.concatenate(corners[r * grid : (r + 1) * grid], axis=1) for r in range(grid)]
        patchwork = Image.fromarray(np.concatenate(rows, axis=0))
        return patchwork.resize((width, height), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(3))
    a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = np.linspace(0, 1, height)[:, None, None]
    pixels = a + (b - a) * t + rng.normal(0, 12, (height, width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _corner(image: np.ndarray, rng: np.random.Generator, size: int = 6) -> np.ndarray:
    """One corner of a 32x32 test crop: GTSRB crops keep a margin of background around the sign."""
    y, x = (0 if rng.random() < 0.5 else image.shape[0] - size), (0 if rng.random() < 0.5 else image.shape[1] - size)
    return image[y : y + size, x : x + size]


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area if area else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--model", default=None, help="exported run folder or model .json (default: the shipped model)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--out", type=Path, default=RESULTS / "search_eval.json")
    args = parser.parse_args()
    classifier = Classifier.load(args.model)
    test = load_split("test", args.data_dir, 32, args.cache_dir)
    rng = np.random.default_rng(0)
    correct, ious = [], []
    for index in rng.choice(len(test), args.count, replace=False):
        background = scene(test.images, rng)
        side = int(rng.integers(96, 193))
        x = int(rng.integers(0, background.width - side))
        y = int(rng.integers(0, background.height - side))
        background.paste(Image.fromarray(test.images[index]).resize((side, side), Image.Resampling.BILINEAR), (x, y))
        prediction = classifier.predict(background, search=True)
        correct.append(prediction.top_k[0]["class_id"] == int(test.labels[index]))
        ious.append(iou(prediction.box, (x, y, x + side, y + side)))
    summary = {"scenes": args.count, "top1_accuracy": float(np.mean(correct)), "mean_iou": float(np.mean(ious)),
               "iou_at_least_0.5": float(np.mean(np.array(ious) >= 0.5))}
    print(json.dumps(summary))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    scenes = {"model": classifier.name, "scene_correct": [int(c) for c in correct]}
    args.out.write_text(json.dumps({**summary, **scenes}, indent=2) + "\n")


if __name__ == "__main__":
    main()
