import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lowfreq import spectral


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_frequency_grid_matches_fftfreq():
    fy, fx = spectral.frequency_grid(6, 8)
    assert fy.shape == (6, 8)
    assert torch.allclose(fy[:, 0], torch.fft.fftfreq(6, dtype=torch.float64))
    assert torch.allclose(fx[0], torch.fft.fftfreq(8, dtype=torch.float64))
    assert spectral.radial_frequency(8, 8).max() == pytest.approx(math.sqrt(2) / 2)
    assert spectral.radial_frequency(8, 8, rfft=True).shape == (8, 5)


def test_parseval():
    x = torch.randn(3, 2, 17, 12, dtype=torch.float64, generator=_gen())
    assert torch.allclose(x.square().sum(), spectral.power_spectrum(x).sum())


def test_power_spectrum_float32_under_autocast():
    x = torch.rand(1, 1, 8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        p = spectral.power_spectrum(x)
    assert p.dtype == torch.float32


def test_cosine_puts_power_at_its_frequency():
    n, ky, kx = 32, 3, 5
    yy, xx = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    x = torch.cos(2 * math.pi * (ky * yy + kx * xx) / n).double()
    p = spectral.power_spectrum(x)
    peaks = {tuple(i.tolist()) for i in torch.nonzero(p > 1e-6 * p.max())}
    assert peaks == {(ky, kx), (n - ky, n - kx)}


def test_white_noise_half_power_frequency():
    power = spectral.power_spectrum(torch.randn(64, 256, 256, generator=_gen()))
    expected = 1 / math.sqrt(2 * math.pi)
    assert spectral.half_power_frequency(power) == pytest.approx(expected, abs=0.01)
    assert spectral.half_power_frequency(power, method="grid") == pytest.approx(expected, abs=0.01)


def test_radial_profile_monotone_from_zero_to_one():
    power = spectral.power_spectrum(torch.rand(4, 3, 16, 16, generator=_gen()))
    freq, frac = spectral.radial_profile(power, 25, exclude_dc=True)
    assert freq.shape == frac.shape == (25,)
    assert freq[-1] == pytest.approx(math.sqrt(2) / 2)
    assert frac[0] == 0
    assert frac[-1] == pytest.approx(1.0)
    assert bool((frac.diff() >= -1e-12).all())


def test_half_power_of_lowpassed_noise_below_cutoff():
    x = torch.randn(8, 1, 64, 64, generator=_gen())
    low = spectral.ideal_lowpass(x, 0.2)
    f = spectral.half_power_frequency(spectral.power_spectrum(low))
    assert 0.1 < f <= 0.2


def test_half_power_rejects_bad_power():
    with pytest.raises(ValueError, match="power must"):
        spectral.half_power_frequency(torch.zeros(4, 4))
    with pytest.raises(ValueError, match="method must be one of"):
        spectral.half_power_frequency(torch.ones(4, 4), method="median")


@given(
    b=st.integers(1, 3), h=st.integers(4, 24), w=st.integers(4, 24), seed=st.integers(0, 2**16),
    cutoff=st.floats(0.0, 0.75),
)
def test_lowpass_plus_highpass_is_identity(b, h, w, seed, cutoff):
    x = torch.rand(b, 3, h, w, dtype=torch.float64, generator=_gen(seed))
    low, high = spectral.split_frequencies(x, cutoff)
    assert torch.allclose(low + high, x, atol=1e-12)
    assert torch.allclose(spectral.ideal_highpass(x, cutoff), high, atol=1e-12)


@given(h=st.integers(4, 24), seed=st.integers(0, 2**16))
def test_radial_profile_transpose_invariant(h, seed):
    x = torch.rand(2, h, h, dtype=torch.float64, generator=_gen(seed))
    _, a = spectral.radial_profile(spectral.power_spectrum(x))
    _, b = spectral.radial_profile(spectral.power_spectrum(x.transpose(-1, -2)))
    assert torch.allclose(a, b)


def test_lowpass_identities_and_conventions():
    x = torch.rand(2, 3, 16, 16, dtype=torch.float64, generator=_gen())
    assert torch.allclose(spectral.ideal_lowpass(x, math.sqrt(2) / 2), x)
    # At Nyquist (0.5) the corners (|f| > 0.5) are still cut: about 21.5 % of the plane.
    cut = (~spectral.lowpass_mask(256, 256, 0.5)).double().mean()
    assert float(cut) == pytest.approx(1 - math.pi / 4, abs=0.005)
    # P003 disc at r = 4 on 32 x 32: 45 bins with '<', 49 with '<='.
    r = spectral.index_radius_to_cycles(4, 32)
    assert int(spectral.lowpass_mask(32, 32, r, inclusive=False).sum()) == 45
    assert int(spectral.lowpass_mask(32, 32, r, inclusive=True).sum()) == 49


def test_unit_conversions():
    assert spectral.nyquist_to_cycles(0.528) == pytest.approx(0.264)
    assert spectral.cycles_to_nyquist(0.25) == 0.5
    assert spectral.cycles_to_index_radius(0.5, 32) == 16
    assert spectral.index_radius_to_cycles(8, 32) == 0.25


def test_hybrid_extremes():
    gen = _gen(1)
    a = torch.rand(2, 3, 16, 16, dtype=torch.float64, generator=gen)
    b = torch.rand(2, 3, 16, 16, dtype=torch.float64, generator=gen)
    # f_mix above the highest frequency: the low image.
    assert torch.allclose(spectral.make_hybrid(a, b, 0.75), a)
    # f_mix = 0: the high image with the low image's per-channel mean (DC convention), clipped to [0, 1].
    expected = (b - b.mean((-2, -1), keepdim=True) + a.mean((-2, -1), keepdim=True)).clamp(0, 1)
    assert torch.allclose(spectral.make_hybrid(a, b, 0.0), expected)
    mid = spectral.make_hybrid(a, b, 0.2)
    assert mid.min() >= 0
    assert mid.max() <= 1
    assert mid.dtype == a.dtype


def test_hybrid_validates_input():
    a = torch.rand(1, 3, 8, 8)
    with pytest.raises(ValueError, match=r"x_low must hold images in \[0, 1\]"):
        spectral.make_hybrid(a * 3, a, 0.1)
    with pytest.raises(ValueError, match="x_high must have the shape"):
        spectral.make_hybrid(a, torch.rand(1, 3, 8, 9), 0.1)
    with pytest.raises(ValueError, match=r"f_mix must be in \[0.0, inf\], got -0.1"):
        spectral.make_hybrid(a, a, -0.1)


def test_gaussian_transfer_half_amplitude():
    sigma = 2.0
    f_half = math.sqrt(math.log(2) / 2) / (math.pi * sigma)
    t = spectral.gaussian_transfer(1, 1, sigma)
    assert t.item() == 1.0
    assert math.exp(-2 * math.pi**2 * sigma**2 * f_half**2) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="sigma must be in"):
        spectral.gaussian_transfer(8, 8, 0.0)
