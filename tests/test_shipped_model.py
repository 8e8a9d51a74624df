"""The model shipped inside the package still scores what its model card says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import traffic_signs
from traffic_signs.benchmarking import real_photo_folder
from traffic_signs.models.inference import torch_logits
from traffic_signs.models.io import load_model
from traffic_signs.prediction.crops import DEFAULT_MODEL
from traffic_signs.release.model_card import REAL_PHOTO_FIGURES

SHIPPED = Path(traffic_signs.__file__).parent / "shipped"
TOLERANCE_POINTS = 0.05


def _card_accuracy() -> float:
    card = (SHIPPED / "MODEL_CARD.md").read_text()
    match = re.search(r"\| official test accuracy \| ([0-9.]+)% \|", card)
    assert match, "MODEL_CARD.md has no official test accuracy row"
    return float(match.group(1))


def test_shipped_files_are_complete_and_small():
    meta = json.loads((SHIPPED / f"{DEFAULT_MODEL}.json").read_text())
    weights = SHIPPED / meta["weights"]
    assert weights.stat().st_size <= 5 * 1024 * 1024, "shipped weights must stay under 5 MB"
    assert (SHIPPED / f"{DEFAULT_MODEL}.onnx").is_file()
    assert 0 < meta["temperature"] < 20 and 0 < meta["threshold"] < 1
    assert meta["metrics"]["test_accuracy"] * 100 == pytest.approx(_card_accuracy(), abs=0.005)


def test_shipped_model_reaches_its_card_accuracy_on_the_official_test_set(test_set):
    model, model_file = load_model(SHIPPED / f"{DEFAULT_MODEL}.json")
    accuracy = float((torch_logits(model, test_set.images).argmax(1) == test_set.labels).mean())
    assert len(test_set) == 12630
    assert 100 * accuracy >= _card_accuracy() - TOLERANCE_POINTS
    assert np.isclose(accuracy, model_file.metrics["test_accuracy"], atol=5e-4)


def test_shipped_model_scores_its_card_real_photo_figures_cross_validated(tmp_path):
    """The card's real-photo table, measured again: the same folds of source projects, the same
    choice of threshold on the other folds, the shipped model and detector, every photo decoded."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    photos = real_photo_folder()
    if not (photos / "labels.csv").is_file():
        pytest.skip(f"real photos not found at {photos}")
    out = tmp_path / "cv.json"
    subprocess.run([sys.executable, str(root / "benchmarks" / "real_photos.py"), "--cross-validate", "--photos",
                    str(photos), "--out", str(out)], check=True, capture_output=True, timeout=900)
    measured = json.loads(out.read_text())["cross_validated"]
    card = (SHIPPED / "MODEL_CARD.md").read_text()
    rows = re.findall(r"\| [^|]+ \| [0-9.]+% \([0-9.-]+%\), (\d+) of (\d+) \| [0-9.]+% \|", card)
    assert len(rows) == len(REAL_PHOTO_FIGURES), "MODEL_CARD.md has no real-photo table"
    assert [(measured[key]["count"], measured[key]["of"]) for key, _ in REAL_PHOTO_FIGURES] == \
        [(int(c), int(n)) for c, n in rows]
