"""Corruptions are shape-preserving, seeded and graded; the report runs on the real model."""

from __future__ import annotations

import numpy as np
import pytest

from traffic_signs.cli import main
from traffic_signs.evaluation.robustness import CORRUPTIONS, SEVERITIES


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corruption_is_seeded_and_grows_with_severity(name, test_set):
    images = test_set.images[:64]
    distances = []
    for severity in range(1, SEVERITIES + 1):
        out = CORRUPTIONS[name](images, severity, np.random.default_rng(severity))
        again = CORRUPTIONS[name](images, severity, np.random.default_rng(severity))
        assert out.shape == images.shape and out.dtype == np.uint8
        assert np.array_equal(out, again)
        distances.append(np.abs(out.astype(int) - images).mean())
    assert distances[-1] > distances[0] > 0


def test_report_on_the_shipped_model(tmp_path, gtsrb_dir, decoded_cache_dir, capsys):
    out = tmp_path / "rob"
    assert main(["robustness", "--limit", "300", "--out", str(out), "--data-dir", str(gtsrb_dir),
                 "--cache-dir", str(decoded_cache_dir)]) == 0
    text = (out / "robustness.md").read_text()
    assert all(f"| {name} |" in text for name in CORRUPTIONS)
    assert (out / "robustness.png").stat().st_size > 0 and (out / "robustness.json").is_file()
