"""Where corrupted images come from: an official release folder (CIFAR-10-C, ImageNet-C) or the generator.

[`corrupted_batches`][lowfreq.data.corruptions.source.corrupted_batches] is what
[`CorruptionAnalysis`][lowfreq.callbacks.corruptions.CorruptionAnalysis] evaluates, and what a notebook loops over
to evaluate a model on a CIFAR-10-C folder (or on generated corruptions) without a Trainer:

    for corruption, severity, x, y in corrupted_batches(test_set, ["fog"], [3], data_dir="data/CIFAR-10-C"):
        metric.update(model, x, y, corruption, severity)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor
from torch.utils.data import Dataset

from lowfreq.core.checks import check_bool, check_positive_int
from lowfreq.core.seeding import seeded_subset
from lowfreq.data.corruptions.generator import corrupt_images
from lowfreq.data.corruptions.names import check_corruptions, check_severities
from lowfreq.data.corruptions.release import CIFAR10CDataset, imagenet_c_dataset, official_layout

__all__ = ["CorruptedBatch", "corrupted_batches", "corruption_release"]

Release = Literal["cifar10-c", "imagenet-c"]

CorruptedBatch = tuple[str | None, int | None, Tensor, Tensor]
"""``(corruption, severity, x, y)``: x (B, C, H, W) float in [0, 1], y (B,) int64; corruption and severity are None
for clean images."""


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)


def corruption_release(data_dir: str | Path | None) -> Release | None:
    """The official release that ``data_dir`` holds, or None when the corruptions are to be generated.

    Args:
        data_dir: folder of CIFAR-10-C (or the folder above ``CIFAR-10-C/``) or of ImageNet-C; None or a folder
            that does not exist means "generate".

    Raises:
        FileNotFoundError: ``data_dir`` exists but holds neither release.
    """
    layout = official_layout(data_dir)
    if data_dir is not None and layout is None and Path(data_dir).expanduser().exists():
        raise FileNotFoundError(
            f"data_dir={str(data_dir)!r} holds neither CIFAR-10-C (<corruption>.npy + labels.npy) nor "
            "ImageNet-C (<corruption>/<severity>/<wnid>/) (see lowfreq.data.download_cifar10_c)"
        )
    return layout


def _stack(dataset: Dataset, indices: Tensor) -> tuple[Tensor, Tensor]:
    items = [dataset[int(i)] for i in indices]
    return torch.stack([torch.as_tensor(x) for x, *_ in items]), torch.as_tensor([int(y) for _, y, *_ in items])


def _local(num_items: int, num_images: int | None, seed: int, rank: int, world_size: int) -> Tensor:
    return seeded_subset(num_items, num_images, seed)[rank::world_size]


def corrupted_batches(
    clean: Dataset,
    corruptions: Sequence[str] | None = None,
    severities: Sequence[int] | None = None,
    *,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    resize_crop: bool = False,
    num_images: int | None = None,
    batch_size: int = 256,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
    warn: Callable[[str], object] = _warn,
) -> Iterator[CorruptedBatch]:
    """Batches of clean and corrupted images of a corruption x severity grid, from a release folder or generated.

    With an official release in ``data_dir`` (see ``corruption_release``): first the clean batches of
    ``clean``, then, per (corruption, severity), the batches of the seeded subset of that release condition;
    conditions missing from the folder are skipped and named in one ``warn`` call. Otherwise (``data_dir`` None or
    absent, which ``warn`` reports): per batch of the seeded subset of ``clean``, the clean batch and then that batch
    corrupted at every condition by [`corrupt_images`][lowfreq.data.corruptions.generator.corrupt_images]
    (deterministic for ``seed`` and each image's index, cached in ``cache_dir``). Each subset is
    ``seeded_subset(len(dataset), num_images, seed)``, of which this process takes ``[rank::world_size]``.

    Args:
        clean: dataset of ``(x, y, ...)`` items, x (C, H, W) float in [0, 1]: the clean images (and, when
            generating, the images corrupted).
        corruptions: corruption names (None = all 15).
        severities: severities in 1 ... 5 (None = all 5).
        data_dir: folder of CIFAR-10-C or ImageNet-C; None or a folder that does not exist = generate.
        cache_dir: cache folder of the generated corruptions; None = no cache.
        resize_crop: ImageNet-C only: ``Resize(256) + CenterCrop(224)`` (P001's code).
        num_images: images of each seeded subset (None = all).
        batch_size: images per batch, >= 1.
        seed: seed of the subsets and of the generated corruptions.
        rank: this process's index in ``[0, world_size)``.
        world_size: number of processes sharing the work, >= 1.
        warn: called with a message about an absent ``data_dir`` or missing conditions (default: a UserWarning).

    Yields:
        ``(corruption, severity, x, y)`` (``CorruptedBatch``): x (B, C, H, W) float in [0, 1], y (B,) int64;
        corruption and severity are None for clean images.

    Raises:
        FileNotFoundError: ``data_dir`` exists but holds neither release.
    """
    names, levels = check_corruptions(corruptions), check_severities(severities)
    check_positive_int("batch_size", batch_size)
    check_positive_int("world_size", world_size)
    check_positive_int("rank", rank, minimum=0)
    if rank >= world_size:
        raise ValueError(f"rank must be in [0, world_size = {world_size}), got {rank}")
    check_bool("resize_crop", resize_crop)
    release = corruption_release(data_dir)
    if data_dir is not None and release is None:
        warn(f"data_dir={str(data_dir)!r} does not exist; generating the corruptions instead")
    conditions = [(c, s) for c in names for s in levels]
    local = _local(len(clean), num_images, seed, rank, world_size)  # type: ignore[arg-type]
    for index in local.split(batch_size):
        x, y = _stack(clean, index)
        yield None, None, x, y
        if release is None:
            for corruption, severity in conditions:
                yield corruption, severity, corrupt_images(
                    x, corruption, severity, seed=seed, indices=index, cache_dir=cache_dir
                ), y
    if release is None:
        return
    assert data_dir is not None
    absent = []
    for corruption, severity in conditions:
        try:
            dataset: Dataset = (
                CIFAR10CDataset(data_dir, corruption, severity)
                if release == "cifar10-c"
                else imagenet_c_dataset(data_dir, corruption, severity, resize_crop=resize_crop)
            )
        except FileNotFoundError:
            absent.append(f"{corruption}/{severity}")
            continue
        for index in _local(len(dataset), num_images, seed, rank, world_size).split(batch_size):  # type: ignore[arg-type]
            yield corruption, severity, *_stack(dataset, index)
    if absent:
        warn(f"{len(absent)} conditions are missing in {str(data_dir)!r}: "
             f"{', '.join(absent[:10])}{' ...' if len(absent) > 10 else ''}")
