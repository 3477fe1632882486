"""Analyses keep no autograd graph and hold one batch at a time: no forward with grad, peak memory flat in N.

The peak is the resident set's high-water mark (``VmHWM``) of this process, reset before each run through
``/proc/self/clear_refs`` (Linux): the growth between a run on few and on many images is what an analysis holds
per image. Before inference mode, ``hybrid_curve`` kept the graph of every hybrid batch (about 600 MiB more for
96 more images with the model below), so the bound of 48 MiB is far from both the flat case and the failure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

from lowfreq import analysis
from lowfreq.analysis.band_pass import BandPassAccuracyMetric
from lowfreq.analysis.components import ComponentAccuracyMetric
from lowfreq.analysis.corruptions import CorruptionAccuracyMetric
from lowfreq.analysis.heat_map import FourierHeatMapMetric
from lowfreq.analysis.hybrid import HybridCurveMetric
from lowfreq.mvh.decisions import predict_16

BATCH = 16
SMALL, LARGE = 32, 128
MAX_GROWTH_MIB = 48
F_MIX = (0.0, 0.1, 0.3, 1.0)


class GradRecorder(nn.Module):
    """A small CNN with large activations (64 channels at full size) that counts forwards run with grad enabled."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(
            nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, num_classes),
        )
        self.calls = self.grad_calls = 0

    def forward(self, x: Tensor) -> Tensor:
        self.calls += 1
        self.grad_calls += int(torch.is_grad_enabled())
        return self.net(x)


def _corruptions(m: nn.Module, x: Tensor, y: Tensor) -> object:
    data = {("gaussian_noise", 1): (x, y), ("contrast", 1): (1 - x, y)}
    return analysis.corruption_accuracy(m, data, clean=(x, y), batch_size=BATCH)


def _hybrid_metric(m: nn.Module, x: Tensor, y: Tensor) -> object:
    metric = HybridCurveMetric(F_MIX, num_permutations=1, batch_size=BATCH)
    metric.update(m, x, x.flip(0), y, y.flip(0))
    return metric.counts


def _component_metric(m: nn.Module, x: Tensor, y: Tensor) -> object:
    metric = ComponentAccuracyMetric(batch_size=BATCH)
    metric.update(m, x, y)
    return metric.compute()


def _band_pass_metric(m: nn.Module, x: Tensor, y: Tensor) -> object:
    metric = BandPassAccuracyMetric(2, batch_size=BATCH)
    metric.update(m, x, y)
    return metric.compute()


def _corruption_metric(m: nn.Module, x: Tensor, y: Tensor) -> object:
    metric = CorruptionAccuracyMetric(corruptions=["gaussian_noise"], severities=[1], batch_size=BATCH)
    metric.update(m, x, y)
    metric.update(m, x, y, "gaussian_noise", 1)
    return metric.compute()


def _heat_map_metric(m: nn.Module, x: Tensor, y: Tensor) -> object:
    metric = FourierHeatMapMetric(x.shape[-1], stride=12, batch_size=BATCH)  # 4 frequencies of the 24 x 24 grid
    for pos in torch.arange(len(y)).split(BATCH):
        metric.update(m, x[pos], y[pos], pos)
    return metric.compute()


class _Items(torch.utils.data.Dataset):
    def __init__(self, x: Tensor) -> None:
        self.x = x

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[Tensor, int]:
        return self.x[i], 0


NO_GRAD: dict[str, Callable[[nn.Module, Tensor, Tensor], object]] = {
    "hybrid_curve": lambda m, x, y: analysis.hybrid_curve(
        m, x, y, f_mix_nyquist=F_MIX, num_permutations=1, batch_size=BATCH
    ),
    "HybridCurveMetric": _hybrid_metric,
    "band_pass_accuracy": lambda m, x, y: analysis.band_pass_accuracy(m, x, y, num_bands=2, batch_size=BATCH),
    "BandPassAccuracyMetric": _band_pass_metric,
    "component_accuracy": lambda m, x, y: analysis.component_accuracy(m, x, y, batch_size=BATCH),
    "ComponentAccuracyMetric": _component_metric,
    "corruption_accuracy": _corruptions,
    "CorruptionAccuracyMetric": _corruption_metric,
    "cue_conflict_decisions": lambda m, x, y: analysis.cue_conflict_decisions(m, x, y, (y + 1) % 10,
                                                                              batch_size=BATCH),
    "fourier_heat_map": lambda m, x, y: analysis.fourier_heat_map(m, x, y, stride=12, batch_size=BATCH),
    "FourierHeatMapMetric": _heat_map_metric,
    "filtered_accuracy": lambda m, x, y: analysis.filtered_accuracy(m, x, y, torch.rand(x.shape[-2:]),
                                                                    batch_size=BATCH),
    "predict_16": lambda m, x, y: predict_16(m, _Items(x), batch_size=BATCH),
}
WITH_GRAD: dict[str, Callable[[nn.Module, Tensor, Tensor], object]] = {
    "minimal_perturbations": lambda m, x, y: analysis.minimal_perturbations(
        m, x, y, attacks=("fmn", "pgd"), fmn_steps=3, pgd_budgets=(1.0,), pgd_steps=2, search_steps=0,
        pgd_images="all", batch_size=BATCH
    ),
}


def _data(n: int) -> tuple[Tensor, Tensor]:
    return torch.rand(n, 3, 24, 24, generator=torch.Generator().manual_seed(0)), torch.arange(n) % 10


@pytest.mark.parametrize("name", sorted(NO_GRAD))
def test_analysis_forwards_run_without_autograd_even_when_the_caller_enables_it(name):
    model = GradRecorder(num_classes=16 if name == "predict_16" else 10)
    with torch.enable_grad():
        NO_GRAD[name](model, *_data(SMALL))
    assert model.calls > 0
    assert model.grad_calls == 0, f"{name}: {model.grad_calls} of {model.calls} forwards ran with grad enabled"


def _kib(field: str) -> float:
    return float(re.search(rf"{field}:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1))  # type: ignore[union-attr]


def _peak_growth_mib(run: Callable[[], object]) -> float:
    """Peak resident memory during ``run()`` above the resident memory before it, in MiB."""
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident size
    before = _kib("VmRSS")
    run()
    return (_kib("VmHWM") - before) / 1024


def _can_measure_peak() -> bool:
    try:
        _peak_growth_mib(lambda: None)
    except (OSError, AttributeError):
        return False
    return True


@pytest.mark.skipif(not _can_measure_peak(), reason="needs Linux's /proc/self/clear_refs to reset the peak RSS")
@pytest.mark.parametrize("name", sorted({**NO_GRAD, **WITH_GRAD}))
def test_peak_memory_of_an_analysis_does_not_grow_with_the_number_of_images(name):
    run = {**NO_GRAD, **WITH_GRAD}[name]
    model = GradRecorder(num_classes=16 if name == "predict_16" else 10)
    x, y = _data(LARGE)
    run(model, x[:SMALL], y[:SMALL])  # warm-up: allocator, lazy imports
    small = _peak_growth_mib(lambda: run(model, x[:SMALL], y[:SMALL]))
    large = _peak_growth_mib(lambda: run(model, x, y))
    assert large - small < MAX_GROWTH_MIB, (
        f"{name}: peak memory grew by {large - small:.0f} MiB from {SMALL} to {LARGE} images "
        f"({small:.0f} -> {large:.0f} MiB above the resident set)"
    )
