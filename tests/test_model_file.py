"""The typed model file: files written before it read as they are, and a wrong field is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from traffic_signs.data.split import SplitSpec
from traffic_signs.errors import ModelFileError
from traffic_signs.models.model_file import ModelFile, model_file_text, read_model_file, write_model_file
from traffic_signs.models.resolve import shipped_dir
from traffic_signs.prediction.crops import DEFAULT_MODEL

SHIPPED = shipped_dir() / f"{DEFAULT_MODEL}.json"
# The JSON half of a checkpoint the training loop wrote before the format was typed (commit 0550bfe).
OLD_CHECKPOINT = Path(__file__).parent / "model_files" / "checkpoint-0550bfe.json"


@pytest.mark.parametrize("path", [SHIPPED, OLD_CHECKPOINT], ids=["shipped", "old checkpoint"])
def test_existing_files_read_and_write_back_unchanged(path):
    """Reading and writing again gives the same bytes: every key is known, typed and kept in its place."""
    assert model_file_text(read_model_file(path)) == path.read_text()


def test_the_shipped_committee_reads_as_typed_fields():
    model_file = read_model_file(SHIPPED)
    assert model_file.is_committee and model_file.display_name == DEFAULT_MODEL
    assert [member.architecture for member in model_file.members] == ["signnet-stn"] * 3
    soups = [member.train_config["soup"] for member in model_file.members]
    assert [member.checkpoint for member in model_file.members] == ["best"] * 3, "a soup is written as best.json"
    assert [[i["checkpoint"] for i in soup] for soup in soups] == [["last"]] * 3, "one run each, moved back"
    assert [member.train_config["soup_init_share"] for member in model_file.members] == [0.5] * 3
    runs = [soup[0]["train_config"] for soup in soups]
    assert [run["init"].rsplit(":", 1)[1] for run in runs] == ["0", "1", "2"], "member k fine-tuned from member k"
    assert all(run["distill"] == 1 and "zone" in run["outliers"] for run in runs)
    assert 0 < model_file.temperature < 1 and 0.9 < model_file.threshold < 1
    assert model_file.calibration.validation_threshold < model_file.threshold, "raised on real photos"
    assert model_file.calibration.images == model_file.metrics["val_images"] == 3990
    assert model_file.split == SplitSpec()


def test_an_old_checkpoint_reads_as_typed_fields():
    model_file = read_model_file(OLD_CHECKPOINT)
    assert not model_file.is_committee and model_file.architecture == "lenet5"
    assert model_file.epoch == 1 and model_file.precision == "fp32" and model_file.input_size == 32
    assert model_file.normalisation.inside_model and len(model_file.normalisation.mean) == 3
    assert model_file.split == SplitSpec(limit_train=8000, subset_seed=0)
    assert model_file.temperature is None and model_file.onnx is None, "a checkpoint is not exported yet"


@pytest.mark.parametrize(("change", "message"), [
    ({"input_size": "32"}, "input_size should be an integer, not \"32\""),
    ({"class_names": None}, "class_names should be a list, not null"),
    ({"temperature": True}, "temperature should be a number, not true"),
    ({"metrics": {"val_accuracy": "high"}}, "metrics.val_accuracy should be a number or null"),
    ({"normalisation": {"mean": [0.3, "x", 0.3], "std": [0.2] * 3}}, "normalisation.mean[1] should be a number"),
    ({"members": [{"architecture": "lenet5", "seed": "1"}]}, "members[0].seed should be an integer"),
    ({"members": [{"seed": 1}]}, "members[0].architecture is missing"),
    ({"format": "something-else/2"}, "not a traffic-signs model file"),
])
def test_a_wrong_field_is_refused_naming_the_file_and_the_field(tmp_path, change, message):
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**json.loads(OLD_CHECKPOINT.read_text()), **change}))
    with pytest.raises(ModelFileError) as refused:
        read_model_file(broken)
    assert str(refused.value).startswith(f"{broken}: ") and message in str(refused.value)


def test_a_missing_required_field_is_named(tmp_path):
    data = json.loads(OLD_CHECKPOINT.read_text())
    del data["architecture"]
    with pytest.raises(ModelFileError, match="architecture is missing"):
        ModelFile.from_json(data, "model.json")


def test_unreadable_json_is_refused(tmp_path):
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="unreadable model metadata"):
        read_model_file(tmp_path / "model.json")


def test_keys_a_newer_version_added_survive_a_rewrite(tmp_path):
    newer = {**json.loads(OLD_CHECKPOINT.read_text()), "detector": {"onnx": "detector.onnx"}}
    model_file = ModelFile.from_json(newer, "newer.json")
    write_model_file(tmp_path / "rewritten.json", model_file)
    assert json.loads((tmp_path / "rewritten.json").read_text()) == newer
