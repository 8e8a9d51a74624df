"""A contact sheet of GTSRB training images through every web-photo effect, and what each costs.

    python benchmarks/augment_gallery.py --out gallery.png [--columns 12] [--zoom 4] [--seed 0]
                                         [--threads 1] [--repeats 9]

The sheet has one row per effect of data.web_photos.EFFECTS (the first row the untouched images, the
last the whole training augmentation with ``web_prob=1``), each image enlarged ``--zoom`` times
to its nearest pixels, so what the model sees at 32 px is what is shown. Below it, the cost of
each effect on a batch of 256 images at 32x32: the median of ``--repeats`` timed calls after
warm-up. Prints a table and writes benchmarks/results/augment_gallery.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from traffic_signs.benchmarking import cpu_name
from traffic_signs.data.augment import augment, to_float
from traffic_signs.data.augment_config import WEB_EFFECTS, AugmentConfig
from traffic_signs.data.cache import load_split
from traffic_signs.data.gtsrb import resolve_data_dir
from traffic_signs.data.web_photos import EFFECTS

RESULTS = Path(__file__).parent / "results"
LABEL_WIDTH = 90


def pick_images(images: np.ndarray, labels: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` images of different classes, chosen at random (reproducibly)."""
    rng = np.random.default_rng(seed)
    classes = rng.permutation(np.unique(labels))[:count]
    return np.stack([images[rng.choice(np.flatnonzero(labels == c))] for c in classes])


def rows_of_effects(batch: torch.Tensor, seed: int) -> list[tuple[str, torch.Tensor]]:
    rows = [("original", batch)]
    for name in WEB_EFFECTS:
        rows.append((name, EFFECTS[name](batch, torch.Generator().manual_seed(seed)).clamp(0, 1)))
    everything = augment(batch, replace(AugmentConfig(), web_prob=1.0), torch.Generator().manual_seed(seed))
    return [*rows, ("augment+web", everything)]


def contact_sheet(rows: list[tuple[str, torch.Tensor]], zoom: int) -> Image.Image:
    """One labelled row per effect, the images side by side with a 2-pixel gap."""
    n, _, h, w = rows[0][1].shape
    cell_w, cell_h = w * zoom + 2, h * zoom + 2
    sheet = Image.new("RGB", (LABEL_WIDTH + n * cell_w, len(rows) * cell_h), "white")
    draw = ImageDraw.Draw(sheet)
    for r, (name, images) in enumerate(rows):
        draw.text((4, r * cell_h + cell_h // 2), name, fill="black", anchor="lm")
        pixels = (images.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
        for c, image in enumerate(pixels):
            big = Image.fromarray(image).resize((w * zoom, h * zoom), Image.Resampling.NEAREST)
            sheet.paste(big, (LABEL_WIDTH + c * cell_w, r * cell_h))
    return sheet


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up (and the watermark atlas rendered once)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def effect_costs(images: np.ndarray, repeats: int) -> dict[str, float]:
    """Milliseconds per batch of 256 at 32x32 for each effect on every image, and for the whole
    augmentation without web effects and with ``web_prob=0.3``."""
    rng = np.random.default_rng(0)
    batch = to_float(torch.from_numpy(images[rng.choice(len(images), 256, replace=False)]))
    costs = {name: median_ms(lambda e=effect: e(batch, torch.Generator().manual_seed(1)), repeats)
             for name, effect in EFFECTS.items()}
    for label, cfg in (("augment", AugmentConfig()), ("augment web_prob=0.3", AugmentConfig(web_prob=0.3))):
        costs[label] = median_ms(lambda c=cfg: augment(batch, c, torch.Generator().manual_seed(1)), repeats)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="where to write the contact sheet (PNG)")
    parser.add_argument("--columns", type=int, default=12)
    parser.add_argument("--zoom", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--no-timing", action="store_true", help="draw the sheet only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train = load_split("train", resolve_data_dir(args.data_dir), 32)
    batch = to_float(torch.from_numpy(pick_images(train.images, train.labels, args.columns, args.seed)))
    contact_sheet(rows_of_effects(batch, args.seed), args.zoom).save(args.out)
    print(f"contact sheet: {args.out}")
    if args.no_timing:
        return
    costs = effect_costs(train.images, args.repeats)
    print(f"ms per batch of 256 at 32x32 (median of {args.repeats}, {args.threads} thread(s), {cpu_name()}, "
          f"load average {os.getloadavg()[0]:.1f}):")
    for name, ms in costs.items():
        print(f"  {name:22s} {ms:8.2f}")
    RESULTS.mkdir(exist_ok=True)
    result = {"cpu": cpu_name(), "load_average": round(os.getloadavg()[0], 1), "threads": args.threads,
              "batch": 256, "side": 32, "repeats": args.repeats,
              "ms_per_batch": {name: round(ms, 2) for name, ms in costs.items()}}
    (RESULTS / "augment_gallery.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
