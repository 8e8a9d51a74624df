"""Synthetic scenes for training the sign detector: GTSRB signs cut out along their shape and
pasted into real photographs that hold no sign.

A detector learns what is *not* a sign only from seeing a lot of what is not: sky, foliage,
flowers, water, buildings, poles. The photographs come from desktop-background packages
(Debian's ``plasma-workspace-wallpapers``, ``ukui-wallpapers``, ``mate-backgrounds``; any
folder of sign-free photos can be added) and are cropped heavily, so a few dozen photos give
thousands of different backgrounds. Every GTSRB crop keeps a ~10% border around its sign;
the sign itself is cut out with its class's shape (circle, triangle, inverted triangle,
octagon, diamond), so the detector never learns GTSRB's own backgrounds as "sign".

Each scene holds zero to four signs at sizes from 6% to 95% of its side, sometimes on a pole
or stacked on one, sometimes the whole picture (a tight crop, as people upload), with the
lighting, blur and sharpness of real photos. Two ways people photograph signs that the
wallpapers never show can be asked for: at night (a dark, tinted background behind a sign
lit by flash or headlights: signs are retroreflective) and with a shallow depth of field
(the background out of focus behind a sharp sign, as in most stock photos of signs, with
sharp shapes and pieces of other photos in front of it too, so that focus alone does not
make a sign).
Boxes are (x0, y0, x1, y1) in scene pixels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from traffic_signs.settings import get_settings, variable_name

# Debian desktop-background packages with real photographs (installed by scripts/install_backgrounds.sh).
BACKGROUND_FOLDERS = ("/usr/share/wallpapers", "/usr/share/backgrounds")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")
MIN_PHOTO_SIDE = 600  # thumbnails and icons are not photographs

TRIANGLE_UP = (11, *range(18, 32))  # warning signs
SHAPES = {13: "triangle_down", 14: "octagon", 12: "diamond", **{c: "triangle_up" for c in TRIANGLE_UP}}
SIGN_INSET = 3 / 32  # GTSRB crops keep about this much border around the sign on each side


def sign_shape(class_id: int) -> str:
    """The outline of a GTSRB class: circle unless it is a warning, yield, stop or priority sign."""
    return SHAPES.get(int(class_id), "circle")


def shape_mask(shape: str, side: int, supersample: int = 4) -> np.ndarray:
    """A float32 side x side mask of ``shape`` inscribed in the square, antialiased."""
    big = side * supersample
    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    e = big - 1
    if shape == "circle":
        draw.ellipse((0, 0, e, e), fill=255)
    elif shape == "triangle_up":
        draw.polygon([(big / 2, 0), (e, e * 0.9), (0, e * 0.9)], fill=255)
    elif shape == "triangle_down":
        draw.polygon([(0, e * 0.1), (e, e * 0.1), (big / 2, e)], fill=255)
    elif shape == "diamond":
        draw.polygon([(big / 2, 0), (e, big / 2), (big / 2, e), (0, big / 2)], fill=255)
    elif shape == "octagon":
        a = e * 0.2929
        draw.polygon([(a, 0), (e - a, 0), (e, a), (e, e - a), (e - a, e), (a, e), (0, e - a), (0, a)], fill=255)
    else:
        raise ValueError(f"unknown shape {shape!r}")
    return np.asarray(canvas.resize((side, side), Image.Resampling.BOX), dtype=np.float32) / 255.0


def shape_extent(shape: str) -> tuple[float, float, float, float]:
    """The shape's box as fractions of its square (triangles do not fill the full height)."""
    return {"triangle_up": (0.0, 0.0, 1.0, 0.9), "triangle_down": (0.0, 0.1, 1.0, 1.0)}.get(shape, (0, 0, 1, 1))


def find_background_photos(folders: Iterable[str | Path] = BACKGROUND_FOLDERS) -> list[Path]:
    """Photographs in ``folders`` (recursively), one per wallpaper (its largest file), no previews."""
    best: dict[Path, Path] = {}
    for folder in map(Path, folders):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in PHOTO_SUFFIXES or "screenshot" in path.name or "_dark" in str(path):
                continue
            key = path.parent.parent if path.parent.name == "images" else path
            if key not in best or path.stat().st_size > best[key].stat().st_size:
                best[key] = path
    return sorted(best.values())


def load_photos(paths: Iterable[Path], long_side: int = 1024) -> list[np.ndarray]:
    """Decode each photo once, reduced to ``long_side`` (JPEG draft mode keeps this fast)."""
    photos = []
    for path in paths:
        with Image.open(path) as image:
            image.draft("RGB", (long_side, long_side))
            image = image.convert("RGB")
            if min(image.size) < MIN_PHOTO_SIDE // 2:
                continue
            image.thumbnail((long_side, long_side), Image.Resampling.BILINEAR)
            photos.append(np.asarray(image))
    return photos


def random_background(photos: list[np.ndarray], side: int, rng: np.random.Generator,
                      zoom: tuple[float, float] = (0.12, 1.0), clutter: float = 0.35) -> np.ndarray:
    """A side x side piece of a random photograph, ``zoom`` of its short side, maybe mirrored and
    cluttered with man-made shapes that are not signs (uint8 side x side x 3)."""
    photo = photos[rng.integers(len(photos))]
    h, w = photo.shape[:2]
    crop = max(2, int(min(h, w) * rng.uniform(*zoom)))
    y, x = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
    image = Image.fromarray(photo[y : y + crop, x : x + crop]).resize((side, side), Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if rng.random() < clutter:
        draw_clutter(image, rng)
    return np.asarray(image)


def draw_clutter(image: Image.Image, rng: np.random.Generator) -> None:
    """Man-made shapes that are not signs: poles, plates, windows, stripes, blobs of colour."""
    side = image.size[0]
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 6))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = rng.integers(4)
        x, y = (int(v) for v in rng.integers(0, side, 2))
        size = int(side * rng.uniform(0.05, 0.5))
        if kind == 0:  # pole
            draw.rectangle((x, 0, x + max(2, size // 8), side), fill=colour)
        elif kind == 1:  # plate, window, facade
            draw.rectangle((x, y, x + size, y + int(size * rng.uniform(0.3, 1.5))), fill=colour)
        elif kind == 2:  # round blob (a lamp, a ball, a wheel): circles alone do not make a sign
            draw.ellipse((x, y, x + size, y + size), fill=colour)
        else:  # stripes
            for k in range(int(rng.integers(2, 6))):
                draw.line((x, y + k * size // 4, x + size, y + k * size // 4), fill=colour, width=3)


@dataclass
class Scene:
    image: np.ndarray  # uint8 side x side x 3
    boxes: np.ndarray  # float32 K x 4 (x0, y0, x1, y1) in pixels


class SceneMaker:
    """Seeded generator of detector training scenes (see the module docstring)."""

    def __init__(self, photos: list[np.ndarray], signs: np.ndarray, labels: np.ndarray, side: int = 192,
                 seed: int = 0, drawings: np.ndarray | None = None, drawn_share: float = 0.0,
                 night_share: float = 0.0, defocus_share: float = 0.0):
        if not photos:
            raise ValueError("no background photographs: install scripts/install_backgrounds.sh or pass a folder")
        self.photos, self.signs, self.labels, self.side = photos, signs, labels, side
        self.rng = np.random.default_rng(seed)
        self.masks: dict[tuple[str, int], np.ndarray] = {}
        # Drawn signs (RGBA, data.drawn_signs): sharp at any size, and designs GTSRB never shows.
        self.drawings, self.drawn_share = drawings, drawn_share if drawings is not None and len(drawings) else 0.0
        self.night_share, self.defocus_share = night_share, defocus_share

    def background(self) -> Image.Image:
        """A heavily cropped, flipped, re-lit piece of a random photograph, for a ``defocus_share``
        of the scenes out of focus and for a ``night_share`` of them at night. A share of 0 draws
        no random number, so scenes made without these stay the same."""
        image = Image.fromarray(random_background(self.photos, self.side, self.rng))
        if self.defocus_share and self.rng.random() < self.defocus_share:
            image = self.in_focus_clutter(image.filter(ImageFilter.GaussianBlur(float(self.rng.uniform(2, 8)))))
        if self.night_share and self.rng.random() < self.night_share:
            image = at_night(image, self.rng)
        return image

    def in_focus_clutter(self, image: Image.Image) -> Image.Image:
        """Sharp things that are not signs in front of a background out of focus: shapes and
        pieces of other photographs, so that being in focus alone does not make a sign."""
        rng = self.rng
        draw_clutter(image, rng)
        for _ in range(int(rng.integers(0, 3))):
            side = int(self.side * rng.uniform(0.1, 0.45))
            piece = random_background(self.photos, side, rng, clutter=0.0)
            image.paste(Image.fromarray(piece), tuple(int(v) for v in rng.integers(0, self.side - side + 1, 2)))
        return image

    def _mask(self, shape: str, side: int) -> np.ndarray:
        key = (shape, side)
        if key not in self.masks:
            self.masks[key] = shape_mask(shape, side)
        return self.masks[key]

    def paste_sign(self, canvas: np.ndarray, index: int, box_side: int, x: int, y: int) -> tuple[float, ...]:
        """Paste GTSRB sign ``index`` cut out along its shape, the shape's square at (x, y)."""
        shape = sign_shape(self.labels[index])
        crop = Image.fromarray(self.signs[index])
        inner = crop.resize((box_side, box_side), Image.Resampling.BILINEAR,
                            box=(32 * SIGN_INSET, 32 * SIGN_INSET, 32 * (1 - SIGN_INSET), 32 * (1 - SIGN_INSET)))
        sign = np.asarray(inner, dtype=np.float32)
        if self.rng.random() < 0.8:  # many GTSRB crops are dark and dull; people photograph signs in daylight
            low, high = np.percentile(sign, (2, 98))
            sign = (sign - low) * (255.0 / max(high - low, 16.0))
        light = self.rng.uniform(0.7, 1.3)
        sign = np.clip((sign - 128) * self.rng.uniform(0.8, 1.2) + 128 * light, 0, 255)
        mask = self._mask(shape, box_side)[..., None]
        region = canvas[y : y + box_side, x : x + box_side]
        region[:] = region * (1 - mask) + sign * mask
        x0, y0, x1, y1 = shape_extent(shape)
        return (x + x0 * box_side, y + y0 * box_side, x + x1 * box_side, y + y1 * box_side)

    def paste_drawing(self, canvas: np.ndarray, box_side: int, x: int, y: int) -> tuple[float, ...]:
        """Paste a random drawn sign (its alpha is its outline), the drawing's square at (x, y)."""
        drawing = Image.fromarray(self.drawings[self.rng.integers(len(self.drawings))], "RGBA")
        drawing = np.asarray(drawing.resize((box_side, box_side), Image.Resampling.BILINEAR, reducing_gap=2.0),
                             dtype=np.float32)
        sign, mask = drawing[..., :3] * self.rng.uniform(0.6, 1.1), drawing[..., 3:] / 255.0
        region = canvas[y : y + box_side, x : x + box_side]
        region[:] = region * (1 - mask) + sign * mask
        return (x, y, x + box_side, y + box_side)

    def _paste_any(self, canvas: np.ndarray, box_side: int, x: int, y: int) -> tuple[float, ...]:
        """A GTSRB sign, or (a ``drawn_share`` of the time) a drawn one."""
        if self.drawn_share and self.rng.random() < self.drawn_share:
            return self.paste_drawing(canvas, box_side, x, y)
        return self.paste_sign(canvas, int(self.rng.integers(len(self.signs))), box_side, x, y)

    def make(self) -> Scene:
        """One scene: background, then zero to four signs, then the camera's degradations."""
        rng, side = self.rng, self.side
        canvas = np.asarray(self.background(), dtype=np.float32).copy()
        boxes = []
        kind = rng.random()
        if kind < 0.2:  # a tight crop: one sign fills most of the picture
            box_side = int(side * rng.uniform(0.6, 0.95))
            x, y = (int(v) for v in rng.integers(0, side - box_side + 1, 2))
            boxes.append(self._paste_any(canvas, box_side, x, y))
        elif kind < 0.9:
            count = int(rng.choice([1, 1, 1, 2, 2, 3, 4]))
            for _ in range(count):
                box_side = int(side * np.exp(rng.uniform(np.log(0.06), np.log(0.5))))
                stack = 2 if rng.random() < 0.2 else 1  # signs stacked on one pole
                x = int(rng.integers(0, side - box_side + 1))
                y = int(rng.integers(0, max(1, side - stack * box_side) + 1))
                if rng.random() < 0.4:
                    pole = max(1, box_side // 10)
                    grey = float(rng.uniform(60, 200))
                    left = x + box_side // 2 - pole // 2
                    canvas[y + box_side // 2 :, left : left + pole] = grey
                if any(_overlap((x, y, x + box_side, y + stack * box_side), b) > 0.2 for b in boxes):
                    continue
                for k in range(stack):
                    top = y + k * box_side
                    if top + box_side > side:
                        break
                    boxes.append(self._paste_any(canvas, box_side, x, top))
        image = self._camera(Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8)))
        return Scene(np.asarray(image), np.asarray(boxes, dtype=np.float32).reshape(-1, 4))

    def _camera(self, image: Image.Image) -> Image.Image:
        """Blur, loss of resolution and noise applied to the whole scene, sign and background alike."""
        rng = self.rng
        if rng.random() < 0.3:
            image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.5))))
        if rng.random() < 0.3:
            small = int(self.side * rng.uniform(0.3, 0.8))
            image = image.resize((small, small), Image.Resampling.BILINEAR).resize((self.side, self.side),
                                                                                  Image.Resampling.BILINEAR)
        pixels = np.asarray(image, dtype=np.float32)
        if rng.random() < 0.3:
            pixels = pixels + rng.normal(0, rng.uniform(2, 10), pixels.shape)
        pixels = (pixels - 128) * rng.uniform(0.7, 1.2) + 128 * rng.uniform(0.6, 1.3)
        return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def at_night(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """``image`` as a night or dusk photo: 5-35% of its light, tinted (sodium lamps, blue hour)."""
    tint = rng.uniform(0.6, 1.1, 3) * rng.uniform(0.05, 0.35)
    return Image.fromarray(np.clip(np.asarray(image, np.float32) * tint, 0, 255).astype(np.uint8))


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Share of the smaller box covered by the other."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller if smaller > 0 else 0.0


def make_scenes(maker: SceneMaker, count: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """``count`` scenes as one uint8 N x S x S x 3 array and a list of box arrays."""
    images = np.empty((count, maker.side, maker.side, 3), dtype=np.uint8)
    boxes = []
    for i in range(count):
        scene = maker.make()
        images[i] = scene.image
        boxes.append(scene.boxes)
    return images, boxes


def extra_background_folders() -> list[str]:
    """Folders named in the ``backgrounds`` setting, if any."""
    return [str(folder) for folder in get_settings().backgrounds]


def background_photos(folders: Iterable[str] = ()) -> list[np.ndarray]:
    """The sign-free photographs training draws backgrounds from: the desktop-background packages,
    the ``backgrounds`` setting and ``folders``, each decoded once."""
    photos = load_photos(find_background_photos([*BACKGROUND_FOLDERS, *extra_background_folders(), *folders]))
    if not photos:
        raise ValueError("no background photographs: run scripts/install_backgrounds.sh, or name a folder of "
                         f"sign-free photos in ${variable_name('backgrounds')}")
    return photos
