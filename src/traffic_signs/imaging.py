"""Image decoding and preprocessing shared by training, evaluation and prediction.

One function turns any picture into the model's uint8 input, so a sign looks the same to
the model whether it came from the GTSRB archives or from a user's phone.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from traffic_signs.errors import ImageError, ImageFormatError
from traffic_signs.settings import get_settings

# A 50-megapixel photo is plenty; anything declaring more is treated as a decompression bomb.
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
BACKGROUND = (128, 128, 128)  # transparent pixels become neutral grey, not black or white
# Only these decoders ever see user bytes: others (EPS runs Ghostscript; DDS, SGI, TGA, ICO...)
# add attack surface and no sign photos.
FORMATS = ("PNG", "JPEG", "PPM", "BMP", "GIF", "TIFF", "WEBP")
# The file names those formats go by: what folder walks and upload boxes take as pictures.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".pbm", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
# Serving reduces pictures to this short side before any conversion: 4x the search's working
# side, and far more than any 32-128 px model input needs.
SERVING_SHORT_SIDE = 1024
# No picture of a sign needs more than this; a path to /dev/zero or a huge file stops here.
MAX_FILE_BYTES = 64 * 2**20
_ORIENTATION_TAG = 0x0112
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}


def serving_max_pixels() -> int:
    """The serving pixel cap: the ``max_pixels`` setting (16 MP unless set), never above the bomb limit."""
    return min(MAX_PIXELS, get_settings().max_pixels)


@dataclass(frozen=True)
class Decoded:
    """A decoded upright RGB picture and the size of the original it was reduced from."""

    image: Image.Image
    original_size: tuple[int, int]  # (width, height) upright, in the file's pixels

    @property
    def scale(self) -> tuple[float, float]:
        """Original pixels per decoded pixel, along x and y (1.0 when not reduced)."""
        return self.original_size[0] / self.image.width, self.original_size[1] / self.image.height


def open_image(source: str | Path | bytes | Image.Image, name: str | None = None) -> Image.Image:
    """Decode ``source`` into an upright RGB image at full resolution, or raise :class:`ImageError`.

    Accepts a path, raw bytes or a PIL image. Applies the EXIF orientation, takes the first
    frame of animations and flattens transparency onto neutral grey.
    """
    return decode(source, name).image


def decode(source: str | Path | bytes | Image.Image, name: str | None = None, max_pixels: int = MAX_PIXELS,
           short_side: int | None = None) -> Decoded:
    """Decode ``source`` upright and RGB, reduced to ``short_side`` when given, or raise :class:`ImageError`.

    Reduction happens while decoding (JPEG's DCT scaling) or before any mode conversion, so the
    memory a picture costs follows the pixels kept, not the pixels the file declares;
    ``max_pixels`` bounds what is decoded at all.
    """
    label = name or (str(source) if isinstance(source, (str, Path)) else "image")
    if isinstance(source, Image.Image):
        image = source
    else:
        data = source if isinstance(source, bytes) else read_image_file(Path(source), label)
        image, declared = _decode(data, label, max_pixels, short_side)
    if isinstance(source, Image.Image):
        declared = image.size
    try:
        orientation = _orientation(image)
        original = declared[::-1] if orientation in (5, 6, 7, 8) else declared
        if short_side is not None:
            image = _reduce(image, short_side)
        rgb = _to_rgb(image, orientation)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageError(f"{label}: cannot decode image ({exc})") from exc
    return Decoded(rgb, original if short_side is not None else rgb.size)


def read_image_file(path: Path, label: str, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``, or :class:`ImageError`.

    Opened without blocking and checked after opening, so a FIFO, a device or a socket (or a
    symlink to one) is refused instead of hanging the run or filling the memory.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ImageError(f"{label}: cannot read file ({exc.strerror or exc})") from exc
    with os.fdopen(fd, "rb") as file:
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise ImageError(f"{label}: not a regular file (a {_file_kind(info.st_mode)})")
            if info.st_size > max_bytes:
                raise ImageError(f"{label}: {info.st_size:,} bytes exceed the {max_bytes:,}-byte limit per file")
            data = file.read(max_bytes + 1)
        except OSError as exc:
            raise ImageError(f"{label}: cannot read file ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:
        raise ImageError(f"{label}: more than {max_bytes:,} bytes (the limit per file)")
    return data


def _file_kind(mode: int) -> str:
    kinds = {stat.S_ISDIR: "folder", stat.S_ISFIFO: "FIFO", stat.S_ISCHR: "character device",
             stat.S_ISBLK: "block device", stat.S_ISSOCK: "socket"}
    return next((name for test, name in kinds.items() if test(mode)), "special file")


def _decode(data: bytes, label: str, max_pixels: int, short_side: int | None) -> tuple[Image.Image, tuple[int, int]]:
    """The opened picture (loaded, possibly reduced by the decoder) and the size the file declares."""
    if not data:
        raise ImageFormatError(f"{label}: empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            _check_size(image, label, MAX_PIXELS)
            declared = image.size
            if short_side is not None and image.format == "JPEG":
                image.draft(None, _reduced_size(image.size, short_side))
            _check_size(image, label, max_pixels)
            image.seek(0)
            image.load()
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageFormatError(f"{label}: not an image format this tool reads ({', '.join(FORMATS)})") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{label}: image too large ({exc})") from exc
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        raise ImageError(f"{label}: cannot decode image ({exc})") from exc
    except Exception as exc:  # Pillow plugins raise a zoo of errors on hostile input
        raise ImageError(f"{label}: cannot decode image ({type(exc).__name__}: {exc})") from exc
    return image, declared


def _check_size(image: Image.Image, label: str, max_pixels: int) -> None:
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageError(f"{label}: image has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise ImageError(f"{label}: {width}x{height} is larger than the {max_pixels:,}-pixel limit")


def _reduced_size(size: tuple[int, int], short_side: int) -> tuple[int, int]:
    scale = min(1.0, short_side / min(size))
    return max(1, math.ceil(size[0] * scale)), max(1, math.ceil(size[1] * scale))


def _orientation(image: Image.Image) -> int:
    with contextlib.suppress(Exception):  # a broken EXIF block should not cost the picture
        return int(image.getexif().get(_ORIENTATION_TAG, 1))
    return 1


def _reduce(image: Image.Image, short_side: int) -> Image.Image:
    """Shrink by a whole factor (box filter) to no less than ``short_side``, in the image's own
    mode, so a large 16/32-bit or palette picture is never converted at full size."""
    factor = min(image.size) // short_side
    if factor < 2:
        return image
    if image.mode in ("P", "PA"):
        image = image.convert("RGBA")
    elif image.mode == "1":
        image = image.convert("L")
    elif image.mode.startswith("I;16"):
        image = image.convert("I")
    return image.reduce(factor)


def _to_rgb(image: Image.Image, orientation: int = 1) -> Image.Image:
    if orientation in _TRANSPOSE:
        image = image.transpose(_TRANSPOSE[orientation])
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        image = _deep_to_grey(image)
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def _deep_to_grey(image: Image.Image) -> Image.Image:
    """16/32-bit and float pictures to 8-bit grey, scaled by their peak, in float32 (not float64)."""
    array = np.array(image, dtype=np.float32)  # a writable copy
    peak = float(np.nanmax(array)) if array.size else 0.0
    scale = np.float32(255.0 / peak) if np.isfinite(peak) and peak > 255 else np.float32(1.0)
    array *= scale
    np.clip(array, 0, 255, out=array)
    return Image.fromarray(np.nan_to_num(array, copy=False).astype(np.uint8), "L")


def to_model_input(image: Image.Image, size: int) -> np.ndarray:
    """Resize a whole RGB image to ``size`` x ``size`` (antialiased) as a uint8 HWC array.

    GTSRB crops keep a ~10% border around the sign and are stretched to a square, exactly
    as the 32x32 training copies were made, so user crops get the same treatment.
    """
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def load_for_model(source: str | Path | bytes | Image.Image, size: int) -> np.ndarray:
    """Decode and preprocess in one step: the shared entry point for every caller."""
    return to_model_input(open_image(source), size)
