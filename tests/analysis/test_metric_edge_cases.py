"""Each analysis's function and Metric share one ``_update``/``_compute`` pair: they agree on edge cases (all-zero
images or perturbations, a single image, no image at all), give finite results where the data allow, and the
robustness and mask Metrics give the same result with 1 and 2 processes (gloo)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from test_metrics_ddp import _assert_same
from torch import nn

from lowfreq.analysis import (
    BandPassAccuracyMetric,
    ComponentAccuracyMetric,
    CorruptionAccuracyMetric,
    CueConflictMetric,
    FourierHeatMapMetric,
    HybridCurveMetric,
    band_pass_accuracy,
    component_accuracy,
    corruption_accuracy,
    cue_conflict_decisions,
    fourier_heat_map,
    hybrid_curve,
    hybrid_pairs,
)
from lowfreq.analysis.adversarial import (
    AdversarialSpectrumMetric,
    MinimalPerturbations,
    RobustAccuracyMetric,
    derangement_targets,
    perturbation_half_power,
    perturbation_spectrum,
    robust_accuracy,
)
from lowfreq.analysis.masks import FilteredAccuracyMetric, filtered_accuracy
from lowfreq.core.seeding import derangement, seeded_generator

from gloo import run_in_processes
from toy_models import template_classifier

SIZE = 8


def _setup(num_images: int = 10) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    return template_classifier(torch.Generator().manual_seed(0), num_classes=3, size=SIZE, num_images=num_images,
                               noise=0.05)


def _finite(values: object) -> bool:
    return all(math.isfinite(v) for v in (values if isinstance(values, list) else [values]))  # type: ignore[union-attr]


# ---- the one derangement -------------------------------------------------------------------------------------------


def test_the_derangement_keeps_the_class_counts_and_is_the_adversarial_targets():
    labels = torch.tensor([0, 0, 1, 2, 2, 2, 3, 1, 0, 3])
    out = derangement(labels, seeded_generator(3))
    assert not bool((out == labels).any())
    assert sorted(out.tolist()) == sorted(labels.tolist())
    assert torch.equal(derangement_targets(labels, seed=3), out)
    assert derangement(torch.zeros(0, dtype=torch.long), seeded_generator(0)).shape == (0,)
    with pytest.raises(ValueError, match="no class with more than half"):
        derangement(torch.tensor([0, 0, 0, 1]), seeded_generator(0))
    pairs = hybrid_pairs(labels, num_permutations=1, seed=3)  # the hybrid pairs draw the same high-seed labels
    assert torch.equal(labels[pairs[0]], derangement(labels, seeded_generator(3, 0)))


# ---- adversarial spectrum ------------------------------------------------------------------------------------------


def _spectrum_metric(delta: torch.Tensor, eps: torch.Tensor, num_bootstrap: int = 10) -> object:
    metric = AdversarialSpectrumMetric((SIZE, SIZE), ("fmn",), num_bootstrap=num_bootstrap)
    for idx in torch.arange(len(delta)).split(3):
        metric.update(MinimalPerturbations(
            epsilons=eps[idx], perturbations=delta[idx], targets=torch.zeros(len(idx), dtype=torch.long),
            labels=torch.ones(len(idx), dtype=torch.long), attack=["fmn"] * len(idx), num_failed=0,
            attacks=("fmn",)), idx)
    return metric.compute()


@pytest.mark.parametrize("case", ["random", "one image", "all zero", "some zero", "none valid"])
def test_spectrum_function_equals_metric(case, caplog):
    g = torch.Generator().manual_seed(1)
    n = 1 if case == "one image" else 7
    delta = 0.01 * torch.randn(n, 3, SIZE, SIZE, generator=g, dtype=torch.float64)
    eps = delta.flatten(1).abs().amax(1)
    if case == "all zero":
        delta, eps = torch.zeros_like(delta), torch.zeros(n, dtype=torch.float64)
    if case == "some zero":
        delta[:3], eps[:3] = 0.0, 0.0
    if case == "none valid":
        eps = torch.full((n,), math.inf, dtype=torch.float64)
    valid = torch.isfinite(eps)
    metric = _spectrum_metric(delta, eps)
    torch.testing.assert_close(metric.power, perturbation_spectrum(delta, valid))
    grid = perturbation_half_power(delta, valid, num_bootstrap=10)
    exact = perturbation_half_power(delta, valid, method="exact", num_bootstrap=0)
    for ours, theirs in ((metric.f_half, grid["f_half"]), (metric.f_half_std, grid["std"]),
                         (metric.f_half_low, grid["low"]), (metric.f_half_high, grid["high"]),
                         (metric.f_half_exact, exact["f_half"])):
        assert (math.isnan(ours) and math.isnan(theirs)) or ours == pytest.approx(theirs, abs=1e-12)
    if case in ("all zero", "none valid"):  # nothing to measure: NaN in both, with a warning, never an error
        assert math.isnan(metric.f_half)
        assert math.isnan(grid["f_half"])
        assert "f_0.5 is NaN" in caplog.text
        assert not bool(metric.power.isnan().any())
    else:
        assert _finite([metric.f_half, metric.f_half_exact, metric.f_half_std])
        assert 0 < metric.f_half < 0.71


# ---- robustness ----------------------------------------------------------------------------------------------------


def _robust_metric(model: nn.Module, x: torch.Tensor, y: torch.Tensor, indices: torch.Tensor, attack: str,
                   rank: int = 0, world: int = 1) -> dict:
    metric = RobustAccuracyMetric(attack, (0.0, 0.02, 0.2), batch_size=4, seed=5)
    shard = torch.arange(len(y))[rank::world]
    for pos in shard.split(2):
        metric.update(model, x[pos], y[pos], indices[pos])
    return metric.compute()


@pytest.mark.parametrize("attack", ["pgd", "fgsm"])
@pytest.mark.parametrize("num_images", [1, 10])
def test_robust_accuracy_function_equals_metric(attack, num_images):
    pytest.importorskip("foolbox")
    model, x, y = _setup(num_images)
    indices = torch.arange(100, 100 + num_images)
    expected = robust_accuracy(model, x, y, attack=attack, epsilons=(0.0, 0.02, 0.2), batch_size=7, seed=5,
                               indices=indices)
    assert _robust_metric(model, x, y, indices, attack) == expected  # other batches: same random starts
    assert _finite([expected["clean"], *expected["accuracy"]])
    assert expected["accuracy"][0] == expected["clean"]
    zeros = robust_accuracy(model, torch.zeros_like(x), y, attack=attack, epsilons=(0.0, 0.2), indices=indices)
    metric = RobustAccuracyMetric(attack, (0.0, 0.2))
    metric.update(model, torch.zeros_like(x), y, indices)
    assert metric.compute() == zeros
    assert _finite(zeros["accuracy"])


def test_robust_accuracy_without_images_is_nan_in_both():
    pytest.importorskip("foolbox")
    model, x, y = _setup(3)
    empty = robust_accuracy(model, x[:0], y[:0], epsilons=(0.1,))
    metric = RobustAccuracyMetric("pgd", (0.1,))
    metric.update(model, x[:0], y[:0], torch.arange(0))
    assert math.isnan(empty["clean"])
    assert math.isnan(metric.compute()["accuracy"][0])
    with pytest.raises(ValueError, match=r"indices must be a \(3,\) integer tensor"):
        robust_accuracy(model, x, y, indices=torch.arange(2))


# ---- mask-filtered accuracy ----------------------------------------------------------------------------------------


def _mask_metric(model: nn.Module, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, rank: int = 0,
                 world: int = 1) -> dict:
    metric = FilteredAccuracyMetric(batch_size=3)
    shard = torch.arange(len(y))[rank::world]
    for pos in shard.split(4):
        metric.update(model, x[pos], y[pos], mask if mask.ndim == 2 else mask[pos])
    return metric.compute()


def _low_pass(num_images: int | None = None) -> torch.Tensor:
    f = torch.fft.fftfreq(SIZE)
    mask = ((f[:, None] ** 2 + f[None, :] ** 2).sqrt() <= 0.25).double()
    return mask if num_images is None else mask.expand(num_images, SIZE, SIZE).clone()


@pytest.mark.parametrize("case", ["one mask", "per image", "one image", "zero mask", "zero images"])
def test_filtered_accuracy_function_equals_metric(case):
    model, x, y = _setup(1 if case == "one image" else 10)
    if case == "zero images":
        x = torch.zeros_like(x)
    mask = _low_pass(len(y)) if case == "per image" else _low_pass()
    if case == "zero mask":
        mask = torch.zeros_like(mask)
    expected = filtered_accuracy(model, x, y, mask, batch_size=5)
    assert _mask_metric(model, x, y, mask) == expected
    assert _finite(list(expected.values()))


def test_filtered_accuracy_without_images_is_nan_in_both():
    model, x, y = _setup(3)
    metric = FilteredAccuracyMetric()
    metric.update(model, x[:0], y[:0], _low_pass())
    got, expected = metric.compute(), filtered_accuracy(model, x[:0], y[:0], _low_pass())
    assert all(math.isnan(got[k]) and math.isnan(expected[k]) for k in ("clean", "masked", "complement"))


# ---- the counting analyses -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["one image", "zero images"])
def test_components_and_cue_conflict_function_equal_metric(case):
    model, x, y = _setup(1 if case == "one image" else 6)
    if case == "zero images":
        x = torch.zeros_like(x)
    components = ComponentAccuracyMetric((2, 3), batch_size=4)
    components.update(model, x, y)
    expected = component_accuracy(model, x, y, (2, 3), batch_size=4)
    _assert_same(components.compute(), expected)
    assert _finite([expected.acc, *expected.acc_low.tolist(), *expected.acc_high.tolist()])
    y_texture = (y + 1) % 3
    cue = CueConflictMetric()
    with torch.no_grad():
        cue.update(model(x), y, y_texture)
    _assert_same(cue.compute(), cue_conflict_decisions(model, x, y, y_texture))


@pytest.mark.parametrize("case", ["one image", "zero images", "no image"])
def test_band_pass_function_equals_metric(case):
    model, x, y = _setup(1 if case == "one image" else 6)
    if case == "zero images":
        x = torch.zeros_like(x)
    if case == "no image":
        x, y = x[:0], y[:0]
    metric = BandPassAccuracyMetric(3, batch_size=4)
    metric.update(model, x, y)
    expected = band_pass_accuracy(model, x, y, num_bands=3, batch_size=4)
    _assert_same(metric.compute(), expected)
    values = [expected.acc, expected.peak_pass_freq, *expected.acc_pass.tolist(), *expected.acc_stop.tolist()]
    if case == "no image":  # nothing to count: NaN in both, never an error
        assert expected.num_images == 0
        assert all(math.isnan(v) for v in values)
    else:
        assert _finite(values)
    if case == "zero images":  # every filtered image is zero too: one prediction everywhere
        assert expected.acc_pass.tolist() == expected.acc_stop.tolist() == [expected.acc] * 3


def test_hybrid_and_corruption_function_equal_metric_on_zero_images():
    model, x, y = _setup(6)
    x = torch.zeros_like(x)
    grid = [0.0, 0.5, 1.0]
    hybrid = HybridCurveMetric(grid, num_permutations=1, seed=0, batch_size=4)
    pairs = hybrid_pairs(y, num_permutations=1, seed=0)
    hybrid.update(model, x, x[pairs[0]], y, y[pairs[0]], permutation=0)
    with pytest.warns(RuntimeWarning, match="f_rev is NaN"):  # constant predictions: no crossing
        expected_curve = hybrid_curve(model, x, y, f_mix_nyquist=grid, num_permutations=1, seed=0, batch_size=4)
    with pytest.warns(RuntimeWarning, match="f_rev is NaN"):
        _assert_same(hybrid.compute(), expected_curve)
    corruptions = CorruptionAccuracyMetric(["gaussian_noise"], [1], batch_size=4)
    corruptions.update(model, x, y, "gaussian_noise", 1)
    corruptions.update(model, x[:1], y[:1])
    expected = corruption_accuracy(model, {("gaussian_noise", 1): (x, y)}, clean=(x[:1], y[:1]), batch_size=4)
    _assert_same(corruptions.compute(), expected)
    assert _finite(expected.mean_acc)


@pytest.mark.parametrize("case", ["one image", "zero images", "one image, one basis per pass"])
def test_heat_map_function_equals_metric(case):
    model, x, y = _setup(1 if case.startswith("one image") else 6)
    if case == "zero images":  # all-zero images: the negative half of every basis image is clipped away
        x = torch.zeros_like(x)
    batch = 1 if case.endswith("per pass") else 4
    metric = FourierHeatMapMetric(SIZE, eps=3.0, seed=1, stride=2, batch_size=batch)
    indices = torch.arange(len(y)) + 20
    for pos in torch.arange(len(y)).split(4):
        metric.update(model, x[pos], y[pos], indices[pos])
    expected = fourier_heat_map(model, x, y, eps=3.0, seed=1, stride=2, indices=indices, batch_size=7)
    _assert_same(metric.compute(), expected)
    assert _finite([expected.clean_error, expected.mean_error, expected.low_error, expected.high_error])
    assert expected.error.shape == (SIZE, SIZE)
    assert int(expected.error.isnan().sum()) == SIZE * SIZE * 3 // 4  # the odd indices of the stride-2 grid


def test_heat_map_without_images_is_nan_in_both():
    model, x, y = _setup(3)
    metric = FourierHeatMapMetric(SIZE, eps=1.0)
    metric.update(model, x[:0], y[:0], torch.arange(0))
    got, expected = metric.compute(), fourier_heat_map(model, x[:0], y[:0], eps=1.0)
    _assert_same(got, expected)
    assert math.isnan(got.clean_error)
    assert math.isnan(got.mean_error)
    assert bool(got.error.isnan().all())
    assert got.num_images == 0


# ---- 1 vs 2 processes ----------------------------------------------------------------------------------------------


def _sharded(rank: int, world: int) -> dict:
    model, x, y = _setup(11)  # 11 images: the shards differ in size
    indices = torch.arange(11) * 3
    out = {"masks": _mask_metric(model, x, y, _low_pass(), rank, world),
           "masks_per_image": _mask_metric(model, x, y, _low_pass(11), rank, world)}
    out["pgd"] = _robust_metric(model, x, y, indices, "pgd", rank, world)
    out["fgsm"] = _robust_metric(model, x, y, indices, "fgsm", rank, world)
    return out


@pytest.mark.ddp
def test_robustness_and_mask_metrics_two_processes_match_one(tmp_path: Path):
    pytest.importorskip("foolbox")
    one = _sharded(0, 1)
    assert run_in_processes(_sharded, tmp_path) == one
    model, x, y = _setup(11)
    assert one["pgd"] == robust_accuracy(model, x, y, epsilons=(0.0, 0.02, 0.2), seed=5, indices=torch.arange(11) * 3)
