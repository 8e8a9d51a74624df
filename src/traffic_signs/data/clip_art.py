"""Web clip art made from photos: a sign's picture in a few pure, flat colours with crisp edges, as
vector drawings of signs look (see :mod:`traffic_signs.data.web_photos`).

Each picture's colours are clustered (k-means in batched tensor ops, a few Lloyd steps: no library
clusters a batch of images at once) in a brightness-stretched, colour-weighted space, so a dark
crop's red rim and a navy face come apart; each cluster then takes the pure sign colour of its hue
(or white, grey, black), and half the pictures lose their scene for a plain background.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from traffic_signs.data.batch_ops import blur_all, chance, uniform
from traffic_signs.data.raster import LUMA, percentile, pixel_centres

K_MAX = 8  # most colours a clip art keeps


def _kmeans(pixels: torch.Tensor, k: torch.Tensor, generator: torch.Generator,
            iterations: int = 6) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-image k-means of N x P x 3 colours into k[i] <= K_MAX clusters (Lloyd's steps, batched):
    the centres N x K_MAX x 3, each pixel's centre N x P, and which centres are not used N x K_MAX."""
    n, count, _ = pixels.shape
    picked = (torch.rand(n, K_MAX, generator=generator) * count).long()
    centres = pixels.gather(1, picked.unsqueeze(-1).expand(-1, -1, 3))
    unused = torch.arange(K_MAX).view(1, 1, -1) >= k.view(-1, 1, 1)
    for _ in range(iterations):
        sums, counts = _sums(pixels, _nearest(pixels, centres, unused))
        centres = torch.where(counts > 0, sums / counts.clamp(min=1), centres)
    return centres, _nearest(pixels, centres, unused), unused[:, 0]


def _nearest(pixels: torch.Tensor, centres: torch.Tensor, unused: torch.Tensor) -> torch.Tensor:
    """Each pixel's nearest used centre: |c|^2 - 2 p.c in one batched product (|p|^2 is the same for all)."""
    distance = torch.baddbmm(centres.square().sum(-1).unsqueeze(1), pixels, centres.transpose(1, 2), alpha=-2)
    return distance.masked_fill_(unused, math.inf).argmin(-1)


def _sums(pixels: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """N x K_MAX x 3 sums of the pixels of each label and N x K_MAX x 1 counts."""
    n = len(pixels)
    sums = torch.zeros(n, K_MAX, 3).scatter_add_(1, labels.unsqueeze(-1).expand(-1, -1, 3), pixels)
    counts = torch.zeros(n, K_MAX).scatter_add_(1, labels, torch.ones(labels.shape)).unsqueeze(-1)
    return sums, counts


# RGB to brightness and two colour-opponent axes (red-green, yellow-blue), the colour axes weighted
# up: clustered in it, a dark blue face and a black rim, or a dim red rim and grey, come apart.
OPPONENT = torch.tensor([[0.299, 1.5, 0.75], [0.587, -1.5, 0.75], [0.114, 0.0, -1.5]])


def _mean_colours(pixels: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """N x K_MAX x 3: the mean of the N x P x 3 pixels of each label (N x P); zero for an empty one."""
    sums, counts = _sums(pixels, labels)
    return sums / counts.clamp(min=1)


def _tidy(labels: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Each pixel takes the colour most of its 3 x 3 neighbours have: no stray single pixels (nor
    strokes one pixel wide). Labels N x P in, N x H x W out."""
    votes = F.one_hot(labels, K_MAX).float().view(-1, h, w, K_MAX).permute(0, 3, 1, 2)
    return F.avg_pool2d(votes, 3, stride=1, padding=1, count_include_pad=False).argmax(1)


# The pure colours sign drawings are made of: the chromatic ones by hue, then white, grey, black.
HUES = torch.tensor([0.0, 1 / 8, 1 / 3, 0.6])  # red, yellow, green, blue, as hue in [0, 1)
CHROMATIC = torch.tensor([[0.82, 0.08, 0.12], [0.98, 0.78, 0.05], [0.10, 0.50, 0.25], [0.08, 0.30, 0.70]])
ACHROMATIC = torch.tensor([[0.97, 0.97, 0.97], [0.55, 0.55, 0.55], [0.07, 0.07, 0.07]])


def _hue(colours: torch.Tensor) -> torch.Tensor:
    """Hue in [0, 1) of ... x 3 colours (the hexcone formula; 0 for greys)."""
    r, g, b = colours.unbind(-1)
    high, low = colours.amax(-1), colours.amin(-1)
    span = (high - low).clamp(min=1e-6)
    hue = torch.where(high == r, (g - b) / span, torch.where(high == g, 2 + (b - r) / span, 4 + (r - g) / span))
    return (hue / 6) % 1


def _sign_colours(palette: torch.Tensor, unused: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Clip-art colours for a photo's palette N x K x 3: saturated colours become the sign colour of
    the nearest hue (a dim GTSRB red or a navy blue keep their hue however dark), the others white,
    grey or black by their brightness relative to the palette's; each pulled part or all the way
    there from the palette colour brightened to full range."""
    n = len(palette)
    high, low = palette.amax(-1), palette.amin(-1)
    saturated = ((high - low) / high.clamp(min=0.05) > 0.4) & (high > 0.08)
    gap = (_hue(palette).unsqueeze(-1) - HUES).abs()
    chromatic = CHROMATIC[torch.minimum(gap, 1 - gap).argmin(-1)]
    luma = palette @ LUMA
    darkest = luma.masked_fill(unused, 2).amin(1, keepdim=True)
    lightest = luma.masked_fill(unused, -1).amax(1, keepdim=True)
    relative = (luma - darkest) / (lightest - darkest).clamp(min=0.05)
    shade = torch.where(relative > 0.6, 0, torch.where(relative > 0.3, 1, 2))
    pure = torch.where(saturated.unsqueeze(-1), chromatic, ACHROMATIC[shade])
    brightened = (palette / lightest.unsqueeze(-1).clamp(min=0.05)).clamp(0, 1)
    return torch.lerp(brightened, pure, uniform(n, 0.5, 1.0, generator).view(-1, 1, 1))


def _border_region(labels: torch.Tensor) -> torch.Tensor:
    """N x H x W: the pixels of the colour most common along the picture's edge that connect to it
    (a flood fill of max-pools), never the middle of the picture where the sign is."""
    n, h, w = labels.shape
    edge = torch.ones(h, w, dtype=torch.bool)
    edge[1:-1, 1:-1] = False
    counts = F.one_hot(labels[:, edge], K_MAX).sum(1)
    same = labels == counts.argmax(1).view(-1, 1, 1)
    x, y = pixel_centres(h, w)
    allowed = same & (x**2 + y**2 > 0.55**2)
    region = (edge & allowed).float().unsqueeze(1)
    for _ in range(max(h, w) // 2):  # the middle is excluded: half the side reaches every pixel left
        region = F.max_pool2d(region, 3, stride=1, padding=1) * allowed.unsqueeze(1)
    return region[:, 0].bool()


def _plain_backgrounds(n: int, h: int, w: int, generator: torch.Generator) -> torch.Tensor:
    """White (most), black (a transparent PNG flattened) or a light checkerboard (one shown transparent)."""
    kind = torch.rand(n, generator=generator).view(-1, 1, 1, 1)
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    square = max(2, h // 8)
    checker = torch.where(((ys // square + xs // square) % 2 == 0), 1.0, 0.8).expand(n, 3, h, w)
    plain = torch.where(kind < 0.75, 1.0, 0.0).expand(n, 3, h, w)
    return torch.where(kind > 0.85, checker, plain)


def _stretched(pixels: torch.Tensor) -> torch.Tensor:
    """Each image's pixels (N x P x 3) stretched so 1% are black and 1% white: a dark crop's red rim
    and white face come apart before its colours are clustered."""
    luma = pixels @ LUMA
    low, high = (percentile(luma, q).view(-1, 1, 1) for q in (0.01, 0.99))
    return ((pixels - low) / (high - low).clamp(min=0.05)).clamp(0, 1)


def clipart(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flat vector art: 4-8 pure sign colours (k-means on a smoothed copy), crisp edges, no noise, for
    half the images without stray pixels; half of them on a plain white, black or checkerboard
    background instead of the scene."""
    n, _, h, w = images.shape
    smooth = blur_all(images, 0.5).flatten(2).transpose(1, 2)  # N x P x 3
    k = torch.randint(4, K_MAX + 1, (n,), generator=generator)
    _, labels, unused = _kmeans(_stretched(smooth) @ OPPONENT, k, generator)
    labels = torch.where(chance(n, 0.5, generator).view(-1, 1), _tidy(labels, h, w).flatten(1), labels)
    palette = _sign_colours(_mean_colours(smooth, labels), unused, generator)
    flat = palette.gather(1, labels.unsqueeze(-1).expand(-1, -1, 3)).transpose(1, 2).reshape(n, 3, h, w)
    plain = _border_region(labels.view(n, h, w)) & chance(n, 0.5, generator).view(-1, 1, 1)
    return torch.where(plain.unsqueeze(1), _plain_backgrounds(n, h, w, generator), flat)
