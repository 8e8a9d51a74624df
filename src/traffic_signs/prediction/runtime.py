"""ONNX Runtime sessions for every exported graph (classifier and detector), built only from
bytes whose checksum matched the model's metadata, and the pixels both graphs take."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort

from traffic_signs.errors import ModelFileError
from traffic_signs.prediction.onnx_data import uses_external_data
from traffic_signs.settings import get_settings


def verified_onnx(onnx_path: Path, digest: str | None, metadata_name: str) -> bytes:
    """The ONNX file's bytes, once they match the metadata's SHA-256 and hold no external data:
    the session is built from these same bytes, so nothing unchecked is ever loaded."""
    try:
        data = onnx_path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"{onnx_path}: ONNX file not readable ({exc.strerror or exc})") from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise ModelFileError(f"{onnx_path}: checksum differs from {metadata_name}; refusing to load it")
    try:
        external = uses_external_data(data)
    except ValueError as exc:
        raise ModelFileError(f"{onnx_path}: not a valid ONNX file ({exc})") from None
    if external:
        raise ModelFileError(f"{onnx_path}: keeps tensors in external data files, which the checksum does not "
                             "cover; refusing to load it")
    return data


def verified_session(onnx_path: Path, digest: str | None, metadata_name: str):
    """A session on the model's ONNX file, built from the very bytes whose checksum matched."""
    return onnx_session(verified_onnx(onnx_path, digest, metadata_name), onnx_path)


def onnx_session(model_bytes: bytes, onnx_path: Path, memory_arena: bool = True):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = get_settings().threads or min(4, os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    # Threads sleep rather than spin while waiting for work: a photo's few small batches then
    # cost the same on a busy machine as on an idle one (spinning threads made them 3x slower
    # whenever another process held a core).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # ONNX Runtime's memory arena keeps a session's largest run's memory for the next run. Without
    # it each run maps its tensors afresh and pays the page faults: batches of 256 crops ran 15-25%
    # slower (benchmarks/inference.py --against-no-arena). What it keeps is bounded by the largest
    # batch: ``CropClassifier.probabilities`` feeds at most 256 crops a run (~100 MB kept), and a
    # request's photo or video frame is a few crops and one detector pass.
    options.enable_cpu_mem_arena = memory_arena
    try:
        return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ONNX Runtime raises its own exception types on a broken graph
        raise ModelFileError(f"{onnx_path}: ONNX Runtime cannot load it ({str(exc).splitlines()[0][:200]})") from None


def model_input(images: np.ndarray) -> np.ndarray:
    """uint8 N x H x W x 3 -> float32 N x 3 x H x W in [0, 1], the exported graphs' input."""
    return np.ascontiguousarray(np.asarray(images).transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255.0)
