"""Minimal adversarial perturbations against closed forms: a linear two-class model's minimal targeted L-inf
perturbation is ``margin / ||w_t - w_y||_1 · sign(w_t - w_y)``; white noise has f_0.5 = 1/sqrt(2π); the kernel
smoothing equals scipy's convolve2d(boundary="symm", mode="same")."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from lowfreq.analysis.adversarial import (
    DEFAULT_PGD_BUDGETS,
    AdversarialSpectrumMetric,
    derangement_targets,
    minimal_perturbations,
    perturbation_half_power,
    perturbation_spectrum,
    robust_accuracy,
    smooth_first_layer,
    success_rate,
)
from lowfreq.frontends import GaussianBlur

pytest.importorskip("foolbox")

SIZE = 16


def _linear(seed: int = 0) -> nn.Module:
    """Two-class linear model on 1 x 16 x 16 images; the bias puts the mean image near the boundary."""
    g = torch.Generator().manual_seed(seed)
    linear = nn.Linear(SIZE * SIZE, 2).double()
    with torch.no_grad():
        linear.weight.copy_(torch.randn(2, SIZE * SIZE, generator=g, dtype=torch.float64) * 0.1)
        linear.bias.copy_(-0.5 * linear.weight.sum(1))  # logits of the all-0.5 image are 0
    return nn.Sequential(nn.Flatten(), linear)


def _images(n: int = 24, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (0.5 + 0.05 * torch.randn(n, 1, SIZE, SIZE, generator=g, dtype=torch.float64)).clamp(0, 1)


def _closed_form(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Minimal targeted (target = 1 - y) L-inf perturbation of a 2-class linear model, away from the box bounds."""
    w = model[1].weight
    with torch.no_grad():
        logits = model(x)
    margin = (logits.gather(1, y[:, None]) - logits.gather(1, (1 - y)[:, None])).flatten()
    direction = (w[1 - y] - w[y])  # (N, D): increases target minus label
    eps = margin / direction.abs().sum(1)
    return eps, (eps[:, None] * direction.sign()).reshape(len(x), 1, SIZE, SIZE)


def test_linear_model_matches_the_closed_form():
    model, x = _linear(), _images()
    with torch.no_grad():
        y = model(x).argmax(-1)
    result = minimal_perturbations(model, x, y, targets=1 - y, attacks=("fmn", "pgd"), batch_size=12)
    eps_star, delta_star = _closed_form(model, x, y)
    assert result.num_failed == 0
    assert torch.equal(result.targets, 1 - y)
    ratio = result.epsilons / eps_star
    assert float(ratio.min()) >= 1 - 1e-6  # nothing beats the minimum
    assert float(ratio.median()) <= 1.02  # within 2 % of it
    # reported epsilon = L-inf norm of the returned perturbation, and the adversarial is the target class
    torch.testing.assert_close(result.epsilons, result.perturbations.flatten(1).abs().amax(1))
    assert torch.equal(model(x + result.perturbations).argmax(-1), 1 - y)
    ours = perturbation_half_power(result.perturbations, num_bootstrap=0)["f_half"]
    exact = perturbation_half_power(delta_star, num_bootstrap=0)["f_half"]
    assert ours == pytest.approx(exact, rel=0.05)
    assert set(result.attack) <= {"fmn", "pgd"}
    assert len(result.attack) == len(x)


def test_a_blur_front_end_needs_larger_and_lower_frequency_perturbations():
    """A linear template reader: a smooth class template plus high-frequency weights the blur removes. The class
    signal (and so the margin) is low-frequency, so the blur keeps it but removes the cheap high-frequency
    directions an attack would use."""
    g = torch.Generator().manual_seed(0)
    n = torch.arange(SIZE, dtype=torch.float64)
    smooth = torch.cos(2 * math.pi * n / SIZE)[:, None] * torch.cos(2 * math.pi * n / SIZE)[None, :]
    y = torch.arange(32) % 2
    x = (0.5 + 0.1 * (2 * y[:, None, None, None] - 1) * smooth
         + 0.02 * torch.randn(32, 1, SIZE, SIZE, generator=g, dtype=torch.float64)).clamp(0, 1)
    linear = nn.Linear(SIZE * SIZE, 2).double()
    with torch.no_grad():
        template = smooth.flatten() + 2.0 * torch.randn(SIZE * SIZE, generator=g, dtype=torch.float64)
        linear.weight.copy_(torch.stack([-template, template]))
        linear.bias.copy_(-0.5 * linear.weight.sum(1))
    plain = nn.Sequential(nn.Flatten(), linear)
    blurred = nn.Sequential(GaussianBlur(2.0).double(), nn.Flatten(), linear)
    out = {}
    for name, model in (("plain", plain), ("blur", blurred)):
        with torch.no_grad():
            assert torch.equal(model(x).argmax(-1), y)  # both classify the smooth signal
        result = minimal_perturbations(model, x, y, targets=1 - y, attacks=("fmn", "pgd"), batch_size=32)
        assert result.num_failed == 0
        out[name] = (float(result.epsilons.median()), perturbation_half_power(result.perturbations, num_bootstrap=0))
    assert out["blur"][0] > 1.5 * out["plain"][0]
    assert out["blur"][1]["f_half"] < out["plain"][1]["f_half"] - 0.05


def test_white_noise_perturbations_have_the_uniform_half_power_frequency():
    noise = torch.randn(200, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    out = perturbation_half_power(noise, method="exact", num_bootstrap=50)
    assert out["f_half"] == pytest.approx(1 / math.sqrt(2 * math.pi), abs=0.01)
    assert 0 < out["std"] < 0.01
    assert out["low"] <= out["f_half"] <= out["high"]
    spectrum = perturbation_spectrum(noise)
    assert spectrum.shape == (32, 32)
    assert float(spectrum[0, 0]) == 0.0


def test_targets_are_a_seeded_derangement():
    labels = torch.tensor([0, 0, 1, 2, 2, 2, 3, 1, 0, 3])
    targets = derangement_targets(labels, seed=3)
    assert not bool((targets == labels).any())
    assert sorted(targets.tolist()) == sorted(labels.tolist())  # the labels' class frequencies
    assert torch.equal(targets, derangement_targets(labels, seed=3))
    assert not torch.equal(targets, derangement_targets(labels, seed=4))
    with pytest.raises(ValueError, match="at least two classes"):
        derangement_targets(torch.zeros(5, dtype=torch.long))
    skewed = torch.tensor([0, 0, 0, 0, 1, 2])  # no derangement keeps the frequencies: uniform other classes
    drawn = derangement_targets(skewed, seed=0)
    assert not bool((drawn == skewed).any())
    assert set(drawn.tolist()) <= {0, 1, 2}


def test_deterministic_and_failures_are_counted():
    model, x = _linear(), _images(8)
    with torch.no_grad():
        y = model(x).argmax(-1)
    a = minimal_perturbations(model, x, y, seed=2, attacks=("pgd",))
    b = minimal_perturbations(model, x, y, seed=2, attacks=("pgd",))
    assert torch.equal(a.epsilons, b.epsilons)
    assert torch.equal(a.targets, b.targets)

    class Constant(nn.Module):  # always class 0: a target of 1 can never be reached
        def forward(self, x):
            return torch.stack([x.flatten(1).sum(1) * 0 + 1, x.flatten(1).sum(1) * 0], dim=1)

    zeros = torch.zeros(4, dtype=torch.long)
    failed = minimal_perturbations(Constant(), x[:4], zeros, targets=zeros + 1, pgd_budgets=(0.1,))
    assert failed.num_failed == 4
    assert bool(torch.isinf(failed.epsilons).all())
    assert failed.attack == [""] * 4
    summary = success_rate(torch.tensor([0.1, 0.2, math.inf, 0.3]), [0.15, 0.25, 1.0])
    assert summary["success_rate"] == [0.25, 0.5, 0.75]
    assert summary["num_failed"] == 1
    assert summary["median"] == pytest.approx(0.25)
    assert summary["mean"] == pytest.approx(0.2)


def test_bad_input():
    model, x = _linear(), _images(4)
    y = torch.tensor([0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"images must hold images in \[0, 1\]"):
        minimal_perturbations(model, x * 3, y)
    with pytest.raises(ValueError, match="targets must differ from labels"):
        minimal_perturbations(model, x, y, targets=y)
    with pytest.raises(ValueError, match="labels must"):
        minimal_perturbations(model, x, y[:2])
    with pytest.raises(ValueError, match=r"attacks must be one of \['fmn', 'pgd', 'bb'\], got 'cw'"):
        minimal_perturbations(model, x, y, attacks=("cw",))
    bad = x.clone()
    bad[0, 0, 0, 0] = math.nan
    with pytest.raises(ValueError, match="images must be finite"):
        minimal_perturbations(model, bad, y)
    with pytest.raises(ValueError, match="pgd_budgets must be ascending"):
        minimal_perturbations(model, x, y, pgd_budgets=(0.1, 0.05))


def test_smooth_first_layer_equals_scipy():
    signal = pytest.importorskip("scipy.signal")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 5), nn.ReLU(), nn.Conv2d(4, 2, 3))
    before = [p.clone() for p in model.parameters()]
    rho = 0.25
    smoothed = smooth_first_layer(model, rho)
    kernel = [[rho, rho, rho], [rho, 1.0, rho], [rho, rho, rho]]
    w = model[0].weight.detach().numpy()
    expected = torch.tensor([[signal.convolve2d(w[o, i], kernel, boundary="symm", mode="same")
                              for i in range(w.shape[1])] for o in range(w.shape[0])], dtype=torch.float32)
    torch.testing.assert_close(smoothed[0].weight.detach(), expected)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))  # the input is unchanged
    assert torch.equal(smoothed[2].weight, model[2].weight)  # only the first convolution
    assert torch.equal(smooth_first_layer(model, 0.0)[0].weight, model[0].weight)  # rho = 0: identity
    with pytest.raises(ValueError, match=r"must contain an nn.Conv2d"):
        smooth_first_layer(nn.Linear(2, 2), 0.1)


def test_robust_accuracy_decreases_with_the_budget():
    model, x = _linear(), _images(16)
    with torch.no_grad():
        y = model(x).argmax(-1)
    out = robust_accuracy(model, x, y, epsilons=(0.0, 0.002, 0.05))
    assert out["clean"] == 1.0
    assert out["accuracy"][0] == 1.0
    assert out["accuracy"] == sorted(out["accuracy"], reverse=True)
    assert out["accuracy"][-1] == 0.0
    fgsm = robust_accuracy(model, x, y, attack="fgsm", epsilons=(0.05,))
    assert fgsm["accuracy"] == [0.0]  # FGSM is optimal against a linear model: the L-inf ball's vertex


def test_spectrum_metric_matches_the_functions():
    model, x = _linear(), _images(20)
    with torch.no_grad():
        y = model(x).argmax(-1)
    targets = 1 - y
    metric = AdversarialSpectrumMetric((SIZE, SIZE), num_bootstrap=20)
    results = []
    for idx in (torch.arange(0, 12), torch.arange(12, 20)):
        result = minimal_perturbations(model, x[idx], y[idx], targets=targets[idx], attacks=("fmn",))
        metric.update(result, idx)
        results.append(result)
    out = metric.compute()
    delta = torch.cat([r.perturbations for r in results])
    eps = torch.cat([r.epsilons for r in results])
    ok = torch.isfinite(eps)  # FMN alone may fail on a few images: they are counted and left out of the spectrum
    torch.testing.assert_close(out.power, perturbation_spectrum(delta, ok))
    assert out.f_half == pytest.approx(perturbation_half_power(delta, ok, num_bootstrap=0)["f_half"], abs=1e-9)
    assert out.f_half_exact == pytest.approx(
        perturbation_half_power(delta, ok, method="exact", num_bootstrap=0)["f_half"], abs=1e-9)
    assert torch.equal(out.epsilons, eps)
    assert torch.equal(out.indices, torch.arange(20))
    assert torch.equal(out.targets, targets)
    assert torch.equal(out.attack == 0, ok)
    assert out.f_half_low <= out.f_half <= out.f_half_high
    assert out.summary["num_failed"] == int((~ok).sum())


def test_brendel_bethge_refines_the_pgd_candidate_to_the_closed_form():
    pytest.importorskip("numba")
    model, x = _linear(), _images(8)
    with torch.no_grad():
        y = model(x).argmax(-1)
    eps_star, _ = _closed_form(model, x, y)
    pgd = minimal_perturbations(model, x, y, targets=1 - y, attacks=("pgd",), search_steps=0)
    both = minimal_perturbations(model, x, y, targets=1 - y, attacks=("pgd", "bb"), bb_steps=200, search_steps=0)
    assert float((pgd.epsilons / eps_star).median()) > 1.05  # the budget grid alone is coarse
    assert float((both.epsilons / eps_star).median()) <= 1.02
    assert float((both.epsilons / eps_star).min()) >= 1 - 1e-6
    assert "bb" in both.attack


def test_attacks_leave_the_global_random_state_alone():
    model, x = _linear(), _images(4)
    with torch.no_grad():
        y = model(x).argmax(-1)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    minimal_perturbations(model, x, y, targets=1 - y, attacks=("fmn", "pgd"))
    robust_accuracy(model, x, y, epsilons=(0.01,))
    assert torch.equal(torch.rand(3), expected)
    first = robust_accuracy(model, x, y, epsilons=(0.003,), seed=5)
    assert robust_accuracy(model, x, y, epsilons=(0.003,), seed=5) == first  # seeded random start


def test_pgd_bisection_tightens_the_grid_budget():
    model, x = _linear(), _images(8)
    with torch.no_grad():
        y = model(x).argmax(-1)
    eps_star, _ = _closed_form(model, x, y)
    grid = minimal_perturbations(model, x, y, targets=1 - y, attacks=("pgd",), search_steps=0)
    bisected = minimal_perturbations(model, x, y, targets=1 - y, attacks=("pgd",), search_steps=6)
    assert bool((bisected.epsilons <= grid.epsilons + 1e-12).all())
    assert float((bisected.epsilons / eps_star).median()) < 1.03 < float((grid.epsilons / eps_star).median())
    assert float((bisected.epsilons / eps_star).min()) >= 1 - 1e-6


def test_extra_brendel_bethge_starts_are_seeded_and_never_worse():
    pytest.importorskip("numba")
    model, x = _linear(), _images(8)
    with torch.no_grad():
        y = model(x).argmax(-1)
    kwargs = {"targets": 1 - y, "attacks": ("bb",), "bb_steps": 50}
    one = minimal_perturbations(model, x, y, **kwargs)
    more = minimal_perturbations(model, x, y, bb_extra_starts=2, seed=3, **kwargs)
    again = minimal_perturbations(model, x, y, bb_extra_starts=2, seed=3, **kwargs)
    assert torch.equal(more.epsilons, again.epsilons)  # the extra starting images come from the seed
    assert bool((more.epsilons <= one.epsilons + 1e-12).all())  # extra runs only add candidates
    with pytest.raises(ValueError, match="bb_extra_starts must be"):
        minimal_perturbations(model, x, y, bb_extra_starts=-1, **kwargs)


def test_missing_foolbox_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "foolbox", None)  # as if not installed: `import foolbox` raises ImportError
    model = _linear()
    x = _images(2)
    with pytest.raises(ImportError, match=r"pip install 'lowfreq\[attacks\]'"):
        minimal_perturbations(model, x, torch.tensor([0, 1]), targets=torch.tensor([1, 0]))


def test_spectrum_of_only_failed_or_already_adversarial_images_is_nan_not_an_error(caplog):
    from lowfreq.analysis.adversarial import MinimalPerturbations

    metric = AdversarialSpectrumMetric((SIZE, SIZE), ("fmn", "pgd"), num_bootstrap=10)
    eps = torch.tensor([math.inf, 0.0, math.inf], dtype=torch.float64)  # two failed, one already the target
    delta = torch.zeros(3, 1, SIZE, SIZE, dtype=torch.float64)
    metric.update(MinimalPerturbations(epsilons=eps, perturbations=delta, targets=torch.tensor([1, 0, 1]),
                                       labels=torch.tensor([0, 1, 0]), attack=["", "fmn", ""], num_failed=2,
                                       attacks=("fmn", "pgd")), torch.arange(3))
    result = metric.compute()
    assert math.isnan(result.f_half)
    assert math.isnan(result.f_half_exact)
    assert math.isnan(result.f_half_std)
    assert result.summary["num_failed"] == 2
    assert result.summary["success_rate"][0] == pytest.approx(1 / 3)
    assert "f_0.5 is NaN" in caplog.text


def test_foolbox_numpy_noise_is_silenced_in_a_fresh_process():
    """torch warns once per process about non-writable numpy arrays (eagerpy inside Foolbox's loop): not shown."""
    import subprocess
    import sys

    code = (
        "import numpy as np, torch, warnings\n"
        "from torch import nn\n"
        "from lowfreq.analysis.adversarial import minimal_perturbations\n"
        "class Noisy(nn.Linear):\n"
        "    def forward(self, x):\n"
        "        frozen = np.zeros(1, dtype=np.float32); frozen.flags.writeable = False\n"
        "        return super().forward(x.flatten(1)) + torch.as_tensor(frozen)  # as eagerpy's from_numpy does\n"
        "torch.manual_seed(0); model = Noisy(12, 2); x = torch.rand(4, 3, 2, 2)\n"
        "with torch.no_grad(): y = nn.Linear.forward(model, x.flatten(1)).argmax(-1)\n"
        "warnings.simplefilter('always')\n"
        "minimal_perturbations(model, x, y, targets=1 - y, attacks=('fmn',), fmn_steps=3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "not writable" not in done.stderr


class _CountingLinear(nn.Module):
    """``_linear()`` whose target class is out of reach where ``blocked``: it counts forward passes and records
    whether each forward could build weight gradients."""

    def __init__(self, blocked: bool) -> None:
        super().__init__()
        self.inner, self.blocked = _linear(), blocked
        self.passes: list[bool] = []

    def forward(self, x):
        self.passes.append(any(p.requires_grad for p in self.parameters()) and torch.is_grad_enabled())
        logits = self.inner(x)
        return logits - torch.tensor([0.0, 1e3], dtype=logits.dtype) if self.blocked else logits


def test_the_pgd_probe_stops_an_unreachable_target_after_one_budget_and_keeps_every_other_result():
    x = _images(6)
    y = torch.zeros(6, dtype=torch.long)
    kwargs = {"targets": y + 1, "attacks": ("pgd",), "pgd_steps": 5}
    blocked_probe, blocked_grid = _CountingLinear(True), _CountingLinear(True)
    assert minimal_perturbations(blocked_probe, x, y, **kwargs).num_failed == 6
    assert minimal_perturbations(blocked_grid, x, y, pgd_probe=False, **kwargs).num_failed == 6
    # the probe costs one budget's passes (pgd_steps and Foolbox's checks), the grid pgd_steps per budget
    assert len(blocked_probe.passes) <= 2 * kwargs["pgd_steps"]
    assert len(blocked_grid.passes) >= len(DEFAULT_PGD_BUDGETS) * kwargs["pgd_steps"]
    model = _linear()
    with torch.no_grad():
        y = model(x).argmax(-1)
    probed = minimal_perturbations(model, x, y, targets=1 - y, attacks=("pgd",))
    full = minimal_perturbations(model, x, y, targets=1 - y, attacks=("pgd",), pgd_probe=False)
    assert torch.equal(probed.epsilons, full.epsilons)
    assert torch.isfinite(probed.epsilons).all()


def test_attacks_compute_input_gradients_only_and_restore_the_flags():
    model = _CountingLinear(False)
    model.inner[1].bias.requires_grad_(False)  # a user's own frozen parameter stays frozen
    x = _images(4)
    with torch.no_grad():
        y = model(x).argmax(-1)
    model.passes.clear()
    minimal_perturbations(model, x, y, targets=1 - y, attacks=("fmn", "pgd"), fmn_steps=5, pgd_steps=3)
    robust_accuracy(model, x, y, epsilons=(0.01,))
    assert model.passes
    assert not any(model.passes)  # no forward could build a weight gradient
    assert model.inner[1].weight.requires_grad
    assert not model.inner[1].bias.requires_grad
    assert model.inner[1].weight.grad is None
