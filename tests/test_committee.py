"""Committees: real short runs averaged into one model that evaluates, exports and predicts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from traffic_signs.classes import CLASS_NAMES
from traffic_signs.cli import main
from traffic_signs.models.inference import torch_logits
from traffic_signs.models.io import load_model
from traffic_signs.models.model_file import COMMITTEE, Member, ModelFile
from traffic_signs.training.recipe import training_command

SUBSET = ["--model", "signnet-s", "--limit-train", "8000", "--batch-size", "64", "--no-progress"]


@pytest.fixture(scope="module")
def data_args(gtsrb_dir, decoded_cache_dir) -> list[str]:
    return ["--data-dir", str(gtsrb_dir), "--cache-dir", str(decoded_cache_dir)]


@pytest.fixture(scope="module")
def members(tmp_path_factory, data_args) -> list[Path]:
    """Two signnet-s runs on one split: same seed (so same subset and tracks), 1 and 2 epochs."""
    root = tmp_path_factory.mktemp("committee")
    runs = []
    for epochs in ("1", "2"):
        out = root / f"member-{epochs}"
        assert main(["train", *SUBSET, "--epochs", epochs, "--out", str(out), *data_args]) == 0
        runs.append(out)
    return runs


@pytest.fixture(scope="module")
def committee(members, data_args, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("committee-out") / "signnet-s-x2"
    assert main(["committee", *map(str, members), "--out", str(out), *data_args]) == 0
    return out


def test_committee_averages_its_members_logits(members, committee, test_set):
    model, model_file = load_model(committee / "best.json")
    images = test_set.images[:500]
    member_logits = [torch_logits(load_model(m / "best.json")[0], images) for m in members]
    np.testing.assert_allclose(torch_logits(model, images), np.mean(member_logits, axis=0), atol=1e-5)
    assert model_file.is_committee and [m.architecture for m in model_file.members] == ["signnet-s"] * 2
    assert model_file.parameters == sum(load_model(m / "best.json")[1].parameters for m in members)
    assert hasattr(model, "class_activation_maps"), "SignNet members draw Grad-CAM, so the committee does"


def test_committee_validation_accuracy_is_the_one_evaluate_measures(committee, data_args, capsys):
    meta = json.loads((committee / "best.json").read_text())
    capsys.readouterr()
    assert main(["evaluate", str(committee), "--split", "val", "--format", "json",
                 "--out", str(committee / "eval-val"), *data_args]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == meta["metrics"]["val_images"]
    assert report["accuracy"] == pytest.approx(meta["metrics"]["val_accuracy"], abs=1e-9)
    assert report["accuracy"] > 0.3, "43 classes: chance is 2.3%"


def _committee_file(*members: Member) -> ModelFile:
    return ModelFile(architecture=COMMITTEE, class_names=list(CLASS_NAMES), members=list(members))


def test_committee_training_command_retrains_every_member():
    meta = _committee_file(*(Member("signnet", seed=s, epochs=20, epoch=19, precision="bf16", checkpoint=kept,
                                    train_config={"epochs": 20, "seed": s}) for s, kept in ((0, "best"), (1, "last"))))
    assert training_command(meta, "runs/x2") == (
        "traffic-signs train --model signnet --epochs 20 --seed 0 --precision bf16 --out runs/signnet-seed0 && "
        "traffic-signs train --model signnet --epochs 20 --seed 1 --precision bf16 --out runs/signnet-seed1 && "
        "traffic-signs committee runs/signnet-seed0 runs/signnet-seed1/last.json --out runs/x2")


def test_committee_members_with_one_seed_and_two_recipes_train_into_two_folders():
    noisy = {"epochs": 20, "seed": 0, "augment": {"noise_std": 0.12}}
    meta = _committee_file(*(Member("signnet", seed=0, epochs=20, epoch=20, precision="bf16", checkpoint="last",
                                    train_config=cfg) for cfg in ({"epochs": 20, "seed": 0}, noisy)))
    assert training_command(meta, "runs/x2") == (
        "traffic-signs train --model signnet --epochs 20 --seed 0 --precision bf16 --out runs/signnet-seed0 && "
        "traffic-signs train --model signnet --epochs 20 --seed 0 --precision bf16 --augment noise_std=0.12 "
        "--out runs/signnet-seed0-member1 && "
        "traffic-signs committee runs/signnet-seed0/last.json runs/signnet-seed0-member1/last.json --out runs/x2")


def test_exported_committee_runs_on_onnx_runtime_with_the_same_answers(committee, data_args, test_set):
    from traffic_signs.prediction.crops import CropClassifier
    from traffic_signs.prediction.reader import Classifier

    assert main(["export", str(committee), *data_args]) == 0
    classifier = Classifier(CropClassifier(committee / "best.json"))
    model, _ = load_model(committee / "best.json")
    images = test_set.images[:300]
    onnx_logits = classifier.model.logits(images)
    np.testing.assert_allclose(onnx_logits, torch_logits(model, images), atol=1e-3)
    assert classifier.model.has_grad_cam
    prediction = classifier.predict(Image.fromarray(test_set.images[0]))
    assert 0 <= prediction.confidence <= 1 and prediction.top_k


def _copy_run(src: Path, dst: Path, **config_changes) -> Path:
    dst.mkdir()
    for name in ("best.json", "best.safetensors"):
        (dst / name).write_bytes((src / name).read_bytes())
    meta = json.loads((dst / "best.json").read_text())
    meta["train_config"].update(config_changes)
    (dst / "best.json").write_text(json.dumps(meta))
    return dst


@pytest.mark.parametrize("change", [{"split_seed": 1}, {"val_fraction": 0.2}, {"limit_train": 9000}])
def test_members_with_another_validation_split_are_refused(members, tmp_path, data_args, capsys, change):
    other = _copy_run(members[1], tmp_path / "other", **change)
    code = main(["committee", str(members[0]), str(other), "--out", str(tmp_path / "c"), *data_args])
    assert code == 2
    assert "validation split differs" in capsys.readouterr().err
    assert not (tmp_path / "c" / "best.json").exists()


def test_a_committee_needs_two_members_and_no_nested_committee(members, committee, tmp_path, data_args, capsys):
    assert main(["committee", str(members[0]), "--out", str(tmp_path / "one"), *data_args]) == 2
    assert "at least two" in capsys.readouterr().err
    assert main(["committee", str(committee), str(members[0]), "--out", str(tmp_path / "n"), *data_args]) == 2
    assert "itself a committee" in capsys.readouterr().err


def test_a_committee_never_overwrites_a_trained_run(members, data_args, capsys):
    before = (members[1] / "best.safetensors").read_bytes()
    assert main(["committee", str(members[0]), str(members[1]), "--out", str(members[1]), *data_args]) == 2
    assert "holds a trained run" in capsys.readouterr().err
    assert (members[1] / "best.safetensors").read_bytes() == before


def test_a_committee_file_with_a_missing_member_is_refused(committee, tmp_path):
    from traffic_signs.errors import ModelFileError

    broken = _copy_run(committee, tmp_path / "broken")
    meta = json.loads((broken / "best.json").read_text())
    meta["members"] = meta["members"][:1]
    (broken / "best.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="do not fit"):
        load_model(broken / "best.json")
