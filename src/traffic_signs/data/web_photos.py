"""What web photos of signs show that GTSRB's camera never did, drawn on whole batches as tensor ops.

GTSRB is one camera on German roads in 2010: a classifier trained on it learns that camera as
much as the signs. The pictures people send come from the web: stock photos with a watermark
across the sign, signs under snow or frost, grimy, stickered or sprayed with graffiti, faded by
the sun, clip-art drawn in flat colours, saved as heavy JPEG, tiny thumbnails blown up, large
photos shrunk without a low-pass filter and then over-sharpened. ``web_effects`` gives a share
of a batch (``AugmentConfig.web_prob``) one of these, chosen per image among
``AugmentConfig.web_effects``, with every parameter drawn per image from the caller's generator.

Each effect takes a float batch N x 3 x H x W in [0, 1] and returns a new one; shapes and
positions are in units where the picture spans [-1, 1], so they hold at any input size. Weather,
wear and resizing are here; what is laid over the picture (watermarks, stickers, graffiti) is in
:mod:`traffic_signs.data.web_overlays`, clip art in :mod:`traffic_signs.data.clip_art`.

In training (``data.augment.corrupt``) they come after the camera's corruptions and before the
JPEG step: a watermark, a thumbnail or a clip art's flat colours are made after the photo was
taken, and a web page's copy is then saved as JPEG. They act on the whole picture: on a
photo-framed sign too (a watermark covers the photo, not only the sign), and on the pictures of
"no sign" as well, so that a watermark or flat colours do not come to mean "a sign".
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from traffic_signs.data.augment_config import WEB_EFFECTS, AugmentConfig
from traffic_signs.data.batch_ops import blur_all, chance, jpeg_compress, per_image, uniform
from traffic_signs.data.clip_art import clipart
from traffic_signs.data.raster import brightness, column, paint, percentile, pixel_centres, smooth_noise
from traffic_signs.data.web_overlays import graffiti, sticker, watermark

Effect = Callable[[torch.Tensor, torch.Generator], torch.Tensor]

WEB_JPEG = AugmentConfig(jpeg_prob=1.0, jpeg_quality=(6.0, 25.0))  # below the training default of 8-60
WEB_JPEG_LARGER = AugmentConfig(jpeg_prob=1.0, jpeg_quality=(3.0, 12.0))  # shrinking by 2 halves the damage


def web_effects(images: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """Give a share ``cfg.web_prob`` of the batch one effect each, chosen uniformly among ``cfg.web_effects``;
    at ``web_prob`` 0 the batch comes back as it was and no random number is drawn."""
    if cfg.web_prob <= 0:
        return images
    unknown = [name for name in cfg.web_effects if name not in EFFECTS]
    if unknown or not cfg.web_effects:
        raise ValueError(f"web_effects {','.join(cfg.web_effects) or '(none)'}: choose among {', '.join(WEB_EFFECTS)}")
    n = images.shape[0]
    effect = torch.randint(len(cfg.web_effects), (n,), generator=generator)
    chosen = chance(n, cfg.web_prob, generator)
    out = images
    for k, name in enumerate(cfg.web_effects):
        picked = torch.nonzero(chosen & (effect == k)).flatten()
        if len(picked):
            out = out.clone() if out is images else out
            out[picked] = EFFECTS[name](images[picked], generator).clamp_(0.0, 1.0)
    return out


# ---------------------------------------------------------------------------------- weather, wear


def _snow_cap(n: int, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """N x H x W: snow lying on the sign's upper rim (an arc round the middle, where GTSRB crops and
    most photos have the sign), piled a little above it, its lower edge wavy."""
    radius = column(uniform(n, 0.65, 0.9, generator))
    rim = -radius * torch.sqrt((1 - (x / radius) ** 2).clamp(min=0)) - column(uniform(n, 0.0, 0.12, generator))
    depth = column(uniform(n, 0.15, 0.6, generator))
    wave = column(uniform(n, 0.03, 0.12, generator)) * torch.sin(
        column(uniform(n, 3, 9, generator)) * x + column(uniform(n, 0, 2 * math.pi, generator)))
    over_sign = torch.sigmoid((radius - x.abs()) / 0.05)
    return torch.sigmoid((y - rim) / 0.05) * torch.sigmoid((-radius + depth + wave - y) / 0.05) * over_sign


def _white_level(images: torch.Tensor) -> torch.Tensor:
    """N x 1 x 1 x 1: how bright white things are in each picture (its 95th-percentile brightness, at
    least 0.35), so snow and frost in a dark photo are lit as dimly as the sign."""
    level = percentile(brightness(images).flatten(1), 0.95) * 1.1
    return level.clamp(0.35, 1.0).view(-1, 1, 1, 1)


def snow(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Snow on the sign: a cap lying on its upper rim (most images) and wet lumps stuck to its face,
    more towards the top and the windward side; white to bluish grey, soft edges, a faint texture."""
    n, _, h, w = images.shape
    x, y = pixel_centres(h, w)
    cap = _snow_cap(n, x, y, generator) * column(chance(n, 0.7, generator).float())
    wind = column(uniform(n, -1.0, 1.0, generator))
    lumps = smooth_noise(n, h, w, (5, 5), generator)[:, 0] - 0.8 * y + wind * x
    threshold = column(uniform(n, 0.6, 1.8, generator))
    cover = torch.maximum(cap, torch.sigmoid((lumps - threshold) / 0.2)).unsqueeze(1)
    texture = 0.92 + 0.08 * blur_all(torch.rand(n, 3, h, w, generator=generator), 0.6)[:, :1]
    white = uniform(n, 0.85, 1.0, generator).view(-1, 1, 1, 1) * torch.tensor([0.96, 0.98, 1.0]).view(1, 3, 1, 1)
    white = white * _white_level(images)
    shade = 1 - 0.1 * (y.unsqueeze(1) + 1) / 2  # lit from above
    opacity = per_image(uniform(n, 0.85, 1.0, generator))
    return paint(images, (white * texture * shade).clamp(max=1.0), cover * opacity)


def frost(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Hoar frost: contrast lowered, fine crystalline whitening, patchy and thicker towards the edges."""
    n, _, h, w = images.shape
    x, y = pixel_centres(h, w)
    grey = brightness(images).mean(dim=(2, 3), keepdim=True)
    flat = torch.lerp(grey, images, per_image(uniform(n, 0.45, 0.8, generator)))
    grains = blur_all(torch.randn(n, 3, h, w, generator=generator), 0.7)[:, :1] * 2.5  # clumps, sd about 1
    crystals = 1 + per_image(uniform(n, 0.05, 0.2, generator)) * grains
    patches = torch.sigmoid(0.5 * smooth_noise(n, h, w, (4, 4), generator) + torch.maximum(x.abs(), y.abs()))
    amount = per_image(uniform(n, 0.3, 0.7, generator))
    white = torch.tensor([0.9, 0.93, 0.97]).view(1, 3, 1, 1) * _white_level(images)
    return paint(flat, white, (amount * patches * crystals).clamp(0, 1))


def dirt(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Road grime: low-frequency brown-grey stains, blotchy or running down in streaks, that darken
    and tint what they cover, with a fine grain."""
    n, _, h, w = images.shape
    blotches = smooth_noise(n, h, w, (4, 4), generator)
    drips = smooth_noise(n, h, w, (3, 9), generator)
    field = torch.where(chance(n, 0.35, generator).view(-1, 1, 1, 1), drips, blotches)
    stain = torch.sigmoid((field - per_image(uniform(n, -0.6, 0.6, generator))) / 0.35)
    grain = 0.8 + 0.4 * blur_all(torch.rand(n, 3, h, w, generator=generator), 0.7)[:, :1]
    darkening = uniform(n, 0.35, 0.7, generator)
    warmth = uniform(n, 0.0, 1.0, generator)
    brown = darkening.view(-1, 1) * torch.stack([1 + 0.25 * warmth, torch.ones(n), 1 - 0.35 * warmth], 1)
    grimy = images * brown.clamp(max=1).view(n, 3, 1, 1)  # a multiplied layer: darker and browner, never lighter
    return torch.lerp(images, grimy, (stain * grain * per_image(uniform(n, 0.6, 1.0, generator))).clamp(0, 1))


def fade(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Sun-faded paint: reds shift to pink or orange, blues go pale, colours wash out, blacks lift."""
    n = images.shape[0]
    r, g, b = images.unbind(1)
    red = (r - torch.maximum(g, b)).clamp(min=0).unsqueeze(1)
    blue = (b - torch.maximum(r, g)).clamp(min=0).unsqueeze(1)
    pink = chance(n, 0.5, generator).float()
    shift = uniform(n, 0.3, 0.7, generator)
    red_to = torch.stack([torch.zeros(n), shift * (1 - 0.6 * pink), shift * pink], 1).view(n, 3, 1, 1)
    blue_to = uniform(n, 0.3, 0.7, generator).view(-1, 1, 1, 1) * torch.tensor([1.0, 0.9, 0.3]).view(1, 3, 1, 1)
    faded = images + red * red_to + blue * blue_to
    faded = torch.lerp(brightness(faded), faded, per_image(uniform(n, 0.3, 0.75, generator)))
    lift = per_image(uniform(n, 0.1, 0.35, generator))
    return (lift + (1 - lift) * faded.clamp(0, 1)) ** per_image(uniform(n, 0.7, 1.0, generator))


# ----------------------------------------------------------------------------- compression, scaling


def heavy_jpeg(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """JPEG as an encoder makes it: at quality 6-25, or for half the images at quality 3-12 at twice the
    size before the picture was shrunk to this one (blocks and ringing of a larger photo, softened)."""
    n, _, h, w = images.shape
    larger = chance(n, 0.5, generator)
    out = images.clone()
    out[~larger] = jpeg_compress(images[~larger], WEB_JPEG, generator)
    big = F.interpolate(images[larger], scale_factor=2, mode="bilinear", align_corners=False)
    out[larger] = F.interpolate(jpeg_compress(big, WEB_JPEG_LARGER, generator), size=(h, w), mode="area")
    return out


def _by_key(images: torch.Tensor, keys: torch.Tensor, resize: Callable[[torch.Tensor, int], torch.Tensor]
            ) -> torch.Tensor:
    """``resize(subset, key)`` for the images of each distinct key, since interpolate takes one size per call."""
    out = torch.empty_like(images)
    for key in keys.unique().tolist():
        members = keys == key
        out[members] = resize(images[members], key)
    return out


THUMBNAIL_MODES = ("bilinear", "bicubic", "nearest")


def thumbnail(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A tiny web image blown up: shrunk to 8-16 px (for 32 px pictures; box filter) and enlarged
    back bilinearly, bicubically or to blocky nearest pixels, as viewers and our own resizing do."""
    n, _, h, w = images.shape
    small = torch.randint(max(2, h // 4), max(3, h // 2 + 1), (n,), generator=generator)
    mode = torch.randint(len(THUMBNAIL_MODES), (n,), generator=generator)

    def shrink_and_enlarge(subset: torch.Tensor, key: int) -> torch.Tensor:
        side, how = divmod(key, len(THUMBNAIL_MODES))
        tiny = F.interpolate(subset, size=(side, round(side * w / h)), mode="area")
        smooth = {"align_corners": False} if THUMBNAIL_MODES[how] != "nearest" else {}
        return F.interpolate(tiny, size=(h, w), mode=THUMBNAIL_MODES[how], **smooth).clamp_(0, 1)

    return _by_key(images, small * len(THUMBNAIL_MODES) + mode, shrink_and_enlarge)


def _unsharp(images: torch.Tensor, amount: torch.Tensor) -> torch.Tensor:
    """An unsharp mask (radius 0.8 px) of per-image strength: the halos of a phone's or an editor's sharpening."""
    return images + per_image(amount) * (images - blur_all(images, 0.8))


def downscale(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A large photo shrunk carelessly: rendered 2-4x larger with crisp edges, then sampled down to
    the nearest pixel (jagged edges, broken thin strokes; the sampling phase and scale vary per
    image), and/or over-sharpened afterwards (unsharp-mask halos)."""
    n, _, h, w = images.shape
    how = torch.randint(3, (n,), generator=generator)  # 0: aliased, 1: over-sharpened, 2: both
    aliased = _aliased(images, generator)
    out = torch.where((how != 1).view(-1, 1, 1, 1), aliased, images)
    halos = _unsharp(out, uniform(n, 0.5, 1.8, generator)).clamp_(0, 1)
    return torch.where((how != 0).view(-1, 1, 1, 1), halos, out)


def _aliased(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image as if enlarged 2-4x and sharpened to crisp edges, then sampled at its nearest pixels
    on a grid a little shifted and scaled per image (so the dropped rows and columns differ)."""
    n, _, h, w = images.shape
    factor = column(torch.randint(2, 5, (n,), generator=generator).float())
    zoom = column(uniform(n, 0.94, 1.06, generator))
    phase = uniform(2 * n, -1, 1, generator).view(2, n)
    crisp = per_image(uniform(n, 0.8, 2.0, generator))
    x, y = pixel_centres(h, w)

    def nearest_large_pixel(coordinate: torch.Tensor, side: int) -> torch.Tensor:
        large = side * factor
        return (torch.floor((coordinate + 1) / 2 * large) + 0.5) / large * 2 - 1

    grid = torch.stack([nearest_large_pixel(x * zoom + column(phase[0]) / w, w),
                        nearest_large_pixel(y * zoom + column(phase[1]) / h, h)], dim=-1)
    # The large rendering is never made: sharpening and sampling are linear, so sampling the bicubic
    # enlargement and its blurred copy at those pixels and sharpening there is the same, at 1/factor^2
    # of the cost; the clamp then cuts the overshoot as it would have at the large size.
    sharp = F.grid_sample(images, grid, mode="bicubic", padding_mode="reflection", align_corners=False)
    soft = F.grid_sample(blur_all(images, 0.6), grid, mode="bilinear", padding_mode="reflection",
                         align_corners=False)
    return (sharp + crisp * (sharp - soft)).clamp_(0, 1)


EFFECTS: dict[str, Effect] = {  # in the order of augment_config.WEB_EFFECTS
    "watermark": watermark, "snow": snow, "frost": frost, "dirt": dirt, "sticker": sticker, "graffiti": graffiti,
    "fade": fade, "clipart": clipart, "jpeg": heavy_jpeg, "thumbnail": thumbnail, "downscale": downscale,
}
