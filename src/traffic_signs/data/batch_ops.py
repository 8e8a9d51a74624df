"""Primitives every batch augmentation is built from: per-image random draws, a Gaussian blur of
the whole batch, and JPEG compression made the way an encoder makes it.

They sit below the augmentations that use them (``augment``, ``web_photos``, ``clip_art``,
``web_overlays``), so those modules import this one and never each other in a loop.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from traffic_signs.data.augment_config import AugmentConfig


def uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def chance(n: int, p: float, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=generator) < p


def per_image(values: torch.Tensor) -> torch.Tensor:
    return values.view(-1, 1, 1, 1)


def gaussian_kernel_1d(sigma: float) -> torch.Tensor:
    radius = max(1, math.ceil(2 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(x**2) / (2 * sigma**2))
    return k / k.sum()


def blur_all(images: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """Separable Gaussian blur (two 1-D depthwise convs) with reflected borders."""
    k = gaussian_kernel_1d(sigma)
    pad = len(k) // 2
    rows = F.conv2d(F.pad(images, [pad, pad, 0, 0], mode="reflect"), k.view(1, 1, 1, -1).expand(3, 1, 1, -1),
                    groups=3)
    return F.conv2d(F.pad(rows, [0, 0, pad, pad], mode="reflect"), k.view(1, 1, -1, 1).expand(3, 1, -1, 1),
                    groups=3)


_LUMA_TABLE = torch.tensor([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], dtype=torch.float32).view(8, 8)
_CHROMA_TABLE = torch.full((8, 8), 99.0)
_CHROMA_TABLE[:4, :4] = torch.tensor([[17, 18, 24, 47], [18, 21, 26, 66], [24, 26, 56, 99], [47, 66, 99, 99.0]])


def _dct_matrix(n: int = 8) -> torch.Tensor:
    """Orthonormal DCT-II: coefficients = D @ block @ D.T, and back with D.T @ c @ D."""
    k = torch.arange(n, dtype=torch.float32)
    matrix = torch.cos(math.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n)) * math.sqrt(2 / n)
    matrix[0] /= math.sqrt(2)
    return matrix


def _quantise_blocks(plane: torch.Tensor, tables: torch.Tensor) -> torch.Tensor:
    """Round the 8x8 DCT coefficients of N x H x W planes to multiples of per-image N x 8 x 8 tables."""
    n, h, w = plane.shape
    dct = _dct_matrix()
    blocks = plane.reshape(n, h // 8, 8, w // 8, 8).transpose(2, 3)
    steps = tables.view(n, 1, 1, 8, 8)
    coefficients = torch.round(dct @ blocks @ dct.T / steps) * steps
    return (dct.T @ coefficients @ dct).transpose(2, 3).reshape(n, h, w)


def jpeg_compress(images: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """JPEG artefacts on a random subset, as a JPEG encoder makes them, in batch tensor ops.

    RGB to YCbCr, chroma averaged over 2x2 pixels (4:2:0), every 8x8 block's DCT coefficients
    rounded to the standard tables scaled for a random quality (the IJG formula), then back.
    Sides that are not multiples of 16 are left alone.
    """
    n, _, h, w = images.shape
    quality = uniform(n, *cfg.jpeg_quality, generator)
    chosen = torch.nonzero(chance(n, cfg.jpeg_prob, generator)).flatten()
    if not len(chosen) or h % 16 or w % 16:
        return images
    scale = torch.where(quality < 50, 5000 / quality, 200 - 2 * quality)[chosen].view(-1, 1, 1)

    def table(base: torch.Tensor) -> torch.Tensor:
        return ((base * scale + 50) / 100).floor().clamp(1, 255)

    r, g, b = (images[chosen] * 255).unbind(1)
    luma = _quantise_blocks(0.299 * r + 0.587 * g + 0.114 * b - 128, table(_LUMA_TABLE))
    chroma = [
        F.interpolate(_quantise_blocks(F.avg_pool2d(c[:, None], 2)[:, 0], table(_CHROMA_TABLE))[:, None],
                      scale_factor=2, mode="nearest")[:, 0]
        for c in (-0.168736 * r - 0.331264 * g + 0.5 * b, 0.5 * r - 0.418688 * g - 0.081312 * b)
    ]
    cb, cr = chroma
    rgb = torch.stack([luma + 1.402 * cr, luma - 0.344136 * cb - 0.714136 * cr, luma + 1.772 * cb], 1) + 128
    images = images.clone()
    images[chosen] = (rgb / 255).clamp_(0.0, 1.0)
    return images
