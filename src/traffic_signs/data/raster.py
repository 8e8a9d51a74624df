"""Drawing on batches of pictures as tensor ops: coordinates in picture units, supersampled shapes,
colour layers. Shared by the web-photo effects (:mod:`traffic_signs.data.web_photos`), whose shapes
and positions are given where the picture spans [-1, 1], so they hold at any input size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SUPERSAMPLE = 2  # drawn shapes are sampled at twice the resolution, then averaged: smooth edges
LUMA = torch.tensor([0.299, 0.587, 0.114])  # RGB weights of brightness (ITU-R BT.601)


def pixel_centres(h: int, w: int, scale: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel centres of an (h*scale) x (w*scale) raster as 1 x H x W x and y, the picture spanning [-1, 1]."""
    ys = (torch.arange(h * scale, dtype=torch.float32) + 0.5) / (h * scale) * 2 - 1
    xs = (torch.arange(w * scale, dtype=torch.float32) + 0.5) / (w * scale) * 2 - 1
    y, x = torch.meshgrid(ys, xs, indexing="ij")
    return x.unsqueeze(0), y.unsqueeze(0)


def column(values: torch.Tensor) -> torch.Tensor:
    """N values as N x 1 x 1, to scale or shift N x H x W planes picture by picture."""
    return values.view(-1, 1, 1)


def downsample(mask: torch.Tensor) -> torch.Tensor:
    """Average the supersampled N x H x W (or N x C x H x W) raster back to the picture's pixels."""
    squeeze = mask.dim() == 3
    out = F.avg_pool2d(mask.unsqueeze(1) if squeeze else mask, SUPERSAMPLE)
    return out.squeeze(1) if squeeze else out


def smooth_noise(n: int, h: int, w: int, cells: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
    """N x 1 x H x W low-frequency noise, about unit variance: random values on a coarse grid, bicubic."""
    coarse = torch.randn(n, 1, *cells, generator=generator)
    return F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False)


def percentile(values: torch.Tensor, q: float) -> torch.Tensor:
    """Each row's ``q`` quantile (nearest rank); unlike torch.quantile, also of an empty batch."""
    return values.sort(dim=1).values[:, round(q * (values.shape[1] - 1))]


def hsv_to_rgb(hue: torch.Tensor, sat: torch.Tensor, val: torch.Tensor) -> torch.Tensor:
    """N x 3 colours from hue, saturation and value in [0, 1] (the standard hexcone formula)."""
    k = (torch.tensor([5.0, 3.0, 1.0]) + hue.view(-1, 1) * 6) % 6
    return val.view(-1, 1) * (1 - sat.view(-1, 1) * torch.clamp(torch.minimum(k, 4 - k), 0, 1))


def brightness(images: torch.Tensor) -> torch.Tensor:
    """N x 1 x H x W brightness of N x 3 x H x W pictures."""
    return (images * LUMA.view(1, 3, 1, 1)).sum(1, keepdim=True)


def paint(images: torch.Tensor, colour: torch.Tensor, cover: torch.Tensor) -> torch.Tensor:
    """Lay N x 3 (or N x 3 x H x W) ``colour`` over the images with N x 1 x H x W opacity ``cover``."""
    colour = colour.view(*colour.shape[:2], 1, 1) if colour.dim() == 2 else colour
    return torch.lerp(images, colour.expand_as(images), cover)
