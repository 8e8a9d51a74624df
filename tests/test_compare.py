"""`traffic-signs compare` on two real models, briefly trained on a subset of the real data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from traffic_signs.cli import main

MODELS = ["lenet5", "signnet-s"]  # a classic baseline and one of ours


@pytest.fixture(scope="module")
def compared(tmp_path_factory, gtsrb_dir, decoded_cache_dir) -> dict:
    root = tmp_path_factory.mktemp("compare")
    args = ["compare", "--models", ",".join(MODELS), "--epochs", "1", "--limit-train", "2000", "--threads", "1",
            "--runs-dir", str(root / "runs"), "--out", str(root / "out"), "--no-progress",
            "--data-dir", str(gtsrb_dir), "--cache-dir", str(decoded_cache_dir)]
    assert main(args) == 0
    return {"root": root, "args": args, "json": json.loads((root / "out" / "compare.json").read_text()),
            "md": (root / "out" / "compare.md").read_text()}


def _table(markdown: str) -> list[list[str]]:
    rows = [line for line in markdown.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def test_compare_writes_one_table_with_every_model(compared):
    table = _table(compared["md"])
    header, rule, *rows = table
    assert header[0] == "model" and "test acc" in header and "img/s" in header and "MMACs" in header
    assert set(rule) <= {"---", "---:"}
    assert len(rows) == len(MODELS)
    assert [r for r in rows if r[0] == "**signnet-s** (ours)"], "our model is marked"
    assert [r for r in rows if r[0] == "lenet5"], "baselines are not"
    accuracies = [float(r[header.index("test acc")].rstrip("%")) for r in rows]
    assert accuracies == sorted(accuracies, reverse=True)


def test_compare_records_the_command_that_produced_it(compared):
    command = compared["json"]["command"]
    assert command.startswith("traffic-signs compare --models lenet5,signnet-s --epochs 1 --limit-train 2000")
    assert f"```\n{command}\n```" in compared["md"]


def test_compare_json_has_the_measurements(compared):
    rows = {r["name"]: r for r in compared["json"]["models"]}
    assert set(rows) == set(MODELS)
    assert rows["signnet-s"]["ours"] and not rows["lenet5"]["ours"]
    for row in rows.values():
        assert row["parameters"] > 10_000 and row["macs"] > row["parameters"]
        assert row["epochs"] == 1 and row["train_seconds"] > 0 and row["images_per_second"] > 0
        assert row["test"]["n"] == 12630 and 0 <= row["test"]["accuracy"] <= 1
        assert row["val"]["n"] > 0 and row["temperature"] > 0 and "ece_calibrated" in row["test"]
        assert (Path(row["run_dir"]) / "eval-test" / "report.md").is_file()
    assert rows["lenet5"]["macs"] < rows["signnet-s"]["macs"]
    assert compared["json"]["environment"]["threads"] == 1


def test_reuse_measures_again_without_retraining(compared):
    state = compared["root"] / "runs" / "lenet5" / "state.json"
    before = state.stat().st_mtime_ns
    out = compared["root"] / "reused"
    args = [a if a != str(compared["root"] / "out") else str(out) for a in compared["args"]]
    assert main([*args, "--models", "lenet5", "--reuse"]) == 0
    assert state.stat().st_mtime_ns == before, "a finished run must not be retrained"
    again = json.loads((out / "compare.json").read_text())["models"][0]
    first = next(r for r in compared["json"]["models"] if r["name"] == "lenet5")
    assert again["test"]["accuracy"] == first["test"]["accuracy"]
    assert again["train_seconds"] == first["train_seconds"]


def test_reuse_refuses_a_run_on_another_split(compared, capsys):
    args = [a if a != "2000" else "3000" for a in compared["args"]]
    assert main([*args, "--reuse"]) == 2
    assert "cannot reuse" in capsys.readouterr().err


def test_unknown_model_is_a_clean_error(capsys, tmp_path):
    assert main(["compare", "--models", "lenet5,nope", "--out", str(tmp_path)]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err
