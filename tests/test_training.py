"""Training on the real data: learning happens, checkpoints resume exactly, DDP runs."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from traffic_signs.cli import main
from traffic_signs.data.scenes import find_background_photos
from traffic_signs.models.io import load_model, load_state
from traffic_signs.training.devices import resolve_precision
from traffic_signs.training.recipe import training_command

SUBSET = ["--limit-train", "8000", "--batch-size", "64", "--no-progress"]


def _train(run_dir: Path, gtsrb_dir: Path, cache: Path, *extra: str) -> dict:
    args = ["train", "--out", str(run_dir), "--data-dir", str(gtsrb_dir), "--cache-dir", str(cache)]
    assert main(args + SUBSET + list(extra)) == 0
    return json.loads((run_dir / "state.json").read_text())


def _command(run_dir: Path, gtsrb_dir: Path, cache: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "traffic_signs", "train", "--out", str(run_dir),
            "--data-dir", str(gtsrb_dir), "--cache-dir", str(cache), *SUBSET, *extra]


def test_short_run_learns_and_writes_a_complete_run_folder(tmp_path, gtsrb_dir, decoded_cache_dir):
    state = _train(tmp_path / "run", gtsrb_dir, decoded_cache_dir, "--model", "signnet-s",
                   "--epochs", "3", "--augment", "noise_prob=0.3")
    assert state["epoch"] == 3
    assert state["best_val_accuracy"] > 0.3, "43 classes: chance is 2.3%"
    assert state["environment"]["precision"] == resolve_precision("auto", torch.device("cpu"))
    for name in ("best.json", "best.safetensors", "last.json", "last.safetensors",
                 "optimizer.safetensors", "history.json", "curves.png"):
        assert (tmp_path / "run" / name).is_file(), name
    model, model_file = load_model(tmp_path / "run" / "best.json")
    assert model_file.architecture == "signnet-s" and len(model_file.class_names) == 43
    assert model_file.data_checksum and model_file.train_config["seed"] == 0
    assert model_file.precision == state["environment"]["precision"]
    assert training_command(model_file) == ("traffic-signs train --model signnet-s --epochs 3 --seed 0 --precision "
                                            f"{model_file.precision} --batch-size 64 --augment noise_prob=0.3")
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3]


def test_kill_9_then_resume_matches_an_uninterrupted_run(tmp_path, gtsrb_dir, decoded_cache_dir):
    """A run killed mid-training and resumed ends with the same weights as one never killed."""
    args = ("--model", "lenet5", "--epochs", "4")
    _train(tmp_path / "straight", gtsrb_dir, decoded_cache_dir, *args)

    killed = tmp_path / "killed"
    process = subprocess.Popen(_command(killed, gtsrb_dir, decoded_cache_dir, *args),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (killed / "state.json").is_file():
        assert process.poll() is None, "training exited before its first checkpoint"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    interrupted_at = json.loads((killed / "state.json").read_text())["epoch"]
    assert interrupted_at < 4, "the kill came too late to test anything"

    resumed = _train(killed, gtsrb_dir, decoded_cache_dir, *args, "--resume")
    straight = json.loads((tmp_path / "straight" / "state.json").read_text())
    assert resumed["epoch"] == 4
    a, _ = load_state(tmp_path / "straight" / "last.json")
    b, _ = load_state(killed / "last.json")
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6, msg=key)
    assert resumed["best_val_accuracy"] == pytest.approx(straight["best_val_accuracy"], abs=1e-9)


def test_time_budget_plans_the_schedule_and_stops(tmp_path, gtsrb_dir, decoded_cache_dir):
    start = time.monotonic()
    state = _train(tmp_path / "run", gtsrb_dir, decoded_cache_dir, "--model", "lenet5",
                   "--epochs", "1000", "--time-budget", "15")
    elapsed = time.monotonic() - start
    assert 1 <= state["epochs"] < 1000, "the planned epochs must come from the budget"
    assert state["epoch"] == state["epochs"]
    assert elapsed < 15 * 2 + 20


def test_two_process_ddp_on_cpu(tmp_path, gtsrb_dir, decoded_cache_dir):
    run_dir = tmp_path / "ddp"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "traffic_signs", "train", "--model", "lenet5",
               "--epochs", "3", "--out", str(run_dir), "--data-dir", str(gtsrb_dir),
               "--cache-dir", str(decoded_cache_dir), *SUBSET]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    # the workers' own messages come first, torchrun's summary last: show both
    assert result.returncode == 0, result.stderr[:3000] + "\n...\n" + result.stderr[-1500:]
    state = json.loads((run_dir / "state.json").read_text())
    assert state["environment"]["processes"] == 2
    assert state["epoch"] == 3 and state["best_val_accuracy"] > 0.1


def test_precision_is_resolved_from_the_request_and_the_hardware():
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == "fp32" and resolve_precision("bf16", cpu) == "bf16"
    native = torch.cpu.get_capabilities().get("avx512_bf16") or torch.cpu.get_capabilities().get("amx_bf16")
    assert resolve_precision("auto", cpu) == ("bf16" if native else "fp32")
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("fp16", cpu)


@pytest.mark.parametrize(("setting", "message"), [
    ("bogus=1", "unknown key 'bogus'"),
    ("noise_prob=lots", "is not a number"),
    ("scale=0.9", "takes LOW,HIGH"),
    ("noise_prob=0.1,0.2", "takes one number"),
])
def test_bad_augmentation_settings_are_refused_before_training(tmp_path, capsys, setting, message):
    code = main(["train", "--model", "lenet5", "--out", str(tmp_path / "run"), "--augment", setting])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_outlier_exposure_lowers_confidence_on_upside_down_signs(tmp_path, gtsrb_dir, decoded_cache_dir, train_set):
    """Two short runs alike but for --outlier-weight: the exposed one is less sure of turned signs."""
    from traffic_signs.classes import turnable
    from traffic_signs.data.split import validation_subset
    from traffic_signs.models.inference import torch_logits

    confidence = {}
    for weight in ("0", "1"):
        run = tmp_path / f"outliers-{weight}"
        state = _train(run, gtsrb_dir, decoded_cache_dir, "--model", "signnet-s", "--epochs", "2",
                       "--outlier-weight", weight)
        model, model_file = load_model(run / "last.json")
        assert model_file.train_config["outlier_weight"] == float(weight)
        val = validation_subset(train_set, model_file.split)
        turned = val.images[turnable(val.labels)][:, ::-1, ::-1].copy()
        probs = torch.from_numpy(torch_logits(model, turned)).softmax(1)
        confidence[weight] = float(probs.max(1).values.mean())
        assert state["history"][-1]["val_accuracy"] > 0.2, "outliers must not stop it learning the signs"
    assert confidence["1"] < confidence["0"] - 0.1, confidence
    assert training_command(model_file).endswith("--batch-size 64 --outlier-weight 1")


@pytest.mark.skipif(not find_background_photos(), reason="no background photographs (scripts/install_backgrounds.sh)")
def test_photo_views_train_and_are_recorded(tmp_path, gtsrb_dir, decoded_cache_dir):
    """A short run with every photo view learns the signs, and its model file repeats the recipe."""
    run = tmp_path / "photo"
    state = _train(run, gtsrb_dir, decoded_cache_dir, "--model", "signnet-s", "--epochs", "2",
                   "--photo-framing", "0.4", "--drawn-designs", "all", "--outlier-weight", "0.5",
                   "--outliers", "background,fragment,drawn")
    assert state["history"][-1]["val_accuracy"] > 0.2
    _, model_file = load_model(run / "last.json")
    assert model_file.train_config["outliers"] == ["background", "fragment", "drawn"]
    assert training_command(model_file).endswith("--batch-size 64 --outlier-weight 0.5 --photo-framing 0.4 "
                                                 "--drawn-designs all --outliers background,fragment,drawn")


def test_init_from_another_split_is_refused(tmp_path, gtsrb_dir, decoded_cache_dir, capsys):
    """Fine-tuning the shipped member on a subset would validate on images it trained on."""
    from traffic_signs.prediction.crops import DEFAULT_MODEL, find_model_json

    member = f"{find_model_json(DEFAULT_MODEL)}:0"
    code = main(["train", "--model", "signnet-stn", "--init", member, "--out", str(tmp_path / "run"),
                 "--data-dir", str(gtsrb_dir), "--cache-dir", str(decoded_cache_dir), *SUBSET])
    assert code != 0 and "another validation split" in capsys.readouterr().err


def test_outlier_loss_is_zero_only_for_an_even_answer():
    from traffic_signs.data.photo_views import upside_down
    from traffic_signs.training.losses import distance_from_uniform

    assert distance_from_uniform(torch.zeros(4, 43)).abs().item() < 1e-6
    assert distance_from_uniform(torch.eye(43)[:4] * 10).item() > 5
    image = torch.arange(2 * 3 * 3 * 3, dtype=torch.uint8).view(2, 3, 3, 3)
    assert torch.equal(upside_down(image)[:, 0, 0], image[:, 2, 2])
    assert torch.equal(upside_down(upside_down(image)), image)


def test_jensen_shannon_is_zero_for_agreement_symmetric_and_at_most_log_2():
    from traffic_signs.training.losses import jensen_shannon

    a, b = torch.randn(8, 43), torch.randn(8, 43)
    assert jensen_shannon(a, a).abs().item() < 1e-6
    torch.testing.assert_close(jensen_shannon(a, b), jensen_shannon(b, a))
    assert 0 < jensen_shannon(a, b).item() < np.log(2)
    opposite = jensen_shannon(torch.eye(43)[:4] * 50, torch.eye(43)[1:5] * 50)
    assert abs(opposite.item() - np.log(2)) < 1e-4, "two sure, different answers: log 2"


def test_consistency_makes_answers_agree_on_corrupted_copies(tmp_path, gtsrb_dir, decoded_cache_dir, train_set):
    """Two short runs alike but for --consistency: the trained one answers a harshly corrupted copy
    of the validation images more like the clean images, and keeps more of its accuracy there."""
    from traffic_signs.data.augment import corrupt, to_float
    from traffic_signs.data.augment_config import HARSH
    from traffic_signs.data.split import validation_subset
    from traffic_signs.training.losses import jensen_shannon

    agreement, kept = {}, {}
    for weight in ("0", "4"):
        run = tmp_path / f"consistency-{weight}"
        _train(run, gtsrb_dir, decoded_cache_dir, "--model", "signnet-s", "--epochs", "2",
               "--consistency", weight, "--harsh", "noise_std=0.2")
        model, model_file = load_model(run / "last.json")
        val = validation_subset(train_set, model_file.split)
        clean = to_float(torch.from_numpy(val.images))
        harsh = corrupt(clean, HARSH, torch.Generator().manual_seed(0))
        with torch.no_grad():
            model.eval()
            clean_logits, harsh_logits = model(clean), model(harsh)
        agreement[weight] = jensen_shannon(clean_logits, harsh_logits).item()
        right = [(logits.argmax(1).numpy() == val.labels).mean() for logits in (harsh_logits, clean_logits)]
        kept[weight] = right[0] / right[1]
    assert agreement["4"] < 0.7 * agreement["0"], agreement
    assert kept["4"] > kept["0"] + 0.05, kept
    assert model_file.train_config["harsh"]["noise_std"] == 0.2
    assert training_command(model_file).endswith("--batch-size 64 --consistency 4 --harsh noise_std=0.2")


def test_distill_keeps_the_starting_models_answers(tmp_path, gtsrb_dir, decoded_cache_dir, capsys):
    """A fine-tune with --distill stays closer to its --init model's answers than the same fine-tune
    without it; the recipe records it, and it is refused without --init."""
    from traffic_signs.data.cache import load_split
    from traffic_signs.models.inference import torch_logits
    from traffic_signs.training.losses import kept_answers

    logits = torch.randn(5, 43)
    assert kept_answers(logits, logits).abs().item() < 1e-6 and kept_answers(logits, -logits).item() > 0.1
    start = tmp_path / "start"
    _train(start, gtsrb_dir, decoded_cache_dir, "--model", "lenet5", "--epochs", "1")
    for name, weight in (("plain", "0"), ("kept", "5")):
        _train(tmp_path / name, gtsrb_dir, decoded_cache_dir, "--model", "lenet5", "--epochs", "1", "--lr", "0.01",
               "--init", str(start / "last.json"), "--outlier-weight", "1", "--distill", weight)
    models = {name: load_model(tmp_path / name / "last.json")[0] for name in ("start", "plain", "kept")}
    batch = load_split("test", gtsrb_dir, 32, decoded_cache_dir).images[:512]
    answers = {name: torch_logits(model, batch) for name, model in models.items()}
    drift = {name: kept_answers(torch.as_tensor(answers[name]), torch.as_tensor(answers["start"])).item()
             for name in ("plain", "kept")}
    assert drift["kept"] < drift["plain"], drift
    _, model_file = load_model(tmp_path / "kept" / "last.json")
    assert "--distill 5" in training_command(model_file)
    code = main(["train", "--model", "lenet5", "--distill", "1", "--out", str(tmp_path / "no-init"),
                 "--data-dir", str(gtsrb_dir), "--cache-dir", str(decoded_cache_dir), *SUBSET])
    assert code != 0 and "give --init too, or --teacher" in capsys.readouterr().err


def test_teacher_answers_on_every_view_are_part_of_the_loss():
    """With --teacher the distillation term compares every view of the batch (signs and outliers),
    softened by the temperature; without one the loss is what it was."""
    from traffic_signs.training.losses import distilled, kept_answers, training_loss
    from traffic_signs.training.recipe import TrainConfig

    generator = torch.Generator().manual_seed(0)
    logits = {"clean": torch.randn(6, 43, generator=generator), "outliers": torch.randn(2, 43, generator=generator)}
    labels, teacher = torch.arange(6), torch.randn(8, 43, generator=generator)
    plain = training_loss(TrainConfig(model="lenet5", outlier_weight=1), logits, labels)
    taught = TrainConfig(model="lenet5", outlier_weight=1, distill=2, teacher="teacher.json")
    expected = plain + 2 * kept_answers(torch.cat([logits["clean"], logits["outliers"]]), teacher)
    torch.testing.assert_close(training_loss(taught, logits, labels, teacher), expected)
    outliers_agree = torch.cat([teacher[:6], logits["outliers"]])
    assert training_loss(taught, logits, labels, outliers_agree) < training_loss(taught, logits, labels, teacher)
    assert distilled(teacher, teacher, 4).abs().item() < 1e-6
    torch.testing.assert_close(distilled(logits["clean"], teacher[:6], 3),
                               9 * kept_answers(logits["clean"] / 3, teacher[:6] / 3))


def test_a_student_learns_its_teachers_answers(tmp_path, gtsrb_dir, decoded_cache_dir, capsys):
    """A run taught by --teacher (another architecture, from scratch, another seed) ends closer to the
    teacher's answers on test signs than the same run untaught; the command names the teacher; a
    teacher answering in other classes is refused."""
    from traffic_signs.data.cache import load_split
    from traffic_signs.models.inference import torch_logits
    from traffic_signs.models.model_file import read_model_file, write_model_file
    from traffic_signs.training.losses import kept_answers

    teacher = tmp_path / "teacher"
    _train(teacher, gtsrb_dir, decoded_cache_dir, "--model", "signnet-s", "--epochs", "2")
    for name, extra in (("plain", ()), ("taught", ("--teacher", str(teacher / "last.json"), "--distill", "2"))):
        _train(tmp_path / name, gtsrb_dir, decoded_cache_dir, "--model", "lenet5", "--epochs", "1", "--seed", "1",
               "--outlier-weight", "1", *extra)
    models = {name: load_model(tmp_path / name / "last.json")[0] for name in ("teacher", "plain", "taught")}
    batch = load_split("test", gtsrb_dir, 32, decoded_cache_dir).images[:512]
    answers = {name: torch.as_tensor(torch_logits(model, batch)) for name, model in models.items()}
    gap = {name: kept_answers(answers[name], answers["teacher"]).item() for name in ("plain", "taught")}
    assert gap["taught"] < gap["plain"], gap
    _, model_file = load_model(tmp_path / "taught" / "last.json")
    assert f"--distill 2 --teacher {teacher / 'last.json'}" in training_command(model_file)
    assert "--teacher" not in training_command(load_model(tmp_path / "plain" / "last.json")[1])
    record = read_model_file(teacher / "last.json")
    write_model_file(tmp_path / "teacher" / "reordered.json",
                     dataclasses.replace(record, class_names=record.class_names[::-1]))
    code = main(["train", "--model", "lenet5", "--teacher", str(teacher / "reordered.json"), "--distill", "1",
                 "--out", str(tmp_path / "refused"), "--data-dir", str(gtsrb_dir),
                 "--cache-dir", str(decoded_cache_dir), *SUBSET])
    assert code != 0 and "its answers cannot be learnt" in capsys.readouterr().err


def test_teach_on_photos_asks_the_teacher_only_on_photo_views_and_outliers():
    """With --teach-on photos the plain signs of the clean view get the --init copy's answers and the
    photo-framed signs and outliers the teacher's, each mirrored sign shown to either model as it was;
    a place to teach that is not one is refused."""
    from types import SimpleNamespace

    from traffic_signs.data.augment import MIRROR
    from traffic_signs.errors import TrafficSignsError
    from traffic_signs.models.catalog import get_entry
    from traffic_signs.training.batches import Batch
    from traffic_signs.training.loop import frozen_copy, start, teacher_answers
    from traffic_signs.training.recipe import TrainConfig

    torch.manual_seed(0)
    teacher, keeper = (frozen_copy(get_entry("lenet5").build(43)) for _ in range(2))
    inputs = torch.rand(8, 3, 32, 32)
    mirrored = torch.tensor([False, True, False, True, False, False])
    framed = torch.tensor([True, True, False, False, True, False])
    batch = Batch(inputs, torch.zeros(6, dtype=torch.long), {"clean": 6, "outliers": 2}, mirrored, framed)
    cfg = TrainConfig(model="lenet5", distill=1, teacher="t.json", init="i.json", teach_on="photos")
    with torch.no_grad():
        got = teacher_answers(SimpleNamespace(cfg=cfg, teacher=teacher, keeper=keeper), batch)
        shown = torch.where(torch.cat([mirrored, torch.zeros(2, dtype=torch.bool)])[:, None, None, None],
                            inputs.flip(-1), inputs)
        by_teacher, by_keeper = teacher(shown), keeper(shown)
    expected = torch.where(torch.cat([framed, torch.ones(2, dtype=torch.bool)])[:, None], by_teacher, by_keeper)
    expected[:6][mirrored] = expected[:6][mirrored][:, MIRROR]
    torch.testing.assert_close(got, expected)
    everywhere = teacher_answers(SimpleNamespace(cfg=dataclasses.replace(cfg, teach_on="all"), teacher=teacher,
                                                 keeper=None), batch)
    clean, teacher_kept = everywhere[:6], got[:6]
    assert torch.allclose(clean[framed], teacher_kept[framed]) and torch.allclose(everywhere[6:], got[6:])
    assert not torch.allclose(clean[~framed], teacher_kept[~framed]), "the plain signs are the keeper's"
    with pytest.raises(TrafficSignsError, match="choose one of all, photos"):
        start(dataclasses.replace(cfg, teach_on="outliers"), Path("unused"), progress_bar=False)


def test_teach_on_photos_is_recorded_and_needs_both_models(tmp_path, gtsrb_dir, decoded_cache_dir, capsys):
    """A run taught on photos only names --teach-on photos in its command; without --init it is refused."""
    data = ["--data-dir", str(gtsrb_dir), "--cache-dir", str(decoded_cache_dir), *SUBSET]
    start = tmp_path / "start"
    _train(start, gtsrb_dir, decoded_cache_dir, "--model", "lenet5", "--epochs", "1", "--limit-train", "1000")
    taught = ["--model", "lenet5", "--epochs", "1", "--limit-train", "1000", "--photo-framing", "0.5",
              "--outlier-weight", "1", "--outliers", "upside_down,background",
              "--teacher", str(start / "last.json"), "--distill", "1", "--teach-on", "photos"]
    _train(tmp_path / "taught", gtsrb_dir, decoded_cache_dir, *taught, "--init", str(start / "last.json"))
    assert "--teacher {} --teach-on photos".format(start / "last.json") in training_command(
        load_model(tmp_path / "taught" / "last.json")[1])
    assert main(["train", *taught, "--out", str(tmp_path / "refused"), *data]) != 0
    assert "give both" in capsys.readouterr().err


def test_soup_averages_runs_fine_tuned_from_one_start_and_names_them_in_its_command(
        tmp_path, gtsrb_dir, decoded_cache_dir, capsys):
    """Two fine-tunes of one run make a soup whose weights are their mean and whose command
    retrains both; a run that did not start from those weights is refused."""
    from safetensors.numpy import load_file

    data = ["--data-dir", str(gtsrb_dir), "--cache-dir", str(decoded_cache_dir)]
    start = tmp_path / "start"
    _train(start, gtsrb_dir, decoded_cache_dir, "--model", "lenet5", "--epochs", "1")
    for name, lr in (("a", "0.002"), ("b", "0.0005")):
        _train(tmp_path / name, gtsrb_dir, decoded_cache_dir, "--model", "lenet5", "--epochs", "1",
               "--init", str(start / "last.json"), "--lr", lr)
    ingredients = [str(tmp_path / name / "last.json") for name in ("a", "b")]
    assert main(["soup", *ingredients, "--out", str(tmp_path / "soup"), *data]) == 0
    a, b = (load_file(str(tmp_path / name / "last.safetensors")) for name in ("a", "b"))
    soup = load_file(str(tmp_path / "soup" / "best.safetensors"))
    assert set(soup) == set(a) and any(not np.allclose(a[k], b[k]) for k in a)
    for key in a:
        assert np.allclose(soup[key], (a[key] + b[key]) / 2, atol=1e-6), key
    _, model_file = load_model(tmp_path / "soup" / "best.json")
    assert 0 < model_file.metrics["val_accuracy"] <= 1
    command = training_command(model_file, "runs/soup")
    assert command.count("traffic-signs train") == 2 and "--lr 0.0005" in command
    assert "--out runs/lenet5-seed0 " in command and "--out runs/lenet5-seed0-ingredient1 " in command
    assert command.endswith("traffic-signs soup runs/lenet5-seed0/last.json runs/lenet5-seed0-ingredient1/last.json "
                            "--out runs/soup")
    code = main(["soup", ingredients[0], str(start / "last.json"), "--out", str(tmp_path / "bad"), *data])
    assert code != 0 and "was not fine-tuned" in capsys.readouterr().err
    kept = (tmp_path / "a" / "best.json").read_bytes()
    assert main(["soup", *ingredients, "--out", str(tmp_path / "a"), *data]) != 0
    assert "holds a trained run" in capsys.readouterr().err and (tmp_path / "a" / "best.json").read_bytes() == kept
    assert main(["soup", *ingredients, "--out", str(tmp_path / "soup"), *data]) == 0, "a soup is remade in place"

    assert main(["soup", *ingredients, "--init-share", "0.25", "--out", str(tmp_path / "wise"), *data]) == 0
    wise, init = load_file(str(tmp_path / "wise" / "best.safetensors")), load_file(str(start / "last.safetensors"))
    for key in a:
        if np.issubdtype(a[key].dtype, np.floating):
            assert np.allclose(wise[key], 0.75 * soup[key] + 0.25 * init[key], atol=1e-6), key
    _, model_file = load_model(tmp_path / "wise" / "best.json")
    assert training_command(model_file, "runs/wise").endswith(
        "traffic-signs soup runs/lenet5-seed0/last.json runs/lenet5-seed0-ingredient1/last.json --init-share 0.25 "
        "--out runs/wise")
    with pytest.raises(SystemExit):
        main(["soup", *ingredients, "--init-share", "1", "--out", str(tmp_path / "all-init"), *data])
    assert main(["soup", ingredients[0], "--init-share", "0.5", "--out", str(tmp_path / "one"), *data]) == 0
    one = load_file(str(tmp_path / "one" / "best.safetensors"))
    for key in a:
        if np.issubdtype(a[key].dtype, np.floating):
            assert np.allclose(one[key], 0.5 * a[key] + 0.5 * init[key], atol=1e-6), key
    capsys.readouterr()
    assert main(["soup", ingredients[0], "--out", str(tmp_path / "one-plain"), *data]) != 0
    assert "or one with --init-share" in capsys.readouterr().err


def test_a_mirrored_sign_is_shown_to_the_teacher_as_it_was_and_its_answer_mirrored(train_set):
    """--augment mirror_prob with --distill: the --init copy may know a double curve in one handing
    only, so it reads the sign before the flip and its answer moves to the mirrored classes (a
    curve left's evidence becomes a curve right's); rows that were not mirrored are read as given."""
    from types import SimpleNamespace

    from traffic_signs.data.augment import MIRROR, to_float
    from traffic_signs.models.catalog import create
    from traffic_signs.training.batches import Batch
    from traffic_signs.training.loop import teacher_answers
    from traffic_signs.training.recipe import TrainConfig

    torch.manual_seed(0)
    teacher = create("lenet5").eval()
    signs = to_float(torch.from_numpy(train_set.images[:4]))
    mirrored = torch.tensor([True, False, True, False])
    shown = torch.where(mirrored[:, None, None, None], signs.flip(-1), signs)  # the batch as training sees it
    outliers = to_float(torch.from_numpy(train_set.images[4:6]))
    batch = Batch(torch.cat([shown, outliers]), torch.zeros(4, dtype=torch.long), {"clean": 4, "outliers": 2},
                  mirrored)
    with torch.no_grad():
        before = teacher(signs)
        answers = teacher_answers(SimpleNamespace(teacher=teacher, keeper=None, cfg=TrainConfig(model="lenet5")),
                                  batch)
        every_view = teacher_answers(SimpleNamespace(teacher=teacher, keeper=None,
                                                     cfg=TrainConfig(model="lenet5", teacher="t.json")), batch)
    assert answers.shape == (4, 43) and every_view.shape == (6, 43)
    torch.testing.assert_close(answers[~mirrored], before[~mirrored])
    torch.testing.assert_close(answers[mirrored][:, MIRROR], before[mirrored])
    assert MIRROR[19] == 20 and not torch.allclose(answers[mirrored], before[mirrored])
    torch.testing.assert_close(every_view[:4], answers)
    torch.testing.assert_close(every_view[4:], teacher(outliers))
