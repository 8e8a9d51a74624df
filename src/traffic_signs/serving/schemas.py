"""The JSON shapes the HTTP API answers with, declared so ``/docs`` shows them.

An image's answer is declared once, where it is made (``prediction.results``: ``ResultJSON``,
``SignJSON``, ``FileErrorJSON``); the API answers with those shapes strictly. What only the API
says (errors, classes, the model, health) is declared here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from traffic_signs.prediction.results import FileErrorJSON
from traffic_signs.prediction.tracking import TrackJSON


class ErrorResponse(BaseModel):
    error: str
    status: int
    results: list[FileErrorJSON] | None = Field(None, description="each file's error, when none was readable")


class SignClass(BaseModel):
    class_id: int
    label: str


class ModelInfo(BaseModel):
    name: str
    metadata: dict[str, Any] = Field(description="the model file's JSON, class names left out")
    threshold: float
    temperature: float
    model_card: str | None


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    model: str


class ClipJSON(TypedDict):
    """One clip's answer: what was read of it, and one track per physical sign."""

    file: str | None
    clip: dict[str, Any]
    """the decoded stream: width, height, fps, source_size, codec, decoded_frames, stopped_at_limit, damage"""
    stats: dict[str, Any]
    """processed_frames, dropped_frames, seconds"""
    tracks: list[TrackJSON]


ClipJSON.__pydantic_config__ = {"extra": "forbid", "use_attribute_docstrings": True}  # type: ignore[attr-defined]
