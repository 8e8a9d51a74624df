"""The 8-bit integer export answers like the float one, and the Classifier verifies it too."""

from __future__ import annotations

import json
import shutil

import pytest

from traffic_signs.errors import ModelFileError
from traffic_signs.files import file_digest
from traffic_signs.models.resolve import shipped_dir
from traffic_signs.prediction.crops import DEFAULT_MODEL, CropClassifier
from traffic_signs.prediction.reader import Classifier
from traffic_signs.release.quantize import calibration_sample, quantize_int8


@pytest.fixture(scope="module")
def int8_model(tmp_path_factory, train_set):
    folder = tmp_path_factory.mktemp("int8")
    for suffix in (".json", ".onnx", ".safetensors"):
        shutil.copyfile(shipped_dir() / f"{DEFAULT_MODEL}{suffix}", folder / f"{DEFAULT_MODEL}{suffix}")
    int8_path = quantize_int8(folder / f"{DEFAULT_MODEL}.onnx", folder / f"{DEFAULT_MODEL}.int8.onnx",
                              calibration_sample(train_set.images, 512))
    meta = json.loads((folder / f"{DEFAULT_MODEL}.json").read_text())
    meta.update({"onnx_int8": int8_path.name, "onnx_int8_sha256": file_digest(int8_path)})
    (folder / f"{DEFAULT_MODEL}.json").write_text(json.dumps(meta))
    return folder / f"{DEFAULT_MODEL}.json"


def test_int8_agrees_with_float(int8_model, test_set):
    images, labels = test_set.images[:2000], test_set.labels[:2000]
    float_top1 = CropClassifier(int8_model).probabilities(images).argmax(1)
    int8_classifier = CropClassifier(int8_model, int8=True)
    int8_top1 = int8_classifier.probabilities(images).argmax(1)
    assert (float_top1 == int8_top1).mean() >= 0.99
    assert (int8_top1 == labels).mean() >= (float_top1 == labels).mean() - 0.005
    assert int8_classifier.has_grad_cam  # the second output survives quantisation


def test_int8_file_is_checksummed(int8_model):
    (int8_model.parent / f"{DEFAULT_MODEL}.int8.onnx").write_bytes(b"tampered")
    with pytest.raises(ModelFileError, match="checksum"):
        CropClassifier(int8_model, int8=True)


def test_missing_int8_export_says_how_to_make_it():
    with pytest.raises(ModelFileError, match="export .* --int8"):
        Classifier.load(int8=True)
