"""The answer for one picture, in one place: what it holds, how it prints, serialises and draws.

``Result`` is the only shape an answer takes. The CLI prints ``describe()``, ``--format json`` and
the HTTP API send ``to_dict()``, the web app shows ``plot()``. The JSON shape is declared once,
by the ``*JSON`` typed dicts below: ``to_dict`` builds them and the API derives its schema (and
``/docs``) from them, so the two cannot drift apart.

"Unknown sign" is decided once, when the answer is made (a ``Sign``'s ``unknown``, at the
threshold of that call); nothing downstream compares confidences with a threshold again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from PIL import Image, ImageDraw, ImageFont
from typing_extensions import NotRequired, TypedDict

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in the picture's pixels
UNKNOWN_LABEL = "unknown sign"
NAMED_COLOUR, UNKNOWN_COLOUR = (0, 200, 0), (255, 140, 0)


class RankedClass(TypedDict):
    """One of the most probable classes."""

    class_id: int
    label: str
    probability: float
    """calibrated probability, rounded to 6 decimals"""


class SignJSON(TypedDict):
    """One sign found in the picture, and what the model makes of it."""

    box: list[int]
    """x0, y0, x1, y1 in the picture's pixels"""
    class_id: int | None
    """null when the answer is 'unknown sign'"""
    label: str
    confidence: float
    """calibrated probability of the top class"""
    unknown: bool
    """the confidence is below the threshold of the call"""
    top_k: list[RankedClass]


class ResultJSON(TypedDict):
    """One picture's answer: its main sign at the top level (of the signs named with nearly the top
    confidence, the largest), every sign found in ``signs``, most confident first."""

    file: str | None
    class_id: int | None
    """null when the answer is 'unknown sign'"""
    label: str
    confidence: float
    """calibrated probability of the top class"""
    unknown: bool
    """the confidence is below the threshold of the call"""
    top_k: list[RankedClass]
    box: NotRequired[list[int]]
    """x0, y0, x1, y1 of the main sign; absent when no sign was found"""
    signs: list[SignJSON]
    """every sign found, most confident first; unknown ones where the detector holds them likelier signs than not"""


class FileErrorJSON(TypedDict):
    """A file that could not be read; the other files are still answered."""

    file: str | None
    error: str
    kind: Literal["format", "image"]
    """format: not an image this tool reads; image: an image outside the limits, or damaged"""


for _shape in (RankedClass, SignJSON, ResultJSON, FileErrorJSON):  # the API's schema: strict, documented fields
    _shape.__pydantic_config__ = {"extra": "forbid", "use_attribute_docstrings": True}  # type: ignore[attr-defined]


@dataclass
class Sign:
    """One sign: where it is and what the classifier makes of it."""

    box: Box
    class_id: int | None  # None when unknown
    label: str
    confidence: float  # calibrated probability of the top class
    unknown: bool
    top_k: list[RankedClass] = field(default_factory=list)

    @property
    def best_guess(self) -> str:
        """The most probable class's name, even when the answer is "unknown sign"."""
        return self.top_k[0]["label"] if self.top_k else self.label

    def describe(self) -> str:
        """"14 Stop (99.2%)", or "unknown sign (best guess Stop, 61.0%)"."""
        if self.unknown:
            return f"{UNKNOWN_LABEL} (best guess {self.best_guess}, {self.confidence:.1%})"
        return f"{self.class_id} {self.label} ({self.confidence:.1%})"

    def to_dict(self) -> SignJSON:
        return {"box": list(self.box), "class_id": self.class_id, "label": self.label,
                "confidence": round(self.confidence, 6), "unknown": self.unknown, "top_k": self.top_k}


@dataclass
class Result:
    """One picture's answer: ``main`` is the sign the picture is about, ``signs`` every sign found.

    When nothing was found, ``signs`` is empty and ``main`` is the whole picture's reading
    (its ``box`` is then None). ``picture`` is the decoded picture the boxes were found in,
    ``scale`` its original pixels per decoded pixel, for ``plot`` and ``crop``.
    """

    file: str | None
    main: Sign
    signs: list[Sign]
    image_size: tuple[int, int]  # width, height of the original picture
    picture: Image.Image | None = field(default=None, repr=False)
    scale: tuple[float, float] = (1.0, 1.0)

    # The main sign's reading, as the top level of the JSON gives it.
    @property
    def class_id(self) -> int | None:
        return self.main.class_id

    @property
    def label(self) -> str:
        return self.main.label

    @property
    def confidence(self) -> float:
        return self.main.confidence

    @property
    def unknown(self) -> bool:
        return self.main.unknown

    @property
    def top_k(self) -> list[RankedClass]:
        return self.main.top_k

    @property
    def box(self) -> Box | None:
        """The main sign's box, or None when no sign was found."""
        return self.main.box if self.signs else None

    def to_dict(self) -> ResultJSON:
        box = {"box": list(self.box)} if self.box is not None else {}
        return {"file": self.file, "class_id": self.class_id, "label": self.label,  # type: ignore[return-value]
                "confidence": round(self.confidence, 6), "unknown": self.unknown, "top_k": self.top_k, **box,
                "signs": [sign.to_dict() for sign in self.signs]}

    def describe(self) -> str:
        """One line for a picture of one sign (or none); a header and a line per sign otherwise."""
        name = self.file or "image"
        if len(self.signs) <= 1:
            where = f" at {self.box}" if self.box else ""
            return f"{name}: {self.main.describe()}{where}"
        lines = [f"{name}: {len(self.signs)} signs, most confident first"]
        lines += [f"  {number}. {sign.describe()} at {sign.box}" for number, sign in enumerate(self.signs, 1)]
        return "\n".join(lines)

    def crop(self, box: Box | None = None) -> Image.Image:
        """The decoded picture cut to ``box`` (original pixels; default: the main sign, else all of it)."""
        picture = self._picture()
        box = box or self.box
        return picture.crop(self._to_picture(box)) if box else picture

    def plot(self) -> Image.Image:
        """The decoded picture with every sign boxed and named: green when named, orange when unknown."""
        shown = self._picture().copy()
        draw = ImageDraw.Draw(shown)
        line = max(2, min(shown.size) // 150)
        size = max(12, min(shown.size) // 30)
        for number, sign in enumerate(self.signs, 1):
            colour = UNKNOWN_COLOUR if sign.unknown else NAMED_COLOUR
            box = self._to_picture(sign.box)
            draw.rectangle(box, outline=colour, width=line)
            text = f"{number}. {sign.describe()}"
            font = _font_within(draw, text, size, shown.width)
            # above the box, moved left where it would run off the picture's right edge
            x = max(0.0, min(box[0], shown.width - draw.textlength(text, font=font)))
            y = max(0, box[1] - font.size - 2 * line)
            draw.rectangle(draw.textbbox((x, y), text, font=font), fill=colour)
            draw.text((x, y), text, fill=(0, 0, 0), font=font)
        return shown

    def _picture(self) -> Image.Image:
        if self.picture is None:
            raise ValueError("this result keeps no picture to draw on")
        return self.picture

    def _to_picture(self, box: Box) -> Box:
        """A box in original pixels, in the decoded picture's pixels."""
        sx, sy = self.scale
        return (int(box[0] / sx), int(box[1] / sy), int(round(box[2] / sx)), int(round(box[3] / sy)))


def _font_within(draw: ImageDraw.ImageDraw, text: str, size: int, width: int,
                 smallest: int = 10) -> ImageFont.FreeTypeFont:
    """The default font at ``size``, or smaller (not under ``smallest``) so that ``text`` fits ``width``."""
    font = ImageFont.load_default(size=size)
    wide = draw.textlength(text, font=font)
    if wide > width and size > smallest:
        font = ImageFont.load_default(size=max(smallest, int(size * width / wide)))
    return font
