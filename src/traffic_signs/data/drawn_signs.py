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

Each drawing is RGBA with the sign's outline as alpha, so it can be pasted on any background
(see :mod:`traffic_signs.data.photo_views`). Colours, line widths, font sizes and symbols vary
per drawing; everything comes from one seeded ``numpy`` generator.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
from PIL import Image, ImageDraw, ImageFont

NOT_A_CLASS = -1
SPEED_LIMIT_CLASSES = {20: 0, 30: 1, 50: 2, 60: 3, 70: 4, 80: 5, 100: 7, 120: 8}
OTHER_SPEEDS = (5, 10, 15, 25, 35, 40, 45, 55, 65, 75, 90, 110, 130)
NO_VEHICLES = 15
SYMBOLS = "PiHTXZ?#$&"  # letters and marks that no German disc, triangle or diamond carries

Colour = tuple[int, int, int]
Draw = ImageDraw.ImageDraw


class Palette:
    """Sign colours, each drawn a little off its standard value (paint, print, screen)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def _near(self, rgb: Colour, spread: int = 25) -> Colour:
        return tuple(int(np.clip(c + self.rng.integers(-spread, spread + 1), 0, 255)) for c in rgb)

    def red(self) -> Colour:
        return self._near((200, 20, 35))

    def white(self) -> Colour:
        return self._near((240, 240, 240), 15)

    def black(self) -> Colour:
        return self._near((25, 25, 25), 20)

    def blue(self) -> Colour:
        return self._near((20, 80, 170), 30)

    def yellow(self) -> Colour:
        return self._near((245, 200, 10), 20)

    def green(self) -> Colour:
        return self._near((20, 120, 60), 30)

    def grey(self, level: int, spread: int) -> Colour:
        return self._near((level, level, level), spread)


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=max(6, int(size)))


def _text(draw: Draw, centre: tuple[float, float], text: str, size: float, colour: Colour, bold: float = 0) -> None:
    """``text`` centred on ``centre``; ``bold`` thickens its strokes by that share of ``size``."""
    stroke = int(size * bold)
    draw.text(centre, text, fill=colour, font=_font(size), anchor="mm", stroke_width=stroke, stroke_fill=colour)


def speed_limit(draw: Draw, side: int, colours: Palette, number: int) -> None:
    """A white disc in a red ring with a black number."""
    empty_ring(draw, side, colours)
    digits = len(str(number))
    _text(draw, (side / 2, side / 2), str(number), side * (0.52 if digits < 3 else 0.40), colours.black())


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
        _text(draw, (side / 2, side / 2), symbol, side * 0.65, colours.white())


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
    _text(draw, (side / 2, top + disc / 2), number, disc * 0.52, colours.black())
    _text(draw, (side / 2, side * 0.82), "ZONE", side * 0.2, colours.black())


def yellow_diamond(draw: Draw, side: int, colours: Palette) -> None:
    """Another country's warning: a yellow diamond with a black border and a black symbol."""
    border = side * 0.05
    draw.polygon([(side / 2, 0), (side - 1, side / 2), (side / 2, side - 1), (0, side / 2)], fill=colours.black())
    draw.polygon([(side / 2, border * 1.5), (side - 1 - border * 1.5, side / 2), (side / 2, side - 1 - border * 1.5),
                  (border * 1.5, side / 2)], fill=colours.yellow())
    _text(draw, (side / 2, side / 2), str(colours.rng.choice(list(SYMBOLS + "<>^~"))), side * 0.45, colours.black())


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
        _text(draw, (side / 2, side * (k + 0.5) / lines), word, side * 0.7 / lines, ink)


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
        _text(draw, (cx, cy), str(colours.rng.choice(list(SYMBOLS))), size * 0.8, ink)


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
    _text(draw, (side / 2, side / 2), "STOP", side * colours.rng.uniform(0.3, 0.36), white)


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
    _text(draw, (side / 2, top + height / 2), number, height * 0.5, colours.black(), bold=0.04)
    word_height = min(side * colours.rng.uniform(0.2, 0.26), side - edge - top - height)
    _text(draw, (side / 2, (top + height + side - edge) / 2), "ZONE", word_height, colours.black(), bold=0.06)


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
    _text(draw, (side / 2, (ZONE_TEXT_TOP * side + side - inset) / 2), "ZONE", height, ink,
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
