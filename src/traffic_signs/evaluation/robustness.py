"""Accuracy under common image corruptions at five severities (in the spirit of ImageNet-C).

Every corruption is applied to the 32x32 official test images as batched numpy ops,
seeded, at severities 1 (mild) to 5 (severe but often still legible to a person):

| corruption | parameter at severities 1..5 |
|---|---|
| gaussian noise | std 0.04, 0.08, 0.12, 0.18, 0.26 (of the 0..1 range) |
| shot noise | photons per unit 120, 60, 30, 15, 8 |
| motion blur | horizontal kernel 2, 3, 4, 5, 7 px |
| defocus blur | disk radius 1.0, 1.45, 1.8, 2.25, 2.85 px |
| brightness | +0.1, +0.2, +0.3, +0.4, +0.5 |
| darkness | x0.7, 0.5, 0.35, 0.25, 0.15 |
| contrast | x0.6, 0.45, 0.3, 0.2, 0.12 around the mean |
| fog | white haze 0.2, 0.35, 0.5, 0.6, 0.7 with a vertical ramp |
| snow/rain | streak density 1, 2, 3, 4, 6 % |
| jpeg | quality 40, 25, 15, 10, 6 |
| pixelation | 24, 20, 16, 12, 9 px then back to 32 |
| occlusion | grey square of side 6, 8, 10, 12, 14 px |
| stickers | 1, 2, 3, 4, 5 bright 4x4 patches on the central region |

The model is anything that turns images into class probabilities (``traffic-signs
robustness`` scores an exported model on the torch-free runtime).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from traffic_signs.data.cache import load_split

SEVERITIES = 5
Corruption = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]
Scorer = Callable[[np.ndarray], np.ndarray]  # class probabilities N x C for uint8 N x S x S x 3 images


def _as_float(images: np.ndarray) -> np.ndarray:
    """uint8 pixels as float32 in [0, 1]."""
    return images.astype(np.float32) / 255.0


def _as_uint8(x: np.ndarray) -> np.ndarray:
    """Float pixels clipped to [0, 1] and rounded back to uint8."""
    return (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)


def _convolve(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Same-size 2-D convolution of N x H x W x C with a small kernel (edge padding)."""
    kh, kw = kernel.shape
    padded = np.pad(x, ((0, 0), (kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2), (0, 0)), mode="edge")
    out = np.zeros_like(x)
    for dy in range(kh):
        for dx in range(kw):
            if kernel[dy, dx]:
                out += kernel[dy, dx] * padded[:, dy : dy + x.shape[1], dx : dx + x.shape[2]]
    return out


def gaussian_noise(images, s, rng):
    std = (0.04, 0.08, 0.12, 0.18, 0.26)[s - 1]
    return _as_uint8(_as_float(images) + rng.normal(0, std, images.shape))


def shot_noise(images, s, rng):
    photons = (120, 60, 30, 15, 8)[s - 1]
    return _as_uint8(rng.poisson(_as_float(images) * photons) / photons)


def motion_blur(images, s, rng):
    length = (2, 3, 4, 5, 7)[s - 1]
    return _as_uint8(_convolve(_as_float(images), np.full((1, length), 1 / length)))


def defocus_blur(images, s, rng):
    radius = (1.0, 1.45, 1.8, 2.25, 2.85)[s - 1]
    r = int(np.ceil(radius))
    ys, xs = np.mgrid[-r : r + 1, -r : r + 1]
    disk = (ys**2 + xs**2 <= radius**2).astype(np.float32)
    return _as_uint8(_convolve(_as_float(images), disk / disk.sum()))


def brightness(images, s, rng):
    return _as_uint8(_as_float(images) + (0.1, 0.2, 0.3, 0.4, 0.5)[s - 1])


def darkness(images, s, rng):
    return _as_uint8(_as_float(images) * (0.7, 0.5, 0.35, 0.25, 0.15)[s - 1])


def contrast(images, s, rng):
    x = _as_float(images)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    return _as_uint8((x - mean) * (0.6, 0.45, 0.3, 0.2, 0.12)[s - 1] + mean)


def fog(images, s, rng):
    haze = (0.2, 0.35, 0.5, 0.6, 0.7)[s - 1] * np.linspace(1.0, 0.6, images.shape[1])[None, :, None, None]
    return _as_uint8(_as_float(images) * (1 - haze) + haze * 0.9)


def snow(images, s, rng):
    x = _as_float(images)
    density = (0.01, 0.02, 0.03, 0.04, 0.06)[s - 1]
    flakes = (rng.random(x.shape[:3]) < density).astype(np.float32)[..., None]
    streaks = np.clip(_convolve(flakes, np.eye(3, dtype=np.float32)), 0, 1)  # diagonal falling streaks
    return _as_uint8(x * (1 - streaks) + streaks)


def jpeg(images, s, rng):
    quality = (40, 25, 15, 10, 6)[s - 1]
    out = np.empty_like(images)
    for i, image in enumerate(images):
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, "JPEG", quality=quality)
        out[i] = np.asarray(Image.open(buffer))
    return out


def pixelate(images, s, rng):
    side = (24, 20, 16, 12, 9)[s - 1]
    return np.stack([np.asarray(Image.fromarray(i).resize((side, side), Image.Resampling.BOX)
                                .resize(i.shape[:2][::-1], Image.Resampling.NEAREST)) for i in images])


def _patches(images, sizes_and_colours, rng, centre: bool):
    out = images.copy()
    n, h, w, _ = images.shape
    for side, colour in sizes_and_colours:
        low, high = (h // 4, 3 * h // 4 - side) if centre else (0, h - side)
        ys = rng.integers(low, max(low + 1, high), n)
        xs = rng.integers(low, max(low + 1, high), n)
        colours = colour(n)
        for i in range(n):
            out[i, ys[i] : ys[i] + side, xs[i] : xs[i] + side] = colours[i]
    return out


def occlusion(images, s, rng):
    side = (6, 8, 10, 12, 14)[s - 1]
    return _patches(images, [(side, lambda n: np.full((n, 3), 128, np.uint8))], rng, centre=False)


def stickers(images, s, rng):
    bright = lambda n: rng.integers(0, 2, (n, 3), dtype=np.uint8) * 255  # noqa: E731
    return _patches(images, [(4, bright)] * s, rng, centre=True)


CORRUPTIONS: dict[str, Corruption] = {
    "gaussian noise": gaussian_noise, "shot noise": shot_noise, "motion blur": motion_blur,
    "defocus blur": defocus_blur, "brightness": brightness, "darkness": darkness, "contrast": contrast,
    "fog": fog, "snow/rain": snow, "jpeg": jpeg, "pixelation": pixelate, "occlusion": occlusion,
    "stickers": stickers,
}


def seeded_subset(count: int, limit: int | None, seed: int = 0) -> np.ndarray:
    """Sorted indices of a seeded random ``limit`` of ``count`` images (all of them without a limit)."""
    if not limit or limit >= count:
        return np.arange(count)
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(count)[:limit])


def evaluate_robustness(probabilities: Scorer, images: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict:
    """Accuracy on the clean images and under every corruption at every severity."""

    def accuracy(batch: np.ndarray) -> float:
        return float((probabilities(batch).argmax(1) == labels).mean())

    table = {"clean": accuracy(images)}
    for name, corrupt in CORRUPTIONS.items():
        table[name] = [accuracy(corrupt(images, s, np.random.default_rng(seed + s))) for s in range(1, SEVERITIES + 1)]
    table["mean corruption accuracy"] = float(np.mean([np.mean(v) for k, v in table.items() if k != "clean"]))
    return table


def robustness_on_test_set(probabilities: Scorer, input_size: int, limit: int | None, data_dir: str | None = None,
                           cache_dir: str | None = None) -> tuple[dict, int]:
    """The table on a seeded ``limit``-image subset of the official test set, and its size."""
    test = load_split("test", data_dir, input_size, cache_dir)
    index = seeded_subset(len(test), limit)
    return evaluate_robustness(probabilities, test.images[index], test.labels[index]), len(index)


def markdown(table: dict, n: int) -> str:
    lines = [f"Official test set ({n:,} images), accuracy under each corruption; clean: {table['clean']:.2%}, "
             f"mean over all corruptions and severities: {table['mean corruption accuracy']:.2%}.", "",
             "| corruption | 1 | 2 | 3 | 4 | 5 | mean |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name in CORRUPTIONS:
        row = table[name]
        lines.append(f"| {name} | " + " | ".join(f"{v:.1%}" for v in row) + f" | {np.mean(row):.1%} |")
    return "\n".join(lines) + "\n"


def plot(table: dict, path: Path) -> None:
    # here, not at the top: matplotlib (train extra) loads only to draw; `ship` uses the table alone
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for name in CORRUPTIONS:
        ax.plot(range(1, SEVERITIES + 1), table[name], marker="o", label=name)
    ax.axhline(table["clean"], color="black", linestyle="--", label="clean")
    ax.set_xlabel("severity")
    ax.set_ylabel("accuracy")
    ax.set_xticks(range(1, SEVERITIES + 1))
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
