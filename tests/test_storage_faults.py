"""A full disk or a folder we may not write: a clear error or warning, and nothing corrupt left.

The faults are real kernel errors, not mocks: a file-size limit (RLIMIT_FSIZE, so writes fail
with EFBIG exactly where a full disk fails with ENOSPC) and folders we may not write: a
read-only folder, or, for root (which ignores file permissions), the read-only sysfs.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

from traffic_signs.classes import CLASS_NAMES
from traffic_signs.models.catalog import create
from traffic_signs.models.io import load_state, save_model
from traffic_signs.models.model_file import ModelFile


@pytest.fixture()
def shared_dir():
    """A folder every user may read (pytest's tmp_path is private to its owner)."""
    folder = Path(tempfile.mkdtemp(prefix="traffic-signs-faults-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def tiny_dataset(shared_dir, synthetic) -> Path:
    data = shared_dir / "data"
    data.mkdir()
    synthetic.official_zip(data / "GTSRB_Final_Training_Images.zip", classes=(0, 1, 2), tracks=4, frames=5)
    data.chmod(0o755)
    return data


def _file_size_limit(limit: int):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.fixture()
def locked_dir(shared_dir) -> tuple[Path, str]:
    """A folder this user cannot create files in, and the kernel's words for it."""
    if os.geteuid() == 0:
        return Path("/sys/traffic-signs-locked"), "Operation not permitted"
    locked = shared_dir / "locked"
    locked.mkdir(mode=0o555)
    return locked, "Permission denied"


def _train(args: list[str], home: Path, preexec) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(home), "TRAFFIC_SIGNS_THREADS": "1", "MPLCONFIGDIR": str(home)}
    return subprocess.run([sys.executable, "-m", "traffic_signs", "train", "--model", "lenet5", "--epochs", "1",
                           "--no-progress", *args], capture_output=True, text=True, env=env, preexec_fn=preexec,
                          timeout=300)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp")) if folder.exists() else []


def test_training_on_a_full_disk_fails_cleanly(tiny_dataset, shared_dir):
    run, cache = shared_dir / "run", shared_dir / "cache"
    done = _train(["--data-dir", str(tiny_dataset), "--cache-dir", str(cache), "--out", str(run)], shared_dir,
                  _file_size_limit(100_000))
    assert done.returncode == 2, done.stderr
    assert "warning: decoded images not cached" in done.stderr  # the cache is optional: training went on
    assert f"error: cannot write {run}/last" in done.stderr and "File too large" in done.stderr
    assert "Traceback" not in done.stderr
    assert _leftovers(run) == [] and _leftovers(cache) == []
    assert not list(cache.glob("*.npz")), "no half-written cache"


def test_training_into_a_read_only_folder_fails_cleanly(tiny_dataset, shared_dir, locked_dir):
    locked, refusal = locked_dir
    done = _train(["--data-dir", str(tiny_dataset), "--cache-dir", str(locked / "cache"), "--out",
                   str(locked / "run")], shared_dir, None)
    assert done.returncode == 2, done.stderr
    assert "warning: decoded images not cached" in done.stderr
    assert f"error: cannot write {locked}/run/last" in done.stderr and refusal in done.stderr
    assert "Traceback" not in done.stderr
    assert not (locked / "run").exists()


def test_a_failed_checkpoint_write_keeps_the_previous_pair(shared_dir):
    torch.manual_seed(0)
    model = create("lenet5")
    stem = shared_dir / "last"
    save_model(stem, model, ModelFile("lenet5", list(CLASS_NAMES), epoch=1))
    before = {k: v.clone() for k, v in load_state(stem.with_suffix(".json"))[0].items()}
    overwrite = ("import torch; from traffic_signs.models.io import save_model; "
                 "from traffic_signs.models.catalog import create; torch.manual_seed(1); "
                 "from traffic_signs.models.model_file import ModelFile; "
                 "from traffic_signs.classes import CLASS_NAMES; "
                 f"save_model({str(stem)!r}, create('lenet5'), ModelFile('lenet5', list(CLASS_NAMES), epoch=2))")
    done = subprocess.run([sys.executable, "-c", overwrite], capture_output=True, text=True,
                          preexec_fn=_file_size_limit(50_000), timeout=120)
    assert done.returncode != 0 and "StorageError: cannot write" in done.stderr
    tensors, model_file = load_state(stem.with_suffix(".json"))  # checksum-verified
    assert model_file.epoch == 1 and all(torch.equal(tensors[k], before[k]) for k in before)
    assert sorted(p.name for p in shared_dir.iterdir()) == ["last.json", "last.safetensors"]
