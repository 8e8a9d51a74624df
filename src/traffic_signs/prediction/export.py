"""Export a trained run to ONNX, calibrated, ready for the torch-free runtime.

  traffic-signs export runs/signnet                       # writes runs/signnet/best.onnx, updates best.json
  traffic-signs export runs/signnet-stn-x3 --ship signnet-stn-x3  # also installs it as the shipped model

Export fits the temperature and chooses the "unknown sign" threshold on the run's own
validation tracks (never on test), writes the ONNX graph (dynamic batch, input N x 3 x S x S
floats in [0, 1], output logits, plus Grad-CAM maps where the model has them), and records
both calibration values and the ONNX file's SHA-256 in the model JSON. ``--ship`` also
evaluates the official test set and writes the package's MODEL_CARD.md from the measured files
(the card describes the model last shipped; the one the product loads by default is
``prediction.classifier.DEFAULT_MODEL``).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("model", help="run folder, model .json, or registered model name")
    parser.add_argument("--ship", metavar="NAME", default=None,
                        help="install as the package's shipped model NAME (and write its model card)")
    parser.add_argument("--command", default=None,
                        help="the training command, quoted, for the model card (default: from the run)")
    parser.add_argument("--int8", action="store_true",
                        help="also write an 8-bit integer copy (<stem>.int8.onnx) for throughput")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--cache-dir", default=None)


def run(args: argparse.Namespace) -> int:
    from traffic_signs.models.resolve import resolve_model_path
    from traffic_signs.training.recipe import training_command

    json_path = resolve_model_path(args.model)
    meta = export(json_path, args.data_dir, args.cache_dir, int8=args.int8)
    print(json.dumps({"model": str(json_path), "onnx": meta["onnx"], "onnx_int8": meta.get("onnx_int8"),
                      "temperature": meta["temperature"], "threshold": meta["threshold"]}))
    if args.ship:
        command = args.command or training_command(meta, f"runs/{args.ship}")
        card = ship(json_path, args.ship, command, args.data_dir, args.cache_dir)
        print(f"shipped as {card.parent / args.ship}.json with {card}")
    return 0


def export_onnx(model, path: Path, input_size: int) -> None:
    """Write the ONNX graph with a dynamic batch dimension (TorchScript exporter, opset 17).

    Models that compute Grad-CAM in their forward pass (``class_activation_maps``) get a
    second output, ``cams`` (N x classes x h x w), so the torch-free runtime can draw it.
    """
    import torch

    from traffic_signs.files import staged
    from traffic_signs.models.layers import WithCams

    dummy = torch.rand(2, 3, input_size, input_size)
    model = model.eval().to(memory_format=torch.contiguous_format)
    outputs = ["logits"]
    if hasattr(model, "class_activation_maps"):
        model, outputs = WithCams(model).eval(), ["logits", "cams"]
    with staged(path) as tmp:
        torch.onnx.export(model, (dummy,), str(tmp), input_names=["images"], output_names=outputs,
                          dynamic_axes={"images": {0: "batch"}, **{name: {0: "batch"} for name in outputs}},
                          opset_version=17, dynamo=False)


def export(json_path: Path, data_dir: str | None = None, cache_dir: str | None = None,
           int8: bool = False) -> dict[str, Any]:
    """Calibrate on validation, write ``<stem>.onnx`` (and ``<stem>.int8.onnx``), record them in ``<stem>.json``."""
    from traffic_signs.data.cache import load_split
    from traffic_signs.data.split import split_training_data, validation_subset
    from traffic_signs.evaluation.calibration import CONFIDENCE, MAX_ERROR, choose_threshold, fit_temperature, softmax
    from traffic_signs.files import atomic_write_json, file_digest
    from traffic_signs.models.inference import torch_logits
    from traffic_signs.models.io import held_out_split, load_model

    model, meta = load_model(json_path)
    train_data = load_split("train", data_dir, meta["input_size"], cache_dir)
    split = held_out_split(meta, json_path)
    val = validation_subset(train_data, split, meta.get("data_checksum"), str(json_path))
    logits = torch_logits(model, val.images)
    temperature = fit_temperature(logits, val.labels)
    threshold = choose_threshold(softmax(logits, temperature), val.labels)
    onnx_path = json_path.with_suffix(".onnx")
    export_onnx(model, onnx_path, meta["input_size"])
    meta.update({
        "temperature": temperature,
        "threshold": threshold,
        "calibration": {"fitted_on": "validation tracks of the run", "images": len(val),
                        "threshold_max_error": MAX_ERROR, "threshold_confidence": CONFIDENCE},
        "onnx": onnx_path.name,
        "onnx_sha256": file_digest(onnx_path),
    })
    if int8:
        from traffic_signs.prediction.quantize import calibration_sample, quantize_int8

        data, train_index, _ = split_training_data(train_data, split)
        int8_path = quantize_int8(onnx_path, json_path.with_suffix(".int8.onnx"),
                                  calibration_sample(data.images[train_index]))
        meta.update({"onnx_int8": int8_path.name, "onnx_int8_sha256": file_digest(int8_path)})
    atomic_write_json(json_path, meta)
    return meta


def _robustness_table(json_path: Path, data_dir: str | None, cache_dir: str | None) -> str:
    """The corruption table of the exported model on a seeded 2,000-image test subset."""
    from traffic_signs.data.cache import load_split
    from traffic_signs.evaluation.robustness import evaluate_robustness, markdown, stratified_subset
    from traffic_signs.prediction.classifier import Classifier

    classifier = Classifier(json_path)
    test = load_split("test", data_dir, classifier.input_size, cache_dir)
    index = stratified_subset(test.labels, 2000)
    table = evaluate_robustness(classifier, test.images[index], test.labels[index])
    return markdown(table, len(index)) + "\nReproduce: `traffic-signs robustness --limit 2000`.\n"


def ship(json_path: Path, name: str, command: str, data_dir: str | None, cache_dir: str | None) -> Path:
    """Copy the exported model into the package and write its model card from fresh evaluations."""
    from traffic_signs.evaluation.evaluate import evaluate_model
    from traffic_signs.evaluation.model_card import build_model_card
    from traffic_signs.files import atomic_write_json
    from traffic_signs.models.resolve import shipped_dir

    meta = json.loads(json_path.read_text())
    target = shipped_dir()
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(json_path.with_name(meta["weights"]), target / f"{name}.safetensors")
    shutil.copyfile(json_path.with_name(meta["onnx"]), target / f"{name}.onnx")
    evaluations = json_path.parent / f"ship-{name}"
    test = evaluate_model(json_path, "test", evaluations / "test", data_dir, cache_dir)
    val = evaluate_model(json_path, "val", evaluations / "val", data_dir, cache_dir)
    meta.update({"name": name, "weights": f"{name}.safetensors", "onnx": f"{name}.onnx",
                 "training_command": command})
    if json_path.stem in ("best", "last"):  # which of a run's two checkpoints ships, for the card
        meta["checkpoint"] = json_path.stem
    meta["metrics"] = {**meta.get("metrics", {}), "test_accuracy": test["accuracy"], "test_macro_f1": test["macro_f1"],
                       "test_ece": test["ece"], "test_ece_calibrated": test.get("calibrated", {}).get("ece"),
                       "test_images": test["n"]}
    atomic_write_json(target / f"{name}.json", meta)
    for figure in ("confusion_matrix.png", "reliability.png", "risk_coverage.png"):
        shutil.copyfile(evaluations / "test" / figure, target / figure)
    card = build_model_card(name, meta, test, val, command, _robustness_table(json_path, data_dir, cache_dir))
    card_path = target / "MODEL_CARD.md"
    card_path.write_text(card)
    return card_path
