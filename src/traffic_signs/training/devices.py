"""Where a run executes: its processes (one, or a torchrun group), its device and its arithmetic."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from traffic_signs.training.recipe import PRECISIONS


@dataclass
class Distributed:
    """This process's place in the run: rank 0 of 1 unless launched by torchrun."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def log(self, message: str) -> None:
        """One line on stderr, from the main process only."""
        if self.main:
            print(message, file=sys.stderr, flush=True)

    def environment(self) -> dict[str, Any]:
        """What the run's speed depends on, for state.json."""
        return {"torch": torch.__version__, "python": platform.python_version(), "threads": torch.get_num_threads(),
                "processes": self.world, "cpu_count": os.cpu_count()}


def setup_distributed() -> tuple[Distributed, torch.device]:
    """Join the torchrun process group when launched by torchrun; pick a GPU if present."""
    device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Distributed(), device
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    rank = dist.get_rank()
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    else:  # share the cores between the processes instead of oversubscribing them
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    return Distributed(rank, world), device


def resolve_precision(requested: str, device: torch.device) -> str:
    """The arithmetic the forward pass runs in: "fp32" or "bf16".

    bfloat16 autocast speeds CPU training up where the cores have native bf16 instructions
    (AVX512-BF16 or AMX) and leaves weights, optimizer state and the loss in fp32; without
    them PyTorch emulates it and runs slower, so "auto" keeps fp32.
    """
    if requested not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {requested!r}")
    if requested != "auto":
        return requested
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    capabilities = torch.cpu.get_capabilities()
    native = capabilities.get("avx512_bf16") or capabilities.get("amx_bf16")
    return "bf16" if native else "fp32"
