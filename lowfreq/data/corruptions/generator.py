"""Common corruptions made on the fly (P001 Figs 2, 5), deterministic for a seed and cached on disk.

[`corrupt_images`][lowfreq.data.corruptions.generator.corrupt_images] corrupts any float (B, C, H, W) batch
in [0, 1] on the fly with the maintained ``imagecorruptions-imaug`` library (``pip install 'lowfreq[corruptions]'``; the
constants of ImageNet-C, images of at least 32 x 32 pixels). It is deterministic for a seed: before each image, numpy's
global (legacy) RNG, from which the library draws, is seeded from ``(seed, corruption, severity, index)``, and the two
corruptions that take their own seed (``impulse_noise``, ``glass_blur``) get the same value, so an image's corruption
depends neither on the batch it comes in nor on the process that makes it. numpy's global RNG state is restored
afterwards. Results can be cached on disk (``cache_dir``): one ``.npy`` per (fingerprint of the input batch and its
indices, corruption, severity, seed), so a second run reads them instead of regenerating them.

**Grayscale.** [`to_grayscale`][lowfreq.data.corruptions.generator.to_grayscale] is ITU-R 601 luma
``0.2989 R + 0.587 G + 0.114 B`` (torchvision ``rgb_to_grayscale``), applied to the corrupted RGB image (P001's
grayscale variants).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from lowfreq.core.checks import check_bool, check_image, check_indices, check_positive_int
from lowfreq.core.io import atomic_write
from lowfreq.core.optional import require
from lowfreq.core.seeding import derive_seed
from lowfreq.data.corruptions.names import CORRUPTIONS, check_corruption, check_severity

__all__ = [
    "MIN_GENERATED_SIZE",
    "RANDOM_CORRUPTIONS",
    "corrupt_images",
    "corruption_cache_file",
    "to_grayscale",
]

log = logging.getLogger(__name__)


MIN_GENERATED_SIZE = 32
"""Smallest height and width ``imagecorruptions`` accepts."""


RANDOM_CORRUPTIONS: tuple[str, ...] = (
    "gaussian_noise", "shot_noise", "impulse_noise", "glass_blur", "motion_blur",
    "snow", "frost", "fog", "elastic_transform",
)  # fmt: skip
"""Corruptions that draw random numbers (the others are deterministic functions of the image)."""


_SEEDED_BY_ARGUMENT = ("impulse_noise", "glass_blur")  # take ``seed=`` instead of (only) numpy's global RNG


_CACHE_VERSION = b"lowfreq-corruptions-v1"


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

    return cast("Tensor", rgb_to_grayscale(x, num_output_channels=out_channels).clamp(0, 1).contiguous())


def _library_corrupt() -> Any:
    library = require(
        "imagecorruptions", extra="corruptions", purpose="generating corruptions", package="imagecorruptions-imaug"
    )
    return library.corrupt


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
    """The cache file [`corrupt_images`][lowfreq.data.corruptions.generator.corrupt_images] uses for these arguments.

    It is ``cache_dir/<fingerprint>/<corruption>-s<severity>-seed<seed>.npy``, the fingerprint hashing the uint8
    input batch, its indices and the library's version; it holds the uint8 (B, H, W, 3) corrupted images.
    """
    check_image(x)
    index = check_indices(indices, x.shape[0])
    return _cache_file(Path(cache_dir), _fingerprint(_to_uint8_hwc(x), index), corruption, severity, seed)


def _cache_file(cache_dir: Path, fingerprint: str, corruption: str, severity: int, seed: int) -> Path:
    return cache_dir.expanduser() / fingerprint / f"{corruption}-s{severity}-seed{seed}.npy"


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
    return cast("np.ndarray | None", cached)


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
        corruption: one of the 15 names of ``lowfreq.data.corruptions.names.CORRUPTIONS``.
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
    index = check_indices(indices, b)
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
