"""The symbols on German traffic signs, as small vector drawings in unit coordinates.

Each pictogram draws into a box of side 1 centred on (0, 0), x to the right and y down,
through a :class:`Pen` that maps it onto the sign at any resolution, mirrors it where the
design has a mirrored variant, and bends it a little per drawing (scale, shear, stroke weight,
all from the seeded generator), so that no two drawings of a sign are the same picture.

Drawn here rather than taken from an icon set: each symbol is a few lines of points, needs no
file at run time and carries no third-party licence. The shapes follow the StVO designs
(Zeichen numbers in the docstrings) as far as a sign 32 pixels wide can show them: silhouettes
and thick strokes, no detail thinner than about a pixel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PIL import ImageDraw, ImageFont

Colour = tuple[int, int, int]
Point = tuple[float, float]


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

    def neutral(self, level: int) -> Colour:
        """A grey without a tint: the greyed-out symbols of signs that end a restriction."""
        return (int(level),) * 3

    def amber(self) -> Colour:
        return self._near((245, 150, 20), 20)

    def signal_green(self) -> Colour:
        return self._near((30, 170, 90), 25)


def font(size: float) -> ImageFont.ImageFont:
    """Pillow's bundled font (Aileron): always there, so drawings never depend on installed fonts."""
    return ImageFont.load_default(size=max(6, int(size)))


def text(draw: ImageDraw.ImageDraw, centre: Point, words: str, size: float, colour: Colour, bold: float = 0) -> None:
    """``words`` centred on ``centre``; ``bold`` thickens its strokes by that share of ``size``."""
    stroke = int(size * bold)
    draw.text(centre, words, fill=colour, font=font(size), anchor="mm", stroke_width=stroke, stroke_fill=colour)


def circle(centre: Point, radius: float | tuple[float, float], start: float = 0, end: float = 360,
           steps: int = 24, turn: float = 0) -> list[Point]:
    """Points along a circle or ellipse (``radius`` = (rx, ry)) from ``start`` to ``end`` degrees
    (clockwise on screen, 0 = to the right), the ellipse turned by ``turn`` degrees."""
    rx, ry = (radius, radius) if np.isscalar(radius) else radius
    angles = np.radians(np.linspace(start, end, steps))
    xs, ys = rx * np.cos(angles), ry * np.sin(angles)
    c, s = np.cos(np.radians(turn)), np.sin(np.radians(turn))
    return [(centre[0] + c * x - s * y, centre[1] + s * x + c * y) for x, y in zip(xs, ys, strict=True)]


def bezier(*controls: Point, steps: int = 10) -> list[Point]:
    """Points along the Bezier curve through ``controls`` (de Casteljau): a road's or an arrow's bend."""
    t = np.linspace(0, 1, steps)[:, None, None]
    points = np.broadcast_to(np.asarray(controls, dtype=float), (steps, len(controls), 2))
    while points.shape[1] > 1:
        points = (1 - t) * points[:, :-1] + t * points[:, 1:]
    return [(float(x), float(y)) for x, y in points[:, 0]]


class Pen:
    """Draws in a pictogram's unit box, placed at ``centre`` with side ``size`` (pixels) on the sign.

    ``ink`` is the symbol's colour, ``paper`` the sign's field behind it (for gaps and windows);
    ``palette`` gives further colours (the red car of "No passing", the lights of a signal).
    """

    def __init__(self, draw: ImageDraw.ImageDraw, centre: Point, size: float, ink: Colour, paper: Colour,
                 palette: Palette, rng: np.random.Generator, mirror: bool = False, jitter: float = 0.05):
        self.draw, self.centre, self.size = draw, centre, size
        self.ink, self.paper, self.palette = ink, paper, palette
        self.mirror = mirror
        self.warp = np.eye(2) + rng.uniform(-jitter, jitter, (2, 2))  # a little scale and shear per drawing
        self.weight = rng.uniform(0.85, 1.15)  # strokes a little thinner or bolder

    def at(self, points: Sequence[Point]) -> list[Point]:
        """Unit points as pixels on the sign."""
        array = np.asarray(points, dtype=float).reshape(-1, 2)
        if self.mirror:
            array = array * (-1, 1)
        pixels = array @ self.warp.T * self.size + self.centre
        return [(float(x), float(y)) for x, y in pixels]

    def poly(self, points: Sequence[Point], fill: Colour | None = None) -> None:
        self.draw.polygon(self.at(points), fill=fill or self.ink)

    def line(self, points: Sequence[Point], width: float, fill: Colour | None = None, round_ends: bool = True) -> None:
        """A stroke ``width`` (unit) wide through ``points``, with rounded joints and ends."""
        pixels, colour = self.at(points), fill or self.ink
        px = max(1.0, width * self.size * self.weight)
        self.draw.line(pixels, fill=colour, width=round(px), joint="curve")
        if round_ends and px > 2:
            for x, y in (pixels[0], pixels[-1]):
                self.draw.ellipse((x - px / 2, y - px / 2, x + px / 2, y + px / 2), fill=colour)

    def disc(self, centre: Point, radius: float | tuple[float, float], fill: Colour | None = None,
             turn: float = 0) -> None:
        self.poly(circle(centre, radius, turn=turn), fill)

    def ring(self, centre: Point, radius: float, width: float, fill: Colour | None = None) -> None:
        self.line(circle(centre, radius, steps=32), width, fill, round_ends=False)

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill: Colour | None = None) -> None:
        self.poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], fill)

    def arrow(self, points: Sequence[Point], width: float, head: float = 2.2, fill: Colour | None = None) -> None:
        """A stroke through ``points`` ending in an arrowhead ``head`` strokes wide."""
        (x0, y0), (x1, y1) = points[-2], points[-1]
        length = max(1e-6, float(np.hypot(x1 - x0, y1 - y0)))
        dx, dy = (x1 - x0) / length, (y1 - y0) / length
        half = width * head / 2
        self.line(list(points), width, fill, round_ends=False)
        self.poly([(x1 + dx * half * 1.6, y1 + dy * half * 1.6), (x1 - dy * half, y1 + dx * half),
                   (x1 + dy * half, y1 - dx * half)], fill)

    def text(self, centre: Point, words: str, size: float, fill: Colour | None = None, bold: float = 0.05) -> None:
        """Words at a unit point, ``size`` (unit) high: not bent with the pictogram, as print is not."""
        (x, y), = self.at([centre])
        text(self.draw, (x, y), words, size * self.size, fill or self.ink, bold)


Pictogram = Callable[[Pen], None]


# ---- marks and road shapes (warning triangles) ------------------------------------------------------------


def exclamation(pen: Pen) -> None:
    """Zeichen 101, Gefahrstelle."""
    pen.poly([(-0.065, -0.36), (0.065, -0.36), (0.04, 0.14), (-0.04, 0.14)])
    pen.disc((0, 0.28), 0.07)


def crossroads(pen: Pen) -> None:
    """Zeichen 102, Kreuzung oder Einmündung mit Vorfahrt von rechts: a thick cross, its bar thinner."""
    pen.rect(-0.065, -0.38, 0.065, 0.38)
    pen.rect(-0.26, -0.1, 0.26, 0.0)


def curve(pen: Pen) -> None:
    """Zeichen 103, Kurve (links; mirrored: rechts): a road bending left, as an arrow."""
    pen.arrow([(0.14, 0.4), (0.14, 0.02), *bezier((0.14, 0.02), (0.14, -0.2), (-0.1, -0.2), steps=8),
               (-0.16, -0.2)], 0.13, head=2.3)


def double_curve(pen: Pen) -> None:
    """Zeichen 105, Doppelkurve (zunaechst links): the road bends left, then right: a zigzag arrow."""
    path = [(0.18, 0.42), (0.18, 0.14), *bezier((0.18, 0.14), (0.18, 0.08), (0.12, 0.06), steps=4),
            (-0.12, 0.04), *bezier((-0.12, 0.04), (-0.18, 0.02), (-0.18, -0.04), steps=4), (-0.18, -0.3)]
    pen.arrow(path, 0.13, head=2.3)


def bumps(pen: Pen) -> None:
    """Zeichen 112, Unebene Fahrbahn: a road's profile with two humps."""
    pen.rect(-0.42, 0.2, 0.42, 0.3)
    for x in (-0.19, 0.19):
        pen.poly(circle((x, 0.21), (0.15, 0.13), 180, 360, steps=14))


def skidding_car(pen: Pen) -> None:
    """Zeichen 114, Schleuder- oder Rutschgefahr: a car from behind, a little askew, and two
    winding skid marks below it."""
    car_rear(pen, (0.06, 0.02), 0.52, tilt=pen.palette.rng.uniform(-4, 8))
    for x in (-0.14, 0.1):
        wave = [(x + 0.06 * np.sin(t * 2.2 * np.pi) - t * 0.1, 0.1 + t * 0.32) for t in np.linspace(0, 1, 12)]
        pen.line(wave, 0.05)


def narrows(pen: Pen, left: bool = False, right: bool = True) -> None:
    """Zeichen 120/121, Verengte Fahrbahn: the road's edges, the narrowing side bent inwards."""
    for side, bends in ((-1, left), (1, right)):
        x = side * 0.22
        inner = side * 0.07 if bends else x
        pen.line([(x, 0.4), (x, 0.1), (inner, -0.1), (inner, -0.36)], 0.085, round_ends=False)


def road_worker(pen: Pen) -> None:
    """Zeichen 123, Arbeitsstelle: a man digging with a shovel, a heap of earth before him."""
    pen.disc((0.02, -0.36), 0.085)
    pen.line([(-0.1, 0.06), (-0.02, -0.22)], 0.14)  # trunk, leaning towards the heap
    pen.line([(-0.1, 0.06), (-0.2, 0.24), (-0.3, 0.44)], 0.1)
    pen.line([(-0.1, 0.06), (0.0, 0.26), (0.02, 0.44)], 0.1)
    pen.line([(-0.02, -0.18), (0.1, -0.06), (0.16, 0.04)], 0.075)  # arms down the shaft
    pen.line([(-0.04, -0.24), (0.3, 0.26)], 0.055)  # shovel's shaft
    pen.poly([(0.24, 0.2), (0.34, 0.14), (0.4, 0.26), (0.3, 0.32)])  # blade
    pen.poly(circle((0.3, 0.44), (0.2, 0.2), 180, 360, steps=14))  # heap


def signal_lights(pen: Pen) -> None:
    """Zeichen 131, Lichtzeichenanlage: red, amber and green lights, one above the other."""
    palette = pen.palette
    if palette.rng.random() < 0.4:  # some designs show the lights' dark housing
        pen.rect(-0.15, -0.43, 0.15, 0.43)
    for y, colour in ((-0.28, palette.red()), (0.0, palette.amber()), (0.28, palette.signal_green())):
        pen.disc((0, y), 0.125, fill=colour)


def snowflake(pen: Pen) -> None:
    """Zeichen 101-51, Schnee- oder Eisglaette: a six-armed snowflake."""
    for k in range(6):
        angle = np.radians(90 + 60 * k)
        direction = np.array([np.cos(angle), np.sin(angle)])
        pen.line([(0, 0), tuple(direction * 0.36)], 0.055)
        for side in (-1, 1):
            branch = np.radians(90 + 60 * k + side * 45)
            base = direction * 0.2
            pen.line([tuple(base), tuple(base + 0.12 * np.array([np.cos(branch), np.sin(branch)]))], 0.045)


def falling_rocks(pen: Pen) -> None:
    """Steinschlag (formerly Zeichen 115, now 101 with this pictogram): rocks falling from a cliff."""
    pen.poly([(-0.42, -0.4), (-0.2, -0.4), (-0.08, 0.4), (-0.42, 0.4)])
    for x, y, r in ((0.05, -0.18, 0.07), (0.18, 0.05, 0.08), (0.06, 0.28, 0.1), (0.3, 0.3, 0.06)):
        pen.poly(circle((x, y), r, steps=6, turn=30 * x))


def windsock(pen: Pen) -> None:
    """Zeichen 117, Seitenwind: a windsock on its pole, blown to the right, red and white."""
    pen.line([(-0.3, -0.38), (-0.3, 0.42)], 0.06)
    red = pen.palette.red()
    for k in range(4):
        x0, x1 = -0.28 + 0.16 * k, -0.28 + 0.16 * (k + 1)
        h0, h1 = 0.16 - 0.025 * k, 0.16 - 0.025 * (k + 1)
        pen.poly([(x0, -0.28 - h0), (x1, -0.26 - h1), (x1, -0.26 + h1), (x0, -0.28 + h0)],
                 fill=red if k % 2 == 0 else pen.paper)
    pen.line([(-0.28, -0.44), (0.36, -0.36), (0.36, -0.16), (-0.28, -0.12), (-0.28, -0.44)], 0.025,
             round_ends=False)


def slope(pen: Pen) -> None:
    """Zeichen 108/110, Gefaelle/Steigung: a hill's wedge and its gradient in per cent."""
    pen.poly([(-0.42, 0.4), (0.42, 0.4), (0.42, -0.02)])
    pen.text((-0.04, -0.12), f"{int(pen.palette.rng.choice([8, 10, 12, 15]))}%", 0.3)


def two_way(pen: Pen) -> None:
    """Zeichen 125, Gegenverkehr: the oncoming lane's arrow down on the left, one's own up on the right."""
    pen.arrow([(-0.14, -0.4), (-0.14, 0.2)], 0.09)
    pen.arrow([(0.14, 0.4), (0.14, -0.2)], 0.09)


def locomotive(pen: Pen) -> None:
    """Zeichen 151, Bahnuebergang: a steam engine."""
    pen.rect(-0.2, -0.12, 0.32, 0.14)  # boiler
    pen.rect(-0.42, -0.32, -0.16, 0.14)  # cab
    pen.rect(-0.37, -0.26, -0.22, -0.12, fill=pen.paper)  # its window
    pen.rect(0.16, -0.3, 0.24, -0.12)  # chimney
    for x in (-0.3, -0.04, 0.2):
        pen.disc((x, 0.24), 0.1)
    pen.line([(-0.46, 0.38), (0.46, 0.38)], 0.04)


def gate(pen: Pen) -> None:
    """Zeichen 150, Bahnuebergang mit Schranken (dropped from the StVO in 2013, still on roads): a gate."""
    for y in (-0.2, 0.12):
        pen.rect(-0.42, y, 0.42, y + 0.12)
    for x in (-0.3, 0.0, 0.3):
        pen.rect(x - 0.05, -0.3, x + 0.05, 0.36)


def roundabout_arrows(pen: Pen) -> None:
    """Zeichen 215 as warned of abroad: three arrows chasing each other round a circle."""
    for start in (-30.0, 90.0, 210.0):
        pen.arrow(circle((0, 0.04), 0.34, start + 80, start, steps=8), 0.1, head=2.4)


def chippings(pen: Pen) -> None:
    """Splitt, Schotter (formerly Zeichen 116): a car seen from the side throwing up stones."""
    car_side(pen, (0.1, -0.02), 0.62)
    for x, y in ((-0.3, 0.0), (-0.38, 0.14), (-0.24, 0.2), (-0.42, -0.1), (-0.3, 0.32), (0.12, 0.34)):
        pen.disc((x, y), 0.04)


def queue(pen: Pen) -> None:
    """Zeichen 124, Stau: three cars from behind, one above the other."""
    for k, y in enumerate((-0.18, 0.1, 0.4)):
        car_rear(pen, (0, y), 0.32 + 0.08 * k)


def riverbank(pen: Pen) -> None:
    """Ufer (formerly Zeichen 129): a car falling off a quay into the water."""
    pen.rect(-0.44, -0.06, -0.04, 0.42)
    car_side(pen, (0.16, -0.16), 0.44, tilt=35)
    for y in (0.18, 0.32):
        pen.line([(0.0 + 0.1 * t, y + 0.04 * np.sin(t * np.pi)) for t in np.linspace(0, 4.2, 14)], 0.045)


def aircraft(pen: Pen) -> None:
    """Flugbetrieb (formerly Zeichen 144): an aeroplane flying low to the upper left."""
    pen.line([(0.34, 0.26), (-0.3, -0.22)], 0.11)
    pen.poly([(-0.04, -0.04), (-0.34, 0.16), (-0.26, 0.22), (0.12, 0.06)])
    pen.poly([(0.0, -0.04), (0.14, -0.34), (0.22, -0.3), (0.14, 0.06)])
    pen.poly([(0.26, 0.2), (0.24, 0.38), (0.32, 0.38), (0.38, 0.24)])


# ---- vehicles -------------------------------------------------------------------------------------------


def _placed(base: Point, width: float, tilt: float) -> Callable[[list[Point]], list[Point]]:
    """Points given in units of ``width`` around ``base`` (a vehicle's bottom centre), turned by ``tilt``."""
    c, s = np.cos(np.radians(tilt)), np.sin(np.radians(tilt))

    def moved(points: list[Point]) -> list[Point]:
        return [(base[0] + width * (c * u - s * v), base[1] + width * (s * u + c * v)) for u, v in points]

    return moved


def car_rear(pen: Pen, base: Point, width: float, fill: Colour | None = None, tilt: float = 0) -> None:
    """A car from behind (or the front), ``width`` wide, standing on ``base``: a low, wide body,
    a narrower cabin, two wheels (Zeichen 114, 276, 277, 280)."""
    moved = _placed(base, width, tilt)
    pen.poly(moved([(-0.5, -0.1), (-0.5, -0.3), (-0.44, -0.36), (0.44, -0.36), (0.5, -0.3), (0.5, -0.1)]), fill)
    pen.poly(moved([(-0.38, -0.34), (-0.28, -0.58), (0.28, -0.58), (0.38, -0.34)]), fill)
    for u in (-0.42, 0.26):
        pen.poly(moved([(u, -0.12), (u + 0.16, -0.12), (u + 0.16, 0.0), (u, 0.0)]), fill)


def truck_front(pen: Pen, base: Point, width: float, fill: Colour | None = None) -> None:
    """A lorry from behind, ``width`` wide, standing on ``base``: a tall box (in ``fill``) over a
    dark bumper and two wheels (Zeichen 277, 281)."""
    moved = _placed(base, width, 0)
    pen.poly(moved([(-0.5, -1.3), (0.5, -1.3), (0.5, -0.34), (-0.5, -0.34)]), fill)
    pen.poly(moved([(-0.5, -0.36), (0.5, -0.36), (0.5, -0.12), (-0.5, -0.12)]))
    for u in (-0.44, 0.24):
        pen.poly(moved([(u, -0.14), (u + 0.2, -0.14), (u + 0.2, 0.0), (u, 0.0)]))


def car_side(pen: Pen, centre: Point, width: float, fill: Colour | None = None, tilt: float = 0) -> None:
    """A car from the side, facing left."""
    x, y = centre
    c, s = np.cos(np.radians(tilt)), np.sin(np.radians(tilt))

    def moved(points: list[Point]) -> list[Point]:
        return [(x + width * (c * u - s * v), y + width * (s * u + c * v)) for u, v in points]

    pen.poly(moved([(-0.5, 0.14), (-0.5, 0.0), (-0.34, -0.06), (-0.2, -0.24), (0.2, -0.24), (0.32, -0.06),
                    (0.5, -0.02), (0.5, 0.14)]), fill)
    for u in (-0.28, 0.28):
        pen.poly(moved(circle((u, 0.14), 0.12, steps=12)), pen.paper)
        pen.poly(moved(circle((u, 0.14), 0.09, steps=12)), fill)


def truck_side(pen: Pen, fill: Colour | None = None) -> None:
    """Zeichen 253's lorry: a cab on the left, a high box behind it, three wheels."""
    pen.rect(-0.1, -0.24, 0.46, 0.12, fill)
    pen.poly([(-0.46, 0.12), (-0.46, -0.04), (-0.38, -0.14), (-0.14, -0.14), (-0.14, 0.12)], fill)
    pen.rect(-0.38, -0.1, -0.24, -0.02, pen.paper)
    pen.rect(-0.46, 0.1, 0.46, 0.16, fill)
    for x in (-0.3, 0.16, 0.34):
        pen.disc((x, 0.19), 0.09, pen.paper)
        pen.disc((x, 0.19), 0.07, fill)


def bus(pen: Pen) -> None:
    """Zeichen 245, Bussonderfahrstreifen: a bus from the side with its row of windows."""
    pen.poly([(-0.46, 0.18), (-0.46, -0.2), (-0.4, -0.26), (0.46, -0.26), (0.46, 0.18)])
    for k in range(5):
        x = -0.38 + 0.16 * k
        pen.rect(x, -0.18, x + 0.12, -0.04, pen.paper)
    for x in (-0.26, 0.28):
        pen.disc((x, 0.2), 0.1, pen.paper)
        pen.disc((x, 0.2), 0.075)


def motorcycle(pen: Pen, centre: Point = (0, 0), size: float = 1.0, fill: Colour | None = None) -> None:
    """Zeichen 255, Verbot fuer Kraftraeder: a rider on a motorcycle, facing left."""
    x, y = centre

    def at(u: float, v: float) -> Point:
        return x + size * u, y + size * v

    for u in (-0.3, 0.3):
        pen.ring(at(u, 0.16), 0.13 * size, 0.06 * size, fill)
    pen.poly([at(-0.3, 0.12), at(-0.16, -0.06), at(0.1, -0.08), at(0.22, 0.02), at(0.3, 0.16), at(0.0, 0.14)], fill)
    pen.disc(at(0.02, -0.38), 0.075 * size, fill)
    pen.line([at(0.06, -0.08), at(0.0, -0.28), at(-0.2, -0.12)], 0.08 * size, fill)


def bicycle(pen: Pen, centre: Point = (0, 0), size: float = 1.0, fill: Colour | None = None,
            rider: bool = False) -> None:
    """A bicycle facing left, with a rider when ``rider`` (Zeichen 138, 237, 254)."""
    x, y = centre

    def at(u: float, v: float) -> Point:
        return x + size * u, y + size * v

    width = 0.055 * size
    for u in (-0.28, 0.28):
        pen.ring(at(u, 0.18), 0.17 * size, width, fill)
    pen.line([at(0.28, 0.18), at(0.0, 0.18), at(0.12, -0.08), at(-0.16, -0.08), at(-0.28, 0.18)], width, fill)
    pen.line([at(0.0, 0.18), at(-0.16, -0.08), at(-0.2, -0.16)], width, fill)
    pen.line([at(0.08, -0.12), at(0.18, -0.12)], width, fill)
    if rider:
        pen.disc(at(-0.06, -0.48), 0.075 * size, fill)
        pen.line([at(0.12, -0.14), at(0.0, -0.36)], 0.1 * size, fill)
        pen.line([at(0.0, -0.3), at(-0.18, -0.18)], 0.065 * size, fill)
        pen.line([at(0.12, -0.14), at(-0.02, 0.02), at(0.0, 0.16)], 0.07 * size, fill)


# ---- people and animals ----------------------------------------------------------------------------------


def walker(pen: Pen, centre: Point = (0, 0), height: float = 1.0, fill: Colour | None = None,
           skirt: bool = False, stride: float = 1.0) -> None:
    """A person walking to the left, ``height`` tall, legs ``stride`` times as far apart as in a
    walk (Zeichen 133, 136, 239, 259 ...)."""
    x, y = centre

    def at(u: float, v: float) -> Point:
        return x + height * u, y + height * v

    pen.disc(at(0.0, -0.4), 0.08 * height, fill)
    pen.line([at(0.0, -0.27), at(0.02, 0.04)], 0.14 * height, fill)
    pen.line([at(0.0, -0.24), at(-0.13 * stride, -0.06), at(-0.17 * stride, 0.06)], 0.08 * height, fill)
    pen.line([at(0.02, -0.24), at(0.12 * stride, -0.06), at(0.17 * stride, 0.04)], 0.08 * height, fill)
    if skirt:
        pen.poly([at(-0.05, -0.08), at(0.09, -0.08), at(0.17, 0.18), at(-0.15, 0.18)], fill)
    pen.line([at(0.02, 0.04), at(-0.08 * stride, 0.24), at(-0.16 * stride, 0.46)], 0.1 * height, fill)
    pen.line([at(0.02, 0.04), at(0.1 * stride, 0.25), at(0.15 * stride, 0.46)], 0.1 * height, fill)


def pedestrian(pen: Pen) -> None:
    """Zeichen 133, Fussgaenger."""
    walker(pen, (0, 0.0), 1.0, stride=1.4)


def children(pen: Pen) -> None:
    """Zeichen 136, Kinder: a girl and a smaller boy running to the left, hand in hand."""
    walker(pen, (0.17, -0.02), 0.9, skirt=True, stride=1.3)
    walker(pen, (-0.2, 0.12), 0.66, stride=1.3)
    pen.line([(-0.09, 0.06), (0.03, 0.02)], 0.05)


def cyclist(pen: Pen) -> None:
    """Zeichen 138, Radfahrer."""
    bicycle(pen, (0, 0.14), 1.0, rider=True)


def adult_and_child(pen: Pen, centre: Point = (0, 0), size: float = 1.0, fill: Colour | None = None) -> None:
    """Zeichen 239, Gehweg: an adult holding a child's hand."""
    x, y = centre
    walker(pen, (x + 0.12 * size, y), 0.92 * size, fill)
    walker(pen, (x - 0.2 * size, y + 0.14 * size), 0.6 * size, fill, skirt=True)


def deer(pen: Pen) -> None:
    """Zeichen 142, Wildwechsel: a deer leaping to the upper left."""
    pen.disc((0.04, 0.02), (0.22, 0.085), turn=24)  # body, its front raised
    pen.line([(-0.13, -0.06), (-0.24, -0.24)], 0.09)  # neck
    pen.disc((-0.29, -0.25), (0.075, 0.04), turn=25)  # head
    pen.line([(-0.24, -0.29), (-0.18, -0.44)], 0.03)  # antlers
    pen.line([(-0.2, -0.39), (-0.1, -0.42)], 0.025)
    pen.line([(-0.14, 0.0), (-0.28, 0.12), (-0.36, 0.26)], 0.045)  # fore legs, reaching forward
    pen.line([(-0.1, 0.02), (-0.22, 0.16), (-0.26, 0.3)], 0.045)
    pen.line([(0.2, 0.1), (0.32, 0.22), (0.46, 0.32)], 0.05)  # hind legs, pushing off
    pen.line([(0.18, 0.12), (0.26, 0.26), (0.36, 0.4)], 0.05)
    pen.line([(0.22, 0.06), (0.3, 0.0)], 0.04)  # tail


def cow(pen: Pen) -> None:
    """Viehtrieb, Tiere (formerly Zeichen 140): a cow standing, head to the left."""
    pen.rect(-0.22, -0.16, 0.3, 0.1)
    pen.poly([(-0.22, -0.14), (-0.36, -0.2), (-0.44, -0.08), (-0.38, 0.0), (-0.22, 0.02)])
    pen.line([(-0.34, -0.2), (-0.3, -0.3)], 0.035)
    for x in (-0.18, -0.08, 0.18, 0.28):
        pen.line([(x, 0.05), (x, 0.36)], 0.06)
    pen.line([(0.3, -0.12), (0.38, 0.12)], 0.03)


def horse_rider(pen: Pen) -> None:
    """Zeichen 238, Reitweg: a rider on a horse walking to the left."""
    pen.disc((0.04, 0.06), (0.26, 0.11))
    pen.line([(-0.16, 0.02), (-0.28, -0.18)], 0.11)
    pen.disc((-0.34, -0.16), (0.09, 0.045), turn=40)
    for x0, x1 in ((-0.16, -0.2), (-0.08, -0.06), (0.16, 0.12), (0.24, 0.3)):
        pen.line([(x0, 0.1), (x1, 0.42)], 0.05)
    pen.line([(0.28, 0.02), (0.38, 0.22)], 0.05)
    pen.disc((0.04, -0.4), 0.07)
    pen.line([(0.04, -0.3), (0.06, -0.06)], 0.1)
    pen.line([(0.04, -0.24), (-0.12, -0.12)], 0.06)
    pen.line([(0.06, -0.06), (-0.04, 0.12)], 0.06)


# ---- arrows and marks of blue and prohibition signs -------------------------------------------------------


def u_turn(pen: Pen) -> None:
    """Zeichen 272, Wendeverbot: an arrow that goes up and turns back down."""
    pen.arrow([(0.16, 0.34), (0.16, -0.04), *circle((0.0, -0.04), 0.16, 0, -180, steps=10), (-0.16, 0.12)],
              0.09, head=2.4)


def one_way_arrow(pen: Pen) -> None:
    """Zeichen 220, Einbahnstrasse: a broad arrow to the right."""
    pen.poly([(-0.44, -0.09), (0.16, -0.09), (0.16, -0.2), (0.44, 0.0), (0.16, 0.2), (0.16, 0.09), (-0.44, 0.09)])


def dead_end(pen: Pen) -> None:
    """Zeichen 357, Sackgasse: a road ending at a red bar."""
    pen.rect(-0.1, -0.18, 0.1, 0.44)
    pen.rect(-0.34, -0.4, 0.34, -0.18, fill=pen.palette.red())


def motorway(pen: Pen) -> None:
    """Zeichen 330.1, Autobahn: a bridge over a road running away from the viewer."""
    pen.poly([(-0.42, 0.42), (-0.06, -0.04), (0.06, -0.04), (0.42, 0.42), (0.08, 0.42), (0.0, 0.1),
              (-0.08, 0.42)])
    pen.rect(-0.44, -0.22, 0.44, -0.1)
    pen.rect(-0.44, -0.1, -0.34, 0.1)
    pen.rect(0.34, -0.1, 0.44, 0.1)


def priority_over_oncoming(pen: Pen) -> None:
    """Zeichen 308, Vorrang vor dem Gegenverkehr: a big white arrow up, a small red one down."""
    pen.arrow([(0.14, 0.4), (0.14, -0.22)], 0.13, head=2.4)
    pen.arrow([(-0.16, -0.38), (-0.16, 0.2)], 0.09, head=2.4, fill=pen.palette.red())


def give_way_to_oncoming(pen: Pen) -> None:
    """Zeichen 208, Vorrang des Gegenverkehrs: a black arrow down on the left, a red one up on the right."""
    pen.arrow([(-0.15, -0.4), (-0.15, 0.2)], 0.13, head=2.4)
    pen.arrow([(0.16, 0.38), (0.16, -0.22)], 0.09, head=2.4, fill=pen.palette.red())


def crossing(pen: Pen) -> None:
    """Zeichen 350, Fussgaengerueberweg: a white triangle with a person on a zebra crossing."""
    pen.poly([(0, -0.46), (0.46, 0.4), (-0.46, 0.4)])
    black = pen.palette.black()
    for k in range(4):
        x = -0.3 + 0.16 * k
        pen.poly([(x, 0.34), (x + 0.1, 0.34), (x + 0.08, 0.26), (x - 0.02, 0.26)], fill=black)
    walker(pen, (0.0, 0.0), 0.5, black)


def hazardous_goods(pen: Pen) -> None:
    """Zeichen 261, Verbot fuer kennzeichnungspflichtige Kfz mit gefaehrlichen Guetern: an orange plate."""
    pen.rect(-0.32, -0.2, 0.32, 0.2, fill=pen.palette.black())
    pen.rect(-0.28, -0.16, 0.28, 0.16, fill=pen.palette.amber())


def width_limit(pen: Pen) -> None:
    """Zeichen 264, Verbot fuer Fahrzeuge ueber der angegebenen Breite: a width between two arrowheads."""
    pen.text((0, 0), f"{pen.palette.rng.choice(['2', '2,2', '2,5'])}m", 0.3)
    for side in (-1, 1):
        pen.poly([(side * 0.46, 0), (side * 0.3, -0.1), (side * 0.3, 0.1)])


def height_limit(pen: Pen) -> None:
    """Zeichen 265, Verbot fuer Fahrzeuge ueber der angegebenen tatsaechlichen Hoehe."""
    pen.text((0, 0), f"{pen.palette.rng.choice(['3', '3,5', '3,8', '4'])}m", 0.3)
    for side in (-1, 1):
        pen.poly([(0, side * 0.44), (-0.12, side * 0.28), (0.12, side * 0.28)])


def weight_limit(pen: Pen) -> None:
    """Zeichen 262, Verbot fuer Fahrzeuge ueber dem angegebenen tatsaechlichen Gewicht."""
    pen.text((0, 0), f"{pen.palette.rng.choice(['3,5', '5,5', '7,5', '12', '20'])}t", 0.42)


def length_limit(pen: Pen) -> None:
    """Zeichen 266, Verbot fuer Fahrzeuge ueber der angegebenen Laenge: a lorry above a length."""
    pen.text((0, 0.14), f"{pen.palette.rng.choice(['10', '12', '15'])}m", 0.28)
    pen.line([(-0.4, -0.06), (0.4, -0.06)], 0.03)
    for side in (-1, 1):
        pen.poly([(side * 0.46, -0.06), (side * 0.32, -0.14), (side * 0.32, 0.02)])
    pen.rect(-0.28, -0.36, 0.28, -0.16)


# ---- pictograms made of pictograms ---------------------------------------------------------------------


def stacked(top: Pictogram, bottom: Pictogram, divided: bool = True) -> Pictogram:
    """Two pictograms one above the other, a line between (Zeichen 240, gemeinsamer Geh- und Radweg)."""

    def pictogram(pen: Pen) -> None:
        top(Pen(pen.draw, (pen.centre[0], pen.centre[1] - pen.size * 0.24), pen.size * 0.5, pen.ink, pen.paper,
                pen.palette, pen.palette.rng, pen.mirror))
        if divided:
            pen.line([(-0.42, 0.02), (0.42, 0.02)], 0.04, round_ends=False)
        bottom(Pen(pen.draw, (pen.centre[0], pen.centre[1] + pen.size * 0.26), pen.size * 0.5, pen.ink, pen.paper,
                   pen.palette, pen.palette.rng, pen.mirror))

    return pictogram


def side_by_side(left: Pictogram, right: Pictogram) -> Pictogram:
    """Two pictograms left and right of a line (Zeichen 241, getrennter Rad- und Gehweg)."""

    def pictogram(pen: Pen) -> None:
        for shift, half in ((-0.22, left), (0.22, right)):
            half(Pen(pen.draw, (pen.centre[0] + pen.size * shift, pen.centre[1]), pen.size * 0.52, pen.ink,
                     pen.paper, pen.palette, pen.palette.rng))
        pen.line([(0, -0.46), (0, 0.46)], 0.04, round_ends=False)

    return pictogram


def motor_vehicles(pen: Pen) -> None:
    """Zeichen 260: a motorcycle above a car."""
    motorcycle(pen, (0, -0.2), 0.5)
    car_side(pen, (0, 0.24), 0.62)


def parking(pen: Pen) -> None:
    """Zeichen 314, Parken: a bold P."""
    pen.text((0, 0), "P", 0.9, bold=0.04)
