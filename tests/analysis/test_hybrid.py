"""Hybrid-image analysis: pairing, f_rev interpolation, analytic band-limited classifiers, bad input, a trained pair."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from lowfreq.analysis.hybrid import (
    DEFAULT_F_MIX,
    MAX_F_MIX,
    HybridCurve,
    HybridCurveMetric,
    check_f_mix,
    hybrid_counts,
    hybrid_curve,
    hybrid_curve_from_counts,
    hybrid_pairs,
    reversal_frequency,
)
from lowfreq.core.io import to_jsonable
from lowfreq.plotting.hybrid import plot_hybrid_curve, plot_hybrid_examples, plot_hybrid_probabilities
from lowfreq.spectral import ideal_highpass, ideal_lowpass, make_hybrid, radial_frequency

# ---- analytic classifiers --------------------------------------------------------------------------------------


def band_templates(num_classes: int, size: int, low: float = 0.0, high: float = 1.0, seed: int = 0) -> torch.Tensor:
    """(K, 1, size, size) float64 zero-mean templates with unit DFT magnitude on low < |f| <= high, zero elsewhere.

    With a flat magnitude, the energy a band-limited template matcher sees in a frequency region is proportional to
    the number of DFT bins in it, which makes f_rev predictable by counting bins.
    """
    g = torch.Generator().manual_seed(seed)
    phase = 2 * math.pi * torch.rand(num_classes, 1, size, size // 2 + 1, generator=g, dtype=torch.float64)
    radius = radial_frequency(size, size, rfft=True)
    magnitude = ((radius > low) & (radius <= high)).double()
    t = torch.fft.irfft2(magnitude * torch.exp(1j * phase), s=(size, size))
    return t / t.abs().amax(dim=(1, 2, 3), keepdim=True)


class BandTemplateClassifier(nn.Module):
    """Sees only |f| <= cutoff ("low") or |f| > cutoff ("high"): nearest class mean of the band-passed image."""

    def __init__(self, means: torch.Tensor, cutoff: float, mode: str) -> None:
        super().__init__()
        self.cutoff, self.mode = cutoff, mode
        self.register_buffer("means", self.band(means))

    def band(self, x: torch.Tensor) -> torch.Tensor:
        return ideal_lowpass(x, self.cutoff) if self.mode == "low" else ideal_highpass(x, self.cutoff)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f, m = self.band(x - 0.5).flatten(1), self.means.flatten(1)
        return f @ m.T - 0.5 * m.square().sum(dim=1)  # = -||f - m||^2 / 2 + const


def template_data(
    templates: torch.Tensor, per_class: int, seed: int = 1
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Images 0.5 + 0.2 t_y + small noise (no clipping), labels, and the class means of (x - 0.5)."""
    k = templates.shape[0]
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(k * per_class) % k
    noise = 0.02 * torch.randn(k * per_class, *templates.shape[1:], generator=g, dtype=torch.float64)
    x = 0.5 + 0.2 * templates[y] + noise
    assert float(x.min()) > 0
    assert float(x.max()) < 1
    means = torch.stack([(x[y == c] - 0.5).mean(0) for c in range(k)])
    return x, y, means


def median_bin_radius(size: int, low: float, high: float) -> float:
    """Radius (cycles/px) that splits the DFT bins with low < |f| <= high into two halves."""
    r = radial_frequency(size, size).flatten()
    return float(r[(r > low + 1e-12) & (r <= high + 1e-12)].median())


FINE_GRID = torch.linspace(0.0, 1.4, 36, dtype=torch.float64)  # Nyquist units, step 0.04


# ---- pairing ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [
        torch.arange(1000) % 10,
        torch.tensor([0, 0, 1, 1]),
        torch.tensor([0] * 5 + [1] * 3 + [2] * 2),
        torch.tensor([3] * 50 + [7] * 50),
        torch.randint(0, 4, (301,), generator=torch.Generator().manual_seed(0)),
    ],
)
def test_pairs_are_permutations_across_classes(labels):
    pairs = hybrid_pairs(labels, num_permutations=3, seed=5)
    assert pairs.shape == (3, labels.numel())
    assert pairs.dtype == torch.long
    for row in pairs:
        assert torch.equal(row.sort().values, torch.arange(labels.numel()))  # every image is a high seed once
        assert bool((labels[row] != labels).all())  # seeds always from different classes


def test_pairs_reproducible_and_independent_of_permutation_count():
    labels = torch.arange(200) % 7
    four = hybrid_pairs(labels, num_permutations=4, seed=3)
    assert torch.equal(four, hybrid_pairs(labels, num_permutations=4, seed=3))
    assert torch.equal(four[:2], hybrid_pairs(labels, num_permutations=2, seed=3))
    assert not torch.equal(four[0], four[1])
    assert not torch.equal(four[0], hybrid_pairs(labels, num_permutations=1, seed=4)[0])
    state = torch.random.get_rng_state()
    hybrid_pairs(labels, num_permutations=2, seed=3)
    assert torch.equal(state, torch.random.get_rng_state())  # the global RNG is never used


def test_pairs_mix_classes():
    """High-seed classes are spread over the other classes, not a fixed class-to-class map."""
    labels = torch.arange(2000) % 10
    high = labels[hybrid_pairs(labels, num_permutations=1, seed=0)[0]]
    table = torch.zeros(10, 10)
    table.index_put_((labels, high), torch.ones(2000), accumulate=True)
    assert bool((table.diagonal() == 0).all())
    off = table[~torch.eye(10, dtype=torch.bool)]
    assert float(off.min()) > 5
    assert float(off.max()) < 45


# ---- f_rev ------------------------------------------------------------------------------------------------------


def test_reversal_frequency_interpolates_first_sign_change():
    f = torch.tensor([0.0, 0.1, 0.2, 0.3, 0.4])
    assert reversal_frequency(f, torch.tensor([-1.0, -0.5, 0.5, 1.0, 1.0])) == pytest.approx(0.15)
    assert reversal_frequency(f, torch.tensor([-0.9, -0.3, 0.1, 0.7, 1.0])) == pytest.approx(0.175)
    assert reversal_frequency(f, torch.tensor([-1.0, 0.0, 0.0, 1.0, 1.0])) == pytest.approx(0.1)  # exact zero
    # first crossing wins when noise makes d non-monotonic
    assert reversal_frequency(f, torch.tensor([-1.0, 1.0, -1.0, 1.0, 1.0])) == pytest.approx(0.05)
    # touching zero without changing sign is no crossing
    with pytest.warns(RuntimeWarning, match="never changes sign"):
        assert math.isnan(reversal_frequency(f, torch.tensor([0.0, 0.2, 0.4, 0.6, 0.8])))
    with pytest.warns(RuntimeWarning, match="never changes sign"):
        assert math.isnan(reversal_frequency(f, torch.tensor([-1.0, -0.8, -0.5, -0.2, -0.1])))


def test_result_from_counts_statistics():
    f = check_f_mix([0.0, 0.5, 1.0])
    n = 10
    counts = torch.zeros(2, 3, 3, dtype=torch.float64)
    counts[0, :, 0], counts[0, :, 1] = torch.tensor([0.0, 4.0, 9.0]), torch.tensor([10.0, 6.0, 1.0])  # d: -1, -.2, .8
    counts[1, :, 0], counts[1, :, 1] = torch.tensor([0.0, 6.0, 9.0]), torch.tensor([10.0, 4.0, 1.0])  # d: -1, .2, .8
    counts[..., 2] = 7.0
    curve = hybrid_curve_from_counts(f, counts, n, seed=3)
    assert curve.f_rev_per_permutation.tolist() == pytest.approx([0.5 + 0.5 * 0.2, 0.5 - 0.5 * 0.2 / 1.2])
    assert curve.f_rev == pytest.approx(float(curve.f_rev_per_permutation.mean()))
    assert curve.f_rev_std == pytest.approx(float(curve.f_rev_per_permutation.std(correction=0)))
    assert curve.f_rev_of_mean == pytest.approx(0.5)  # the mean curve is 0 there
    assert torch.allclose(curve.p_other, 1 - curve.p_low - curve.p_high)
    assert torch.allclose(curve.confidence, torch.full((3,), 0.7, dtype=torch.float64))
    assert curve.num_permutations == 2
    assert curve.frequency_unit == "nyquist"



def test_one_permutation_without_crossing_does_not_erase_f_rev():
    """The headline is the mean over the crossing permutations (numpy's nanmean / nanstd as the oracle)."""
    f = check_f_mix([0.0, 0.5, 1.0])
    counts = torch.zeros(3, 3, 3, dtype=torch.float64)
    counts[0, :, 0], counts[0, :, 1] = torch.tensor([0.0, 4.0, 9.0]), torch.tensor([10.0, 6.0, 1.0])  # crosses
    counts[1, :, 0], counts[1, :, 1] = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([10.0, 9.0, 8.0])  # d < 0
    counts[2, :, 0], counts[2, :, 1] = torch.tensor([0.0, 6.0, 9.0]), torch.tensor([10.0, 4.0, 1.0])  # crosses
    with pytest.warns(RuntimeWarning) as record:
        curve = hybrid_curve_from_counts(f, counts, 10)
    per = curve.f_rev_per_permutation.numpy()
    assert math.isnan(per[1])
    assert curve.num_crossing == 2
    assert curve.f_rev == pytest.approx(float(np.nanmean(per)))
    assert curve.f_rev_std == pytest.approx(float(np.nanstd(per)))
    message = str(record[0].message)
    assert len(record) == 1
    assert "permutation 1" in message
    assert "2 of 3" in message
    assert "widen" not in message
    assert "above f_mix 1" in message  # the grid stops below sqrt(2): a crossing above it is possible
    assert "f_rev_rule" in to_jsonable(curve)  # the result file says how the headline is defined


def test_no_crossing_anywhere_is_nan_with_one_warning_saying_so():
    f = check_f_mix([0.0, 0.5, math.sqrt(2)])
    counts = torch.zeros(2, 3, 3, dtype=torch.float64)
    counts[:, :, 1] = 10.0  # every hybrid is the high seed's class: d = -1 everywhere
    with pytest.warns(RuntimeWarning, match="no permutation crosses") as record:
        curve = hybrid_curve_from_counts(f, counts, 10)
    assert math.isnan(curve.f_rev)
    assert math.isnan(curve.f_rev_std)
    assert curve.num_crossing == 0
    assert len(record) == 1
    assert "did not reverse" in str(record[0].message)

# ---- analytic classifiers: known crossing --------------------------------------------------------------------


@pytest.mark.parametrize("cutoff", [0.15, 0.25])
def test_band_limited_classifiers_f_rev_matches_bin_count(cutoff):
    """Flat-spectrum class templates: f_rev is where the classifier's visible bins split in half.

    A low-pass matcher (|f| <= c) crosses at the median radius of the bins in 0 < |f| <= c (≈ c / sqrt(2)), below
    its cutoff; a high-pass matcher (|f| > c) crosses at the median radius of the bins above c: above its cutoff.
    """
    size = 32
    x, y, means = template_data(band_templates(5, size), per_class=20)
    grid = {"f_mix_nyquist": FINE_GRID, "num_permutations": 2}
    low = hybrid_curve(BandTemplateClassifier(means, cutoff, "low"), x, y, **grid)
    high = hybrid_curve(BandTemplateClassifier(means, cutoff, "high"), x, y, **grid)
    expected_low = 2 * median_bin_radius(size, 0.0, cutoff)  # Nyquist units
    expected_high = 2 * median_bin_radius(size, cutoff, 1.0)
    assert low.f_rev == pytest.approx(expected_low, abs=0.04)
    assert high.f_rev == pytest.approx(expected_high, abs=0.04)
    assert low.f_rev < 2 * cutoff < high.f_rev
    # beyond its cutoff a low-pass classifier sees only the low seed; below it a high-pass one sees only the high seed
    assert bool((low.p_low[2 * cutoff + 0.02 <= FINE_GRID] == 1).all())
    assert bool((high.p_high[2 * cutoff - 0.02 >= FINE_GRID] == 1).all())
    assert low.f_rev_std < 0.02
    assert high.f_rev_std < 0.02


def test_narrowband_classifiers_f_rev_near_cutoff_and_ordered():
    """Class information only in a ring around the cutoff: low-pass f_rev just below it, high-pass just above."""
    size, cutoff, width = 32, 0.2, 0.05
    x, y, means = template_data(band_templates(5, size, cutoff - width, cutoff + width), per_class=20)
    grid = {"f_mix_nyquist": FINE_GRID, "num_permutations": 2}
    low = hybrid_curve(BandTemplateClassifier(means, cutoff, "low"), x, y, **grid)
    high = hybrid_curve(BandTemplateClassifier(means, cutoff, "high"), x, y, **grid)
    assert 2 * (cutoff - width) <= low.f_rev <= 2 * cutoff
    assert 2 * cutoff <= high.f_rev <= 2 * (cutoff + width) + 0.04
    assert low.f_rev < high.f_rev


def test_grid_ends_follow_the_dc_convention():
    """f_mix = sqrt(2) gives the low image; f_mix = 0 gives the high image with the low image's mean (DC)."""
    size = 16
    x, y, means = template_data(band_templates(4, size), per_class=5)
    full = BandTemplateClassifier(means, 1.0, "low")  # sees everything
    curve = hybrid_curve(full, x, y, f_mix_nyquist=[0.0, MAX_F_MIX], num_permutations=1)
    clean = float((full(x).argmax(1) == y).double().mean())
    assert curve.p_low[-1].item() == pytest.approx(clean)
    assert curve.p_high[0].item() == pytest.approx(clean)  # zero-mean templates: DC carries no class information
    assert curve.p_low[0].item() == 0


# ---- generic behaviour -----------------------------------------------------------------------------------------


def _template_setup(size: int = 16):
    x, y, means = template_data(band_templates(4, size), per_class=6)
    return BandTemplateClassifier(means, 0.2, "low"), x, y


def test_hybrid_curve_result_and_json():
    model, x, y = _template_setup()
    curve = hybrid_curve(model, x, y, num_permutations=3, seed=1, batch_size=7)
    assert isinstance(curve, HybridCurve)
    f = len(DEFAULT_F_MIX)
    assert curve.f_mix.tolist() == pytest.approx(list(DEFAULT_F_MIX))
    assert curve.p_low.shape == curve.p_high.shape == curve.p_other.shape == curve.confidence.shape == (f,)
    assert curve.p_low_per_permutation.shape == (3, f)
    assert curve.f_rev_per_permutation.shape == (3,)
    assert torch.allclose(curve.p_low, curve.p_low_per_permutation.mean(0))
    assert bool(((curve.p_other >= -1e-12) & (curve.p_other <= 1)).all())
    assert curve.f_mix_cycles.tolist() == pytest.approx([v / 2 for v in DEFAULT_F_MIX])
    data = to_jsonable(curve)
    assert data["frequency_unit"] == "nyquist"
    assert len(data["p_low_per_permutation"]) == 3
    # same numbers whatever the batch size; the seed changes the pairs
    again = hybrid_curve(model, x, y, num_permutations=3, seed=1, batch_size=64)
    assert torch.equal(curve.p_low_per_permutation, again.p_low_per_permutation)


def test_sharded_counts_sum_to_the_full_curve():
    """What the callback does under DDP: pair on the full set, shard positions, sum counts."""
    model, x, y = _template_setup()
    grid = check_f_mix(None)
    full = hybrid_curve(model, x, y, num_permutations=2, seed=2)
    pairs = hybrid_pairs(y, num_permutations=2, seed=2)
    counts = torch.zeros(2, grid.numel(), 3, dtype=torch.float64)
    for rank in range(3):
        pos = torch.arange(len(y))[rank::3]
        for p in range(2):
            hi = pairs[p, pos]
            counts[p] += hybrid_counts(model, x[pos], x[hi], y[pos], y[hi], grid, batch_size=5)
    sharded = hybrid_curve_from_counts(grid, counts, len(y), seed=2)
    assert torch.equal(full.p_low_per_permutation, sharded.p_low_per_permutation)
    assert torch.equal(full.p_high_per_permutation, sharded.p_high_per_permutation)
    assert torch.allclose(full.confidence, sharded.confidence, atol=1e-12)


def assert_same_curve(a: HybridCurve, b: HybridCurve) -> None:
    """Every field equal (tensors bit for bit, NaN equal to NaN)."""
    for field in dataclasses.fields(HybridCurve):
        va, vb = getattr(a, field.name), getattr(b, field.name)
        if isinstance(va, torch.Tensor):
            assert torch.equal(va.isnan(), vb.isnan()), field.name
            assert torch.equal(va.nan_to_num(), vb.nan_to_num()), field.name
        elif isinstance(va, float) and math.isnan(va):
            assert math.isnan(vb), field.name
        else:
            assert va == vb, field.name


@pytest.mark.parametrize("chunk", [5, 24])
def test_metric_matches_the_function(chunk):
    """Updates of `chunk` pairs with batch_size = chunk give exactly hybrid_curve's numbers (same batches)."""
    model, x, y = _template_setup()
    grid = [0.0, 0.1, 0.2, 0.4, 0.8, 1.2]
    expected = hybrid_curve(model, x, y, f_mix_nyquist=grid, num_permutations=3, seed=4, batch_size=chunk)
    metric = HybridCurveMetric(grid, num_permutations=3, seed=4, batch_size=chunk)
    for p, high in enumerate(hybrid_pairs(y, num_permutations=3, seed=4)):
        for pos in torch.arange(len(y)).split(chunk):
            metric.update(model, x[pos], x[high[pos]], y[pos], y[high[pos]], permutation=p)
    assert_same_curve(metric.compute(), expected)
    metric.reset()
    assert int(metric.num_pairs.sum()) == 0
    assert not metric.counts.any()


def test_metric_bad_input():
    model, x, y = _template_setup()
    metric = HybridCurveMetric(num_permutations=2)
    with pytest.raises(ValueError, match=r"permutation must be an int in \[0, 2\), got 2"):
        metric.update(model, x, x.flip(0), y, y.flip(0), permutation=2)
    metric.update(model, x[:4], x[4:8], y[:4], y[4:8], permutation=0)
    with pytest.raises(ValueError, match=r"every permutation must have the same number of pairs, got \[4, 0\]"):
        metric.compute()
    with pytest.raises(ValueError, match="num_permutations must be an int >= 1"):
        HybridCurveMetric(num_permutations=0)
    with pytest.raises(ValueError, match="f_mix_nyquist must be in"):
        HybridCurveMetric([0.0, 2.0])


def test_model_mode_restored_and_float32():
    model, x, y = _template_setup()
    model.train()
    curve64 = hybrid_curve(model, x, y, num_permutations=1)
    assert model.training
    curve32 = hybrid_curve(model.float(), x.float(), y, num_permutations=1)
    assert torch.allclose(curve64.p_low, curve32.p_low, atol=1 / len(y) + 1e-9)


def test_counts_use_make_hybrid():
    """The batched hybrids equal lowfreq.spectral.make_hybrid (the probe below sees a single hybrid)."""
    g = torch.Generator().manual_seed(0)
    lo, hi = torch.rand(3, 3, 8, 8, generator=g), torch.rand(3, 3, 8, 8, generator=g)
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(x.clone())
            return torch.zeros(x.shape[0], 2)

    hybrid_counts(Probe(), lo, hi, torch.zeros(3, dtype=torch.long), torch.ones(3, dtype=torch.long), [0.0, 0.3, 1.0])
    for f, h in zip([0.0, 0.3, 1.0], seen, strict=True):
        assert torch.equal(h, make_hybrid(lo, hi, f / 2))


# ---- bad input --------------------------------------------------------------------------------------------------


def test_bad_input_raises_clear_errors():
    model, x, y = _template_setup()
    with pytest.raises(ValueError, match=r"images must hold images in \[0, 1\]"):
        hybrid_curve(model, x * 4 - 1, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        hybrid_curve(model, x, torch.zeros_like(y))
    with pytest.raises(ValueError, match="more than half"):
        hybrid_curve(model, x, torch.tensor([0] * 20 + [1] * 4))
    with pytest.raises(ValueError, match=r"f_mix_nyquist must be in \[0.0, 1.414"):
        hybrid_curve(model, x, y, f_mix_nyquist=[0.0, 0.5, 1.5])
    with pytest.raises(ValueError, match=r"f_mix_nyquist must be in"):
        hybrid_curve(model, x, y, f_mix_nyquist=[-0.1, 0.5])
    with pytest.raises(ValueError, match="strictly increasing"):
        hybrid_curve(model, x, y, f_mix_nyquist=[0.5, 0.2])
    with pytest.raises(ValueError, match="at least 2 values"):
        hybrid_curve(model, x, y, f_mix_nyquist=[0.5])
    with pytest.raises(ValueError, match="labels must be a tensor of shape"):
        hybrid_curve(model, x, y[:-1])
    with pytest.raises(ValueError, match="labels must be a 1-D integer tensor"):
        hybrid_pairs(y.float())
    with pytest.raises(ValueError, match="num_permutations must be an int >= 1"):
        hybrid_curve(model, x, y, num_permutations=0)
    with pytest.raises(ValueError, match=r"must have shape \(B, C, H, W\)"):
        hybrid_curve(model, x[0], y)


# ---- plotting ---------------------------------------------------------------------------------------------------


def test_plots_return_figure_and_axes(tmp_path):
    model, x, y = _template_setup()
    curve = hybrid_curve(model, x, y, num_permutations=2)
    fig, ax = plot_hybrid_curve(curve, label="low-pass")
    assert isinstance(fig, Figure)
    assert ax.figure is fig
    again, ax2 = plot_hybrid_curve(curve, label="again", ax=ax)  # overlay on the same axes
    assert again is fig
    assert ax2 is ax
    assert any("f_{rev}" in t.get_text() for t in ax.get_legend().get_texts())
    fig2, _ = plot_hybrid_probabilities(curve)
    fig.savefig(tmp_path / "curve.png")
    fig2.savefig(tmp_path / "prob.pdf")


# ---- a trained pair on the embedded synthetic data ------------------------------------------------------------


def _small_cnn(width: int = 8) -> nn.Sequential:
    layers: list[nn.Module] = []
    c_in = 3
    for i, c in enumerate((width, 2 * width, 4 * width)):
        layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
        layers.append(nn.MaxPool2d(2) if i < 2 else nn.AdaptiveAvgPool2d(1))
        c_in = c
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c_in, 10))


def _train(frontend: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int = 300) -> nn.Module:
    torch.manual_seed(0)  # test-only: reproducible initialisation
    net = _small_cnn()
    with torch.no_grad():
        inputs = frontend(x)  # the front-end is fixed: apply it once to the training set
    opt = torch.optim.AdamW(net.parameters(), lr=1e-2, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=steps, pct_start=0.2)
    g = torch.Generator().manual_seed(0)
    net.train()
    for _ in range(steps):
        idx = torch.randint(0, len(y), (64,), generator=g)
        loss = F.cross_entropy(net(inputs[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return nn.Sequential(frontend, net).eval()


@pytest.mark.slow
def test_blur_model_has_lower_f_rev_than_baseline_on_synthetic_data():
    """Baseline takes the high-frequency texture shortcut (f_rev high); a sigma = 1.5 px blur model cannot."""
    from lowfreq.data import SyntheticShapesDataModule
    from lowfreq.frontends import GaussianBlur, Identity

    dm = SyntheticShapesDataModule(
        num_train=2000, num_val=10, num_test=200, num_conflict=10, image_size=32, seed=0,
        num_distractors=0, shape_contrast=0.5,
    )
    train, test = dm.generate("train"), dm.generate("test")
    curves = {}
    for name, frontend in (("baseline", Identity()), ("blur", GaussianBlur(1.5))):
        model = _train(frontend, train.x, train.y_shape)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # both must have a crossing
            curves[name] = hybrid_curve(model, test.x, test.y_shape, num_permutations=2, seed=0)
    assert curves["blur"].f_rev < curves["baseline"].f_rev - 0.2
    assert curves["blur"].f_rev < 0.4 < curves["baseline"].f_rev  # textures sit at 0.6 and 0.86 Nyquist units


def test_example_grid_shows_the_seeds_and_the_hybrids_of_make_hybrid():
    g = torch.Generator().manual_seed(0)
    x_low, x_high = torch.rand(3, 3, 16, 16, generator=g), torch.rand(3, 3, 16, 16, generator=g)
    fig, _ = plot_hybrid_examples(x_low, x_high, [0.1, 0.5], labels_low=[0, 1, 2], labels_high=[1, 2, 0],
                                  class_names=["cat", "dog", "owl"])
    axes = [ax for ax in fig.axes if ax.images]
    assert len(axes) == 3 * 4  # rows: pairs; columns: two seeds and two hybrids
    shown = [torch.from_numpy(ax.images[0].get_array().data).permute(2, 0, 1) for ax in axes]
    assert torch.equal(shown[0], x_low[0])
    assert torch.equal(shown[1], x_high[0])
    for row in range(3):
        for col, f in enumerate([0.1, 0.5]):
            expected = make_hybrid(x_low[row : row + 1], x_high[row : row + 1], f / 2)[0]  # Nyquist -> cycles/px
            assert torch.allclose(shown[4 * row + 2 + col], expected, atol=1e-6)
    assert axes[4].get_title() == "low seed\ndog"
    assert axes[2].get_title() == "$f_{mix}$ = 0.1"
