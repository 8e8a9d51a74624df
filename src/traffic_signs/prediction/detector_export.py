"""Export a trained SignFinder to ONNX (dynamic height and width) with its metadata beside it."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from traffic_signs.files import file_digest, staged
from traffic_signs.models.detector import STRIDE, SignFinder


def export_detector(model: SignFinder, json_path: Path) -> Path:
    """Write ``NAME.onnx`` next to the checkpoint ``NAME.json`` and record it (name and SHA-256) there."""
    json_path = Path(json_path)
    onnx_path = json_path.with_suffix(".onnx")
    model = model.eval().float()
    example = torch.rand(1, 3, 192, 256)
    with staged(onnx_path) as tmp, torch.no_grad():
        torch.onnx.export(model, (example,), str(tmp), input_names=["images"], output_names=["maps"],
                          dynamic_axes={"images": {0: "batch", 2: "height", 3: "width"},
                                        "maps": {0: "batch", 2: "rows", 3: "cols"}},
                          opset_version=17, dynamo=False)
    meta = json.loads(json_path.read_text())
    meta.update({"onnx": onnx_path.name, "onnx_sha256": file_digest(onnx_path), "stride": STRIDE})
    with staged(json_path) as tmp:
        tmp.write_text(json.dumps(meta, indent=2) + "\n")
    return onnx_path
