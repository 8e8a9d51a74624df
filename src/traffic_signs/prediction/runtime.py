"""ONNX Runtime sessions set up the same way for every exported graph (classifier and detector)."""

from __future__ import annotations

import os
from pathlib import Path


def onnx_session(onnx_path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = int(os.environ.get("TRAFFIC_SIGNS_THREADS", "0")) or min(4, os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
