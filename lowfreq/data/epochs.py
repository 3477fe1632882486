"""Randomness as a function of (seed, epoch, sample): exact epochs that resume bit-identically after a crash.

A DataLoader normally draws its order from a generator created once per loader and its augmentation from the
global RNG, so a run resumed at epoch e replays the randomness of epoch 0. Here every draw is derived from
``(seed, epoch)`` (the order) or ``(seed, epoch, index)`` (one sample's augmentation): ``EpochSampler``
yields *epoch-tagged keys* ``epoch * N + index`` and ``EpochSeededDataset`` seeds each item from its key,
so any transform pipeline (torchvision's random transforms, in workers or not) gives the same sample for the same
(seed, epoch, index), whatever happened before.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset, DistributedSampler

from lowfreq.core.seeding import derive_seed

__all__ = ["EpochSampler", "EpochSeededDataset"]


class EpochSampler(DistributedSampler):
    """``DistributedSampler`` (order seeded by ``seed + epoch``, this rank's padded share) yielding epoch-tagged keys.

    Key ``epoch * N + index`` tells ``EpochSeededDataset`` which epoch a sample belongs to. Being a
    ``DistributedSampler``, Lightning keeps it (no second sharding) and calls ``set_epoch`` every epoch, also
    after resuming from a checkpoint. ``num_replicas`` and ``rank`` are given explicitly (1 and 0 without DDP).
    """

    def __iter__(self) -> Any:
        offset = self.epoch * len(self.dataset)  # type: ignore[arg-type]
        return (offset + index for index in super().__iter__())


class EpochSeededDataset(Dataset):
    """A dataset whose item ``epoch * N + index`` is ``dataset[index]`` under a global RNG seeded per sample.

    The global torch RNG is seeded from ``derive_seed(seed, epoch, index)`` for the item and restored afterwards.
    Plain indices ``0 <= index < N`` are epoch 0. Random transforms that draw from torch's global generator
    (torchvision's, [`TensorImageDataset`][lowfreq.data.datasets.TensorImageDataset]'s augmentation) become
    deterministic per sample.

    Args:
        dataset: a map-style dataset of N items.
        seed: >= 0.
    """

    def __init__(self, dataset: Dataset, seed: int) -> None:
        self.dataset, self.seed = dataset, seed

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, key: int) -> Any:
        epoch, index = divmod(int(key), len(self))
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(derive_seed(self.seed, epoch, index))
            return self.dataset[index]
