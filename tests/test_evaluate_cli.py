"""`traffic-signs evaluate` on a real (tiny) training run and the real GTSRB data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from traffic_signs.cli import main
from traffic_signs.errors import ModelFileError
from traffic_signs.models.resolve import resolve_model_path

FILES = ("metrics.json", "report.md", "confusion_matrix.png", "worst_mistakes.png", "reliability.png",
         "risk_coverage.png")


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread: on a CPU shared with other jobs, two threads can run 10x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data_args(gtsrb_dir, decoded_cache_dir) -> list[str]:
    return ["--data-dir", str(gtsrb_dir), "--cache-dir", str(decoded_cache_dir)]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, data_args, one_thread) -> Path:
    out = tmp_path_factory.mktemp("evaluate") / "lenet5"
    assert main(["train", "--model", "lenet5", "--epochs", "2", "--limit-train", "8000", "--batch-size", "64",
                 "--no-progress", "--out", str(out), *data_args]) == 0
    return out


def _evaluate_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main(["evaluate", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("split", ["val", "test"])
def test_evaluate_writes_the_report_folder(run_dir, data_args, capsys, split):
    summary = _evaluate_json(capsys, str(run_dir), "--split", split, *data_args)
    out = run_dir / f"eval-{split}"
    for name in FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert {"split", "n", "accuracy", "macro_f1", "ece"} <= summary.keys()
    assert summary["split"] == split and Path(summary["out_dir"]) == out
    assert summary["accuracy"] > 0.10, "43 classes: chance is 2.3%"
    assert 0 <= summary["ece"] <= 1 and 0 <= summary["macro_f1"] <= 1
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == summary["n"] == sum(metrics["per_class"]["support"])
    assert len(metrics["confusion_matrix"]) == 43 and len(metrics["reliability"]["count"]) == 15
    assert metrics["worst_mistakes"] and metrics["worst_mistakes"][0]["confidence"] >= 0.0
    if split == "test":
        assert summary["n"] == 12630
    else:
        assert "suggested" in metrics and metrics["suggested"]["temperature"] > 0


def test_val_is_exactly_the_split_the_run_held_out(run_dir, data_args, capsys):
    """Same images, same order, same weights: the score must equal the training log's, bit for bit."""
    summary = _evaluate_json(capsys, str(run_dir / "best.json"), "--split", "val", *data_args)
    recorded = json.loads((run_dir / "best.json").read_text())["metrics"]
    assert summary["n"] == recorded["val_images"]
    assert summary["accuracy"] == recorded["val_accuracy"]


def test_markdown_output_and_custom_out_dir(run_dir, data_args, capsys, tmp_path):
    capsys.readouterr()
    assert main(["evaluate", str(run_dir), "--split", "val", "--out", str(tmp_path / "md"), *data_args]) == 0
    printed = capsys.readouterr().out
    assert printed == (tmp_path / "md" / "report.md").read_text()
    assert printed.startswith("# Evaluation: lenet5 on val") and "| accuracy |" in printed


def test_temperature_and_threshold_from_the_model_file(run_dir, data_args, capsys, tmp_path):
    """A calibrated model file (temperature + reject threshold in its JSON) gets both reported."""
    shutil.copy(run_dir / "best.safetensors", tmp_path / "best.safetensors")
    meta = json.loads((run_dir / "best.json").read_text())
    (tmp_path / "model.json").write_text(json.dumps({**meta, "temperature": 0.7, "threshold": 0.5}))
    summary = _evaluate_json(capsys, str(tmp_path / "model.json"), "--split", "val", *data_args)
    assert summary["temperature"] == 0.7
    assert {"ece", "nll", "aurc"} <= summary["calibrated"].keys()
    assert summary["selective"]["threshold"] == 0.5 and 0 <= summary["selective"]["coverage"] <= 1
    assert Path(summary["out_dir"]) == tmp_path / "eval-model-val"
    report = (tmp_path / "eval-model-val" / "report.md").read_text()
    assert "temperature 0.700" in report and "reject threshold 0.5000" in report


def test_val_refuses_a_model_trained_on_other_data(run_dir, data_args, capsys, tmp_path):
    shutil.copy(run_dir / "best.safetensors", tmp_path / "best.safetensors")
    meta = json.loads((run_dir / "best.json").read_text())
    (tmp_path / "best.json").write_text(json.dumps({**meta, "data_checksum": "0" * 16}))
    assert main(["evaluate", str(tmp_path), "--split", "val", *data_args]) == 2
    assert "validation split cannot be rebuilt" in capsys.readouterr().err


def test_a_tampered_weights_file_is_refused(run_dir, data_args, capsys, tmp_path):
    shutil.copy(run_dir / "best.json", tmp_path / "best.json")
    weights = bytearray((run_dir / "best.safetensors").read_bytes())
    weights[-1] ^= 0xFF
    (tmp_path / "best.safetensors").write_bytes(bytes(weights))
    assert main(["evaluate", str(tmp_path), *data_args]) == 2
    assert "checksum mismatch" in capsys.readouterr().err


def test_resolve_model_path(run_dir, tmp_path, monkeypatch):
    assert resolve_model_path(run_dir) == run_dir / "best.json"
    assert resolve_model_path(run_dir / "last.json") == run_dir / "last.json"
    assert resolve_model_path(run_dir / "best.safetensors") == run_dir / "best.json"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelFileError, match="not a run folder"):
        resolve_model_path("no-such-model")
    with pytest.raises(ModelFileError, match="without best.json"):
        resolve_model_path(tmp_path)
    shipped = Path(__file__).resolve().parents[1] / "src" / "traffic_signs" / "shipped" / "lenet5.json"
    if not shipped.is_file():
        with pytest.raises(ModelFileError, match="no trained or shipped 'lenet5'"):
            resolve_model_path("lenet5")
    shutil.copytree(run_dir, tmp_path / "runs" / "lenet5")
    assert resolve_model_path("lenet5") == Path("runs") / "lenet5" / "best.json"  # a trained run wins
