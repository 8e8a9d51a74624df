"""Things laid over a web photo, drawn once per process with PIL and placed per image as tensor ops:
stock-photo watermarks, stickers and spray-paint graffiti (see :mod:`traffic_signs.data.web_photos`).

Text and scribbles are rendered into mask atlases (DejaVu fonts; one row per text or scribble) the
first time they are needed; each batch then only samples them through per-image rotations,
scales, shifts and tilings, one ``grid_sample`` call for the whole batch.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from traffic_signs.data.batch_ops import chance, per_image, uniform
from traffic_signs.data.raster import SUPERSAMPLE, column, downsample, hsv_to_rgb, paint, pixel_centres

WATERMARK_WORDS = ("alamy", "shutterstock", "stock photo", "iStock", "©", "Dreamstime", "123RF", "Getty Images",
                   "depositphotos", "Adobe Stock", "© alamy", "www.alamy.com", "shutterstock.com", "dreamstime.com",
                   "iStock by Getty Images", "© 123RF", "Fotolia", "PREVIEW", "SAMPLE", "© Copyright",
                   "gettyimages", "Credit: Getty Images", "Image ID: 2B4X9KM", "www.123rf.com")
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansCondensed-Bold.ttf", "DejaVuSerif.ttf",
         "DejaVuSans-Oblique.ttf")
MASK_HEIGHT = 28  # pixels of one atlas row: the text's line height
SCRIBBLE_SIDE = 48  # pixels of one pre-drawn scribble
SCRIBBLES = 96


def _font(name: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A DejaVu font (Debian: fonts-dejavu-core), else the font Pillow carries, so that training runs
    where DejaVu is not installed: the words differ in style, not in what they say."""
    try:
        return ImageFont.truetype(name, size)
    except OSError:
        return ImageFont.load_default(size=size)


def _random_words(rng: np.random.Generator, count: int) -> list[str]:
    """Made-up brand names and photo ids, so the model cannot learn a fixed list of words."""
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    words = []
    for _ in range(count):
        word = "".join(rng.choice(list(consonants if i % 2 == 0 else vowels)) for i in range(rng.integers(4, 9)))
        style = rng.integers(4)
        words.append([word, word.capitalize(), f"www.{word}.com", f"© {word.upper()}"][style])
    return words


def _text_mask(text: str, font: ImageFont.FreeTypeFont) -> np.ndarray:
    """Two planes (fill, outline) of ``text``, MASK_HEIGHT high and as wide as it is."""
    left, top, right, bottom = font.getbbox(text, stroke_width=2)
    width = right - left + 4
    planes = []
    for stroke in (0, 2):
        image = Image.new("L", (width, MASK_HEIGHT))
        ImageDraw.Draw(image).text((2 - left, (MASK_HEIGHT - (bottom - top)) / 2 - top), text, fill=255, font=font,
                                   stroke_width=stroke, stroke_fill=255)
        planes.append(np.asarray(image, dtype=np.float32) / 255)
    fill, outline = planes
    return np.stack([fill, outline - fill])


def _logo_masks(side: int = MASK_HEIGHT) -> list[np.ndarray]:
    """Shapes stock sites print in the middle of a picture: a ring, a ring round a letter, a framed box."""
    font = _font("DejaVuSans-Bold.ttf", int(side * 0.6))
    logos = []
    for kind in ("ring", "letter", "box"):
        image = Image.new("L", (side, side))
        draw = ImageDraw.Draw(image)
        if kind == "box":
            draw.rounded_rectangle((2, 5, side - 3, side - 6), radius=5, outline=255, width=2)
        else:
            draw.ellipse((2, 2, side - 3, side - 3), outline=255, width=3)
        if kind != "ring":
            draw.text((side / 2, side / 2), "a" if kind == "letter" else "S", fill=255, font=font, anchor="mm")
        fill = np.asarray(image, dtype=np.float32) / 255
        logos.append(np.stack([fill, np.zeros_like(fill)]))
    return logos


@functools.cache
def watermark_atlas() -> tuple[torch.Tensor, torch.Tensor]:
    """Every watermark text and logo as one 1 x 2 x (K * MASK_HEIGHT) x W atlas (fill, outline), a row
    each, and their widths in pixels (K). Rendered once per process; fixed words, fixed made-up ones."""
    rng = np.random.default_rng(20240229)
    texts = list(WATERMARK_WORDS) + _random_words(rng, 12)
    fonts = [_font(name, int(MASK_HEIGHT * 0.62)) for name in FONTS]
    masks = [_text_mask(text, fonts[i % len(fonts)]) for i, text in enumerate(texts)] + _logo_masks()
    width = max(m.shape[-1] for m in masks)
    atlas = np.zeros((2, len(masks) * MASK_HEIGHT, width), dtype=np.float32)
    for k, mask in enumerate(masks):
        atlas[:, k * MASK_HEIGHT : (k + 1) * MASK_HEIGHT, : mask.shape[-1]] = mask
    return torch.from_numpy(atlas).unsqueeze(0), torch.tensor([float(m.shape[-1]) for m in masks])


def _sample_atlas(row: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Atlas planes at pixel coordinates (u along the text, v down it; N x H x W) in each image's row:
    N x 2 x H x W, zero outside the row's line height."""
    atlas, _ = watermark_atlas()
    height, width = atlas.shape[-2:]
    n, h, w = u.shape
    inside = ((v >= 0) & (v < MASK_HEIGHT)).unsqueeze(1)
    gy = (column(row.float() * MASK_HEIGHT) + v.clamp(0, MASK_HEIGHT - 1)) / height * 2 - 1
    grid = torch.stack([u / width * 2 - 1, gy], dim=-1).view(1, n * h, w, 2)
    planes = F.grid_sample(atlas, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return planes.view(2, n, h, w).transpose(0, 1) * inside


def _text_coordinates(n: int, h: int, w: int, generator: torch.Generator,
                      widths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each picture's pixels in its text's atlas pixels (u along, v across; N x H x W, supersampled):
    rotated, scaled and shifted per image; tiled diagonally across the whole picture for about half
    (the third result says which), one line (or logo) across it for the rest."""
    tiled = chance(n, 0.5, generator)
    tilt = uniform(n, 15, 45, generator) * torch.where(chance(n, 0.5, generator), 1.0, -1.0)
    level = uniform(n, -8, 8, generator)
    angle = torch.deg2rad(torch.where(tiled | chance(n, 0.3, generator), tilt, level))
    span = uniform(n, 1.0, 2.2, generator)  # a single line's width, in picture units (the picture is 2)
    height = torch.where(tiled, uniform(n, 0.35, 0.8, generator), (span / widths * MASK_HEIGHT).clamp(max=1.1))
    shift = uniform(2 * n, -0.35, 0.35, generator).view(2, n)
    x, y = pixel_centres(h, w, SUPERSAMPLE)
    cos, sin = column(torch.cos(angle)), column(torch.sin(angle))
    along = (cos * (x - column(shift[0])) + sin * (y - column(shift[1]))) / column(height) * MASK_HEIGHT
    across = (-sin * (x - column(shift[0])) + cos * (y - column(shift[1]))) / column(height) * MASK_HEIGHT
    period_u = column(widths * uniform(n, 1.2, 1.8, generator))
    period_v = column(uniform(n, 1.5, 2.5, generator) * MASK_HEIGHT)
    line = torch.floor(across / period_v + 0.5)
    u_tiled = torch.remainder(along + line * period_u * 0.5, period_u)
    v_tiled = across - line * period_v + MASK_HEIGHT / 2
    u_single, v_single = along + column(widths) / 2, across + MASK_HEIGHT / 2
    return torch.where(column(tiled), u_tiled, u_single), torch.where(column(tiled), v_tiled, v_single), tiled


def watermark(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Semi-transparent stock-photo text over the whole picture: light (sometimes dark) letters,
    some with a faint outline of the other shade, tiled diagonally or one line across, a few
    on a translucent band (as Getty and iStock print them)."""
    n, _, h, w = images.shape
    _, widths = watermark_atlas()
    row = torch.randint(len(widths), (n,), generator=generator)
    u, v, tiled = _text_coordinates(n, h, w, generator, widths[row])
    fill, outline = downsample(_sample_atlas(row, u, v)).unbind(1)
    light = chance(n, 0.75, generator)
    shade = torch.where(light, uniform(n, 0.85, 1.0, generator), uniform(n, 0.0, 0.2, generator))
    opacity = uniform(n, 0.35, 0.75, generator)
    edge = torch.where(chance(n, 0.4, generator), uniform(n, 0.2, 0.5, generator), 0.0)
    on_band = (v > -0.3 * MASK_HEIGHT) & (v < 1.3 * MASK_HEIGHT)
    band = (chance(n, 0.25, generator) & ~tiled).view(-1, 1, 1, 1) & (downsample(on_band.float()).unsqueeze(1) > 0.5)
    images = torch.where(band, images * per_image(uniform(n, 0.6, 0.85, generator)), images)
    images = paint(images, (1 - shade).view(-1, 1).expand(n, 3), outline.unsqueeze(1) * per_image(edge))
    return paint(images, shade.view(-1, 1).expand(n, 3), fill.unsqueeze(1) * per_image(opacity))


def sticker(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A sticker on the sign: a solid rectangle, rounded box or oval of one colour, some with a
    border, some with a line of text, turned a little, mostly near the middle."""
    n, _, h, w = images.shape
    x, y = pixel_centres(h, w, SUPERSAMPLE)
    centre = uniform(2 * n, -0.45, 0.45, generator).view(2, n)
    half = uniform(n, 0.12, 0.32, generator)
    aspect = torch.exp(uniform(n, -0.6, 0.6, generator))
    half_w, half_h = column(half * aspect.sqrt()), column(half / aspect.sqrt())
    angle = torch.deg2rad(uniform(n, -30, 30, generator))
    cos, sin = column(torch.cos(angle)), column(torch.sin(angle))
    u = cos * (x - column(centre[0])) + sin * (y - column(centre[1]))
    v = -sin * (x - column(centre[0])) + cos * (y - column(centre[1]))
    power = column(torch.tensor([2.0, 4.0, 16.0])[torch.randint(3, (n,), generator=generator)])
    shape = (u / half_w).abs() ** power + (v / half_h).abs() ** power
    border = column(torch.where(chance(n, 0.5, generator), uniform(n, 0.55, 0.8, generator), 1.0))
    inner = shape < border**power
    outer = downsample((shape < 1).float()).unsqueeze(1)
    fill = hsv_to_rgb(torch.rand(n, generator=generator), torch.rand(n, generator=generator),
                       uniform(n, 0.3, 1.0, generator))
    fill = torch.where(chance(n, 0.3, generator).view(-1, 1), torch.ones(n, 3), fill)
    contrast = (fill.mean(1, keepdim=True) < 0.5).float().expand(n, 3)  # black on light, white on dark
    row = torch.randint(len(watermark_atlas()[1]), (n,), generator=generator)
    text = _sample_atlas(row, (u / half_w * 0.9 + 1) / 2 * column(watermark_atlas()[1][row]),
                         (v / half_h + 1) / 2 * MASK_HEIGHT)[:, 0] * column(chance(n, 0.6, generator).float())
    out = paint(images, contrast, outer)
    out = paint(out, fill, downsample(inner.float()).unsqueeze(1))
    return paint(out, contrast, downsample(text * inner).unsqueeze(1))


@functools.cache
def scribble_atlas() -> torch.Tensor:
    """1 x 1 x (SCRIBBLES * SCRIBBLE_SIDE) x SCRIBBLE_SIDE: spray-paint scribbles drawn once per process
    with PIL (random walks of 3-6 strokes, one or two lines, joints rounded, line width 2-7 px), their
    edges softened and speckled with overspray as a can leaves them. Batches only place them."""
    rng = np.random.default_rng(20240301)
    atlas = np.zeros((SCRIBBLES * SCRIBBLE_SIDE, SCRIBBLE_SIDE), dtype=np.float32)
    for k in range(SCRIBBLES):
        image = Image.new("L", (SCRIBBLE_SIDE, SCRIBBLE_SIDE))
        draw = ImageDraw.Draw(image)
        width = int(rng.integers(2, 8))
        for _ in range(rng.integers(1, 3)):
            point, heading = rng.uniform(0.15, 0.85, 2) * SCRIBBLE_SIDE, rng.uniform(0, 2 * np.pi)
            points = [tuple(point)]
            for _ in range(rng.integers(3, 7)):
                heading += rng.uniform(-1.8, 1.8)
                point = np.clip(point + rng.uniform(10, 22) * np.array([np.cos(heading), np.sin(heading)]), 2,
                                SCRIBBLE_SIDE - 3)
                points.append(tuple(point))
            draw.line(points, fill=255, width=width, joint="curve")
        paint = np.asarray(image, dtype=np.float32) / 255
        halo = np.asarray(image.filter(ImageFilter.GaussianBlur(width * 0.8)), dtype=np.float32) / 255
        spray = (rng.random(paint.shape) < 0.35 * np.clip(halo * 3, 0, 1)) * 0.8
        soft = np.asarray(image.filter(ImageFilter.GaussianBlur(0.7)), dtype=np.float32) / 255
        atlas[k * SCRIBBLE_SIDE : (k + 1) * SCRIBBLE_SIDE] = np.maximum(soft, spray * (paint < 0.5))
    return torch.from_numpy(atlas)[None, None]


def graffiti(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Spray paint: a scribble of one or two lines in a saturated colour, black or silver, with soft
    sprayed edges and overspray; turned, scaled and placed per image."""
    n, _, h, w = images.shape
    pick = torch.randint(SCRIBBLES, (n,), generator=generator)
    angle = uniform(n, 0, 2 * math.pi, generator)
    size = uniform(n, 0.9, 1.8, generator)  # the scribble's side, in picture units (the picture is 2)
    centre = uniform(2 * n, -0.4, 0.4, generator).view(2, n)
    x, y = pixel_centres(h, w, SUPERSAMPLE)
    cos, sin = column(torch.cos(angle)), column(torch.sin(angle))
    u = (cos * (x - column(centre[0])) + sin * (y - column(centre[1]))) / column(size) + 0.5
    v = (-sin * (x - column(centre[0])) + cos * (y - column(centre[1]))) / column(size) + 0.5
    inside = (u >= 0) & (u <= 1) & (v >= 0) & (v <= 1)
    rows = (column(pick.float()) + v.clamp(0, 1)) / SCRIBBLES * 2 - 1
    grid = torch.stack([u * 2 - 1, rows], dim=-1).view(1, n * x.shape[1], x.shape[2], 2)
    strokes = F.grid_sample(scribble_atlas(), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    cover = downsample(strokes.view(n, *x.shape[1:]) * inside).unsqueeze(1)
    colour = hsv_to_rgb(torch.rand(n, generator=generator), uniform(n, 0.75, 1.0, generator),
                         uniform(n, 0.55, 1.0, generator))
    kind = torch.rand(n, generator=generator)
    colour = torch.where((kind < 0.2).view(-1, 1), torch.full((n, 3), 0.06), colour)
    colour = torch.where((kind > 0.9).view(-1, 1), torch.full((n, 3), 0.8), colour)
    return paint(images, colour, cover * per_image(uniform(n, 0.75, 1.0, generator)))
