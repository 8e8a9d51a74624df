"""Batch augmentation as tensor ops: one call transforms a whole batch, no per-image Python.

GTSRB's hard cases are what a camera in a moving car sees: signs turned, tilted, seen at
an angle, too dark or washed out, blurred by motion, partly hidden, and the photos people
send are JPEG-compressed; web photos add watermarks, snow, stickers, clip art and careless
resizing (:mod:`traffic_signs.data.web_photos`, off by default). Each transform below
draws its parameters per image from a seeded generator and applies them to the batch at
once. A horizontal flip only where the recipe asks for it (``mirror``), and then with the class
its mirror image is: "turn left" mirrored is "turn right", a mirrored 30 is no sign at all.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from traffic_signs.classes import MIRRORED, mirror_permutation
from traffic_signs.data.augment_config import AugmentConfig
from traffic_signs.data.batch_ops import blur_all, chance, jpeg_compress, per_image, uniform
from traffic_signs.data.web_photos import web_effects


def random_homographies(n: int, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """N x 3 x 3 maps from output to input coordinates (both in [-1, 1])."""
    angle = torch.deg2rad(uniform(n, -cfg.rotate_deg, cfg.rotate_deg, generator))
    scale = uniform(n, *cfg.scale, generator)
    shear = torch.tan(torch.deg2rad(uniform(n, -cfg.shear_deg, cfg.shear_deg, generator)))
    shift = uniform(2 * n, -2 * cfg.shift, 2 * cfg.shift, generator).view(n, 2)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    matrix = torch.zeros(n, 3, 3)
    matrix[:, 0, 0] = cos
    matrix[:, 0, 1] = -sin + shear * cos
    matrix[:, 1, 0] = sin
    matrix[:, 1, 1] = cos + shear * sin
    matrix[:, :2, 2] = shift
    matrix[:, 2, :2] = uniform(2 * n, -cfg.perspective, cfg.perspective, generator).view(n, 2)
    matrix[:, 2, 2] = 1.0
    return matrix


def warp(images: torch.Tensor, homographies: torch.Tensor) -> torch.Tensor:
    """Resample each image through its homography (reflection at the borders)."""
    n, _, h, w = images.shape
    ys, xs = torch.meshgrid(
        torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij"
    )
    points = torch.stack([xs, ys, torch.ones_like(xs)], dim=-1).view(1, h * w, 3)
    mapped = points @ homographies.transpose(1, 2)
    grid = (mapped[..., :2] / mapped[..., 2:].clamp(min=1e-3)).view(n, h, w, 2)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection",
                         align_corners=True)


def jitter_colour(images: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """Brightness, contrast and saturation in one fused affine step per image.

    Applying brightness b, then contrast c around the image's mean grey m, then saturation s
    around each pixel's grey g collapses to ``b*c*s * x + b*c*(1-s) * g + (1-c) * b*m``:
    three batch-wide ops instead of a dozen.
    """
    n = images.shape[0]
    b = per_image(uniform(n, 1 - cfg.brightness, 1 + cfg.brightness, generator))
    c = per_image(uniform(n, 1 - cfg.contrast, 1 + cfg.contrast, generator))
    s = per_image(uniform(n, 1 - cfg.saturation, 1 + cfg.saturation, generator))
    grey = images[:, 0:1] * 0.299 + images[:, 1:2] * 0.587 + images[:, 2:3] * 0.114
    mean = grey.mean(dim=(2, 3), keepdim=True)
    out = images * (b * c * s) + ((1 - c) * b * mean)
    return out.addcmul_(grey, b * c * (1 - s)).clamp_(0.0, 1.0)


def blur(images: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """Blend a random subset towards a Gaussian-blurred copy by a random amount (defocus, motion)."""
    n = images.shape[0]
    amount = uniform(n, 0.3, 1.0, generator)
    chosen = torch.nonzero(chance(n, cfg.blur_prob, generator)).flatten()
    if len(chosen):
        subset = images[chosen]
        images = images.clone()
        images[chosen] = torch.lerp(subset, blur_all(subset), per_image(amount[chosen]))
    return images


def add_noise(images: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """Gaussian sensor noise of random strength on a random subset."""
    n = images.shape[0]
    std = cfg.noise_std * uniform(n, 0.2, 1.0, generator)
    chosen = torch.nonzero(chance(n, cfg.noise_prob, generator)).flatten()
    if len(chosen):
        noise = torch.randn((len(chosen), *images.shape[1:]), generator=generator)
        images = images.clone()
        images[chosen] = (images[chosen] + noise * per_image(std[chosen])).clamp_(0.0, 1.0)
    return images


def occlude(images: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """Paint one random rectangle of random colour (stickers, branches, snow) on some images."""
    n, _, h, w = images.shape
    side_h = uniform(n, *cfg.occlusion_size, generator) * h
    side_w = uniform(n, *cfg.occlusion_size, generator) * w
    top = torch.rand(n, generator=generator) * (h - side_h)
    left = torch.rand(n, generator=generator) * (w - side_w)
    ys = torch.arange(h).view(1, h, 1)
    xs = torch.arange(w).view(1, 1, w)
    inside = (
        (ys >= top.view(n, 1, 1)) & (ys < (top + side_h).view(n, 1, 1))
        & (xs >= left.view(n, 1, 1)) & (xs < (left + side_w).view(n, 1, 1))
    )
    inside &= chance(n, cfg.occlusion_prob, generator).view(n, 1, 1)
    colour = torch.rand(n, 3, 1, 1, generator=generator)
    return torch.where(inside.unsqueeze(1), colour, images)


# Streak shapes, one 3x3 kernel each: falling to the right, straight down, falling to the left.
_STREAK_KERNELS = torch.stack([torch.eye(3), torch.zeros(3, 3).index_fill_(1, torch.tensor([1]), 1.0),
                               torch.eye(3).flip(1)]).unsqueeze(1)


def add_streaks(images: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """Rain or snow on a random subset: short light streaks at a random slant, density and brightness."""
    n, _, h, w = images.shape
    density = uniform(n, *cfg.streak_density, generator)
    shade = uniform(n, 0.6, 1.0, generator)
    slant = torch.randint(len(_STREAK_KERNELS), (n,), generator=generator)
    chosen = torch.nonzero(chance(n, cfg.streak_prob, generator)).flatten()
    if not len(chosen):
        return images
    starts = (torch.rand(len(chosen), 1, h, w, generator=generator) < per_image(density[chosen])).float()
    trails = F.conv2d(starts, _STREAK_KERNELS, padding=1)  # one channel per slant
    mask = trails.gather(1, slant[chosen].view(-1, 1, 1, 1).expand(-1, 1, h, w)).clamp_(max=1.0)
    images = images.clone()
    images[chosen] = torch.lerp(images[chosen], per_image(shade[chosen]).expand(-1, 3, h, w), mask)
    return images


def corrupt(images: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """What the camera, the weather and the web do to a framed sign: blur, noise, occlusion, rain,
    web-photo effects, JPEG."""
    images = blur(images, cfg, generator)
    images = add_noise(images, cfg, generator)
    images = occlude(images, cfg, generator).clamp_(0.0, 1.0)  # blur's lerp can overshoot by an ulp
    # Streaks, web effects and JPEG come last, and only when on, so the others draw the same numbers
    # either way. Web effects follow the camera's (a watermark, a thumbnail or clip art's flat colours
    # are made after the photo was taken) and precede the JPEG that a web page's copy is saved as.
    if cfg.streak_prob > 0:
        images = add_streaks(images, cfg, generator)
    if cfg.web_prob > 0:
        images = web_effects(images, cfg, generator)
    if cfg.jpeg_prob > 0:
        images = jpeg_compress(images, cfg, generator)
    return images


MIRROR = torch.from_numpy(mirror_permutation())  # class -> its mirror image's class
MIRRORABLE = torch.tensor(sorted(MIRRORED))


def mirror(images: torch.Tensor, labels: torch.Tensor, prob: float,
           generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each sign whose mirror image is a sign (``classes.MIRRORED``) flipped left to right with
    probability ``prob`` and given the class its mirror image is: GTSRB shows some signs in one
    handing only (a double curve first left, children from the left) that photos show in both.
    Returns the batch, its labels and which images were mirrored."""
    mirrored = (torch.rand(len(images), generator=generator) < prob) & torch.isin(labels, MIRRORABLE)
    images, labels = images.clone(), labels.clone()
    images[mirrored] = images[mirrored].flip(-1)
    labels[mirrored] = MIRROR[labels[mirrored]]
    return images, labels, mirrored


def augment(images: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """Augment a float batch N x 3 x H x W in [0, 1]; returns a new batch of the same shape."""
    images = warp(images, random_homographies(images.shape[0], cfg, generator))
    images = jitter_colour(images, cfg, generator)
    return corrupt(images, cfg, generator)


# The JPEG standard's example quantisation tables (ITU T.81, Annex K), luminance and chrominance.
def to_float(batch_uint8_nhwc: torch.Tensor) -> torch.Tensor:
    """uint8 N x H x W x 3 to float N x 3 x H x W in [0, 1]."""
    return batch_uint8_nhwc.permute(0, 3, 1, 2).float().div_(255.0)
