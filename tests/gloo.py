"""Run a function in two CPU processes joined by gloo and bring back rank 0's result."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def _worker(rank: int, world: int, fn: Callable[[int, int], Any], init_file: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        result = fn(rank, world)
        if rank == 0:
            torch.save(result, out)
    finally:
        dist.destroy_process_group()


def run_in_processes(fn: Callable[[int, int], Any], tmp_path: Path, world: int = 2) -> Any:
    """``fn(rank, world)`` on ``world`` gloo processes (a module-level function, so it pickles); rank 0's value."""
    out = tmp_path / "rank0.pt"
    mp.spawn(_worker, args=(world, fn, str(tmp_path / "init"), str(out)), nprocs=world, join=True)
    return torch.load(out, weights_only=False)
