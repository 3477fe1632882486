"""Hybrid images and the reversal frequency f_rev (P001 Fig 3, Fig 5, Fig 6b; P002's third class).

A hybrid takes the frequencies |f| <= f_mix of a *low* seed image and the rest of a *high* seed image of another
class ([`lowfreq.spectral.make_hybrid`][lowfreq.spectral.make_hybrid]; computed here with each seed batch transformed
once for all f_mix). Over a grid of f_mix, ``p_low`` / ``p_high`` are the fractions of hybrids classified as the low /
high seed's class, ``p_other = 1 - p_low - p_high`` the "third class" rate, and ``f_rev`` the mixing frequency where
``p_low - p_high`` changes sign: a lower f_rev means a stronger preference for low frequencies.

Units and conventions:

* **f_mix and f_rev are in Nyquist units** everywhere in this module, as P001 quotes them: 1 = 0.5 cycles/pixel,
  so ``f_mix = alpha / 100`` for the authors' alpha grid. Valid values are [0, sqrt(2)]; sqrt(2) (the spectrum's
  corners, sqrt(2)/2 cycles/pixel) makes the hybrid the low image. Convert with
  [`lowfreq.spectral.nyquist_to_cycles`][lowfreq.spectral.nyquist_to_cycles] /
  [`cycles_to_nyquist`][lowfreq.spectral.cycles_to_nyquist].
* **DC**: the mask is inclusive (``|f| <= f_mix``), so each channel's mean (the DC bin) always comes from the low
  seed, even at ``f_mix = 0``; at ``f_mix = 1`` the corners ``0.5 < |f| <= 0.707`` cycles/pixel (about 21.5 % of
  the plane) still come from the high seed. Hybrids are clipped to [0, 1].
* **Pairing** (P001's "randomly permuted datasets", paired as in its code): every image is the low seed exactly once
  and the high seed exactly once per permutation, and the two seeds always have different classes. Permutation
  p draws from its own ``torch.Generator`` seeded from ``(seed, p)``, never from the global RNG, so pairs are
  reproducible and the same whatever ``num_permutations`` or the number of processes.

[`hybrid_curve`][lowfreq.analysis.hybrid.hybrid_curve] runs the whole experiment;
[`HybridCurveMetric`][lowfreq.analysis.hybrid.HybridCurveMetric] accumulates the same counts batch by batch (from a
validation step or a callback) and syncs them across processes. Both are built on ``hybrid_counts``, so they cannot
diverge. No Lightning is used: everything runs in a notebook.
"""

from __future__ import annotations

import itertools
import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import Metric
from tqdm.auto import tqdm

from lowfreq.core.checks import check_image, check_labels, check_positive_int, check_range
from lowfreq.core.device import accumulator_dtype, analysis_mode, image_progress, model_device_dtype
from lowfreq.core.seeding import derangement, seeded_generator
from lowfreq.spectral import MAX_RADIAL_FREQUENCY, make_hybrids, nyquist_to_cycles

__all__ = [
    "DEFAULT_F_MIX",
    "F_REV_RULE",
    "MAX_F_MIX",
    "HybridCurve",
    "HybridCurveMetric",
    "check_f_mix",
    "hybrid_counts",
    "hybrid_curve",
    "hybrid_curve_from_counts",
    "hybrid_pairs",
    "reversal_frequency",
]

log = logging.getLogger(__name__)

DEFAULT_F_MIX: tuple[float, ...] = (
    0.0, 0.03, 0.04, 0.05, 0.06, 0.08, 0.09, 0.11, 0.13, 0.15, 0.17, 0.19, 0.22, 0.27, 0.33, 0.42, 0.57, 1.0,
)
"""P001's 2021–2023 alpha grid / 100, in Nyquist units (1 = 0.5 cycles/pixel)."""

F_REV_RULE = (
    "f_rev: mean (and population std) over the permutations whose p_low - p_high changes sign, "
    "num_crossing of them; f_rev_of_mean: the crossing of the permutation-averaged curve"
)
"""How [`HybridCurve`][lowfreq.analysis.hybrid.HybridCurve] defines its headline, recorded in every result file."""

MAX_F_MIX = 2 * MAX_RADIAL_FREQUENCY
"""Largest meaningful f_mix in Nyquist units: sqrt(2), the corners of the spectrum (the hybrid is the low seed)."""

_COUNT_FIELDS = 3  # hybrid_counts columns: low-class hits, high-class hits, summed max-softmax confidence


_HYBRID_VECTORS = ("f_mix", "p_low", "p_high", "p_other", "confidence", "f_rev_per_permutation")
_HYBRID_PER_PERMUTATION = ("p_low_per_permutation", "p_high_per_permutation")


@dataclass
class HybridCurve:
    """Result of [`hybrid_curve`][lowfreq.analysis.hybrid.hybrid_curve].

    Frequencies in **Nyquist units** (1 = 0.5 cycles/pixel); rates in [0, 1].

    Attributes:
        f_mix: (F,) mixing frequencies.
        p_low: (F,) fraction of hybrids classified as the low seed's class, mean over permutations.
        p_high: (F,) same for the high seed's class.
        p_other: (F,) "third class" rate ``1 - p_low - p_high`` (P002).
        confidence: (F,) mean max-softmax probability of the prediction (P002: lowest near f_rev).
        p_low_per_permutation: (P, F) p_low of each permutation.
        p_high_per_permutation: (P, F) p_high of each permutation.
        f_rev_per_permutation: (P,) reversal frequency of each permutation (NaN where d never changes sign).
        f_rev: mean of ``f_rev_per_permutation`` over the permutations whose d changes sign (P001's "mean ± std
            over 4 permuted datasets" when all cross); NaN only when none crosses.
        f_rev_std: population standard deviation (numpy's default, ddof = 0) over the same permutations.
        f_rev_of_mean: reversal frequency of the permutation-averaged curve (P001's figure notebooks).
        num_crossing: permutations whose d changes sign (those behind ``f_rev`` and ``f_rev_std``).
        num_pairs: hybrids per f_mix and permutation (= number of seed images).
        seed: seed of the pairing.
        frequency_unit: always "nyquist" (recorded so that result files say it).
    """

    f_mix: Tensor
    p_low: Tensor
    p_high: Tensor
    p_other: Tensor
    confidence: Tensor
    p_low_per_permutation: Tensor
    p_high_per_permutation: Tensor
    f_rev_per_permutation: Tensor
    f_rev: float
    f_rev_std: float
    f_rev_of_mean: float
    num_pairs: int
    seed: int
    num_crossing: int = -1
    frequency_unit: str = "nyquist"
    f_rev_rule: str = F_REV_RULE

    def __post_init__(self) -> None:
        if self.num_crossing < 0:
            self.num_crossing = int(torch.isfinite(self.f_rev_per_permutation).sum())

    def __setattr__(self, name: str, value: Any) -> None:
        # keep the documented shapes: torchmetrics squeezes 1-element tensors returned by Metric.compute()
        if isinstance(value, Tensor) and name in _HYBRID_VECTORS:
            value = value.reshape(-1)
        elif isinstance(value, Tensor) and name in _HYBRID_PER_PERMUTATION:
            value = value.reshape(-1, self.f_mix.numel())
        super().__setattr__(name, value)

    @property
    def difference(self) -> Tensor:
        """(F,) ``p_low - p_high`` (P001 plots it in %)."""
        return self.p_low - self.p_high

    @property
    def difference_per_permutation(self) -> Tensor:
        """(P, F) ``p_low - p_high`` of each permutation."""
        return self.p_low_per_permutation - self.p_high_per_permutation

    @property
    def num_permutations(self) -> int:
        """Number of permutations P."""
        return int(self.p_low_per_permutation.shape[0])

    @property
    def f_mix_cycles(self) -> Tensor:
        """(F,) f_mix in cycles/pixel."""
        return self.f_mix / 2

    @property
    def f_rev_cycles(self) -> float:
        """``f_rev`` in cycles/pixel."""
        return self.f_rev / 2


def check_f_mix(f_mix_nyquist: Sequence[float] | Tensor | None) -> Tensor:
    """Validate a grid of mixing frequencies in Nyquist units and return it as a (F,) float64 tensor.

    Args:
        f_mix_nyquist: at least 2 strictly increasing values in [0, sqrt(2)] (Nyquist units); None gives
            [`DEFAULT_F_MIX`][lowfreq.analysis.hybrid.DEFAULT_F_MIX].
    """
    if f_mix_nyquist is None:
        return torch.tensor(DEFAULT_F_MIX, dtype=torch.float64)
    grid = f_mix_nyquist
    values = grid.detach().cpu().flatten().tolist() if isinstance(grid, Tensor) else list(grid)
    if len(values) < 2:
        raise ValueError(f"f_mix_nyquist must hold at least 2 values, got {values}")
    for value in values:
        check_range("f_mix_nyquist", value, 0.0, MAX_F_MIX)
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError(f"f_mix_nyquist must be strictly increasing, got {values}")
    return torch.tensor(values, dtype=torch.float64)


def _check_labels(labels: Tensor) -> Tensor:
    integer = isinstance(labels, Tensor) and not labels.dtype.is_floating_point and labels.dtype != torch.bool
    if not integer or labels.ndim != 1:
        got = f"{labels.dtype} {tuple(labels.shape)}" if isinstance(labels, Tensor) else type(labels).__name__
        raise ValueError(f"labels must be a 1-D integer tensor of class indices, got {got}")
    labels = labels.detach().cpu().long()
    if labels.numel() and int(labels.min()) < 0:
        raise ValueError(f"labels must be class indices >= 0, got minimum {int(labels.min())}")
    classes, counts = torch.unique(labels, return_counts=True)
    if classes.numel() < 2:
        raise ValueError(
            f"labels must contain at least 2 classes (hybrid seeds come from different classes), "
            f"got only class {classes.tolist()}"
        )
    n, largest = labels.numel(), int(counts.max())
    if 2 * largest > n:
        raise ValueError(
            f"labels must have no class with more than half of the images, so that every image can be paired with "
            f"one of another class; got {largest} of {n} images in class {int(classes[counts.argmax()])}"
        )
    return labels


def hybrid_pairs(labels: Tensor, *, num_permutations: int = 4, seed: int = 0) -> Tensor:
    """Indices of the high-frequency seed of every hybrid, one row per permutation (as P001's code pairs them).

    Position i of a permutation pairs low seed ``i`` with high seed ``out[p, i]``. Every image is the low seed once
    and the high seed once, and ``labels[out[p]] != labels`` everywhere: the high-seed labels are a class-level
    derangement of ``labels`` that keeps the class counts, and each class's images are shuffled onto the positions
    that need that class. Permutation p uses its own generator seeded from ``(seed, p)``, so row p does not depend
    on ``num_permutations``.

    Args:
        labels: (N,) integer class labels with >= 2 classes and no class holding more than N / 2 images.
        num_permutations: number of independent pairings P, >= 1.
        seed: seed, >= 0.

    Returns:
        (P, N) int64 tensor of indices into ``labels``.
    """
    check_positive_int("num_permutations", num_permutations)
    check_positive_int("seed", seed, minimum=0)
    labels = _check_labels(labels)
    out = torch.empty(num_permutations, labels.numel(), dtype=torch.long)
    for p in range(num_permutations):
        generator = seeded_generator(seed, p)
        high_labels = derangement(labels, generator)
        # positions grouped by the class they need, images grouped by class in random order: same class counts
        slots = torch.argsort(high_labels, stable=True)
        shuffled = torch.randperm(labels.numel(), generator=generator)
        images = shuffled[torch.argsort(labels[shuffled], stable=True)]
        out[p, slots] = images
    return out


def hybrid_counts(
    model: nn.Module,
    x_low: Tensor,
    x_high: Tensor,
    y_low: Tensor,
    y_high: Tensor,
    f_mix_nyquist: Sequence[float] | Tensor | None = None,
    *,
    batch_size: int = 256,
    progress: bool = False,
) -> Tensor:
    """Sufficient statistics of the hybrid experiment for given seed pairs (sum them across shards, then divide).

    The model is called in eval mode under ``torch.no_grad()`` on the device and float dtype of its parameters;
    its training flag is restored afterwards.

    Args:
        model: classifier mapping (B, C, H, W) images in [0, 1] to (B, K) logits.
        x_low: (N, C, H, W) low seed images in [0, 1] (any device; moved batch by batch).
        x_high: (N, C, H, W) high seed images in [0, 1].
        y_low: (N,) labels of the low seeds.
        y_high: (N,) labels of the high seeds.
        f_mix_nyquist: (F,) mixing frequencies in Nyquist units (see ``check_f_mix``); None =
            [`DEFAULT_F_MIX`][lowfreq.analysis.hybrid.DEFAULT_F_MIX].
        batch_size: hybrids per forward pass.
        progress: show a bar counting hybrid images, with the time left.

    Returns:
        (F, 3) float64 tensor on the CPU: per f_mix the number of hybrids predicted as ``y_low``, as ``y_high``, and
        the sum of the max-softmax probabilities.

    Raises:
        ValueError: labels outside [0, K) for the model's K outputs (checked on the first batch's logits):
            such a hybrid could never count as low or high.
    """
    grid = check_f_mix(f_mix_nyquist)
    check_image(x_low, "x_low")
    check_image(x_high, "x_high")
    if x_low.shape != x_high.shape:
        raise ValueError(f"x_high must have the shape of x_low {tuple(x_low.shape)}, got {tuple(x_high.shape)}")
    n = x_low.shape[0]
    for name, y in (("y_low", y_low), ("y_high", y_high)):
        check_labels(y, name, length=n)
    check_positive_int("batch_size", batch_size)
    names = ("y_low", "y_high")
    with image_progress(n * grid.numel(), "hybrid images", progress) as bar:
        return _hybrid_counts(model, x_low, x_high, y_low, y_high, grid, batch_size, bar, names)


def _hybrid_counts(
    model: nn.Module,
    x_low: Tensor,
    x_high: Tensor,
    y_low: Tensor,
    y_high: Tensor,
    grid: Tensor,
    batch_size: int,
    bar: tqdm,
    label_names: tuple[str, str],
    high: Tensor | None = None,
) -> Tensor:
    """``hybrid_counts`` after its checks; the labels are checked against the first logits' K here.

    With ``high`` (N,) indices, the high seed of pair i is ``x_high[high[i]]``, gathered one batch at a time, so
    no (N, C, H, W) copy of the seeds is made. Only one batch of seeds, spectra and logits is held at a time.
    """
    n = x_low.shape[0]
    device, dtype = model_device_dtype(model, x_low)
    counts = torch.zeros(grid.numel(), _COUNT_FIELDS, dtype=accumulator_dtype(device), device=device)
    cutoffs = [nyquist_to_cycles(f) for f in grid.tolist()]
    with analysis_mode(model):
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            rows = slice(start, stop) if high is None else high[start:stop]
            lo = x_low[start:stop].to(device=device, dtype=dtype)
            hi = x_high[rows].to(device=device, dtype=dtype)
            yl, yh = y_low[start:stop].to(device), y_high[rows].to(device)
            for j, hybrid in enumerate(make_hybrids(lo, hi, cutoffs)):
                logits = model(hybrid)
                if start == 0 and j == 0:  # labels the model cannot output would count as neither seed
                    _check_labels_fit_logits(logits, (y_low, y_high), label_names)
                prob, pred = logits.float().softmax(dim=-1).max(dim=-1)
                counts[j, 0] += (pred == yl).sum()
                counts[j, 1] += (pred == yh).sum()
                counts[j, 2] += prob.to(counts.dtype).sum()
                bar.update(stop - start)
    return counts.cpu().double()


def _check_labels_fit_logits(logits: Tensor, labels: Sequence[Tensor], names: Sequence[str]) -> None:
    """Raise unless every label tensor holds class indices in [0, K), K = ``logits.shape[-1]`` outputs."""
    if logits.ndim != 2:
        raise ValueError(f"model must return (B, K) logits, got shape {tuple(logits.shape)}")
    num_classes = int(logits.shape[-1])
    for name, y in zip(names, labels, strict=True):
        check_labels(y, name, num_classes=num_classes, classes_from=f"the model outputs {num_classes} logits")


def reversal_frequency(f_mix: Tensor, difference: Tensor, *, warn: bool = True) -> float:
    """Zero crossing of ``difference = p_low - p_high``, linearly interpolated at its first sign change.

    Exact zeros are skipped when looking for the sign change; if the first pair of nonzero values of opposite
    sign has exact zeros between them, the crossing is the first of those grid points.

    Args:
        f_mix: (F,) increasing mixing frequencies (any unit; the result has the same unit).
        difference: (F,) ``p_low - p_high``.
        warn: emit a RuntimeWarning when there is no sign change.

    Returns:
        The f_mix of the first sign change, or NaN when ``difference`` never changes sign.
    """
    f = f_mix.detach().double().cpu().flatten()
    d = difference.detach().double().cpu().flatten()
    if f.shape != d.shape:
        raise ValueError(f"difference must have the shape of f_mix {tuple(f.shape)}, got {tuple(d.shape)}")
    nonzero = (d != 0).nonzero().flatten().tolist()
    for i, j in itertools.pairwise(nonzero):
        d0, d1 = float(d[i]), float(d[j])
        if d0 * d1 < 0:
            if j > i + 1:  # exact zeros in between
                return float(f[i + 1])
            f0, f1 = float(f[i]), float(f[j])
            return f0 - d0 * (f1 - f0) / (d1 - d0)
    if warn:
        warnings.warn(
            "p_low - p_high never changes sign on the f_mix grid, so f_rev is NaN "
            f"(difference goes from {float(d[0]):.3f} to {float(d[-1]):.3f}); widen the f_mix grid",
            RuntimeWarning,
            stacklevel=2,
        )
    return math.nan


def hybrid_curve_from_counts(
    f_mix_nyquist: Tensor, counts: Tensor, num_pairs: int, *, seed: int = 0
) -> HybridCurve:
    """Turn summed ``hybrid_counts`` of every permutation into a [`HybridCurve`][lowfreq.analysis.hybrid.HybridCurve].

    Args:
        f_mix_nyquist: (F,) mixing frequencies in Nyquist units.
        counts: (P, F, 3) counts summed over all shards of each permutation.
        num_pairs: hybrids per f_mix and permutation (N).
        seed: pairing seed, recorded in the result.
    """
    grid = check_f_mix(f_mix_nyquist)
    check_positive_int("num_pairs", num_pairs)
    if counts.ndim != 3 or counts.shape[1:] != (grid.numel(), _COUNT_FIELDS):
        raise ValueError(f"counts must have shape (P, {grid.numel()}, {_COUNT_FIELDS}), got {tuple(counts.shape)}")
    rates = counts.double().cpu() / num_pairs  # (P, F, 3)
    p_low_pp, p_high_pp = rates[..., 0], rates[..., 1]
    p_low, p_high = p_low_pp.mean(dim=0), p_high_pp.mean(dim=0)
    f_rev_pp = torch.tensor(
        [reversal_frequency(grid, lo - hi, warn=False) for lo, hi in zip(p_low_pp, p_high_pp, strict=True)],
        dtype=torch.float64,
    )
    crossing = f_rev_pp[torch.isfinite(f_rev_pp)]
    if crossing.numel() < len(f_rev_pp):
        _warn_not_crossing(grid, p_low_pp - p_high_pp, f_rev_pp)
    return HybridCurve(
        f_mix=grid,
        p_low=p_low,
        p_high=p_high,
        p_other=1.0 - p_low - p_high,
        confidence=rates[..., 2].mean(dim=0),
        p_low_per_permutation=p_low_pp,
        p_high_per_permutation=p_high_pp,
        f_rev_per_permutation=f_rev_pp,
        f_rev=float(crossing.mean()) if crossing.numel() else math.nan,
        f_rev_std=float(crossing.std(correction=0)) if crossing.numel() else math.nan,
        f_rev_of_mean=reversal_frequency(grid, p_low - p_high, warn=False),
        num_pairs=num_pairs,
        seed=seed,
        num_crossing=int(crossing.numel()),
    )


def _warn_not_crossing(grid: Tensor, difference: Tensor, f_rev_pp: Tensor) -> None:
    """One RuntimeWarning saying which permutations have no sign change, how their d runs, and what f_rev is."""
    missing = torch.nonzero(~torch.isfinite(f_rev_pp)).flatten().tolist()
    lo, hi = float(grid[0]), float(grid[-1])
    parts = []
    for k in missing:
        d = difference[k]
        side = "above" if float(d.max()) <= 0 else "below"  # d < 0 at low f_mix: the crossing would lie higher
        sign = "<= 0" if side == "above" else ">= 0"
        parts.append(f"permutation {k}: p_low - p_high stays {sign} (from {float(d[0]):.3f} to {float(d[-1]):.3f})")
    beyond = []
    if any(float(difference[k].max()) <= 0 for k in missing) and hi < MAX_F_MIX - 1e-9:
        beyond.append(f"above f_mix {hi:g}")
    if any(float(difference[k].min()) >= 0 for k in missing) and lo > 0:
        beyond.append(f"below f_mix {lo:g}")
    crossing = len(f_rev_pp) - len(missing)
    headline = (
        f"f_rev is the mean over the other {crossing} of {len(f_rev_pp)} permutations"
        if crossing
        else "no permutation crosses, so f_rev is NaN"
    )
    advice = (
        f" (a crossing {' or '.join(beyond)}, outside the grid, cannot be ruled out)"
        if beyond
        else " (the grid covers that side, so the model did not reverse its preference there)"
    )
    warnings.warn(f"{'; '.join(parts)}: {headline}{advice}", RuntimeWarning, stacklevel=3)


def hybrid_curve(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    f_mix_nyquist: Sequence[float] | Tensor | None = None,
    num_permutations: int = 4,
    seed: int = 0,
    batch_size: int = 256,
    progress: bool = False,
) -> HybridCurve:
    """P001's hybrid-image experiment: p_low, p_high, the third-class rate and f_rev of a classifier.

    Every image is the low seed of one hybrid and the high seed of another in each of ``num_permutations`` pairings
    ([`hybrid_pairs`][lowfreq.analysis.hybrid.hybrid_pairs]), so N images give N hybrids per f_mix and permutation.

    Args:
        model: classifier mapping (B, C, H, W) images in [0, 1] to (B, K) logits; evaluated in eval mode on the
            device of its parameters (training flag restored afterwards).
        images: (N, C, H, W) float images in [0, 1] (P001: the whole test set).
        labels: (N,) integer labels with >= 2 classes, none holding more than N / 2 images.
        f_mix_nyquist: increasing mixing frequencies in **Nyquist units** (1 = 0.5 cycles/pixel), in [0, sqrt(2)];
            None = [`DEFAULT_F_MIX`][lowfreq.analysis.hybrid.DEFAULT_F_MIX] (P001's alpha grid / 100). The mask is
            inclusive, so DC always comes from the low seed.
        num_permutations: independent pairings (P001: 4), >= 1.
        seed: seed of the pairing, >= 0.
        batch_size: hybrids per forward pass.
        progress: show a bar counting hybrid images (N x P x F), with the time left.

    Returns:
        [`HybridCurve`][lowfreq.analysis.hybrid.HybridCurve] with curves, per-permutation curves and f_rev (mean ± std
        over permutations and of the mean curve), all in Nyquist units.

    Example:
        >>> curve = hybrid_curve(model, x_test, y_test, num_permutations=4)  # doctest: +SKIP
        >>> curve.f_rev, curve.f_rev_std                                   # doctest: +SKIP
    """
    check_image(images, "images")
    n = images.shape[0]
    if not isinstance(labels, Tensor) or labels.shape != (n,):
        got = tuple(labels.shape) if isinstance(labels, Tensor) else type(labels).__name__
        raise ValueError(f"labels must be a tensor of shape ({n},) matching images, got {got}")
    grid = check_f_mix(f_mix_nyquist)
    check_positive_int("batch_size", batch_size)
    pairs = hybrid_pairs(labels, num_permutations=num_permutations, seed=seed)  # (P, N), validates labels
    counts = torch.zeros(num_permutations, grid.numel(), _COUNT_FIELDS, dtype=torch.float64)
    with image_progress(num_permutations * n * grid.numel(), "hybrid images", progress) as bar:
        for p in range(num_permutations):
            counts[p] = _hybrid_counts(
                model, images, images, labels, labels, grid, batch_size, bar, ("labels", "labels"), high=pairs[p]
            )
    return hybrid_curve_from_counts(grid, counts, n, seed=seed)


class HybridCurveMetric(Metric):
    """[`hybrid_curve`][lowfreq.analysis.hybrid.hybrid_curve] as a torchmetrics ``Metric`` summing ``hybrid_counts``.

    Each [`update`][lowfreq.analysis.hybrid.HybridCurveMetric.update] classifies the hybrids of a batch of seed pairs of
    one permutation; [`compute`][lowfreq.analysis.hybrid.HybridCurveMetric.compute] sums the (P, F, 3) counts and the
    pair counts of every process (fixed-size sum states) and returns the
    [`HybridCurve`][lowfreq.analysis.hybrid.HybridCurve]. Pairs of one permutation may come in any number of updates, on
    any process; every permutation must end with the same number of pairs. Fed the pairs of
    [`hybrid_pairs`][lowfreq.analysis.hybrid.hybrid_pairs] in the same batches, it gives exactly the numbers of
    [`hybrid_curve`][lowfreq.analysis.hybrid.hybrid_curve].

    Args:
        f_mix_nyquist: mixing frequencies in Nyquist units (see ``check_f_mix``); None =
            [`DEFAULT_F_MIX`][lowfreq.analysis.hybrid.DEFAULT_F_MIX].
        num_permutations: number of pairings P, >= 1.
        seed: pairing seed, recorded in the result.
        batch_size: hybrids per forward pass inside an update.
        kwargs: ``torchmetrics.Metric`` options (e.g. ``process_group``).

    Example:
        A hybrid curve of pairs drawn inside each validation batch (every batch needs >= 2 classes, none holding
        more than half of its images), synced across processes::

            def validation_step(self, batch, batch_idx):
                x, y = batch
                for p, high in enumerate(hybrid_pairs(y, num_permutations=2, seed=batch_idx)):
                    self.hybrid.update(self, x, x[high], y, y[high], permutation=p)

            def on_validation_epoch_end(self):
                curve = self.hybrid.compute()  # self.hybrid = HybridCurveMetric(num_permutations=2)
                self.log("val_f_rev", curve.f_rev)
                self.hybrid.reset()
    """

    is_differentiable = False
    higher_is_better = None
    full_state_update = False
    counts: Tensor
    num_pairs: Tensor

    def __init__(
        self,
        f_mix_nyquist: Sequence[float] | Tensor | None = None,
        *,
        num_permutations: int = 4,
        seed: int = 0,
        batch_size: int = 256,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_positive_int("num_permutations", num_permutations)
        check_positive_int("seed", seed, minimum=0)
        check_positive_int("batch_size", batch_size)
        self.f_mix = check_f_mix(f_mix_nyquist)
        self.num_permutations, self.seed, self.batch_size = num_permutations, seed, batch_size
        shape = (num_permutations, self.f_mix.numel(), _COUNT_FIELDS)
        self.add_state("counts", torch.zeros(shape, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("num_pairs", torch.zeros(num_permutations, dtype=torch.long), dist_reduce_fx="sum")

    def update(
        self,
        model: nn.Module,
        x_low: Tensor,
        x_high: Tensor,
        y_low: Tensor,
        y_high: Tensor,
        permutation: int = 0,
    ) -> None:
        """Classify the hybrids of a batch of seed pairs of one permutation (see ``hybrid_counts``).

        Args:
            model: classifier mapping (B, C, H, W) images in [0, 1] to (B, K) logits (run in eval mode).
            x_low: (N, C, H, W) low seed images in [0, 1].
            x_high: (N, C, H, W) high seed images in [0, 1].
            y_low: (N,) labels of the low seeds.
            y_high: (N,) labels of the high seeds.
            permutation: index of the pairing in [0, P).
        """
        num = self.num_permutations
        if isinstance(permutation, bool) or not isinstance(permutation, int) or not 0 <= permutation < num:
            raise ValueError(f"permutation must be an int in [0, {num}), got {permutation!r}")
        counts = hybrid_counts(model, x_low, x_high, y_low, y_high, self.f_mix, batch_size=self.batch_size)
        self.counts[permutation] += counts.to(self.counts)
        self.num_pairs[permutation] += x_low.shape[0]

    def compute(self) -> HybridCurve:
        """The [`HybridCurve`][lowfreq.analysis.hybrid.HybridCurve] of every pair seen by every process."""
        num_pairs = [int(n) for n in self.num_pairs.tolist()]
        if len(set(num_pairs)) != 1:
            raise ValueError(f"every permutation must have the same number of pairs, got {num_pairs}")
        return hybrid_curve_from_counts(self.f_mix, self.counts, num_pairs[0], seed=self.seed)
