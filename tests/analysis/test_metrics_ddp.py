"""Every analysis Metric gives the same result with 1 and 2 processes (gloo), and the same as its pure function.

The two processes each update their shard (``[rank::2]``) of the same data; ``compute()`` syncs the sum states.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from lowfreq.analysis import (
    BandPassAccuracyMetric,
    ComponentAccuracyMetric,
    CueConflictMetric,
    FourierHeatMapMetric,
    HybridCurveMetric,
    band_pass_accuracy,
    component_accuracy,
    cue_conflict_decisions,
    fourier_heat_map,
    hybrid_curve,
    hybrid_pairs,
)
from lowfreq.mvh.decisions import StimulusDecisions
from lowfreq.mvh.labels import logits_to_16

from gloo import run_in_processes
from toy_models import template_classifier

GRID = [0.0, 0.1, 0.3, 0.6, 1.0]
BAND_EDGES = [0.0, 0.1, 0.25, 0.5]
BATCH = 8


def _setup() -> tuple[nn.Module, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A template-matching float64 classifier (5 white-noise templates) and 30 noisy images of the templates; the
    same in every process. Hybrids go from the high seed's class (f_mix = 0) to the low seed's (f_mix = 1)."""
    g = torch.Generator().manual_seed(0)
    model, x, y = template_classifier(g, num_classes=5, size=16, num_images=30, noise=0.1)
    y_texture = (y + 1 + torch.randint(0, 4, (30,), generator=g)) % 5  # != y everywhere
    logits_1000 = torch.randn(30, 1000, generator=g)
    return model, x, y, y_texture, logits_1000


def _metrics(rank: int, world: int, num_permutations: int = 2, radii: tuple[float, ...] = (2, 4)) -> dict:
    model, x, y, y_texture, logits_1000 = _setup()
    shard = torch.arange(len(y))[rank::world]
    hybrid = HybridCurveMetric(GRID, num_permutations=num_permutations, seed=3, batch_size=BATCH)
    pairs = hybrid_pairs(y, num_permutations=num_permutations, seed=3)
    for p in range(num_permutations):
        for pos in shard.split(BATCH):
            hybrid.update(model, x[pos], x[pairs[p, pos]], y[pos], y[pairs[p, pos]], permutation=p)
    components = ComponentAccuracyMetric(radii, batch_size=BATCH)
    for pos in shard.split(BATCH):
        components.update(model, x[pos], y[pos])
    cue = CueConflictMetric()
    with torch.no_grad():
        cue.update(model(x[shard]), y[shard], y_texture[shard])
    bands = BandPassAccuracyMetric(edges=BAND_EDGES, batch_size=BATCH)
    for pos in shard.split(BATCH):
        bands.update(model, x[pos], y[pos])
    decisions = StimulusDecisions(len(y))
    decisions.update(logits_1000[shard], shard)
    heat_map = FourierHeatMapMetric(16, eps=12.0, seed=3, stride=4, batch_size=BATCH)  # signs keyed by index
    for pos in shard.split(BATCH):
        heat_map.update(model, x[pos], y[pos], pos + 100)
    return {
        "hybrid": hybrid.compute(),
        "components": components.compute(),
        "cue": cue.compute(),
        "band_pass": bands.compute(),
        "decisions": decisions.compute(),
        "heat_map": heat_map.compute(),
    }


def _assert_same(a, b) -> None:
    """Two results equal field by field (tensors bit for bit, NaN equal to NaN)."""
    if isinstance(a, torch.Tensor):
        assert a.shape == b.shape
        assert torch.equal(a.isnan(), b.isnan())
        assert torch.equal(a.nan_to_num(), b.nan_to_num())
        return
    for field in dataclasses.fields(a):
        va, vb = getattr(a, field.name), getattr(b, field.name)
        if isinstance(va, torch.Tensor):
            _assert_same(va, vb)
        elif isinstance(va, float) and math.isnan(va):
            assert math.isnan(vb), field.name
        else:
            assert va == vb, field.name


def test_one_process_matches_the_functions():
    model, x, y, y_texture, logits_1000 = _setup()
    got = _metrics(0, 1)
    assert got["components"].acc == 1.0
    assert 0 < got["hybrid"].f_rev < 1
    expected = hybrid_curve(model, x, y, f_mix_nyquist=GRID, num_permutations=2, seed=3, batch_size=BATCH)
    _assert_same(got["hybrid"], expected)
    _assert_same(got["components"], component_accuracy(model, x, y, (2, 4), batch_size=BATCH))
    _assert_same(got["cue"], cue_conflict_decisions(model, x, y, y_texture))
    _assert_same(got["band_pass"], band_pass_accuracy(model, x, y, edges=BAND_EDGES, batch_size=BATCH))
    assert torch.equal(got["decisions"], logits_to_16(logits_1000).argmax(-1))
    expected_map = fourier_heat_map(model, x, y, eps=12.0, seed=3, stride=4, indices=torch.arange(30) + 100)
    _assert_same(got["heat_map"], expected_map)
    assert 0 < expected_map.mean_error < 1


def test_single_permutation_and_radius_keep_their_shapes():
    """torchmetrics squeezes 1-element tensors out of compute(); the results keep their documented shapes."""
    model, x, y, _, _ = _setup()
    got = _metrics(0, 1, num_permutations=1, radii=(4,))
    expected = hybrid_curve(model, x, y, f_mix_nyquist=GRID, num_permutations=1, seed=3, batch_size=BATCH)
    assert got["hybrid"].p_low_per_permutation.shape == (1, len(GRID))
    assert got["hybrid"].f_rev_per_permutation.shape == (1,)
    _assert_same(got["hybrid"], expected)
    assert got["components"].acc_low.shape == (1,)
    assert got["components"].radii.shape == (1,)
    _assert_same(got["components"], component_accuracy(model, x, y, (4,), batch_size=BATCH))


@pytest.mark.ddp
def test_two_processes_match_one(tmp_path: Path):
    two = run_in_processes(_metrics, tmp_path)
    one = _metrics(0, 1)
    for key in ("hybrid", "components", "cue", "heat_map", "band_pass"):
        _assert_same(two[key], one[key])
    assert torch.equal(two["decisions"], one["decisions"])
    assert bool((one["decisions"] >= 0).all())
