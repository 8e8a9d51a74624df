"""The JSON shapes the HTTP API answers with, declared so ``/docs`` shows them.

They describe what ``Prediction.to_dict`` and the endpoints already return; a prediction's
fields not declared here still pass through unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class RankedClass(BaseModel):
    class_id: int
    label: str
    probability: float = Field(description="calibrated probability")


class FoundSign(BaseModel):
    """One sign found in the picture, and what the model makes of it."""

    box: list[int] = Field(description="x0, y0, x1, y1 in the picture's pixels")
    class_id: int | None = Field(description="null when the answer is 'unknown sign'")
    label: str
    confidence: float = Field(description="calibrated probability of the top class")
    unknown: bool
    top_k: list[RankedClass]


class PredictionResult(BaseModel):
    """One image's answer, as ``traffic-signs predict --format json`` prints it."""

    model_config = ConfigDict(extra="allow")

    file: str | None
    class_id: int | None = Field(description="null when the answer is 'unknown sign'")
    label: str
    confidence: float = Field(description="calibrated probability of the top class")
    unknown: bool = Field(description="the confidence is below the model's threshold")
    top_k: list[RankedClass]
    box: list[int] | None = Field(None, description="x0, y0, x1, y1 of the main sign, absent when none was found")
    signs: list[FoundSign] = Field(default_factory=list, description="every sign found, most confident first; "
                                   "the top-level fields describe the main one (the largest of those "
                                   "named with nearly the top confidence)")


class FileError(BaseModel):
    """An upload that could not be read; the request's other files are still answered."""

    file: str | None
    error: str
    kind: Literal["format", "image"] = Field(description="format: not an image this service reads; "
                                                         "image: an image outside the limits or damaged")


class ErrorResponse(BaseModel):
    error: str
    status: int
    results: list[FileError] | None = Field(None, description="each file's error, when none was readable")


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
