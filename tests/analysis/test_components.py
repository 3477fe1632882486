"""P003's LFC / HFC: radius convention, rescaling, component accuracy (function and Metric), plots."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from lowfreq.analysis.components import (
    DEFAULT_RADII,
    ComponentAccuracy,
    ComponentAccuracyMetric,
    component_accuracy,
    component_accuracy_from_counts,
    component_counts,
    frequency_components,
    rescale_by_max,
)
from lowfreq.core.io import to_jsonable
from lowfreq.plotting.components import plot_component_accuracy, plot_component_curves
from lowfreq.spectral import ideal_lowpass


def _images(n: int = 4, c: int = 3, size: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, c, size, size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _p003_reference(x: np.ndarray, r: float) -> tuple[np.ndarray, np.ndarray]:
    """P003's recipe on one (N, N) channel, written from its description: fftshift, distance to (N/2, N/2) < r."""
    n = x.shape[0]
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    mask = (np.sqrt((i - n / 2) ** 2 + (j - n / 2) ** 2) < r).astype(float)
    spec = np.fft.fftshift(np.fft.fft2(x))
    low = np.real(np.fft.ifft2(np.fft.ifftshift(spec * mask)))
    high = np.real(np.fft.ifft2(np.fft.ifftshift(spec * (1 - mask))))
    return low, high


@pytest.mark.parametrize("radius", [4, 8, 12, 16, 20])
def test_components_match_p003_recipe(radius):
    x = _images(2, 3)
    low, high = frequency_components(x, radius)
    for b in range(2):
        for c in range(3):
            ref_low, ref_high = _p003_reference(x[b, c].numpy(), radius)
            np.testing.assert_allclose(low[b, c].numpy(), ref_low, atol=1e-10)
            np.testing.assert_allclose(high[b, c].numpy(), ref_high, atol=1e-10)
    torch.testing.assert_close(low + high, x)


def test_strict_and_inclusive_disc_bin_counts():
    """r = 4 on 32 x 32: 45 bins with the code's '<', 49 with the paper's '<='."""
    impulse = torch.zeros(1, 1, 32, 32, dtype=torch.float64)
    impulse[..., 0, 0] = 1.0  # flat spectrum: the LFC's nonzero bins are the disc
    for inclusive, bins in ((False, 45), (True, 49)):
        low, _ = frequency_components(impulse, 4, inclusive=inclusive)
        assert int((torch.fft.fft2(low).abs() > 1e-9).sum()) == bins


def test_dc_goes_to_the_low_component():
    x = _images(3, 3)
    low, high = frequency_components(x, 0.5)  # only DC is strictly inside r = 0.5
    torch.testing.assert_close(low, x.mean(dim=(2, 3), keepdim=True).expand_as(x))
    torch.testing.assert_close(high.mean(dim=(2, 3)), torch.zeros(3, 3, dtype=torch.float64))


def test_rescale_by_max():
    x = _images(3, 3) * torch.tensor([0.2, 0.5, 1.0], dtype=torch.float64)[:, None, None, None]
    out = rescale_by_max(x)
    torch.testing.assert_close(out.amax(dim=(1, 2, 3)), torch.ones(3, dtype=torch.float64))
    _, high = frequency_components(x, 8)
    scaled = rescale_by_max(high)
    assert float(scaled.min()) < 0  # HFC keeps its negative values (no shift of the minimum)
    torch.testing.assert_close(scaled.amax(dim=(1, 2, 3)), torch.ones(3, dtype=torch.float64))
    zero = torch.zeros(1, 3, 8, 8)
    assert torch.equal(rescale_by_max(zero), zero)


class LowpassTemplate(nn.Module):
    """Sees only |f| <= cutoff: nearest class mean of the low-passed image."""

    def __init__(self, means: torch.Tensor, cutoff: float) -> None:
        super().__init__()
        self.cutoff = cutoff
        self.register_buffer("means", ideal_lowpass(means, cutoff))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f, m = ideal_lowpass(x - 0.5, self.cutoff).flatten(1), self.means.flatten(1)
        return f @ m.T - 0.5 * m.square().sum(dim=1)


def _template_task(size: int = 32, k: int = 4, per_class: int = 10):
    g = torch.Generator().manual_seed(0)
    templates = torch.randn(k, 3, size, size, generator=g, dtype=torch.float64)
    y = torch.arange(k * per_class) % k
    x = (0.5 + 0.08 * templates[y] + 0.02 * torch.randn(k * per_class, 3, size, size, generator=g,
                                                         dtype=torch.float64)).clamp(0, 1)
    means = torch.stack([(x[y == c] - 0.5).mean(0) for c in range(k)])
    return x, y, means


def test_component_accuracy_of_a_lowpass_classifier():
    """A classifier blind above 0.23 cycles/px: LFC with r >= 8 (>= 0.25) is as good as x; HFC with r >= 8 is blind."""
    x, y, means = _template_task()
    model = LowpassTemplate(means, 0.23)
    result = component_accuracy(model, x, y, batch_size=16)
    assert isinstance(result, ComponentAccuracy)
    assert result.radii.tolist() == list(DEFAULT_RADII)
    assert result.radii_cycles.tolist() == pytest.approx([0.125, 0.25, 0.375, 0.5])
    assert result.acc == 1.0
    assert result.acc_low[1:].tolist() == [1.0, 1.0, 1.0]
    blind = float((model(torch.full_like(x[:1], 0.5)).argmax(1) == y).double().mean())  # constant prediction
    assert result.acc_high[1:].tolist() == pytest.approx([blind] * 3)
    assert blind <= 0.5
    assert result.num_images == len(y)
    assert result.inclusive is False
    assert to_jsonable(result)["acc_low"] == result.acc_low.tolist()


def test_counts_are_additive_over_shards():
    x, y, means = _template_task(size=16)
    model = LowpassTemplate(means, 0.2)
    radii = (2, 4, 6)
    full = component_counts(model, x, y, radii)
    parts = sum(component_counts(model, x[r::3], y[r::3], radii) for r in range(3))
    assert torch.equal(full, parts)
    result = component_accuracy_from_counts(parts, radii, 16)
    assert result.acc_low.tolist() == component_accuracy(model, x, y, radii).acc_low.tolist()


def test_bad_input_raises():
    x, y, means = _template_task(size=16)
    model = LowpassTemplate(means, 0.2)
    with pytest.raises(ValueError, match="radius_bins must be in"):
        frequency_components(x, 0)
    with pytest.raises(ValueError, match="radii_bins must be in"):
        component_accuracy(model, x, y, radii_bins=(4, -1))
    with pytest.raises(ValueError, match="radii_bins must hold at least one"):
        component_accuracy(model, x, y, radii_bins=())
    with pytest.raises(ValueError, match="square images"):
        frequency_components(torch.rand(1, 3, 16, 8), 4)
    with pytest.raises(ValueError, match=r"images must hold images in \[0, 1\]"):
        component_accuracy(model, x * 2, y)
    with pytest.raises(ValueError, match="labels must be a tensor of shape"):
        component_accuracy(model, x, y[:3])


def test_metric_matches_the_function():
    """Updates with the function's batches give exactly component_accuracy's numbers."""
    x, y, means = _template_task(size=16)
    model = LowpassTemplate(means, 0.2)
    expected = component_accuracy(model, x, y, (2, 4, 6), rescale=True, batch_size=16)
    metric = ComponentAccuracyMetric((2, 4, 6), rescale=True, batch_size=16)
    for start in range(0, len(y), 16):
        metric.update(model, x[start : start + 16], y[start : start + 16])
    result = metric.compute()
    for name in ("radii", "radii_cycles", "acc_low", "acc_high"):
        assert torch.equal(getattr(result, name), getattr(expected, name)), name
    for name in ("acc", "num_images", "inclusive", "rescale", "image_size"):
        assert getattr(result, name) == getattr(expected, name), name
    assert result.image_size == 16
    assert result.num_images == len(y)
    with pytest.raises(ValueError, match="images must be 16 pixels wide as before, got 8"):
        metric.update(model, x[:2, :, :8, :8], y[:2])


def test_component_plots():
    history = [{"epoch": e, "acc_low": [0.1, 0.2], "acc_high": [0.3, 0.4], "acc": a} for e, a in ((1, 0.5), (2, 0.6))]
    fig, ax = plot_component_curves({"radii": [4, 8], "history": history})
    assert isinstance(fig, Figure)
    assert len(ax.get_lines()) == 5
    assert ax.get_lines()[0].get_ydata().tolist() == pytest.approx([10.0, 10.0])  # LFC r=4 in %
    x, y, means = _template_task(size=16)
    result = component_accuracy(LowpassTemplate(means, 0.2), x, y, (2, 4))
    fig2, ax2 = plot_component_accuracy(result, label="m")
    assert isinstance(fig2, Figure)
    assert ax2.get_lines()[0].get_ydata().tolist() == pytest.approx((100 * result.acc_low).tolist())
    assert plot_component_accuracy(result, ax=ax2)[1] is ax2
