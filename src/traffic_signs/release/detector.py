"""Release the sign detector: ONNX export, a score on scenes it never saw, and shipping with its card
(the command is ``traffic-signs ship-detector``, release/detector_cli.py).

The score uses synthetic scenes made the way the training scenes are, but with the official
*test* set's signs (the detector trained on the training split's), so it measures how well
the boxes fit signs it has not seen; the real-photo benchmark (``benchmarks/real_photos.py``)
measures the whole pipeline on real photos.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from traffic_signs.data.cache import load_split
from traffic_signs.data.scenes import SceneMaker, find_background_photos, load_photos
from traffic_signs.errors import ModelFileError
from traffic_signs.files import file_digest, staged
from traffic_signs.models.detector import STRIDE, SignFinder
from traffic_signs.models.model_file import DetectorFile, read_detector_file
from traffic_signs.models.resolve import shipped_dir
from traffic_signs.prediction.detect import SignDetector, box_iou

CARD = "DETECTOR_CARD.md"


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
    record = replace(read_detector_file(json_path), onnx=onnx_path.name, onnx_sha256=file_digest(onnx_path),
                     stride=STRIDE)
    with staged(json_path) as tmp:
        tmp.write_text(json.dumps(record.to_json(), indent=2) + "\n")
    return onnx_path


def score_on_test_scenes(json_path: Path, count: int = 500, seed: int = 1234, data_dir: str | None = None,
                         cache_dir: str | None = None) -> dict[str, float]:
    """Recall and precision of the exported detector (IoU >= 0.5) on scenes made from official test signs."""
    detector = SignDetector(json_path)
    test = load_split("test", data_dir, 32, cache_dir)
    maker = SceneMaker(load_photos(find_background_photos()), test.images, test.labels, 256, seed)
    signs = found = boxes = hits = 0
    ious = []
    for _ in range(count):
        scene = maker.make()
        detections = detector.detect(Image.fromarray(scene.image))
        boxes += len(detections)
        for truth in scene.boxes:
            best = max((box_iou(tuple(truth), d.box) for d in detections), default=0.0)
            signs += 1
            found += best >= 0.5
            ious.append(best)
        hits += sum(max((box_iou(d.box, tuple(t)) for t in scene.boxes), default=0.0) >= 0.5 for d in detections)
    return {"scenes": count, "signs": signs, "recall_iou_0.5": round(found / max(signs, 1), 4),
            "precision_iou_0.5": round(hits / max(boxes, 1), 4), "mean_best_iou": round(float(np.mean(ious)), 4)}


def ship_detector(json_path: Path, name: str, scores: dict[str, float]) -> Path:
    """Install the exported detector in the package (JSON, ONNX, safetensors) and write its card."""
    record = read_detector_file(json_path)
    if record.onnx is None:
        raise ModelFileError(f"{json_path}: no ONNX export; run `traffic-signs ship-detector` on the run folder")
    target = shipped_dir()
    shutil.copyfile(json_path.with_name(record.weights), target / f"{name}.safetensors")
    shutil.copyfile(json_path.with_name(record.onnx), target / f"{name}.onnx")
    record = replace(record, name=name, weights=f"{name}.safetensors", onnx=f"{name}.onnx", test_scenes=scores)
    (target / f"{name}.json").write_text(json.dumps(record.to_json(), indent=2) + "\n")
    card = target / CARD
    card.write_text(detector_card(name, record, scores))
    return card


def training_command(record: DetectorFile, name: str) -> str:
    config = record.config
    shares = "".join(f" --{key.replace('_', '-')} {config[key]:g}"
                     for key in ("drawn_share", "night_share", "defocus_share") if config.get(key))
    return (f"traffic-signs train-detector --scenes {config.get('scenes')} --epochs {config.get('epochs')} "
            f"--seed {config.get('seed')}{shares} --out runs/{name} && traffic-signs ship-detector runs/{name}")


def _drawn_text(record: DetectorFile) -> str:
    share = record.config.get("drawn_share")
    if not share:
        return ""
    return (f" {100 * share:.0f}% of the signs are drawn instead (`data/drawn_signs.py`): sharp at any size,"
            "\n  and of designs GTSRB never shows (speed limits it has no class for, Zone plates, blue squares and"
            "\n  discs, no-stopping discs, yellow diamonds, text plates), each boxed whole.")


def _photographed_text(record: DetectorFile) -> str:
    config = record.config
    parts = []
    if night := config.get("night_share"):
        parts.append(f"{100 * night:.0f}% of the scenes are at night (the background at 5-35% of its light,"
                     "\n  tinted, behind signs lit by flash or headlights)")
    if defocus := config.get("defocus_share"):
        parts.append(f"{100 * defocus:.0f}% of the scenes have their background out of focus behind sharp"
                     "\n  signs and sharp shapes and pieces of other photos (a shallow depth of field, as in"
                     "\n  stock photos)")
    return "\n  " + ";\n  ".join(parts) + "." if parts else ""


def detector_card(name: str, record: DetectorFile, scores: dict[str, float]) -> str:
    history, config = record.history, record.config
    minutes = sum(epoch.get("seconds", 0) for epoch in history) / 60
    return f"""# Detector card: `{name}` (SignFinder)

Finds the traffic signs in a photo, class-agnostic; the classifier (`MODEL_CARD.md`) names each.

- **Architecture**: SignFinder, a CenterNet-style fully convolutional network (conv-BN-ReLU pyramid
  to 1/32, global context, feature-pyramid path back to 1/4): heat map of sign centres, box size
  and centre offset per 4x4-pixel cell. One pass over the photo at 256 px on the long side.
- **Data**: {config.get('scenes', '?'):,} synthetic {config.get('side', 192)} px scenes:
  GTSRB *training* signs cut out along their class's shape (circle, triangle, inverted
  triangle, octagon, diamond), 0-4 per scene at 6-95% of the scene's side, on poles or stacked,
  pasted into heavily cropped sign-free photographs from Debian's desktop-background packages
  (`plasma-workspace-wallpapers`, `ukui-wallpapers`, `mate-backgrounds`), with clutter (poles,
  plates, discs, stripes), blur, lost resolution, noise and lighting changes; mirrored and
  re-lit per batch.{_drawn_text(record)}{_photographed_text(record)} No real-photo evaluation image was used.
- **Training**: `{training_command(record, name)}`
  (seed {config.get('seed')}; `scripts/install_backgrounds.sh` installs the photographs);
  focal loss on the heat map + L1 on log size and offset (CenterNet); AdamW, cosine decay; {len(history)} epochs,
  {minutes:.0f} minutes on 1 CPU thread (AMD EPYC, AVX2). Final losses: {json.dumps(history[-1] if history else {})}.
- **Scored on {scores['scenes']} synthetic scenes with official *test* signs** (never trained on; the
  backgrounds are new crops of the same photographs): recall {100 * scores['recall_iou_0.5']:.1f}% and
  precision {100 * scores['precision_iou_0.5']:.1f}% at IoU >= 0.5, mean best IoU {scores['mean_best_iou']:.2f}
  ({scores['signs']} signs). `tests/test_shipped_detector.py` re-checks these figures on 150 such
  scenes; `tests/test_signs.py` checks the whole pipeline on official test signs pasted into a
  street and on drawn street scenes.
- **Real photos**: see docs/results.md, *Real photos*, in the repository
  (`python benchmarks/real_photos.py --cross-validate`).
- **Known limits**: it learnt signs from 32x32 GTSRB crops and simple drawings, so a large sign
  with fine detail (the letters of a STOP sign) sometimes comes back as a box on a part of it, and
  the 30 km/h disc of a Zone 30 plate is boxed rather than the plate; signs photographed at night
  or against a dark sky are sometimes not found, or a light beside them is boxed instead (the
  night scenes, where asked for, found some of those the first detector missed); the photographs
  are nature and abstract wallpapers, not streets, so facades and vehicles are less well known as
  "not a sign".
"""
