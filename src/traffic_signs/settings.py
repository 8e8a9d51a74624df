"""Every setting the environment can change, in one frozen object read once per process.

The environment is read in one place, validated as a whole (a bad value stops the command with
a message naming the variable, instead of being silently replaced by a default), and documented
in one table (``traffic-signs settings --markdown``, copied into docs/configuration.md and
checked against this module by a test). Code asks :func:`get_settings`; tests and callers
override with :func:`overridden` or hand a :class:`Settings` to the function that takes one.

A frozen dataclass with explicit parsing rather than pydantic-settings: the data, imaging and
prediction code that reads these settings is the small core runtime (numpy, pillow,
onnxruntime), and pydantic-settings would add pydantic, its compiled core and python-dotenv to
every installation for a few values that each take one line to parse.

Child processes (uvicorn workers, anything started later) see only the environment, so
:func:`export_settings` writes settings back to ``os.environ`` in the very spelling
:meth:`Settings.from_env` reads.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from traffic_signs.errors import SettingsError


@dataclass(frozen=True)
class Kind:
    """What a variable accepts: ``parse`` turns its (non-empty) text into the value or raises
    ValueError; ``render`` writes a value back as text that ``parse`` reads to the same value."""

    accepts: str
    parse: Callable[[str], Any]
    render: Callable[[Any], str] = str


def whole_number(minimum: int, maximum: int | None = None) -> Kind:
    accepts = f"a whole number from {minimum} to {maximum}" if maximum else f"a whole number, at least {minimum}"

    def parse(text: str) -> int:
        value = int(text)
        if value < minimum or (maximum is not None and value > maximum):
            raise ValueError(accepts)
        return value

    return Kind(accepts, parse)


def _seconds(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise ValueError("not a positive number")
    return value


def _text_list(separator: str, item: Callable[[str], Any]) -> tuple[Callable[[str], tuple], Callable[[Any], str]]:
    def parse(text: str) -> tuple:
        return tuple(item(part.strip()) for part in text.split(separator) if part.strip())

    def render(value: Any) -> str:
        return value if isinstance(value, str) else separator.join(str(part) for part in value)

    return parse, render


def _path(text: str) -> Path:
    return Path(text).expanduser()


COUNT = whole_number(1)
SECONDS = Kind("a number of seconds above 0", _seconds)
PATH = Kind("a folder", _path)
PATHS = Kind("folders separated by `os.pathsep` (':'; ';' on Windows)", *_text_list(os.pathsep, _path))
NAMES = Kind("names separated by ','", *_text_list(",", str))
TEXT = Kind("text", str)


@dataclass(frozen=True)
class Variable:
    """How one setting is spelt in the environment, what it means and which commands read it."""

    name: str
    kind: Kind
    help: str
    read_by: str
    default_text: str | None = None


def setting(name: str, kind: Kind, default: Any, help: str, read_by: str, default_text: str | None = None,
            default_factory: Callable[[], Any] | None = None) -> Any:
    """A :class:`Settings` field read from the variable ``name``."""
    metadata = {"variable": Variable(name, kind, help, read_by, default_text)}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def default_inference_slots() -> int:
    """Two per core: enough to keep the cores busy while one request decodes and another runs the model."""
    return 2 * (os.cpu_count() or 1)


MiB = 2**20
# Which commands read a variable, for the table.
DATA = "commands that read GTSRB"
PREDICTION = "predict, serve"
SERVE = "serve"
API = "serve api"
APP = "serve app"


@dataclass(frozen=True)
class Settings:
    """The settings of one process. Empty or ``None`` means unset, i.e. the default; any other
    value is parsed as the variable's text would be, so ``replace(settings, max_pixels=-1)``
    fails as ``TRAFFIC_SIGNS_MAX_PIXELS=-1`` does."""

    data_dir: Path | None = setting(
        "TRAFFIC_SIGNS_DATA", PATH, None, "GTSRB folder (`--data-dir` wins)", DATA, "`gtsrb` in the user cache")
    cache_dir: Path | None = setting(
        "TRAFFIC_SIGNS_CACHE", PATH, None, "where decoded arrays are kept (`--cache-dir` wins)", DATA,
        "`decoded` in the user cache")
    backgrounds: tuple[Path, ...] = setting(
        "TRAFFIC_SIGNS_BACKGROUNDS", PATHS, (), "more folders of sign-free photos for photo views and detector "
        "scenes", "train (photo views), train-detector", "none (the desktop-background packages are always searched)")
    model: str | None = setting(
        "TRAFFIC_SIGNS_MODEL", TEXT, None, "the model served: shipped name, run folder, `.json` or `.onnx` "
        "(`--model` wins)", SERVE, "the shipped model")
    app_models: tuple[str, ...] = setting(
        "TRAFFIC_SIGNS_APP_MODELS", NAMES, (), "models web-app visitors may pick; a model box appears only then",
        APP, "none")
    # Far fewer than the 50 MP bomb limit: a few such images in flight must fit in a small server's memory.
    max_pixels: int = setting(
        "TRAFFIC_SIGNS_MAX_PIXELS", COUNT, 16_000_000, "pixels decoded per image (after JPEG's reduced decoding); "
        "never above the 50 MP decompression-bomb limit", PREDICTION)
    threads: int | None = setting(
        "TRAFFIC_SIGNS_THREADS", whole_number(0), None, "ONNX Runtime threads per model; 0: min(4, cores)",
        "every command that runs a model", "min(4, cores); 1 under `serve api`")
    inference_slots: int = setting(
        "TRAFFIC_SIGNS_INFERENCE_SLOTS", COUNT, None, "API requests running the model at once", API, "2 per core",
        default_factory=default_inference_slots)
    queue_seconds: float = setting(
        "TRAFFIC_SIGNS_QUEUE_SECONDS", SECONDS, 2.0, "longest an API request waits for a slot; then 503 with "
        "`Retry-After`", API)
    queue_length: int = setting(
        "TRAFFIC_SIGNS_QUEUE_LENGTH", whole_number(0), 64, "API requests waiting for a slot at most; more get "
        "503 at once", API)
    max_request_bytes: int = setting(
        "TRAFFIC_SIGNS_MAX_REQUEST_BYTES", COUNT, 20 * MiB, "request body, counted as it streams; larger: 413",
        API, "20,971,520 (20 MiB)")
    max_file_bytes: int = setting(
        "TRAFFIC_SIGNS_MAX_FILE_BYTES", COUNT, 10 * MiB,
        "one uploaded file; larger: 413 (the web app refuses it, counted in whole MiB)", SERVE,
        "10,485,760 (10 MiB)")
    max_files: int = setting(
        "TRAFFIC_SIGNS_MAX_FILES", COUNT, 32, "files per request; more: 413", API)
    clip_seconds: float = setting(
        "TRAFFIC_SIGNS_CLIP_SECONDS", SECONDS, 60.0, "the most of a clip `POST /v1/track` reads, counted in "
        "frames decoded; the rest is left unread and the answer says so", API)
    clip_slots: int = setting(
        "TRAFFIC_SIGNS_CLIP_SLOTS", COUNT, 1, "clips tracked at once, apart from the image slots; more wait "
        "as images do (503 past the queue)", API)
    max_connections: int = setting(
        "TRAFFIC_SIGNS_MAX_CONNECTIONS", COUNT, 2048, "open connections and requests (uvicorn's "
        "`limit_concurrency`); more: uvicorn's plain-text 503", API)
    header_timeout_seconds: float = setting(
        "TRAFFIC_SIGNS_HEADER_TIMEOUT_SECONDS", SECONDS, 10.0, "a request head not complete this long after "
        "connecting or after the last answer: connection closed", API)
    keep_alive_seconds: int = setting(
        "TRAFFIC_SIGNS_KEEP_ALIVE_SECONDS", COUNT, 5, "idle keep-alive connections are closed after this", API)
    host: str = setting(
        "HOST", TEXT, "0.0.0.0", "address to listen on (`--host` wins)", SERVE)
    port: int | None = setting(
        "PORT", whole_number(1, 65535), None, "port to listen on (`--port` wins)", SERVE, "8501 (app), 8000 (api)")
    workers: int = setting(
        "WEB_CONCURRENCY", COUNT, 1, "API worker processes (`--workers` wins)", API)

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            text = "" if value is None else variable_of(item).kind.render(value)
            object.__setattr__(self, item.name, parse_field(item, text))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings ``environ`` (default: ``os.environ``) spells; raises :class:`SettingsError`
        naming the first variable whose value is not what it accepts."""
        environ = os.environ if environ is None else environ
        return cls(**{item.name: parse_field(item, environ.get(variable_of(item).name, "")) for item in fields(cls)})

    def environment(self) -> dict[str, str]:
        """The variables :meth:`from_env` reads back to these settings (those left unset are absent)."""
        return {variable_of(item).name: variable_of(item).kind.render(getattr(self, item.name))
                for item in fields(self) if getattr(self, item.name) is not None}


def variable_of(item: Field) -> Variable:
    return item.metadata["variable"]


def default_of(item: Field) -> Any:
    return item.default_factory() if item.default is MISSING else item.default  # type: ignore[misc]


def parse_field(item: Field, text: str) -> Any:
    """The value ``text`` gives field ``item``: its default when empty, else parsed or a
    :class:`SettingsError` naming the variable and what it accepts."""
    var = variable_of(item)
    if not text.strip():
        return default_of(item)
    try:
        return var.kind.parse(text.strip())
    except ValueError:
        raise SettingsError(f"{var.name}={text!r} (setting {item.name}): expected {var.kind.accepts}") from None


def variable_name(setting_name: str) -> str:
    """The environment variable of setting ``setting_name``, for help texts and messages."""
    return variable_of(next(item for item in fields(Settings) if item.name == setting_name)).name


_current: Settings | None = None


def get_settings() -> Settings:
    """This process's settings: the environment, read and validated on first use, unless
    :func:`use_settings` or :func:`overridden` said otherwise."""
    global _current
    if _current is None:
        _current = Settings.from_env()
    return _current


def use_settings(settings: Settings | None) -> None:
    """Make ``settings`` this process's (None: read the environment again on next use)."""
    global _current
    _current = settings


@contextmanager
def overridden(**changes: Any) -> Iterator[Settings]:
    """The current settings with ``changes``, for the block's duration (in this process only)."""
    previous = _current
    use_settings(replace(get_settings(), **changes))
    try:
        yield get_settings()
    finally:
        use_settings(previous)


def export_settings(settings: Settings) -> None:
    """Make ``settings`` this process's and its future children's: child processes (uvicorn
    workers) see only the environment, so every variable is written to ``os.environ``."""
    spelt = settings.environment()
    for item in fields(settings):
        name = variable_of(item).name
        if name in spelt:
            os.environ[name] = spelt[name]
        else:
            os.environ.pop(name, None)
    use_settings(settings)


def describe_default(item: Field) -> str:
    var = variable_of(item)
    if var.default_text is not None:
        return var.default_text
    value = item.default
    return f"{value:,}" if isinstance(value, int) else str(value)


def markdown_table() -> str:
    """The table of docs/configuration.md, written from the fields themselves so it cannot drift."""
    rows = ["| Variable | Setting | Accepts | Default | What it does | Read by |",
            "|---|---|---|---|---|---|"]
    for item in fields(Settings):
        var = variable_of(item)
        rows.append(f"| `{var.name}` | `{item.name}` | {var.kind.accepts} | {describe_default(item)} | {var.help} "
                    f"| {var.read_by} |")
    return "\n".join(rows) + "\n"
