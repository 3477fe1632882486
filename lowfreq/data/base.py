"""Shared DataModule machinery: the ``ImageDataModule`` base, tensor datasets and batched tensor augmentation.

Every dataset item is ``(x, y)``: ``x`` a float32 (C, H, W) image in [0, 1], ``y`` an int64 scalar. Datasets never
normalise; normalisation lives inside the backbone. Augmentation runs on tensors and only on the train split.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from lowfreq._checks import check_positive_int, check_range

__all__ = [
    "ImageDataModule",
    "TensorImageDataset",
    "color_jitter",
    "random_crop_flip",
]

Split = Literal["train", "val", "test"]


def random_crop_flip(x: Tensor, padding: int = 4, *, generator: torch.Generator | None = None) -> Tensor:
    """Random crop after reflect padding, then a random horizontal flip, drawn independently per image.

    Args:
        x: (B, C, H, W) float images.
        padding: pixels of reflect padding on every side before cropping back to (H, W); 0 disables the crop.
        generator: random source; ``None`` uses torch's global generator (seeded per DataLoader worker).

    Returns:
        (B, C, H, W) tensor with the dtype and device of ``x``.
    """
    b, _, h, w = x.shape
    if padding > 0:
        if padding >= min(h, w):
            raise ValueError(f"padding must be in [0, {min(h, w) - 1}] for {h}x{w} images, got {padding}")
        xp = torch.nn.functional.pad(x, (padding, padding, padding, padding), mode="reflect")
        oy = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(x.device)
        ox = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(x.device)
        rows = (oy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]  # (B, 1, H, 1)
        cols = (ox[:, None] + torch.arange(w, device=x.device))[:, None, None, :]  # (B, 1, 1, W)
        bi = torch.arange(b, device=x.device)[:, None, None, None]
        ci = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
        x = xp[bi, ci, rows, cols]  # (B, C, H, W)
    flip = (torch.rand(b, generator=generator) < 0.5).to(x.device)[:, None, None, None]
    return torch.where(flip, x.flip(-1), x)


def color_jitter(x: Tensor, strength: float, *, generator: torch.Generator | None = None) -> Tensor:
    """Batched brightness, contrast and saturation jitter (torchvision ``ColorJitter(s, s, s)`` without hue).

    Factors are drawn uniformly from ``[max(0, 1 - strength), 1 + strength]`` per image and applied in the fixed
    order brightness, contrast, saturation; the result is clamped to [0, 1].

    Args:
        x: (B, 3, H, W) float images in [0, 1].
        strength: jitter strength, >= 0; 0 returns ``x`` unchanged.
        generator: random source; ``None`` uses torch's global generator.

    Returns:
        (B, 3, H, W) tensor in [0, 1] with the dtype and device of ``x``.
    """
    check_range("strength", strength, 0.0, math.inf)
    if strength == 0 or x.numel() == 0:
        return x
    b = x.shape[0]
    lo, hi = max(0.0, 1.0 - strength), 1.0 + strength
    f = (lo + (hi - lo) * torch.rand(3, b, generator=generator)).to(x)[
        :, :, None, None, None
    ]  # (3, B, 1, 1, 1)
    weights = x.new_tensor([0.299, 0.587, 0.114])[None, :, None, None]
    x = (x * f[0]).clamp(0, 1)
    gray_mean = (x * weights).sum(1, keepdim=True).mean((2, 3), keepdim=True)
    x = (gray_mean + f[1] * (x - gray_mean)).clamp(0, 1)
    gray = (x * weights).sum(1, keepdim=True)
    return (gray + f[2] * (x - gray)).clamp(0, 1)


class TensorImageDataset(Dataset):
    """Images held as one uint8 (N, C, H, W) tensor, converted to float [0, 1] per item or per batch.

    ``__getitems__`` converts (and augments) a whole batch at once, so DataLoaders avoid per-image Python work.

    Args:
        images: (N, C, H, W) uint8 images.
        labels: (N,) integer labels.
        augment: random crop (4 px reflect padding) + horizontal flip.
        color_jitter: brightness/contrast/saturation jitter strength applied when ``augment``; 0 disables it.
    """

    def __init__(
        self, images: Tensor, labels: Tensor, *, augment: bool = False, color_jitter: float = 0.0
    ) -> None:
        if images.ndim != 4 or images.dtype != torch.uint8:
            raise ValueError(
                f"images must be a uint8 (N, C, H, W) tensor, got {images.dtype} {tuple(images.shape)}"
            )
        if labels.shape != (images.shape[0],):
            raise ValueError(f"labels must have shape ({images.shape[0]},), got {tuple(labels.shape)}")
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
        return list(zip(x.unbind(0), y.unbind(0)))


class ImageDataModule(L.LightningDataModule):
    """Base DataModule: float (C, H, W) images in [0, 1] with int64 labels, plus ``analysis_dataset()``.

    Subclasses download in ``prepare_data`` and implement ``_build`` (called from ``setup``), which returns the
    train, val and test datasets; nothing is loaded in ``__init__``.

    Args:
        batch_size: images per batch, >= 1.
        num_workers: DataLoader worker processes, >= 0 (0 loads in the main process).
        seed: seed of every random choice the data makes (train/val split, generated images), >= 0.
        augment: augment the train split (random crop with 4 px reflect padding + horizontal flip).
    """

    def __init__(
        self, batch_size: int = 128, num_workers: int = 0, seed: int = 0, augment: bool = True
    ) -> None:
        super().__init__()
        check_positive_int("batch_size", batch_size)
        check_positive_int("num_workers", num_workers, minimum=0)
        check_positive_int("seed", seed, minimum=0)
        if not isinstance(augment, bool):
            raise TypeError(f"augment must be a bool, got {type(augment).__name__}")
        self.batch_size, self.num_workers, self.seed, self.augment = batch_size, num_workers, seed, augment
        self._datasets: dict[str, Dataset] | None = None

    # ---- metadata ------------------------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        """Number of classes K; labels are in [0, K)."""
        return len(self.class_names)

    @property
    def class_names(self) -> list[str]:
        """Human-readable class names, index = label."""
        raise NotImplementedError

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of every image the eval loaders yield."""
        raise NotImplementedError

    # ---- state ---------------------------------------------------------------------------------------------
    def _build(self) -> dict[str, Dataset]:
        """Return ``{"train": ..., "train_eval": ..., "val": ..., "test": ...}`` (``train_eval``: the train
        images without augmentation); called once from ``setup``."""
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        """Build every split (idempotent). Raises with instructions when the data are missing."""
        if self._datasets is None:
            self._datasets = self._build()

    def _split(self, name: str) -> Dataset:
        self.setup()
        assert self._datasets is not None
        if name not in self._datasets:
            raise ValueError(f"{type(self).__name__} has no {name!r} split (it has {sorted(self._datasets)})")
        return self._datasets[name]

    def analysis_dataset(self, split: Split = "test") -> Dataset:
        """Un-augmented dataset for post-training analyses.

        Args:
            split: "train" (the training images without augmentation, e.g. to fit a PCA front-end), "val"
                (held-out part of the training data) or "test".

        Returns:
            Dataset of ``(x, y)``: x float32 (C, H, W) in [0, 1], y int64 scalar.
        """
        if split not in ("train", "val", "test"):
            raise ValueError(f"split must be one of ['train', 'val', 'test'], got {split!r}")
        return self._split("train_eval" if split == "train" else split)

    # ---- loaders -------------------------------------------------------------------------------------------
    def _loader(self, dataset: Dataset, shuffle: bool, **kwargs: Any) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed) if shuffle else None
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
            pin_memory=torch.cuda.is_available(),
            persistent_workers=self.num_workers > 0,
            generator=generator,
            **kwargs,
        )

    def train_dataloader(self) -> DataLoader:
        """Shuffled, augmented (when ``augment``) train split."""
        return self._loader(self._split("train"), shuffle=True)

    def val_dataloader(self) -> DataLoader:
        """Held-out validation split, not augmented."""
        return self._loader(self._split("val"), shuffle=False)

    def test_dataloader(self) -> DataLoader:
        """Test split, not augmented."""
        return self._loader(self._split("test"), shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        """Same images as ``test_dataloader``."""
        return self._loader(self._split("test"), shuffle=False)


def _split_indices(n: int, val_fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Seeded (train, val) index split of ``range(n)``; the val part has ``round(val_fraction * n)`` items."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = round(val_fraction * n)
    return perm[n_val:].sort().values, perm[:n_val].sort().values
