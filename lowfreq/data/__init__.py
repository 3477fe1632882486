"""DataModules yielding float (C, H, W) images in [0, 1] with int64 labels, plus ``analysis_dataset()``.

Submodules: ``transforms`` (batched augmentation ops,
[`ComponentTransform`][lowfreq.data.transforms.ComponentTransform]), ``datasets`` (in-memory tensor datasets, the seeded
train/val split), ``epochs`` and ``device`` (exactly resumable epochs: DataLoader and device-resident paths), ``base``
([`ImageDataModule`][lowfreq.data.base.ImageDataModule]), and the data sets ``cifar``, ``imagenet``, ``synthetic``.

Names load on first access (``lowfreq.data.corruptions.names`` stays light for the analyses).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lowfreq.data.base import ImageDataModule
    from lowfreq.data.cifar import CIFAR10_CLASSES, CIFAR10DataModule
    from lowfreq.data.corruptions import (
        CIFAR10CDataset,
        corrupt_images,
        corrupted_batches,
        download_cifar10_c,
        download_imagenet_c,
        imagenet_c_dataset,
        to_grayscale,
    )
    from lowfreq.data.datasets import CueConflictDataset, TensorImageDataset
    from lowfreq.data.device import DeviceLoader, ShardedEpochSampler
    from lowfreq.data.imagenet import ImageNetDataModule
    from lowfreq.data.synthetic import (
        SHAPE_NAMES,
        TEXTURE_NAMES,
        ShapesBatch,
        SyntheticShapesDataModule,
        render_texture,
        synthetic_shapes,
        texture_frequencies,
    )
    from lowfreq.data.transforms import ComponentTransform, color_jitter, random_crop_flip

__all__ = [
    "CIFAR10_CLASSES",
    "SHAPE_NAMES",
    "TEXTURE_NAMES",
    "CIFAR10CDataset",
    "CIFAR10DataModule",
    "ComponentTransform",
    "CueConflictDataset",
    "DeviceLoader",
    "ImageDataModule",
    "ImageNetDataModule",
    "ShapesBatch",
    "ShardedEpochSampler",
    "SyntheticShapesDataModule",
    "TensorImageDataset",
    "color_jitter",
    "corrupt_images",
    "corrupted_batches",
    "download_cifar10_c",
    "download_imagenet_c",
    "imagenet_c_dataset",
    "random_crop_flip",
    "render_texture",
    "synthetic_shapes",
    "texture_frequencies",
    "to_grayscale",
]

_MODULES = {
    "ImageDataModule": "lowfreq.data.base",
    "CIFAR10_CLASSES": "lowfreq.data.cifar",
    "CIFAR10DataModule": "lowfreq.data.cifar",
    "CIFAR10CDataset": "lowfreq.data.corruptions",
    "corrupt_images": "lowfreq.data.corruptions",
    "corrupted_batches": "lowfreq.data.corruptions",
    "download_cifar10_c": "lowfreq.data.corruptions",
    "download_imagenet_c": "lowfreq.data.corruptions",
    "imagenet_c_dataset": "lowfreq.data.corruptions",
    "to_grayscale": "lowfreq.data.corruptions",
    "CueConflictDataset": "lowfreq.data.datasets",
    "TensorImageDataset": "lowfreq.data.datasets",
    "DeviceLoader": "lowfreq.data.device",
    "ShardedEpochSampler": "lowfreq.data.device",
    "ImageNetDataModule": "lowfreq.data.imagenet",
    "SHAPE_NAMES": "lowfreq.data.synthetic",
    "TEXTURE_NAMES": "lowfreq.data.synthetic",
    "ShapesBatch": "lowfreq.data.synthetic",
    "SyntheticShapesDataModule": "lowfreq.data.synthetic",
    "render_texture": "lowfreq.data.synthetic",
    "synthetic_shapes": "lowfreq.data.synthetic",
    "texture_frequencies": "lowfreq.data.synthetic",
    "ComponentTransform": "lowfreq.data.transforms",
    "color_jitter": "lowfreq.data.transforms",
    "random_crop_flip": "lowfreq.data.transforms",
}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return getattr(importlib.import_module(_MODULES[name]), name)
    raise AttributeError(f"module 'lowfreq.data' has no attribute {name!r}")
