import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lowfreq import filters, spectral


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_kernel_size_and_normalisation():
    k = filters.gaussian_kernel1d(1.5, truncate=2.5)  # blur-net: 2 * ceil(2.5 sigma) + 1 = 9
    assert k.numel() == 9
    assert k.sum().item() == pytest.approx(1.0)
    assert filters.gaussian_kernel1d(1.0, 3.0).numel() == 7


@pytest.mark.parametrize("sigma", [0.0, -1.0, math.nan, math.inf, 100.0])
def test_bad_sigma(sigma):
    with pytest.raises(ValueError, match="sigma must be in"):
        filters.gaussian_blur(torch.rand(1, 3, 8, 8), sigma)


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (torch.rand(3, 8, 8), r"x must have shape \(B, C, H, W\)"),
        (torch.rand(1, 3, 8, 8) * 2, r"x must hold images in \[0, 1\]"),
        (torch.full((1, 3, 8, 8), math.nan), "x must be finite"),
    ],
)
def test_bad_images(x, match):
    with pytest.raises(ValueError, match=match):
        filters.gaussian_blur(x, 1.0)


@pytest.mark.parametrize("error", [TypeError, ValueError])
def test_non_float_or_non_tensor_input_is_a_type_and_value_error(error):
    with pytest.raises(error, match="x must be a floating-point tensor"):
        filters.gaussian_blur(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), 1.0)
    with pytest.raises(error, match=r"x must be a torch.Tensor of shape \(B, C, H, W\), got list"):
        filters.gaussian_blur([[0.5]], 1.0)


@pytest.mark.parametrize("sigma", [0.7, 1.5, 3.0])
def test_circular_blur_is_exact_fourier_product(sigma):
    """With circular padding, blur == IFFT(FFT(x) * transfer of the truncated kernel)."""
    x = torch.rand(2, 3, 32, 32, dtype=torch.float64, generator=_gen())
    kernel = filters.gaussian_kernel1d(sigma, dtype=torch.float64)
    transfer = spectral.kernel_transfer(kernel, 32, 32)
    expected = torch.fft.ifft2(torch.fft.fft2(x) * transfer).real
    assert torch.allclose(filters.gaussian_blur(x, sigma), expected, atol=1e-12)


@pytest.mark.parametrize("sigma", [1.5, 3.0])
def test_kernel_transfer_approaches_analytic_gaussian(sigma):
    """Truncation (3 sigma: < 6e-3) and sampling aliasing (exp(-pi^2 sigma^2 / 2) at Nyquist) are the only gaps."""
    analytic = spectral.gaussian_transfer(32, 32, sigma)
    transfer = spectral.kernel_transfer(filters.gaussian_kernel1d(sigma, dtype=torch.float64), 32, 32)
    assert (transfer - analytic).abs().max() < 6e-3
    tight = spectral.kernel_transfer(filters.gaussian_kernel1d(sigma, 5.0, dtype=torch.float64), 32, 32)
    assert (tight - analytic).abs().max() < 5e-5


def test_blur_of_white_noise_has_gaussian_power_ratio():
    sigma = 1.5
    x = torch.randn(64, 1, 64, 64, dtype=torch.float64, generator=_gen())
    kernel = filters.gaussian_kernel1d(sigma, 5.0, dtype=torch.float64)
    ratio = spectral.power_spectrum(filters.separable_filter(x, kernel))
    ratio = ratio.mean(0)[0] / spectral.power_spectrum(x).mean(0)[0]
    expected = spectral.gaussian_transfer(64, 64, sigma).square()
    assert torch.allclose(ratio, expected, atol=1e-6)


def test_kernel_wider_than_image_uses_fourier_path():
    x = torch.rand(1, 1, 8, 8, dtype=torch.float64, generator=_gen())
    out = filters.gaussian_blur(x, 5.0)
    transfer = spectral.kernel_transfer(filters.gaussian_kernel1d(5.0, dtype=torch.float64), 8, 8)
    assert torch.allclose(out, torch.fft.ifft2(torch.fft.fft2(x) * transfer).real, atol=1e-12)
    with pytest.raises(ValueError, match="reflect padding"):
        filters.gaussian_blur(x, 5.0, padding="reflect")


@pytest.mark.parametrize("padding", ["circular", "reflect", "zeros"])
def test_blur_shapes_dtype_and_float32_under_autocast(padding):
    x = torch.rand(2, 3, 16, 16)
    y = filters.gaussian_blur(x, 1.0, padding=padding)
    assert y.shape == x.shape
    assert y.dtype == x.dtype
    with torch.autocast("cpu", dtype=torch.bfloat16):
        z = filters.gaussian_blur(x, 1.0, padding=padding)
    assert z.dtype == torch.float32
    assert torch.equal(y, z)
    assert torch.allclose(y, filters.gaussian_blur(x.double(), 1.0, padding=padding).float(), atol=1e-6)


def test_blur_gradcheck():
    x = torch.rand(1, 2, 8, 8, dtype=torch.float64, requires_grad=True)
    k = filters.gaussian_kernel1d(1.0, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: filters.separable_filter(t, k, "circular"), (x,))


@given(b=st.integers(1, 3), h=st.integers(8, 24), w=st.integers(8, 24), seed=st.integers(0, 2**16),
       sigma=st.floats(0.3, 2.5))
def test_circular_blur_keeps_mean_and_never_adds_power(b, h, w, seed, sigma):
    x = torch.rand(b, 3, h, w, dtype=torch.float64, generator=_gen(seed))
    y = filters.gaussian_blur(x, sigma)
    assert torch.allclose(y.mean((-2, -1)), x.mean((-2, -1)), atol=1e-12)
    assert bool((spectral.power_spectrum(y) <= spectral.power_spectrum(x) + 1e-9).all())


def test_down_up_resize():
    x = torch.rand(2, 3, 32, 32, generator=_gen())
    y = filters.down_up_resize(x, 8)
    assert y.shape == x.shape
    assert y.min() >= 0
    assert y.max() <= 1
    lost = spectral.power_spectrum(x - y).mean((0, 1))
    radius = spectral.radial_frequency(32, 32)
    assert lost[radius > 0.2].mean() > 10 * lost[radius < 0.08].mean()
    with pytest.raises(ValueError, match="size must be an int >= 1"):
        filters.down_up_resize(x, 0)


def test_pca_projector_symmetric_idempotent_rank_k():
    gen = _gen(3)
    data = torch.rand(200, 3, 4, 4, dtype=torch.float64, generator=gen)
    result = filters.pca_fit(data, 10)
    u = result.components.double()
    assert u.shape == (10, 48)
    projector = u.T @ u
    assert torch.allclose(projector, projector.T, atol=1e-6)
    assert torch.allclose(projector @ projector, projector, atol=1e-5)
    assert torch.linalg.matrix_rank(projector, atol=1e-4) == 10
    assert torch.allclose(u @ u.T, torch.eye(10, dtype=torch.float64), atol=1e-5)
    assert bool((result.explained_variance.diff() <= 1e-6).all())


def test_pca_full_rank_is_identity_and_errors():
    data = torch.rand(100, 1, 4, 4, dtype=torch.float64, generator=_gen())
    result = filters.pca_fit(data, 16)
    x = data[:5]
    assert torch.allclose(filters.pca_project(x, result.components), x, atol=1e-4)
    expected = r"num_components must be <= min\(number of images, C\*H\*W\) = min\(100, 16\)"
    with pytest.raises(ValueError, match=expected):
        filters.pca_fit(data, 17)
    with pytest.raises(ValueError, match=r"min\(5, 16\), got 6"):
        filters.pca_fit(data[:5], 6)


def test_pca_streaming_and_randomized_agree_with_exact():
    gen = _gen(4)
    # Data with a clear spectrum: 6 strong directions plus noise.
    basis = torch.linalg.qr(torch.randn(75, 6, dtype=torch.float64, generator=gen))[0]
    coeffs = torch.randn(600, 6, dtype=torch.float64, generator=gen) * torch.tensor([8, 7, 6, 5, 4, 3.0])
    flat = 0.5 + 0.02 * (coeffs @ basis.T + 0.05 * torch.randn(600, 75, dtype=torch.float64, generator=gen))
    data = flat.clamp(0, 1).reshape(600, 3, 5, 5)
    exact = filters.pca_fit(data, 6, method="covariance")
    loader = [(data[i : i + 64], torch.zeros(64)) for i in range(0, 600, 64)]
    streamed = filters.pca_fit(loader, 6, method="covariance")
    randomized = filters.pca_fit(loader, 6, method="randomized", generator=_gen(0))
    for other in (streamed, randomized):
        overlap = (exact.components.double() @ other.components.double().T).abs()
        assert torch.allclose(torch.linalg.svdvals(overlap), torch.ones(6, dtype=torch.float64), atol=1e-3)
        assert torch.allclose(other.explained_variance, exact.explained_variance, rtol=1e-3)
