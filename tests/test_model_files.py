"""Crafted model files are refused with a ModelFileError that names the file and the field."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import traffic_signs
from traffic_signs.errors import ModelFileError
from traffic_signs.prediction.crops import DEFAULT_MODEL, CropClassifier

SHIPPED = Path(traffic_signs.__file__).parent / "shipped"


@pytest.fixture
def model_copy(tmp_path) -> Path:
    meta = json.loads((SHIPPED / f"{DEFAULT_MODEL}.json").read_text())
    for graph in (meta["onnx"], meta["onnx_cams"]):
        shutil.copy(SHIPPED / graph, tmp_path / graph)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(meta))
    return path


def _with(path: Path, **fields) -> Path:
    meta = json.loads(path.read_text())
    path.write_text(json.dumps({**meta, **fields}))
    return path


@pytest.mark.parametrize(("field", "value"), [
    ("temperature", 0), ("temperature", -1.0), ("temperature", "hot"), ("input_size", 100_000),
    ("input_size", "32"), ("input_size", True), ("threshold", 1.5), ("class_names", "Stop"),
    ("class_names", [1, 2]), ("onnx", "../../etc/model.onnx"), ("onnx", "/abs/model.onnx"), ("onnx", ["x"]),
    ("onnx_sha256", 42), ("onnx_sha256", "not hex"), ("temperature", float("nan")), ("class_names", []),
    ("onnx_cams", "../cams.onnx"), ("onnx_cams_sha256", "not hex"),
])
def test_bad_fields_are_named(model_copy, field, value):
    with pytest.raises(ModelFileError, match=rf"model\.json: {field}(\[\d+\])? should be"):
        CropClassifier(_with(model_copy, **{field: value}))


def test_deep_nesting_and_non_objects_are_refused(model_copy):
    model_copy.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelFileError, match="nested too deeply"):
        CropClassifier(model_copy)
    model_copy.write_text("[]")
    with pytest.raises(ModelFileError, match="not a traffic-signs model file"):
        CropClassifier(model_copy)


def test_valid_copy_still_loads(model_copy):
    assert CropClassifier(model_copy).probabilities(np.zeros((1, 32, 32, 3), np.uint8)).shape == (1, 43)


def test_grad_cam_graph_is_checked_before_it_is_loaded(model_copy):
    """The Grad-CAM graph is loaded on the first map asked for, and only if its checksum matches."""
    crop = np.zeros((32, 32, 3), np.uint8)
    assert CropClassifier(model_copy).grad_cam(crop, 14).shape == (8, 8)
    cams = model_copy.with_name(json.loads(model_copy.read_text())["onnx_cams"])
    cams.write_bytes(cams.read_bytes()[:-1] + b"x")
    classifier = CropClassifier(model_copy)  # classifying needs only the logits graph
    assert classifier.probabilities(crop[None]).shape == (1, 43)
    with pytest.raises(ModelFileError, match="checksum differs"):
        classifier.grad_cam(crop, 14)


def test_onnx_external_data_is_refused(model_copy):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    weights = numpy_helper.from_array(np.ones((3, 43), np.float32), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["logits"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 43])], [weights])
    target = model_copy.with_name("external.onnx")
    onnx.save_model(helper.make_model(graph), str(target), save_as_external_data=True, location="external.data",
                    size_threshold=0)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    with pytest.raises(ModelFileError, match="external data"):
        CropClassifier(_with(model_copy, onnx="external.onnx", onnx_sha256=digest))


@pytest.fixture
def detector_copy(tmp_path) -> Path:
    meta = json.loads((SHIPPED / "signfinder.json").read_text())
    shutil.copy(SHIPPED / meta["onnx"], tmp_path / meta["onnx"])
    path = tmp_path / "detector.json"
    path.write_text(json.dumps(meta))
    return path


@pytest.mark.parametrize(("field", "value"), [
    ("architecture", "yolo"), ("stride", 3), ("stride", "4"), ("weights", "../../etc/passwd"), ("weights", None),
    ("onnx", "/abs/detector.onnx"), ("onnx_sha256", "not hex"), ("history", {"loss": 1}), ("config", [1]),
])
def test_bad_detector_fields_are_named(detector_copy, field, value):
    from traffic_signs.prediction.detect import SignDetector

    with pytest.raises(ModelFileError, match=f"detector.json.*{'sign detector' if field == 'architecture' else field}"):
        SignDetector(_with(detector_copy, **{field: value}))


def test_the_detector_file_reads_and_writes_back_unchanged(detector_copy):
    """Typed reading loses nothing: the shipped file written back from its record is the same text."""
    from traffic_signs.models.model_file import read_detector_file
    from traffic_signs.prediction.detect import SignDetector

    shipped = SHIPPED / "signfinder.json"
    record = read_detector_file(shipped)
    assert record.stride == 4 and record.test_scenes and record.onnx == "signfinder.onnx"
    assert json.dumps(record.to_json(), indent=2) + "\n" == shipped.read_text()
    assert len(SignDetector(_with(detector_copy, added_later="kept")).metadata.extra) == 1


def test_the_default_is_the_shipped_model_even_beside_a_run_of_its_name(tmp_path, monkeypatch):
    """The reproduce commands train runs/signnet-stn-x3 (and runs/signfinder): named, such a run is
    what loads; left unnamed, the shipped model and detector still do."""
    from traffic_signs.prediction.crops import find_model_json
    from traffic_signs.prediction.detect import DEFAULT_DETECTOR, find_detector_json

    model_run, detector_run = tmp_path / "runs" / DEFAULT_MODEL, tmp_path / "runs" / DEFAULT_DETECTOR
    model_run.mkdir(parents=True)
    detector_run.mkdir()
    meta = json.loads((SHIPPED / f"{DEFAULT_MODEL}.json").read_text())
    for graph in (meta["onnx"], meta["onnx_cams"]):
        shutil.copy(SHIPPED / graph, model_run / graph)
    (model_run / "best.json").write_text(json.dumps({**meta, "threshold": 0.5}))
    detector = json.loads((SHIPPED / f"{DEFAULT_DETECTOR}.json").read_text())
    shutil.copy(SHIPPED / detector["onnx"], detector_run / detector["onnx"])
    (detector_run / "last.json").write_text(json.dumps(detector))
    monkeypatch.chdir(tmp_path)
    assert find_model_json(None) == SHIPPED / f"{DEFAULT_MODEL}.json"
    assert find_detector_json(None) == SHIPPED / f"{DEFAULT_DETECTOR}.json"
    assert find_model_json(DEFAULT_MODEL).resolve() == (model_run / "best.json").resolve()
    assert find_detector_json(DEFAULT_DETECTOR).resolve() == (detector_run / "last.json").resolve()
    assert CropClassifier(find_model_json(None)).threshold == meta["threshold"] != 0.5
    assert CropClassifier(find_model_json(DEFAULT_MODEL)).threshold == 0.5
