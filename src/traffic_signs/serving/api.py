"""HTTP API: the same Classifier as the command line, behind FastAPI.

  POST /v1/predict   multipart, one or more images under "files"; JSON like `predict --format json`
  GET  /v1/classes   the 43 class ids and names
  GET  /v1/model     model metadata, metrics and model card
  GET  /healthz      the process is up
  GET  /readyz       the model is loaded and answers
  GET  /docs         OpenAPI, with the JSON shapes of serving/schemas.py

The model is loaded once, when the server starts; if it cannot be, the server still answers
health checks and says why it is not ready. Limits (request bytes, files per request, pixels
per image) answer with clean JSON 413 / 415 / 422 errors; inference runs in the thread pool
so the event loop stays responsive.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import FastAPI, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from traffic_signs.errors import ImageError, ImageFormatError
from traffic_signs.prediction.classifier import Classifier
from traffic_signs.serving.schemas import (
    ErrorResponse,
    FileError,
    Health,
    ModelInfo,
    PredictionResult,
    Readiness,
    SignClass,
)

ERRORS = {status: {"model": ErrorResponse} for status in (413, 415, 422, 503)}


@dataclass(frozen=True)
class Limits:
    max_request_bytes: int = 20 * 1024 * 1024
    max_files: int = 32

    @classmethod
    def from_environment(cls) -> Limits:
        """The defaults, unless $TRAFFIC_SIGNS_MAX_REQUEST_BYTES or $TRAFFIC_SIGNS_MAX_FILES say otherwise."""
        return cls(int(os.environ.get("TRAFFIC_SIGNS_MAX_REQUEST_BYTES", cls.max_request_bytes)),
                   int(os.environ.get("TRAFFIC_SIGNS_MAX_FILES", cls.max_files)))


class ModelNotLoaded(Exception):
    """The model failed to load when the server started; every model endpoint answers 503."""


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message, "status": status})


def create_app(classifier: Classifier | None = None, model: str | None = None, limits: Limits | None = None) -> FastAPI:
    """The API around one classifier: the given one, else ``model`` or $TRAFFIC_SIGNS_MODEL, else the shipped one."""
    model = model or os.environ.get("TRAFFIC_SIGNS_MODEL") or None
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

    def loaded() -> Classifier:
        if app.state.classifier is None:
            raise ModelNotLoaded(f"model not loaded: {app.state.load_error}")
        return app.state.classifier

    @app.exception_handler(ModelNotLoaded)
    async def not_loaded(_request: Request, exc: ModelNotLoaded) -> JSONResponse:
        return _error(503, str(exc))

    @app.middleware("http")
    async def limit_request_size(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limits.max_request_bytes:
            return _error(413, f"request of {int(length):,} bytes exceeds the {limits.max_request_bytes:,}-byte limit")
        return await call_next(request)

    @app.get("/healthz", response_model=Health)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", response_model=Readiness, responses={503: {"model": ErrorResponse}})
    def readyz() -> dict[str, str]:
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

    @app.post("/v1/predict", response_model=list[PredictionResult | FileError], response_model_exclude_unset=True,
              responses=ERRORS)
    async def predict(files: Annotated[list[UploadFile], File()], top_k: int = 5, search: bool | None = None):
        if not files:
            return _error(422, "no files in the request (use multipart field 'files')")
        if len(files) > limits.max_files:
            return _error(413, f"{len(files)} files exceed the limit of {limits.max_files} per request")
        if not 1 <= top_k <= 43:
            return _error(422, "top_k must be between 1 and 43")
        clf = loaded()
        results = []
        for upload in files:
            data = await upload.read()
            results.append(await run_in_threadpool(_predict_one, clf, data, upload.filename, top_k, search))
        if all("error" in r for r in results):
            status = 415 if all(r.get("kind") == "format" for r in results) else 422
            return JSONResponse(status_code=status, content={"error": "no readable image", "status": status,
                                                             "results": results})
        return results

    return app


def _predict_one(clf: Classifier, data: bytes, filename: str | None, top_k: int, search: bool | None) -> dict:
    try:
        return clf.predict(data, top_k=top_k, search=search, name=filename).to_dict()
    except ImageError as exc:
        kind = "format" if isinstance(exc, ImageFormatError) else "image"
        return {"file": filename, "error": str(exc), "kind": kind}
