"""CIFAR-10 as uint8 tensors, converted and augmented per batch; downloads fail fast and say what to do offline."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from lowfreq.core.checks import check_range
from lowfreq.core.download import download_file, probe
from lowfreq.data.base import ImageDataModule
from lowfreq.data.datasets import TensorImageDataset, train_val_indices

__all__ = ["CIFAR10_CLASSES", "CIFAR10DataModule"]

log = logging.getLogger(__name__)

CIFAR10_CLASSES: list[str] = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip
"""CIFAR-10 class names, index = label."""

_BATCHES_DIR = "cifar-10-batches-py"
_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
_TEST_FILE = "test_batch"
_HOMEPAGE = "https://www.cs.toronto.edu/~kriz/cifar.html"
_PROBE_TIMEOUT_S = 8.0  # seconds the download waits for the server before calling it unreachable


def _missing_message(data_dir: Path, reason: str, *, downloading: bool = False) -> str:
    """What is missing and what to put where; ``downloading``: the download itself failed (do not suggest it)."""
    fetch = (
        "The download needs network access to www.cs.toronto.edu: run it where there is, then copy the folder."
        if downloading
        else f"Where online, `lowfreq download cifar10 --data_dir {data_dir}` fetches the archive (md5-checked)."
    )
    return (
        f"CIFAR-10 not found in data_dir={str(data_dir)!r} ({reason}). Put cifar-10-python.tar.gz (from {_HOMEPAGE}) "
        f"or the extracted {_BATCHES_DIR}/ folder into {str(data_dir)!r}, or pass npz_path=... pointing to an .npz "
        f"with x_train (N, 32, 32, 3) uint8, y_train, x_test, y_test. {fetch}"
    )


def _read_batches(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The CIFAR-10 batches read by torchvision (md5 of every file checked): (x_train (N, 3, 32, 32) uint8, ...)."""
    from torchvision.datasets import CIFAR10

    try:
        train, test = (CIFAR10(str(root), train=flag, download=False) for flag in (True, False))
    except RuntimeError as err:  # torchvision: "Dataset not found or corrupted"
        raise RuntimeError(
            f"{root / _BATCHES_DIR} is incomplete or corrupt ({err}): its files' md5 differ from torchvision's "
            f"list; delete the folder and download again (`lowfreq download cifar10 --data_dir {root}`)"
        ) from None
    arrays = []
    for split in (train, test):  # .data is (N, 32, 32, 3) HWC; lowfreq keeps CHW
        arrays += [np.ascontiguousarray(split.data.transpose(0, 3, 1, 2)), np.asarray(split.targets, dtype=np.int64)]
    return arrays[0], arrays[1], arrays[2], arrays[3]


def _check_npz_labels(name: str, labels: np.ndarray, num_images: int) -> None:
    """Labels read from an npz: one integer class index in [0, 10) per image (no truncation, no dropping)."""
    where = f"{name} in npz_path"
    if labels.dtype == np.bool_ or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{where} must hold integer class indices, got dtype {labels.dtype}")
    if labels.shape != (num_images,):
        raise ValueError(f"{where} must have one label per image, shape ({num_images},), got {labels.shape}")
    if labels.size:
        lo, hi = int(labels.min()), int(labels.max())
        if lo < 0 or hi >= len(CIFAR10_CLASSES):
            raise ValueError(
                f"{where} must be class indices in [0, {len(CIFAR10_CLASSES)}), got values in [{lo}, {hi}]"
            )


class CIFAR10DataModule(ImageDataModule):
    """CIFAR-10 (32 x 32 RGB, 10 classes): train minus a seeded held-out part, val = that part, test = official test.

    Data come from ``npz_path`` when given, else from ``data_dir`` (torchvision's layout, downloaded with its md5
    checksum in ``prepare_data`` when ``download``). Images stay uint8 tensors in memory and are converted to float
    [0, 1] and augmented per batch on tensors (no PIL); they are never normalised.

    Args:
        data_dir: folder holding ``cifar-10-batches-py/`` or ``cifar-10-python.tar.gz`` (or where to download).
        download: download into ``data_dir`` when the data are missing; fails within seconds when offline.
        npz_path: optional local copy instead of ``data_dir``: an .npz with ``x_train`` (N, 32, 32, 3) uint8 HWC,
            ``y_train`` (N,), ``x_test``, ``y_test``.
        val_fraction: fraction of the training set held out for validation, in [0, 0.5]; the split is seeded by
            ``seed``. 0 holds nothing out and validates on the test set.
        augment: augment the train split (random crop with 4 px reflect padding + horizontal flip).
        color_jitter: brightness/contrast/saturation jitter strength for the train split (0.25 in the 2021
            blur-net recipe), in [0, 1]; 0 disables it. Only used when ``augment``.
        batch_size: images per batch, >= 1.
        num_workers: DataLoader worker processes, >= 0.
        seed: seed of the train/val split and of the shuffling, >= 0.
        device_resident: hold the uint8 images on the trainer's device and shuffle, crop, flip and jitter them
            there ([`DeviceLoader`][lowfreq.data.device.DeviceLoader]; ``num_workers`` is then unused): True always
            (also on CPU), False never, None (default) on the CPU and on CUDA when the data fit in a quarter of its
            memory.
        train_transform: batched module applied to training batches on the device after augmentation (e.g.
            ``lowfreq.data.ComponentTransform``: train on low/high-frequency components, P003 Table 1).
    """

    def __init__(
        self,
        data_dir: str = "data/cifar10",
        download: bool = True,
        npz_path: str | None = None,
        val_fraction: float = 0.1,
        augment: bool = True,
        color_jitter: float = 0.0,
        batch_size: int = 128,
        num_workers: int = 0,
        seed: int = 0,
        device_resident: bool | None = None,
        train_transform: nn.Module | None = None,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed, augment=augment,
                         device_resident=device_resident, train_transform=train_transform)
        if not isinstance(data_dir, (str, Path)):
            raise TypeError(f"data_dir must be a path string, got {type(data_dir).__name__}")
        if npz_path is not None and not isinstance(npz_path, (str, Path)):
            raise TypeError(f"npz_path must be a path string or None, got {type(npz_path).__name__}")
        if not isinstance(download, bool):
            raise TypeError(f"download must be a bool, got {type(download).__name__}")
        check_range("val_fraction", val_fraction, 0.0, 0.5)
        check_range("color_jitter", color_jitter, 0.0, 1.0)
        self.data_dir, self.download, self.npz_path = data_dir, download, npz_path
        self.val_fraction, self.color_jitter = val_fraction, color_jitter

    @property
    def class_names(self) -> list[str]:
        """CIFAR-10 class names, index = label."""
        return list(CIFAR10_CLASSES)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(3, 32, 32)."""
        return (3, 32, 32)

    # ---- download ------------------------------------------------------------------------------------------
    def _root(self) -> Path:
        return Path(self.data_dir).expanduser()

    def _have_batches(self) -> bool:
        folder = self._root() / _BATCHES_DIR
        return all((folder / name).is_file() for name in (*_TRAIN_FILES, _TEST_FILE))

    def prepare_data(self) -> None:
        """Make the data available locally: check ``npz_path``, or download (unless present) and extract the archive.

        The archive (torchvision's URL) is checked against torchvision's md5 before it is extracted.

        Raises:
            FileNotFoundError: ``npz_path`` does not exist, or the data are missing and ``download`` is False.
            RuntimeError: the download failed or the server cannot be reached (offline); says what to put where.
        """
        if self.npz_path is not None:
            if not Path(self.npz_path).expanduser().is_file():
                raise FileNotFoundError(
                    f"npz_path={str(self.npz_path)!r} does not exist (expected an .npz file with "
                    "x_train (N, 32, 32, 3) uint8, y_train, x_test, y_test)"
                )
            return
        if self._have_batches():
            return
        from torchvision.datasets import CIFAR10
        from torchvision.datasets.utils import check_integrity, extract_archive

        root = self._root()
        archive = root / CIFAR10.filename
        fresh = not archive.is_file()
        if fresh:
            if not self.download:
                raise FileNotFoundError(_missing_message(root, "download=False"))
            url = CIFAR10.url
            reason = probe(url, _PROBE_TIMEOUT_S)
            if reason is not None:
                raise RuntimeError(_missing_message(root, f"cannot download {url}: {reason}", downloading=True))
            try:
                download_file(url, archive, progress=True, probe_first=False)
            except RuntimeError as err:
                raise RuntimeError(_missing_message(root, str(err), downloading=True)) from None
        if not check_integrity(str(archive), CIFAR10.tgz_md5):
            if fresh:
                archive.unlink()
            raise RuntimeError(
                f"{archive} is corrupt (md5 differs from {CIFAR10.tgz_md5}); "
                + ("try again" if fresh else f"delete it and download it again from {_HOMEPAGE}")
            )
        log.info("extracting %s", archive)
        extract_archive(str(archive), str(root))  # md5-checked above: the official archive

    # ---- state ---------------------------------------------------------------------------------------------
    def _load(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(x_train (N, 3, 32, 32) uint8, y_train (N,) int64, x_test, y_test)."""
        if self.npz_path is not None:
            path = Path(self.npz_path).expanduser()
            if not path.is_file():
                raise FileNotFoundError(f"npz_path={str(self.npz_path)!r} does not exist")
            with np.load(path) as f:
                missing = {"x_train", "y_train", "x_test", "y_test"} - set(f.files)
                if missing:
                    raise ValueError(f"npz_path={str(self.npz_path)!r} lacks arrays {sorted(missing)}")
                arrays = [f[k] for k in ("x_train", "y_train", "x_test", "y_test")]
            for name, x in (("x_train", arrays[0]), ("x_test", arrays[2])):
                if x.dtype != np.uint8 or x.ndim != 4 or x.shape[3] != 3:
                    raise ValueError(
                        f"{name} in npz_path must be uint8 (N, H, W, 3), got {x.dtype} {x.shape}"
                    )
            for name, x, y in (("y_train", arrays[0], arrays[1]), ("y_test", arrays[2], arrays[3])):
                _check_npz_labels(name, y, len(x))
            x_train, x_test = (
                torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2))) for a in arrays[::2]
            )
            y_train, y_test = (torch.from_numpy(a.astype(np.int64)) for a in arrays[1::2])
            return x_train, y_train, x_test, y_test
        if not self._have_batches():
            raise FileNotFoundError(
                _missing_message(
                    self._root(), "call prepare_data() to download" if self.download else "download=False"
                )
            )
        train_x, train_y, test_x, test_y = (torch.from_numpy(a) for a in _read_batches(self._root()))
        return train_x, train_y, test_x, test_y

    def _build(self) -> dict[str, Dataset]:
        x_train, y_train, x_test, y_test = self._load()
        k = self.num_classes
        test = TensorImageDataset(x_test, y_test, num_classes=k)
        train_idx, val_idx = train_val_indices(len(y_train), self.val_fraction, self.seed)
        train = TensorImageDataset(
            x_train[train_idx],
            y_train[train_idx],
            augment=self.augment,
            color_jitter=self.color_jitter,
            num_classes=k,
        )
        train_eval = TensorImageDataset(x_train[train_idx], y_train[train_idx], num_classes=k)
        val = TensorImageDataset(x_train[val_idx], y_train[val_idx], num_classes=k) if len(val_idx) else test
        return {"train": train, "train_eval": train_eval, "val": val, "test": test}
