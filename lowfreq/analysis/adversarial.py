"""Minimal targeted L-inf adversarial perturbations (P001) and their Fourier spectra; kernel smoothing (P003).

[`minimal_perturbations`][lowfreq.analysis.adversarial.minimal_perturbations] runs Foolbox 3 attacks on a model that
maps [0, 1] images to logits (``fb.PyTorchModel(model, bounds=(0, 1))``, no preprocessing: normalisation lives in the
backbone) and keeps, per image, the smallest successful candidate of:

* ``"fmn"``: Foolbox's fast minimum-norm attack (``LInfFMNAttack``), a minimisation attack;
* ``"bb"``: Brendel-Bethge L-inf (``LinfinityBrendelBethgeAttack``, needs numba) started from each image's best
  candidate of the attacks listed before it, or from an image of the batch the model assigns to the target;
* ``"pgd"``: ``LinfPGD`` (no random start, so every image's result is independent of the batching) turned into a
  minimal-budget search: an ascending budget grid (each budget only on the images not yet fooled), then bisection
  between the last failing and the first succeeding budget; the candidate's size is its achieved L-inf norm.

Every candidate is re-checked with the model (argmax == target) and its reported epsilon is the L-inf norm of the
returned perturbation. Images where every attack fails get ``inf`` (counted, never dropped). Targets default to a
seeded derangement of the labels ([`derangement_targets`][lowfreq.analysis.adversarial.derangement_targets]), stored
in the result.

Spectral summaries (P001 Fig 2d): [`perturbation_spectrum`][lowfreq.analysis.adversarial.perturbation_spectrum]
(per-channel mean removed, DC excluded, averaged over images and channels),
[`perturbation_half_power`][lowfreq.analysis.adversarial.perturbation_half_power] (``f_0.5`` in cycles/pixel, grid or
exact, with a bootstrap interval over images), ``success_rate`` (the empirical CDF of the minimal epsilons).

[`smooth_first_layer`][lowfreq.analysis.adversarial.smooth_first_layer] returns a copy of a model whose first
convolution is smoothed as in P003's code (its §6.3, Eq. 3);
[`robust_accuracy`][lowfreq.analysis.adversarial.robust_accuracy] evaluates fixed-budget PGD / FGSM accuracy (Foolbox).

Foolbox and eagerpy are an optional extra: ``pip install 'lowfreq[attacks]'``.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import torch
from torch import Tensor, nn
from torchmetrics import Metric

from lowfreq.core.checks import check_choice, check_image, check_indices, check_labels, check_positive_int, check_range
from lowfreq.core.device import eval_mode, frozen_parameters, image_progress, model_device_dtype
from lowfreq.core.optional import require
from lowfreq.core.seeding import derangement, seeded_generator
from lowfreq.spectral import half_power_frequency, power_spectrum, radial_frequency, radial_profile_exact

__all__ = [
    "ATTACKS",
    "DEFAULT_ATTACKS",
    "PROTOCOLS",
    "AdversarialSpectrum",
    "AdversarialSpectrumMetric",
    "MinimalPerturbations",
    "RobustAccuracyMetric",
    "compile_brendel_bethge",
    "compile_brendel_bethge_in_background",
    "derangement_targets",
    "minimal_perturbations",
    "perturbation_half_power",
    "perturbation_spectrum",
    "robust_accuracy",
    "smooth_first_layer",
    "success_rate",
]

log = logging.getLogger(__name__)

ATTACKS = ("fmn", "pgd", "bb")
"""Candidate generators of [`minimal_perturbations`][lowfreq.analysis.adversarial.minimal_perturbations] ("bb" refines
the best candidate found before it)."""

DEFAULT_ATTACKS = ("fmn", "pgd", "bb")
"""The default set: FMN, the PGD budget search where FMN failed, then 100 Brendel-Bethge steps refining the best
candidate; tighter than and far faster than the authors' BB protocol in ``benchmarks/adversarial.py``."""

PROTOCOLS: dict[str, dict[str, Any]] = {
    "default": {"attacks": DEFAULT_ATTACKS, "pgd_images": "unsolved"},
    "every-attack": {"attacks": DEFAULT_ATTACKS, "pgd_images": "all", "pgd_probe": False},
    "smoke": {"attacks": ("fmn", "pgd"), "pgd_images": "unsolved"},
}
"""Named keyword sets of [`minimal_perturbations`][lowfreq.analysis.adversarial.minimal_perturbations]. "default": its
defaults. "every-attack": the former default, the whole PGD budget grid on every image (2-5x the time of "default" in
``benchmarks/adversarial.py``, 4x on the CIFAR recipes' ResNet-18, where its candidate beat the Brendel-Bethge
refinement of FMN's on 2 of 166 images).
"smoke": FMN, and PGD where FMN failed, no Brendel-Bethge (no numba compilation; medians 1.5-30 % higher, more on
barely trained networks)."""

DEFAULT_PGD_BUDGETS: tuple[float, ...] = tuple(k / 255 for k in (0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32))
"""Ascending L-inf budgets of the PGD search (1/255 units from 0.25 to 32)."""


def _foolbox() -> Any:
    return require("foolbox", extra="attacks", purpose="the adversarial analysis")


def derangement_targets(labels: Tensor, seed: int = 0) -> Tensor:
    """Seeded targets with target != label everywhere that keep the labels' class frequencies.

    The targets are the [`derangement`][lowfreq.core.seeding.derangement] of the labels (the algorithm of the hybrid
    pairs), drawn from ``seeded_generator(seed)``. When one class holds more than half of the labels no such
    rearrangement exists; each target is then drawn uniformly from the other classes present.

    Raises:
        ValueError: all labels are equal (no target != label exists).
    """
    check_labels(labels, "labels")
    if labels.numel() and bool((labels == labels[0]).all()):
        raise ValueError("labels must hold at least two classes to draw targets != labels")
    labels = labels.cpu().long()
    g = seeded_generator(seed)
    if labels.numel() and 2 * int(torch.bincount(labels).max()) > len(labels):
        classes = torch.unique(labels)
        others = classes[None, :].expand(len(labels), -1)[classes[None, :] != labels[:, None]].reshape(len(labels), -1)
        picks = torch.randint(0, others.shape[1], (len(labels),), generator=g)
        return cast("Tensor", others[torch.arange(len(labels)), picks])
    return derangement(labels, g)


@dataclass
class MinimalPerturbations:
    """Result of [`minimal_perturbations`][lowfreq.analysis.adversarial.minimal_perturbations].

    Attributes:
        epsilons: (B,) L-inf norm of each image's smallest successful perturbation; ``inf`` where all attacks failed.
        perturbations: (B, C, H, W) the perturbations (zeros where all failed); ``images + perturbations`` is
            classified as the target.
        targets: (B,) target classes.
        labels: (B,) true labels.
        attack: per image, the attack that found the smallest perturbation ("" where all failed).
        num_failed: images where every attack failed.
        attacks: the attacks that were run.
    """

    epsilons: Tensor
    perturbations: Tensor
    targets: Tensor
    labels: Tensor
    attack: list[str]
    num_failed: int
    attacks: tuple[str, ...]


@contextlib.contextmanager
def _quiet_foolbox() -> Iterator[None]:
    """Silence torch's "NumPy array is not writable" warning raised through eagerpy inside Foolbox's attacks.

    Foolbox's Brendel-Bethge loop hands numpy arrays back to torch and never writes to them: the warning is noise.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable", category=UserWarning)
        yield


def compile_brendel_bethge() -> None:
    """Compile Foolbox's Brendel-Bethge numba solver in this process; later runs of the "bb" attack start at once.

    Numba compiles that solver on its first use in each process (about 25-35 s on 2 CPU cores; its jitclasses cannot
    be cached on disk). This runs it twice on a 4-pixel linear model, so it can be done ahead, e.g. in a thread
    while a model trains (what ``AdversarialSpectrumAnalysis`` does). Thread-safe: it sets no global state except a
    permanent filter for the "NumPy array is not writable" warning that Foolbox's loop raises through eagerpy.

    Raises:
        ImportError: foolbox or numba is missing (the message names the extra).
    """
    fb = _foolbox()
    require("numba", extra="attacks", purpose="the 'bb' attack (Foolbox's Brendel-Bethge optimiser)")
    warnings.filterwarnings("ignore", message="The given NumPy array is not writable", category=UserWarning)
    model = nn.Linear(4, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0] * 4, [-1.0] * 4]))
        model.bias.zero_()
    net = nn.Sequential(nn.Flatten(), model, _Shift()).eval()
    x = torch.full((1, 1, 2, 2), 0.6)  # class 0; the start 0.4 is class 1
    with torch.enable_grad(), torch.inference_mode(False):
        attack = fb.attacks.LinfinityBrendelBethgeAttack(steps=2)
        attack(fb.PyTorchModel(net, bounds=(0, 1)), x, fb.criteria.TargetedMisclassification(torch.tensor([1])),
               epsilons=None, starting_points=torch.full_like(x, 0.4))


def compile_brendel_bethge_in_background() -> threading.Thread:
    """[`compile_brendel_bethge`][lowfreq.analysis.adversarial.compile_brendel_bethge] in a started daemon thread.

    Join the thread before timing an attack; a failure (e.g. foolbox missing) is only logged at debug level, since
    the attack itself raises the clear error when it runs.
    """

    def compile_quietly() -> None:
        try:
            compile_brendel_bethge()
        except Exception as error:  # the attack reports it when it runs
            log.debug("Brendel-Bethge warm-up failed: %s", error)

    thread = threading.Thread(target=compile_quietly, name="lowfreq-bb-compile", daemon=True)
    thread.start()
    return thread


class _Shift(nn.Module):
    """Logits (s - 2, 2 - s) for s the pixel sum: class 0 above the all-0.5 image, class 1 below."""

    def forward(self, logits: Tensor) -> Tensor:
        return logits + torch.tensor([-2.0, 2.0], dtype=logits.dtype)


def _is_target(model: nn.Module, x: Tensor, targets: Tensor) -> Tensor:
    with torch.no_grad():
        return cast("Tensor", model(x).argmax(-1) == targets)


def minimal_perturbations(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    targets: Tensor | None = None,
    seed: int = 0,
    attacks: Sequence[str] = DEFAULT_ATTACKS,
    fmn_steps: int = 100,
    bb_steps: int = 100,
    bb_extra_starts: int = 0,
    pgd_budgets: Sequence[float] = DEFAULT_PGD_BUDGETS,
    pgd_steps: int = 40,
    search_steps: int = 5,
    pgd_images: Literal["unsolved", "all"] = "unsolved",
    pgd_probe: bool = True,
    batch_size: int = 256,
    progress: bool = False,
) -> MinimalPerturbations:
    """Smallest successful targeted L-inf perturbation per image over several Foolbox attacks.

    Args:
        model: maps (B, C, H, W) images in [0, 1] to logits; run in eval mode (restored afterwards).
        images: (N, C, H, W) float images in [0, 1].
        labels: (N,) true labels.
        targets: (N,) target classes != labels; None draws ``derangement_targets`` from ``seed``.
        seed: seed of the targets and of the extra Brendel-Bethge starting images (the attacks themselves draw no
            random numbers).
        attacks: subset of ``ATTACKS``, run in this order (put "bb" last: it refines earlier candidates).
        fmn_steps: iterations of the fast minimum-norm attack.
        bb_steps: iterations of the Brendel-Bethge attack.
        bb_extra_starts: further Brendel-Bethge runs per image, each started from a random image of the batch that
            the model assigns to the target (the authors' "several seeds"; drawn from ``seed``).
        pgd_budgets: ascending L-inf budgets of the PGD search.
        pgd_steps: PGD iterations per budget (Foolbox default 40).
        search_steps: bisection steps between the last failing and the first succeeding grid budget (0: grid only).
        pgd_images: "unsolved" (default) runs the PGD budget search only on the images that no attack before it
            fooled, "all" on every image (the former default: 2-5x the time with ``pgd_probe=False``; see
            ``PROTOCOLS``).
        pgd_probe: first attack every image of the PGD search at the largest budget, and search the grid only on
            those it fools there (an image PGD cannot fool at the largest budget costs ``pgd_steps`` passes instead
            of one per grid budget); False: the whole grid on every image (the former protocol).
        batch_size: images per attack call.
        progress: show a bar counting the attacked images, with the time left.

    Returns:
        A [`MinimalPerturbations`][lowfreq.analysis.adversarial.MinimalPerturbations].
    """
    fb = _foolbox()
    check_image(images, "images")
    n = len(images)
    check_labels(labels, "labels", length=n)
    if targets is None:
        targets = derangement_targets(labels, seed)
    check_labels(targets, "targets", length=n)
    if bool((targets == labels).any()):
        raise ValueError("targets must differ from labels everywhere (a targeted attack to the true class)")
    chosen = tuple(attacks)
    if not chosen:
        raise ValueError(f"attacks must name at least one of {list(ATTACKS)}, got []")
    for name in chosen:
        check_choice("attacks", name, ATTACKS)
    budgets = [float(b) for b in pgd_budgets]
    if "pgd" in chosen and (not budgets or budgets != sorted(budgets) or budgets[0] <= 0 or budgets[-1] > 1):
        raise ValueError(f"pgd_budgets must be ascending values in (0, 1], got {budgets}")
    for name, value in (("fmn_steps", fmn_steps), ("bb_steps", bb_steps), ("pgd_steps", pgd_steps),
                        ("batch_size", batch_size)):
        check_positive_int(name, value)
    check_positive_int("search_steps", search_steps, minimum=0)
    check_choice("pgd_images", pgd_images, ("unsolved", "all"))
    check_positive_int("bb_extra_starts", bb_extra_starts, minimum=0)
    generator = seeded_generator(seed, 1)
    device, dtype = model_device_dtype(model, images)
    winner = [""] * n
    # gradients even inside Lightning's validation (inference mode) or a user's no_grad block
    bar = image_progress(n, "minimal perturbations", progress)
    # input gradients only: no weight gradient is computed
    with eval_mode(model), frozen_parameters(model), torch.inference_mode(False), torch.enable_grad(), bar, \
            _quiet_foolbox():
        best_eps = torch.full((n,), math.inf, dtype=torch.float64)
        best_delta = torch.zeros(images.shape, dtype=images.dtype)
        fmodel = fb.PyTorchModel(model, bounds=(0, 1), device=device)
        for start in range(0, n, batch_size):
            idx = torch.arange(start, min(start + batch_size, n))
            x = images[idx].to(device, dtype).clone()  # a normal tensor, even when made under inference mode
            t = targets[idx].to(device).clone()
            for name in chosen:
                if name == "bb":
                    found = torch.isfinite(best_eps[idx]).to(device)
                    init = torch.where(found[:, None, None, None], x + best_delta[idx].to(device, dtype), x)
                    candidates = _brendel_bethge(
                        fb, fmodel, model, x, t, init, found, bb_steps, bb_extra_starts, generator
                    )
                elif name == "pgd" and pgd_images == "unsolved":  # only where no earlier attack succeeded
                    unsolved = torch.nonzero(torch.isinf(best_eps[idx])).flatten().to(device)
                    candidates = []
                    if unsolved.numel():
                        fooled = _candidates(fb, fmodel, name, x[unsolved], t[unsolved], fmn_steps, budgets,
                                             pgd_steps, search_steps, pgd_probe)[0]
                        candidates = [x.clone().index_copy_(0, unsolved, fooled)]
                else:
                    candidates = _candidates(fb, fmodel, name, x, t, fmn_steps, budgets, pgd_steps, search_steps,
                                             pgd_probe)
                for adv in candidates:
                    ok = _is_target(model, adv, t).cpu()  # re-check every candidate with the model
                    delta = (adv - x).detach()
                    eps = delta.flatten(1).abs().amax(1).double().cpu()
                    better = ok & (eps < best_eps[idx])
                    for k in torch.nonzero(better).flatten().tolist():
                        winner[int(idx[k])] = name
                    best_eps[idx] = torch.where(better, eps, best_eps[idx])
                    best_delta[idx[better]] = delta[better.to(device)].to(best_delta.dtype).cpu()
            bar.update(idx.numel())
    return MinimalPerturbations(
        epsilons=best_eps,
        perturbations=best_delta,
        targets=targets.cpu(),
        labels=labels.cpu(),
        attack=winner,
        num_failed=int(torch.isinf(best_eps).sum()),
        attacks=chosen,
    )


def _candidates(
    fb: Any,
    fmodel: Any,
    name: str,
    x: Tensor,
    t: Tensor,
    fmn_steps: int,
    budgets: list[float],
    pgd_steps: int,
    search_steps: int,
    probe: bool,
) -> list[Tensor]:
    """Adversarial candidates of one attack for a batch (each is re-checked by the caller)."""
    criterion = fb.criteria.TargetedMisclassification(t)
    if name == "fmn":
        _, clipped, _ = fb.attacks.LInfFMNAttack(steps=fmn_steps)(fmodel, x, criterion, epsilons=None)
        return [clipped]
    # PGD on ascending budgets, each only on the images not yet fooled: the first success brackets the minimal
    # budget between the previous budget (lo) and this one (hi); then bisection, the images that share a midpoint
    # attacked together (Foolbox takes one epsilon per call)
    out = x.clone()
    attack = fb.attacks.LinfPGD(steps=pgd_steps, random_start=False)  # deterministic per image, any batching
    lo = torch.zeros(len(x), dtype=torch.float64)
    hi = torch.full((len(x),), math.inf, dtype=torch.float64)

    def run(sub: Tensor, eps: float) -> Tensor:
        _, clipped, success = attack(fmodel, x[sub], fb.criteria.TargetedMisclassification(t[sub]), epsilons=eps)
        success = success.bool()
        out[sub[success]] = clipped[success]
        return cast("Tensor", success.cpu())

    if probe:  # the largest budget first: the images it cannot fool leave the search (lo = hi = inf)
        lo[~run(torch.arange(len(x), device=x.device), budgets[-1])] = math.inf
    for eps in budgets:
        open_ = torch.nonzero(torch.isinf(hi) & torch.isfinite(lo)).flatten()
        if open_.numel() == 0:
            break
        if probe and eps == budgets[-1]:  # the probe fooled them there already
            hi[open_] = eps
            break
        success = run(open_.to(x.device), eps)
        hi[open_[success]] = eps
        lo[open_[~success]] = eps
    for _ in range(search_steps):
        bracketed = torch.isfinite(hi)
        mid = (lo + hi) / 2
        for value in torch.unique(mid[bracketed]).tolist():
            group = torch.nonzero(bracketed & (mid == value)).flatten()
            success = run(group.to(x.device), float(value))
            hi[group[success]] = value
            lo[group[~success]] = value
    return [out]


def _brendel_bethge(
    fb: Any,
    fmodel: Any,
    model: nn.Module,
    x: Tensor,
    t: Tensor,
    start: Tensor,
    found: Tensor,
    steps: int,
    extra_starts: int,
    generator: torch.Generator,
) -> list[Tensor]:
    """Brendel-Bethge L-inf runs, one candidate batch per run (images without a start keep ``x``).

    One run from ``start`` where ``found`` (else from a batch image the model assigns to the target), plus
    ``extra_starts`` runs each from a random batch image assigned to the target (the authors' several seeds).
    """
    require("numba", extra="attacks", purpose="the 'bb' attack (Foolbox's Brendel-Bethge optimiser)")
    with torch.no_grad():
        predicted = model(x).argmax(-1)
    attack = fb.attacks.LinfinityBrendelBethgeAttack(steps=steps)
    runs = []
    for run in range(1 + extra_starts):
        starts, usable = (start.clone(), found.clone()) if run == 0 else (x.clone(), torch.zeros_like(found))
        for i in torch.nonzero(~usable).flatten().tolist():
            donors = torch.nonzero(predicted == t[i]).flatten().cpu()
            if donors.numel():
                pick = 0 if run == 0 else int(torch.randint(0, donors.numel(), (1,), generator=generator))
                starts[i], usable[i] = x[donors[pick]], True
        out = x.clone()
        sub = torch.nonzero(usable).flatten()
        if sub.numel():
            criterion = fb.criteria.TargetedMisclassification(t[sub])
            _, clipped, _ = attack(fmodel, x[sub], criterion, epsilons=None, starting_points=starts[sub])
            out[sub] = clipped
        runs.append(out)
    return runs


def _perturbation_spectrum_update(perturbations: Tensor, valid: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
    """Sums of one batch of perturbations, shared by the functions and ``AdversarialSpectrumMetric``.

    Returns:
        ``(power_sum, num_power, radial)``: the (H, W) float64 power (per-channel mean removed, DC 0) summed over
        the valid images and their channels, the number of (image, channel) pairs in that sum, and (B, R) each
        image's channel-mean power summed per distinct radius (NaN rows for images that are not valid).
    """
    delta = perturbations.double()
    ok = torch.ones(len(delta), dtype=torch.bool) if valid is None else valid.bool()
    ok = ok.to(delta.device)
    power = power_spectrum(delta - delta.mean(dim=(-2, -1), keepdim=True))  # (B, C, H, W)
    power[..., 0, 0] = 0.0
    height, width = delta.shape[-2:]
    inverse, counts = _radius_bins(height, width, delta.device)
    radial = torch.zeros(len(delta), counts.numel(), dtype=torch.float64, device=delta.device)
    radial.index_add_(1, inverse.flatten(), power.mean(dim=1).flatten(1))
    radial[~ok] = math.nan
    num_power = ok.sum().double() * delta.shape[1]
    return power[ok].sum(dim=(0, 1)), num_power, radial


@dataclass
class _SpectrumSummary:
    power: Tensor
    f_half: float
    f_half_exact: float
    std: float
    low: float
    high: float


def _perturbation_spectrum_compute(
    power_sum: Tensor, num_power: Tensor, radial: Tensor, *, num_bootstrap: int, seed: int, method: str = "grid"
) -> _SpectrumSummary:
    """Mean power, f_0.5 and its bootstrap from the sums of ``_perturbation_spectrum_update`` (rows in image order).

    The spectrum's f_0.5 uses the valid images with a non-zero perturbation (a zero one has no spectral shape; an
    image already classified as its target has one); without any, every f_0.5 is NaN (a logged warning). The
    bootstrap resamples those images with ``seeded_generator(seed)`` and measures ``method``'s f_0.5.
    """
    height, width = power_sum.shape
    inverse, counts = _radius_bins(height, width, "cpu")
    radial = radial.cpu()
    invalid = torch.isnan(radial).any(dim=1)
    used = radial[~invalid & (radial.nan_to_num().sum(dim=1) > 0)]
    nan = math.nan
    if len(used) == 0:
        log.warning("no image has a valid non-zero perturbation (%d not valid, %d zero): f_0.5 is NaN",
                    int(invalid.sum()), int((~invalid).sum()))
        f_grid = f_exact = nan
        samples = np.array([])
    else:
        f_grid = _half_power_of_radial(used.sum(0), inverse, counts, "grid")
        f_exact = _half_power_of_radial(used.sum(0), inverse, counts, "exact")
        g = seeded_generator(seed)
        samples = np.array([
            _half_power_of_radial(used[torch.randint(0, len(used), (len(used),), generator=g)].sum(0),
                                  inverse, counts, method)
            for _ in range(num_bootstrap)
        ])
    spread = (float(samples.std()), float(np.percentile(samples, 2.5)), float(np.percentile(samples, 97.5))) \
        if len(samples) else (nan, nan, nan)
    power = (power_sum / num_power.clamp_min(1)).cpu()
    return _SpectrumSummary(power, f_grid, f_exact, *spread)


def _check_valid(valid: Tensor | None, num_images: int) -> None:
    if valid is not None and (valid.dtype != torch.bool or valid.shape != (num_images,)):
        raise ValueError(f"valid must be a ({num_images},) bool tensor, got {valid.dtype} {tuple(valid.shape)}")


def perturbation_spectrum(perturbations: Tensor, valid: Tensor | None = None) -> Tensor:
    """Mean power spectrum of perturbations (P001 Fig 2d), unshifted layout.

    Each channel's spatial mean is removed, the power is averaged over images and channels, and DC is set to 0.
    The same map as ``AdversarialSpectrumMetric``'s ``power``.

    Args:
        perturbations: (N, C, H, W) perturbations.
        valid: (N,) bool, the images to average (e.g. ``isfinite(epsilons)``); None = all.

    Returns:
        (H, W) float64 mean power (orthonormal FFT); all zeros when no image is valid.
    """
    check_image(perturbations, "perturbations", unit_range=False)
    _check_valid(valid, len(perturbations))
    power_sum, num_power, _ = _perturbation_spectrum_update(perturbations, valid)
    return (power_sum / num_power.clamp_min(1)).cpu()


def perturbation_half_power(
    perturbations: Tensor,
    valid: Tensor | None = None,
    *,
    method: Literal["grid", "exact"] = "grid",
    num_bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """``f_0.5`` (cycles/pixel) of the mean perturbation spectrum, with a bootstrap interval over images.

    Computed as ``AdversarialSpectrumMetric`` computes it: images that are not valid or whose perturbation is zero
    carry no spectral shape and are left out; when none is left every value is NaN (a logged warning).

    Args:
        perturbations: (N, C, H, W) perturbations.
        valid: (N,) images to use; None = all.
        method: "grid" (the authors' 25-point interpolation) or "exact".
        num_bootstrap: bootstrap replicates (resampling images with replacement); 0 skips the interval.
        seed: seed of the resampling.

    Returns:
        ``{"f_half", "std", "low", "high"}``: the estimate, the bootstrap standard deviation and the 2.5 / 97.5 %
        percentiles (NaN without bootstrap).
    """
    check_choice("method", method, ("grid", "exact"))
    check_positive_int("num_bootstrap", num_bootstrap, minimum=0)
    check_image(perturbations, "perturbations", unit_range=False)
    _check_valid(valid, len(perturbations))
    out = _perturbation_spectrum_compute(*_perturbation_spectrum_update(perturbations, valid),
                                         num_bootstrap=num_bootstrap, seed=seed, method=method)
    return {"f_half": out.f_half if method == "grid" else out.f_half_exact, "std": out.std, "low": out.low,
            "high": out.high}


def success_rate(epsilons: Tensor, budgets: Sequence[float] | Tensor) -> dict[str, Any]:
    """Success rate vs budget (the empirical CDF of the minimal epsilons) and scalar summaries (P001 Fig 2b).

    Returns:
        ``{"budgets", "success_rate", "median", "mean", "std", "num_failed"}``; ``median`` is the epsilon at 50 %
        success (inf when more than half failed); mean and std are over the successful images.
    """
    eps = epsilons.double().flatten()
    grid = torch.as_tensor(budgets, dtype=torch.float64).flatten()
    finite = eps[torch.isfinite(eps)]
    return {
        "budgets": grid.tolist(),
        "success_rate": [(eps <= b).double().mean().item() for b in grid.tolist()],
        "median": float(np.median(eps.numpy())),
        "mean": float(finite.mean()) if len(finite) else math.nan,
        "std": float(finite.std(correction=0)) if len(finite) else math.nan,
        "num_failed": int((~torch.isfinite(eps)).sum()),
    }


def smooth_first_layer(model: nn.Module, rho: float) -> nn.Module:
    """A copy of ``model`` whose first convolution is smoothed as in P003's code (its §6.3, Eq. 3).

    Every 2-D slice of the first ``nn.Conv2d``'s weight is convolved with ``[[ρ, ρ, ρ], [ρ, 1, ρ], [ρ, ρ, ρ]]``,
    'same' size, symmetric boundary (mirror including the edge sample), not renormalised. ``model`` is unchanged.

    Args:
        model: any module with at least one ``nn.Conv2d``.
        rho: ρ >= 0 (P003 Table 2: 0, 0.1, 0.25, 0.5, 1.0).
    """
    check_range("rho", rho, 0.0, math.inf)
    with torch.inference_mode(False):  # normal tensors even when called during Lightning's validation
        smoothed = copy.deepcopy(model)
    conv = next((m for m in smoothed.modules() if isinstance(m, nn.Conv2d)), None)
    if conv is None:
        raise ValueError(f"model must contain an nn.Conv2d to smooth, got {type(model).__name__} without one")
    with torch.inference_mode(False), torch.no_grad():
        kernel = torch.full((3, 3), float(rho), dtype=conv.weight.dtype, device=conv.weight.device)
        kernel[1, 1] = 1.0
        w = conv.weight
        flat = w.reshape(-1, 1, *w.shape[-2:])
        # scipy's boundary="symm" for a 3 x 3 kernel: one mirrored row / column that repeats the edge sample
        padded = torch.cat([flat[..., :1, :], flat, flat[..., -1:, :]], dim=-2)
        padded = torch.cat([padded[..., :1], padded, padded[..., -1:]], dim=-1)
        out = torch.nn.functional.conv2d(padded, kernel[None, None])  # symmetric kernel: correlation = convolution
        w.copy_(out.reshape(w.shape))
    return smoothed


def _seeded_start_pgd(fb: Any, seed: int, keys: Tensor) -> Any:
    """Foolbox's ``LinfPGD`` whose random start of image i is drawn from ``seeded_generator(seed, keys[i])``.

    Each image's start depends on its key only, so the accuracy does not depend on batching or sharding.
    """
    import eagerpy as ep  # Foolbox's tensor layer

    class SeededStartPGD(fb.attacks.LinfPGD):
        def get_random_start(self, x0: Any, epsilon: float) -> Any:
            raw = x0.raw
            noise = torch.stack([torch.rand(raw.shape[1:], generator=seeded_generator(seed, int(k)), dtype=raw.dtype)
                                 for k in keys])
            return ep.astensor(raw + (2 * noise.to(raw.device) - 1) * epsilon)

    return SeededStartPGD()


def _robust_accuracy_update(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    indices: Tensor,
    attack: str,
    epsilons: list[float],
    batch_size: int,
    seed: int,
) -> Tensor:
    """Sums of one batch: (2 + E,) float64 counts, correct on clean images, correct at each budget, images."""
    fb = _foolbox()
    device, dtype = model_device_dtype(model, images)
    # normal tensors in validation too; input gradients only
    with eval_mode(model), frozen_parameters(model), torch.inference_mode(False), torch.enable_grad():
        counts = torch.zeros(2 + len(epsilons), dtype=torch.float64)
        counts[-1] = len(images)
        fmodel = fb.PyTorchModel(model, bounds=(0, 1), device=device)
        for pos in torch.arange(len(images)).split(batch_size) if len(images) else ():
            x, y = images[pos].to(device, dtype).clone(), labels[pos].to(device).clone()
            runner = _seeded_start_pgd(fb, seed, indices[pos]) if attack == "pgd" else fb.attacks.FGSM()
            counts[0] += int(_is_target(model, x, y).sum())
            _, _, success = runner(fmodel, x, y, epsilons=epsilons)
            counts[1:-1] += (~success).sum(dim=1).double().cpu()
    return counts


def _robust_accuracy_compute(counts: Tensor, epsilons: list[float]) -> dict[str, Any]:
    """``{"clean", "epsilons", "accuracy"}`` from the summed counts (NaN accuracies without images)."""
    counts = counts.double().cpu()
    fraction = counts[:-1] / counts[-1] if counts[-1] > 0 else torch.full((len(counts) - 1,), math.nan)
    return {"clean": float(fraction[0]), "epsilons": list(epsilons), "accuracy": fraction[1:].tolist()}


def _check_robust_options(attack: str, epsilons: Sequence[float], batch_size: int, seed: int) -> list[float]:
    check_choice("attack", attack, ("pgd", "fgsm"))
    budgets = [float(e) for e in epsilons]
    if not budgets or any(not 0 <= e <= 1 for e in budgets):
        raise ValueError(f"epsilons must be budgets in [0, 1], got {budgets}")
    check_positive_int("batch_size", batch_size)
    check_positive_int("seed", seed, minimum=0)
    return budgets


def robust_accuracy(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    attack: Literal["pgd", "fgsm"] = "pgd",
    epsilons: Sequence[float] = (1 / 255, 2 / 255, 4 / 255, 8 / 255),
    batch_size: int = 256,
    seed: int = 0,
    indices: Tensor | None = None,
) -> dict[str, Any]:
    """Accuracy under untargeted fixed-budget L-inf attacks (Foolbox ``LinfPGD`` or ``FGSM``), P003 Table 2.

    Args:
        model: maps (B, C, H, W) images in [0, 1] to logits (eval mode during, restored after).
        images: (N, C, H, W) float images in [0, 1].
        labels: (N,) labels.
        attack: "pgd" (Foolbox defaults: 40 steps, random start) or "fgsm".
        epsilons: L-inf budgets in [0, 1].
        batch_size: images per attack call.
        seed: seed of PGD's random start; image i's start is drawn from ``seeded_generator(seed, indices[i])``
            (the global random state is untouched, and the result does not depend on ``batch_size``).
        indices: (N,) keys of the images' random starts, e.g. their dataset indices; None = 0..N-1.

    Returns:
        ``{"clean", "epsilons", "accuracy"}``: clean accuracy and the accuracy at each budget (NaN for N = 0).
    """
    check_image(images, "images")
    check_labels(labels, "labels", length=len(images))
    budgets = _check_robust_options(attack, epsilons, batch_size, seed)
    keys = check_indices(indices, len(images))
    return _robust_accuracy_compute(
        _robust_accuracy_update(model, images, labels, keys, attack, budgets, batch_size, seed), budgets
    )


class RobustAccuracyMetric(Metric):
    """Accumulate [`robust_accuracy`][lowfreq.analysis.adversarial.robust_accuracy] over batches and processes.

    The counts are sum states, so any sharding of the images gives the function's result on all of them when
    every image keeps its index (the key of its PGD random start).

    Args:
        attack: "pgd" or "fgsm".
        epsilons: L-inf budgets in [0, 1].
        batch_size: images per attack call.
        seed: seed of PGD's random start.
        kwargs: ``torchmetrics.Metric`` options.
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False
    counts: Tensor

    def __init__(
        self,
        attack: Literal["pgd", "fgsm"] = "pgd",
        epsilons: Sequence[float] = (1 / 255, 2 / 255, 4 / 255, 8 / 255),
        *,
        batch_size: int = 256,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.epsilons = _check_robust_options(attack, epsilons, batch_size, seed)
        self.attack, self.batch_size, self.seed = attack, batch_size, seed
        self.add_state("counts", torch.zeros(2 + len(self.epsilons), dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, model: nn.Module, images: Tensor, labels: Tensor, indices: Tensor) -> None:
        """Attack a batch; ``indices`` (B,) are the images' dataset indices."""
        check_image(images, "images")
        check_labels(labels, "labels", length=len(images))
        keys = check_indices(indices, len(images))
        counts = _robust_accuracy_update(model, images, labels, keys, self.attack, self.epsilons, self.batch_size,
                                         self.seed)
        self.counts += counts.to(self.counts)

    def compute(self) -> dict[str, Any]:
        """``{"clean", "epsilons", "accuracy"}`` over every image seen by every process."""
        return _robust_accuracy_compute(self.counts, self.epsilons)


def _radius_bins(height: int, width: int, device: Any) -> tuple[Tensor, Tensor]:
    """Index of each FFT bin's distinct radius, and the number of bins per radius."""
    _, inverse = torch.unique(radial_frequency(height, width).to(device), return_inverse=True)
    return inverse, torch.bincount(inverse.flatten())


def _half_power_of_radial(radial: Tensor, inverse: Tensor, counts: Tensor, method: str) -> float:
    """f_0.5 of a spectrum known by its power summed per distinct radius (all f_0.5 methods depend on no more)."""
    return half_power_frequency((radial / counts)[inverse][None, None], method=method)


@dataclass
class AdversarialSpectrum:
    """Result of ``AdversarialSpectrumMetric``: the minimal perturbations of many images, summarised.

    Attributes:
        power: (H, W) mean perturbation power (per-channel mean removed, DC 0, averaged over images and channels).
        f_half: f_0.5 in cycles/pixel (the authors' 25-point grid interpolation).
        f_half_exact: f_0.5 from the exact cumulative profile.
        f_half_std, f_half_low, f_half_high: bootstrap std and 2.5 / 97.5 % percentiles of the grid f_0.5.
        indices: (N,) dataset index of every image, sorted.
        epsilons: (N,) minimal epsilons (inf where every attack failed), in ``indices`` order.
        targets: (N,) targets, in ``indices`` order.
        attack: (N,) index into ``attacks`` of the winning attack, -1 where all failed.
        attacks: the attack names.
        summary: ``success_rate`` on the budgets k/255, k = 0..16 (success_rate, median, mean, std, num_failed).
    """

    power: Tensor
    f_half: float
    f_half_exact: float
    f_half_std: float
    f_half_low: float
    f_half_high: float
    indices: Tensor
    epsilons: Tensor
    targets: Tensor
    attack: Tensor
    attacks: tuple[str, ...]
    summary: dict[str, Any]

    @property
    def profile(self) -> dict[str, Tensor]:
        """Cumulative radial power fraction of ``power``: ``{"frequency" (cycles/pixel), "fraction_below"}``."""
        frequency, fraction = radial_profile_exact(self.power)
        return {"frequency": frequency, "fraction_below": fraction}


class AdversarialSpectrumMetric(Metric):
    """Accumulate ``MinimalPerturbations`` of image batches (and processes) into an ``AdversarialSpectrum``.

    Per image it keeps the epsilon, target, winning attack and the perturbation's power summed per distinct radius
    (enough for every f_0.5 and its bootstrap over images, and far smaller than the perturbations); the (H, W)
    power map is a sum state. ``compute()`` gathers all processes.

    Args:
        image_size: (H, W) of the images.
        attacks: the attack names of the results (their order numbers the ``attack`` field).
        num_bootstrap: bootstrap replicates of f_0.5 over images (0 skips).
        seed: seed of the bootstrap.
        kwargs: ``torchmetrics.Metric`` options.
    """

    is_differentiable = False
    higher_is_better = None
    full_state_update = False
    power_sum: Tensor
    num_power: Tensor
    indices: Any  # "cat" states: lists of batch tensors, one tensor after a sync
    epsilons: Any
    targets: Any
    attack: Any
    radial: Any

    def __init__(
        self,
        image_size: tuple[int, int],
        attacks: Sequence[str] = ATTACKS,
        *,
        num_bootstrap: int = 1000,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        height, width = image_size
        check_positive_int("image_size[0]", height)
        check_positive_int("image_size[1]", width)
        check_positive_int("num_bootstrap", num_bootstrap, minimum=0)
        self.image_size, self.attacks = (height, width), tuple(attacks)
        self.num_bootstrap, self.seed = num_bootstrap, seed
        self.add_state("power_sum", torch.zeros(height, width, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("num_power", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")
        for name in ("indices", "epsilons", "targets", "attack", "radial"):
            self.add_state(name, [], dist_reduce_fx="cat")

    def update(self, result: MinimalPerturbations, indices: Tensor) -> None:
        """Add a batch's result; ``indices`` (B,) are the images' dataset indices."""
        delta = result.perturbations.to(self.power_sum.device)
        if tuple(delta.shape[-2:]) != self.image_size or indices.shape != (len(delta),):
            raise ValueError(
                f"result must hold (B, C, {self.image_size[0]}, {self.image_size[1]}) perturbations and indices (B,), "
                f"got {tuple(delta.shape)} and {tuple(indices.shape)}"
            )
        valid = torch.isfinite(result.epsilons)
        power_sum, num_power, radial = _perturbation_spectrum_update(delta, valid)
        self.power_sum += power_sum
        self.num_power += num_power
        names = {name: k for k, name in enumerate(self.attacks)}
        self.indices.append(indices.to(delta.device).long())
        self.epsilons.append(result.epsilons.to(delta.device).double())
        self.targets.append(result.targets.to(delta.device).long())
        self.attack.append(torch.tensor([names.get(a, -1) for a in result.attack], device=delta.device))
        self.radial.append(radial)

    def compute(self) -> AdversarialSpectrum:
        """The summary over every image seen by every process (f_0.5 NaN without a non-zero perturbation)."""
        def cat(state: Any) -> Tensor:
            return torch.cat(state) if isinstance(state, list) else state

        order = torch.argsort(cat(self.indices))
        indices, epsilons = cat(self.indices)[order].cpu(), cat(self.epsilons)[order].cpu()
        out = _perturbation_spectrum_compute(self.power_sum, self.num_power, cat(self.radial)[order],
                                             num_bootstrap=self.num_bootstrap, seed=self.seed)
        return AdversarialSpectrum(
            power=out.power,
            f_half=out.f_half,
            f_half_exact=out.f_half_exact,
            f_half_std=out.std,
            f_half_low=out.low,
            f_half_high=out.high,
            indices=indices,
            epsilons=epsilons,
            targets=cat(self.targets)[order].cpu(),
            attack=cat(self.attack)[order].cpu(),
            attacks=self.attacks,
            summary=success_rate(epsilons, [k / 255 for k in range(17)]),
        )
