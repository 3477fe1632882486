"""In-memory datasets of uint8 images served as float (C, H, W) tensors in [0, 1], and the seeded train/val split.

Every item is ``(x, y, ...)``: ``x`` a float32 (C, H, W) image in [0, 1], labels int64 scalars. Datasets never
normalise; normalisation lives inside the backbone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset

from lowfreq.core.checks import check_labels, check_positive_int, check_range
from lowfreq.core.seeding import seeded_subset
from lowfreq.data.transforms import color_jitter, random_crop_flip

__all__ = ["CueConflictDataset", "TensorImageDataset", "train_val_indices"]


def _check_uint8_images(images: object) -> None:
    if not isinstance(images, Tensor) or images.ndim != 4 or images.dtype != torch.uint8:
        got = f"{images.dtype} {tuple(images.shape)}" if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"images must be a uint8 (N, C, H, W) tensor, got {got}")


class TensorImageDataset(Dataset):
    """Images held as one uint8 (N, C, H, W) tensor, converted to float [0, 1] per item or per batch.

    ``__getitems__`` converts (and augments) a whole batch at once, so DataLoaders avoid per-image Python work.

    Args:
        images: (N, C, H, W) uint8 images.
        labels: (N,) integer (not float or bool) class indices, >= 0 (cross-entropy silently ignores -100).
        augment: random crop (4 px reflect padding) + horizontal flip.
        color_jitter: brightness/contrast/saturation jitter strength applied when ``augment``; 0 disables it.
        num_classes: K, when known: labels must then be in [0, K).
    """

    def __init__(
        self,
        images: Tensor,
        labels: Tensor,
        *,
        augment: bool = False,
        color_jitter: float = 0.0,
        num_classes: int | None = None,
    ) -> None:
        _check_uint8_images(images)
        if num_classes is not None:
            check_positive_int("num_classes", num_classes)
        check_range("color_jitter", color_jitter, 0.0, math.inf)
        check_labels(labels, "labels", num_classes=num_classes, length=images.shape[0])
        self.images, self.labels = images, labels.long()
        self.augment, self.color_jitter = augment, color_jitter

    def __len__(self) -> int:
        return self.images.shape[0]

    def _batch(self, index: Tensor) -> tuple[Tensor, Tensor]:
        x = self.images[index].float().div_(255.0)  # (B, C, H, W) in [0, 1]
        if self.augment:
            x = random_crop_flip(x, 4)
            if self.color_jitter > 0:
                x = color_jitter(x, self.color_jitter)
        return x, self.labels[index]

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        x, y = self._batch(torch.tensor([index]))
        return x[0], y[0]

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[Tensor, Tensor]]:
        x, y = self._batch(torch.as_tensor(list(indices), dtype=torch.long))
        return list(zip(x.unbind(0), y.unbind(0), strict=True))


class CueConflictDataset(Dataset):
    """Cue-conflict images: items ``(x, y_shape, y_texture)``, x float32 (C, H, W) in [0, 1].

    Args:
        images: (N, C, H, W) uint8 images.
        y_shape: (N,) shape classes.
        y_texture: (N,) texture classes.
    """

    def __init__(self, images: Tensor, y_shape: Tensor, y_texture: Tensor) -> None:
        _check_uint8_images(images)
        check_labels(y_shape, "y_shape", length=images.shape[0])
        check_labels(y_texture, "y_texture", length=images.shape[0])
        self.images, self.y_shape, self.y_texture = images, y_shape.long(), y_texture.long()

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor, Tensor]:
        return self.images[index].float() / 255.0, self.y_shape[index], self.y_texture[index]


def train_val_indices(num_items: int, val_fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Seeded split of ``range(num_items)`` into sorted (train, val) indices.

    The val part is ``seeded_subset(num_items, round(val_fraction * num_items), seed)``; train is the rest.

    Args:
        num_items: dataset size N, >= 0.
        val_fraction: fraction held out for validation, in [0, 1].
        seed: >= 0; the same seed gives the same split on every rank.

    Returns:
        ``(train, val)``: sorted int64 index tensors that partition ``range(num_items)``.
    """
    check_positive_int("num_items", num_items, minimum=0)
    check_range("val_fraction", val_fraction, 0.0, 1.0)
    val = seeded_subset(num_items, round(val_fraction * num_items), seed)
    keep = torch.ones(num_items, dtype=torch.bool)
    keep[val] = False
    return keep.nonzero().squeeze(1), val
