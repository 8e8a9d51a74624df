"""Fine-tuning speed of the pretrained EfficientNet-Lite0 on this CPU, by input size and frozen blocks.

    python benchmarks/backbone_training_speed.py [--threads 2] [--batch 64] [--repeats 5]
        [--sizes 48,64] [--freeze 0,3,5,8,11]

The model takes 32x32 crops and upsamples them inside itself; this times one training step
(forward, backward, AdamW) at each upsampled size with the stem and the first N blocks frozen
(``train --freeze-blocks N``), the way ``traffic-signs train`` runs it (channels-last, fp32).
Each setting is timed by the median of ``--repeats`` steps after one warm-up (speed does not
depend on the weights or the pictures, so random ones are timed), twice: images per second of
wall time, and images per CPU-second of this process. On a machine shared with other work the
wall-time figure moves with the load; the CPU-time one much less (with ``--threads 1`` it is
the speed one core would give). Prints a table and writes benchmarks/results/backbone_training_speed.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from traffic_signs.benchmarking import cpu_name
from traffic_signs.models.efficientnet_lite import EfficientNetLite0

RESULTS = Path(__file__).parent / "results"


def images_per_second(size: int, frozen: int, batch: int, repeats: int) -> tuple[float, float]:
    """(images per wall-clock second, images per CPU-second) of one training step."""
    model = EfficientNetLite0(43, image_size=size)
    if frozen:
        model.freeze(frozen)
    model = model.to(memory_format=torch.channels_last).train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    images = torch.rand(batch, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, 43, (batch,))

    def step() -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return time.perf_counter() - wall, time.process_time() - cpu

    step()  # warm-up
    walls, cpus = zip(*(step() for _ in range(repeats)), strict=True)
    return batch / statistics.median(walls), batch / statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", default="48,64")
    parser.add_argument("--freeze", default="0,3,5,8,11")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cpu = cpu_name()
    print(f"EfficientNet-Lite0 fine-tuning, batch {args.batch}, {args.threads} threads, {cpu}")
    print(f"{'size':>4} {'frozen':>6} {'img/s':>7} {'img/CPU-s':>9}", flush=True)
    rows = []
    for size in map(int, args.sizes.split(",")):
        for frozen in map(int, args.freeze.split(",")):
            wall, per_cpu = images_per_second(size, frozen, args.batch, args.repeats)
            rows.append({"size": size, "frozen_blocks": frozen, "images_per_second": round(wall, 1),
                         "images_per_cpu_second": round(per_cpu, 1)})
            print(f"{size:>4} {frozen:>6} {wall:>7.1f} {per_cpu:>9.1f}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = {"cpu": cpu, "threads": args.threads, "batch": args.batch, "repeats": args.repeats, "rows": rows}
    (RESULTS / "backbone_training_speed.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
