"""The shipped detector still scores what its card says, on scenes made from official test signs."""

from __future__ import annotations

import json

import pytest

from traffic_signs.data.scenes import find_background_photos
from traffic_signs.models.resolve import shipped_dir
from traffic_signs.release.detector import score_on_test_scenes

SCENES = 150  # of the card's 500: enough to catch a detector that no longer finds signs


@pytest.mark.skipif(not find_background_photos(), reason="no background photographs "
                    "(scripts/install_backgrounds.sh installs them; make test does)")
def test_shipped_detector_matches_its_card(gtsrb_dir, decoded_cache_dir):
    card = json.loads((shipped_dir() / "signfinder.json").read_text())["test_scenes"]
    scores = score_on_test_scenes(shipped_dir() / "signfinder.json", SCENES, data_dir=gtsrb_dir,
                                  cache_dir=decoded_cache_dir)
    assert scores["recall_iou_0.5"] >= card["recall_iou_0.5"] - 0.04, scores
    assert scores["precision_iou_0.5"] >= card["precision_iou_0.5"] - 0.06, scores
    assert scores["mean_best_iou"] >= card["mean_best_iou"] - 0.04, scores
