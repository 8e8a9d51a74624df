"""The signs around the pictograms: warning triangles, red rings, blue discs and squares, the
struck-through discs that end a restriction, and plates.

Every frame draws its colours and edge widths from the drawing's :class:`Palette`, and puts
its pictogram (:mod:`traffic_signs.data.pictograms`) where the StVO design puts it. A GTSRB
class and a sign GTSRB has no class for that share a frame are drawn by the same function, so
that only the pictogram or the number tells them apart.
"""

from __future__ import annotations

from collections.abc import Callable

from PIL import ImageDraw

from traffic_signs.data.pictograms import (
    Colour,
    Palette,
    Pen,
    Pictogram,
    bicycle,
    car_rear,
    one_way_arrow,
    text,
    truck_side,
)

Draw = ImageDraw.ImageDraw
Design = Callable[[Draw, int, Palette], None]


def pen_for(draw: Draw, centre: tuple[float, float], size: float, ink: Colour, paper: Colour, colours: Palette,
         mirror: float) -> Pen:
    """A pen for a pictogram, mirrored with probability ``mirror`` (1 = the mirrored design)."""
    return Pen(draw, centre, size, ink, paper, colours, colours.rng, mirror=bool(colours.rng.random() < mirror))


def on_triangle(pictogram: Pictogram, mirror: float = 0.0, size: float = 0.46) -> Design:
    """A warning sign (Zeichen 101-151): a red triangle, point up, a white field, a black pictogram."""

    def design(draw: Draw, side: int, colours: Palette) -> None:
        bottom, inset, paper = side * 0.9, side * colours.rng.uniform(0.11, 0.16), colours.white()
        draw.polygon([(side / 2, 0), (side - 1, bottom), (0, bottom)], fill=colours.red())
        draw.polygon([(side / 2, inset * 1.6), (side - 1 - inset, bottom - inset * 0.6),
                      (inset, bottom - inset * 0.6)], fill=paper)
        pictogram(pen_for(draw, (side / 2, side * 0.6), side * size, colours.black(), paper, colours, mirror))

    return design


def on_ring(pictogram: Pictogram, mirror: float = 0.0, size: float = 0.56) -> Design:
    """A prohibition (Zeichen 250-277): a white disc in a red ring, a black pictogram."""

    def design(draw: Draw, side: int, colours: Palette) -> None:
        ring, paper = side * colours.rng.uniform(0.09, 0.14), colours.white()
        draw.ellipse((0, 0, side - 1, side - 1), fill=colours.red())
        draw.ellipse((ring, ring, side - 1 - ring, side - 1 - ring), fill=paper)
        pictogram(pen_for(draw, (side / 2, side / 2), side * size, colours.black(), paper, colours, mirror))

    return design


def on_blue_disc(pictogram: Pictogram, mirror: float = 0.0, size: float = 0.62) -> Design:
    """A mandatory sign (Zeichen 205-245): a blue disc, a white pictogram."""

    def design(draw: Draw, side: int, colours: Palette) -> None:
        paper = colours.blue()
        draw.ellipse((0, 0, side - 1, side - 1), fill=paper)
        pictogram(pen_for(draw, (side / 2, side / 2), side * size, colours.white(), paper, colours, mirror))

    return design


def on_blue_square(pictogram: Pictogram, mirror: float = 0.0, size: float = 0.7, ink: str = "white") -> Design:
    """A sign of direction or information (Zeichen 220, 308-357): a blue square with a white edge."""

    def design(draw: Draw, side: int, colours: Palette) -> None:
        edge, paper = side * colours.rng.uniform(0.03, 0.06), colours.blue()
        draw.rectangle((0, 0, side - 1, side - 1), fill=colours.white())
        draw.rectangle((edge, edge, side - 1 - edge, side - 1 - edge), fill=paper)
        colour = colours.white() if ink == "white" else colours.black()
        pictogram(pen_for(draw, (side / 2, side / 2), side * size, colour, paper, colours, mirror))

    return design


def end_stripes(draw: Draw, side: int, colours: Palette) -> None:
    """The band of thin black stripes that ends a restriction, from top right to bottom left."""
    ink, width = colours.black(), max(1, int(side * colours.rng.uniform(0.02, 0.03)))
    for k in range(-2, 3):
        shift = k * side * 0.028
        draw.line((side * 0.84 + shift, side * 0.16 + shift, side * 0.16 + shift, side * 0.84 + shift),
                  fill=ink, width=width)


def ended(pictogram: Pictogram | None = None, number: int | None = None, size: float = 0.64) -> Design:
    """The end of a restriction (Zeichen 278-282): a white disc with a thin dark rim, the
    restriction's number or pictogram in grey, struck through by a band of black stripes."""

    def design(draw: Draw, side: int, colours: Palette) -> None:
        paper, rim = colours.white(), side * colours.rng.uniform(0.02, 0.04)
        draw.ellipse((0, 0, side - 1, side - 1), fill=colours.neutral(colours.rng.integers(40, 110)))
        draw.ellipse((rim, rim, side - 1 - rim, side - 1 - rim), fill=paper)
        grey = colours.neutral(colours.rng.integers(60, 130))
        if number is not None:
            text(draw, (side / 2, side / 2), str(number), side * (0.52 if number < 100 else 0.4), grey)
        if pictogram is not None:
            pictogram(pen_for(draw, (side / 2, side / 2), side * size, grey, paper, colours, 0.0))
        end_stripes(draw, side, colours)

    return design


def no_passing(left: Callable[..., None], width: float = 0.38) -> Pictogram:
    """Zeichen 276/277/277.1, Ueberholverbot: a red vehicle (``left``, ``width`` wide) beside a black car."""

    def pictogram(pen: Pen) -> None:
        left(pen, (-0.22, 0.14), width, pen.palette.red())
        car_rear(pen, (0.22, 0.14), 0.38)

    return pictogram


def grey_pair(left: Callable[..., None], width: float = 0.38) -> Pictogram:
    """The two vehicles of an ended no-passing sign (Zeichen 280/281), both in the ink's grey."""

    def pictogram(pen: Pen) -> None:
        left(pen, (-0.22, 0.14), width)
        car_rear(pen, (0.22, 0.14), 0.38)

    return pictogram


def blue_number(number: int | None = None, struck: bool = False) -> Design:
    """Zeichen 275/279, Mindestgeschwindigkeit (and its end): a white number on a blue disc."""

    def design(draw: Draw, side: int, colours: Palette) -> None:
        value = number or int(colours.rng.choice([30, 40, 50, 60, 80]))
        draw.ellipse((0, 0, side - 1, side - 1), fill=colours.blue())
        text(draw, (side / 2, side / 2), str(value), side * 0.5, colours.white(), bold=0.03)
        if struck:
            draw.line((side * 0.82, side * 0.18, side * 0.18, side * 0.82), fill=colours.red(),
                      width=max(2, int(side * 0.08)))

    return design


def bus_stop(draw: Draw, side: int, colours: Palette) -> None:
    """Zeichen 224, Haltestelle: a yellow disc in a green ring with a green H."""
    green, ring = colours.green(), side * colours.rng.uniform(0.07, 0.11)
    draw.ellipse((0, 0, side - 1, side - 1), fill=green)
    draw.ellipse((ring, ring, side - 1 - ring, side - 1 - ring), fill=colours.yellow())
    text(draw, (side / 2, side / 2), "H", side * 0.55, green, bold=0.04)


def end_of_priority_road(draw: Draw, side: int, colours: Palette) -> None:
    """Zeichen 307, Ende der Vorfahrtstrasse: the priority diamond, greyed and struck through."""
    draw.polygon([(side / 2, 0), (side - 1, side / 2), (side / 2, side - 1), (0, side / 2)], fill=colours.white())
    inset = side * colours.rng.uniform(0.16, 0.22)
    draw.polygon([(side / 2, inset), (side - 1 - inset, side / 2), (side / 2, side - 1 - inset), (inset, side / 2)],
                 fill=colours.grey(175, 30) if colours.rng.random() < 0.5 else colours.yellow())
    end_stripes(draw, side, colours)




def supplementary_plate(draw: Draw, side: int, colours: Palette) -> None:
    """A Zusatzzeichen (1000-1060): a white landscape plate in a black line with a distance, a
    time, words, an arrow or a vehicle. Drawn in the square's middle band (outline ``wide``)."""
    top, bottom = side * WIDE_PLATE[0], side * WIDE_PLATE[1]
    ink, paper, line = colours.black(), colours.white(), max(1, int(side * 0.025))
    draw.rectangle((0, top, side - 1, bottom), fill=paper)
    draw.rectangle((line, top + line, side - 1 - line, bottom - line), outline=ink, width=line)
    centre, height = (side / 2, (top + bottom) / 2), bottom - top
    kind = colours.rng.integers(4)
    if kind == 0:
        words = str(colours.rng.choice(["200 m", "50 m", "800 m", "7-19 h", "Mo-Fr", "6-22 h", "1,5 km"]))
        text(draw, centre, words, height * 0.5, ink, bold=0.03)
    elif kind == 1:
        words = str(colours.rng.choice(["Anlieger frei", "bei Nässe", "Schule", "Ende", "Radfahrer frei"]))
        text(draw, centre, words, min(height * 0.4, side * 1.3 / len(words)), ink, bold=0.03)
    else:
        pen = pen_for(draw, centre, height * 0.8, ink, paper, colours, 0.5)
        if kind == 2:
            pen.arrow([(-0.8, 0.0), (0.6, 0.0)], 0.12)
        else:
            (truck_side if colours.rng.random() < 0.5 else bicycle)(pen)


def one_way(draw: Draw, side: int, colours: Palette) -> None:
    """Zeichen 220, Einbahnstrasse: a blue landscape plate with a white edge and a broad white arrow."""
    top, bottom = side * WIDE_PLATE[0], side * WIDE_PLATE[1]
    edge, paper = side * colours.rng.uniform(0.02, 0.04), colours.blue()
    draw.rectangle((0, top, side - 1, bottom), fill=colours.white())
    draw.rectangle((edge, top + edge, side - 1 - edge, bottom - edge), fill=paper)
    one_way_arrow(pen_for(draw, (side / 2, (top + bottom) / 2), side * 0.9, colours.white(), paper, colours, 0.5))


WIDE_PLATE = (0.28, 0.72)  # a landscape plate's top and bottom, as shares of the square's side


