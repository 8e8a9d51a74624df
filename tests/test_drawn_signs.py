"""Signs drawn from their designs: the drawings a shipped recipe trains on stay byte for byte the
same, every GTSRB class has a design, and German signs without a class are drawn as outliers."""

from __future__ import annotations

import hashlib

import numpy as np
import PIL

from traffic_signs.data.drawn_signs import (
    CLASS_DESIGNS,
    OUTLIER_DESIGNS,
    draw_class,
    draw_lookalikes,
    draw_sign,
    draw_signs,
    draw_zone_blanks,
)

# SHA-256 (first 16 hex digits) of the drawings the existing options make, measured with
# Pillow 13.0.0 (requirements.lock; its bundled font draws the digits): the recipes of shipped
# models must regenerate, so a new design may never move a byte of these.
RECORDED = {
    "outliers": "497810ec5dcf1817",
    "speed": "f462baabfcc0d163",
    "all": "725a830b84fea7ff",
    "lookalikes": "71169eb2c2d78279",
    "zone": "8141e65fd961558e",
    "ended_zone": "0b6ce0aa25a1c256",
    "classes": "ef13c5a9dfcf9b4b",
    "outlier_designs": "94bfa40674fb2f2e",
}


def _digest(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def test_the_drawings_of_existing_options_are_byte_identical():
    made = {
        "outliers": _digest(*draw_signs(60, 64, 7, outliers=True)),
        "speed": _digest(*draw_signs(60, 64, 8, outliers=False)),
        "all": _digest(*draw_signs(60, 64, 9, outliers=False, every_design=True)),
        "lookalikes": _digest(draw_lookalikes(12, 64, 10)),
        "zone": _digest(draw_zone_blanks(6, 64, 11, ended=False)),
        "ended_zone": _digest(draw_zone_blanks(6, 64, 12, ended=True)),
        "classes": _digest(*[draw_class(c, 48, np.random.default_rng(c)) for c in CLASS_DESIGNS]),
        "outlier_designs": _digest(*[draw_sign(d, 48, np.random.default_rng(5)) for d in OUTLIER_DESIGNS]),
    }
    changed = [key for key, value in made.items() if value != RECORDED[key]]
    assert not changed, f"drawings changed: {changed} (recorded with Pillow 13.0.0, this is {PIL.__version__})"
