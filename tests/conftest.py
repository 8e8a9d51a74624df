"""Shared fixtures: the real GTSRB copy in ../shared, its decoded arrays, and small synthetic datasets."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from traffic_signs.settings import get_settings, variable_name

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data" / "gtsrb32"


def _gtsrb_dir() -> Path | None:
    for candidate in (get_settings().data_dir, SHARED_DATA):
        if candidate and (Path(candidate) / "GTSRB_Final_Training_Images.zip").is_file():
            return Path(candidate)
    return None


def pytest_terminal_summary(terminalreporter) -> None:
    """One line near the end that says whether any test was skipped (the short test summary lists each, with why)."""
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped:
        message = f"{len(skipped)} test(s) SKIPPED (the short test summary says why): not everything ran"
        terminalreporter.write_line(message, yellow=True, bold=True)
    else:
        terminalreporter.write_line("nothing skipped: every selected test ran", green=True)


@pytest.fixture(scope="session")
def gtsrb_dir() -> Path:
    """The real GTSRB archives (32x32 copy); tests that need them skip where absent."""
    path = _gtsrb_dir()
    if path is None:
        pytest.skip(f"real GTSRB data not found: set ${variable_name('data_dir')} or provide ../shared/data/gtsrb32")
    return path


@pytest.fixture(scope="session")
def decoded_cache_dir(tmp_path_factory) -> Path:
    """Decoded-array cache shared by the session (the CI cache when set, else a temp dir)."""
    return get_settings().cache_dir or tmp_path_factory.mktemp("decoded")


@pytest.fixture(scope="session")
def train_set(gtsrb_dir, decoded_cache_dir):
    from traffic_signs.data.cache import load_split

    return load_split("train", gtsrb_dir, 32, decoded_cache_dir)


@pytest.fixture(scope="session")
def test_set(gtsrb_dir, decoded_cache_dir):
    from traffic_signs.data.cache import load_split

    return load_split("test", gtsrb_dir, 32, decoded_cache_dir)


class SyntheticImages:
    """Small GTSRB-shaped datasets of seeded random pictures, for the readers' and writers' tests."""

    ODD_SIZES = [(17, 23), (250, 190), (32, 32), (41, 15)]

    @staticmethod
    def image_bytes(size: tuple[int, int], fmt: str, seed: int) -> bytes:
        pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, fmt)
        return buffer.getvalue()

    def official_zip(self, path: Path, classes=(0, 5), tracks=2, frames=3, bad_row: str | None = None) -> None:
        """The official training archive's layout (a folder and a GT CSV per class), images of odd sizes."""
        with zipfile.ZipFile(path, "w") as archive:
            for c in classes:
                folder = f"GTSRB/Final_Training/Images/{c:05d}"
                rows = ["Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId"]
                for t in range(tracks):
                    for f in range(frames):
                        name = f"{t:05d}_{f:05d}.ppm"
                        size = self.ODD_SIZES[(t + f) % len(self.ODD_SIZES)]
                        archive.writestr(f"{folder}/{name}", self.image_bytes(size, "PPM", c * 100 + t * 10 + f))
                        rows.append(f"{name};{size[0]};{size[1]};1;1;5;5;{c}")
                if bad_row and c == classes[-1]:
                    rows.append(bad_row)
                archive.writestr(f"{folder}/GT-{c:05d}.csv", "\r\n".join(rows) + "\r\n")


@pytest.fixture(scope="session")
def synthetic() -> SyntheticImages:
    return SyntheticImages()
