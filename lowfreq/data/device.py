"""Device-resident batches: the whole uint8 dataset on the accelerator, shuffled, cropped and flipped there.

[`DeviceLoader`][lowfreq.data.device.DeviceLoader] replaces a ``DataLoader`` for datasets that fit in device memory
(CIFAR-10: 150 MB as uint8). Nothing runs per sample in Python and nothing crosses the host-device boundary per step:
once per epoch the permutation and every image's augmentation parameters are drawn on the CPU (so they are the same on
every device and world size) and copied to the device in one transfer; each step is then a handful of batched gathers.

**Epoch and sharding rule** ([`ShardedEpochSampler`][lowfreq.data.device.ShardedEpochSampler]). Epoch ``e`` visits
``order`` = a permutation of ``range(N)`` drawn from a generator seeded by ``(seed, e)`` (``arange(N)`` when not
shuffling). The order is cut into steps of ``G = world_size * batch_size`` positions; rank ``r`` takes positions
``r, r + W, r + 2W, ...`` of each step. The last step holds the remainder ``R = N - (S - 1) G``; when ``R < world_size``
it could not give every rank a sample, so it is merged into the step before (which then holds up to ``G + W - 1``
positions). Hence every sample is used exactly once per epoch, all ranks run the same number of steps, per-rank batch
sizes differ by at most one, and rank ``r``'s step-k batch is the strided share of the step-k batch a single process
with batch size ``G`` would see: the data seen per step do not depend on the world size. ``drop_last`` instead drops the
``N mod G`` positions after the last full step.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor
from torch.utils.data import Sampler

from lowfreq.core.checks import check_positive_int, check_range
from lowfreq.core.seeding import seeded_generator
from lowfreq.data.transforms import (
    apply_color_jitter,
    check_crop_padding,
    color_jitter_factors,
    crop_flip,
    crop_flip_params,
)

__all__ = ["DeviceLoader", "ShardedEpochSampler"]


class ShardedEpochSampler(Sampler[int]):
    """This rank's share of ``range(num_items)`` for one epoch, cut into steps of equal count on every rank.

    See the module docstring for the rule. Like ``DistributedSampler``, call
    [`set_epoch`][lowfreq.data.device.ShardedEpochSampler.set_epoch] before each epoch (Lightning does this for any
    loader whose ``sampler`` has ``set_epoch``).

    Args:
        num_items: dataset size N, >= world_size (>= world_size * batch_size with ``drop_last``).
        batch_size: positions per rank per step B, >= 1.
        shuffle: draw a new permutation each epoch, from a CPU generator seeded by (seed, epoch).
        seed: >= 0.
        rank: this process's rank, in [0, world_size).
        world_size: number of processes W, >= 1.
        drop_last: drop the ``N mod (W B)`` trailing positions instead of spreading them.
    """

    def __init__(
        self,
        num_items: int,
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = False,
    ) -> None:
        check_positive_int("batch_size", batch_size)
        check_positive_int("world_size", world_size)
        check_positive_int("seed", seed, minimum=0)
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size - 1}], got {rank}")
        global_batch = batch_size * world_size
        minimum = global_batch if drop_last else world_size
        if num_items < minimum:
            raise ValueError(
                f"num_items must be >= {minimum} (world_size{' * batch_size' if drop_last else ''}) so that every "
                f"rank gets a batch, got {num_items}"
            )
        self.num_items, self.batch_size, self.shuffle, self.seed = num_items, batch_size, shuffle, seed
        self.rank, self.world_size, self.drop_last = rank, world_size, drop_last
        self.epoch = 0
        if drop_last:
            bounds = list(range(0, (num_items // global_batch) * global_batch + 1, global_batch))
        else:
            bounds = [*list(range(0, num_items, global_batch)), num_items]
            if len(bounds) > 2 and bounds[-1] - bounds[-2] < world_size:
                del bounds[-2]  # too few left for one per rank: merge into the previous step
        self.bounds: list[int] = bounds
        """Step boundaries in epoch-order positions: step k covers ``[bounds[k], bounds[k + 1])``."""

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch`` (>= 0) for the next pass."""
        check_positive_int("epoch", epoch, minimum=0)
        self.epoch = epoch

    @property
    def num_steps(self) -> int:
        """Steps per epoch, the same on every rank."""
        return len(self.bounds) - 1

    def order(self, epoch: int | None = None) -> Tensor:
        """(N,) int64 CPU tensor: the global visiting order of ``epoch`` (default: the current one)."""
        epoch = self.epoch if epoch is None else epoch
        if not self.shuffle:
            return torch.arange(self.num_items)
        return torch.randperm(self.num_items, generator=seeded_generator(self.seed, epoch, 0))

    def batches(self, order: Tensor) -> Iterator[Tensor]:
        """This rank's index batches: strided views of ``order`` (on whatever device ``order`` lives)."""
        for start, stop in zip(self.bounds[:-1], self.bounds[1:], strict=True):
            yield order[start + self.rank : stop : self.world_size]

    def __iter__(self) -> Iterator[int]:
        for batch in self.batches(self.order()):
            yield from batch.tolist()

    def __len__(self) -> int:
        """Number of indices this rank visits per epoch."""
        steps = zip(self.bounds[:-1], self.bounds[1:], strict=True)
        return sum(len(range(start + self.rank, stop, self.world_size)) for start, stop in steps)


class DeviceLoader:
    """Iterable of ``(x, y)`` batches made on ``device`` from uint8 images held there (no DataLoader, no workers).

    ``x``: (B, C, H, W) float32 in [0, 1]; ``y``: (B,) int64. With ``augment``, each image is cropped after
    ``padding`` px reflect padding and mirrored with probability 1/2
    ([`random_crop_flip`][lowfreq.data.transforms.random_crop_flip]'s distribution), then colour-jittered when
    ``color_jitter > 0`` ([`color_jitter`][lowfreq.data.transforms.color_jitter]'s). The permutation and augmentation
    parameters of epoch ``e`` are drawn on the CPU from generators seeded by ``(seed, e)``: identical on every device,
    rank and world size. Sharding follows [`ShardedEpochSampler`][lowfreq.data.device.ShardedEpochSampler].

    Each ``iter()`` runs the epoch given by [`set_epoch`][lowfreq.data.device.DeviceLoader.set_epoch] and then advances
    it by one, so a plain ``for epoch in range(E): for x, y in loader: ...`` sees a new order every epoch; Lightning
    calls ``loader.sampler.set_epoch`` itself (also after resuming from a checkpoint).

    Args:
        images: (N, C, H, W) uint8 images (copied to ``device`` once unless already there).
        labels: (N,) integer labels.
        batch_size: images per rank per step, >= 1.
        shuffle: new order every epoch (training); False visits ``0..N-1`` in order (evaluation).
        augment: random crop + horizontal flip.
        color_jitter: brightness/contrast/saturation jitter strength >= 0, applied when ``augment``.
        padding: reflect padding of the random crop in pixels, in [0, min(H, W) - 1].
        seed: seed of the order and of the augmentation, >= 0.
        rank: this process's rank, in [0, world_size).
        world_size: number of processes, >= 1.
        drop_last: drop the trailing ``N mod (world_size * batch_size)`` samples of each epoch.
        device: where images live and batches are made; None keeps the device of ``images``.
    """

    batch_sampler: None = None
    """Always None (the loader batches itself); Lightning reads ``sampler`` and ``batch_sampler`` of any loader."""

    def __init__(
        self,
        images: Tensor,
        labels: Tensor,
        batch_size: int,
        *,
        shuffle: bool = False,
        augment: bool = False,
        color_jitter: float = 0.0,
        padding: int = 4,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = False,
        device: torch.device | str | None = None,
    ) -> None:
        if images.ndim != 4 or images.dtype != torch.uint8:
            raise ValueError(f"images must be a uint8 (N, C, H, W) tensor, got {images.dtype} {tuple(images.shape)}")
        if labels.shape != (images.shape[0],):
            raise ValueError(f"labels must have shape ({images.shape[0]},), got {tuple(labels.shape)}")
        check_range("color_jitter", color_jitter, 0.0, float("inf"))
        if augment:
            check_crop_padding(padding, *images.shape[-2:])
        if color_jitter > 0 and images.shape[1] != 3:
            raise ValueError(f"color_jitter needs 3-channel images, got {images.shape[1]} channels")
        self.device = images.device if device is None else torch.device(device)
        self.images = images.to(self.device)
        self.labels = labels.to(self.device, torch.long)
        self.batch_size, self.augment, self.color_jitter, self.padding = batch_size, augment, color_jitter, padding
        self.sampler = ShardedEpochSampler(
            images.shape[0], batch_size, shuffle=shuffle, seed=seed, rank=rank, world_size=world_size,
            drop_last=drop_last,
        )

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch`` (>= 0) for the next pass."""
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        """Batches per epoch (the same on every rank)."""
        return self.sampler.num_steps

    def _to_device(self, x: Tensor) -> Tensor:
        if self.device.type == "cuda":  # pinned + non_blocking: the copy does not wait for the running step
            return x.pin_memory().to(self.device, non_blocking=True)
        return x.to(self.device)

    def epoch_params(self, epoch: int) -> tuple[Tensor, Tensor, Tensor | None]:
        """The CPU draws of ``epoch``, deterministic for (seed, epoch).

        Returns:
            ``(order, crop, jitter)``: the order (N,), the crop/flip parameters (3, N) = (oy, ox, flip) indexed by
            sample (empty without ``augment``), and the jitter factors (3, N) or None.
        """
        order = self.sampler.order(epoch)
        if not self.augment:
            return order, torch.zeros(3, 0, dtype=torch.long), None
        num_items, g = order.numel(), seeded_generator(self.sampler.seed, epoch, 1)
        oy, ox, flip = crop_flip_params(num_items, self.padding, generator=g)
        jitter = color_jitter_factors(num_items, self.color_jitter, generator=g) if self.color_jitter > 0 else None
        return order, torch.stack([oy, ox, flip.long()]), jitter

    def batch(self, index: Tensor, crop: Tensor, jitter: Tensor | None) -> tuple[Tensor, Tensor]:
        """The ``(x, y)`` batch of the samples ``index`` (B,).

        Args:
            index: (B,) sample indices.
            crop: (3, N) per-sample crop/flip parameters from
                [`epoch_params`][lowfreq.data.device.DeviceLoader.epoch_params].
            jitter: (3, N) per-sample jitter factors, or None.
        All three live on ``self.device``.
        """
        if self.augment:
            p = crop[:, index]  # (3, B)
            x = crop_flip(self.images, p[0], p[1], p[2].bool(), self.padding, index=index)
        else:
            x = self.images[index]
        x = x.float().div_(255.0)  # (B, C, H, W) in [0, 1], bit-identical to the DataLoader path
        if jitter is not None:
            x = apply_color_jitter(x, jitter[:, index])
        return x, self.labels[index]

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        epoch = self.sampler.epoch
        self.sampler.epoch = epoch + 1  # a plain loop gets a new epoch each pass; set_epoch overrides it
        order, crop, jitter = self.epoch_params(epoch)
        order, crop = self._to_device(order), self._to_device(crop)
        jitter = None if jitter is None else self._to_device(jitter)
        for index in self.sampler.batches(order):
            yield self.batch(index, crop, jitter)

    def __repr__(self) -> str:
        s = self.sampler
        return (
            f"{type(self).__name__}(num_items={s.num_items}, batch_size={self.batch_size}, steps={len(self)}, "
            f"shuffle={s.shuffle}, augment={self.augment}, color_jitter={self.color_jitter}, rank={s.rank}, "
            f"world_size={s.world_size}, device={self.device})"
        )
