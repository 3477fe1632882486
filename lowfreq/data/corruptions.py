"""Common corruptions (P001 Figs 2, 5): readers of CIFAR-10-C and ImageNet-C, their download, and a generator.

**Official releases.** CIFAR-10-C (Hendrycks & Dietterich, Zenodo record 2535967, ``CIFAR-10-C.tar``, md5
``CIFAR10C_MD5``) holds one ``<corruption>.npy`` per corruption, uint8 (5 N, 32, 32, 3) with the five
severities stacked: severity s is rows ``(s - 1) N ... s N - 1`` (N = 10 000); ``labels.npy`` holds the labels,
those of the first N rows apply to every severity. [`CIFAR10CDataset`][lowfreq.data.corruptions.CIFAR10CDataset] reads
one (corruption, severity) memory-mapped; [`download_cifar10_c`][lowfreq.data.corruptions.download_cifar10_c] downloads
and checks the archive. ImageNet-C (Zenodo record 2235448) is a folder tree ``<corruption>/<severity>/<wnid>/*.JPEG``
read with torchvision's ``ImageFolder`` ([`imagenet_c_dataset`][lowfreq.data.corruptions.imagenet_c_dataset]); it is 60+
GB in five archives and is not downloaded automatically.

**Generator.** [`corrupt_images`][lowfreq.data.corruptions.corrupt_images] corrupts any float (B, C, H, W) batch in [0,
1] on the fly with the maintained ``imagecorruptions-imaug`` library (``pip install 'lowfreq[corruptions]'``; the
constants of ImageNet-C, images of at least 32 x 32 pixels). It is deterministic for a seed: before each image, numpy's
global (legacy) RNG, from which the library draws, is seeded from ``(seed, corruption, severity, index)``, and the two
corruptions that take their own seed (``impulse_noise``, ``glass_blur``) get the same value, so an image's corruption
depends neither on the batch it comes in nor on the process that makes it. numpy's global RNG state is restored
afterwards. Results can be cached on disk (``cache_dir``): one ``.npy`` per (fingerprint of the input batch and its
indices, corruption, severity, seed), so a second run reads them instead of regenerating them.

**Grayscale.** [`to_grayscale`][lowfreq.data.corruptions.to_grayscale] is ITU-R 601 luma
``0.2989 R + 0.587 G + 0.114 B`` (torchvision ``rgb_to_grayscale``), applied to the corrupted RGB image (P001's
grayscale variants).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from lowfreq._checks import check_bool, check_image, check_positive_int
from lowfreq._download import download_file, extract_tar, probe
from lowfreq.corruption_names import CORRUPTIONS, check_corruption, check_corruptions, check_severity
from lowfreq.io import atomic_write
from lowfreq.seeding import derive_seed

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
    "corrupt_images",
    "corruption_cache_file",
    "download_cifar10_c",
    "download_imagenet_c",
    "find_cifar10_c",
    "imagenet_c_dataset",
    "official_layout",
    "to_grayscale",
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

MIN_GENERATED_SIZE = 32
"""Smallest height and width ``imagecorruptions`` accepts."""

RANDOM_CORRUPTIONS: tuple[str, ...] = (
    "gaussian_noise", "shot_noise", "impulse_noise", "glass_blur", "motion_blur",
    "snow", "frost", "fog", "elastic_transform",
)  # fmt: skip
"""Corruptions that draw random numbers (the others are deterministic functions of the image)."""

_SEEDED_BY_ARGUMENT = ("impulse_noise", "glass_blur")  # take ``seed=`` instead of (only) numpy's global RNG
_CACHE_VERSION = b"lowfreq-corruptions-v1"


# ---- grayscale ---------------------------------------------------------------------------------------------------
def to_grayscale(x: Tensor, num_output_channels: int | None = None) -> Tensor:
    """ITU-R 601 luma ``0.2989 R + 0.587 G + 0.114 B`` of RGB images (torchvision ``rgb_to_grayscale``).

    Args:
        x: (B, 3, H, W) float images in [0, 1] (a 1-channel batch is returned replicated as asked).
        num_output_channels: 1, or 3 (the luma replicated); None keeps the input's channel count.

    Returns:
        (B, num_output_channels, H, W) tensor with the dtype and device of ``x``.
    """
    check_image(x, values=False)
    channels = int(x.shape[1])
    out_channels = channels if num_output_channels is None else num_output_channels
    if out_channels not in (1, 3):
        raise ValueError(f"num_output_channels must be one of [1, 3, None], got {num_output_channels!r}")
    if channels == 1:
        return x.expand(-1, out_channels, -1, -1).clone()
    if channels != 3:
        raise ValueError(f"x must have 1 or 3 channels, got shape {tuple(x.shape)}")
    from torchvision.transforms.functional import rgb_to_grayscale

    return rgb_to_grayscale(x, num_output_channels=out_channels).clamp(0, 1).contiguous()


# ---- CIFAR-10-C --------------------------------------------------------------------------------------------------
def _cifar_missing(data_dir: Path, reason: str) -> str:
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
    raise FileNotFoundError(_cifar_missing(root, f"no labels.npy in {str(root)!r} or {str(root / CIFAR10C_DIR)!r}"))


def download_cifar10_c(data_dir: str | Path, *, timeout: float | None = None) -> Path:
    """Make CIFAR-10-C available in ``data_dir``: nothing when present, else extract or download (md5-checked).

    Offline, a HEAD request to Zenodo fails within ``timeout`` seconds (default 8) and nothing is written.

    Args:
        data_dir: folder that holds (or will hold) ``CIFAR-10-C/`` or ``CIFAR-10-C.tar``.
        timeout: seconds for the reachability probe; None = 8 s.

    Returns:
        The folder with the ``.npy`` files (see ``find_cifar10_c``).

    Raises:
        RuntimeError: the archive is corrupt, the server cannot be reached, or the download failed; the message
            says what to put where.
    """
    from torchvision.datasets.utils import check_integrity, download_and_extract_archive, extract_archive

    root = Path(data_dir).expanduser()
    try:
        return find_cifar10_c(root)
    except FileNotFoundError:
        pass
    archive = root / CIFAR10C_FILENAME
    if archive.is_file():
        if not check_integrity(str(archive), CIFAR10C_MD5):
            raise RuntimeError(
                f"{archive} is corrupt (md5 differs from {CIFAR10C_MD5}); delete it and download it again from "
                f"{CIFAR10C_URL}"
            )
        log.info("extracting %s", archive)
        extract_archive(str(archive), str(root))
        return find_cifar10_c(root)
    reason = probe(CIFAR10C_URL, timeout)
    if reason is not None:
        raise RuntimeError(_cifar_missing(root, f"cannot download {CIFAR10C_URL}: {reason}"))
    try:
        download_and_extract_archive(CIFAR10C_URL, str(root), filename=CIFAR10C_FILENAME, md5=CIFAR10C_MD5)
    except Exception as err:
        raise RuntimeError(
            _cifar_missing(root, f"download of {CIFAR10C_URL} failed: {type(err).__name__}: {err}")
        ) from err
    return find_cifar10_c(root)


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
            raise FileNotFoundError(_cifar_missing(self.root, f"{path.name} is missing"))
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
        return self.num_per_severity

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


# ---- ImageNet-C --------------------------------------------------------------------------------------------------
def _as_long(target: int) -> Tensor:
    return torch.tensor(target, dtype=torch.long)


def _imagenet_c_images(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.suffix.lower() in (".jpeg", ".jpg", ".png"))


def download_imagenet_c(
    data_dir: str | Path, corruptions: Sequence[str] | None = None, *, progress: bool = True,
    timeout: float | None = None,
) -> Path:
    """Make ImageNet-C's ``<corruption>/<severity>/<wnid>/`` folders available in ``data_dir``.

    Downloads the archives (``IMAGENETC_ARCHIVES``, tens of GB) that hold the requested corruptions and are not
    already unpacked, unpacks them (filtered tar extraction) and checks the result: every requested corruption
    must have the five severity folders with ``IMAGENETC_IMAGES_PER_CONDITION`` images each (there are no
    published checksums for these archives, so the unpacked folders are checked instead). An archive file already
    in ``data_dir`` is unpacked without downloading. Offline, the error names the archive, its URL and the folder.

    Args:
        data_dir: the ImageNet-C root (receives ``<corruption>/<severity>/``).
        corruptions: corruption names (None = all 15).
        progress: show a download progress bar.
        timeout: seconds the reachability probe waits; None = 8 s.

    Returns:
        ``data_dir`` as a Path.
    """
    root = Path(data_dir).expanduser()
    wanted = set(check_corruptions(corruptions))

    def complete(name: str) -> bool:
        folders = [root / name / str(s) for s in range(1, 6)]
        return all(f.is_dir() and _imagenet_c_images(f) == IMAGENETC_IMAGES_PER_CONDITION for f in folders)

    for archive_name, members in IMAGENETC_ARCHIVES.items():
        if not wanted & set(members) or all(complete(name) for name in members):
            continue
        archive = root / f"{archive_name}.tar"
        if not archive.is_file():
            download_file(IMAGENETC_ARCHIVE_URL.format(name=archive_name), archive, progress=progress,
                          timeout=timeout, hint=f"then run download_imagenet_c({str(root)!r}) again to unpack it")
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            extract_tar(archive, tmp)
            for name in members:
                found = [p for p in (Path(tmp) / name, Path(tmp) / archive_name / name) if p.is_dir()]
                if not found:
                    raise RuntimeError(f"{archive} does not contain the folder {name}/")
                for severity in range(1, 6):
                    n = _imagenet_c_images(found[0] / str(severity))
                    if n != IMAGENETC_IMAGES_PER_CONDITION:
                        raise RuntimeError(f"{archive} holds {n} images in {name}/{severity}/, expected "
                                           f"{IMAGENETC_IMAGES_PER_CONDITION}: the archive is incomplete, delete it "
                                           "and download it again")
                if (root / name).exists():
                    shutil.rmtree(root / name)
                shutil.move(str(found[0]), root / name)
        archive.unlink()
        log.info("ImageNet-C %s -> %s", archive_name, root)
    return root


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
            f"{str(Path(data_dir))}`, or download the ImageNet-C archives (blur.tar, digital.tar, noise.tar, "
            f"weather.tar) from {IMAGENETC_URL} and extract them into {str(Path(data_dir))!r} so that it holds "
            "<corruption>/<severity>/<wnid>/*.JPEG."
        )
    steps: list[Any] = [T.Resize(256), T.CenterCrop(224)] if resize_crop else []
    return ImageFolder(str(folder), transform=T.Compose([*steps, T.ToTensor()]), target_transform=_as_long)


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


# ---- generator ---------------------------------------------------------------------------------------------------
def _library_corrupt() -> Any:
    try:
        from imagecorruptions import corrupt
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "generating corruptions needs the imagecorruptions-imaug package: pip install 'lowfreq[corruptions]'"
        ) from err
    return corrupt


def _library_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("imagecorruptions-imaug")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _image_seed(seed: int, corruption: str, severity: int, index: int) -> int:
    """32-bit seed of one image's corruption (numpy's legacy RNG takes 32 bits)."""
    return derive_seed(seed, CORRUPTIONS.index(corruption), severity, index) % 2**32


def _corrupt_one(image: np.ndarray, corruption: str, severity: int, seed: int) -> np.ndarray:
    """The library on one uint8 (H, W, 3) image with numpy's global RNG seeded by ``seed``; uint8 (H, W, 3)."""
    corrupt = _library_corrupt()
    np.random.seed(seed)
    kwargs = {"seed": seed} if corruption in _SEEDED_BY_ARGUMENT else {}
    out = np.asarray(corrupt(image, severity=severity, corruption_name=corruption, **kwargs))
    if out.dtype != np.uint8:
        out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    if out.shape != image.shape:
        raise RuntimeError(f"imagecorruptions returned shape {out.shape} for {corruption} on an image {image.shape}")
    return out


def _to_uint8_hwc(x: Tensor) -> np.ndarray:
    """(B, C, H, W) float in [0, 1] -> uint8 (B, H, W, 3) (1 channel replicated), rounded to nearest."""
    u8 = x.detach().to("cpu", torch.float64).mul(255.0).round_().clamp_(0, 255).to(torch.uint8)
    if u8.shape[1] == 1:
        u8 = u8.expand(-1, 3, -1, -1)
    return np.ascontiguousarray(u8.permute(0, 2, 3, 1).numpy())


def _fingerprint(images: np.ndarray, indices: Tensor) -> str:
    h = hashlib.sha256(_CACHE_VERSION)
    h.update(_library_version().encode())
    h.update(repr(images.shape).encode())
    h.update(images.tobytes())
    h.update(indices.to(torch.int64).numpy().tobytes())
    return h.hexdigest()[:24]


def corruption_cache_file(
    cache_dir: str | Path, x: Tensor, corruption: str, severity: int, *, seed: int = 0, indices: Tensor | None = None
) -> Path:
    """The cache file [`corrupt_images`][lowfreq.data.corruptions.corrupt_images] uses for these arguments.

    It is ``cache_dir/<fingerprint>/<corruption>-s<severity>-seed<seed>.npy``, the fingerprint hashing the uint8
    input batch, its indices and the library's version; it holds the uint8 (B, H, W, 3) corrupted images.
    """
    check_image(x)
    index = _check_indices(indices, x.shape[0])
    return _cache_file(Path(cache_dir), _fingerprint(_to_uint8_hwc(x), index), corruption, severity, seed)


def _cache_file(cache_dir: Path, fingerprint: str, corruption: str, severity: int, seed: int) -> Path:
    return cache_dir.expanduser() / fingerprint / f"{corruption}-s{severity}-seed{seed}.npy"


def _check_indices(indices: Tensor | Sequence[int] | None, n: int) -> Tensor:
    if indices is None:
        return torch.arange(n)
    index = torch.as_tensor(indices)
    if index.shape != (n,) or index.dtype.is_floating_point or index.dtype == torch.bool:
        raise ValueError(f"indices must be {n} integer dataset indices (one per image), got {tuple(index.shape)} "
                         f"{index.dtype}")
    if n and int(index.min()) < 0:
        raise ValueError(f"indices must be >= 0, got minimum {int(index.min())}")
    return index.cpu().to(torch.int64)


def _load_cached(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    if not path.is_file():
        return None
    try:
        cached = np.load(path)
    except (OSError, ValueError) as err:
        log.warning("ignoring unreadable corruption cache %s (%s)", path, err)
        return None
    if cached.dtype != np.uint8 or cached.shape != shape:
        log.warning("ignoring corruption cache %s: %s %s, expected uint8 %s", path, cached.dtype, cached.shape, shape)
        return None
    return cached


def corrupt_images(
    x: Tensor,
    corruption: str,
    severity: int,
    *,
    seed: int = 0,
    indices: Tensor | Sequence[int] | None = None,
    grayscale: bool = False,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> Tensor:
    """Corrupt a batch with ``imagecorruptions`` (ImageNet-C's constants), deterministically for ``seed``.

    Each image is quantised to uint8 (rounded; 1-channel images replicated to RGB), corrupted by the library with
    numpy's global RNG seeded from ``(seed, corruption, severity, index)`` and converted back to ``x``'s dtype in
    [0, 1]; numpy's global RNG state is restored afterwards. A 1-channel input gets the luma of its corrupted RGB
    image; ``grayscale`` does the same for RGB input (replicated to 3 channels, so the shape is kept).

    Args:
        x: (B, C, H, W) float images in [0, 1], C = 1 or 3, H and W >= 32.
        corruption: one of the 15 names of ``lowfreq.corruption_names.CORRUPTIONS``.
        severity: 1 ... 5.
        seed: seed of the random corruptions, >= 0.
        indices: (B,) dataset index of each image (default ``0 ... B - 1``): an image's corruption depends on its
            index, not on its position in the batch.
        grayscale: return the luma (ITU-R 601) of the corrupted images, replicated to C channels.
        cache_dir: folder of the on-disk cache (None: no cache); a hit reads the stored uint8 result instead of
            calling the library.
        progress: show a tqdm bar over the images.

    Returns:
        (B, C, H, W) tensor of ``x``'s dtype and device, values in [0, 1] (multiples of 1/255 unless converted to
        grayscale).
    """
    check_image(x)
    check_corruption("corruption", corruption)
    check_severity("severity", severity)
    check_positive_int("seed", seed, minimum=0)
    check_bool("grayscale", grayscale)
    check_bool("progress", progress)
    b, c, h, w = x.shape
    if c not in (1, 3):
        raise ValueError(f"x must have 1 or 3 channels, got shape {tuple(x.shape)}")
    if h < MIN_GENERATED_SIZE or w < MIN_GENERATED_SIZE:
        raise ValueError(
            f"x must be at least {MIN_GENERATED_SIZE} x {MIN_GENERATED_SIZE} pixels (the smallest size "
            f"imagecorruptions accepts), got shape {tuple(x.shape)}"
        )
    index = _check_indices(indices, b)
    images = _to_uint8_hwc(x)  # (B, H, W, 3)
    path = _cache_file(Path(cache_dir), _fingerprint(images, index), corruption, severity, seed) if cache_dir else None
    out = _load_cached(path, images.shape) if path is not None else None
    if out is None:
        out = np.empty_like(images)
        state = np.random.get_state()
        try:
            for i in tqdm(range(b), desc=f"{corruption} {severity}", disable=not progress, leave=False):
                out[i] = _corrupt_one(images[i], corruption, severity, _image_seed(seed, corruption, severity,
                                                                                   int(index[i])))
        finally:
            np.random.set_state(state)
        if path is not None:
            with atomic_write(path, "wb") as f:
                np.save(f, out)
    result = torch.from_numpy(out).permute(0, 3, 1, 2).to(device=x.device, dtype=x.dtype).div_(255.0)
    if c == 1 or grayscale:
        result = to_grayscale(result, c)
    return result

