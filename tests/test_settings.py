"""The settings object: every variable parsed and checked, defaults, overrides, the documented
table, and the environment honoured end to end by `serve`."""

from __future__ import annotations

import argparse
import os
import pickle
import re
import subprocess
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import httpx
import pytest

from loopback import free_port
from traffic_signs import settings as settings_module
from traffic_signs.data.cache import default_cache_dir
from traffic_signs.data.gtsrb import default_data_dir
from traffic_signs.data.scenes import extra_background_folders
from traffic_signs.errors import SettingsError
from traffic_signs.imaging import MAX_PIXELS, serving_max_pixels
from traffic_signs.serving.api import Limits
from traffic_signs.serving.cli import serving_settings
from traffic_signs.serving.guards import server_options
from traffic_signs.settings import (
    Settings,
    export_settings,
    get_settings,
    markdown_table,
    overridden,
    use_settings,
    variable_name,
)

ROOT = Path(__file__).resolve().parents[1]
VARIABLES = {field.name: variable_name(field.name) for field in fields(Settings)}

# Every variable: a value it accepts, spelt as an operator would, and what it becomes.
GOOD = {
    "TRAFFIC_SIGNS_DATA": ("~/gtsrb", Path("~/gtsrb").expanduser()),
    "TRAFFIC_SIGNS_CACHE": ("/tmp/decoded", Path("/tmp/decoded")),
    "TRAFFIC_SIGNS_BACKGROUNDS": (f"/a{os.pathsep}{os.pathsep}/b c", (Path("/a"), Path("/b c"))),
    "TRAFFIC_SIGNS_MODEL": ("signnet-s", "signnet-s"),
    "TRAFFIC_SIGNS_APP_MODELS": (" lenet5, signnet-s ,,", ("lenet5", "signnet-s")),
    "TRAFFIC_SIGNS_MAX_PIXELS": ("4_000_000", 4_000_000),
    "TRAFFIC_SIGNS_THREADS": ("0", 0),
    "TRAFFIC_SIGNS_INFERENCE_SLOTS": (" 3 ", 3),
    "TRAFFIC_SIGNS_QUEUE_SECONDS": ("0.5", 0.5),
    "TRAFFIC_SIGNS_QUEUE_LENGTH": ("0", 0),
    "TRAFFIC_SIGNS_MAX_REQUEST_BYTES": ("1000", 1000),
    "TRAFFIC_SIGNS_MAX_FILE_BYTES": ("999", 999),
    "TRAFFIC_SIGNS_MAX_FILES": ("1", 1),
    "TRAFFIC_SIGNS_CLIP_SECONDS": ("12.5", 12.5),
    "TRAFFIC_SIGNS_CLIP_SLOTS": ("2", 2),
    "TRAFFIC_SIGNS_MAX_CONNECTIONS": ("10", 10),
    "TRAFFIC_SIGNS_HEADER_TIMEOUT_SECONDS": ("2.5", 2.5),
    "TRAFFIC_SIGNS_KEEP_ALIVE_SECONDS": ("30", 30),
    "HOST": ("127.0.0.1", "127.0.0.1"),
    "PORT": ("65535", 65535),
    "WEB_CONCURRENCY": ("2", 2),
}
WHOLE_AT_LEAST_1 = ["abc", "1.5", "0", "-2", "1e6", "true"]
SECONDS = ["abc", "0", "-1", "nan", "inf"]
# Every variable whose values are not all acceptable: values it refuses. The rest take any text.
BAD = {
    "TRAFFIC_SIGNS_MAX_PIXELS": WHOLE_AT_LEAST_1,
    "TRAFFIC_SIGNS_THREADS": ["abc", "-1", "2.0"],
    "TRAFFIC_SIGNS_INFERENCE_SLOTS": WHOLE_AT_LEAST_1,
    "TRAFFIC_SIGNS_QUEUE_SECONDS": SECONDS,
    "TRAFFIC_SIGNS_QUEUE_LENGTH": ["abc", "-1"],
    "TRAFFIC_SIGNS_MAX_REQUEST_BYTES": WHOLE_AT_LEAST_1,
    "TRAFFIC_SIGNS_MAX_FILE_BYTES": WHOLE_AT_LEAST_1,
    "TRAFFIC_SIGNS_MAX_FILES": WHOLE_AT_LEAST_1,
    "TRAFFIC_SIGNS_CLIP_SECONDS": SECONDS,
    "TRAFFIC_SIGNS_CLIP_SLOTS": WHOLE_AT_LEAST_1,
    "TRAFFIC_SIGNS_MAX_CONNECTIONS": WHOLE_AT_LEAST_1,
    "TRAFFIC_SIGNS_HEADER_TIMEOUT_SECONDS": SECONDS,
    "TRAFFIC_SIGNS_KEEP_ALIVE_SECONDS": WHOLE_AT_LEAST_1,
    "PORT": ["abc", "0", "65536", "-80"],
    "WEB_CONCURRENCY": WHOLE_AT_LEAST_1,
}
TAKE_ANY_TEXT = {"TRAFFIC_SIGNS_DATA", "TRAFFIC_SIGNS_CACHE", "TRAFFIC_SIGNS_BACKGROUNDS", "TRAFFIC_SIGNS_MODEL",
                 "TRAFFIC_SIGNS_APP_MODELS", "HOST"}


@pytest.fixture()
def restored_settings():
    """The process's settings as they were before the test, whatever it made of them."""
    before = settings_module._current
    yield
    use_settings(before)


def test_every_variable_has_a_tested_good_value_and_every_numeric_one_bad_values():
    assert set(GOOD) == set(VARIABLES.values())
    assert set(BAD) | TAKE_ANY_TEXT == set(VARIABLES.values()) and not set(BAD) & TAKE_ANY_TEXT


@pytest.mark.parametrize("variable", sorted(GOOD))
def test_each_variable_is_parsed_into_its_setting(variable):
    text, expected = GOOD[variable]
    name = next(name for name, var in VARIABLES.items() if var == variable)
    settings = Settings.from_env({variable: text})
    assert getattr(settings, name) == expected
    assert settings == replace(Settings(), **{name: expected}), "no other setting moved"


@pytest.mark.parametrize(("variable", "text"), [(v, text) for v, texts in sorted(BAD.items()) for text in texts])
def test_a_bad_value_is_an_error_naming_the_variable(variable, text):
    with pytest.raises(SettingsError, match=f"^{re.escape(f'{variable}={text!r}')} .*: expected "):
        Settings.from_env({variable: text})


def test_the_defaults():
    settings = Settings.from_env({})
    assert settings == Settings()
    assert (settings.data_dir, settings.cache_dir, settings.model, settings.threads, settings.port) == (None,) * 5
    assert settings.backgrounds == settings.app_models == ()
    assert settings.max_pixels == 16_000_000
    assert settings.inference_slots == 2 * (os.cpu_count() or 1)
    assert (settings.queue_seconds, settings.queue_length) == (2.0, 64)
    assert (settings.max_request_bytes, settings.max_file_bytes, settings.max_files) == (20 * 2**20, 10 * 2**20, 32)
    assert (settings.max_connections, settings.header_timeout_seconds, settings.keep_alive_seconds) == (2048, 10.0, 5)
    assert (settings.host, settings.workers) == ("0.0.0.0", 1)
    assert Settings.from_env({name: " " for name in VARIABLES.values()}) == settings, "blank means unset"


def test_the_api_limits_default_to_the_settings_defaults():
    assert Limits() == Limits.from_environment(Settings())


def test_settings_given_in_code_are_checked_and_normalised_as_the_variable_would_be():
    with pytest.raises(SettingsError, match="^TRAFFIC_SIGNS_INFERENCE_SLOTS='-2' .*at least 1"):
        replace(Settings(), inference_slots=-2)
    with pytest.raises(SettingsError, match="^TRAFFIC_SIGNS_MAX_PIXELS='abc'"):
        Settings(max_pixels="abc")
    with pytest.raises(SettingsError, match="^TRAFFIC_SIGNS_QUEUE_LENGTH='True'"):
        Settings(queue_length=True)
    settings = Settings(data_dir="~/gtsrb", backgrounds=["/a"], app_models="a, b", queue_seconds=1)
    assert settings.data_dir == Path("~/gtsrb").expanduser() and settings.backgrounds == (Path("/a"),)
    assert settings.app_models == ("a", "b") and settings.queue_seconds == 1.0


def test_the_environment_a_settings_object_writes_reads_back_to_it():
    settings = Settings.from_env({variable: text for variable, (text, _) in GOOD.items()})
    assert Settings.from_env(settings.environment()) == settings
    assert Settings.from_env(Settings().environment()) == Settings()
    assert "PORT" not in Settings().environment(), "unset stays unset"


def test_an_override_reaches_the_code_that_reads_the_settings_and_ends_with_the_block(tmp_path):
    before = get_settings()
    with overridden(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", backgrounds=(tmp_path,),
                    max_pixels=4_000_000):
        assert default_data_dir() == tmp_path / "data" and default_cache_dir() == tmp_path / "cache"
        assert extra_background_folders() == [str(tmp_path)]
        assert serving_max_pixels() == 4_000_000
    assert get_settings() is before
    with overridden(max_pixels=MAX_PIXELS + 1):
        assert serving_max_pixels() == MAX_PIXELS, "never above the decompression-bomb limit"


def test_the_onnx_runtime_threads_follow_the_setting():
    from traffic_signs.prediction.runtime import onnx_session

    onnx = ROOT / "src" / "traffic_signs" / "shipped" / "signfinder.onnx"
    for threads, expected in ((1, 1), (3, 3), (0, min(4, os.cpu_count() or 1))):
        with overridden(threads=threads):
            session = onnx_session(onnx.read_bytes(), onnx)
        assert session.get_session_options().intra_op_num_threads == expected


def test_server_options_follow_the_settings():
    settings = Settings(max_connections=7, keep_alive_seconds=9, header_timeout_seconds=3.5)
    options = server_options(settings=settings)
    assert (options["limit_concurrency"], options["timeout_keep_alive"]) == (7, 9)
    assert options["http"].keywords == {"header_timeout": 3.5}
    assert server_options(header_timeout=1.0, settings=settings)["http"].keywords == {"header_timeout": 1.0}
    assert pickle.loads(pickle.dumps(options))["http"].keywords == {"header_timeout": 3.5}, "workers get them"


def _serve_args(what: str, **given) -> argparse.Namespace:
    return argparse.Namespace(what=what, **{"port": None, "host": None, "model": None, "workers": None, **given})


def test_serve_puts_its_options_on_the_settings_and_one_thread_per_api_request_unless_set():
    settings = Settings(model="env-model", port=9000, threads=None)
    api = serving_settings(_serve_args("api", model="cli-model", workers=2), settings)
    assert (api.model, api.port, api.workers, api.threads) == ("cli-model", 9000, 2, 1)
    assert serving_settings(_serve_args("app"), settings).threads is None
    assert serving_settings(_serve_args("api"), replace(settings, threads=0)).threads == 0, "0 stays 'auto'"
    with pytest.raises(SettingsError, match="^PORT='0'"):
        serving_settings(_serve_args("api", port=0), settings)


def test_export_writes_every_variable_and_removes_the_unset_ones(monkeypatch, restored_settings):
    environ = {"PORT": "8000", "TRAFFIC_SIGNS_MODEL": "old", "UNRELATED": "kept"}
    monkeypatch.setattr(os, "environ", environ)
    settings = Settings(model="new", threads=1)
    export_settings(settings)
    assert environ["TRAFFIC_SIGNS_MODEL"] == "new" and environ["TRAFFIC_SIGNS_THREADS"] == "1"
    assert "PORT" not in environ and environ["UNRELATED"] == "kept"
    assert Settings.from_env(environ) == settings and get_settings() is settings


def test_the_documented_table_is_the_one_the_settings_write():
    text = (ROOT / "docs" / "configuration.md").read_text()
    start = text.index("\n", text.index("<!-- settings table")) + 1
    end = text.index("<!-- end of settings table")
    assert text[start:end] == markdown_table(), "run `traffic-signs settings --markdown` and paste the table"


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "traffic_signs", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def test_a_bad_variable_stops_serve_with_its_name_before_anything_starts():
    done = _cli("serve", "api", "--port", str(free_port()), env={"TRAFFIC_SIGNS_INFERENCE_SLOTS": "-2"})
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: TRAFFIC_SIGNS_INFERENCE_SLOTS='-2' (setting inference_slots): "
                                   "expected a whole number, at least 1")


def test_the_settings_command_shows_what_the_environment_gives():
    done = _cli("settings", env={"TRAFFIC_SIGNS_MAX_FILES": "3"})
    assert done.returncode == 0
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()}
    assert rows["TRAFFIC_SIGNS_MAX_FILES"] == ["set", "3"] and rows["TRAFFIC_SIGNS_QUEUE_LENGTH"] == ["default", "64"]
    assert set(rows) == set(VARIABLES.values())


def test_serve_api_workers_get_the_command_lines_settings_through_the_environment(tmp_path):
    """Worker processes build their own app: the --model given to the parent must reach them,
    and the variables set for the parent must still hold there."""
    port = free_port()
    missing = tmp_path / "missing.json"
    process = subprocess.Popen([sys.executable, "-m", "traffic_signs", "serve", "api", "--host", "127.0.0.1",
                                "--port", str(port), "--workers", "2", "--model", str(missing)],
                               env={**os.environ, "TRAFFIC_SIGNS_MAX_REQUEST_BYTES": "50"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = _wait_for_answer(f"http://127.0.0.1:{port}/readyz", process)
        assert ready.status_code == 503 and "missing.json" in ready.json()["error"]
        too_large = httpx.post(f"http://127.0.0.1:{port}/v1/predict", content=b"x" * 51)
        assert too_large.status_code == 413 and "50-byte limit" in too_large.json()["error"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for_answer(url: str, process: subprocess.Popen) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server stopped"
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


def test_the_web_app_refuses_files_the_api_would_refuse():
    from traffic_signs.serving.cli import app_upload_mib

    mib = 1024 * 1024
    assert app_upload_mib(Settings().max_file_bytes) == 10
    assert app_upload_mib(10 * mib + 1) == 11  # rounded up: never below the API's limit
    assert app_upload_mib(1) == 1
