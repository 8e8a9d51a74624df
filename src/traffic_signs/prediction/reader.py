"""The sign reader: any picture in, every sign in it found and named.

``Classifier.load()`` opens the model shipped inside the package and the shipped detector;
``predict`` runs the stages in order, each a function of its own module:

    decode    the file, bytes or PIL image, reduced to what the model needs   imaging.decode
    find      boxes of the signs in it (not in a crop-sized picture)          detect.SignDetector.detect
    frame     the whole picture and each box, cut out as GTSRB framed signs   framing.frame
    classify  calibrated class probabilities of all those crops               crops.CropClassifier
    decide    the answer at the call's threshold, by the photo rules          decide.decide

``look`` runs the first four and ``decide`` the last, so one reading can be decided at many
thresholds (the real-photo benchmark's threshold sweeps do).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from traffic_signs.errors import ImageError, ImageFormatError
from traffic_signs.imaging import SERVING_SHORT_SIDE, Decoded, decode, serving_max_pixels
from traffic_signs.models.model_file import ModelFile
from traffic_signs.prediction import decide as rules
from traffic_signs.prediction.crops import CropClassifier, find_model_json
from traffic_signs.prediction.decide import Candidate, Evidence
from traffic_signs.prediction.detect import SignDetector
from traffic_signs.prediction.framing import FRAMINGS, Crops, frame
from traffic_signs.prediction.results import FileErrorJSON, Result

if TYPE_CHECKING:
    from traffic_signs.prediction.detect import Detection
    from traffic_signs.prediction.video_signs import ClipTracks

Source = str | Path | bytes | Image.Image
# A picture whose short side is at most this many model inputs holds one sign at most (a crop):
# it is read whole. Looking for signs in it only added wrong answers, on GTSRB's test crops
# (0.064% -> 0.18% error among answered) and on the real photos' small crops alike.
CROP_FACTOR = 2


class Classifier:
    """The sign reader: a crop classifier (``model``) and a sign detector (``detector``)."""

    def __init__(self, model: CropClassifier, detector: SignDetector | None = None, threshold: float | None = None):
        self.model = model
        self.detector = detector
        self.threshold = float(model.threshold if threshold is None else threshold)  # unless a call gives one

    @classmethod
    def load(cls, model: str | Path | None = None, threshold: float | None = None, int8: bool = False,
             detector: str | Path | None = None) -> Classifier:
        """``None`` is the shipped model; else a name, run folder, model .json or .onnx.
        ``int8`` runs the model's 8-bit integer export (``traffic-signs export --int8``);
        ``detector`` names the sign detector (default: the shipped one); ``threshold`` replaces
        the model's own "unknown sign" threshold for every call that gives none."""
        return cls(CropClassifier(find_model_json(model), int8), SignDetector.load(detector), threshold)

    def predict(self, image: Source, threshold: float | None = None, top_k: int = 5, search: bool | None = None,
                name: str | None = None) -> Result:
        """Find and name every sign in one image; "unknown sign" below ``threshold`` (default:
        the classifier's). ``search=False`` reads the whole picture as one crop, ``search=True``
        looks for signs even in a crop-sized picture. Raises :class:`ImageError` if the image
        cannot be read. Files and bytes are decoded reduced (see ``imaging.decode``), so the
        work is bounded by what the model needs; boxes are in the original picture's pixels."""
        picture, evidence = self.look(image, search, name)
        return self.decide(picture, evidence, threshold, top_k, self._label(image, name))

    def look(self, image: Source, search: bool | None = None, name: str | None = None) -> tuple[Decoded, Evidence]:
        """The stages before the decision: decode, find, frame, classify."""
        picture = self.decode(image, name)
        detections = self.find(picture.image, search)
        crops = frame(picture.image, [d.box for d in detections], self.model.input_size)
        return picture, self.classify(crops, [d.score for d in detections])

    def decide(self, picture: Decoded, evidence: Evidence, threshold: float | None = None, top_k: int = 5,
               file: str | None = None) -> Result:
        """The last stage: the answer at ``threshold`` (default: the classifier's)."""
        return rules.decide(evidence, self.model, picture, self.threshold if threshold is None else threshold,
                            top_k, file)

    def decode(self, image: Source, name: str | None = None) -> Decoded:
        """Files and bytes decoded reduced and bounded (PIL images are taken as they are)."""
        reduce_to = None if isinstance(image, Image.Image) else SERVING_SHORT_SIDE
        return decode(image, self._label(image, name), serving_max_pixels(), reduce_to)

    def find(self, picture: Image.Image, search: bool | None = None) -> list[Detection]:
        """The detector's boxes, unless told not to search or the picture is a crop (``CROP_FACTOR``)."""
        wanted = search if search is not None else min(picture.size) > CROP_FACTOR * self.model.input_size
        return self.detector.detect(picture) if wanted and self.detector else []

    def classify(self, crops: Crops, scores: list[float]) -> Evidence:
        """One classifier call for the whole picture, one for all boxes at all framings (averaged);
        ``scores`` are the detector's, one a box."""
        whole = Candidate(crops.whole_box, self.model.probabilities(crops.whole)[0])
        if not crops.boxes:
            return Evidence(whole, [])
        probs = self.model.probabilities(crops.of_boxes).reshape(len(crops.boxes), len(FRAMINGS), -1).mean(axis=1)
        return Evidence(whole, [Candidate(box, p, score)
                                for box, p, score in zip(crops.boxes, probs, scores, strict=True)])

    def track(self, source: str | Path, **options) -> ClipTracks:
        """Every sign in a clip, tracked and named once: an iterable of ``Track`` (see
        :mod:`traffic_signs.prediction.video_signs`; needs PyAV, the ``video`` extra)."""
        # here, not at the top: pictures never need the clip reader (nor PyAV)
        from traffic_signs.prediction.video_signs import track

        return track(self, source, **options)

    def predict_or_error(self, image: Source, name: str | None, **options) -> Result | FileErrorJSON:
        """``predict``, or the reason the image cannot be read, so a run over many keeps going."""
        try:
            return self.predict(image, name=name, **options)
        except ImageError as exc:
            return {"file": name, "error": str(exc), "kind": "format" if isinstance(exc, ImageFormatError) else "image"}

    @staticmethod
    def _label(image: Source, name: str | None) -> str | None:
        return name or (str(image) if isinstance(image, (str, Path)) else None)

    # The crop model's facts, which callers ask the reader for.
    @property
    def name(self) -> str:
        return self.model.name

    @property
    def metadata(self) -> ModelFile:
        return self.model.metadata

    @property
    def json_path(self) -> Path:
        return self.model.json_path

    @property
    def class_names(self) -> list[str]:
        return self.model.class_names

    @property
    def input_size(self) -> int:
        return self.model.input_size

    @property
    def temperature(self) -> float:
        return self.model.temperature

    @property
    def threshold_source(self) -> str:
        return self.model.threshold_source

    def probabilities(self, crops: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of model-sized uint8 crops (see ``CropClassifier.probabilities``)."""
        return self.model.probabilities(crops)
