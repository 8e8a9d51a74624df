"""The ONNX export answers exactly like the torch model it came from."""

from __future__ import annotations

import numpy as np

from traffic_signs import Classifier
from traffic_signs.models.inference import torch_logits
from traffic_signs.models.io import load_model
from traffic_signs.models.resolve import shipped_dir
from traffic_signs.prediction.crops import DEFAULT_MODEL


def test_shipped_onnx_matches_torch_on_the_whole_official_test_set(test_set):
    model, _ = load_model(shipped_dir() / f"{DEFAULT_MODEL}.json")
    reference = torch_logits(model, test_set.images)
    onnx = Classifier.load().model.logits(test_set.images)
    assert onnx.shape == reference.shape == (12630, 43)
    assert np.array_equal(onnx.argmax(1), reference.argmax(1))
    assert np.abs(onnx - reference).max() < 1e-3


def test_export_of_a_fresh_run_loads_and_agrees(tmp_path, gtsrb_dir, decoded_cache_dir, train_set, capsys):
    from traffic_signs.cli import main

    run = tmp_path / "run"
    args = ["--data-dir", str(gtsrb_dir), "--cache-dir", str(decoded_cache_dir)]
    assert main(["train", "--model", "lenet5", "--epochs", "1", "--limit-train", "3000", "--batch-size", "64",
                 "--out", str(run), "--no-progress", *args]) == 0
    assert main(["export", str(run), *args]) == 0
    classifier = Classifier.load(run)
    assert 0 < classifier.temperature < 20 and 0 <= classifier.threshold <= 1
    model, _ = load_model(run / "best.json")
    images = train_set.images[:500]
    assert np.abs(classifier.model.logits(images) - torch_logits(model, images)).max() < 1e-3

    validation = classifier.threshold
    raised = round(validation + (1 - validation) / 2, 6)
    assert main(["export", str(run), "--threshold", str(raised), "--threshold-chosen-on", "photos", *args]) == 0
    _, model_file = load_model(run / "best.json")
    assert model_file.threshold == raised and Classifier.load(run).threshold == raised
    assert model_file.calibration.validation_threshold == validation
    assert model_file.calibration.threshold_chosen_on == "photos"
    assert main(["export", str(run), "--threshold", str(validation / 2), *args]) != 0
    assert "must lie in" in capsys.readouterr().err
    assert load_model(run / "best.json")[1].threshold == raised, "a refused threshold leaves the model file as it was"
