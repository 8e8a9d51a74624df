"""Ship an exported model: install it as the package's model and write its card from fresh measurements.

The card describes the model last shipped; the one the product loads by default is
``prediction.crops.DEFAULT_MODEL``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from traffic_signs.errors import TrafficSignsError
from traffic_signs.evaluation.evaluate import evaluate_model
from traffic_signs.evaluation.robustness import markdown, robustness_on_test_set
from traffic_signs.models.model_file import read_model_file, write_model_file
from traffic_signs.models.resolve import shipped_dir
from traffic_signs.prediction.crops import CropClassifier
from traffic_signs.release.model_card import build_model_card


def ship(json_path: Path, name: str, command: str, data_dir: str | None, cache_dir: str | None,
         real_photos_cv: Path | None = None) -> Path:
    """Copy the exported model into the package and write its model card from fresh evaluations (and
    the real-photo cross-validation of this model, when given: it needs the photo folder and the
    repository's benchmark, which the package does not carry)."""
    model_file = read_model_file(json_path)
    cv = _one_design_cv(real_photos_cv) if real_photos_cv else None
    target = shipped_dir()
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(json_path.with_name(model_file.weights), target / f"{name}.safetensors")
    shutil.copyfile(json_path.with_name(model_file.onnx), target / f"{name}.onnx")
    cams = f"{name}.cams.onnx" if model_file.onnx_cams else None
    if cams:
        shutil.copyfile(json_path.with_name(model_file.onnx_cams), target / cams)
    evaluations = json_path.parent / f"ship-{name}"
    test = evaluate_model(json_path, "test", evaluations / "test", data_dir, cache_dir)
    val = evaluate_model(json_path, "val", evaluations / "val", data_dir, cache_dir)
    model_file = replace(
        model_file, name=name, weights=f"{name}.safetensors", onnx=f"{name}.onnx", onnx_cams=cams,
        training_command=command,
        checkpoint=json_path.stem if json_path.stem in ("best", "last") else model_file.checkpoint,  # for the card
        metrics={**model_file.metrics, "test_accuracy": test["accuracy"], "test_macro_f1": test["macro_f1"],
                 "test_ece": test["ece"], "test_ece_calibrated": test.get("calibrated", {}).get("ece"),
                 "test_images": test["n"]})
    write_model_file(target / f"{name}.json", model_file)
    for figure in ("confusion_matrix.png", "reliability.png", "risk_coverage.png"):
        shutil.copyfile(evaluations / "test" / figure, target / figure)
    card = build_model_card(name, model_file, test, val, command, _robustness_table(json_path, data_dir, cache_dir),
                            real_photos_cv=cv)
    card_path = target / "MODEL_CARD.md"
    card_path.write_text(card)
    return card_path


def _robustness_table(json_path: Path, data_dir: str | None, cache_dir: str | None) -> str:
    """The corruption table of the exported model on a seeded 2,000-image test subset."""
    classifier = CropClassifier(json_path)
    table, images = robustness_on_test_set(classifier.probabilities, classifier.input_size, 2000, data_dir, cache_dir)
    return markdown(table, images) + "\nReproduce: `traffic-signs robustness --limit 2000`.\n"


def _one_design_cv(path: Path) -> dict:
    """The cross-validation JSON, checked to score one design (a per-fold choice between several
    would not be this model's figure)."""
    cv = json.loads(path.read_text())
    if len(cv.get("designs", [])) != 1:
        raise TrafficSignsError(f"{path}: scores {len(cv.get('designs', []))} designs; the card needs one model's")
    return cv
