"""Shared DataModule machinery: the ``ImageDataModule`` base, tensor datasets and batched tensor augmentation.

Every dataset item is ``(x, y)``: ``x`` a float32 (C, H, W) image in [0, 1], ``y`` an int64 scalar. Datasets never
normalise; normalisation lives inside the backbone. Augmentation runs on tensors and only on the train split.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import lightning as L
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from lowfreq._checks import check_labels, check_positive_int, check_range
from lowfreq.data.epochs import EpochSampler, EpochSeededDataset

if TYPE_CHECKING:
    from lowfreq.data.device import DeviceLoader

log = logging.getLogger(__name__)

__all__ = [
    "ImageDataModule",
    "TensorImageDataset",
    "apply_color_jitter",
    "color_jitter",
    "crop_flip",
    "random_crop_flip",
]

Split = Literal["train", "val", "test"]

_DEVICE_MEMORY_FRACTION = 0.25  # auto device residency: all splits within this share of the device's memory


def _reflect(index: Tensor, size: int) -> Tensor:
    """Fold integer positions in [-(size - 1), 2 * (size - 1)] into [0, size) as reflect padding does (no edge repeat)."""
    index = index.abs()
    return torch.where(index > size - 1, 2 * (size - 1) - index, index)


def crop_flip(
    images: Tensor, oy: Tensor, ox: Tensor, flip: Tensor, padding: int, index: Tensor | None = None
) -> Tensor:
    """Crop after reflect padding and optionally mirror, with given offsets: one batched gather, any dtype.

    ``out[b] = flip[b] ? mirror(window) : window`` where ``window`` is the (H, W) window at ``(oy[b], ox[b])`` of
    ``images[index[b]]`` reflect-padded by ``padding`` pixels. It is what :func:`random_crop_flip` draws, without
    building the padded images, so it also runs on uint8 images held on an accelerator.

    Args:
        images: (N, C, H, W) images of any dtype.
        oy, ox: (B,) integer crop offsets in [0, 2 * padding] (``padding`` = the un-shifted centre crop).
        flip: (B,) bool, mirror horizontally.
        padding: reflect padding in pixels, in [0, min(H, W) - 1].
        index: (B,) rows of ``images`` to crop; None crops every image (B = N).

    Returns:
        (B, C, H, W) tensor with the dtype and device of ``images``.
    """
    _, c, h, w = images.shape
    if not 0 <= padding < min(h, w):
        raise ValueError(f"padding must be in [0, {min(h, w) - 1}] for {h}x{w} images, got {padding}")
    dev = images.device
    rows = _reflect(oy[:, None] + torch.arange(-padding, h - padding, device=dev), h)  # (B, H)
    cols = ox[:, None] + torch.arange(-padding, w - padding, device=dev)  # (B, W)
    cols = _reflect(torch.where(flip[:, None], cols.flip(-1), cols), w)
    bi = torch.arange(images.shape[0], device=dev) if index is None else index
    ci = torch.arange(c, device=dev)[None, :, None, None]
    return images[bi[:, None, None, None], ci, rows[:, None, :, None], cols[:, None, None, :]]  # (B, C, H, W)


def random_crop_flip(x: Tensor, padding: int = 4, *, generator: torch.Generator | None = None) -> Tensor:
    """Random crop after reflect padding, then a random horizontal flip, drawn independently per image.

    Draws (on the CPU, in this order) ``oy``, ``ox`` ~ U{0..2 padding} when ``padding > 0`` and ``flip`` ~
    Bernoulli(0.5), then applies :func:`crop_flip`.

    Args:
        x: (B, C, H, W) float images.
        padding: pixels of reflect padding on every side before cropping back to (H, W); 0 disables the crop.
        generator: random source; ``None`` uses torch's global generator (seeded per DataLoader worker).

    Returns:
        (B, C, H, W) tensor with the dtype and device of ``x``.
    """
    b, _, h, w = x.shape
    if not 0 <= padding < min(h, w):
        raise ValueError(f"padding must be in [0, {min(h, w) - 1}] for {h}x{w} images, got {padding}")
    if padding > 0:
        oy = torch.randint(0, 2 * padding + 1, (b,), generator=generator)
        ox = torch.randint(0, 2 * padding + 1, (b,), generator=generator)
    else:
        oy = ox = torch.zeros(b, dtype=torch.long)
    flip = torch.rand(b, generator=generator) < 0.5
    return crop_flip(x, oy.to(x.device), ox.to(x.device), flip.to(x.device), padding)


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
    lo, hi = max(0.0, 1.0 - strength), 1.0 + strength
    return apply_color_jitter(x, lo + (hi - lo) * torch.rand(3, x.shape[0], generator=generator))


def apply_color_jitter(x: Tensor, factors: Tensor) -> Tensor:
    """Brightness, contrast and saturation jitter with given factors (the deterministic half of :func:`color_jitter`).

    Args:
        x: (B, 3, H, W) float images in [0, 1].
        factors: (3, B) brightness, contrast and saturation factors, >= 0 (1 = unchanged).

    Returns:
        (B, 3, H, W) tensor in [0, 1] with the dtype and device of ``x``.
    """
    f = factors.to(x)[:, :, None, None, None]  # (3, B, 1, 1, 1)
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
        if not isinstance(images, Tensor) or images.ndim != 4 or images.dtype != torch.uint8:
            is_tensor = isinstance(images, Tensor)
            got = f"{images.dtype} {tuple(images.shape)}" if is_tensor else type(images).__name__
            raise ValueError(f"images must be a uint8 (N, C, H, W) tensor, got {got}")
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
        return list(zip(x.unbind(0), y.unbind(0)))


class ImageDataModule(L.LightningDataModule):
    """Base DataModule: float (C, H, W) images in [0, 1] with int64 labels, plus ``analysis_dataset()``.

    Subclasses download in ``prepare_data`` and implement ``_build`` (called from ``setup``), which returns the
    train, val and test datasets; nothing is loaded in ``__init__``.

    Loaders: splits that are :class:`TensorImageDataset` s can be served device-resident
    (:class:`~lowfreq.data.device.DeviceLoader`: uint8 images on the trainer's device, crop/flip/jitter batched
    there, each rank its own shard, every sample once per epoch); all other datasets (image folders) use
    ``DataLoader`` s with workers, pinned memory and persistent workers.

    Args:
        batch_size: images per batch (per rank), >= 1.
        num_workers: DataLoader worker processes, >= 0 (0 loads in the main process).
        seed: seed of every random choice the data makes (train/val split, generated images), >= 0.
        augment: augment the train split (random crop with 4 px reflect padding + horizontal flip).
        device_resident: serve tensor-backed splits with a DeviceLoader: True always, False never (DataLoaders),
            None (auto) on the CPU (the images are in memory already) and on CUDA when all splits take at most
            25 % of its memory. Both paths draw order and augmentation from (seed, epoch): resumable exactly.
        train_transform: a batched (B, C, H, W) -> (B, C, H, W) module applied to training batches on the
            device, after augmentation (e.g. ``lowfreq.analysis.ComponentTransform`` to train on low- or
            high-frequency components only, P003 Table 1); validation and test batches stay untouched.
    """

    def __init__(
        self,
        batch_size: int = 128,
        num_workers: int = 0,
        seed: int = 0,
        augment: bool = True,
        device_resident: bool | None = None,
        train_transform: nn.Module | None = None,
    ) -> None:
        super().__init__()
        check_positive_int("batch_size", batch_size)
        check_positive_int("num_workers", num_workers, minimum=0)
        check_positive_int("seed", seed, minimum=0)
        if not isinstance(augment, bool):
            raise TypeError(f"augment must be a bool, got {type(augment).__name__}")
        if device_resident is not None and not isinstance(device_resident, bool):
            raise TypeError(f"device_resident must be a bool or None, got {type(device_resident).__name__}")
        self.batch_size, self.num_workers, self.seed, self.augment = batch_size, num_workers, seed, augment
        self.device_resident, self.train_transform = device_resident, train_transform
        self._datasets: dict[str, Dataset] | None = None
        self._device_tensors: dict[tuple[int, str], tuple[Tensor, Tensor]] = {}

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

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """Apply ``train_transform`` to training batches (on the device)."""
        trainer = getattr(self, "trainer", None)
        if self.train_transform is None or trainer is None or not trainer.training:
            return batch
        x, *rest = batch
        return (self.train_transform.to(x.device)(x), *rest)

    # ---- loaders -------------------------------------------------------------------------------------------
    def _placement(self) -> tuple[torch.device, int, int]:
        """(root device, global rank, world size) of the attached trainer; (cpu, 0, 1) without one."""
        trainer = self.trainer
        if trainer is None:
            return torch.device("cpu"), 0, 1
        return trainer.strategy.root_device, trainer.global_rank, trainer.world_size

    def resident_device(self) -> torch.device | None:
        """The device the tensor splits are served from, or None when DataLoaders serve them.

        Applies ``device_resident``: True -> the trainer's root device (CPU without a trainer); None -> that
        device when it is the CPU, or a CUDA device and the train, val and test images fit in a quarter of its
        memory (the total, not the free, memory, so every rank decides the same); False -> None.
        """
        if self.device_resident is False:
            return None
        self.setup()
        assert self._datasets is not None
        splits = [self._datasets[name] for name in ("train", "val", "test") if name in self._datasets]
        if not all(isinstance(d, TensorImageDataset) for d in splits):
            if self.device_resident:
                raise TypeError(
                    f"device_resident=True needs TensorImageDataset splits, {type(self).__name__} has "
                    f"{sorted({type(d).__name__ for d in splits})}"
                )
            return None
        device = self._placement()[0]
        if self.device_resident or device.type == "cpu":  # on the CPU the images are in memory already
            return device
        if device.type != "cuda":
            return None
        unique = {id(d.images): d for d in splits}.values()
        nbytes = sum(d.images.numel() * d.images.element_size() + d.labels.numel() * 8 for d in unique)
        total = torch.cuda.get_device_properties(device).total_memory
        if nbytes > _DEVICE_MEMORY_FRACTION * total:
            log.info("data (%.1f GB) exceed a quarter of %s's memory: using DataLoaders", nbytes / 1e9, device)
            return None
        return device

    def _device_loader(self, dataset: TensorImageDataset, shuffle: bool, device: torch.device) -> DeviceLoader:
        from lowfreq.data.device import DeviceLoader

        _, rank, world_size = self._placement()
        key = (id(dataset.images), str(device))
        if key not in self._device_tensors:  # one copy per split and device, shared by every loader
            self._device_tensors[key] = (dataset.images.to(device), dataset.labels.to(device))
        images, labels = self._device_tensors[key]
        return DeviceLoader(
            images,
            labels,
            self.batch_size,
            shuffle=shuffle,
            augment=dataset.augment,
            color_jitter=dataset.color_jitter,
            seed=self.seed,
            rank=rank,
            world_size=world_size,
        )

    def _split_loader(self, name: str, shuffle: bool) -> DataLoader | DeviceLoader:
        dataset = self._split(name)
        device = self.resident_device()
        if device is not None and isinstance(dataset, TensorImageDataset):
            return self._device_loader(dataset, shuffle, device)
        return self._loader(dataset, shuffle=shuffle)

    def teardown(self, stage: str) -> None:
        """Release the device copies of the data."""
        self._device_tensors.clear()

    def _loader(self, dataset: Dataset, shuffle: bool) -> DataLoader:
        """A DataLoader; when shuffling (training), order and augmentation are functions of (seed, epoch, sample)
        (:mod:`lowfreq.data.epochs`), so a resumed run continues exactly where it stopped."""
        sampler = None
        if shuffle:
            _, rank, world_size = self._placement()
            sampler = EpochSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=self.seed)
            dataset = EpochSeededDataset(dataset, self.seed)
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=sampler,
            num_workers=self.num_workers,
            pin_memory=torch.cuda.is_available(),
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader | DeviceLoader:
        """Shuffled, augmented (when ``augment``) train split (device-resident: see ``device_resident``)."""
        return self._split_loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader | DeviceLoader:
        """Held-out validation split, not augmented (device-resident: see ``device_resident``)."""
        return self._split_loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader | DeviceLoader:
        """Test split, not augmented (device-resident: see ``device_resident``)."""
        return self._split_loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        """Same images as ``test_dataloader``."""
        return self._loader(self._split("test"), shuffle=False)


def _split_indices(n: int, val_fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Seeded (train, val) index split of ``range(n)``; the val part has ``round(val_fraction * n)`` items."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = round(val_fraction * n)
    return perm[n_val:].sort().values, perm[:n_val].sort().values
