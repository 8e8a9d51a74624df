"""What real photos show that GTSRB's crops do not, drawn on whole batches as tensor ops.

GTSRB crops are tight (a ~10% border), the border is GTSRB's own roadside, and every crop
holds one of 43 German signs. The pictures people send differ in exactly those ways, and a
classifier trained on GTSRB alone answers them badly (docs/results.md, *Real photos*): loosely framed
crops fall below the confidence threshold, and signs GTSRB has no class for are read as the
nearest German sign at 97-100%. Two views attack this:

* **Photo framing** (``--photo-framing F``): a share F of every batch's signs are cut out
  along their class's shape and pasted onto pieces of sign-free photographs, at 50-95% of the
  picture, off centre, a little stretched, sometimes on a pole or above a supplementary
  plate; one in ten is replaced by a clean drawing (web art) of a speed limit or "No
  vehicles", or with ``--drawn-designs all|every`` of more classes. The label stays the sign's.
* **Outliers** (``--outliers KIND,...`` with ``--outlier-weight W``): pictures that hold no
  GTSRB sign, whose answer should be "no class in particular" (outlier exposure): signs
  turned upside down (``upside_down``), pieces of background (``background``), fragments of
  signs as a detector's stray box would cut them (``fragment``), and drawn signs that GTSRB
  has no class for (``drawn``, :mod:`traffic_signs.data.drawn_signs`), and those that hold or
  mimic a GTSRB sign closely (``lookalike``): Zone signs, whose disc is a speed limit, and the
  blue "left or right" fork, an arrow disc GTSRB lacks; Zone plates around a real GTSRB
  disc (``zone``), so that the plate, not the drawing of its disc, is what tells them apart;
  and some fifty German sign designs without a class (``designs``: other prohibitions, blue
  discs and squares, warnings, plates), drawn by the same frames and pictograms as the 43
  classes of ``--drawn-designs every``, so that only the symbol tells a sign from no sign.

Backgrounds and drawings are made once, when training starts, from a seeded generator; every
batch then only indexes and warps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
import torch.nn.functional as F

from traffic_signs.classes import NUM_CLASSES, turnable
from traffic_signs.data.augment import to_float
from traffic_signs.data.augment_config import DRAWN_DESIGNS, OUTLIER_KINDS
from traffic_signs.data.batch_ops import uniform
from traffic_signs.data.drawn_signs import (
    ENDED_ZONE_DISCS,
    ZONE_DISCS,
    ZONE_TEXT_TOP,
    draw_every_class,
    draw_lookalikes,
    draw_signs,
    draw_unknown_signs,
    draw_zone_blanks,
)
from traffic_signs.data.scenes import SIGN_INSET, random_background, shape_mask, sign_shape

MASK_SIDE = 64  # class outlines are sampled from masks at twice the input resolution
DRAWING_SIDE = 64
DRAWN_SHARE = 0.1  # of the photo-framed signs, the share replaced by drawings
ENDED_ZONE_SHARE = 0.3  # of the Zone plates made, the share that end a Zone


@dataclass(frozen=True)
class SignPool:
    """The training crops outliers are made from, and the indices each kind draws on."""

    images: torch.Tensor  # uint8 N x H x W x 3
    labels: torch.Tensor
    turnable: torch.Tensor  # no sign once turned upside down
    zone_discs: torch.Tensor
    ended_zone_discs: torch.Tensor

    @classmethod
    def of(cls, images: np.ndarray, labels: np.ndarray) -> SignPool:
        def where(classes: tuple[int, ...]) -> torch.Tensor:
            return torch.from_numpy(np.flatnonzero(np.isin(labels, classes)))

        return cls(torch.from_numpy(images), torch.from_numpy(labels), torch.from_numpy(turnable(labels)),
                   where(ZONE_DISCS), where(ENDED_ZONE_DISCS))


def class_masks(side: int = MASK_SIDE) -> torch.Tensor:
    """43 x 1 x side x side: each class's outline where it lies in a GTSRB crop (inside the border)."""
    inner = round(side * (1 - 2 * SIGN_INSET))
    start = (side - inner) // 2
    masks = torch.zeros(NUM_CLASSES, 1, side, side)
    for class_id in range(NUM_CLASSES):
        outline = torch.from_numpy(shape_mask(sign_shape(class_id), inner))
        masks[class_id, 0, start : start + inner, start : start + inner] = outline
    return masks


def _grid(n: int, side: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Output pixel centres in [-1, 1] (align_corners=False), as N x side x side x and y."""
    axis = (torch.arange(side, dtype=torch.float32) + 0.5) / side * 2 - 1
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    return xs.expand(n, side, side), ys.expand(n, side, side)


def _column(values: torch.Tensor) -> torch.Tensor:
    return values.view(-1, 1, 1)


def paste(signs: torch.Tensor, alpha: torch.Tensor, extent: float, backgrounds: torch.Tensor,
          generator: torch.Generator, size: tuple[float, float] = (0.5, 0.95)) -> tuple[torch.Tensor, torch.Tensor]:
    """Paste each sign onto its background, its box ``size`` of the side, stretched a little, off centre.

    ``signs``/``alpha`` are N x 3/1 x H x W with the sign's box spanning ``extent`` of their side
    (GTSRB crops: 1 - 2 x border; drawings: 1). Returns the pictures and each sign's box as
    N x 4 (x0, y0, x1, y1) in [-1, 1].
    """
    n = len(signs)
    half = uniform(n, *size, generator)  # half the box side in [-1, 1] units is its fraction of the side
    stretch = torch.exp(uniform(2 * n, -0.15, 0.15, generator)).view(n, 2)
    half_w, half_h = half * stretch[:, 0], half * stretch[:, 1]
    cx = uniform(n, -1, 1, generator) * (1 - half_w).clamp(min=0.02)
    cy = uniform(n, -1, 1, generator) * (1 - half_h).clamp(min=0.02)
    boxes = torch.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], dim=1)
    return place(signs, alpha, extent, backgrounds, cx, cy, half_w, half_h), boxes


def place(signs: torch.Tensor, alpha: torch.Tensor, extent: float, backgrounds: torch.Tensor,
          cx: torch.Tensor, cy: torch.Tensor, half_w: torch.Tensor, half_h: torch.Tensor) -> torch.Tensor:
    """Each sign over its background, its box centred on (cx, cy) with half sides half_w, half_h
    (all in [-1, 1] units, per picture); ``extent`` as in ``paste``."""
    n, side = len(signs), backgrounds.shape[-1]
    xs, ys = _grid(n, side)
    grid = torch.stack([(xs - _column(cx)) / _column(half_w) * extent,
                        (ys - _column(cy)) / _column(half_h) * extent], dim=-1)
    sign = F.grid_sample(signs, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    mask = F.grid_sample(alpha, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return torch.lerp(backgrounds, sign, mask)


def add_pole_or_plate(pictures: torch.Tensor, boxes: torch.Tensor, generator: torch.Generator,
                      p_pole: float = 0.3, p_plate: float = 0.2) -> torch.Tensor:
    """Below some signs, the grey pole they stand on or a white supplementary plate with dark text lines."""
    n, side = len(pictures), pictures.shape[-1]
    xs, ys = _grid(n, side)
    x0, y0, x1, y1 = (_column(boxes[:, k]) for k in range(4))
    centre, width = (x0 + x1) / 2, x1 - x0
    pole = (torch.rand(n, generator=generator) < p_pole).view(-1, 1, 1)
    pole_half = width * uniform(n, 0.04, 0.08, generator).view(-1, 1, 1)
    on_pole = pole & ((xs - centre).abs() < pole_half) & (ys > y1)
    grey = uniform(n, 0.3, 0.75, generator).view(-1, 1, 1, 1)
    pictures = torch.where(on_pole.unsqueeze(1), grey.expand_as(pictures), pictures)
    plate = (torch.rand(n, generator=generator) < p_plate).view(-1, 1, 1)
    gap = width * 0.05
    plate_height = width * uniform(n, 0.25, 0.45, generator).view(-1, 1, 1)
    on_plate = plate & ((xs - centre).abs() < width * 0.45) & (ys > y1 + gap) & (ys < y1 + gap + plate_height)
    lines = torch.sin((ys - y1) / width * uniform(n, 25, 40, generator).view(-1, 1, 1)) > 0.6
    paper = torch.where(lines & ((xs - centre).abs() < width * 0.35), 0.15, 0.92)
    return torch.where(on_plate.unsqueeze(1), paper.unsqueeze(1).expand_as(pictures), pictures)


def in_daylight(signs: torch.Tensor, generator: torch.Generator, share: float = 0.8) -> torch.Tensor:
    """Stretch most signs' colours to the full range: many GTSRB crops are dark and dull, while
    people photograph signs in daylight, and a dark sign on a bright background is a seam
    the model could learn instead of the sign."""
    n = len(signs)
    if n == 0:  # quantile refuses an empty batch
        return signs
    chosen = torch.rand(n, generator=generator) < share
    flat = signs.flatten(1)
    low, high = torch.quantile(flat, torch.tensor([0.02, 0.98]), dim=1).view(2, n, 1, 1, 1)
    stretched = ((signs - low) / (high - low).clamp(min=16 / 255)).clamp(0, 1)
    return torch.where(chosen.view(-1, 1, 1, 1), stretched, signs)


def fragments(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A piece of each sign, 2-3.5x enlarged around a point on its rim: what a stray box cuts out."""
    n, side = len(images), images.shape[-1]
    zoom = uniform(n, 2.0, 3.5, generator)
    angle = uniform(n, 0, 2 * np.pi, generator)
    radius = uniform(n, 0.55, 0.95, generator) * (1 - 2 * SIGN_INSET)
    xs, ys = _grid(n, side)
    grid = torch.stack([xs / _column(zoom) + _column(radius * torch.cos(angle)),
                        ys / _column(zoom) + _column(radius * torch.sin(angle))], dim=-1)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def upside_down(images_nhwc: torch.Tensor) -> torch.Tensor:
    """A half turn of uint8 N x H x W x 3 images."""
    return images_nhwc.flip(1, 2)


def turned_over(images: torch.Tensor, turnable: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` signs that are no sign once turned upside down (``turnable``: their indices), turned."""
    picked = turnable[torch.randint(len(turnable), (n,), generator=generator)]
    return to_float(upside_down(images[picked]))


class PhotoViews:
    """The backgrounds and drawings a run's photo views draw from, made once per run."""

    def __init__(self, photos: list[np.ndarray], side: int, seed: int, backgrounds: int = 6000, drawings: int = 1200,
                 drawn_designs: str = "speed"):
        if drawn_designs not in DRAWN_DESIGNS:
            raise ValueError(f"unknown drawn designs {drawn_designs!r}; choose from {', '.join(DRAWN_DESIGNS)}")
        rng = np.random.default_rng(seed)
        self.backgrounds = torch.from_numpy(np.stack(
            [random_background(photos, side, rng) for _ in range(backgrounds)])).permute(0, 3, 1, 2).contiguous()
        self.outlier_drawings = _rgba(draw_signs(drawings, DRAWING_SIDE, seed, outliers=True)[0])
        self.lookalike_drawings = _rgba(draw_lookalikes(drawings // 4, DRAWING_SIDE, seed + 2))
        self.zone_blanks = _rgba(draw_zone_blanks(drawings // 4, DRAWING_SIDE, seed + 3, ended=False))
        self.ended_zone_blanks = _rgba(draw_zone_blanks(drawings // 8, DRAWING_SIDE, seed + 4, ended=True))
        if drawn_designs == "every":  # 43 classes: as many drawings as outliers, not half
            drawn, labels = draw_every_class(drawings, DRAWING_SIDE, seed + 1)
        else:
            drawn, labels = draw_signs(drawings // 2, DRAWING_SIDE, seed + 1, outliers=False,
                                       every_design=drawn_designs == "all")
        self.sign_drawings, self.sign_drawing_labels = _rgba(drawn), torch.from_numpy(labels)
        self.masks = class_masks()
        self._design_count, self._design_seed = drawings, seed + 5

    @cached_property
    def design_drawings(self) -> torch.Tensor:
        """German signs without a GTSRB class, drawn like the classes (``--outliers designs``);
        made on first use, so runs that do not ask for them draw nothing more."""
        return _rgba(draw_unknown_signs(self._design_count, DRAWING_SIDE, self._design_seed))

    def _backgrounds(self, n: int, generator: torch.Generator) -> torch.Tensor:
        picked = torch.randint(len(self.backgrounds), (n,), generator=generator)
        return self.backgrounds[picked].float().div_(255)

    def photo_framed(self, images: torch.Tensor, labels: torch.Tensor,
                     generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """GTSRB crops (N x 3 x H x W floats) re-framed as photos show signs; some become drawings."""
        n, extent = len(images), 1 - 2 * SIGN_INSET
        signs, alpha, labels = _resize(images, MASK_SIDE), self.masks[labels], labels.clone()
        drawn = torch.nonzero(torch.rand(n, generator=generator) < DRAWN_SHARE).flatten()
        if len(drawn):
            picked = torch.randint(len(self.sign_drawings), (len(drawn),), generator=generator)
            framed = _shrink(self.sign_drawings[picked], extent)  # into a crop's frame, inside its border
            signs[drawn], alpha[drawn] = framed[:, :3], framed[:, 3:]
            labels[drawn] = self.sign_drawing_labels[picked]
        backgrounds = self._backgrounds(n, generator)
        pictures, boxes = paste(in_daylight(signs, generator), alpha, extent, backgrounds, generator)
        return add_pole_or_plate(pictures, boxes, generator), labels

    def outliers(self, kinds: tuple[str, ...], count: int, pool: SignPool,
                 generator: torch.Generator) -> torch.Tensor:
        """``count`` pictures with no GTSRB sign, shared evenly among ``kinds`` (N x 3 x H x W floats),
        made from the training crops in ``pool``."""
        counts = [len(share) for share in np.array_split(np.arange(count), len(kinds))]
        parts = [self._outlier(kind, n, pool, generator) for kind, n in zip(kinds, counts, strict=True)]
        return torch.cat(parts)

    def _outlier(self, kind: str, n: int, pool: SignPool, generator: torch.Generator) -> torch.Tensor:
        if kind == "upside_down":
            return turned_over(pool.images, pool.turnable, n, generator)
        if kind == "background":
            return self._backgrounds(n, generator)
        if kind == "fragment":
            return fragments(to_float(pool.images[torch.randint(len(pool.images), (n,), generator=generator)]),
                             generator)
        if kind in ("drawn", "lookalike", "designs"):
            drawings = {"drawn": self.outlier_drawings, "lookalike": self.lookalike_drawings}.get(kind)
            return self._pasted(self.design_drawings if drawings is None else drawings, n, generator)
        if kind == "zone":
            return self._pasted(self._zone_or_ended_plates(n, pool, generator), n, generator)
        raise ValueError(f"unknown outlier kind {kind!r}; choose from {', '.join(OUTLIER_KINDS)}")

    def _zone_or_ended_plates(self, n: int, pool: SignPool, generator: torch.Generator) -> torch.Tensor:
        """``n`` Zone plates, ``ENDED_ZONE_SHARE`` of them plates that end a Zone."""
        ended = torch.rand(n, generator=generator) < ENDED_ZONE_SHARE
        plates = torch.empty(n, 4, DRAWING_SIDE, DRAWING_SIDE)
        for chosen, blanks, discs in ((~ended, self.zone_blanks, pool.zone_discs),
                                      (ended, self.ended_zone_blanks, pool.ended_zone_discs)):
            plates[chosen] = self.zone_plates(blanks, discs, int(chosen.sum()), pool, generator)
        return plates

    def zone_plates(self, blanks: torch.Tensor, discs: torch.Tensor, n: int, pool: SignPool,
                    generator: torch.Generator) -> torch.Tensor:
        """``n`` Zone plates (RGBA, N x 4 x side x side): a blank plate with a real GTSRB disc in its
        upper part, round or widened as a portrait plate squeezed into a square picture widens it."""
        plates = blanks[torch.randint(len(blanks), (n,), generator=generator)].clone()
        picked = discs[torch.randint(len(discs), (n,), generator=generator)]
        signs = in_daylight(_resize(to_float(pool.images[picked]), MASK_SIDE), generator, share=1.0)
        height = uniform(n, 0.48, 0.6, generator)  # of the plate's side
        width = (height * uniform(n, 0.95, 1.35, generator)).clamp(max=0.86)
        top = 0.06 + torch.rand(n, generator=generator) * (ZONE_TEXT_TOP - 0.08 - height).clamp(min=0)
        cx, cy = uniform(n, -0.03, 0.03, generator), -1 + 2 * top + height
        plates[:, :3] = place(signs, self.masks[pool.labels[picked]], 1 - 2 * SIGN_INSET, plates[:, :3],
                              cx, cy, width, height)
        plates[:, :3] *= uniform(n, 0.6, 1.0, generator).view(-1, 1, 1, 1)  # one light over plate and disc
        return plates

    def _pasted(self, drawings: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` of ``drawings`` (RGBA) pasted on backgrounds, sometimes on a pole or above a plate."""
        picked = drawings[torch.randint(len(drawings), (n,), generator=generator)]
        pictures, boxes = paste(picked[:, :3], picked[:, 3:], 1.0, self._backgrounds(n, generator), generator)
        return add_pole_or_plate(pictures, boxes, generator)


def _rgba(drawings: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(drawings).permute(0, 3, 1, 2).float().div_(255)


def _resize(images: torch.Tensor, side: int) -> torch.Tensor:
    if images.shape[-1] == side:
        return images.clone()
    return F.interpolate(images, size=(side, side), mode="bilinear", antialias=True, align_corners=False).clamp_(0, 1)


def _shrink(images: torch.Tensor, extent: float) -> torch.Tensor:
    """Place each picture into the middle ``extent`` of a frame of the same size (zeros around)."""
    side = images.shape[-1]
    inner = round(side * extent)
    start = (side - inner) // 2
    out = torch.zeros_like(images)
    out[..., start : start + inner, start : start + inner] = _resize(images, inner)
    return out
