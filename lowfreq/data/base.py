"""The ``ImageDataModule`` base: splits, loaders (device-resident or DataLoaders) and the device-memory policy.

Every dataset item is ``(x, y)``: ``x`` a float32 (C, H, W) image in [0, 1], ``y`` an int64 scalar. Datasets never
normalise; normalisation lives inside the backbone. Augmentation runs on tensors and only on the train split.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import lightning as L
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from lowfreq.core.checks import check_bool, check_positive_int
from lowfreq.data.datasets import TensorImageDataset
from lowfreq.data.device import DeviceLoader
from lowfreq.data.epochs import EpochSampler, EpochSeededDataset

log = logging.getLogger(__name__)

__all__ = ["ImageDataModule"]

Split = Literal["train", "val", "test"]

_DEVICE_MEMORY_FRACTION = 0.25  # auto device residency: all splits within this share of the device's memory


class ImageDataModule(L.LightningDataModule):
    """Base DataModule: float (C, H, W) images in [0, 1] with int64 labels, plus ``analysis_dataset()``.

    Subclasses download in ``prepare_data`` and implement ``_build`` (called from ``setup``), which returns the
    train, val and test datasets; nothing is loaded in ``__init__``.

    Loaders: splits that are [`TensorImageDataset`][lowfreq.data.datasets.TensorImageDataset]s can be served
    device-resident ([`DeviceLoader`][lowfreq.data.device.DeviceLoader]: uint8 images on the trainer's device,
    crop/flip/jitter batched there, each rank its own shard, every sample once per epoch); all other datasets (image
    folders) use ``DataLoader`` s with workers, pinned memory and persistent workers.

    Args:
        batch_size: images per batch (per rank), >= 1.
        num_workers: DataLoader worker processes, >= 0 (0 loads in the main process).
        seed: seed of every random choice the data makes (train/val split, generated images), >= 0.
        augment: augment the train split (random crop with 4 px reflect padding + horizontal flip).
        device_resident: serve tensor-backed splits with a DeviceLoader: True always, False never (DataLoaders),
            None (auto) on the CPU (the images are in memory already) and on CUDA when all splits take at most
            25 % of its memory. Both paths draw order and augmentation from (seed, epoch): resumable exactly.
        train_transform: a batched (B, C, H, W) -> (B, C, H, W) module applied to training batches on the
            device, after augmentation (e.g. ``lowfreq.data.ComponentTransform`` to train on low- or
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
        check_bool("augment", augment)
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
        """Return the splits ``{"train": ..., "train_eval": ..., "val": ..., "test": ...}``.

        ``train_eval`` holds the train images without augmentation. Called once from ``setup``.
        """
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
        tensor_splits = [d for d in splits if isinstance(d, TensorImageDataset)]
        if len(tensor_splits) < len(splits):
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
        unique = {id(d.images): d for d in tensor_splits}.values()
        nbytes = sum(d.images.numel() * d.images.element_size() + d.labels.numel() * 8 for d in unique)
        total = torch.cuda.get_device_properties(device).total_memory
        if nbytes > _DEVICE_MEMORY_FRACTION * total:
            log.info("data (%.1f GB) exceed a quarter of %s's memory: using DataLoaders", nbytes / 1e9, device)
            return None
        return device

    def _device_loader(self, dataset: TensorImageDataset, shuffle: bool, device: torch.device) -> DeviceLoader:
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
        """A DataLoader of ``dataset`` with workers and pinned memory.

        When shuffling (training), order and augmentation are functions of (seed, epoch, sample)
        (``lowfreq.data.epochs``), so a resumed run continues exactly where it stopped.
        """
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

