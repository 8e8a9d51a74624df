"""Signs drawn from their designs: the clean pictures of the web, and signs GTSRB has no class for.

Two things real photos show that GTSRB's 43 classes never do:

* **Signs with no GTSRB class** that share GTSRB's colours and shapes: speed limits with
  other numbers (40, 90, 130 ...), Zone plates, blue squares (parking, crossings, one-way),
  no-stopping and no-parking discs, yellow diamonds with a black symbol (other countries'
  warnings), text plates. A classifier that never saw them reads them as the nearest German
  sign at 97-100%. Drawn here, they train the answer "no class in particular" (outlier
  exposure).
* **Clean drawings of GTSRB signs**: web images are often flat vector art, and stock photos
  show signs far sharper and more saturated than GTSRB's 32-pixel crops. Speed limits are
  drawn with the same digits as the outlier speed limits, so the number decides, not the
  drawing style; the signs whose design is plain geometry are drawn too (``CLASS_DESIGNS``:
  no entry, no vehicles, end of all limits, yield, stop, priority road, general caution,
  right-of-way, and the blue discs with arrows), each with the same colours and strokes as
  the outliers of its shape.

Which German signs are drawn, for what (StVO Zeichen numbers; each set is its own option,
and the older sets stay byte for byte what they were, so earlier recipes regenerate):

* ``--drawn-designs speed`` (``draw_signs``): GTSRB speed limits (Zeichen 274) and "No
  vehicles" (250). ``all`` adds ``CLASS_DESIGNS``: 102, 101, 205, 206, 267, 282, 306, and the
  blue discs 209-222 and 215.
* ``--drawn-designs every`` (``draw_every_class``, ``EVERY_CLASS_DESIGNS``): each of the 43
  classes in turn. Besides the above, the pictogram signs: 276/277 no passing, 253 lorries
  prohibited, 278/280/281 ends of the 80 limit and of no passing, the warnings 103 (both
  curves), 105, 112, 114, 121-20, 123, 131, 133, 136, 138, 101-51 and 142; the warnings whose
  StVO design comes both ways (133, 136, 138, 142: -10 and -20) are drawn both ways, since a
  sign is the sign whichever way its figure faces (``BOTH_WAYS``; GTSRB holds one of each).
* ``--outliers drawn`` (``OUTLIER_DESIGNS``): other speed limits, 283/286, blue squares,
  Zone plates, yellow diamonds, text plates, blue discs and red rings with a cycle, a walker
  or a letter, triangles with arrows or a letter. ``lookalike``: the Zone sign 274.1 and the
  blue left-or-right fork. ``zone``: blank Zone plates (274.1/274.2)
  that photo views complete with a real GTSRB disc.
* ``--outliers designs`` (``draw_unknown_signs``, ``UNKNOWN_DESIGNS``): some fifty German
  designs without a GTSRB class, drawn by the same frames (:mod:`~traffic_signs.data.sign_frames`),
  pictograms (:mod:`~traffic_signs.data.pictograms`) and renderer (``render``) as ``every``,
  so that style never gives the answer away: other speed limits and their ends (274, 278), the
  minimum speed and its end (275, 279); blue discs for foot, cycle and shared or segregated
  paths and riders (237-241), the bus lane (245); bans on pedestrians, cycles, motorcycles,
  cars, motor vehicles, dangerous goods (251-261), limits of weight, width, height and length
  (262-266), no U-turn (272), give way to oncoming traffic (208), no overtaking of
  two-wheelers (277.1), no stopping (283/286); the bus stop (224); blue squares for parking,
  one-way, crossing, dead end, motorway, expressway and priority over oncoming traffic (220,
  308, 314, 330.1, 331.1, 350, 357); the end of a priority road (307); the warnings 108/110,
  117, 120, 121-10, 124, 125, 150, 151, falling rocks, loose chippings, river bank, cattle,
  aircraft (101 with their pictograms, formerly 115, 116, 129, 140, 144) and the roundabout
  ahead; supplementary plates (1000-1060); the Zone sign and its end (274.1, 274.2).

Each drawing is RGBA with the sign's outline as alpha, so it can be pasted on any background
(see :mod:`traffic_signs.data.photo_views`). Colours, line widths, font sizes and symbols vary
per drawing; everything comes from one seeded ``numpy`` generator.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from traffic_signs.data import pictograms as pic
from traffic_signs.data.pictograms import Colour, Palette, text
from traffic_signs.data.scenes import SIGN_INSET
from traffic_signs.data.sign_frames import (
    WIDE_PLATE,
    Design,
    blue_number,
    bus_stop,
    end_of_priority_road,
    end_stripes,
    ended,
    grey_pair,
    no_passing,
    on_blue_disc,
    on_blue_square,
    on_ring,
    on_triangle,
    one_way,
    supplementary_plate,
)

NOT_A_CLASS = -1
SPEED_LIMIT_CLASSES = {20: 0, 30: 1, 50: 2, 60: 3, 70: 4, 80: 5, 100: 7, 120: 8}
OTHER_SPEEDS = (5, 10, 15, 25, 35, 40, 45, 55, 65, 75, 90, 110, 130)
NO_VEHICLES = 15
SYMBOLS = "PiHTXZ?#$&"  # letters and marks that no German disc, triangle or diamond carries

Draw = ImageDraw.ImageDraw


def speed_limit(draw: Draw, side: int, colours: Palette, number: int) -> None:
    """A white disc in a red ring with a black number."""
    empty_ring(draw, side, colours)
    digits = len(str(number))
    text(draw, (side / 2, side / 2), str(number), side * (0.52 if digits < 3 else 0.40), colours.black())


def empty_ring(draw: Draw, side: int, colours: Palette) -> None:
    """"No vehicles": a white disc in a red ring."""
    ring = side * colours.rng.uniform(0.09, 0.14)
    draw.ellipse((0, 0, side - 1, side - 1), fill=colours.red())
    draw.ellipse((ring, ring, side - 1 - ring, side - 1 - ring), fill=colours.white())


def no_stopping(draw: Draw, side: int, colours: Palette) -> None:
    """A blue disc in a red ring, crossed by one red bar (no parking) or two (no stopping)."""
    ring = side * 0.12
    red = colours.red()
    draw.ellipse((0, 0, side - 1, side - 1), fill=red)
    draw.ellipse((ring, ring, side - 1 - ring, side - 1 - ring), fill=colours.blue())
    width = max(2, int(side * 0.12))
    draw.line((ring, ring, side - ring, side - ring), fill=red, width=width)
    if colours.rng.random() < 0.5:
        draw.line((side - ring, ring, ring, side - ring), fill=red, width=width)


def blue_square(draw: Draw, side: int, colours: Palette) -> None:
    """An information sign: a blue square with a white border and a white letter or crossing triangle."""
    border = side * 0.05
    draw.rectangle((0, 0, side - 1, side - 1), fill=colours.white())
    draw.rectangle((border, border, side - 1 - border, side - 1 - border), fill=colours.blue())
    if colours.rng.random() < 0.4:  # pedestrian crossing: a white triangle with a black figure
        draw.polygon([(side / 2, side * 0.18), (side * 0.85, side * 0.8), (side * 0.15, side * 0.8)],
                     fill=colours.white())
        draw.line((side / 2, side * 0.4, side / 2, side * 0.7), fill=colours.black(), width=max(2, side // 12))
    else:
        symbol = "P" if colours.rng.random() < 0.5 else str(colours.rng.choice(list(SYMBOLS)))
        text(draw, (side / 2, side / 2), symbol, side * 0.65, colours.white())


def zone_plate(draw: Draw, side: int, colours: Palette) -> None:
    """A Zone plate: a speed-limit disc and the word ZONE on one white plate with a dark border."""
    draw.rectangle((0, 0, side - 1, side - 1), fill=colours.black())
    edge = side * 0.04
    draw.rectangle((edge, edge, side - 1 - edge, side - 1 - edge), fill=colours.white())
    disc, top = side * 0.58, side * 0.08
    left = (side - disc) / 2
    ring = disc * colours.rng.uniform(0.09, 0.14)
    draw.ellipse((left, top, left + disc, top + disc), fill=colours.red())
    draw.ellipse((left + ring, top + ring, left + disc - ring, top + disc - ring), fill=colours.white())
    number = str(colours.rng.choice([10, 20, 30, 30, 30, 40, 50]))
    text(draw, (side / 2, top + disc / 2), number, disc * 0.52, colours.black())
    text(draw, (side / 2, side * 0.82), "ZONE", side * 0.2, colours.black())


def yellow_diamond(draw: Draw, side: int, colours: Palette) -> None:
    """Another country's warning: a yellow diamond with a black border and a black symbol."""
    border = side * 0.05
    draw.polygon([(side / 2, 0), (side - 1, side / 2), (side / 2, side - 1), (0, side / 2)], fill=colours.black())
    draw.polygon([(side / 2, border * 1.5), (side - 1 - border * 1.5, side / 2), (side / 2, side - 1 - border * 1.5),
                  (border * 1.5, side / 2)], fill=colours.yellow())
    text(draw, (side / 2, side / 2), str(colours.rng.choice(list(SYMBOLS + "<>^~"))), side * 0.45, colours.black())


def text_plate(draw: Draw, side: int, colours: Palette) -> None:
    """A plate of text: a supplementary plate, a US speed sign, a street or direction sign."""
    background, ink = [(colours.white(), colours.black()), (colours.green(), colours.white()),
                       (colours.blue(), colours.white())][colours.rng.integers(3)]
    draw.rectangle((0, 0, side - 1, side - 1), fill=ink)
    edge = side * 0.04
    draw.rectangle((edge, edge, side - 1 - edge, side - 1 - edge), fill=background)
    lines = int(colours.rng.integers(1, 4))
    for k in range(lines):
        word = "".join(colours.rng.choice(list("ABEKLMNORSTU0123456789"), int(colours.rng.integers(2, 6))))
        text(draw, (side / 2, side * (k + 0.5) / lines), word, side * 0.7 / lines, ink)


def bicycle(draw: Draw, cx: float, cy: float, size: float, ink: Colour) -> None:
    width = max(1, int(size * 0.08))
    r = size * 0.22
    for wheel in (-1, 1):
        draw.ellipse((cx + wheel * size * 0.28 - r, cy + size * 0.1 - r, cx + wheel * size * 0.28 + r,
                      cy + size * 0.1 + r), outline=ink, width=width)
    draw.line((cx - size * 0.28, cy + size * 0.1, cx, cy - size * 0.15, cx + size * 0.28, cy + size * 0.1),
              fill=ink, width=width)


def walker(draw: Draw, cx: float, cy: float, size: float, ink: Colour) -> None:
    width = max(1, int(size * 0.1))
    head = size * 0.1
    draw.ellipse((cx - head, cy - size * 0.45, cx + head, cy - size * 0.45 + 2 * head), fill=ink)
    draw.line((cx, cy - size * 0.22, cx, cy + size * 0.1), fill=ink, width=width)
    draw.line((cx - size * 0.15, cy + size * 0.42, cx, cy + size * 0.1, cx + size * 0.15, cy + size * 0.42),
              fill=ink, width=width)


def arrows_apart(draw: Draw, cx: float, cy: float, size: float, ink: Colour, fork: bool) -> None:
    """Two arrows pointing apart: left and right from one stem (a fork), or up and down side by
    side (two-way traffic)."""
    width = max(1, int(size * 0.1))
    head = size * 0.15
    for sign in (-1, 1):
        if fork:
            tip = (cx + sign * size * 0.4, cy)
            draw.line((cx, cy + size * 0.35, cx, cy, *tip), fill=ink, width=width)
            draw.polygon([tip, (tip[0] - sign * head, tip[1] - head), (tip[0] - sign * head, tip[1] + head)], fill=ink)
        else:
            x, tip = cx + sign * size * 0.18, (cx + sign * size * 0.18, cy - sign * size * 0.4)
            draw.line((x, cy + sign * size * 0.4, *tip), fill=ink, width=width)
            draw.polygon([tip, (tip[0] - head, tip[1] + sign * head), (tip[0] + head, tip[1] + sign * head)], fill=ink)


def pictogram(draw: Draw, cx: float, cy: float, size: float, ink: Colour, colours: Palette,
              kinds: tuple[str, ...]) -> None:
    """One pictogram that no GTSRB sign of that shape carries."""
    kind = str(colours.rng.choice(list(kinds)))
    if kind == "bicycle":
        bicycle(draw, cx, cy, size, ink)
    elif kind == "walker":
        walker(draw, cx, cy, size, ink)
    elif kind == "arrows":
        arrows_apart(draw, cx, cy, size, ink, fork=colours.rng.random() < 0.5)
    else:
        text(draw, (cx, cy), str(colours.rng.choice(list(SYMBOLS))), size * 0.8, ink)


def blue_disc(draw: Draw, side: int, colours: Palette) -> None:
    """A blue disc with a white bicycle, walker or fork: cycle and foot paths, 'left or right'."""
    draw.ellipse((0, 0, side - 1, side - 1), fill=colours.blue())
    pictogram(draw, side / 2, side / 2, side * 0.6, colours.white(), colours, ("bicycle", "walker", "arrows", "text"))


def red_ring_pictogram(draw: Draw, side: int, colours: Palette) -> None:
    """A prohibition GTSRB has no class for: a red ring around a bicycle, a walker or a letter."""
    empty_ring(draw, side, colours)
    pictogram(draw, side / 2, side / 2, side * 0.55, colours.black(), colours, ("bicycle", "walker", "text"))


def triangle_pictogram(draw: Draw, side: int, colours: Palette) -> None:
    """A warning GTSRB has no class for: a red triangle around two-way arrows or a letter."""
    top, bottom = (side / 2, 0), side * 0.9
    draw.polygon([top, (side - 1, bottom), (0, bottom)], fill=colours.red())
    inset = side * 0.14
    draw.polygon([(side / 2, inset * 1.6), (side - 1 - inset, bottom - inset * 0.6), (inset, bottom - inset * 0.6)],
                 fill=colours.white())
    pictogram(draw, side / 2, side * 0.58, side * 0.38, colours.black(), colours, ("arrows", "text"))


OUTLIER_DESIGNS: dict[str, Callable[[Draw, int, Palette], None]] = {
    "other_speed_limit": lambda draw, side, colours: speed_limit(draw, side, colours,
                                                                 int(colours.rng.choice(OTHER_SPEEDS))),
    "no_stopping": no_stopping,
    "blue_square": blue_square,
    "zone_plate": zone_plate,
    "yellow_diamond": yellow_diamond,
    "text_plate": text_plate,
    "blue_disc": blue_disc,
    "red_ring_pictogram": red_ring_pictogram,
    "triangle_pictogram": triangle_pictogram,
}
OUTLINES = {"other_speed_limit": "circle", "no_stopping": "circle", "yellow_diamond": "diamond", "blue_disc": "circle",
            "red_ring_pictogram": "circle", "triangle_pictogram": "triangle"}


def _arrow(draw: Draw, points: list[tuple[float, float]], width: float, ink: Colour) -> None:
    """A stroke through ``points`` (fractions of the side, already scaled) ending in an arrowhead."""
    (x0, y0), (x1, y1) = points[-2], points[-1]
    length = max(1e-6, float(np.hypot(x1 - x0, y1 - y0)))
    dx, dy = (x1 - x0) / length, (y1 - y0) / length
    head = width * 1.6
    draw.line(points, fill=ink, width=max(1, int(width)), joint="curve")
    draw.polygon([(x1 + dx * head * 1.2, y1 + dy * head * 1.2), (x1 - dy * head, y1 + dx * head),
                  (x1 + dy * head, y1 - dx * head)], fill=ink)


def blue_arrows(paths: tuple[tuple[tuple[float, float], ...], ...]) -> Callable[[Draw, int, Palette], None]:
    """A mandatory sign: a blue disc with white arrows along ``paths`` (fractions of the side)."""

    def design(draw: Draw, side: int, colours: Palette) -> None:
        draw.ellipse((0, 0, side - 1, side - 1), fill=colours.blue())
        white, width = colours.white(), side * colours.rng.uniform(0.09, 0.12)
        for path in paths:
            _arrow(draw, [(x * side, y * side) for x, y in path], width, white)

    return design


def _mirrored(paths: tuple[tuple[tuple[float, float], ...], ...]) -> tuple[tuple[tuple[float, float], ...], ...]:
    return tuple(tuple((1 - x, y) for x, y in path) for path in paths)


def roundabout(draw: Draw, side: int, colours: Palette) -> None:
    """Three white arrows chasing each other anticlockwise round the centre of a blue disc."""
    draw.ellipse((0, 0, side - 1, side - 1), fill=colours.blue())
    white, width, radius = colours.white(), side * 0.09, side * 0.24
    for start in (-30.0, 90.0, 210.0):
        angles = np.radians(np.linspace(start + 75, start, 8))
        points = [(side / 2 + radius * np.cos(a), side / 2 + radius * np.sin(a)) for a in angles]
        _arrow(draw, points, width, white)


def no_entry(draw: Draw, side: int, colours: Palette) -> None:
    """A red disc crossed by a white bar."""
    draw.ellipse((0, 0, side - 1, side - 1), fill=colours.red())
    half = side * colours.rng.uniform(0.08, 0.11)
    draw.rectangle((side * 0.18, side / 2 - half, side * 0.82, side / 2 + half), fill=colours.white())


def end_of_limits(draw: Draw, side: int, colours: Palette) -> None:
    """A white disc with a thin dark rim, crossed from top right to bottom left by thin black stripes."""
    draw.ellipse((0, 0, side - 1, side - 1), fill=colours.black())
    rim = side * 0.03
    draw.ellipse((rim, rim, side - 1 - rim, side - 1 - rim), fill=colours.white())
    ink, width = colours.black(), max(1, int(side * 0.025))
    for k in range(-2, 3):
        shift = k * side * 0.06
        draw.line((side * 0.82 + shift, side * 0.18 + shift, side * 0.18 + shift, side * 0.82 + shift),
                  fill=ink, width=width)


def warning(symbol: str) -> Callable[[Draw, int, Palette], None]:
    """A red triangle with a white field and a black exclamation mark or right-of-way cross."""

    def design(draw: Draw, side: int, colours: Palette) -> None:
        bottom, inset = side * 0.9, side * 0.14
        draw.polygon([(side / 2, 0), (side - 1, bottom), (0, bottom)], fill=colours.red())
        draw.polygon([(side / 2, inset * 1.6), (side - 1 - inset, bottom - inset * 0.6),
                      (inset, bottom - inset * 0.6)], fill=colours.white())
        ink, cx = colours.black(), side / 2
        if symbol == "!":
            draw.rectangle((cx - side * 0.04, side * 0.36, cx + side * 0.04, side * 0.62), fill=ink)
            draw.ellipse((cx - side * 0.045, side * 0.67, cx + side * 0.045, side * 0.76), fill=ink)
        else:
            draw.rectangle((cx - side * 0.05, side * 0.36, cx + side * 0.05, side * 0.76), fill=ink)
            draw.rectangle((cx - side * 0.17, side * 0.5, cx + side * 0.17, side * 0.56), fill=ink)

    return design


def yield_sign(draw: Draw, side: int, colours: Palette) -> None:
    """A red triangle pointing down with a white field."""
    top, inset = side * 0.1, side * 0.14
    draw.polygon([(0, top), (side - 1, top), (side / 2, side - 1)], fill=colours.red())
    draw.polygon([(inset, top + inset * 0.6), (side - 1 - inset, top + inset * 0.6),
                  (side / 2, side - 1 - inset * 1.6)], fill=colours.white())


def stop(draw: Draw, side: int, colours: Palette) -> None:
    """A red octagon with a thin white rim and STOP in white."""
    red, white = colours.red(), colours.white()
    draw.polygon(_octagon(side, 0), fill=white)
    draw.polygon(_octagon(side, side * 0.04), fill=red)
    text(draw, (side / 2, side / 2), "STOP", side * colours.rng.uniform(0.3, 0.36), white)


def priority_road(draw: Draw, side: int, colours: Palette) -> None:
    """A white diamond around a yellow one."""
    draw.polygon([(side / 2, 0), (side - 1, side / 2), (side / 2, side - 1), (0, side / 2)], fill=colours.white())
    inset = side * colours.rng.uniform(0.16, 0.22)
    draw.polygon([(side / 2, inset), (side - 1 - inset, side / 2), (side / 2, side - 1 - inset), (inset, side / 2)],
                 fill=colours.yellow())


def _octagon(side: int, inset: float) -> list[tuple[float, float]]:
    """A regular octagon with flat top and sides, its sides ``inset`` inside the square's."""
    radius = (side / 2 - inset) / np.cos(np.pi / 8)
    angles = np.pi / 8 + np.arange(8) * np.pi / 4
    return [(side / 2 + radius * np.cos(a), side / 2 + radius * np.sin(a)) for a in angles]


AHEAD = ((0.5, 0.8), (0.5, 0.33))
TURN_RIGHT = ((0.38, 0.8), (0.38, 0.5), (0.44, 0.42), (0.62, 0.42))
STRAIGHT_OR_RIGHT = ((0.42, 0.8), (0.42, 0.3)), ((0.42, 0.62), (0.5, 0.52), (0.66, 0.52))
KEEP_RIGHT = ((0.32, 0.32), (0.62, 0.62))
# GTSRB classes whose design is plain geometry: class -> (drawing, outline).
CLASS_DESIGNS: dict[int, tuple[Callable[[Draw, int, Palette], None], str]] = {
    11: (warning("+"), "triangle"),
    12: (priority_road, "diamond"),
    13: (yield_sign, "triangle_down"),
    14: (stop, "octagon"),
    15: (empty_ring, "circle"),
    17: (no_entry, "circle"),
    18: (warning("!"), "triangle"),
    32: (end_of_limits, "circle"),
    33: (blue_arrows((TURN_RIGHT,)), "circle"),
    34: (blue_arrows(_mirrored((TURN_RIGHT,))), "circle"),
    35: (blue_arrows((AHEAD,)), "circle"),
    36: (blue_arrows(STRAIGHT_OR_RIGHT), "circle"),
    37: (blue_arrows(_mirrored(STRAIGHT_OR_RIGHT)), "circle"),
    38: (blue_arrows((KEEP_RIGHT,)), "circle"),
    39: (blue_arrows(_mirrored((KEEP_RIGHT,))), "circle"),
    40: (roundabout, "circle"),
}


# Signs with no GTSRB class that hold or mimic one closely (``--outliers lookalike``).
LEFT_OR_RIGHT = ((0.5, 0.84), (0.5, 0.56), (0.43, 0.48), (0.25, 0.48)), ((0.5, 0.56), (0.57, 0.48), (0.75, 0.48))


def zone_sign(draw: Draw, side: int, colours: Palette) -> None:
    """A Zone sign as photos show it: a portrait plate, seen squeezed into a square picture, whose
    speed-limit disc spans most of its width above a bold ZONE. Its disc is a GTSRB sign; the
    plate is not, and a crop of the whole plate must not be read as the disc alone."""
    draw.rectangle((0, 0, side - 1, side - 1), fill=colours.black())
    edge = side * colours.rng.uniform(0.02, 0.05)
    draw.rectangle((edge, edge, side - 1 - edge, side - 1 - edge), fill=colours.white())
    width = side * colours.rng.uniform(0.7, 0.86)
    height = min(width * colours.rng.uniform(0.62, 1.0), side * 0.6)  # a portrait plate squeezed flattens its disc
    left, top = (side - width) / 2, side * colours.rng.uniform(0.05, 0.1)
    ring = width * colours.rng.uniform(0.09, 0.13)
    draw.ellipse((left, top, left + width, top + height), fill=colours.red())
    draw.ellipse((left + ring, top + ring * height / width, left + width - ring, top + height - ring * height / width),
                 fill=colours.white())
    number = str(colours.rng.choice([10, 20, 30, 30, 30, 40, 50]))
    text(draw, (side / 2, top + height / 2), number, height * 0.5, colours.black(), bold=0.04)
    word_height = min(side * colours.rng.uniform(0.2, 0.26), side - edge - top - height)
    text(draw, (side / 2, (top + height + side - edge) / 2), "ZONE", word_height, colours.black(), bold=0.06)


LOOKALIKE_DESIGNS: dict[str, tuple[Callable[[Draw, int, Palette], None], str]] = {
    "zone_sign": (zone_sign, "square"),
    "left_or_right": (blue_arrows(LEFT_OR_RIGHT), "circle"),
}


def draw_lookalikes(count: int, side: int, seed: int) -> np.ndarray:
    """``count`` drawings (uint8 N x side x side x 4) of ``LOOKALIKE_DESIGNS``, taken in turn."""
    rng = np.random.default_rng(seed)
    designs = list(LOOKALIKE_DESIGNS.values())
    return np.stack([_render(*designs[i % len(designs)], side, rng) for i in range(count)])


ZONE_TEXT_TOP = 0.7  # a blank Zone plate keeps its upper part, above this share of its side, for the disc
ZONE_DISCS = (0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 15, 16)  # classes whose disc heads a Zone plate: limits, bans
ENDED_ZONE_DISCS = (6, 32, 41, 42)  # the grey, struck-through discs that head the plate ending a Zone


def zone_blank(draw: Draw, side: int, colours: Palette, ended: bool) -> None:
    """A Zone plate as the road shows it (Zeichen 274.1, 274.2), without its disc: a white plate
    inside a thin black line, ZONE beneath the place of the disc. An ended Zone's plate is
    grey and struck through. ``photo_views.PhotoViews.zone_plates`` puts a real GTSRB disc in
    its upper part, so a drawn disc cannot be the cue that tells the plate from the sign."""
    ink = colours.grey(110, 25) if ended else colours.black()
    if colours.rng.random() < 0.3:  # a metal rim around the plate
        draw.rectangle((0, 0, side - 1, side - 1), fill=colours.grey(150, 40))
        rim = side * colours.rng.uniform(0.02, 0.05)
    else:
        rim = 0.0
    draw.rectangle((rim, rim, side - 1 - rim, side - 1 - rim), fill=colours.white())
    inset = rim + side * colours.rng.uniform(0.02, 0.05)
    line = max(1, round(side * colours.rng.uniform(0.015, 0.035)))
    draw.rectangle((inset, inset, side - 1 - inset, side - 1 - inset), outline=ink, width=line)
    height = side * colours.rng.uniform(0.14, 0.19)
    text(draw, (side / 2, (ZONE_TEXT_TOP * side + side - inset) / 2), "ZONE", height, ink,
          bold=colours.rng.uniform(0.03, 0.07))
    if ended:  # the stripes run from the lower left to the upper right, over the whole plate
        for k in range(5):
            shift = (k - 2) * side * 0.06
            draw.line((inset + shift, side - inset + shift, side - inset + shift, inset + shift), fill=ink,
                      width=max(1, line // 2))


def draw_zone_blanks(count: int, side: int, seed: int, ended: bool) -> np.ndarray:
    """``count`` blank Zone plates (uint8 N x side x side x 4, see ``zone_blank``)."""
    rng = np.random.default_rng(seed)
    return np.stack([_render(partial(zone_blank, ended=ended), "square", side, rng) for _ in range(count)])


def _outline(shape: str, side: int) -> Image.Image:
    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    if shape == "circle":
        draw.ellipse((0, 0, side - 1, side - 1), fill=255)
    elif shape == "diamond":
        draw.polygon([(side / 2, 0), (side - 1, side / 2), (side / 2, side - 1), (0, side / 2)], fill=255)
    elif shape == "triangle":
        draw.polygon([(side / 2, 0), (side - 1, side * 0.9), (0, side * 0.9)], fill=255)
    elif shape == "triangle_down":
        draw.polygon([(0, side * 0.1), (side - 1, side * 0.1), (side / 2, side - 1)], fill=255)
    elif shape == "octagon":
        draw.polygon(_octagon(side, 0), fill=255)
    elif shape == "wide":  # a landscape plate across the square's middle
        draw.rectangle((0, side * WIDE_PLATE[0], side - 1, side * WIDE_PLATE[1]), fill=255)
    else:  # a plate: its aspect ratio varies, so the outline is drawn on its own canvas
        draw.rectangle((0, 0, side - 1, side - 1), fill=255)
    return mask


def draw_sign(design: str, side: int, rng: np.random.Generator) -> np.ndarray:
    """One drawing of the outlier ``design`` (a key of ``OUTLIER_DESIGNS``) as a uint8 side x side x 4
    RGBA array (alpha: the sign's outline)."""
    return _render(OUTLIER_DESIGNS[design], OUTLINES.get(design, "square"), side, rng)


def _render(design: Callable[[Draw, int, Palette], None], outline: str, side: int,
            rng: np.random.Generator) -> np.ndarray:
    """``design`` drawn on a side x side canvas, with ``outline`` as its alpha (uint8 RGBA)."""
    canvas = Image.new("RGB", (side, side), (0, 0, 0))
    design(ImageDraw.Draw(canvas), side, Palette(rng))
    canvas.putalpha(_outline(outline, side))
    return np.asarray(canvas)


def draw_signs(count: int, side: int, seed: int, outliers: bool,
               every_design: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``count`` drawings (uint8 N x side x side x 4) and their classes.

    ``outliers=True``: signs with no GTSRB class (every label ``NOT_A_CLASS``), the designs
    taken in turn. ``outliers=False``: GTSRB signs, each labelled with its class: speed limits
    and "No vehicles" or, with ``every_design``, speed limits for half and every class of
    ``CLASS_DESIGNS`` in turn for the other half.
    """
    rng = np.random.default_rng(seed)
    drawings = np.empty((count, side, side, 4), dtype=np.uint8)
    labels = np.full(count, NOT_A_CLASS, dtype=np.int64)
    designs, classes = list(OUTLIER_DESIGNS), list(CLASS_DESIGNS)
    for i in range(count):
        if outliers:
            drawings[i] = draw_sign(designs[i % len(designs)], side, rng)
            continue
        if rng.random() < (0.5 if every_design else 0.85):
            number = int(rng.choice(list(SPEED_LIMIT_CLASSES)))
            drawings[i] = _render(partial(speed_limit, number=number), "circle", side, rng)
            labels[i] = SPEED_LIMIT_CLASSES[number]
        elif every_design:
            labels[i] = classes[i % len(classes)]
            drawings[i] = draw_class(int(labels[i]), side, rng)
        else:
            drawings[i], labels[i] = draw_class(NO_VEHICLES, side, rng), NO_VEHICLES
    return drawings, labels


def draw_class(class_id: int, side: int, rng: np.random.Generator) -> np.ndarray:
    """One drawing of GTSRB class ``class_id`` (a key of ``CLASS_DESIGNS``) as uint8 RGBA."""
    return _render(*CLASS_DESIGNS[class_id], side, rng)


# ---- Every GTSRB class (``--drawn-designs every``) and German signs without one (``--outliers designs``),
# ---- drawn by the same frames, pictograms and renderer so that no style tells the two apart.

def end_of_zone(draw: Draw, side: int, colours: Palette) -> None:
    """Zeichen 274.2, Ende einer Tempo-30-Zone: the Zone plate, its disc and ZONE grey, struck through."""
    zone_blank(draw, side, colours, ended=True)
    grey, disc, top = colours.grey(120, 25), side * colours.rng.uniform(0.5, 0.6), side * 0.08
    left = (side - disc) / 2
    draw.ellipse((left, top, left + disc, top + disc), outline=grey, width=max(1, int(disc * 0.1)))
    text(draw, (side / 2, top + disc / 2), str(colours.rng.choice([20, 30, 30, 40])), disc * 0.5, grey)
    end_stripes(draw, side, colours)


def render(design: Design, outline: str, side: int, rng: np.random.Generator) -> np.ndarray:
    """``design`` drawn as uint8 side x side RGBA (alpha: ``outline``), the way every class and
    every unknown design is drawn: at 1-3x the size and scaled down, so some drawings have hard
    pixel edges and some smooth ones, then worn (see ``weathered``)."""
    scale = int(rng.integers(1, 4))
    big = side * scale
    canvas = Image.new("RGB", (big, big), (0, 0, 0))
    design(ImageDraw.Draw(canvas), big, Palette(rng))
    canvas = weathered(canvas, rng)
    canvas.putalpha(_outline(outline, big))
    if scale > 1:
        canvas = canvas.resize((side, side), Image.Resampling.BOX)
    return np.asarray(canvas)


def weathered(canvas: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Half the drawings lit unevenly (a smooth field of brightness, as Perlin noise gives, which
    made template-trained classifiers generalise: da Silva & Fernandes 2022), some faded by sun."""
    if rng.random() < 0.5:
        return canvas
    field = Image.fromarray(rng.uniform(0.75, 1.08, (3, 3)).astype(np.float32), mode="F")
    light = np.asarray(field.resize(canvas.size, Image.Resampling.BICUBIC))[..., None]
    pixels = np.asarray(canvas, dtype=np.float32) * light
    fade = rng.uniform(0, 0.3) if rng.random() < 0.3 else 0.0
    pixels = pixels * (1 - fade) + 235 * fade
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _speed(number: int) -> tuple[Design, str]:
    return partial(speed_limit, number=number), "circle"


def _other_speed_limit(draw: Draw, side: int, colours: Palette) -> None:
    speed_limit(draw, side, colours, int(colours.rng.choice(OTHER_SPEEDS)))


def _ended_other_speed(draw: Draw, side: int, colours: Palette) -> None:
    ended(number=int(colours.rng.choice([30, 40, 50, 60, 70, 100, 120])))(draw, side, colours)


# Warnings whose StVO design has a mirrored variant, each as common as the other (Zeichen 133,
# 136, 138, 142, each -10 and -20): class -> (pictogram, size). GTSRB's photos hold one of them.
BOTH_WAYS: dict[int, tuple[pic.Pictogram, float]] = {27: (pic.pedestrian, 0.46), 28: (pic.children, 0.46),
                                                     29: (pic.cyclist, 0.52), 31: (pic.deer, 0.46)}

# Every GTSRB class: class -> (drawing, outline). Speed limits, "No vehicles" and the plain
# geometry of CLASS_DESIGNS are the designs of ``all``; the warning triangles (general caution
# and right-of-way too) share one frame with the warnings of UNKNOWN_DESIGNS.
EVERY_CLASS_DESIGNS: dict[int, tuple[Design, str]] = {
    **{class_id: _speed(number) for number, class_id in SPEED_LIMIT_CLASSES.items()},
    **CLASS_DESIGNS,
    6: (ended(number=80), "circle"),  # Zeichen 278
    9: (on_ring(no_passing(pic.car_rear)), "circle"),  # Zeichen 276
    10: (on_ring(no_passing(pic.truck_front, 0.3)), "circle"),  # Zeichen 277
    11: (on_triangle(pic.crossroads), "triangle"),  # Zeichen 102
    16: (on_ring(pic.truck_side), "circle"),  # Zeichen 253
    18: (on_triangle(pic.exclamation), "triangle"),  # Zeichen 101
    19: (on_triangle(pic.curve), "triangle"),  # Zeichen 103-10
    20: (on_triangle(pic.curve, mirror=1.0), "triangle"),  # Zeichen 103-20
    21: (on_triangle(pic.double_curve, size=0.42), "triangle"),  # Zeichen 105-10
    22: (on_triangle(pic.bumps), "triangle"),  # Zeichen 112
    23: (on_triangle(pic.skidding_car, size=0.44), "triangle"),  # Zeichen 114
    24: (on_triangle(pic.narrows), "triangle"),  # Zeichen 121-20
    25: (on_triangle(pic.road_worker), "triangle"),  # Zeichen 123
    26: (on_triangle(pic.signal_lights), "triangle"),  # Zeichen 131
    30: (on_triangle(pic.snowflake), "triangle"),  # Zeichen 101-51
    41: (ended(grey_pair(pic.car_rear)), "circle"),  # Zeichen 280
    42: (ended(grey_pair(pic.truck_front, 0.36)), "circle"),  # Zeichen 281
    **{class_id: (on_triangle(pictogram, mirror=0.5, size=size), "triangle")
       for class_id, (pictogram, size) in BOTH_WAYS.items()},
}
# The drawings as GTSRB shows the signs: only the variant of BOTH_WAYS that its photos hold (the
# fidelity check asks a model trained on GTSRB to read them).
AS_IN_GTSRB: dict[int, tuple[Design, str]] = {
    **EVERY_CLASS_DESIGNS,
    **{class_id: (on_triangle(pictogram, size=size), "triangle") for class_id, (pictogram, size) in BOTH_WAYS.items()},
}

# German signs that GTSRB has no class for, drawn like the classes (``--outliers designs``):
# name -> (drawing, outline). Many share a class's frame and differ only in the pictogram or
# the number, which is what the classifier must learn to look at.
UNKNOWN_DESIGNS: dict[str, tuple[Design, str]] = {
    "other_speed_limit": (_other_speed_limit, "circle"),  # Zeichen 274 with numbers GTSRB lacks
    "end_of_other_speed_limit": (_ended_other_speed, "circle"),  # Zeichen 278 but 80
    "minimum_speed": (blue_number(), "circle"),  # Zeichen 275
    "end_of_minimum_speed": (blue_number(struck=True), "circle"),  # Zeichen 279
    "foot_path": (on_blue_disc(pic.adult_and_child, mirror=0.5), "circle"),  # Zeichen 239
    "cycle_path": (on_blue_disc(partial(pic.bicycle, size=0.9), mirror=0.5), "circle"),  # Zeichen 237
    "shared_path": (on_blue_disc(pic.stacked(pic.adult_and_child, pic.bicycle), size=0.7), "circle"),  # Zeichen 240
    "segregated_path": (on_blue_disc(pic.side_by_side(pic.bicycle, pic.adult_and_child), size=0.72),
                        "circle"),  # Zeichen 241
    "bridleway": (on_blue_disc(pic.horse_rider, mirror=0.5), "circle"),  # Zeichen 238
    "bus_lane": (on_blue_square(pic.bus, mirror=0.5), "square"),  # Zeichen 245
    "no_pedestrians": (on_ring(pic.adult_and_child, mirror=0.5), "circle"),  # Zeichen 259
    "no_bicycles": (on_ring(partial(pic.bicycle, size=0.9), mirror=0.5), "circle"),  # Zeichen 254
    "no_motorcycles": (on_ring(pic.motorcycle, mirror=0.5), "circle"),  # Zeichen 255
    "no_cars": (on_ring(partial(pic.car_side, centre=(0, 0.04), width=0.9), mirror=0.5), "circle"),  # Zeichen 251
    "no_motor_vehicles": (on_ring(pic.motor_vehicles, mirror=0.5), "circle"),  # Zeichen 260
    "no_hazardous_goods": (on_ring(pic.hazardous_goods), "circle"),  # Zeichen 261
    "weight_limit": (on_ring(pic.weight_limit), "circle"),  # Zeichen 262
    "width_limit": (on_ring(pic.width_limit), "circle"),  # Zeichen 264
    "height_limit": (on_ring(pic.height_limit), "circle"),  # Zeichen 265
    "length_limit": (on_ring(pic.length_limit), "circle"),  # Zeichen 266
    "no_u_turn": (on_ring(pic.u_turn, mirror=0.5), "circle"),  # Zeichen 272
    "give_way_to_oncoming": (on_ring(pic.give_way_to_oncoming), "circle"),  # Zeichen 208
    "no_passing_two_wheelers": (on_ring(no_passing(pic.motorcycle, 0.5)), "circle"),  # Zeichen 277.1
    "no_stopping": (no_stopping, "circle"),  # Zeichen 283/286
    "bus_stop": (bus_stop, "circle"),  # Zeichen 224
    "parking": (on_blue_square(pic.parking), "square"),  # Zeichen 314
    "one_way": (one_way, "wide"),  # Zeichen 220
    "pedestrian_crossing": (on_blue_square(pic.crossing, size=0.8), "square"),  # Zeichen 350
    "dead_end": (on_blue_square(pic.dead_end), "square"),  # Zeichen 357
    "motorway": (on_blue_square(pic.motorway), "square"),  # Zeichen 330.1
    "expressway": (on_blue_square(partial(pic.car_side, centre=(0, 0), width=0.9), mirror=0.5), "square"),  # 331.1
    "priority_over_oncoming": (on_blue_square(pic.priority_over_oncoming), "square"),  # Zeichen 308
    "end_of_priority_road": (end_of_priority_road, "diamond"),  # Zeichen 307
    "falling_rocks": (on_triangle(pic.falling_rocks, mirror=0.5), "triangle"),  # formerly Zeichen 115
    "crosswind": (on_triangle(pic.windsock, mirror=0.5), "triangle"),  # Zeichen 117
    "cattle": (on_triangle(pic.cow, mirror=0.5), "triangle"),  # formerly Zeichen 140
    "steep_hill": (on_triangle(pic.slope, mirror=0.5), "triangle"),  # Zeichen 108/110
    "two_way_traffic": (on_triangle(pic.two_way), "triangle"),  # Zeichen 125
    "level_crossing": (on_triangle(pic.locomotive, mirror=0.5), "triangle"),  # Zeichen 151
    "level_crossing_gate": (on_triangle(pic.gate), "triangle"),  # Zeichen 150
    "roundabout_ahead": (on_triangle(pic.roundabout_arrows), "triangle"),  # other countries' warning
    "loose_chippings": (on_triangle(pic.chippings, mirror=0.5), "triangle"),  # formerly Zeichen 116
    "queue": (on_triangle(pic.queue), "triangle"),  # Zeichen 124
    "riverbank": (on_triangle(pic.riverbank, mirror=0.5), "triangle"),  # formerly Zeichen 129
    "aircraft": (on_triangle(pic.aircraft, mirror=0.5), "triangle"),  # formerly Zeichen 144
    "road_narrows_both_sides": (on_triangle(partial(pic.narrows, left=True)), "triangle"),  # Zeichen 120
    "road_narrows_on_the_left": (on_triangle(partial(pic.narrows, left=True, right=False)), "triangle"),  # 121-10
    "supplementary_plate": (supplementary_plate, "wide"),  # Zusatzzeichen 1000-1060
    "zone_sign": (zone_sign, "square"),  # Zeichen 274.1
    "end_of_zone": (end_of_zone, "square"),  # Zeichen 274.2
}


def draw_every_class(count: int, side: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` drawings (uint8 N x side x side x 4) of GTSRB signs and their classes, all 43
    classes in turn (``--drawn-designs every``)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count, dtype=np.int64) % len(EVERY_CLASS_DESIGNS)
    drawings = [render(*EVERY_CLASS_DESIGNS[int(c)], side, rng) for c in labels]
    return (np.stack(drawings) if drawings else np.empty((0, side, side, 4), dtype=np.uint8)), labels


def draw_unknown_signs(count: int, side: int, seed: int) -> np.ndarray:
    """``count`` drawings (uint8 N x side x side x 4) of ``UNKNOWN_DESIGNS``, taken in turn."""
    rng = np.random.default_rng(seed)
    designs = list(UNKNOWN_DESIGNS.values())
    drawings = [render(*designs[i % len(designs)], side, rng) for i in range(count)]
    return np.stack(drawings) if drawings else np.empty((0, side, side, 4), dtype=np.uint8)


def on_plain_background(drawings: np.ndarray, rng: np.random.Generator, side: int = 32,
                        blur: float = 0.6) -> np.ndarray:
    """Drawings (uint8 N x S x S x 4) as GTSRB crops show a sign: inside a border of
    ``SIGN_INSET`` on a plain grey or coloured background, at ``side`` pixels, a little blurred.
    How the fidelity check shows a drawing to a classifier (tests, benchmarks/drawn_gallery.py)."""
    pictures = []
    for drawing in drawings:
        big = drawing.shape[0]
        colour = tuple(int(v) for v in (rng.integers(30, 226, 3) if rng.random() < 0.5
                                        else np.full(3, rng.integers(30, 226))))
        picture = Image.new("RGB", (big, big), colour)
        inner = round(big * (1 - 2 * SIGN_INSET))
        sign = Image.fromarray(drawing).resize((inner, inner), Image.Resampling.LANCZOS)
        picture.paste(sign, ((big - inner) // 2, (big - inner) // 2), sign)
        small = picture.resize((side, side), Image.Resampling.BOX).filter(ImageFilter.GaussianBlur(blur))
        pictures.append(np.asarray(small))
    return np.stack(pictures)
