import math

import pytest
import torch

from lowfreq import filters, frontends, spectral


def _rand(*shape, seed=0, dtype=torch.float32):
    return torch.rand(*shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def test_gaussian_blur_module_equals_functional():
    x = _rand(2, 3, 16, 16)
    for padding in ("circular", "reflect", "zeros"):
        layer = frontends.GaussianBlur(1.5, padding=padding)
        assert torch.equal(layer(x), filters.gaussian_blur(x, 1.5, padding=padding))
    assert frontends.GaussianBlur(1.5).kernel.numel() == 11
    assert "kernel" not in frontends.GaussianBlur(1.5).state_dict()
    assert list(frontends.GaussianBlur(1.5).parameters()) == []


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"sigma": 0.0}, r"sigma must be in \(0.0, 64.0\], got 0.0"),
    ({"sigma": math.nan}, "sigma must be in"),
    ({"sigma": 1.0, "padding": "wrap"}, r"padding must be one of \['circular', 'reflect', 'zeros'\], got 'wrap'"),
])
def test_gaussian_blur_bad_args(kwargs, match):
    with pytest.raises(ValueError, match=match):
        frontends.GaussianBlur(**kwargs)


def test_module_rejects_non_images():
    with pytest.raises(ValueError, match=r"x must have shape \(B, C, H, W\), got \(3, 8, 8\)"):
        frontends.GaussianBlur(1.0)(torch.rand(3, 8, 8))


def test_blur_passes_gradients_to_the_input():
    x = _rand(1, 3, 8, 8).requires_grad_()
    frontends.GaussianBlur(1.0)(x).sum().backward()
    assert x.grad is not None
    assert torch.allclose(x.grad, torch.ones_like(x), atol=1e-5)


def test_fourier_mask_identity_at_init_and_gradcheck():
    x = _rand(2, 3, 12, 10, dtype=torch.float64)
    mask = frontends.FourierMask((12, 10)).double()
    assert torch.allclose(mask(x), x, atol=1e-12)
    assert mask.penalty().item() == pytest.approx(1.0)
    xg = x[:1].clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda t: mask(t), (xg,))
    assert torch.autograd.gradcheck(lambda m: torch.fft.irfft2(torch.fft.rfft2(x) * m, s=(12, 10)),
                                    (mask.mask.detach().clone().requires_grad_(),))


def test_fourier_mask_l1_is_mean_over_full_plane_and_full_mask_is_hermitian():
    mask = frontends.FourierMask((8, 8), init=0.5)
    with torch.no_grad():
        mask.mask.uniform_(0, 1, generator=torch.Generator().manual_seed(0))
    full = mask.full_mask()[0]
    assert full.shape == (8, 8)
    rows, cols = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    assert torch.equal(full, full[(-rows) % 8, (-cols) % 8])
    assert frontends.FourierMask((8, 8), init=0.3).penalty().item() == pytest.approx(0.3)
    x = _rand(1, 1, 8, 8, dtype=torch.float64)
    direct = torch.fft.ifft2(torch.fft.fft2(x) * full.double()).real
    assert torch.allclose(mask.double()(x), direct, atol=1e-10)


def test_fourier_mask_is_kept_in_unit_interval():
    mask = frontends.FourierMask((8, 8))
    with torch.no_grad():
        mask.mask.add_(torch.linspace(-2, 2, mask.mask.numel()).view_as(mask.mask))
    mask.after_optimizer_step()
    assert mask.mask.min() >= 0
    assert mask.mask.max() <= 1
    with pytest.raises(ValueError, match=r"x must have spatial size image_size=\(8, 8\)"):
        mask(torch.rand(1, 3, 9, 9))
    with pytest.raises(ValueError, match=r"init must be in \[0.0, 1.0\]"):
        frontends.FourierMask(init=2.0)


def test_pca_projection_module():
    data = _rand(300, 3, 4, 4, seed=1)
    pca = frontends.PCAProjection(8, image_shape=(3, 4, 4))
    with pytest.raises(RuntimeError, match="not fitted"):
        pca(data[:2])
    pca.fit(data)
    y = pca(data[:10])
    assert torch.allclose(pca(y), y, atol=1e-5)  # idempotent
    assert torch.equal(pca(data[:10]), filters.pca_project(data[:10], pca.components))
    affine = frontends.PCAProjection(8, image_shape=(3, 4, 4), mode="affine").fit(data)
    assert torch.allclose(affine(data[:10]), filters.pca_project(data[:10], affine.components, affine.mean))
    state = pca.state_dict()
    assert {"mean", "components", "explained_variance", "fitted"} <= set(state)
    restored = frontends.PCAProjection(8, image_shape=(3, 4, 4))
    restored.load_state_dict(state)
    assert restored.is_fitted
    assert torch.equal(restored(data[:3]), pca(data[:3]))
    with pytest.raises(ValueError, match=r"num_components must be in \[1, C\*H\*W = 48\], got 49"):
        frontends.PCAProjection(49, image_shape=(3, 4, 4))
    with pytest.raises(ValueError, match=r"num_components must be <= min\(number of images, C\*H\*W\) = min\(5, 48\)"):
        frontends.PCAProjection(8, image_shape=(3, 4, 4)).fit(data[:5])


def test_ideal_filter_module():
    x = _rand(2, 3, 16, 16)
    low = frontends.IdealFilter(0.2, "low")(x)
    high = frontends.IdealFilter(0.2, "high")(x)
    assert torch.allclose(low + high, x, atol=1e-6)
    assert torch.allclose(low, spectral.ideal_lowpass(x, 0.2), atol=1e-6)
    with pytest.raises(ValueError, match="cutoff must be in"):
        frontends.IdealFilter(0.9)


def test_down_up_resize_module_and_identity():
    x = _rand(2, 3, 32, 32)
    assert torch.equal(frontends.DownUpResize(16)(x), filters.down_up_resize(x, 16))
    assert frontends.Identity()(x) is x


@pytest.mark.parametrize("layer", [
    frontends.GaussianBlur(1.5), frontends.DownUpResize(8), frontends.IdealFilter(0.2), frontends.FourierMask((16, 16)),
])
def test_float32_numerics_under_autocast(layer):
    x = _rand(2, 3, 16, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = layer(x)
    assert y.dtype == torch.float32
    assert torch.allclose(y, layer(x), atol=1e-6)
