"""One way to derive randomness from a seed: sub-seeds, generators and seeded subsets (no global RNG state)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["derive_seed", "seeded_generator", "seeded_subset"]


def derive_seed(seed: int, *keys: int) -> int:
    """A 64-bit seed for the stream ``(seed, *keys)``, from numpy's ``SeedSequence``.

    Nearby tuples give unrelated seeds (unlike ``seed + key`` or ``seed * 4 + key``), and the value is the same on
    every platform and process.
    """
    entropy = (seed, *keys)
    if any(not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0 for v in entropy):
        raise ValueError(f"seed and keys must be non-negative integers, got {entropy}")
    return int(np.random.SeedSequence(tuple(int(v) for v in entropy)).generate_state(1, np.uint64)[0])


def seeded_generator(seed: int, *keys: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``derive_seed(seed, *keys)``; with no keys, with ``seed`` itself."""
    return torch.Generator().manual_seed(derive_seed(seed, *keys) if keys else seed)


def seeded_subset(num_items: int, num_selected: int | None, seed: int) -> Tensor:
    """Sorted indices of a seeded random subset of ``range(num_items)``.

    All of them when ``num_selected`` is None or not smaller than ``num_items``. The same on every rank, so results
    do not depend on the world size.
    """
    if num_selected is None or num_selected >= num_items:
        return torch.arange(num_items)
    perm = torch.randperm(num_items, generator=seeded_generator(seed))
    return perm[:num_selected].sort().values
