"""Learned Fourier masks on a frozen network (P004): fitting, and the analyses of the learned masks.

A mask ``M`` (H, W) multiplies the unshifted ``fft2`` of every channel of an image; the network sees
``real(ifft2(M * fft2(x)))`` ([`apply_masks`][lowfreq.analysis.masks.apply_masks]). Taking the real part applies the
Hermitian-symmetrised mask ``(M(k) + M(-k)) / 2`` (``symmetrised_mask``); the L1 penalty is on the raw
mask, as in the authors' code.

[`fit_fourier_masks`][lowfreq.analysis.masks.fit_fourier_masks] learns one mask for a whole dataset, one per class, or
one per image, with the objective of the authors' code (``train_masks.py``): per image
``exp((CE(Φ(x̃), y) - CE(Φ(x), y))²) + λ · mean(M)``, the mask initialised to ones and clamped to [0, 1] after every
Adam step, the frozen network in eval mode and untouched. Single-image masks are trained batched: every step updates the
masks of all images still training, and each image's loss is summed (not averaged), so every mask follows exactly the
path it would follow alone.

Analyses (each a pure function): [`radial_energy`][lowfreq.analysis.masks.radial_energy] and
[`angular_energy`][lowfreq.analysis.masks.angular_energy] (the authors' ``utils.energies``: shifted mask,
Frobenius-normalised, L2 norm per band), [`complementary_mask`][lowfreq.analysis.masks.complementary_mask],
``mask_differences``, [`filtered_accuracy`][lowfreq.analysis.masks.filtered_accuracy],
[`linear_separability`][lowfreq.analysis.masks.linear_separability] (scikit-learn). Frequencies of the masks are index
positions of the full (H, W) FFT grid; figures convert to cycles/pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics import Metric
from tqdm.auto import tqdm

from lowfreq.core.checks import check_choice, check_image, check_labels, check_positive_int, check_range
from lowfreq.core.device import analysis_mode, eval_mode, frozen_parameters, image_progress, model_device_dtype
from lowfreq.core.optional import require
from lowfreq.core.seeding import seeded_generator

__all__ = [
    "DEFAULT_LAMBDA",
    "FilteredAccuracyMetric",
    "FourierMaskResult",
    "MaskScope",
    "angular_energy",
    "apply_masks",
    "check_masks",
    "complementary_mask",
    "filtered_accuracy",
    "fit_fourier_masks",
    "linear_separability",
    "mask_differences",
    "mask_objective",
    "radial_energy",
    "symmetrised_mask",
]

MaskScope = Literal["dataset", "class", "image"]

DEFAULT_LAMBDA: dict[str, float] = {"dataset": 0.2, "class": 0.2, "image": 0.07}
"""P004's L1 weights: 0.2 for dataset-level masks (also used per class), 0.07 for single-image masks."""


def check_masks(masks: Any, name: str = "masks") -> None:
    """Raise unless ``masks`` is a finite float (M, H, W) or (H, W) tensor with values in [0, 1]."""
    if not isinstance(masks, Tensor) or not torch.is_floating_point(masks) or masks.ndim not in (2, 3):
        got = tuple(masks.shape) if isinstance(masks, Tensor) else type(masks).__name__
        raise ValueError(f"{name} must be a float tensor of shape (M, H, W) or (H, W), got {got}")
    if masks.numel() and not bool(torch.isfinite(masks).all()):
        raise ValueError(f"{name} must be finite, got NaN or inf values")
    if masks.numel() and (float(masks.min()) < 0.0 or float(masks.max()) > 1.0):
        raise ValueError(f"{name} must hold values in [0, 1], got [{float(masks.min()):.4g}, {float(masks.max()):.4g}]")


def apply_masks(x: Tensor, masks: Tensor) -> Tensor:
    """Filter images with Fourier masks: ``real(ifft2(M * fft2(x)))`` per channel (P004's mask layer).

    Args:
        x: (B, C, H, W) float images.
        masks: (H, W) one mask for all images, or (B, H, W) one per image; unshifted FFT layout.

    Returns:
        (B, C, H, W) filtered images, the dtype of ``x`` (computed in float32 or float64); not clipped.
    """
    check_image(x, unit_range=False, values=False)
    if masks.shape[-2:] != x.shape[-2:] or masks.ndim not in (2, 3) or (masks.ndim == 3 and len(masks) != len(x)):
        raise ValueError(
            f"masks must have shape (H, W) or (B, H, W) = {tuple(x.shape[-2:])} or {(len(x), *x.shape[-2:])}, "
            f"got {tuple(masks.shape)}"
        )
    xf = x.double() if x.dtype == torch.float64 else x.float()
    m = masks.to(xf.dtype)
    m = m[None, None] if m.ndim == 2 else m[:, None]
    return cast("Tensor", torch.fft.ifft2(torch.fft.fft2(xf) * m).real.to(x.dtype))


def symmetrised_mask(masks: Tensor) -> Tensor:
    """The effective mask ``(M(k) + M(-k mod N)) / 2`` that ``real(ifft2(M fft2(x)))`` applies to real images."""
    height, width = masks.shape[-2:]
    rows, cols = (-torch.arange(height)) % height, (-torch.arange(width)) % width
    return (masks + masks[..., rows, :][..., cols]) / 2


def complementary_mask(masks: Tensor, threshold: float = 1e-8) -> Tensor:
    """``1 - 1[M > threshold]``: keeps exactly the frequencies the mask removed (P004; the authors' 1e-8)."""
    check_masks(masks)
    return (masks <= threshold).to(masks.dtype)


@dataclass
class FourierMaskResult:
    """Result of [`fit_fourier_masks`][lowfreq.analysis.masks.fit_fourier_masks].

    Attributes:
        masks: (M, H, W) learned masks in [0, 1], unshifted FFT layout.
        keys: (M,) what each mask belongs to: 0 (dataset), the class index, or the image index.
        scope: "dataset", "class" or "image".
        lambda_l1: the L1 weight used.
        labels: (N,) the labels the objective used (the model's own predictions when none were given).
        accuracy: accuracy of the unmasked model on ``labels`` (1.0 when they are its predictions).
        masked_accuracy: accuracy on the images filtered with their learned mask.
        agreement: fraction of images whose prediction is unchanged by their mask.
        loss_history: (S,) mean objective per image at every step.
        l1_history: (S,) mean of the masks (the relative L1 norm) at every step.
        num_steps: optimiser steps taken.
        converged: (M,) whether each mask met the stopping rule before ``max_steps``.
    """

    masks: Tensor
    keys: Tensor
    scope: str
    lambda_l1: float
    labels: Tensor
    accuracy: float
    masked_accuracy: float
    agreement: float
    loss_history: Tensor
    l1_history: Tensor
    num_steps: int
    converged: Tensor


def mask_objective(
    masked_logits: Tensor, clean_ce: Tensor, labels: Tensor, masks: Tensor
) -> tuple[Tensor, Tensor]:
    """P004's per-image objective terms, as the authors' code (``train_masks.py``) computes them.

    Args:
        masked_logits: (B, K) logits of the mask-filtered images.
        clean_ce: (B,) cross-entropy of the unmasked images (the frozen network's, precomputed).
        labels: (B,) labels of the objective.
        masks: (B, H, W) the mask each image was filtered with.

    Returns:
        ``(invariance, penalty)``: (B,) ``exp((CE(Φ(x̃), y) - CE(Φ(x), y))²)`` and (B,) ``mean(M)``, the L1 norm
        relative to the all-ones start; the loss is ``invariance + λ · penalty``.
    """
    ce = F.cross_entropy(masked_logits.float(), labels, reduction="none")
    return torch.exp((ce - clean_ce) ** 2), masks.mean(dim=(-2, -1))


@torch.no_grad()
def _logits(model: nn.Module, images: Tensor, batch_size: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    return torch.cat([model(x.to(device, dtype)).float() for x in images.split(batch_size)])


def fit_fourier_masks(
    model: nn.Module,
    images: Tensor,
    labels: Tensor | None = None,
    *,
    scope: MaskScope = "dataset",
    lambda_l1: float | None = None,
    max_steps: int = 2000,
    lr: float = 1e-2,
    lr_schedule: Literal["constant", "paper_code"] = "constant",
    batch_size: int = 128,
    patience: int = 100,
    tol_l1: float = 1e-5,
    tol_invariance: float = 1e-6,
    seed: int = 0,
    progress: bool = False,
) -> FourierMaskResult:
    """Learn Fourier masks on a frozen classifier with P004's objective (as the authors' code has it).

    Args:
        model: maps (B, C, H, W) images in [0, 1] to (B, K) logits; frozen: weights, buffers and BatchNorm
            statistics are never changed (eval mode, gradients only for the masks; modes and flags restored).
        images: (N, C, H, W) float images in [0, 1] (grayscale C = 1 as in the paper, or RGB: one mask per image
            shared by its channels).
        labels: (N,) labels; None uses the model's own predictions (the authors' choice for single images).
        scope: "dataset" (one mask), "class" (one per class of the logits) or "image" (one per image).
        lambda_l1: L1 weight λ of ``λ · mean(M)``, >= 0; None = ``DEFAULT_LAMBDA`` of the scope.
        max_steps: maximum Adam steps.
        lr: Adam learning rate (the maximum of the one-cycle schedule with ``lr_schedule="paper_code"``).
        lr_schedule: "constant" (default), or "paper_code": the authors' ``OneCycleLR`` (pct_start 0.1, torch's
            other defaults) over 4,000,000 scheduled steps for single images (200 x 20,000, of which at most
            ``max_steps`` are taken, so the rate stays near ``lr / 25``: with their 0.2, about 0.008-0.009) and over
            ``max_steps`` otherwise (use ``lr=0.2`` resp. ``1e-3`` for their values).
        batch_size: images per step for "dataset" / "class" (random, seeded); for "image" every image still
            training is used at every step, in chunks of ``batch_size``.
        patience: a mask has converged after this many consecutive steps in which its mean changed by at most
            ``tol_l1`` and (scope "image") its invariance term by at most ``tol_invariance`` with the prediction
            unchanged; training stops when every mask has converged ("image": converged masks stop training).
        tol_l1: tolerance on the change of the relative L1 norm (mean of the mask) per step.
        tol_invariance: tolerance on the change of the invariance term per step (scope "image").
        seed: seed of the batch order.
        progress: show a tqdm bar over steps.

    Returns:
        A [`FourierMaskResult`][lowfreq.analysis.masks.FourierMaskResult].
    """
    check_image(images, "images")
    n, _, height, width = images.shape
    check_choice("scope", scope, ("dataset", "class", "image"))
    lam = DEFAULT_LAMBDA[scope] if lambda_l1 is None else lambda_l1
    check_range("lambda_l1", lam, 0.0, math.inf)
    check_range("lr", lr, 0.0, math.inf, low_open=True)
    check_choice("lr_schedule", lr_schedule, ("constant", "paper_code"))
    for name, value in (("max_steps", max_steps), ("batch_size", batch_size), ("patience", patience)):
        check_positive_int(name, value)
    if n == 0:
        raise ValueError("images must hold at least one image, got 0")
    device, dtype = model_device_dtype(model, images)
    with frozen_parameters(model), eval_mode(model):
        clean_logits = _logits(model, images, batch_size, device, dtype)
        num_classes = clean_logits.shape[1]
        if labels is None:
            target = clean_logits.argmax(-1)
        else:
            check_labels(labels, "labels", num_classes=num_classes, length=n)
            target = labels.to(device).long()
        clean_ce = F.cross_entropy(clean_logits, target, reduction="none")
        keys = {"dataset": torch.zeros(1, dtype=torch.long), "class": torch.arange(num_classes),
                "image": torch.arange(n)}[scope]
        mask_of = {"dataset": torch.zeros(n, dtype=torch.long, device=device), "class": target,
                   "image": torch.arange(n, device=device)}[scope]
        masks = nn.Parameter(torch.ones(len(keys), height, width, device=device))
        state = _Stopping(len(keys), patience, tol_l1, tol_invariance, device)
        optimizer = torch.optim.Adam([masks], lr=lr)
        scheduler = (
            torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=lr, total_steps=200 * 20_000 if scope == "image" else max_steps, pct_start=0.1
            )
            if lr_schedule == "paper_code"
            else None
        )
        generator = seeded_generator(seed)
        losses, l1s = [], []
        steps = 0
        for step in tqdm(range(1, max_steps + 1), desc=f"{scope} masks", disable=not progress, leave=False):
            active_images = (
                torch.nonzero(~state.converged[mask_of], as_tuple=False).flatten()
                if scope == "image"
                else torch.randperm(n, generator=generator)[:batch_size].to(device)
            )
            steps = step
            optimizer.zero_grad(set_to_none=False)
            invariance = torch.zeros(len(keys), device=device)
            prediction_changed = torch.zeros(len(keys), dtype=torch.long, device=device)
            total = 0.0
            for idx in active_images.split(batch_size):
                x = images[idx.cpu()].to(device, dtype)
                logits = model(apply_masks(x, masks[mask_of[idx]].to(dtype))).float()
                inv, penalty = mask_objective(logits, clean_ce[idx], target[idx], masks[mask_of[idx]])
                per_image = inv + lam * penalty
                # "image": sum, so each mask gets exactly its own image's gradient; else the batch mean
                loss = per_image.sum() if scope == "image" else per_image.sum() / len(active_images)
                loss.backward()
                total += float(per_image.detach().sum())
                invariance.index_add_(0, mask_of[idx], inv.detach())
                changed = logits.detach().argmax(-1) != clean_logits[idx].argmax(-1)
                prediction_changed.index_add_(0, mask_of[idx], changed.long())
            if scope == "image":
                masks.grad[state.converged] = 0.0  # type: ignore[index]
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            with torch.no_grad():
                frozen_values = masks[state.converged].clone() if scope == "image" else None
                masks.clamp_(0.0, 1.0)
                if frozen_values is not None:  # Adam's momentum must not move a converged mask
                    masks[state.converged] = frozen_values
            l1 = masks.detach().mean(dim=(1, 2))
            losses.append(total / max(len(active_images), 1))
            l1s.append(float(l1.mean()))
            state.update(l1, invariance if scope == "image" else None, prediction_changed > 0)
            if bool(state.converged.all()):
                break
        final = masks.detach().clamp(0.0, 1.0)
        masked_pred = torch.cat([
            model(apply_masks(images[idx.cpu()].to(device, dtype), final[mask_of[idx]].to(dtype))).argmax(-1)
            for idx in torch.arange(n, device=device).split(batch_size)
        ])
    clean_pred = clean_logits.argmax(-1)
    return FourierMaskResult(
        masks=final.cpu(),
        keys=keys,
        scope=scope,
        lambda_l1=float(lam),
        labels=target.cpu(),
        accuracy=float((clean_pred == target).float().mean()),
        masked_accuracy=float((masked_pred == target).float().mean()),
        agreement=float((masked_pred == clean_pred).float().mean()),
        loss_history=torch.tensor(losses, dtype=torch.float64),
        l1_history=torch.tensor(l1s, dtype=torch.float64),
        num_steps=steps,
        converged=state.converged.cpu(),
    )


class _Stopping:
    """Per-mask stopping rule: ``patience`` consecutive steps with small changes (the authors' rule)."""

    def __init__(self, num_masks: int, patience: int, tol_l1: float, tol_invariance: float, device: Any) -> None:
        self.patience, self.tol_l1, self.tol_invariance = patience, tol_l1, tol_invariance
        self.calm = torch.zeros(num_masks, dtype=torch.long, device=device)
        self.converged = torch.zeros(num_masks, dtype=torch.bool, device=device)
        self.last_l1: Tensor | None = None
        self.last_invariance: Tensor | None = None

    def update(self, l1: Tensor, invariance: Tensor | None, prediction_changed: Tensor) -> None:
        if self.last_l1 is None:
            self.last_l1, self.last_invariance = l1.clone(), invariance
            return
        calm = (l1 - self.last_l1).abs() <= self.tol_l1
        if invariance is not None and self.last_invariance is not None:
            calm &= (invariance - self.last_invariance).abs() <= self.tol_invariance
            calm &= ~prediction_changed
        self.calm = torch.where(calm, self.calm + 1, torch.zeros_like(self.calm))
        self.converged |= self.calm >= self.patience
        self.last_l1, self.last_invariance = l1.clone(), invariance


# ---- analyses of learned masks ------------------------------------------------------------------------------------


def _shifted_normalised(mask: Tensor) -> Tensor:
    check_masks(mask, "mask")
    shifted = torch.fft.fftshift(mask.double(), dim=(-2, -1))
    norm = torch.linalg.matrix_norm(shifted).clamp_min(torch.finfo(torch.float64).tiny)
    return cast("Tensor", shifted / norm[..., None, None])


def _centred_index_grid(height: int, width: int) -> tuple[Tensor, Tensor]:
    """Row offsets pointing up and column offsets to the centre ``(H // 2, W // 2)`` of the shifted grid."""
    up = -(torch.arange(height, dtype=torch.float64) - height // 2)
    right = torch.arange(width, dtype=torch.float64) - width // 2
    return up[:, None].expand(height, width), right[None, :].expand(height, width)


def _band_energy(normalised: Tensor, band: Tensor, num_bands: int) -> Tensor:
    flat = normalised.reshape(*normalised.shape[:-2], -1).square()
    out = torch.zeros(*flat.shape[:-1], num_bands, dtype=torch.float64)
    out.index_add_(-1, band.reshape(-1), flat)
    return out.sqrt()


def radial_energy(mask: Tensor, num_bands: int = 64) -> tuple[Tensor, Tensor]:
    """Energy of a mask in rings around DC (the authors' ``utils.energies``; P004 Fig 4).

    The mask is fftshifted and divided by its Frobenius norm; band b holds the bins whose Euclidean index distance
    ρ to the centre ``(H // 2, W // 2)`` satisfies ``r_b <= ρ < r_{b+1}``, edges ``linspace(0, (N / 2) √2, B + 1)``
    (the corner bin at exactly ``(N / 2) √2`` goes into the last band); the band energy is the L2 norm (not
    squared) of the normalised mask in the band, so the squares of all bands sum to 1.

    Args:
        mask: (H, W) or (M, H, W) mask in [0, 1], unshifted layout (H = W).
        num_bands: B >= 1 (P004's notebooks: 64).

    Returns:
        ``(energy, edges)``: (B,) or (M, B) float64 band energies, and the (B + 1,) edges in index units.
    """
    check_positive_int("num_bands", num_bands)
    normalised = _shifted_normalised(mask)
    height, width = mask.shape[-2:]
    if height != width:
        raise ValueError(f"mask must be square for radial bands, got {height}x{width}")
    up, right = _centred_index_grid(height, width)
    # exact band test in integers: r_b <= ρ  <=>  b² H² <= 2 ρ² B² (no rounding at bins exactly on an edge)
    bound = 2 * (up.square() + right.square()).long() * num_bands**2 // height**2
    band = torch.sqrt(bound.double()).floor().long()
    band = band - (band.square() > bound).long() + ((band + 1).square() <= bound).long()  # exact integer sqrt
    band = band.clamp(0, num_bands - 1)
    edges = torch.linspace(0.0, (height / 2) * math.sqrt(2), num_bands + 1, dtype=torch.float64)
    return _band_energy(normalised, band, num_bands), edges


def angular_energy(mask: Tensor, num_bands: int = 64) -> tuple[Tensor, Tensor]:
    """Energy of a mask in angular sectors (the authors' ``utils.energies``; P004 Fig 4).

    Sector b spans ``[360 b / B, 360 (b + 1) / B)`` degrees counter-clockwise from the +column axis with rows
    pointing up, over the full circle (the Hermitian redundancy is kept); a bin belongs to the sector of the
    ``atan2`` angle of its centre (DC to sector 0). The authors rasterise polygons instead, which differs only in
    bins on a sector boundary. Normalisation and energy as in [`radial_energy`][lowfreq.analysis.masks.radial_energy].

    Args:
        mask: (H, W) or (M, H, W) mask in [0, 1], unshifted layout.
        num_bands: B >= 1.

    Returns:
        ``(energy, edges)``: (B,) or (M, B) float64 band energies and the (B + 1,) sector edges in degrees.
    """
    check_positive_int("num_bands", num_bands)
    normalised = _shifted_normalised(mask)
    up, right = _centred_index_grid(*mask.shape[-2:])
    angle = torch.remainder(torch.atan2(up, right), 2 * math.pi)
    band = torch.floor(angle / (2 * math.pi / num_bands)).long().clamp(0, num_bands - 1)
    edges = torch.linspace(0.0, 360.0, num_bands + 1, dtype=torch.float64)
    return _band_energy(normalised, band, num_bands), edges


def mask_differences(masks: Tensor, reference: Tensor) -> tuple[Tensor, Tensor]:
    """Differences ``M_X - M_ref`` and the authors' display version (P004 Fig. 3).

    Args:
        masks: (M, H, W) masks of the compared models (e.g. blur, adversarially trained).
        reference: (H, W) mask of the reference model (e.g. the vanilla network).

    Returns:
        ``(difference, display)``: (M, H, W) raw differences in [-1, 1], and the differences jointly min-max
        normalised to [0, 1] over all M and shifted by -0.5 (the figures' colour range ±0.3 then applies).
    """
    check_masks(masks)
    check_masks(reference, "reference")
    if reference.shape != masks.shape[-2:]:
        raise ValueError(f"reference must have shape {tuple(masks.shape[-2:])}, got {tuple(reference.shape)}")
    difference = masks - reference
    lo, hi = difference.min(), difference.max()
    display = (difference - lo) / (hi - lo) - 0.5 if float(hi - lo) > 0 else torch.zeros_like(difference)
    return difference, display


def _filtered_accuracy_update(
    model: nn.Module, images: Tensor, labels: Tensor, masks: Tensor, batch_size: int, bar: Any
) -> Tensor:
    """Sums of one batch: (4,) float64, correct on clean, mask- and complement-filtered images, and the images."""
    device, dtype = model_device_dtype(model, images)
    complement = complementary_mask(masks)
    counts = torch.zeros(4, dtype=torch.float64)
    counts[3] = len(images)
    if len(images) == 0:
        return counts
    with analysis_mode(model):
        logits0 = model(images[:1].to(device, dtype))
        check_labels(labels, "labels", num_classes=logits0.shape[1], length=len(images))
        for idx in torch.arange(len(images)).split(batch_size):
            x, y = images[idx].to(device, dtype), labels[idx].to(device)
            m = masks if masks.ndim == 2 else masks[idx]
            c = complement if complement.ndim == 2 else complement[idx]
            for k, batch in enumerate((x, apply_masks(x, m.to(device)), apply_masks(x, c.to(device)))):
                counts[k] += int((model(batch).argmax(-1) == y).sum())
                bar.update(len(idx))
    return counts


def _filtered_accuracy_compute(counts: Tensor) -> dict[str, float]:
    """``{"clean", "masked", "complement"}`` from the summed counts (NaN without images)."""
    counts = counts.double().cpu()
    num = float(counts[3])
    return {key: float(counts[k]) / num if num > 0 else math.nan
            for k, key in enumerate(("clean", "masked", "complement"))}


def _check_filtered_inputs(images: Tensor, labels: Tensor, masks: Tensor, batch_size: int) -> None:
    check_image(images, "images")
    check_labels(labels, "labels", length=len(images))
    check_masks(masks)
    check_positive_int("batch_size", batch_size)
    if masks.shape[-2:] != images.shape[-2:] or (masks.ndim == 3 and len(masks) != len(images)):
        raise ValueError(f"masks must have shape {tuple(images.shape[-2:])} or {(len(images), *images.shape[-2:])}, "
                         f"got {tuple(masks.shape)}")


def filtered_accuracy(
    model: nn.Module, images: Tensor, labels: Tensor, masks: Tensor, *, batch_size: int = 256, progress: bool = False
) -> dict[str, float]:
    """Accuracy of a frozen model on the images, on mask-filtered images and on complement-filtered images.

    Args:
        model: [0, 1] images -> logits (run in eval mode, mode restored).
        images: (N, C, H, W) float images in [0, 1].
        labels: (N,) labels.
        masks: (H, W) one mask, or (N, H, W) one per image.
        batch_size: images per forward pass.
        progress: show a bar counting the images passed to the model (3 per image), with the time left.

    Returns:
        ``{"clean", "masked", "complement"}`` accuracies in [0, 1] (P004: the complement drops accuracy by ~45 %);
        NaN for N = 0.
    """
    _check_filtered_inputs(images, labels, masks, batch_size)
    with image_progress(3 * len(images), "mask-filtered accuracy", progress) as bar:
        return _filtered_accuracy_compute(_filtered_accuracy_update(model, images, labels, masks, batch_size, bar))


class FilteredAccuracyMetric(Metric):
    """Accumulate [`filtered_accuracy`][lowfreq.analysis.masks.filtered_accuracy] over batches and processes.

    Args:
        batch_size: images per forward pass.
        kwargs: ``torchmetrics.Metric`` options.
    """

    is_differentiable = False
    higher_is_better = None
    full_state_update = False
    counts: Tensor

    def __init__(self, batch_size: int = 256, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_positive_int("batch_size", batch_size)
        self.batch_size = batch_size
        self.add_state("counts", torch.zeros(4, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, model: nn.Module, images: Tensor, labels: Tensor, masks: Tensor, bar: Any = None) -> None:
        """Add a batch: (B, C, H, W) images, (B,) labels, an (H, W) mask or (B, H, W) masks; ``bar`` counts images."""
        _check_filtered_inputs(images, labels, masks, self.batch_size)
        progress = image_progress(0, "", False) if bar is None else bar
        counts = _filtered_accuracy_update(model, images, labels, masks, self.batch_size, progress)
        self.counts += counts.to(self.counts)

    def compute(self) -> dict[str, float]:
        """``{"clean", "masked", "complement"}`` over every image seen by every process."""
        return _filtered_accuracy_compute(self.counts)


def linear_separability(
    masks: Tensor, labels: Tensor, *, test_fraction: float = 0.15, seed: int = 0
) -> dict[str, float]:
    """Are single-image masks class-specific? Test accuracy of a linear classifier on them (P004 Table 3).

    A multinomial logistic regression (scikit-learn) on the flattened fftshifted masks, a seeded random split
    (85/15 as the authors), and the same with shuffled labels as the control.

    Args:
        masks: (N, H, W) masks.
        labels: (N,) class labels.
        test_fraction: share of the masks held out, in (0, 1).
        seed: seed of the split and of the label shuffle.

    Returns:
        ``{"accuracy", "shuffled_accuracy", "chance"}`` (chance = the most frequent class's share of the test set).
    """
    needed = {"extra": "masks", "purpose": "linear_separability", "package": "scikit-learn"}
    linear_model = require("sklearn.linear_model", **needed)
    model_selection = require("sklearn.model_selection", **needed)
    check_masks(masks)
    if masks.ndim != 3:
        raise ValueError(f"masks must have shape (N, H, W), got {tuple(masks.shape)}")
    check_labels(labels, "labels", length=len(masks))
    check_range("test_fraction", test_fraction, 0.0, 1.0, low_open=True, high_open=True)
    features = torch.fft.fftshift(masks.double(), dim=(-2, -1)).flatten(1).numpy()
    y = labels.numpy()
    rng = np.random.default_rng(seed)
    out = {}
    for key, target in (("accuracy", y), ("shuffled_accuracy", rng.permutation(y))):
        x_train, x_test, y_train, y_test = model_selection.train_test_split(
            features, target, test_size=test_fraction, random_state=seed
        )
        classifier = linear_model.LogisticRegression(max_iter=2000).fit(x_train, y_train)
        out[key] = float(classifier.score(x_test, y_test))
    _, counts = np.unique(y_test, return_counts=True)
    out["chance"] = float(counts.max() / counts.sum())
    return out
