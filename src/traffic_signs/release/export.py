"""Calibrate a trained model file on its own validation tracks and write its ONNX graphs.

The temperature and the "unknown sign" threshold are fitted on the validation tracks the
run held out (never on test); both, and each ONNX file's SHA-256, are recorded in the
model's JSON, which the torch-free runtime then trusts and verifies.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import onnx.utils
import torch

from traffic_signs.data.cache import load_split
from traffic_signs.data.split import split_training_data, validation_subset
from traffic_signs.errors import ModelFileError
from traffic_signs.evaluation.calibration import CONFIDENCE, MAX_ERROR, choose_threshold, fit_temperature, softmax
from traffic_signs.files import file_digest, staged
from traffic_signs.models.inference import torch_logits
from traffic_signs.models.io import load_model
from traffic_signs.models.layers import WithCams
from traffic_signs.models.model_file import Calibration, ModelFile, write_model_file
from traffic_signs.release.quantize import calibration_sample, quantize_int8


def export_onnx(model, path: Path, input_size: int) -> Path | None:
    """Write the ONNX graph with a dynamic batch dimension (TorchScript exporter, opset 17).

    Models that compute Grad-CAM in their forward pass (``class_activation_maps``) also get a
    second graph, ``<stem>.cams.onnx``, with a second output, ``cams`` (N x classes x h x w), so
    the torch-free runtime can draw it; its path is returned. ``path`` then holds that graph cut
    down to the logits: ONNX Runtime runs every node of a graph whatever outputs are asked for,
    and the maps cost the shipped committee 5-8% of its time on every batch of crops.
    """
    dummy = torch.rand(2, 3, input_size, input_size)
    model = model.eval().to(memory_format=torch.contiguous_format)
    if not hasattr(model, "class_activation_maps"):
        _write_onnx(model, dummy, path, ["logits"])
        return None
    cams_path = path.with_suffix(".cams.onnx")
    _write_onnx(WithCams(model).eval(), dummy, cams_path, ["logits", "cams"])
    with staged(path) as tmp:  # the same nodes, so the same logits to the bit
        onnx.utils.extract_model(str(cams_path), str(tmp), ["images"], ["logits"])
    return cams_path


def _write_onnx(model, dummy: torch.Tensor, path: Path, outputs: list[str]) -> None:
    with staged(path) as tmp:
        torch.onnx.export(model, (dummy,), str(tmp), input_names=["images"], output_names=outputs,
                          dynamic_axes={"images": {0: "batch"}, **{name: {0: "batch"} for name in outputs}},
                          opset_version=17, dynamo=False)


def export(json_path: Path, data_dir: str | None = None, cache_dir: str | None = None,
           int8: bool = False, threshold: float | None = None, threshold_chosen_on: str | None = None) -> ModelFile:
    """Calibrate on validation, write ``<stem>.onnx`` (and ``<stem>.int8.onnx``), record them in ``<stem>.json``.

    ``threshold`` sets the "unknown sign" threshold instead (``threshold_chosen_on`` says where it
    was chosen): validation holds no sign outside GTSRB's classes, so the threshold it picks only
    bounds the error on GTSRB-like crops; a threshold chosen on real photos can also weigh the
    signs that must be answered "unknown". It is refused below the validation threshold, whose
    error bound must keep holding.
    """
    model, model_file = load_model(json_path)
    train_data = load_split("train", data_dir, model_file.input_size, cache_dir)
    val = validation_subset(train_data, model_file.split, model_file.data_checksum, str(json_path))
    logits = torch_logits(model, val.images)
    temperature = fit_temperature(logits, val.labels)
    validation_threshold = choose_threshold(softmax(logits, temperature), val.labels)
    if threshold is not None and not validation_threshold <= threshold < 1:
        raise ModelFileError(f"--threshold {threshold}: must lie in [{validation_threshold:.4f}, 1), the validation "
                             "threshold keeping accepted-validation error within its bound and every answer")
    onnx_path = json_path.with_suffix(".onnx")
    cams_path = export_onnx(model, onnx_path, model_file.input_size)
    model_file = replace(
        model_file, temperature=temperature, threshold=validation_threshold if threshold is None else threshold,
        calibration=Calibration(fitted_on="validation tracks of the run", images=len(val),
                                threshold_max_error=MAX_ERROR, threshold_confidence=CONFIDENCE,
                                validation_threshold=None if threshold is None else validation_threshold,
                                threshold_chosen_on=None if threshold is None else threshold_chosen_on or "by hand"),
        onnx=onnx_path.name, onnx_sha256=file_digest(onnx_path),
        onnx_cams=cams_path.name if cams_path else None, onnx_cams_sha256=file_digest(cams_path) if cams_path else None)
    if int8:
        data, train_index, _ = split_training_data(train_data, model_file.split)
        int8_path = quantize_int8(onnx_path, json_path.with_suffix(".int8.onnx"),
                                  calibration_sample(data.images[train_index]))
        model_file = replace(model_file, onnx_int8=int8_path.name, onnx_int8_sha256=file_digest(int8_path))
    write_model_file(json_path, model_file)
    return model_file
