"""The official corruption releases: where they are published and how they lie on disk.

CIFAR-10-C (Hendrycks & Dietterich, Zenodo record 2535967, ``CIFAR-10-C.tar``, md5
``CIFAR10C_MD5``) holds one ``<corruption>.npy`` per corruption, uint8 (5 N, 32, 32, 3) with the five
severities stacked: severity s is rows ``(s - 1) N ... s N - 1`` (N = 10 000); ``labels.npy`` holds the labels,
those of the first N rows apply to every severity.
[`CIFAR10CDataset`][lowfreq.data.corruptions.release.CIFAR10CDataset] reads one (corruption, severity)
memory-mapped; [`download_cifar10_c`][lowfreq.data.corruptions.download.download_cifar10_c] downloads and checks
the archive. ImageNet-C (Zenodo record 2235448) is a folder tree ``<corruption>/<severity>/<wnid>/*.JPEG``
read with torchvision's ``ImageFolder``
([`imagenet_c_dataset`][lowfreq.data.corruptions.release.imagenet_c_dataset]); it is 60+ GB in five archives and
is not downloaded automatically.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from lowfreq.core.checks import check_bool
from lowfreq.data.corruptions.names import CORRUPTIONS, check_corruption, check_severity

__all__ = [
    "CIFAR10C_DIR",
    "CIFAR10C_FILENAME",
    "CIFAR10C_MD5",
    "CIFAR10C_URL",
    "IMAGENETC_ARCHIVES",
    "IMAGENETC_ARCHIVE_URL",
    "IMAGENETC_IMAGES_PER_CONDITION",
    "IMAGENETC_URL",
    "CIFAR10CDataset",
    "cifar10_c_missing_message",
    "count_imagenet_c_images",
    "find_cifar10_c",
    "imagenet_c_dataset",
    "official_layout",
]

log = logging.getLogger(__name__)


CIFAR10C_URL = "https://zenodo.org/records/2535967/files/CIFAR-10-C.tar"
"""The official CIFAR-10-C archive (Zenodo record 2535967, about 2.9 GB)."""


CIFAR10C_FILENAME = "CIFAR-10-C.tar"


CIFAR10C_MD5 = "56bf5dcef84df0e2308c6dcbcbbd8499"
"""md5 of ``CIFAR10C_FILENAME``."""


CIFAR10C_DIR = "CIFAR-10-C"
"""Folder the archive extracts to (``<corruption>.npy`` files and ``labels.npy``)."""


IMAGENETC_URL = "https://zenodo.org/records/2235448"
"""Where ImageNet-C's archives (blur, digital, noise, weather) are published."""


IMAGENETC_ARCHIVE_URL = IMAGENETC_URL + "/files/{name}.tar"


IMAGENETC_ARCHIVES: dict[str, tuple[str, ...]] = {
    "blur": ("defocus_blur", "glass_blur", "motion_blur", "zoom_blur"),
    "digital": ("contrast", "elastic_transform", "pixelate", "jpeg_compression"),
    "noise": ("gaussian_noise", "shot_noise", "impulse_noise"),
    "weather": ("frost", "snow", "fog", "brightness"),
}
"""ImageNet-C's archives and the corruptions each holds (the "extra" archive's corruptions are not used)."""


IMAGENETC_IMAGES_PER_CONDITION = 50_000
"""Images in each ``<corruption>/<severity>/`` folder of ImageNet-C (the ImageNet validation set)."""


def cifar10_c_missing_message(data_dir: Path, reason: str) -> str:
    """What to put where when CIFAR-10-C is not in ``data_dir`` (and why: ``reason``)."""
    return (
        f"CIFAR-10-C not found in data_dir={str(data_dir)!r} ({reason}). Download {CIFAR10C_FILENAME} (md5 "
        f"{CIFAR10C_MD5}) from {CIFAR10C_URL} and put it, or the {CIFAR10C_DIR}/ folder it extracts to (one "
        f"<corruption>.npy per corruption and labels.npy), into {str(data_dir)!r}; "
        f"lowfreq.data.download_cifar10_c({str(data_dir)!r}) does this when online."
    )


def find_cifar10_c(data_dir: str | Path) -> Path:
    """The folder with CIFAR-10-C's ``labels.npy``: ``data_dir`` itself or ``data_dir/CIFAR-10-C``.

    Raises:
        FileNotFoundError: neither holds ``labels.npy``; the message says what to download and where to put it.
    """
    root = Path(data_dir).expanduser()
    for folder in (root, root / CIFAR10C_DIR):
        if (folder / "labels.npy").is_file():
            return folder
    reason = f"no labels.npy in {str(root)!r} or {str(root / CIFAR10C_DIR)!r}"
    raise FileNotFoundError(cifar10_c_missing_message(root, reason))


class CIFAR10CDataset(Dataset):
    """One (corruption, severity) of CIFAR-10-C, read memory-mapped: items ``(x, y)``.

    Severity s is rows ``(s - 1) N ... s N - 1`` of ``<corruption>.npy`` (N = rows / 5); the labels are the first N
    entries of ``labels.npy`` (the same for every severity).

    Args:
        data_dir: folder with the ``.npy`` files, or the folder above ``CIFAR-10-C/``.
        corruption: one of the 15 corruption names.
        severity: 1 ... 5.

    Items are ``x`` float32 (3, H, W) in [0, 1] and ``y`` an int64 scalar.
    """

    def __init__(self, data_dir: str | Path, corruption: str, severity: int) -> None:
        check_corruption("corruption", corruption)
        check_severity("severity", severity)
        self.root = find_cifar10_c(data_dir)
        path = self.root / f"{corruption}.npy"
        if not path.is_file():
            raise FileNotFoundError(cifar10_c_missing_message(self.root, f"{path.name} is missing"))
        images = np.load(path, mmap_mode="r")
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] != 3 or images.shape[0] % 5:
            raise ValueError(
                f"{path} must hold uint8 (5 N, H, W, 3) images (5 severities stacked), got {images.dtype} "
                f"{images.shape}"
            )
        n = images.shape[0] // 5
        labels = np.load(self.root / "labels.npy", mmap_mode="r")
        if labels.ndim != 1 or labels.shape[0] < n or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"{self.root / 'labels.npy'} must hold at least {n} integer labels (one per image of a severity), "
                f"got {labels.dtype} {labels.shape}"
            )
        self.corruption, self.severity, self.num_per_severity = corruption, severity, n
        self._images = images[(severity - 1) * n : severity * n]
        self.labels = torch.from_numpy(np.array(labels[:n], dtype=np.int64))

    def __len__(self) -> int:
        return cast("int", self.num_per_severity)

    def _batch(self, index: np.ndarray) -> tuple[Tensor, Tensor]:
        x = torch.from_numpy(np.ascontiguousarray(self._images[index])).permute(0, 3, 1, 2)
        return x.float().div_(255.0), self.labels[torch.from_numpy(index)]

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} images")
        x, y = self._batch(np.array([index % len(self)]))
        return x[0], y[0]

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[Tensor, Tensor]]:
        x, y = self._batch(np.asarray(indices, dtype=np.int64))
        return list(zip(x.unbind(0), y.unbind(0), strict=True))


def _as_long(target: int) -> Tensor:
    return torch.tensor(target, dtype=torch.long)


def count_imagenet_c_images(folder: Path) -> int:
    """Number of image files below ``folder``."""
    return sum(1 for p in folder.rglob("*") if p.suffix.lower() in (".jpeg", ".jpg", ".png"))


def imagenet_c_dataset(
    data_dir: str | Path, corruption: str, severity: int, *, resize_crop: bool = False
) -> Dataset:
    """One (corruption, severity) of ImageNet-C: ``ImageFolder(data_dir/<corruption>/<severity>)``.

    Args:
        data_dir: the ImageNet-C root, holding ``<corruption>/<severity>/<wnid>/*.JPEG``.
        corruption: one of the 15 corruption names.
        severity: 1 ... 5.
        resize_crop: apply ``Resize(256) + CenterCrop(224)`` to the (already 224 x 224) images, as P001's code
            does (an upsample then crop); False (default) feeds them as they are.

    Returns:
        ImageFolder whose items are ``x`` float32 (3, H, W) in [0, 1] and ``y`` an int64 scalar.

    Raises:
        FileNotFoundError: the folder is missing; the message says what to download and where to put it.
    """
    check_corruption("corruption", corruption)
    check_severity("severity", severity)
    check_bool("resize_crop", resize_crop)
    from torchvision import transforms as T
    from torchvision.datasets import ImageFolder

    folder = Path(data_dir).expanduser() / corruption / str(severity)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"ImageNet-C folder {str(folder)!r} not found. Run `lowfreq download imagenetc --data_dir "
            f"{Path(data_dir)!s}`, or download the ImageNet-C archives (blur.tar, digital.tar, noise.tar, "
            f"weather.tar) from {IMAGENETC_URL} and extract them into {str(Path(data_dir))!r} so that it holds "
            "<corruption>/<severity>/<wnid>/*.JPEG."
        )
    steps: list[Any] = [T.Resize(256), T.CenterCrop(224)] if resize_crop else []
    transform = T.Compose([*steps, T.ToTensor()])
    return cast("Dataset", ImageFolder(str(folder), transform=transform, target_transform=_as_long))


def official_layout(data_dir: str | Path | None) -> Literal["cifar10-c", "imagenet-c"] | None:
    """Which release ``data_dir`` holds: "cifar10-c", "imagenet-c" or None.

    "cifar10-c" when it (or its ``CIFAR-10-C/``) holds ``labels.npy``, "imagenet-c" when it holds
    ``<corruption>/<severity>/`` folders, None when it is None, absent or neither.
    """
    if data_dir is None:
        return None
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        return None
    try:
        find_cifar10_c(root)
        return "cifar10-c"
    except FileNotFoundError:
        pass
    if any((root / name / str(s)).is_dir() for name in CORRUPTIONS for s in range(1, 6)):
        return "imagenet-c"
    return None
