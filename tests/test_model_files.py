"""Crafted model files are refused with a ModelFileError that names the file and the field."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import traffic_signs
from traffic_signs import Classifier
from traffic_signs.errors import ModelFileError
from traffic_signs.prediction.classifier import DEFAULT_MODEL

SHIPPED = Path(traffic_signs.__file__).parent / "shipped"


@pytest.fixture
def model_copy(tmp_path) -> Path:
    meta = json.loads((SHIPPED / f"{DEFAULT_MODEL}.json").read_text())
    shutil.copy(SHIPPED / meta["onnx"], tmp_path / meta["onnx"])
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
])
def test_bad_fields_are_named(model_copy, field, value):
    with pytest.raises(ModelFileError, match=rf"model\.json: {field}(\[\d+\])? should be"):
        Classifier(_with(model_copy, **{field: value}))


def test_deep_nesting_and_non_objects_are_refused(model_copy):
    model_copy.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelFileError, match="nested too deeply"):
        Classifier(model_copy)
    model_copy.write_text("[]")
    with pytest.raises(ModelFileError, match="not a traffic-signs model file"):
        Classifier(model_copy)


def test_valid_copy_still_loads(model_copy):
    assert Classifier(model_copy).probabilities(np.zeros((1, 32, 32, 3), np.uint8)).shape == (1, 43)


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
        Classifier(_with(model_copy, onnx="external.onnx", onnx_sha256=digest))
