"""DataModules yielding float (C, H, W) images in [0, 1] with int64 labels, plus ``analysis_dataset()``."""

from lowfreq.data.base import ImageDataModule, TensorImageDataset, color_jitter, random_crop_flip
from lowfreq.data.cifar import CIFAR10_CLASSES, CIFAR10DataModule
from lowfreq.data.device import DeviceLoader, ShardedEpochSampler
from lowfreq.data.imagenet import ImageNetDataModule
from lowfreq.data.modelvshuman import ModelVsHumanDataModule, ModelVsHumanDataset
from lowfreq.data.synthetic import (
    SHAPE_NAMES,
    TEXTURE_NAMES,
    CueConflictDataset,
    ShapesBatch,
    SyntheticShapesDataModule,
    render_texture,
    synthetic_shapes,
    texture_frequencies,
)

__all__ = [
    "CIFAR10_CLASSES",
    "SHAPE_NAMES",
    "TEXTURE_NAMES",
    "CIFAR10DataModule",
    "CueConflictDataset",
    "DeviceLoader",
    "ImageDataModule",
    "ImageNetDataModule",
    "ModelVsHumanDataModule",
    "ModelVsHumanDataset",
    "ShapesBatch",
    "ShardedEpochSampler",
    "SyntheticShapesDataModule",
    "TensorImageDataset",
    "color_jitter",
    "random_crop_flip",
    "render_texture",
    "synthetic_shapes",
    "texture_frequencies",
]
