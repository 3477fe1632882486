"""One way to derive randomness from a seed: sub-seeds, generators, subsets, the derangement (no global state)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["derangement", "derive_seed", "seeded_generator", "seeded_subset"]


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


def derangement(labels: Tensor, generator: torch.Generator) -> Tensor:
    """A rearrangement of ``labels`` (same class counts) with no position keeping its class.

    The one derangement of the package: the high seeds of the hybrid pairs and the adversarial targets.

    Positions are visited in random order; each takes a uniformly drawn label from the pool of labels not yet
    handed out, redrawn while it equals the position's own class, except when one class must be taken now to keep
    the rest solvable (the remaining problem is solvable iff pool_k + open_positions_k <= remaining for all k).

    Args:
        labels: (N,) int64 class indices on the CPU, no class holding more than N / 2 of them.
        generator: the source of every random draw.

    Returns:
        (N,) int64 labels, ``out != labels`` everywhere, with the class counts of ``labels``.

    Raises:
        ValueError: a class holds more than half of the labels (no such rearrangement exists).
    """
    n = labels.numel()
    if n == 0:
        return labels.clone()
    largest = int(torch.bincount(labels).max())
    if 2 * largest > n:
        raise ValueError(f"labels must have no class with more than half of them, got {largest} of {n} in one class")
    num_classes = int(labels.max()) + 1
    order = torch.randperm(n, generator=generator).tolist()
    label_list = labels.tolist()
    pool_items = labels[torch.randperm(n, generator=generator)].tolist()  # labels still to hand out
    # slack[k] = labels k still in the pool + positions of class k still open; solvable iff slack[k] <= remaining
    slack = (2 * torch.bincount(labels, minlength=num_classes)).tolist()
    max_slack = max(slack)  # upper bound (slack only decreases)
    uniforms: list[float] = []

    def uniform() -> float:
        if not uniforms:
            uniforms.extend(torch.rand(4096, generator=generator, dtype=torch.float64).tolist()[::-1])
        return uniforms.pop()

    out = [0] * n
    for i in order:
        a, remaining = label_list[i], len(pool_items)
        b = -1
        if max_slack >= remaining:  # a class may be tight: check exactly (rare unless one class dominates)
            max_slack = max(slack)
            tight = [k for k in range(num_classes) if k != a and slack[k] == remaining]
            if tight:
                b = tight[0]
        if b < 0:
            for _ in range(64):
                j = min(int(uniform() * remaining), remaining - 1)
                if pool_items[j] != a:
                    b = pool_items[j]
                    break
            else:  # the pool is almost all class a: draw among the other labels directly
                others = [j for j, k in enumerate(pool_items) if k != a]
                j = others[min(int(uniform() * len(others)), len(others) - 1)]
                b = pool_items[j]
        else:
            j = pool_items.index(b)
        pool_items[j] = pool_items[-1]
        pool_items.pop()
        out[i] = b
        slack[a] -= 1
        slack[b] -= 1
    return torch.tensor(out, dtype=torch.long)
