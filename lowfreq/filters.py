"""Spatial filters and PCA on image tensors (pure torch): Gaussian blur, down-up resize, PCA fit/projection."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, cast, get_args

import torch
import torch.nn.functional as F
from torch import Tensor

from lowfreq.core.checks import check_choice, check_image, check_positive_int, check_range
from lowfreq.core.precision import ieee_float32
from lowfreq.spectral import index_radius_to_cycles, kernel_transfer, split_frequencies

__all__ = [
    "PCAMethod",
    "PCAResult",
    "Padding",
    "check_padding",
    "check_pca_method",
    "down_up_resize",
    "frequency_components",
    "gaussian_blur",
    "gaussian_kernel1d",
    "pca_fit",
    "pca_project",
    "rescale_by_max",
    "separable_filter",
    "square_size",
]

Padding = Literal["circular", "reflect", "zeros"]
"""Border mode of [`separable_filter`][lowfreq.filters.separable_filter]."""
PCAMethod = Literal["auto", "covariance", "randomized"]
"""Solver of [`pca_fit`][lowfreq.filters.pca_fit]."""
MAX_SIGMA = 64.0


def check_padding(padding: str) -> None:
    """Raise ValueError unless ``padding`` is one of the [`Padding`][lowfreq.filters.Padding] modes."""
    check_choice("padding", padding, get_args(Padding))


def check_pca_method(method: str) -> None:
    """Raise ValueError unless ``method`` is one of the [`PCAMethod`][lowfreq.filters.PCAMethod] solvers."""
    check_choice("method", method, get_args(PCAMethod))


def gaussian_kernel1d(sigma: float, truncate: float = 3.0, *, dtype: torch.dtype = torch.float32) -> Tensor:
    """Sampled Gaussian at integer offsets -h..h with h = ceil(truncate * sigma), normalised to sum 1.

    Args:
        sigma: standard deviation in pixels, in (0, 64].
        truncate: half-width in units of sigma, > 0 (blur-net, P001, uses 2.5; torchvision-style 3).
        dtype: floating dtype of the kernel.

    Returns:
        (2h + 1,) kernel.
    """
    check_range("sigma", sigma, 0.0, MAX_SIGMA, low_open=True)
    check_range("truncate", truncate, 0.0, 16.0, low_open=True)
    half = max(1, math.ceil(truncate * sigma))
    offsets = torch.arange(-half, half + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (offsets / sigma).square())
    return (kernel / kernel.sum()).to(dtype)


def _check_kernel1d(kernel1d: Tensor) -> None:
    """Shape and dtype only (no device synchronisation): a 1-D float kernel of odd length keeps the size."""
    if not isinstance(kernel1d, Tensor):
        raise TypeError(f"kernel1d must be a 1-D torch.Tensor of odd length, got {type(kernel1d).__name__}")
    if kernel1d.ndim != 1 or kernel1d.numel() % 2 == 0:
        raise ValueError(f"kernel1d must be a 1-D tensor of odd length, got shape {tuple(kernel1d.shape)}")
    if not torch.is_floating_point(kernel1d):
        raise TypeError(f"kernel1d must be a floating-point tensor, got dtype {kernel1d.dtype}")


def separable_filter(x: Tensor, kernel1d: Tensor, padding: Padding = "circular") -> Tensor:
    """Apply the same symmetric 1-D kernel along H then W to every channel (depthwise), keeping the size.

    ``x`` is a float (B, C, H, W) tensor (any range; its values are not checked, so this runs in training
    steps without device synchronisation) and ``kernel1d`` a 1-D floating tensor of odd length.

    Runs in float32 (float64 for float64 input) even under autocast, without TF32 on CUDA, and returns the dtype
    of ``x``.
    Circular padding makes the filter an exact product in the DFT domain (see ``spectral.kernel_transfer``);
    kernels wider than the image are then applied in the Fourier domain, which is the same operation.
    """
    check_image(x, values=False)
    _check_kernel1d(kernel1d)
    check_padding(padding)
    _, channels, height, width = x.shape
    half = kernel1d.numel() // 2
    with torch.autocast(device_type=x.device.type, enabled=False), ieee_float32(x.device):
        xf = x.double() if x.dtype == torch.float64 else x.float()
        if padding == "circular" and (half >= height or half >= width):
            transfer = kernel_transfer(kernel1d, height, width).to(device=x.device, dtype=xf.dtype)
            out = torch.fft.ifft2(torch.fft.fft2(xf) * transfer).real
            return cast("Tensor", out.to(x.dtype))
        if padding == "reflect" and (half >= height or half >= width):
            raise ValueError(
                f"reflect padding needs the kernel half-width ({half} px) below the image size ({height}x{width}); "
                "use padding='circular' or a smaller sigma"
            )
        k = kernel1d.to(device=x.device, dtype=xf.dtype)
        weight_h = k.view(1, 1, -1, 1).expand(channels, 1, -1, 1)
        weight_w = k.view(1, 1, 1, -1).expand(channels, 1, 1, -1)
        if padding == "zeros":
            out = F.conv2d(xf, weight_h, padding=(half, 0), groups=channels)
            out = F.conv2d(out, weight_w, padding=(0, half), groups=channels)
        else:
            out = F.conv2d(F.pad(xf, (0, 0, half, half), mode=padding), weight_h, groups=channels)
            out = F.conv2d(F.pad(out, (half, half, 0, 0), mode=padding), weight_w, groups=channels)
    return out.to(x.dtype)


def gaussian_blur(x: Tensor, sigma: float, *, truncate: float = 3.0, padding: Padding = "circular") -> Tensor:
    """Blur every channel with an isotropic Gaussian.

    Args:
        x: (B, C, H, W) float images in [0, 1].
        sigma: standard deviation in pixels, in (0, 64]. Half-amplitude cutoff ~= 0.187 / sigma cycles/pixel.
        truncate: kernel half-width in sigmas (kernel size 2 * ceil(truncate * sigma) + 1).
        padding: border mode; "circular" (default, as blur-net) makes the blur an exact FFT-domain product
            and commutes with per-channel normalisation.

    Returns:
        (B, C, H, W) tensor with the dtype and device of ``x``.
    """
    check_image(x)
    kernel = gaussian_kernel1d(sigma, truncate, dtype=torch.float64 if x.dtype == torch.float64 else torch.float32)
    return separable_filter(x, kernel, padding)


def down_up_resize(x: Tensor, size: int, *, antialias: bool = True) -> Tensor:
    """Bicubic resize to ``size`` x ``size`` and back to the input size, clamped to [0, 1] (P000).

    Args:
        x: (B, C, H, W) images in [0, 1].
        size: intermediate resolution in pixels, >= 1 (P000 headline: 64 for 224 inputs).
        antialias: anti-alias the down-step (PIL-equivalent; P000's exact setting is not published).

    Raises:
        ImageTypeError: ``x`` is not a float tensor (uint8 images would come back as 0/1).
        ValueError: ``x`` is not (B, C, H, W), not finite or outside [0, 1] (0-255 floats would come back as
            ones).
    """
    check_image(x)
    check_positive_int("size", size)
    return _down_up_resize(x, size, antialias=antialias)


def _down_up_resize(x: Tensor, size: int, *, antialias: bool = True) -> Tensor:
    """``down_up_resize`` without checking ``x`` (the caller did; no device synchronisation)."""
    height, width = x.shape[-2:]
    with torch.autocast(device_type=x.device.type, enabled=False):
        xf = x.double() if x.dtype == torch.float64 else x.float()
        small = F.interpolate(xf, size=(size, size), mode="bicubic", align_corners=False, antialias=antialias)
        out = F.interpolate(small, size=(height, width), mode="bicubic", align_corners=False)
    return out.clamp_(0.0, 1.0).to(x.dtype)


@dataclass
class PCAResult:
    """Principal components of flattened images.

    ``mean`` (D,), ``components`` (K, D) orthonormal rows, ``explained_variance`` (K,) sorted descending, and
    ``num_samples``, the number of images they came from.
    """

    mean: Tensor
    components: Tensor
    explained_variance: Tensor
    num_samples: int


def _batches(data: Tensor | Iterable) -> Iterable[Tensor]:
    if isinstance(data, Tensor):
        check_image(data, "data")
        yield from data.split(1024)
        return
    for batch in data:
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        if isinstance(x, dict):
            raise TypeError("data batches must be tensors or (x, y) tuples, got a dict")
        check_image(x, "data batch")  # finite and in [0, 1], as a tensor ``data`` is
        yield x


def _flat(x: Tensor) -> Tensor:
    check_image(x, "data batch", values=False)
    return x.reshape(x.shape[0], -1).double()


def pca_fit(
    data: Tensor | Iterable,
    num_components: int,
    *,
    method: PCAMethod = "auto",
    center: bool = True,
    oversample: int = 16,
    num_iter: int = 4,
    generator: torch.Generator | None = None,
    progress: bool = False,
) -> PCAResult:
    """Principal components of images flattened to D = C * H * W, streaming over batches.

    Args:
        data: (N, C, H, W) tensor in [0, 1], or an iterable (e.g. DataLoader) of such batches or (x, y) pairs.
            An iterable must yield the same data on every pass (no shuffling or augmentation) when
            ``method="randomized"``, which makes ``num_iter + 2`` passes.
        num_components: K, 1 <= K <= min(N, D).
        method: "covariance" accumulates the D x D covariance in float64 (one pass; memory 8 D^2 bytes, fine for
            CIFAR's D = 3072); "randomized" is a streaming randomized range finder with power iterations
            (memory O(D K), for ImageNet-size D); "auto" picks covariance when D <= 8192.
        center: subtract the mean before computing components (our default: P001's PCA model has no mean term).
        oversample: extra columns of the randomized range finder (accuracy).
        num_iter: power iterations of the randomized method (accuracy).
        generator: random source for the randomized method.
        progress: show a progress bar over batches.
    """
    from tqdm.auto import tqdm

    check_positive_int("num_components", num_components)
    check_pca_method(method)

    def passes() -> Iterable[Tensor]:
        return (_flat(x) for x in tqdm(_batches(data), desc="PCA", disable=not progress, leave=False))

    total, gram, count, dim, device = None, None, 0, 0, None
    first_pass_cov = method in ("auto", "covariance")
    for x in passes():
        if total is None:
            dim, device = x.shape[1], x.device
            if method == "auto" and dim > 8192:
                first_pass_cov = False
            total = torch.zeros(dim, dtype=torch.float64, device=device)
            if first_pass_cov:
                gram = torch.zeros(dim, dim, dtype=torch.float64, device=device)
        total += x.sum(0)
        if gram is not None:
            gram += x.T @ x
        count += x.shape[0]
    if total is None or count == 0:
        raise ValueError("data must hold at least one image, got none")
    if num_components > min(count, dim):
        raise ValueError(
            f"num_components must be <= min(number of images, C*H*W) = min({count}, {dim}), got {num_components}"
        )
    mean = total / count if center else torch.zeros_like(total)
    if gram is not None:
        cov = gram / count - torch.outer(mean, mean)
        evals, evecs = torch.linalg.eigh(cov)
        order = torch.argsort(evals, descending=True)[:num_components]
        return PCAResult(mean.float(), evecs[:, order].T.contiguous().float(), evals[order].clamp_min(0).float(), count)

    def cov_times(q: Tensor) -> Tensor:
        acc = torch.zeros_like(q)
        for x in passes():
            xc = x - mean
            acc += xc.T @ (xc @ q)
        return acc / count

    width = min(num_components + oversample, dim)
    q = torch.randn(dim, width, dtype=torch.float64, device=device, generator=generator)
    q, _ = torch.linalg.qr(q)
    for _ in range(num_iter):
        q, _ = torch.linalg.qr(cov_times(q))
    small = q.T @ cov_times(q)
    evals, evecs = torch.linalg.eigh((small + small.T) / 2)
    order = torch.argsort(evals, descending=True)[:num_components]
    components = (q @ evecs[:, order]).T.contiguous()
    return PCAResult(mean.float(), components.float(), evals[order].clamp_min(0).float(), count)


def pca_project(x: Tensor, components: Tensor, mean: Tensor | None = None) -> Tensor:
    """Project (B, C, H, W) images onto the span of ``components`` (K, D): x -> mean + U U^T (x - mean).

    With ``mean=None`` this is the linear projector ``P_K x`` of P001 Eq. 3 (``U_K U_K^T``, N x N).

    Args:
        x: (B, C, H, W) float images in [0, 1] (checked: finite and in range).
        components: (K, D) float basis with D = C * H * W.
        mean: (D,) float mean, or None.
    """
    check_image(x)
    return _pca_project(x, components, mean)


def _pca_project(x: Tensor, components: Tensor, mean: Tensor | None = None) -> Tensor:
    """``pca_project`` without the value checks of ``x`` (shapes only; no device synchronisation)."""
    if not isinstance(components, Tensor) or components.ndim != 2:
        got = tuple(components.shape) if isinstance(components, Tensor) else type(components).__name__
        raise ValueError(f"components must have shape (K, D), got {got}")
    if not torch.is_floating_point(components):
        raise TypeError(f"components must be a floating-point tensor, got dtype {components.dtype}")
    if mean is not None and (not isinstance(mean, Tensor) or mean.shape != (components.shape[1],)):
        got = tuple(mean.shape) if isinstance(mean, Tensor) else type(mean).__name__
        raise ValueError(f"mean must have shape ({components.shape[1]},) like a row of components, got {got}")
    flat = x.reshape(x.shape[0], -1)
    if flat.shape[1] != components.shape[1]:
        raise ValueError(
            f"x must have C*H*W = {components.shape[1]} values per image to match the PCA basis, "
            f"got shape {tuple(x.shape)}"
        )
    with torch.autocast(device_type=x.device.type, enabled=False), ieee_float32(x.device):
        u = components.to(flat.dtype if flat.dtype == torch.float64 else torch.float32)
        flat = flat.to(u.dtype)
        if mean is not None:
            m = mean.to(u.dtype)
            out = m + ((flat - m) @ u.T) @ u
        else:
            out = (flat @ u.T) @ u
    return out.reshape(x.shape).to(x.dtype)


# ---- P003's frequency components ------------------------------------------------------------------------------


def square_size(x: Tensor) -> int:
    """N of (..., N, N) images; a clear error for non-square ones (an index radius needs N x N)."""
    height, width = x.shape[-2:]
    if height != width:
        raise ValueError(
            f"x must hold square images for an index radius (r = N |f| on an N x N spectrum), got {height}x{width}"
        )
    return int(height)


def frequency_components(x: Tensor, radius_bins: float, *, inclusive: bool = False) -> tuple[Tensor, Tensor]:
    """P003's split of every channel into the low- and high-frequency components ``(x_l, x_h)``, ``x_l + x_h = x``.

    Args:
        x: (B, C, N, N) float images (any range; P003 applies it to 0–255 pixels, which only scales the result).
        radius_bins: r > 0 in index units on the N x N centred spectrum, i.e. a cutoff of ``r / N`` cycles/pixel.
        inclusive: ``|f| <= r / N`` (the paper) instead of ``<`` (P003's code, default).

    Returns:
        ``(x_l, x_h)``: two (B, C, N, N) tensors with the dtype and device of ``x``; not clipped.
    """
    check_image(x, unit_range=False)
    check_range("radius_bins", radius_bins, 0.0, math.inf, low_open=True)
    size = square_size(x)
    return split_frequencies(x, index_radius_to_cycles(radius_bins, size), inclusive=inclusive)


def rescale_by_max(x: Tensor) -> Tensor:
    """Divide every image by its maximum over channels and pixels (P003's rescaling of LFC / HFC images).

    Images whose maximum is <= 0 (e.g. an all-zero HFC) are returned unchanged.

    Args:
        x: (B, C, H, W) float images (any range).

    Returns:
        (B, C, H, W) tensor with per-image maximum 1; negative values stay negative (P003 does not shift the min).
    """
    check_image(x, unit_range=False, values=False)
    peak = x.amax(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
    return x / torch.where(peak > 0, peak, torch.ones_like(peak))
