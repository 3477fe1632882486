"""Band-pass sensitivity: band edges and masks (integer bin counting as the oracle), the bands partition the spectrum,
a ring classifier is accurate only with its band, two bands are P003's LFC / HFC, function == Metric (1 vs 2
processes: tests/analysis/test_metrics_ddp.py), bad input, the figure."""

from __future__ import annotations

import math

import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from lowfreq.analysis import component_accuracy, frequency_components
from lowfreq.analysis.band_pass import (
    BandPassAccuracy,
    BandPassAccuracyMetric,
    band_edges,
    band_masks,
    band_pass_accuracy,
    band_pass_accuracy_from_counts,
    band_pass_counts,
    band_pass_images,
    check_edges,
)
from lowfreq.core.io import to_jsonable
from lowfreq.plotting.band_pass import plot_band_pass
from lowfreq.spectral import index_radius_to_cycles

from toy_models import template_classifier

SIZE = 16


def _images(n: int = 3, c: int = 3, height: int = SIZE, width: int = SIZE, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, c, height, width, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# ---- edges and masks -----------------------------------------------------------------------------------------------


def test_band_edges_linear_and_octave():
    assert band_edges(4).tolist() == [0.0, 0.125, 0.25, 0.375, 0.5]
    assert band_edges(4, spacing="octave").tolist() == [0.0, 0.0625, 0.125, 0.25, 0.5]
    assert band_edges(1, spacing="octave").tolist() == [0.0, 0.5]
    assert band_edges().numel() == 9  # 8 bands by default
    assert check_edges(torch.tensor([0, 0.1, 0.5], dtype=torch.float64)).tolist() == [0.0, 0.1, 0.5]


@pytest.mark.parametrize(("height", "width"), [(16, 16), (15, 15), (12, 20)])
@pytest.mark.parametrize("edges", [[0.0, 0.125, 0.25, 0.375, 0.5], [0.0, 0.0625, 0.125, 0.25, 0.5], [0.0, 0.2, 0.5]])
def test_band_masks_are_the_half_open_rings_counted_on_the_integer_grid(height, width, edges):
    """Oracle: bin (i, j) has |f|^2 = (ki / H)^2 + (kj / W)^2 with ki, kj the signed FFT indices; band k holds
    e_k <= |f| < e_{k + 1}, the last band everything from e_{K - 1} up (corners included): a partition."""
    masks = band_masks(height, width, edges)
    assert masks.shape == (len(edges) - 1, height, width)
    assert torch.equal(masks.sum(0), torch.ones(height, width, dtype=torch.long))  # every bin in exactly one band
    ki = [i if i <= height // 2 else i - height for i in range(height)]
    kj = [j if j <= width // 2 else j - width for j in range(width)]
    for k in range(len(edges) - 1):
        lo, hi = edges[k], edges[k + 1] if k + 1 < len(edges) - 1 else math.inf
        expected = torch.tensor([[lo**2 <= (a / height) ** 2 + (b / width) ** 2 < hi**2 for b in kj] for a in ki])
        assert torch.equal(masks[k], expected), k
    assert bool(masks[0, 0, 0])  # DC in band 0
    rfft = band_masks(height, width, edges, rfft=True)
    assert torch.equal(rfft, masks[..., : width // 2 + 1])


def test_a_bin_on_an_edge_goes_to_the_upper_band():
    """|f| = 0.25 exactly (the (0, 4) bin on 16 x 16) starts band 1 of (0, 0.25, 0.5), as P003's strict disc."""
    masks = band_masks(SIZE, SIZE, [0.0, 0.25, 0.5])
    assert not bool(masks[0, 0, 4])
    assert bool(masks[1, 0, 4])
    assert bool(masks[0, 0, 3])


# ---- the bands partition the spectrum ------------------------------------------------------------------------------


@pytest.mark.parametrize(("height", "width"), [(16, 16), (15, 15), (12, 20)])
@pytest.mark.parametrize("spacing", ["linear", "octave"])
def test_band_pass_images_sum_to_the_image_and_keep_only_their_band(height, width, spacing):
    x = _images(2, 3, height, width)
    edges = band_edges(5, spacing=spacing)
    bands = band_pass_images(x, edges)
    assert bands.shape == (5, 2, 3, height, width)
    torch.testing.assert_close(bands.sum(0), x, rtol=0, atol=1e-12)
    masks = band_masks(height, width, edges)
    for k in range(5):
        spec = torch.fft.fft2(bands[k])
        assert float(spec[..., ~masks[k]].abs().max()) < 1e-10  # nothing outside band k
        torch.testing.assert_close(spec[..., masks[k]], torch.fft.fft2(x)[..., masks[k]])  # everything inside it
    torch.testing.assert_close(bands[0].mean(dim=(2, 3)), x.mean(dim=(2, 3)))  # DC only in band 0, no mean re-added
    assert float(bands[1:].mean(dim=(3, 4)).abs().max()) < 1e-12


class Recorder(nn.Module):
    """Returns zero logits (2 classes) and keeps every batch it is shown."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.clone())
        return torch.zeros(x.shape[0], 2, dtype=x.dtype)


def test_the_model_sees_each_batch_then_band_pass_and_band_stop_of_every_band():
    x, y = _images(5), torch.tensor([0, 1, 0, 1, 1])
    edges = band_edges(3)
    model = Recorder()
    counts = band_pass_counts(model, x, y, edges, batch_size=3)
    assert counts.tolist() == [2.0] * 7 + [5.0]  # constant class 0: the 2 images of class 0 everywhere
    assert len(model.seen) == 2 * 7  # 2 batches x (x + 3 band-pass + 3 band-stop)
    for batch, first in ((model.seen[:7], x[:3]), (model.seen[7:], x[3:])):
        torch.testing.assert_close(batch[0], first)
        passes, stops = batch[1::2], batch[2::2]
        for p, s in zip(passes, stops, strict=True):
            torch.testing.assert_close(p + s, first, rtol=0, atol=1e-12)  # band-pass + band-stop = the image
        torch.testing.assert_close(sum(passes), first, rtol=0, atol=1e-12)
        torch.testing.assert_close(torch.stack(passes), band_pass_images(first, edges))


# ---- (a) a ring classifier -----------------------------------------------------------------------------------------


class RingEnergy(nn.Module):
    """Class 1 when the image has energy in its ring ``low <= |f| < high`` (DC excluded), else class 0."""

    def __init__(self, low: float, high: float, threshold: float = 1.0) -> None:
        super().__init__()
        f = torch.sqrt(torch.fft.fftfreq(SIZE)[:, None] ** 2 + torch.fft.fftfreq(SIZE)[None, :] ** 2).double()
        self.register_buffer("ring", ((f >= low - 1e-12) & (f < high - 1e-12) & (f > 0)).double())
        self.threshold = threshold

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        energy = (torch.fft.fft2(x.double(), norm="ortho").abs().square() * self.ring).sum(dim=(1, 2, 3))
        return torch.stack([torch.full_like(energy, self.threshold), energy], dim=1)


def _ring_data(index: int, n: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """Half the images hold a grating at fx = index / 16 (random phase), all hold white noise; labels 0 / 1."""
    g = torch.Generator().manual_seed(index)
    y = torch.arange(n) % 2
    col = torch.arange(SIZE, dtype=torch.float64)
    phase = 2 * math.pi * torch.rand(n, 1, 1, 1, generator=g, dtype=torch.float64)
    grating = 0.25 * torch.cos(2 * math.pi * index / SIZE * col + phase).expand(n, 3, SIZE, SIZE)
    noise = 0.02 * torch.randn(n, 3, SIZE, SIZE, generator=g, dtype=torch.float64)
    x = 0.5 + y[:, None, None, None] * grating + noise
    return x.clamp(0, 1), y


@pytest.mark.parametrize("band", [0, 1, 2, 3])
def test_a_ring_classifier_is_accurate_only_with_its_band(band):
    """Ring = band ``band`` of 4 linear bands; the grating sits in its middle. Kept: accuracy 1; any other band
    alone: the ring is empty, class 0 for every image (0.5); its band removed: 0.5; any other band removed: 1."""
    edges = band_edges(4)
    x, y = _ring_data(2 * band + 1)  # fx = (2 band + 1) / 16, the centre of band [band / 8, (band + 1) / 8)
    model = RingEnergy(float(edges[band]), float(edges[band + 1]))
    result = band_pass_accuracy(model, x, y, num_bands=4, batch_size=5)
    assert isinstance(result, BandPassAccuracy)
    assert result.acc == 1.0
    expected_pass, expected_stop = [0.5] * 4, [1.0] * 4
    expected_pass[band], expected_stop[band] = 1.0, 0.5
    assert result.acc_pass.tolist() == expected_pass
    assert result.acc_stop.tolist() == expected_stop
    assert result.peak_pass_freq == pytest.approx((2 * band + 1) / 16)
    assert result.peak_stop_freq == pytest.approx((2 * band + 1) / 16)
    assert result.centres.tolist() == pytest.approx([0.0625, 0.1875, 0.3125, 0.4375])
    assert result.num_images == 12
    assert result.spacing == "linear"


def test_octave_bands_find_the_ring_too():
    x, y = _ring_data(5)  # fx = 0.3125: in the top octave [0.25, 0.5)
    model = RingEnergy(0.25, 0.5)
    result = band_pass_accuracy(model, x, y, num_bands=3, spacing="octave")
    assert result.edges.tolist() == [0.0, 0.125, 0.25, 0.5]
    assert result.acc_pass.tolist() == [0.5, 0.5, 1.0]
    assert result.acc_stop.tolist() == [1.0, 1.0, 0.5]
    assert result.peak_pass_freq == pytest.approx(0.375)
    assert result.spacing == "octave"


# ---- (b) two bands are P003's LFC / HFC --------------------------------------------------------------------------


def _template_setup(num_images: int = 40, noise: float = 0.25) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    return template_classifier(torch.Generator().manual_seed(0), num_classes=4, size=SIZE, num_images=num_images,
                               noise=noise)


def _random_linear(num_images: int = 40, classes: int = 4) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A random float64 linear classifier, random images and its own clean decisions as labels: every filtered image
    gets some predictions right and some wrong, so a different filter shows in the counts."""
    g = torch.Generator().manual_seed(3)
    linear = nn.Linear(3 * SIZE * SIZE, classes).double()
    with torch.no_grad():
        linear.weight.copy_(torch.randn(classes, 3 * SIZE * SIZE, generator=g, dtype=torch.float64))
        linear.bias.zero_()
    model = nn.Sequential(nn.Flatten(), linear)
    x = torch.rand(num_images, 3, SIZE, SIZE, generator=g, dtype=torch.float64)
    with torch.no_grad():
        y = model(x).argmax(1)
    return model, x, y


@pytest.mark.parametrize("radius_bins", [1.5, 3.0, 4.0, 6.0])
def test_two_bands_split_at_r_are_the_lfc_and_hfc_at_r(radius_bins):
    """Independent path: lowfreq.analysis.components at radius r (index units) vs edges (0, r / N, 0.5)."""
    model, x, y = _random_linear()
    cutoff = index_radius_to_cycles(radius_bins, SIZE)  # r / N cycles/pixel
    result = band_pass_accuracy(model, x, y, edges=[0.0, cutoff, 0.5], batch_size=16)
    expected = component_accuracy(model, x, y, radii_bins=(radius_bins,), batch_size=16)
    assert result.acc_pass.tolist() == [expected.acc_low.item(), expected.acc_high.item()]
    assert result.acc_stop.tolist() == [expected.acc_high.item(), expected.acc_low.item()]
    assert result.acc == expected.acc == 1.0
    assert 0 < expected.acc_low.item() < 1  # the comparison has something to see
    assert 0 < expected.acc_high.item() < 1
    assert result.spacing == "custom"
    low, high = frequency_components(x, radius_bins)
    bands = band_pass_images(x, [0.0, cutoff, 0.5])
    torch.testing.assert_close(bands[0], low, rtol=0, atol=1e-12)
    torch.testing.assert_close(bands[1], high, rtol=0, atol=1e-12)


def test_the_lfc_match_needs_the_strict_disc():
    """At r = 4 on 16 x 16 the bins at exactly radius 4 separate the conventions: the bands follow P003's code."""
    x = _images(2)
    bands = band_pass_images(x, [0.0, 0.25, 0.5])
    strict, _ = frequency_components(x, 4)
    inclusive, _ = frequency_components(x, 4, inclusive=True)
    torch.testing.assert_close(bands[0], strict, rtol=0, atol=1e-12)
    assert float((bands[0] - inclusive).abs().max()) > 1e-3


# ---- (d) function, counts and Metric -------------------------------------------------------------------------------


def test_counts_are_additive_over_shards_and_the_metric_matches_the_function():
    model, x, y = _template_setup(30)
    edges = band_edges(3, spacing="octave")
    full = band_pass_counts(model, x, y, edges, batch_size=8)
    parts = sum(band_pass_counts(model, x[r::3], y[r::3], edges, batch_size=8) for r in range(3))
    assert torch.equal(full, parts)
    expected = band_pass_accuracy(model, x, y, num_bands=3, spacing="octave", batch_size=8)
    metric = BandPassAccuracyMetric(3, spacing="octave", batch_size=8)
    for pos in torch.arange(30).split(7):
        metric.update(model, x[pos], y[pos])
    _assert_same(metric.compute(), expected)
    assert expected.num_bins.tolist() == band_masks(SIZE, SIZE, edges).sum(dim=(1, 2)).tolist()
    assert expected.image_shape == (SIZE, SIZE)
    with pytest.raises(ValueError, match="images must be 16x16 as before, got 8x8"):
        metric.update(model, x[:2, :, :8, :8], y[:2])


def test_one_band_keeps_its_shape_and_the_result_serialises():
    model, x, y = _template_setup(6)
    metric = BandPassAccuracyMetric(1)
    metric.update(model, x, y)
    result = metric.compute()  # torchmetrics squeezes 1-element tensors: the result restores (K,)
    assert result.acc_pass.shape == result.acc_stop.shape == result.centres.shape == result.num_bins.shape == (1,)
    assert result.acc_pass.item() == result.acc  # the one band is the whole spectrum
    assert result.acc_stop.item() == float((model(torch.zeros_like(x)).argmax(1) == y).double().mean())
    data = to_jsonable(result)
    assert data["acc_pass"] == result.acc_pass.tolist()
    assert data["edges"] == [0.0, 0.5]


def test_from_counts_peaks_and_no_image():
    counts = torch.tensor([2.0, 9.0, 9.0, 8.0, 1.0, 7.0, 9.0, 10.0], dtype=torch.float64)  # K = 3, n = 10
    result = band_pass_accuracy_from_counts(counts, [0.0, 0.1, 0.3, 0.5], (8, 8))
    assert result.acc_pass.tolist() == [0.2, 0.9, 0.9]
    assert result.peak_pass_freq == pytest.approx(0.2)  # the lowest of the tied bands
    assert result.peak_stop_freq == pytest.approx(0.2)  # removing band 1 costs 0.8
    empty = band_pass_accuracy_from_counts(torch.zeros(8, dtype=torch.float64), [0.0, 0.1, 0.3, 0.5])
    assert math.isnan(empty.acc)
    assert bool(empty.acc_pass.isnan().all())
    assert math.isnan(empty.peak_pass_freq)
    assert empty.num_bins.tolist() == [0, 0, 0]


def _assert_same(a: BandPassAccuracy, b: BandPassAccuracy) -> None:
    for name, va in vars(a).items():
        vb = getattr(b, name)
        if isinstance(va, torch.Tensor):
            assert torch.equal(va.nan_to_num(-1.0), vb.nan_to_num(-1.0)), name
        elif isinstance(va, float) and math.isnan(va):
            assert math.isnan(vb), name
        else:
            assert va == vb, name


# ---- bad input -----------------------------------------------------------------------------------------------------


def test_bad_input_raises_naming_the_parameter():
    model, x, y = _template_setup(4)
    with pytest.raises(ValueError, match="num_bands must be an int >= 1"):
        band_pass_accuracy(model, x, y, num_bands=0)
    with pytest.raises(ValueError, match="spacing must be one of"):
        band_pass_accuracy(model, x, y, spacing="log")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="edges must be strictly ascending"):
        band_pass_accuracy(model, x, y, edges=[0.0, 0.3, 0.2, 0.5])
    with pytest.raises(ValueError, match=r"edges must start at 0 \(DC\) and end at 0.5"):
        band_pass_accuracy(model, x, y, edges=[0.1, 0.5])
    with pytest.raises(ValueError, match=r"edges must start at 0 \(DC\) and end at 0.5"):
        band_pass_accuracy(model, x, y, edges=[0.0, 0.7])
    with pytest.raises(ValueError, match="edges must hold at least 2 values"):
        band_pass_accuracy(model, x, y, edges=[0.0])
    with pytest.raises(ValueError, match="edges must be finite"):
        check_edges([0.0, math.nan, 0.5])
    with pytest.raises(ValueError, match=r"num_bands must equal len\(edges\) - 1 = 2"):
        BandPassAccuracyMetric(3, edges=[0.0, 0.2, 0.5])
    with pytest.raises(ValueError, match=r"images must hold images in \[0, 1\]"):
        band_pass_accuracy(model, x * 2, y)
    with pytest.raises(ValueError, match="labels must be a tensor of shape"):
        band_pass_accuracy(model, x, y[:3])
    with pytest.raises(ValueError, match="labels must be class indices"):
        band_pass_accuracy(model, x, y + 10)
    with pytest.raises(ValueError, match=r"counts must have shape \(6,\) for 2 bands"):
        band_pass_accuracy_from_counts(torch.zeros(5), [0.0, 0.2, 0.5])


# ---- the figure ----------------------------------------------------------------------------------------------------


def test_plot_band_pass_draws_kept_removed_and_clean():
    x, y = _ring_data(5)
    result = band_pass_accuracy(RingEnergy(0.25, 0.375), x, y, num_bands=4)
    fig, ax = plot_band_pass(result, label="ring")
    assert isinstance(fig, Figure)
    kept, removed = ax.get_lines()[:2]
    assert kept.get_xdata().tolist() == pytest.approx(result.centres.tolist())
    assert kept.get_ydata().tolist() == pytest.approx([50.0, 50.0, 100.0, 50.0])
    assert removed.get_ydata().tolist() == pytest.approx([100.0, 100.0, 50.0, 100.0])
    assert plot_band_pass(result, ax=ax)[1] is ax
