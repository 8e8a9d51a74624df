"""The crop classifier: an exported model on ONNX Runtime (no torch) and its calibration.

It knows crops, not photos: model-sized uint8 crops in, calibrated (temperature-scaled)
probabilities out, and the answer for one crop at a threshold ("unknown sign" below it). Where
the crops come from is the sign reader's business (:mod:`traffic_signs.prediction.reader`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from traffic_signs.errors import ModelFileError
from traffic_signs.models.model_file import ModelFile, read_model_file
from traffic_signs.models.resolve import find_exported_json, shipped_dir
from traffic_signs.prediction.results import UNKNOWN_LABEL, Box, RankedClass, Sign
from traffic_signs.prediction.runtime import model_input, verified_session

DEFAULT_MODEL = "signnet-stn-x3"  # a committee of three SignNet-STNs (see models/committee.py, models/stn.py)


def find_model_json(model: str | Path | None) -> Path:
    """The exported model's JSON for a name, run folder, model .json or .onnx (torch-free). ``None``
    is the shipped model itself: a run of the same name in ``runs/`` (the reproduce commands make
    one) is used only when named."""
    if model is None:
        return shipped_dir() / f"{DEFAULT_MODEL}.json"
    return find_exported_json(model, "best", (".onnx", ".safetensors"), "model", "exported model",
                              usable=lambda candidate: bool(read_model_file(candidate).onnx))


class CropClassifier:
    """An exported model plus its calibration: temperature and default "unknown sign" threshold."""

    def __init__(self, json_path: Path, int8: bool = False):
        self.json_path = Path(json_path)
        self.metadata: ModelFile = read_model_file(self.json_path)
        onnx_name, onnx_sha256 = ((self.metadata.onnx_int8, self.metadata.onnx_int8_sha256) if int8
                                  else (self.metadata.onnx, self.metadata.onnx_sha256))
        if onnx_name is None:
            flag = " --int8" if int8 else ""
            raise ModelFileError(
                f"{self.json_path}: no {'int8 ' if int8 else ''}ONNX export; "
                f"run `traffic-signs export {self.json_path.parent}{flag}` first"
            )
        self.onnx_path = self.json_path.with_name(onnx_name)
        self._session = verified_session(self.onnx_path, onnx_sha256, self.json_path.name)
        self._input_name = self._session.get_inputs()[0].name
        # the session that draws Grad-CAM maps: this one when its graph has them (an export from
        # before the maps had a graph of their own), else ``onnx_cams``'s, built on the first map
        self._cams_session = self._session if "cams" in {o.name for o in self._session.get_outputs()} else None
        self.class_names: list[str] = list(self.metadata.class_names)
        self.input_size: int = self.metadata.input_size
        self.temperature: float = self.metadata.temperature or 1.0
        self.threshold: float = float(self.metadata.threshold or 0.0)

    @property
    def name(self) -> str:
        return self.metadata.display_name

    @property
    def threshold_source(self) -> str:
        """Where the model's own threshold was chosen (see ``ModelFile.threshold_source``)."""
        return self.metadata.threshold_source

    def logits(self, images: np.ndarray) -> np.ndarray:
        """Logits for uint8 N x H x W x 3 images at the model's input size."""
        return self._session.run(["logits"], {self._input_name: self._to_input(images)})[0]

    def _to_input(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[1:] != (self.input_size, self.input_size, 3):
            raise ValueError(f"expected N x {self.input_size} x {self.input_size} x 3 images, got {images.shape}")
        return model_input(images)

    def probabilities(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Calibrated (temperature-scaled) class probabilities, N x C."""
        chunks = [self.logits(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]
        logits = np.concatenate(chunks) if chunks else np.zeros((0, len(self.class_names)), np.float32)
        z = logits.astype(np.float64) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def decide(self, probs: np.ndarray, threshold: float, top_k: int, box: Box) -> Sign:
        """One crop's answer from its calibrated probabilities: "unknown sign" below ``threshold``."""
        order = np.argsort(-probs)[: max(1, top_k)]
        best = int(order[0])
        confidence = float(probs[best])
        unknown = confidence < threshold
        ranked: list[RankedClass] = [
            {"class_id": int(i), "label": self.class_names[i], "probability": round(float(probs[i]), 6)}
            for i in order]
        return Sign(box, None if unknown else best, UNKNOWN_LABEL if unknown else self.class_names[best],
                    confidence, unknown, ranked)

    @property
    def has_grad_cam(self) -> bool:
        """Whether the export carries Grad-CAM maps (see SignNet): its own graph beside the
        classifying one, or, exported before that, a second output of the one graph."""
        return self._cams_session is not None or self.metadata.onnx_cams is not None

    def grad_cam(self, crop: np.ndarray, class_id: int) -> np.ndarray:
        """Grad-CAM map of ``class_id`` for one uint8 S x S x 3 crop: h x w, scaled to 0..1."""
        if not self.has_grad_cam:
            raise ValueError(f"{self.onnx_path.name} has no Grad-CAM output")
        cams = self._grad_cam_session().run(["cams"], {self._input_name: self._to_input(crop[None])})[0]
        heat = np.maximum(cams[0, class_id], 0.0)
        return heat / heat.max() if heat.max() > 0 else heat

    def _grad_cam_session(self):
        """The session with the ``cams`` output, checksummed like the classifying one. Built on
        first use: a server that never draws a map never holds it."""
        if self._cams_session is None:
            self._cams_session = verified_session(self.json_path.with_name(self.metadata.onnx_cams),
                                                  self.metadata.onnx_cams_sha256, self.json_path.name)
        return self._cams_session
