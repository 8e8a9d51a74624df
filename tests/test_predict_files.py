"""`traffic-signs predict` reads regular files only, bounded in size, and walks folders and
`**` globs without following symlink loops; what it cannot read is an error row."""

from __future__ import annotations

import json
import os
import socket
import time

import numpy as np
from PIL import Image

from traffic_signs.cli import main
from traffic_signs.inputs import expand_paths


def _sign(path) -> None:
    Image.fromarray(np.full((40, 40, 3), (200, 20, 20), dtype=np.uint8)).save(path)


def _run(capsys, *args: str) -> tuple[int, list[dict]]:
    code = main(["predict", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_special_files_are_error_rows_and_the_run_goes_on(tmp_path, capsys):
    _sign(tmp_path / "good.png")
    os.mkfifo(tmp_path / "fifo.png")
    (tmp_path / "zero.png").symlink_to("/dev/zero")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock.png"))
        started = time.monotonic()
        code, rows = _run(capsys, str(tmp_path / "fifo.png"), str(tmp_path / "zero.png"),
                          str(tmp_path / "sock.png"), str(tmp_path / "good.png"))
    assert time.monotonic() - started < 10 and code == 1
    by_name = {os.path.basename(r["file"]): r for r in rows}
    assert "FIFO" in by_name["fifo.png"]["error"]
    assert "character device" in by_name["zero.png"]["error"]
    assert "socket" in by_name["sock.png"]["error"] or "cannot read" in by_name["sock.png"]["error"]
    assert "class_id" in by_name["good.png"]


def test_oversized_file_is_refused_before_reading(tmp_path, capsys):
    big = tmp_path / "big.png"
    with open(big, "wb") as file:
        file.truncate(65 * 2**20)  # sparse: no real disk or memory used
    code, rows = _run(capsys, str(big))
    assert code == 1 and "limit per file" in rows[0]["error"]


def test_symlink_loops_do_not_make_the_walk_endless(tmp_path, capsys):
    folder = tmp_path / "d"
    (folder / "sub").mkdir(parents=True)
    _sign(folder / "sub" / "a.png")
    (folder / "sub" / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "self").symlink_to(folder / "self")
    started = time.monotonic()
    for pattern in (str(folder), str(folder / "**" / "*.png")):
        assert [file for file, _ in expand_paths([pattern])] == [str(folder / "sub" / "a.png")]
    assert len(expand_paths([str(folder) + "/**"])) == 2  # a.png and the looping link, not endless
    code, rows = _run(capsys, str(folder / "**" / "*.png"))
    assert code == 0 and rows[0]["file"].endswith("a.png")
    assert time.monotonic() - started < 10


def test_glob_matches_like_glob(tmp_path):
    (tmp_path / "x" / "y").mkdir(parents=True)
    for name in ("x/a.png", "x/y/b.png", "x/y/c.jpg", "top.png"):
        _sign(tmp_path / name)
    found = {os.path.relpath(f, tmp_path) for f, _ in expand_paths([str(tmp_path / "**" / "*.png")])}
    assert found == {"x/a.png", "x/y/b.png", "top.png"}
    found = {os.path.relpath(f, tmp_path) for f, _ in expand_paths([str(tmp_path / "x" / "**" / "[!a]*.png")])}
    assert found == {"x/y/b.png"}


def test_unreadable_path_is_an_error_row(tmp_path, capsys):
    _sign(tmp_path / "good.png")
    too_long = str(tmp_path / ("n" * 5000) / "x.png")  # the kernel refuses it (ENAMETOOLONG)
    code, rows = _run(capsys, too_long, str(tmp_path / "good.png"))
    assert code == 1 and "cannot read" in rows[0]["error"] and "class_id" in rows[1]
