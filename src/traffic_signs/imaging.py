"""Image decoding and preprocessing shared by training, evaluation and prediction.

One function turns any picture into the model's uint8 input, so a sign looks the same to
the model whether it came from the GTSRB archives or from a user's phone.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from traffic_signs.errors import ImageError, ImageFormatError

# A 50-megapixel photo is plenty; anything declaring more is treated as a decompression bomb.
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
BACKGROUND = (128, 128, 128)  # transparent pixels become neutral grey, not black or white


def open_image(source: str | Path | bytes | Image.Image, name: str | None = None) -> Image.Image:
    """Decode ``source`` into an upright RGB image, or raise :class:`ImageError`.

    Accepts a path, raw bytes or a PIL image. Applies the EXIF orientation, takes the first
    frame of animations and flattens transparency onto neutral grey.
    """
    label = name or (str(source) if isinstance(source, (str, Path)) else "image")
    if isinstance(source, Image.Image):
        image = source
    else:
        try:
            data = source if isinstance(source, bytes) else Path(source).read_bytes()
        except OSError as exc:
            raise ImageError(f"{label}: cannot read file ({exc.strerror or exc})") from exc
        image = _decode(data, label)
    try:
        return _to_rgb(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageError(f"{label}: cannot decode image ({exc})") from exc


def _decode(data: bytes, label: str) -> Image.Image:
    if not data:
        raise ImageFormatError(f"{label}: empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width < 1 or height < 1:
                raise ImageError(f"{label}: image has no pixels ({width}x{height})")
            if width * height > MAX_PIXELS:
                raise ImageError(
                    f"{label}: {width}x{height} is larger than the {MAX_PIXELS:,}-pixel limit"
                )
            image.seek(0)
            image.load()
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageFormatError(f"{label}: not an image format this tool reads") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{label}: image too large ({exc})") from exc
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        raise ImageError(f"{label}: cannot decode image ({exc})") from exc
    except Exception as exc:  # Pillow plugins raise a zoo of errors on hostile input
        raise ImageError(f"{label}: cannot decode image ({type(exc).__name__}: {exc})") from exc
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
    with contextlib.suppress(Exception):  # a broken EXIF block should not cost the picture
        image = ImageOps.exif_transpose(image) or image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        peak = array.max() if array.size and array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array / peak * 255.0, 0, 255).astype(np.uint8), "L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


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
