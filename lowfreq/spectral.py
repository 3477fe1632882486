"""Frequency grids, power spectra, radial profiles, ideal filters and hybrid images (pure torch).

Conventions: frequencies are in cycles/pixel; per axis in [-0.5, 0.5) (``torch.fft.fftfreq``), radial
|f| in [0, sqrt(2)/2]. Spectra are kept in the unshifted FFT layout (DC at [..., 0, 0]); ``fftshift`` is only
for display. All FFTs run in float32 (or float64 for float64 input) even inside an autocast region.
Unit conversions for the papers' conventions are at the bottom: Nyquist units (P001 ``f_mix``, ``f_rev``:
1 = 0.5 cycles/pixel) and index radius on an N x N centred spectrum (P003, P004: r = N * f).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import cast

import torch
from torch import Tensor

from lowfreq.core.checks import check_choice, check_image, check_positive_int, check_range

__all__ = [
    "MAX_RADIAL_FREQUENCY",
    "cycles_to_index_radius",
    "cycles_to_nyquist",
    "frequency_grid",
    "gaussian_transfer",
    "half_power_frequency",
    "ideal_highpass",
    "ideal_lowpass",
    "index_radius_to_cycles",
    "kernel_transfer",
    "lowpass_mask",
    "make_hybrid",
    "make_hybrids",
    "nyquist_to_cycles",
    "power_spectrum",
    "radial_frequency",
    "radial_profile",
    "radial_profile_exact",
    "split_frequencies",
]

MAX_RADIAL_FREQUENCY = math.sqrt(2) / 2
"""Largest radial frequency on a 2-D grid (the corners), in cycles/pixel."""


def _float(x: Tensor) -> Tensor:
    return x if x.dtype == torch.float64 else x.float()


def frequency_grid(
    height: int, width: int, *, rfft: bool = False, device: torch.device | str | None = None
) -> tuple[Tensor, Tensor]:
    """Per-axis frequencies (fy, fx), each (H, W) or (H, W // 2 + 1) with ``rfft``, in cycles/pixel."""
    check_positive_int("height", height)
    check_positive_int("width", width)
    fy = torch.fft.fftfreq(height, device=device, dtype=torch.float64)
    fx = (torch.fft.rfftfreq if rfft else torch.fft.fftfreq)(width, device=device, dtype=torch.float64)
    grid_y, grid_x = torch.meshgrid(fy, fx, indexing="ij")
    return grid_y, grid_x


def radial_frequency(
    height: int, width: int, *, rfft: bool = False, device: torch.device | str | None = None
) -> Tensor:
    """(H, W) radial frequency |f| in cycles/pixel (float64), unshifted layout; (H, W // 2 + 1) with ``rfft``."""
    fy, fx = frequency_grid(height, width, rfft=rfft, device=device)
    return torch.sqrt(fy.square() + fx.square())


def power_spectrum(x: Tensor) -> Tensor:
    """(..., H, W) real -> (..., H, W) |FFT|^2 with DC at [..., 0, 0]; ortho norm, so Parseval holds."""
    with torch.autocast(device_type=x.device.type, enabled=False):
        spec = torch.fft.fft2(_float(x), norm="ortho")
    return cast("Tensor", spec.abs().square())


def _mean_power(power: Tensor, exclude_dc: bool) -> Tensor:
    if power.ndim < 2:
        raise ValueError(f"power must have shape (..., H, W), got {tuple(power.shape)}")
    mean = power.reshape(-1, *power.shape[-2:]).double().mean(dim=0)
    if exclude_dc:
        mean = mean.clone()
        mean[0, 0] = 0.0
    if not bool(torch.isfinite(mean).all()) or bool((mean < 0).any()):
        raise ValueError("power must be finite and non-negative")
    if float(mean.sum()) <= 0:
        raise ValueError("power must have positive total power (outside DC when exclude_dc=True)")
    return mean


def radial_profile(
    power: Tensor, num_points: int = 25, *, exclude_dc: bool = False
) -> tuple[Tensor, Tensor]:
    """Cumulative fraction of power at radial frequencies <= f, on an even grid of f (P001 Fig 2 convention).

    The profile is that of the *averaged* spectrum: ``power`` (..., H, W) is first averaged over all leading
    dimensions (images, channels).

    Args:
        power: (..., H, W) non-negative power in the unshifted FFT layout (e.g. ``power_spectrum(x)``).
        num_points: number of grid points, evenly spaced on [0, max |f|] (25 in P001's figures).
        exclude_dc: drop the DC bin (P001 sets it to NaN after removing each channel's mean).

    Returns:
        ``(freq, fraction)``: both (num_points,) float64; freq in cycles/pixel, fraction in [0, 1].
    """
    check_positive_int("num_points", num_points, minimum=2)
    mean = _mean_power(power, exclude_dc)
    radius = radial_frequency(*mean.shape, device=mean.device)
    freq = torch.linspace(0, float(radius.max()), num_points, dtype=torch.float64, device=mean.device)
    below = radius.flatten()[None, :] <= freq[:, None] + 1e-12
    fraction = (below * mean.flatten()[None, :]).sum(dim=1) / mean.sum()
    return freq, fraction


def radial_profile_exact(power: Tensor, *, exclude_dc: bool = False) -> tuple[Tensor, Tensor]:
    """Cumulative power fraction at every distinct radial frequency of the grid.

    Returns:
        ``(freq, fraction)``: (F,) float64 sorted distinct radii in cycles/pixel and the fraction of power at
        radii <= each of them.
    """
    mean = _mean_power(power, exclude_dc)
    radius = radial_frequency(*mean.shape, device=mean.device).flatten()
    rounded = torch.round(radius * 1e9) / 1e9
    freq, inverse = torch.unique(rounded, sorted=True, return_inverse=True)
    per_radius = torch.zeros_like(freq).index_add_(0, inverse, mean.flatten())
    return freq, per_radius.cumsum(0) / mean.sum()


def _interpolate_crossing(freq: Tensor, fraction: Tensor, level: float) -> float:
    above = torch.nonzero(fraction >= level).flatten()
    i = int(above[0])
    if i == 0:
        return float(freq[0])
    f0, f1, r0, r1 = (float(v) for v in (freq[i - 1], freq[i], fraction[i - 1], fraction[i]))
    return f0 + (level - r0) * (f1 - f0) / (r1 - r0)


def half_power_frequency(
    power: Tensor,
    *,
    method: str = "exact",
    num_points: int = 25,
    exclude_dc: bool = False,
) -> float:
    """Radial frequency (cycles/pixel) below which half of the averaged power lies (P001's f_0.5).

    Args:
        power: (..., H, W) power in the unshifted layout, averaged over the leading dimensions first.
        method: "exact" interpolates between the grid's distinct radii; "grid" is P001's figure code:
            linear interpolation of the ``num_points``-point profile of
            [`radial_profile`][lowfreq.spectral.radial_profile].
        num_points: grid size for ``method="grid"``.
        exclude_dc: drop the DC bin first.

    White noise gives 1 / sqrt(2 pi) = 0.399 (the disc that holds half of a uniform plane).
    """
    check_choice("method", method, ("exact", "grid"))
    if method == "grid":
        freq, fraction = radial_profile(power, num_points, exclude_dc=exclude_dc)
    else:
        freq, fraction = radial_profile_exact(power, exclude_dc=exclude_dc)
    return _interpolate_crossing(freq, fraction, 0.5)


def lowpass_mask(
    height: int,
    width: int,
    cutoff: float,
    *,
    inclusive: bool = True,
    rfft: bool = False,
    device: torch.device | str | None = None,
) -> Tensor:
    """Boolean (H, W) mask (unshifted layout) of the frequencies with |f| <= cutoff (``<`` if not inclusive).

    Args:
        height: H in pixels.
        width: W in pixels.
        cutoff: radius in cycles/pixel, >= 0. Values >= sqrt(2)/2 keep everything.
        inclusive: P001 hybrids use ``<=`` (DC is always low); P003's code uses ``<``.
        rfft: return the (H, W // 2 + 1) half-plane used with ``torch.fft.rfft2``.
        device: device of the mask.
    """
    check_range("cutoff", cutoff, 0.0, math.inf)
    radius = radial_frequency(height, width, rfft=rfft, device=device)
    eps = 1e-12
    return radius <= cutoff + eps if inclusive else radius < cutoff - eps


def _apply_rfft_mask(x: Tensor, mask: Tensor) -> Tensor:
    """irfft2(mask * rfft2(x)) in float32 (float64 for float64 ``x``) even under autocast; dtype of ``x``."""
    height, width = x.shape[-2:]
    with torch.autocast(device_type=x.device.type, enabled=False):
        spec = torch.fft.rfft2(_float(x))
        out = torch.fft.irfft2(spec * mask.to(spec.real.dtype), s=(height, width))
    return cast("Tensor", out.to(x.dtype))


def _ideal_lowpass(x: Tensor, cutoff: float, inclusive: bool) -> Tensor:
    """``ideal_lowpass`` without the value checks of ``x`` (no device synchronisation)."""
    height, width = x.shape[-2:]
    mask = lowpass_mask(height, width, cutoff, inclusive=inclusive, rfft=True, device=x.device)
    return _apply_rfft_mask(x, mask)


def _ideal_highpass(x: Tensor, cutoff: float, inclusive: bool) -> Tensor:
    """``ideal_highpass`` without the value checks of ``x`` (no device synchronisation)."""
    return x - _ideal_lowpass(x, cutoff, inclusive)


def ideal_lowpass(x: Tensor, cutoff: float, *, inclusive: bool = True) -> Tensor:
    """Keep frequencies with |f| <= cutoff (cycles/pixel) in every channel of (B, C, H, W) ``x``.

    The mask depends on |f| only, so it is Hermitian-symmetric and the result is real by construction
    (``rfft2``/``irfft2``). Runs in float32 (float64 for float64 input) even under autocast and returns the
    dtype of ``x``. No clipping: the output may leave [0, 1].
    """
    check_image(x, unit_range=False)
    return _ideal_lowpass(x, cutoff, inclusive)


def ideal_highpass(x: Tensor, cutoff: float, *, inclusive: bool = True) -> Tensor:
    """The complement of [`ideal_lowpass`][lowfreq.spectral.ideal_lowpass]: ``x - ideal_lowpass(x, cutoff)``.

    Not clipped.
    """
    check_image(x, unit_range=False)
    return _ideal_highpass(x, cutoff, inclusive)


def split_frequencies(x: Tensor, cutoff: float, *, inclusive: bool = True) -> tuple[Tensor, Tensor]:
    """(low, high) components with ``low + high == x``; see [`ideal_lowpass`][lowfreq.spectral.ideal_lowpass]."""
    low = ideal_lowpass(x, cutoff, inclusive=inclusive)
    return low, x - low


def make_hybrids(x_low: Tensor, x_high: Tensor, f_mix: Sequence[float]) -> Iterator[Tensor]:
    """Yield ``make_hybrid(x_low, x_high, f)`` for every ``f`` in ``f_mix``, transforming the seeds only once.

    Args:
        x_low: (B, C, H, W) images in [0, 1] giving the low frequencies.
        x_high: images of the same shape giving the high frequencies.
        f_mix: mixing radii in cycles/pixel, each >= 0.
    """
    check_image(x_low, "x_low")
    check_image(x_high, "x_high")
    if x_low.shape != x_high.shape:
        raise ValueError(f"x_high must have the shape of x_low {tuple(x_low.shape)}, got {tuple(x_high.shape)}")
    f_mix = list(f_mix)
    for f in f_mix:
        check_range("f_mix", f, 0.0, math.inf)
    height, width = x_low.shape[-2:]
    with torch.autocast(device_type=x_low.device.type, enabled=False):
        spec_low = torch.fft.rfft2(_float(x_low))
        spec_high = torch.fft.rfft2(_float(x_high))
        for f in f_mix:
            mask = lowpass_mask(height, width, f, rfft=True, device=x_low.device)
            hybrid = torch.fft.irfft2(torch.where(mask, spec_low, spec_high), s=(height, width))
            yield hybrid.clamp_(0.0, 1.0).to(x_low.dtype)


def make_hybrid(x_low: Tensor, x_high: Tensor, f_mix: float) -> Tensor:
    """Hybrid images: frequencies |f| <= f_mix from ``x_low``, the rest from ``x_high`` (P001 Eq. 1).

    Args:
        x_low: (B, C, H, W) images in [0, 1] giving the low frequencies.
        x_high: images of the same shape giving the high frequencies.
        f_mix: mixing radius in **cycles/pixel**, >= 0 (P001 quotes it in Nyquist units: use
            [`nyquist_to_cycles`][lowfreq.spectral.nyquist_to_cycles]).

    Returns:
        (B, C, H, W) hybrids clipped to [0, 1]. DC convention (P001's code): the mask is inclusive, so the DC
        bin (each channel's mean) always comes from ``x_low``, even at ``f_mix = 0``; at ``f_mix >= sqrt(2)/2``
        the hybrid is ``x_low``. Note that at ``f_mix = 0.5`` (Nyquist) the corners still come from ``x_high``.
    """
    return next(make_hybrids(x_low, x_high, [f_mix]))


def gaussian_transfer(height: int, width: int, sigma: float, *, device: torch.device | str | None = None) -> Tensor:
    """(H, W) transfer function exp(-2 pi^2 sigma^2 |f|^2) of a continuous Gaussian of ``sigma`` pixels.

    Amplitude is halved at |f| = sqrt(ln 2 / 2) / (pi sigma) ~= 0.187 / sigma cycles/pixel.
    """
    check_range("sigma", sigma, 0.0, math.inf, low_open=True)
    radius = radial_frequency(height, width, device=device)
    return torch.exp(-2 * math.pi**2 * sigma**2 * radius.square())


def kernel_transfer(kernel1d: Tensor, height: int, width: int) -> Tensor:
    """(H, W) exact DFT of the separable, symmetric, centred kernel ``kernel1d`` (odd length) applied circularly.

    This is what a circularly padded separable convolution multiplies each frequency by.
    """
    if kernel1d.ndim != 1 or kernel1d.numel() % 2 == 0:
        raise ValueError(f"kernel1d must be 1-D with odd length, got shape {tuple(kernel1d.shape)}")
    half = kernel1d.numel() // 2
    offsets = torch.arange(-half, half + 1, dtype=torch.float64, device=kernel1d.device)
    k = kernel1d.double()

    def axis(n: int) -> Tensor:
        f = torch.fft.fftfreq(n, dtype=torch.float64, device=kernel1d.device)
        return (k[None, :] * torch.cos(2 * math.pi * f[:, None] * offsets[None, :])).sum(dim=1)

    return axis(height)[:, None] * axis(width)[None, :]


def cycles_to_nyquist(freq: float) -> float:
    """cycles/pixel -> Nyquist units (1 = 0.5 cycles/pixel), as P001 quotes f_mix and f_rev."""
    return 2.0 * freq


def nyquist_to_cycles(freq: float) -> float:
    """Nyquist units -> cycles/pixel."""
    return 0.5 * freq


def cycles_to_index_radius(freq: float, size: int) -> float:
    """cycles/pixel -> radius in index units on a size x size centred spectrum (P003, P004: r = N f)."""
    check_positive_int("size", size)
    return freq * size


def index_radius_to_cycles(radius: float, size: int) -> float:
    """Index radius on a size x size centred spectrum -> cycles/pixel (r = 16 on 32 x 32 is 0.5)."""
    check_positive_int("size", size)
    return radius / size
