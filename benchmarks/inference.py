"""Inference speed on this CPU: torch vs ONNX Runtime for every registered model, the
end-to-end latency of one image (PNG bytes -> decode -> model -> top-k) with the shipped model,
and of whole photos (file -> decode -> detector -> every sign named): every photo of the
real-photo folder, and a 12-megapixel JPEG. ONNX Runtime is timed twice: the float export and
its 8-bit integer copy (export --int8).

    python benchmarks/inference.py [--threads 2] [--batch 256] [--repeats 7] [--photos-only]
    python benchmarks/inference.py --against OTHER.onnx [--repeats 21]   # shipped graph vs another
    python benchmarks/inference.py --against-no-arena [--repeats 21]     # with ONNX Runtime's memory arena or not
    python benchmarks/inference.py --chunks 32,64,128,256 [--repeats 9]  # the committee fed in runs of each size

``--against`` times the shipped ONNX graph and another graph of the same input (an earlier
export of it, say: ``git show REV:src/traffic_signs/shipped/NAME.onnx > old.onnx``) batch by
batch in turn, so both see the same load, and writes the medians and their ratio to
benchmarks/results/inference_against.json. ``--against-no-arena`` times the shipped graph in
turn with and without ONNX Runtime's memory arena (``prediction.runtime.onnx_session``) and
writes benchmarks/results/inference_arena.json. ``--chunks`` times the shipped committee on 2,048
crops fed to ONNX Runtime in runs of each size in turn (``CropClassifier.probabilities``) and writes
benchmarks/results/inference_chunks.json.

Throughput is the median of ``--repeats`` timed batches after warm-up (speed does not depend
on the weights, so untrained models are timed; the shipped model is timed as shipped).
Prints a table and writes benchmarks/results/inference.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from traffic_signs import Classifier
from traffic_signs.benchmarking import cpu_name, real_photo_folder
from traffic_signs.models.catalog import create, list_models
from traffic_signs.prediction.crops import CropClassifier
from traffic_signs.release.export import export_onnx
from traffic_signs.release.quantize import quantize_int8
from traffic_signs.settings import get_settings, use_settings

RESULTS = Path(__file__).parent / "results"


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torch_throughput(model: torch.nn.Module, batch: np.ndarray, repeats: int) -> float:
    model = model.eval().to(memory_format=torch.channels_last)
    x = torch.from_numpy(batch).permute(0, 3, 1, 2).float().div(255).contiguous(memory_format=torch.channels_last)

    def run() -> None:
        with torch.no_grad():
            model(x)

    return len(batch) / median_seconds(run, repeats)


def onnx_throughput(classifier: Classifier, batch: np.ndarray, repeats: int) -> float:
    return len(batch) / median_seconds(lambda: classifier.logits(batch), repeats)


def onnx_classifiers_for(name: str, folder: Path, calibration: np.ndarray) -> tuple[CropClassifier, CropClassifier]:
    """Float and int8 ONNX exports of an untrained ``name`` with minimal metadata, for timing only."""
    from traffic_signs.classes import CLASS_NAMES
    from traffic_signs.files import file_digest
    from traffic_signs.models.model_file import ModelFile, write_model_file

    onnx_path, int8_path = folder / f"{name}.onnx", folder / f"{name}.int8.onnx"
    export_onnx(create(name), onnx_path, 32)
    quantize_int8(onnx_path, int8_path, calibration)
    write_model_file(folder / f"{name}.json", ModelFile(
        architecture=name, class_names=list(CLASS_NAMES), input_size=32, onnx=onnx_path.name,
        onnx_sha256=file_digest(onnx_path), onnx_int8=int8_path.name, onnx_int8_sha256=file_digest(int8_path)))
    return CropClassifier(folder / f"{name}.json"), CropClassifier(folder / f"{name}.json", int8=True)


def single_image_latency(classifier: Classifier, image: Image.Image, count: int) -> dict[str, float]:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    data = buffer.getvalue()
    for _ in range(20):
        classifier.predict(data, top_k=5)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        classifier.predict(data, top_k=5)
        times.append(time.perf_counter() - start)
    times_ms = np.array(times) * 1000
    return {"p50_ms": float(np.percentile(times_ms, 50)), "p99_ms": float(np.percentile(times_ms, 99))}


def photo_latency(classifier: Classifier, photos: list[Path], repeats: int = 3) -> dict[str, float]:
    """Per photo, file bytes to every sign named: median of ``repeats`` runs of each photo, then p50/p99."""
    medians = []
    for path in photos:
        data = path.read_bytes()
        medians.append(median_seconds(lambda data=data: classifier.predict(data), repeats))
    ms = np.array(medians) * 1000
    return {"photos": len(photos), "p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
            "max_ms": float(ms.max())}


def twelve_megapixel_jpeg() -> bytes:
    """A 4000 x 3000 street photo as a camera saves it: the drawn test scene with three signs,
    enlarged, with sensor noise so that the file is as large as a real one (about 4 MB)."""
    scene = Path(__file__).resolve().parents[1] / "tests" / "data" / "scenes" / "three_signs.jpg"
    image = Image.open(scene).convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
    noise = np.random.default_rng(0).normal(0, 8, (3000, 4000, 3))
    image = Image.fromarray(np.clip(np.asarray(image) + noise, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def photo_figures(classifier: Classifier, count: int) -> dict:
    """Real-photo folder and 12-megapixel JPEG latencies (skipped when the folder is absent)."""
    out: dict = {}
    folder = real_photo_folder() / "images"
    if folder.is_dir():
        out["real_photos"] = photo_latency(classifier, sorted(folder.iterdir()))
        print(f"real photos ({out['real_photos']['photos']}): p50 {out['real_photos']['p50_ms']:.1f} ms, "
              f"p99 {out['real_photos']['p99_ms']:.1f} ms, max {out['real_photos']['max_ms']:.1f} ms", flush=True)
    data = twelve_megapixel_jpeg()
    classifier.predict(data)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        signs = classifier.predict(data).signs
        times.append(time.perf_counter() - start)
    out["jpeg_12mp"] = {"bytes": len(data), "p50_ms": 1000 * statistics.median(times),
                        "max_ms": 1000 * max(times), "signs": len(signs)}
    print(f"12-megapixel JPEG ({len(data):,} bytes, {len(signs)} signs): p50 {out['jpeg_12mp']['p50_ms']:.1f} ms",
          flush=True)
    return out


def median_seconds_in_turn(runs: dict[Any, Callable[[], object]], repeats: int) -> dict[Any, float]:
    """Each run's median time over ``repeats`` rounds after two warm-up rounds, the runs taking
    turns within a round so that all of them see the same load on a shared machine."""
    times: dict[Any, list[float]] = {name: [] for name in runs}
    for round_ in range(repeats + 2):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            if round_ >= 2:  # two warm-up rounds
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def interleaved(graphs: dict[str, tuple[Path, bool]], batch: np.ndarray, repeats: int) -> dict[str, float]:
    """Images per second of each ONNX graph (path, memory arena or not), their batches run in turn
    (median of ``repeats``)."""
    from traffic_signs.prediction.runtime import model_input, onnx_session

    sessions = {name: onnx_session(path.read_bytes(), path, memory_arena=arena)
                for name, (path, arena) in graphs.items()}
    inputs = model_input(batch)
    runs = {name: (lambda s=session: s.run(["logits"], {s.get_inputs()[0].name: inputs}))
            for name, session in sessions.items()}
    return {name: len(batch) / seconds for name, seconds in median_seconds_in_turn(runs, repeats).items()}


def against(other: Path, batch: np.ndarray, repeats: int, threads: int, out: Path) -> None:
    shipped = Classifier.load()
    graph = shipped.model.onnx_path
    speeds = interleaved({"shipped": (graph, True), "other": (other, True)}, batch, repeats)
    ratio = speeds["shipped"] / speeds["other"]
    print(f"shipped {graph.name}: {speeds['shipped']:.0f} img/s; {other}: {speeds['other']:.0f} img/s; "
          f"ratio {ratio:.2f}")
    write(out, {"threads": threads, "cpu": cpu_name(), "batch": len(batch), "repeats": repeats,
                "shipped": {"graph": graph.name, "images_per_s": speeds["shipped"]},
                "other": {"graph": str(other), "images_per_s": speeds["other"]}, "ratio": ratio})


def against_no_arena(batch: np.ndarray, repeats: int, threads: int, out: Path) -> None:
    graph = Classifier.load().model.onnx_path
    speeds = interleaved({"arena": (graph, True), "no arena": (graph, False)}, batch, repeats)
    ratio = speeds["arena"] / speeds["no arena"]
    print(f"shipped {graph.name}: with the memory arena {speeds['arena']:.0f} img/s, without "
          f"{speeds['no arena']:.0f} img/s; ratio {ratio:.2f}")
    write(out, {"threads": threads, "cpu": cpu_name(), "batch": len(batch), "repeats": repeats, "graph": graph.name,
                "arena_images_per_s": speeds["arena"], "no_arena_images_per_s": speeds["no arena"], "ratio": ratio})


def chunk_sizes(sizes: list[int], crops: int, repeats: int, threads: int, out: Path) -> None:
    """The shipped committee on ``crops`` crops handed over at once, fed to ONNX Runtime in runs of
    each size in turn (``CropClassifier.probabilities``'s ``batch_size``): the run size is the
    product's choice, and a run's activations must fit the CPU's caches."""
    model = Classifier.load().model
    side = model.input_size
    images = np.random.default_rng(0).integers(0, 256, (crops, side, side, 3), dtype=np.uint8)
    runs = {size: (lambda b=size: model.probabilities(images, batch_size=b)) for size in sizes}
    speeds = {size: crops / seconds for size, seconds in median_seconds_in_turn(runs, repeats).items()}
    for size, speed in speeds.items():
        print(f"runs of {size:>4}: {speed:,.0f} img/s")
    write(out, {"threads": threads, "cpu": cpu_name(), "crops": crops, "repeats": repeats,
                "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()],
                "images_per_s": {str(size): round(speed) for size, speed in speeds.items()}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--latency-count", type=int, default=500)
    parser.add_argument("--photos-only", action="store_true",
                        help="time whole photos only (not every model); written to inference_photos.json")
    parser.add_argument("--against", type=Path, default=None, metavar="OTHER.onnx",
                        help="time the shipped graph against another ONNX graph, batches in turn")
    parser.add_argument("--against-no-arena", action="store_true",
                        help="time the shipped graph with and without ONNX Runtime's memory arena, in turn")
    parser.add_argument("--chunks", default=None, metavar="SIZES",
                        help="time the shipped committee on 2,048 crops fed in runs of each size "
                             "(comma-separated), in turn")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    args.out = args.out or RESULTS / ("inference_against.json" if args.against else
                                      "inference_arena.json" if args.against_no_arena else
                                      "inference_chunks.json" if args.chunks else
                                      "inference_photos.json" if args.photos_only else "inference.json")
    torch.set_num_threads(args.threads)
    use_settings(replace(get_settings(), threads=args.threads))
    batch = np.random.default_rng(0).integers(0, 256, (args.batch, 32, 32, 3), dtype=np.uint8)
    if args.against:
        against(args.against, batch, args.repeats, args.threads, args.out)
        return
    if args.against_no_arena:
        against_no_arena(batch, args.repeats, args.threads, args.out)
        return
    if args.chunks:
        chunk_sizes([int(v) for v in args.chunks.split(",")], 2048, args.repeats, args.threads, args.out)
        return
    rows = []
    shipped = Classifier.load()
    photos = photo_figures(shipped, 11)
    if args.photos_only:
        write(args.out, {"threads": args.threads, "cpu": cpu_name(), "photos": photos})
        return
    print(f"{'model':<16} {'torch img/s':>12} {'onnxruntime img/s':>18} {'onnxruntime int8 img/s':>23}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in list_models():
            float_model, int8_model = onnx_classifiers_for(name, Path(tmp), batch)
            row = {"model": name, "torch_images_per_s": torch_throughput(create(name), batch, args.repeats),
                   "onnx_images_per_s": onnx_throughput(float_model, batch, args.repeats),
                   "onnx_int8_images_per_s": onnx_throughput(int8_model, batch, args.repeats)}
            rows.append(row)
            print(f"{name:<16} {row['torch_images_per_s']:>12.0f} {row['onnx_images_per_s']:>18.0f} "
                  f"{row['onnx_int8_images_per_s']:>23.0f}", flush=True)
    shipped_row = {"model": f"shipped ({shipped.name})",
                   "onnx_images_per_s": onnx_throughput(shipped.model, batch, args.repeats),
                   **single_image_latency(shipped, Image.fromarray(batch[0]).resize((64, 64)), args.latency_count)}
    print(f"shipped model: {shipped_row['onnx_images_per_s']:.0f} img/s batched (ONNX Runtime), single image "
          f"end to end p50 {shipped_row['p50_ms']:.2f} ms, p99 {shipped_row['p99_ms']:.2f} ms")
    write(args.out, {"threads": args.threads, "cpu": cpu_name(), "batch": args.batch, "models": rows,
                     "shipped": shipped_row, "photos": photos})


def write(path: Path, figures: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written to {path} ({figures['cpu']})")


if __name__ == "__main__":
    main()
