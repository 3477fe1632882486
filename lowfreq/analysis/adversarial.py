"""Minimal targeted L-inf adversarial perturbations (P001) and their Fourier spectra; kernel smoothing (P003).

:func:`minimal_perturbations` runs Foolbox 3 attacks on a model that maps [0, 1] images to logits
(``fb.PyTorchModel(model, bounds=(0, 1))``, no preprocessing: normalisation lives in the backbone) and keeps, per
image, the smallest successful candidate of:

* ``"fmn"``: Foolbox's fast minimum-norm attack (``LInfFMNAttack``), a minimisation attack;
* ``"pgd"``: ``LinfPGD`` turned into a minimal-budget search on an ascending budget grid (each budget only on the
  images not yet fooled), the candidate's size being its achieved L-inf norm.

Every candidate is re-checked with the model (argmax == target) and its reported epsilon is the L-inf norm of the
returned perturbation. Images where every attack fails get ``inf`` (counted, never dropped). Targets default to the
authors' seeded derangement of the labels (methods.md §5.2), stored in the result.

Spectral summaries (methods.md §5.4): :func:`perturbation_spectrum` (per-channel mean removed, DC excluded, averaged
over images and channels), :func:`perturbation_half_power` (``f_0.5`` in cycles/pixel, grid or exact, with a
bootstrap interval over images), :func:`success_rate` (the empirical CDF of the minimal epsilons).

:func:`smooth_first_layer` returns a copy of a model whose first convolution is smoothed as in P003's code
(methods.md §7.4); :func:`robust_accuracy` evaluates fixed-budget PGD / FGSM accuracy (Foolbox).

Foolbox and eagerpy are an optional extra: ``pip install 'lowfreq[attacks]'``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from lowfreq._checks import check_choice, check_image, check_labels, check_positive_int, check_range
from lowfreq._device import eval_mode, model_device_dtype
from lowfreq.seeding import seeded_generator
from lowfreq.spectral import half_power_frequency, power_spectrum

__all__ = [
    "ATTACKS",
    "MinimalPerturbations",
    "derangement_targets",
    "minimal_perturbations",
    "perturbation_half_power",
    "perturbation_spectrum",
    "robust_accuracy",
    "smooth_first_layer",
    "success_rate",
]

ATTACKS = ("fmn", "pgd")
"""Candidate generators of :func:`minimal_perturbations`."""

DEFAULT_PGD_BUDGETS: tuple[float, ...] = tuple(k / 255 for k in (0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32))
"""Ascending L-inf budgets of the PGD search (1/255 units from 0.25 to 32)."""


def _foolbox() -> Any:
    try:
        import foolbox
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError("adversarial analyses need Foolbox: pip install 'lowfreq[attacks]'") from err
    return foolbox


def derangement_targets(labels: Tensor, seed: int = 0) -> Tensor:
    """Targets as in the authors' code: a seeded random permutation of the labels with target != label everywhere.

    Colliding positions are swapped with random other positions until none collide, so the targets keep the
    labels' class frequencies. When one class holds more than half of the labels no such permutation exists; each
    target is then drawn uniformly from the other classes present.

    Raises:
        ValueError: all labels are equal (no target != label exists).
    """
    check_labels(labels, "labels")
    if labels.numel() and bool((labels == labels[0]).all()):
        raise ValueError("labels must hold at least two classes to draw targets != labels")
    g = seeded_generator(seed)
    if labels.numel() and 2 * int(torch.bincount(labels).max()) > len(labels):
        classes = torch.unique(labels)
        others = classes[None, :].expand(len(labels), -1)[classes[None, :] != labels[:, None]].reshape(len(labels), -1)
        return others[torch.arange(len(labels)), torch.randint(0, others.shape[1], (len(labels),), generator=g)]
    targets = labels[torch.randperm(len(labels), generator=g)].clone()
    for _ in range(1000):
        bad = torch.nonzero(targets == labels).flatten()
        if bad.numel() == 0:
            return targets
        partners = torch.randint(0, len(labels), (bad.numel(),), generator=g)
        for i, j in zip(bad.tolist(), partners.tolist(), strict=True):
            if targets[j] != labels[i] and targets[i] != labels[j]:
                targets[i], targets[j] = targets[j].clone(), targets[i].clone()
    raise RuntimeError("could not draw a derangement of the labels in 1000 rounds")  # pragma: no cover


@dataclass
class MinimalPerturbations:
    """Result of :func:`minimal_perturbations`.

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


def _is_target(model: nn.Module, x: Tensor, targets: Tensor) -> Tensor:
    with torch.no_grad():
        return model(x).argmax(-1) == targets


def minimal_perturbations(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    targets: Tensor | None = None,
    seed: int = 0,
    attacks: Sequence[str] = ATTACKS,
    fmn_steps: int = 100,
    pgd_budgets: Sequence[float] = DEFAULT_PGD_BUDGETS,
    pgd_steps: int = 40,
    batch_size: int = 256,
    progress: bool = False,
) -> MinimalPerturbations:
    """Smallest successful targeted L-inf perturbation per image over several Foolbox attacks.

    Args:
        model: maps (B, C, H, W) images in [0, 1] to logits; run in eval mode (restored afterwards).
        images: (N, C, H, W) float images in [0, 1].
        labels: (N,) true labels.
        targets: (N,) target classes != labels; None draws :func:`derangement_targets` from ``seed``.
        seed: seed of the targets and of the attacks' random starts.
        attacks: subset of :data:`ATTACKS`.
        fmn_steps: iterations of the fast minimum-norm attack.
        pgd_budgets: ascending L-inf budgets of the PGD search.
        pgd_steps: PGD iterations per budget (Foolbox default 40).
        batch_size: images per attack call.
        progress: show a tqdm bar over batches.

    Returns:
        A :class:`MinimalPerturbations`.
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
    for name, value in (("fmn_steps", fmn_steps), ("pgd_steps", pgd_steps), ("batch_size", batch_size)):
        check_positive_int(name, value)
    device, dtype = model_device_dtype(model, images)
    best_eps = torch.full((n,), math.inf, dtype=torch.float64)
    best_delta = torch.zeros_like(images)
    winner = [""] * n
    torch.manual_seed(seed)  # Foolbox's random starts use torch's global generator
    with eval_mode(model), torch.enable_grad():
        fmodel = fb.PyTorchModel(model, bounds=(0, 1), device=device)
        for start in tqdm(range(0, n, batch_size), desc="minimal perturbations", disable=not progress, leave=False):
            idx = torch.arange(start, min(start + batch_size, n))
            x = images[idx].to(device, dtype)
            t = targets[idx].to(device)
            for name in chosen:
                for adv in _candidates(fb, fmodel, name, x, t, fmn_steps, budgets, pgd_steps):
                    ok = _is_target(model, adv, t).cpu()  # re-check every candidate with the model
                    delta = (adv - x).detach()
                    eps = delta.flatten(1).abs().amax(1).double().cpu()
                    better = ok & (eps < best_eps[idx])
                    for k in torch.nonzero(better).flatten().tolist():
                        winner[int(idx[k])] = name
                    best_eps[idx] = torch.where(better, eps, best_eps[idx])
                    best_delta[idx[better]] = delta[better.to(device)].to(best_delta.dtype).cpu()
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
    fb: Any, fmodel: Any, name: str, x: Tensor, t: Tensor, fmn_steps: int, budgets: list[float], pgd_steps: int
) -> list[Tensor]:
    """Adversarial candidates of one attack for a batch (each is re-checked by the caller)."""
    criterion = fb.criteria.TargetedMisclassification(t)
    if name == "fmn":
        _, clipped, _ = fb.attacks.LInfFMNAttack(steps=fmn_steps)(fmodel, x, criterion, epsilons=None)
        return [clipped]
    # PGD on ascending budgets, each only on the images not yet fooled: the first success is the minimal budget
    out = x.clone()
    open_ = torch.ones(len(x), dtype=torch.bool, device=x.device)
    attack = fb.attacks.LinfPGD(steps=pgd_steps)
    for eps in budgets:
        if not bool(open_.any()):
            break
        sub = torch.nonzero(open_).flatten()
        sub_criterion = fb.criteria.TargetedMisclassification(t[sub])
        _, clipped, success = attack(fmodel, x[sub], sub_criterion, epsilons=eps)
        success = success.bool()
        out[sub[success]] = clipped[success]
        open_[sub[success]] = False
    return [out]


def perturbation_spectrum(perturbations: Tensor, valid: Tensor | None = None) -> Tensor:
    """Mean power spectrum of perturbations (methods.md §5.4), unshifted layout.

    Each channel's spatial mean is removed, the power is averaged over images and channels, and DC is set to 0.

    Args:
        perturbations: (N, C, H, W) perturbations.
        valid: (N,) bool, the images to average (e.g. ``isfinite(epsilons)``); None = all.

    Returns:
        (H, W) float64 mean power (orthonormal FFT).
    """
    check_image(perturbations, "perturbations", unit_range=False)
    delta = perturbations if valid is None else perturbations[valid]
    if len(delta) == 0:
        raise ValueError("perturbations must hold at least one (valid) perturbation")
    delta = delta.double() - delta.double().mean(dim=(-2, -1), keepdim=True)
    power = power_spectrum(delta).mean(dim=(0, 1))
    power[0, 0] = 0.0
    return power


def perturbation_half_power(
    perturbations: Tensor,
    valid: Tensor | None = None,
    *,
    method: Literal["grid", "exact"] = "grid",
    num_bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """``f_0.5`` (cycles/pixel) of the mean perturbation spectrum, with a bootstrap interval over images.

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
    delta = perturbations if valid is None else perturbations[valid]

    def f_half(d: Tensor) -> float:
        return half_power_frequency(perturbation_spectrum(d)[None, None], method=method)

    estimate = f_half(delta)
    if num_bootstrap == 0:
        return {"f_half": estimate, "std": math.nan, "low": math.nan, "high": math.nan}
    g = seeded_generator(seed)
    samples = np.array([f_half(delta[torch.randint(0, len(delta), (len(delta),), generator=g)])
                        for _ in range(num_bootstrap)])
    return {"f_half": estimate, "std": float(samples.std()), "low": float(np.percentile(samples, 2.5)),
            "high": float(np.percentile(samples, 97.5))}


def success_rate(epsilons: Tensor, budgets: Sequence[float] | Tensor) -> dict[str, Any]:
    """Success rate vs budget (the empirical CDF of the minimal epsilons) and scalar summaries (methods.md §5.3).

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
    """A copy of ``model`` whose first convolution is smoothed as in P003's code (methods.md §7.4).

    Every 2-D slice of the first ``nn.Conv2d``'s weight is convolved with ``[[ρ, ρ, ρ], [ρ, 1, ρ], [ρ, ρ, ρ]]``,
    'same' size, symmetric boundary (mirror including the edge sample), not renormalised. ``model`` is unchanged.

    Args:
        model: any module with at least one ``nn.Conv2d``.
        rho: ρ >= 0 (P003 Table 2: 0, 0.1, 0.25, 0.5, 1.0).
    """
    check_range("rho", rho, 0.0, math.inf)
    smoothed = copy.deepcopy(model)
    conv = next((m for m in smoothed.modules() if isinstance(m, nn.Conv2d)), None)
    if conv is None:
        raise ValueError(f"model must contain an nn.Conv2d to smooth, got {type(model).__name__} without one")
    kernel = torch.full((3, 3), float(rho), dtype=conv.weight.dtype, device=conv.weight.device)
    kernel[1, 1] = 1.0
    with torch.no_grad():
        w = conv.weight
        flat = w.reshape(-1, 1, *w.shape[-2:])
        # scipy's boundary="symm" for a 3 x 3 kernel: one mirrored row / column that repeats the edge sample
        padded = torch.cat([flat[..., :1, :], flat, flat[..., -1:, :]], dim=-2)
        padded = torch.cat([padded[..., :1], padded, padded[..., -1:]], dim=-1)
        out = torch.nn.functional.conv2d(padded, kernel[None, None])  # symmetric kernel: correlation = convolution
        w.copy_(out.reshape(w.shape))
    return smoothed


def robust_accuracy(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    attack: Literal["pgd", "fgsm"] = "pgd",
    epsilons: Sequence[float] = (1 / 255, 2 / 255, 4 / 255, 8 / 255),
    batch_size: int = 256,
    seed: int = 0,
) -> dict[str, Any]:
    """Accuracy under untargeted fixed-budget L-inf attacks (Foolbox ``LinfPGD`` or ``FGSM``), P003 Table 2.

    Returns:
        ``{"clean", "epsilons", "accuracy"}``: clean accuracy and the accuracy at each budget.
    """
    fb = _foolbox()
    check_image(images, "images")
    check_labels(labels, "labels", length=len(images))
    check_choice("attack", attack, ("pgd", "fgsm"))
    budgets = [float(e) for e in epsilons]
    if not budgets or any(not 0 <= e <= 1 for e in budgets):
        raise ValueError(f"epsilons must be budgets in [0, 1], got {budgets}")
    device, dtype = model_device_dtype(model, images)
    runner = fb.attacks.LinfPGD() if attack == "pgd" else fb.attacks.FGSM()
    correct = torch.zeros(len(budgets))
    clean = 0
    torch.manual_seed(seed)
    with eval_mode(model), torch.enable_grad():
        fmodel = fb.PyTorchModel(model, bounds=(0, 1), device=device)
        for idx in torch.arange(len(images)).split(batch_size):
            x, y = images[idx].to(device, dtype), labels[idx].to(device)
            clean += int(_is_target(model, x, y).sum())
            _, advs, success = runner(fmodel, x, y, epsilons=budgets)
            correct += (~success).sum(dim=1).float().cpu()
    return {"clean": clean / len(images), "epsilons": budgets, "accuracy": (correct / len(images)).tolist()}
