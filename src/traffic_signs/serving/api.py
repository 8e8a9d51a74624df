"""HTTP API: the same Classifier as the command line, behind FastAPI.

  POST /v1/predict   multipart, one or more images under "files"; JSON like `predict --format json`
  GET  /v1/classes   the 43 class ids and names
  GET  /v1/model     model metadata, metrics and model card
  GET  /healthz      the process is up
  GET  /readyz       the model is loaded and answers
  GET  /docs         OpenAPI, with the JSON shapes of serving/schemas.py

The model is loaded once, when the server starts; if it cannot be, the server still answers
health checks and says why it is not ready. Limits (request bytes counted as they stream,
bytes per file, files per request, pixels per image, requests running the model at once)
answer with clean JSON 413 / 415 / 422 / 503 errors, as does every other error. Inference runs
in the thread pool behind a fixed number of slots, so the event loop, and with it /healthz and
/readyz, stays responsive under any load.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from traffic_signs.errors import ImageError, ImageFormatError, TrafficSignsError
from traffic_signs.prediction.reader import Classifier
from traffic_signs.prediction.results import FileErrorJSON, ResultJSON
from traffic_signs.serving.guards import (
    BodyLimit,
    InferenceGate,
    MemoryTrimmer,
    error_response,
    install_error_handlers,
)
from traffic_signs.serving.schemas import ClipJSON, ErrorResponse, Health, ModelInfo, Readiness, SignClass
from traffic_signs.settings import Settings, default_inference_slots, get_settings

ERRORS = {status: {"model": ErrorResponse} for status in (413, 415, 422, 503)}


@dataclass(frozen=True)
class Limits:
    max_request_bytes: int = 20 * 1024 * 1024
    max_files: int = 32
    max_file_bytes: int = 10 * 1024 * 1024
    inference_slots: int = default_inference_slots()
    queue_seconds: float = 2.0  # the longest a request waits for a slot before a 503
    queue_length: int = 64  # requests waiting for a slot at most
    clip_seconds: float = 60.0  # the most of a clip /v1/track reads
    clip_slots: int = 1  # clips tracked at once, beside (not out of) the image slots

    @classmethod
    def from_environment(cls, settings: Settings | None = None) -> Limits:
        """The limits ``settings`` set (default: this process's, see docs/configuration.md)."""
        settings = settings or get_settings()
        return cls(settings.max_request_bytes, settings.max_files, settings.max_file_bytes,
                   settings.inference_slots, settings.queue_seconds, settings.queue_length, settings.clip_seconds,
                   settings.clip_slots)


class ModelNotLoaded(Exception):
    """The model failed to load when the server started; every model endpoint answers 503."""


def _error(status: int, message: str) -> JSONResponse:
    return error_response(status, message)


def create_app(classifier: Classifier | None = None, model: str | None = None, limits: Limits | None = None) -> FastAPI:
    """The API around one classifier: the given one, else ``model`` or the model setting, else the shipped one."""
    model = model or get_settings().model
    limits = limits or Limits.from_environment()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.classifier, app.state.load_error = classifier, None
        if classifier is None:
            try:
                app.state.classifier = await run_in_threadpool(Classifier.load, model)
            except Exception as exc:  # not ready: say why, keep serving health checks
                app.state.load_error = exc
        yield

    app = FastAPI(title="traffic-signs", version="1", description="GTSRB traffic sign recognition", lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=limits.max_request_bytes)
    gate = InferenceGate(limits.inference_slots, limits.queue_seconds, limits.queue_length)
    clip_gate = InferenceGate(limits.clip_slots, limits.queue_seconds, limits.queue_length)  # clips never starve images
    trimmer = MemoryTrimmer()

    def loaded() -> Classifier:
        if app.state.classifier is None:
            raise ModelNotLoaded(f"model not loaded: {app.state.load_error}")
        return app.state.classifier

    @app.exception_handler(ModelNotLoaded)
    async def not_loaded(_request: Request, exc: ModelNotLoaded) -> JSONResponse:
        return _error(503, str(exc))

    @app.get("/healthz", response_model=Health)
    async def healthz() -> dict[str, str]:  # async: answered on the event loop, never behind inference
        return {"status": "ok"}

    @app.get("/readyz", response_model=Readiness, responses={503: {"model": ErrorResponse}})
    async def readyz() -> dict[str, str]:
        return {"status": "ready", "model": loaded().name}

    @app.get("/v1/classes", response_model=list[SignClass], responses={503: {"model": ErrorResponse}})
    def classes() -> list[dict]:
        return [{"class_id": i, "label": name} for i, name in enumerate(loaded().class_names)]

    @app.get("/v1/model", response_model=ModelInfo, responses={503: {"model": ErrorResponse}})
    def model_info() -> dict:
        clf = loaded()
        meta = {k: v for k, v in clf.metadata.to_json().items() if k != "class_names"}
        card = clf.json_path.with_name("MODEL_CARD.md")
        return {"name": clf.name, "metadata": meta, "threshold": clf.threshold, "temperature": clf.temperature,
                "model_card": card.read_text() if card.is_file() else None}

    @app.post("/v1/predict", response_model=list[ResultJSON | FileErrorJSON], response_model_exclude_unset=True,
              responses=ERRORS)
    async def predict(request: Request, files: Annotated[list[UploadFile], File()], top_k: int = 5,
                      search: bool | None = None, threshold: float | None = None):
        if problem := _check_uploads(files, top_k, threshold, limits):
            return problem
        clf = loaded()
        options = {"top_k": top_k, "search": search, "threshold": threshold}
        try:
            async with gate.slot():
                results = await _predict_all(request, clf, files, options)
        finally:
            trimmer.request_done()
        if results is None:
            return _error(499, "client closed the request")  # nobody reads this; the work stopped early
        if all("error" in r for r in results):
            status = 415 if all(r.get("kind") == "format" for r in results) else 422
            return error_response(status, "no readable image", results=results)
        return results

    @app.post("/v1/track", response_model=ClipJSON, responses=ERRORS | {501: {"model": ErrorResponse}})
    async def track(file: Annotated[UploadFile, File()], stride: int = 1):
        """One clip: every sign in it, tracked and named once (at most ``clip_seconds`` of it is read)."""
        if file.size is not None and file.size > limits.max_file_bytes:
            return _error(413, f"{file.filename}: {file.size:,} bytes exceed the {limits.max_file_bytes:,}-byte "
                               "limit per file")
        if not 1 <= stride <= 30:
            return _error(422, "stride must be between 1 and 30")
        clf = loaded()
        try:
            async with clip_gate.slot():
                return await run_in_threadpool(_track_upload, clf, file, stride, limits.clip_seconds)
        except TrafficSignsError as exc:
            status = 415 if isinstance(exc, ImageFormatError) else 422 if isinstance(exc, ImageError) else 501
            return _error(status, str(exc))
        finally:
            trimmer.request_done()

    return app


def _track_upload(clf: Classifier, upload: UploadFile, stride: int, clip_seconds: float) -> ClipJSON:
    """The upload copied to a named file (the decoder opens clips by path, by their first bytes,
    never by what the client calls them) and tracked; the file is gone when this returns."""
    suffix = Path(upload.filename or "").suffix.lower()
    with tempfile.NamedTemporaryFile(suffix=suffix if suffix.isascii() and len(suffix) <= 8 else "") as copy:
        upload.file.seek(0)
        shutil.copyfileobj(upload.file, copy)
        copy.flush()
        run = clf.track(copy.name, stride=stride, max_seconds=clip_seconds)
        tracks = sorted(run, key=lambda t: t.track_id)
        return {"file": upload.filename, "clip": run.info.to_dict(), "stats": run.stats.to_dict(),
                "tracks": [t.to_dict() for t in tracks]}


async def _predict_all(request: Request, clf: Classifier, files: list[UploadFile],
                       options: dict) -> list[ResultJSON | FileErrorJSON] | None:
    """Each file in turn in the thread pool; ``None`` as soon as the client has gone away."""
    results = []
    for upload in files:
        if await request.is_disconnected():
            return None
        data = await upload.read()
        answer = await run_in_threadpool(clf.predict_or_error, data, upload.filename, **options)
        results.append(answer if isinstance(answer, dict) else answer.to_dict())
    return results


def _check_uploads(files: list[UploadFile], top_k: int, threshold: float | None, limits: Limits) -> JSONResponse | None:
    """The request-level refusals, before any decoding: counts, per-file sizes, parameters."""
    if not files:
        return _error(422, "no files in the request (use multipart field 'files')")
    if len(files) > limits.max_files:
        return _error(413, f"{len(files)} files exceed the limit of {limits.max_files} per request")
    for upload in files:
        if upload.size is not None and upload.size > limits.max_file_bytes:
            return _error(413, f"{upload.filename}: {upload.size:,} bytes exceed the "
                               f"{limits.max_file_bytes:,}-byte limit per file")
    if not 1 <= top_k <= 43:
        return _error(422, "top_k must be between 1 and 43")
    if threshold is not None and not 0 <= threshold <= 1:
        return _error(422, "threshold must be between 0 and 1")
    return None
