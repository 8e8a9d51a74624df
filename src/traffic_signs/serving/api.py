"""HTTP API: the same Classifier as the command line, behind FastAPI.

  POST /v1/predict   multipart, one or more images under "files"; JSON like `predict --format json`
  GET  /v1/classes   the 43 class ids and names
  GET  /v1/model     model metadata, metrics and model card
  GET  /healthz      the process is up
  GET  /readyz       the model is loaded and answers
  GET  /docs         OpenAPI

Limits (request bytes, files per request, pixels per image) answer with clean JSON 413 /
415 / 422 errors; inference runs in the thread pool so the event loop stays responsive.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import FastAPI, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from traffic_signs.errors import ImageError
from traffic_signs.prediction.classifier import Classifier


@dataclass(frozen=True)
class Limits:
    max_request_bytes: int = int(os.environ.get("TRAFFIC_SIGNS_MAX_REQUEST_BYTES", 20 * 1024 * 1024))
    max_files: int = int(os.environ.get("TRAFFIC_SIGNS_MAX_FILES", 32))


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message, "status": status})


def create_app(classifier: Classifier | None = None, model: str | None = None, limits: Limits = Limits()) -> FastAPI:
    """The API around one loaded classifier (the shipped model unless told otherwise)."""
    model = model or os.environ.get("TRAFFIC_SIGNS_MODEL") or None
    app = FastAPI(title="traffic-signs", version="1", description="GTSRB traffic sign recognition")
    state: dict[str, Any] = {"classifier": classifier}

    def get_classifier() -> Classifier:
        if state["classifier"] is None:
            state["classifier"] = Classifier.load(model)
        return state["classifier"]

    @app.middleware("http")
    async def limit_request_size(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limits.max_request_bytes:
            return _error(413, f"request of {int(length):,} bytes exceeds the {limits.max_request_bytes:,}-byte limit")
        return await call_next(request)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        try:
            get_classifier()
        except Exception as exc:  # not ready: say why, keep serving health checks
            return _error(503, f"model not loaded: {exc}")
        return JSONResponse({"status": "ready", "model": get_classifier().name})

    @app.get("/v1/classes")
    def classes() -> list[dict[str, Any]]:
        return [{"class_id": i, "label": name} for i, name in enumerate(get_classifier().class_names)]

    @app.get("/v1/model")
    def model_info() -> dict[str, Any]:
        clf = get_classifier()
        meta = {k: v for k, v in clf.metadata.to_json().items() if k != "class_names"}
        card = clf.json_path.with_name("MODEL_CARD.md")
        return {"name": clf.name, "metadata": meta, "threshold": clf.threshold, "temperature": clf.temperature,
                "model_card": card.read_text() if card.is_file() else None}

    @app.post("/v1/predict")
    async def predict(files: Annotated[list[UploadFile], File()], top_k: int = 5, search: bool | None = None):
        if not files:
            return _error(422, "no files in the request (use multipart field 'files')")
        if len(files) > limits.max_files:
            return _error(413, f"{len(files)} files exceed the limit of {limits.max_files} per request")
        if not 1 <= top_k <= 43:
            return _error(422, "top_k must be between 1 and 43")
        clf = get_classifier()
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
        kind = "format" if "not an image format" in str(exc) or "empty file" in str(exc) else "image"
        return {"file": filename, "error": str(exc), "kind": kind}
