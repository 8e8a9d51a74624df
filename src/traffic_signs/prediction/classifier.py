"""Classify any image with an exported model on ONNX Runtime (no torch needed).

``Classifier.load()`` opens the model shipped inside the package; ``predict`` takes a path,
bytes or a PIL image and answers with the sign, a calibrated confidence, the top-k, and
"unknown sign" when the confidence is below the threshold chosen on validation. Large
photos are searched for the sign first (see :mod:`traffic_signs.prediction.search`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from traffic_signs.errors import ImageError, ModelFileError
from traffic_signs.imaging import SERVING_SHORT_SIDE, decode, serving_max_pixels, to_model_input
from traffic_signs.models.model_file import ModelFile, read_model_file
from traffic_signs.models.resolve import shipped_dir
from traffic_signs.prediction.onnx_data import uses_external_data
from traffic_signs.prediction.search import find_sign

UNKNOWN_LABEL = "unknown sign"
DEFAULT_MODEL = "signnet-stn-x3"  # a committee of three SignNet-STNs (see models/committee.py, models/stn.py)
SEARCH_MIN_SIDE_FACTOR = 4  # search when the short side exceeds 4x the model input (128 px)
MAX_SEARCH_ASPECT = 20  # a strip longer than 20:1 is no photo of a sign; searching it is wasted work


@dataclass
class Prediction:
    file: str | None
    class_id: int | None  # None when unknown
    label: str
    confidence: float  # calibrated probability of the top class
    unknown: bool
    top_k: list[dict[str, Any]] = field(default_factory=list)
    box: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 in original pixels, when searched

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "class_id": self.class_id,
            "label": self.label,
            "confidence": round(self.confidence, 6),
            "unknown": self.unknown,
            "top_k": self.top_k,
        }
        if self.box is not None:
            out["box"] = list(self.box)
        return out


def find_model_json(model: str | Path | None) -> Path:
    """The exported model's JSON for a name, run folder, model .json or .onnx (torch-free)."""
    if model is None:
        model = DEFAULT_MODEL
    path = Path(model)
    if path.is_dir():
        path = path / "best.json"
    elif path.suffix in (".onnx", ".safetensors"):
        path = path.with_suffix(".json")
    elif path.suffix != ".json":
        for candidate in (Path("runs") / str(model) / "best.json", shipped_dir() / f"{model}.json"):
            if candidate.is_file() and read_model_file(candidate).onnx:
                return candidate
        raise ModelFileError(f"{model!r}: no exported model of that name (shipped or in runs/)")
    if not path.is_file():
        raise ModelFileError(f"{path}: model file not found")
    return path


def _verified_onnx(onnx_path: Path, digest: str | None, metadata_name: str) -> bytes:
    """The ONNX file's bytes, once they match the metadata's SHA-256 and hold no external data:
    the session is built from these same bytes, so nothing unchecked is ever loaded."""
    try:
        data = onnx_path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"{onnx_path}: ONNX file not readable ({exc.strerror or exc})") from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise ModelFileError(f"{onnx_path}: checksum differs from {metadata_name}; refusing to load it")
    try:
        external = uses_external_data(data)
    except ValueError as exc:
        raise ModelFileError(f"{onnx_path}: not a valid ONNX file ({exc})") from None
    if external:
        raise ModelFileError(f"{onnx_path}: keeps tensors in external data files, which the checksum does not "
                             "cover; refusing to load it")
    return data


def _session(model_bytes: bytes, onnx_path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = int(os.environ.get("TRAFFIC_SIGNS_THREADS", "0")) or min(4, os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    # No memory arena: it grows to the largest batches ever run at once (450 MB after four
    # concurrent searches) and never shrinks; without it memory goes back after each request,
    # at no measurable cost in speed here.
    options.enable_cpu_mem_arena = False
    try:
        return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ONNX Runtime raises its own exception types on a broken graph
        raise ModelFileError(f"{onnx_path}: ONNX Runtime cannot load it ({str(exc).splitlines()[0][:200]})") from None


def model_input(images: np.ndarray) -> np.ndarray:
    """uint8 N x H x W x 3 -> float32 N x 3 x H x W in [0, 1], the exported graphs' input."""
    return np.ascontiguousarray(np.asarray(images).transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255.0)


class Classifier:
    """An exported model plus its calibration: temperature and unknown threshold."""

    def __init__(self, json_path: Path, threshold: float | None = None, int8: bool = False):
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
        model_bytes = _verified_onnx(self.onnx_path, onnx_sha256, self.json_path.name)
        self.class_names: list[str] = list(self.metadata.class_names)
        self.input_size: int = self.metadata.input_size
        self.temperature: float = self.metadata.temperature or 1.0
        self.threshold: float = float(threshold if threshold is not None else self.metadata.threshold or 0.0)
        self._session = _session(model_bytes, self.onnx_path)
        self._input_name = self._session.get_inputs()[0].name

    @classmethod
    def load(cls, model: str | Path | None = None, threshold: float | None = None, int8: bool = False) -> Classifier:
        """``None`` is the shipped model; else a name, run folder, model .json or .onnx.
        ``int8`` runs the model's 8-bit integer export (``traffic-signs export --int8``)."""
        return cls(find_model_json(model), threshold, int8)

    @property
    def name(self) -> str:
        return self.metadata.display_name

    def logits(self, images: np.ndarray) -> np.ndarray:
        """Logits for uint8 N x H x W x 3 images at the model's input size."""
        return self._session.run(["logits"], {self._input_name: self._to_input(images)})[0]

    def _to_input(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[1:] != (self.input_size, self.input_size, 3):
            raise ValueError(f"expected N x {self.input_size} x {self.input_size} x 3 images, got {images.shape}")
        return model_input(images)

    @property
    def has_grad_cam(self) -> bool:
        """Whether the exported graph also outputs Grad-CAM maps (see SignNet)."""
        return "cams" in {output.name for output in self._session.get_outputs()}

    def grad_cam(self, crop: np.ndarray, class_id: int) -> np.ndarray:
        """Grad-CAM map of ``class_id`` for one uint8 S x S x 3 crop: h x w, scaled to 0..1."""
        if not self.has_grad_cam:
            raise ValueError(f"{self.onnx_path.name} has no Grad-CAM output")
        cams = self._session.run(["cams"], {self._input_name: self._to_input(crop[None])})[0]
        heat = np.maximum(cams[0, class_id], 0.0)
        return heat / heat.max() if heat.max() > 0 else heat

    def probabilities(self, images: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Calibrated (temperature-scaled) class probabilities, N x C."""
        chunks = [self.logits(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]
        logits = np.concatenate(chunks) if chunks else np.zeros((0, len(self.class_names)), np.float32)
        z = logits.astype(np.float64) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def should_search(self, image: Image.Image) -> bool:
        return min(image.size) > SEARCH_MIN_SIDE_FACTOR * self.input_size

    def predict(self, image: str | Path | bytes | Image.Image, top_k: int = 5, search: bool | None = None,
                name: str | None = None) -> Prediction:
        """Classify one image; raises :class:`traffic_signs.errors.ImageError` if it cannot be read.

        Files and bytes are decoded reduced (at most ``$TRAFFIC_SIGNS_MAX_PIXELS`` decoded, short
        side 1024), so the work is bounded by what the model needs; the box is given in the
        original picture's pixels all the same.
        """
        label = name or (str(image) if isinstance(image, (str, Path)) else None)
        decoded = decode(image, label, serving_max_pixels(), None if isinstance(image, Image.Image)
                         else SERVING_SHORT_SIDE)
        picture = decoded.image
        box = None
        if search if search is not None else self.should_search(picture):
            _check_search_aspect(picture, label)
            probs, box = find_sign(self.probabilities, self.input_size, picture)
            box = _scaled_box(box, decoded.scale, decoded.original_size)
        else:
            probs = self.probabilities(to_model_input(picture, self.input_size)[None])[0]
        return self.decide(probs, label, top_k, box)

    def decide(self, probs: np.ndarray, file: str | None, top_k: int = 5,
               box: tuple[int, int, int, int] | None = None) -> Prediction:
        """Turn calibrated probabilities into an answer, "unknown sign" below the threshold."""
        order = np.argsort(-probs)[: max(1, top_k)]
        best = int(order[0])
        confidence = float(probs[best])
        unknown = confidence < self.threshold
        ranked = [{"class_id": int(i), "label": self.class_names[i], "probability": round(float(probs[i]), 6)}
                  for i in order]
        return Prediction(file, None if unknown else best, UNKNOWN_LABEL if unknown else self.class_names[best],
                          confidence, unknown, ranked, box)


def _check_search_aspect(picture: Image.Image, label: str | None) -> None:
    aspect = max(picture.size) / min(picture.size)
    if aspect > MAX_SEARCH_ASPECT:
        raise ImageError(f"{label or 'image'}: {picture.width}x{picture.height} is more than {MAX_SEARCH_ASPECT}:1; "
                         "too elongated to search for a sign (classify it whole with search off)")


def _scaled_box(box: tuple[int, int, int, int], scale: tuple[float, float],
                size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A box in decoded pixels mapped back to the original picture's pixels."""
    x0, y0, x1, y1 = box
    sx, sy = scale
    return (int(round(x0 * sx)), int(round(y0 * sy)), min(size[0], int(round(x1 * sx))),
            min(size[1], int(round(y1 * sy))))
