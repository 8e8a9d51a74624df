"""Shared fixtures: the real GTSRB copy in ../shared, and its decoded arrays."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data" / "gtsrb32"


def _gtsrb_dir() -> Path | None:
    for candidate in (os.environ.get("TRAFFIC_SIGNS_DATA"), SHARED_DATA):
        if candidate and (Path(candidate) / "GTSRB_Final_Training_Images.zip").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def gtsrb_dir() -> Path:
    """The real GTSRB archives (32x32 copy); tests that need them skip where absent."""
    path = _gtsrb_dir()
    if path is None:
        pytest.skip("real GTSRB data not found: set TRAFFIC_SIGNS_DATA or provide ../shared/data/gtsrb32")
    return path


@pytest.fixture(scope="session")
def decoded_cache_dir(tmp_path_factory) -> Path:
    """Decoded-array cache shared by the session (the CI cache when set, else a temp dir)."""
    env = os.environ.get("TRAFFIC_SIGNS_CACHE")
    return Path(env) if env else tmp_path_factory.mktemp("decoded")


@pytest.fixture(scope="session")
def train_set(gtsrb_dir, decoded_cache_dir):
    from traffic_signs.data.cache import load_split

    return load_split("train", gtsrb_dir, 32, decoded_cache_dir)


@pytest.fixture(scope="session")
def test_set(gtsrb_dir, decoded_cache_dir):
    from traffic_signs.data.cache import load_split

    return load_split("test", gtsrb_dir, 32, decoded_cache_dir)
