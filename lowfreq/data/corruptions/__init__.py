"""Common corruptions (P001 Figs 2, 5): names, official releases, their downloads, and a generator.

``names`` holds the corruptions and bands, ``release`` reads the official releases on disk, ``download`` fetches
them, ``generator`` corrupts images on the fly, and ``source`` chooses between a release folder and the generator
(the batches that the corruption analysis and a notebook evaluate).

Names load on first access, so ``lowfreq.data.corruptions.names`` (imported by the analyses) stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lowfreq.data.corruptions.download import (
        download_cifar10_c,
        download_imagenet_c,
    )
    from lowfreq.data.corruptions.generator import (
        MIN_GENERATED_SIZE,
        RANDOM_CORRUPTIONS,
        corrupt_images,
        corruption_cache_file,
        to_grayscale,
    )
    from lowfreq.data.corruptions.release import (
        CIFAR10C_DIR,
        CIFAR10C_FILENAME,
        CIFAR10C_MD5,
        CIFAR10C_URL,
        IMAGENETC_ARCHIVE_URL,
        IMAGENETC_ARCHIVES,
        IMAGENETC_IMAGES_PER_CONDITION,
        IMAGENETC_URL,
        CIFAR10CDataset,
        cifar10_c_missing_message,
        count_imagenet_c_images,
        find_cifar10_c,
        imagenet_c_dataset,
        official_layout,
    )
    from lowfreq.data.corruptions.source import CorruptedBatch, corrupted_batches, corruption_release

_MODULES = {
    "CIFAR10C_DIR": "release",
    "CIFAR10C_FILENAME": "release",
    "CIFAR10C_MD5": "release",
    "CIFAR10C_URL": "release",
    "IMAGENETC_ARCHIVES": "release",
    "IMAGENETC_ARCHIVE_URL": "release",
    "IMAGENETC_IMAGES_PER_CONDITION": "release",
    "IMAGENETC_URL": "release",
    "CIFAR10CDataset": "release",
    "cifar10_c_missing_message": "release",
    "count_imagenet_c_images": "release",
    "find_cifar10_c": "release",
    "imagenet_c_dataset": "release",
    "official_layout": "release",
    "download_cifar10_c": "download",
    "download_imagenet_c": "download",
    "MIN_GENERATED_SIZE": "generator",
    "RANDOM_CORRUPTIONS": "generator",
    "corrupt_images": "generator",
    "corruption_cache_file": "generator",
    "to_grayscale": "generator",
    "CorruptedBatch": "source",
    "corrupted_batches": "source",
    "corruption_release": "source",
}
__all__ = [
    "CIFAR10C_DIR",
    "CIFAR10C_FILENAME",
    "CIFAR10C_MD5",
    "CIFAR10C_URL",
    "IMAGENETC_ARCHIVES",
    "IMAGENETC_ARCHIVE_URL",
    "IMAGENETC_IMAGES_PER_CONDITION",
    "IMAGENETC_URL",
    "MIN_GENERATED_SIZE",
    "RANDOM_CORRUPTIONS",
    "CIFAR10CDataset",
    "CorruptedBatch",
    "cifar10_c_missing_message",
    "corrupt_images",
    "corrupted_batches",
    "corruption_cache_file",
    "corruption_release",
    "count_imagenet_c_images",
    "download_cifar10_c",
    "download_imagenet_c",
    "find_cifar10_c",
    "imagenet_c_dataset",
    "official_layout",
    "to_grayscale",
]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return getattr(importlib.import_module(f"lowfreq.data.corruptions.{_MODULES[name]}"), name)
    raise AttributeError(f"module 'lowfreq.data.corruptions' has no attribute {name!r}")
