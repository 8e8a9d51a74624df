"""Classify any image with an exported model on ONNX Runtime (no torch needed).

``Classifier.load()`` opens the model shipped inside the package; ``predict`` takes a path,
bytes or a PIL image and answers with the sign, a calibrated confidence, the top-k, and
"unknown sign" when the confidence is below the model's threshold (see ``threshold_source``). Every sign
in a photo is found first by the shipped detector and each is classified on its own crop
(see :mod:`traffic_signs.prediction.signs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from traffic_signs.errors import ModelFileError
from traffic_signs.imaging import SERVING_SHORT_SIDE, decode, serving_max_pixels
from traffic_signs.models.model_file import ModelFile, read_model_file
from traffic_signs.models.resolve import find_exported_json
from traffic_signs.prediction.detect import SignDetector
from traffic_signs.prediction.runtime import model_input, onnx_session, verified_onnx
from traffic_signs.prediction.signs import Candidate, classify_detections, whole_picture

UNKNOWN_LABEL = "unknown sign"
DEFAULT_MODEL = "signnet-stn-x3"  # a committee of three SignNet-STNs (see models/committee.py, models/stn.py)
# A picture whose short side is at most this many model inputs holds one sign at most (a crop):
# it is read whole. Looking for signs in it only added wrong answers, on GTSRB's test crops
# (0.064% -> 0.18% error among answered) and on the real photos' small crops alike.
CROP_FACTOR = 2
MAIN_SIGN_MARGIN = 0.02  # confidences this close to the top one count as equally sure (see main_sign)
FRAMING_AGREEMENT = 0.5  # a box frames the whole picture's sign if its crop gives that class at least this
# A detection covering this share of the picture is the picture's own sign, which the whole
# picture has already been read as: a re-read of it through its box may not overrule that.
PICTURE_SIGN = 0.4


@dataclass
class Sign:
    """One sign found in a picture, and what the classifier makes of it."""

    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the picture's pixels
    class_id: int | None  # None when unknown
    label: str
    confidence: float  # calibrated probability of the top class
    unknown: bool
    top_k: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"box": list(self.box), "class_id": self.class_id, "label": self.label,
                "confidence": round(self.confidence, 6), "unknown": self.unknown, "top_k": self.top_k}


@dataclass
class Prediction:
    """The answer for one picture: its main sign at the top level (see ``main_sign``), every sign found in ``signs``."""

    file: str | None
    class_id: int | None  # None when unknown
    label: str
    confidence: float  # calibrated probability of the top class
    unknown: bool
    top_k: list[dict[str, Any]] = field(default_factory=list)
    box: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 of the main sign, when one was found
    signs: list[Sign] = field(default_factory=list)  # most confident first, unknown signs included
    image_size: tuple[int, int] | None = None  # width, height of the decoded picture

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
        out["signs"] = [sign.to_dict() for sign in self.signs]
        return out


def find_model_json(model: str | Path | None) -> Path:
    """The exported model's JSON for a name, run folder, model .json or .onnx (torch-free)."""
    return find_exported_json(DEFAULT_MODEL if model is None else model, "best", (".onnx", ".safetensors"), "model",
                              "exported model", usable=lambda candidate: bool(read_model_file(candidate).onnx))


class Classifier:
    """An exported model plus its calibration: temperature and unknown threshold."""

    def __init__(self, json_path: Path, threshold: float | None = None, int8: bool = False,
                 detector: SignDetector | None = None):
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
        model_bytes = verified_onnx(self.onnx_path, onnx_sha256, self.json_path.name)
        self.class_names: list[str] = list(self.metadata.class_names)
        self.input_size: int = self.metadata.input_size
        self.temperature: float = self.metadata.temperature or 1.0
        self.threshold: float = float(threshold if threshold is not None else self.metadata.threshold or 0.0)
        self._session = onnx_session(model_bytes, self.onnx_path)
        self._input_name = self._session.get_inputs()[0].name
        self.detector = detector

    @classmethod
    def load(cls, model: str | Path | None = None, threshold: float | None = None, int8: bool = False,
             detector: str | Path | None = None) -> Classifier:
        """``None`` is the shipped model; else a name, run folder, model .json or .onnx.
        ``int8`` runs the model's 8-bit integer export (``traffic-signs export --int8``).
        ``detector`` names the sign detector (default: the shipped one)."""
        return cls(find_model_json(model), threshold, int8, SignDetector.load(detector))

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

    def should_search(self, picture: Image.Image) -> bool:
        """Whether to look for signs in ``picture``: not in a crop-sized one (see CROP_FACTOR)."""
        return min(picture.size) > CROP_FACTOR * self.input_size

    def predict(self, image: str | Path | bytes | Image.Image, top_k: int = 5, search: bool | None = None,
                name: str | None = None) -> Prediction:
        """Find and name every sign in one image; ``search=False`` classifies the whole picture as
        one crop, ``search=True`` looks for signs even in a crop-sized picture. Raises
        :class:`traffic_signs.errors.ImageError` if the image cannot be read.

        Files and bytes are decoded reduced (at most the ``max_pixels`` setting decoded, short
        side 1024), so the work is bounded by what the model needs; boxes are given in the
        original picture's pixels all the same.
        """
        label = name or (str(image) if isinstance(image, (str, Path)) else None)
        decoded = decode(image, label, serving_max_pixels(), None if isinstance(image, Image.Image)
                         else SERVING_SHORT_SIDE)
        picture = decoded.image
        whole = whole_picture(picture, self.probabilities, self.input_size)
        answer = self.decide(whole.probs, label, top_k, whole.box)
        candidates: list[Candidate] = []
        if self.detector is not None and (search or (search is None and self.should_search(picture))):
            boxes = self.detector.detect(picture)
            candidates = classify_detections(picture, boxes, self.probabilities, self.input_size)
        if not answer.unknown:  # the picture is one sign the model names (a crop): the detector only frames it
            answer.box = framing_box(candidates, answer.class_id) or answer.box
            signs = [answer]
        else:
            signs = self.read_signs(candidates, whole, picture.size, label, top_k)
            answer = main_sign(signs) or (signs[0] if signs else answer)
        for sign in signs:
            sign.box = _scaled_box(sign.box, decoded.scale, decoded.original_size)
        if not signs:
            answer.box = None
        answer.signs = [Sign(a.box, a.class_id, a.label, a.confidence, a.unknown, a.top_k) for a in signs]
        answer.image_size = decoded.original_size
        return answer

    def read_signs(self, candidates: list[Candidate], whole: Candidate, size: tuple[int, int], file: str | None,
                   top_k: int) -> list[Prediction]:
        """Every detected sign's answer, most confident first; a box that is the picture's own sign
        (``is_picture_sign``) answers as the whole picture did."""
        signs = [self.decide(whole.probs if is_picture_sign(c.box, size) else c.probs, file, top_k, c.box)
                 for c in candidates]
        return sorted(signs, key=lambda sign: -sign.confidence)  # the detector has merged boxes of one sign

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


def main_sign(signs: list[Prediction]) -> Prediction | None:
    """The sign the photo is about: of the signs named with (nearly) the top confidence, the largest.

    Two signs read at 0.999 and 0.9999 are both sure; which is the photo's subject is better told
    by size than by that difference (a yield sign above a small arrow plate is about the yield).
    """
    named = [s for s in signs if not s.unknown and s.box is not None]
    if not named:
        return None
    top = max(s.confidence for s in named)
    sure = [s for s in named if s.confidence >= top - MAIN_SIGN_MARGIN]
    return max(sure, key=lambda s: (s.box[2] - s.box[0]) * (s.box[3] - s.box[1]))


def is_picture_sign(box: tuple[int, int, int, int], size: tuple[int, int]) -> bool:
    """Whether ``box`` covers so much of the picture (``PICTURE_SIGN``) that it is the sign the
    whole picture shows. A no-class sign in a loose crop is read as unknown whole; its box,
    re-framed as a GTSRB crop, can lose the plate or text that made it no class (the disc of a
    Zone plate) and be named, so the whole picture's reading stands for such a box."""
    return (box[2] - box[0]) * (box[3] - box[1]) >= PICTURE_SIGN * size[0] * size[1]


def framing_box(candidates: list[Candidate], class_id: int) -> tuple[int, int, int, int] | None:
    """The box of the sign a whole picture was named for: the detection whose crop gives that class
    the most probability, if it is the likelier reading of that crop (a box on another sign, or
    on a part of this one, gives it little)."""
    best = max(candidates, key=lambda c: c.probs[class_id], default=None)
    return best.box if best is not None and best.probs[class_id] >= FRAMING_AGREEMENT else None


def _scaled_box(box: tuple[int, int, int, int], scale: tuple[float, float],
                size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A box in decoded pixels mapped back to the original picture's pixels."""
    x0, y0, x1, y1 = box
    sx, sy = scale
    return (int(round(x0 * sx)), int(round(y0 * sy)), min(size[0], int(round(x1 * sx))),
            min(size[1], int(round(y1 * sy))))
