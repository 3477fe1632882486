"""Accuracy under the 15 common corruptions x 5 severities, with P001's frequency bands (S1 Appendix, Table A).

The quantities, all from correct / total counts per (corruption, severity) cell:

* ``acc[c, s]``: accuracy on corruption c at severity s;
* ``mean_acc``: the **unweighted** mean over the evaluated cells, clean excluded (with all 75 cells, P001's
  "CIFAR10-C acc.");
* ``severity_acc``: the per-severity curve, index 0 = clean accuracy, index s = mean over the corruptions at s;
* ``band_acc``: P001's frequency bands (Table A; ``lowfreq.data.corruptions.names.FREQUENCY_BANDS``), each the mean
  over its corruptions x severities: low = snow, frost, fog, brightness, contrast; medium = motion, zoom, defocus
  and glass blur, elastic transform, JPEG, pixelate; high = Gaussian, shot and impulse noise.

A subset of corruptions or severities is fine: every mean is over the cells that were evaluated (a cell with no
image is NaN and left out), and the result lists the cells of the standard 15 x 5 grid that are missing.

The corrupted images are inputs here (this layer does not make them): from the official CIFAR-10-C / ImageNet-C
readers or the generator [`lowfreq.data.corrupt_images`][lowfreq.data.corruptions.generator.corrupt_images].
[`corruption_accuracy`][lowfreq.analysis.corruptions.corruption_accuracy] evaluates a model on a mapping
``{(corruption, severity): (images, labels)}``;
[`CorruptionAccuracyMetric`][lowfreq.analysis.corruptions.CorruptionAccuracyMetric] accumulates the same counts one
condition and batch at a time and sums them across processes. Both are built on ``corruption_counts`` and
[`corruption_accuracy_from_counts`][lowfreq.analysis.corruptions.corruption_accuracy_from_counts], so they cannot
diverge. No Lightning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import Metric
from tqdm.auto import tqdm

from lowfreq.analysis.hybrid import _check_labels_fit_logits
from lowfreq.core.checks import check_image, check_labels, check_positive_int
from lowfreq.core.device import accumulator_dtype, analysis_mode, image_progress, model_device_dtype
from lowfreq.data.corruptions.names import (
    BANDS,
    CORRUPTIONS,
    FREQUENCY_BANDS,
    SEVERITIES,
    check_corruption,
    check_corruptions,
    check_severities,
    check_severity,
)

__all__ = [
    "CorruptionAccuracy",
    "CorruptionAccuracyMetric",
    "correct_counts",
    "corruption_accuracy",
    "corruption_accuracy_from_counts",
    "corruption_counts",
]

Condition = tuple[str, int]
"""``(corruption, severity)``, e.g. ``("fog", 3)``."""


@dataclass
class CorruptionAccuracy:
    """Result of [`corruption_accuracy`][lowfreq.analysis.corruptions.corruption_accuracy].

    Accuracies in [0, 1]; NaN where nothing was evaluated.

    Attributes:
        corruptions: the C corruptions of the grid (rows), in the order given.
        severities: the S severities of the grid (columns), ascending.
        acc: (C, S) accuracy per corruption and severity.
        num_images: (C, S) int64 images evaluated per cell.
        clean_acc: accuracy on the clean images (NaN when none were evaluated).
        num_clean: clean images evaluated.
        mean_acc: unweighted mean of ``acc`` over the evaluated cells (all 75: P001's "CIFAR10-C acc.").
        corruption_acc: (C,) mean over the evaluated severities of each corruption.
        severity_acc: (S + 1,) per-severity curve: ``[clean_acc, mean over corruptions at each severity]``.
        band_acc: P001's frequency bands "low", "medium", "high" -> mean over their evaluated cells.
        band_severity_acc: (3, S) mean over each band's corruptions (rows low, medium, high) at each severity.
        band_corruptions: band -> its corruptions that were evaluated (at any severity).
        missing: cells of the standard 15 x 5 grid not evaluated, as "corruption/severity" (empty when complete).
        complete: all 75 cells were evaluated, so ``mean_acc`` and ``band_acc`` are P001's quantities.
    """

    corruptions: list[str]
    severities: list[int]
    acc: Tensor
    num_images: Tensor
    clean_acc: float
    num_clean: int
    mean_acc: float
    corruption_acc: Tensor
    severity_acc: Tensor
    band_acc: dict[str, float]
    band_severity_acc: Tensor
    band_corruptions: dict[str, list[str]]
    missing: list[str]
    complete: bool

    def __setattr__(self, name: str, value: Any) -> None:
        # keep the documented shapes: torchmetrics squeezes 1-element tensors returned by Metric.compute()
        if isinstance(value, Tensor) and name in _SHAPES and "severities" in self.__dict__:
            c, s = len(self.__dict__["corruptions"]), len(self.__dict__["severities"])
            shapes: dict[str, tuple[int, ...]] = {"C": (c,), "C,S": (c, s), "S+1": (s + 1,), "3,S": (len(BANDS), s)}
            value = value.reshape(shapes[_SHAPES[name]])
        super().__setattr__(name, value)


_SHAPES = {
    "acc": "C,S", "num_images": "C,S", "corruption_acc": "C", "severity_acc": "S+1", "band_severity_acc": "3,S",
}  # fmt: skip


def _grid(
    corruptions: Sequence[str] | None, severities: Sequence[int] | None, keys: Sequence[Condition] = ()
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The validated grid; None takes the corruptions / severities present in ``keys`` (all when there are none)."""
    if corruptions is None and keys:
        present = {check_corruption("corruption", c) for c, _ in keys}
        corruptions = [c for c in CORRUPTIONS if c in present]
    if severities is None and keys:
        severities = [check_severity("severity", s) for _, s in keys]
    return check_corruptions(corruptions), check_severities(severities)


def correct_counts(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    batch_size: int = 256,
    name: str = "images",
) -> Tensor:
    """Correct predictions and images: ``[correct, total]`` of ``model`` on one set of images.

    Args:
        model: classifier mapping (B, C, H, W) images to (B, K) logits; run in eval mode under no_grad on the
            device and float dtype of its parameters (training flag restored afterwards).
        images: (M, C, H, W) float images in [0, 1].
        labels: (M,) integer labels in [0, K).
        batch_size: images per forward pass.
        name: the name of ``images`` in error messages.

    Returns:
        (2,) float64 tensor on the CPU.
    """
    check_image(images, name)
    n = images.shape[0]
    check_labels(labels, "labels", length=n)
    check_positive_int("batch_size", batch_size)
    with image_progress(n, name, False) as bar:
        return _correct_counts(model, images, labels, batch_size, bar)


def _correct_counts(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int, bar: tqdm) -> Tensor:
    """``correct_counts`` after its checks, advancing ``bar`` by the images of each batch."""
    n = images.shape[0]
    device, dtype = model_device_dtype(model, images)
    counts = torch.zeros(2, dtype=accumulator_dtype(device), device=device)
    counts[1] = n
    with analysis_mode(model):
        for start in range(0, n, batch_size):
            x = images[start : start + batch_size].to(device=device, dtype=dtype)
            y = labels[start : start + batch_size].to(device)
            logits = model(x)
            if start == 0:  # labels the model cannot output would silently count as wrong
                _check_labels_fit_logits(logits, (labels,), ("labels",))
            counts[0] += (logits.argmax(dim=-1) == y).sum()
            bar.update(x.shape[0])
    return counts.cpu().double()


def corruption_counts(
    model: nn.Module,
    data: Mapping[Condition, tuple[Tensor, Tensor]],
    *,
    clean: tuple[Tensor, Tensor] | None = None,
    corruptions: Sequence[str] | None = None,
    severities: Sequence[int] | None = None,
    batch_size: int = 256,
    progress: bool = False,
) -> tuple[Tensor, Tensor]:
    """Correct / total counts per (corruption, severity) cell and on the clean images (sum them across shards).

    Args:
        model: classifier mapping (B, C, H, W) images to (B, K) logits (run in eval mode under no_grad).
        data: ``{(corruption, severity): (images (M, C, H, W) float in [0, 1], labels (M,))}``.
        clean: the clean ``(images, labels)``, or None.
        corruptions: rows of the grid; None = the corruptions in ``data`` (in the standard order), or all 15.
        severities: columns of the grid (1 ... 5); None = the severities in ``data``, or all 5.
        batch_size: images per forward pass.
        progress: show a bar counting the images (clean and corrupted), with the time left.

    Returns:
        ``(counts, clean_counts)``: (C, S, 2) and (2,) float64 tensors on the CPU, ``[..., 0]`` correct and
        ``[..., 1]`` images.
    """
    grid_c, grid_s = _grid(corruptions, severities, list(data))
    counts = torch.zeros(len(grid_c), len(grid_s), 2, dtype=torch.float64)
    clean_counts = torch.zeros(2, dtype=torch.float64)
    check_positive_int("batch_size", batch_size)
    sets = [(counts[_cell(key, grid_c, grid_s)], *data[key], f"images of {key}") for key in data]
    if clean is not None:
        sets.append((clean_counts, *clean, "clean images"))
    for _, images, labels, name in sets:
        check_image(images, name)
        check_labels(labels, "labels", length=images.shape[0])
    with image_progress(sum(int(images.shape[0]) for _, images, _, _ in sets), "corruptions", progress) as bar:
        for cell, images, labels, _ in sets:
            cell += _correct_counts(model, images, labels, batch_size, bar)
    return counts, clean_counts


def _cell(key: object, corruptions: Sequence[str], severities: Sequence[int]) -> tuple[int, int]:
    if not isinstance(key, tuple) or len(key) != 2:
        raise ValueError(f"data keys must be (corruption, severity) pairs, got {key!r}")
    corruption, severity = check_corruption("corruption", key[0]), check_severity("severity", key[1])
    if corruption not in corruptions:
        raise ValueError(f"corruption must be one of the grid's corruptions {list(corruptions)}, got {corruption!r}")
    if severity not in severities:
        raise ValueError(f"severity must be one of the grid's severities {list(severities)}, got {severity}")
    return corruptions.index(corruption), severities.index(severity)


def _nanmean(values: Tensor) -> float:
    finite = values[~values.isnan()]
    return float(finite.mean()) if finite.numel() else math.nan


def corruption_accuracy_from_counts(
    counts: Tensor,
    clean_counts: Tensor | None = None,
    corruptions: Sequence[str] | None = None,
    severities: Sequence[int] | None = None,
) -> CorruptionAccuracy:
    """Turn summed counts into a [`CorruptionAccuracy`][lowfreq.analysis.corruptions.CorruptionAccuracy].

    Means are over the evaluated cells only.

    Args:
        counts: (C, S, 2) ``[correct, images]`` per cell (cells with 0 images are "not evaluated").
        clean_counts: (2,) ``[correct, images]`` on the clean images, or None.
        corruptions: the C corruptions of the rows (None = all 15).
        severities: the S severities of the columns (None = 1 ... 5).
    """
    grid_c, grid_s = check_corruptions(corruptions), check_severities(severities)
    shape = (len(grid_c), len(grid_s), 2)
    if not isinstance(counts, Tensor) or counts.shape != shape:
        got = tuple(counts.shape) if isinstance(counts, Tensor) else type(counts).__name__
        raise ValueError(f"counts must have shape {shape} (corruptions x severities x [correct, images]), got {got}")
    counts = counts.detach().double().cpu()
    clean = torch.zeros(2, dtype=torch.float64) if clean_counts is None else clean_counts.detach().double().cpu()
    if clean.shape != (2,):
        raise ValueError(f"clean_counts must have shape (2,) ([correct, images]), got {tuple(clean.shape)}")
    if bool((counts < 0).any()) or bool((counts[..., 0] > counts[..., 1]).any()) or float(clean[0]) > float(clean[1]):
        raise ValueError("counts must be non-negative with correct <= images in every cell")
    total = counts[..., 1]
    acc = torch.where(total > 0, counts[..., 0] / total.clamp(min=1), torch.full_like(total, math.nan))
    clean_acc = float(clean[0] / clean[1]) if float(clean[1]) > 0 else math.nan
    evaluated = total > 0
    band_acc: dict[str, float] = {}
    band_curve = torch.full((len(BANDS), len(grid_s)), math.nan, dtype=torch.float64)
    band_corruptions: dict[str, list[str]] = {}
    for b, band in enumerate(BANDS):
        rows = [i for i, c in enumerate(grid_c) if c in FREQUENCY_BANDS[band]]
        band_acc[band] = _nanmean(acc[rows]) if rows else math.nan
        band_corruptions[band] = [grid_c[i] for i in rows if bool(evaluated[i].any())]
        for j in range(len(grid_s)):
            band_curve[b, j] = _nanmean(acc[rows, j]) if rows else math.nan
    done = {(grid_c[i], grid_s[j]) for i, j in evaluated.nonzero().tolist()}
    missing = [f"{c}/{s}" for c in CORRUPTIONS for s in SEVERITIES if (c, s) not in done]
    return CorruptionAccuracy(
        corruptions=list(grid_c),
        severities=list(grid_s),
        acc=acc,
        num_images=total.round().long(),
        clean_acc=clean_acc,
        num_clean=int(clean[1]),
        mean_acc=_nanmean(acc),
        corruption_acc=torch.tensor([_nanmean(row) for row in acc], dtype=torch.float64),
        severity_acc=torch.tensor([clean_acc, *(_nanmean(acc[:, j]) for j in range(len(grid_s)))],
                                  dtype=torch.float64),
        band_acc=band_acc,
        band_severity_acc=band_curve,
        band_corruptions=band_corruptions,
        missing=missing,
        complete=not missing,
    )


def corruption_accuracy(
    model: nn.Module,
    data: Mapping[Condition, tuple[Tensor, Tensor]],
    *,
    clean: tuple[Tensor, Tensor] | None = None,
    corruptions: Sequence[str] | None = None,
    severities: Sequence[int] | None = None,
    batch_size: int = 256,
    progress: bool = False,
) -> CorruptionAccuracy:
    """Accuracy of a classifier per corruption x severity, its mean, per-severity curve and frequency bands.

    Args:
        model: classifier mapping (B, C, H, W) images to (B, K) logits; evaluated in eval mode under no_grad on
            the device of its parameters (training flag restored afterwards).
        data: ``{(corruption, severity): (images (M, C, H, W) float in [0, 1], labels (M,))}``; any subset of the
            15 x 5 conditions.
        clean: the clean ``(images, labels)`` (severity 0 of the curve), or None.
        corruptions: rows of the grid; None = the corruptions in ``data`` (in the standard order).
        severities: columns of the grid (1 ... 5); None = the severities in ``data``.
        batch_size: images per forward pass.
        progress: show a bar counting the images, with the time left.

    Returns:
        [`CorruptionAccuracy`][lowfreq.analysis.corruptions.CorruptionAccuracy].

    Example:
        With the generator of [`lowfreq.data`][lowfreq.data] (``x`` (M, 3, 32, 32) in [0, 1], ``y`` (M,))::

            from lowfreq.data.corruptions.names import CORRUPTIONS
            from lowfreq.data import corrupt_images

            data = {(c, s): (corrupt_images(x, c, s, seed=0), y) for c in CORRUPTIONS for s in range(1, 6)}
            result = corruption_accuracy(model, data, clean=(x, y))
            result.mean_acc, result.band_acc["high"]
    """
    grid_c, grid_s = _grid(corruptions, severities, list(data))
    counts, clean_counts = corruption_counts(
        model, data, clean=clean, corruptions=grid_c, severities=grid_s, batch_size=batch_size, progress=progress
    )
    return corruption_accuracy_from_counts(counts, clean_counts, grid_c, grid_s)


class CorruptionAccuracyMetric(Metric):
    """[`corruption_accuracy`][lowfreq.analysis.corruptions.corruption_accuracy] as a torchmetrics ``Metric``.

    Each [`update`][lowfreq.analysis.corruptions.CorruptionAccuracyMetric.update] evaluates the model on one batch of
    one condition (a (corruption, severity) cell, or the clean images when both are None);
    [`compute`][lowfreq.analysis.corruptions.CorruptionAccuracyMetric.compute] sums the (C, S, 2) and (2,) count states
    of every process (``dist_reduce_fx="sum"``) and returns the
    [`CorruptionAccuracy`][lowfreq.analysis.corruptions.CorruptionAccuracy]. Fed the same images, it gives exactly the
    numbers of [`corruption_accuracy`][lowfreq.analysis.corruptions.corruption_accuracy].

    Args:
        corruptions: rows of the grid (None = all 15).
        severities: columns of the grid, in 1 ... 5 (None = all 5).
        batch_size: images per forward pass inside an update.
        kwargs: ``torchmetrics.Metric`` options (e.g. ``process_group``).

    Example:
        ::

            metric = CorruptionAccuracyMetric(["gaussian_noise", "fog"], [1, 3])
            metric.update(model, x, y)  # clean
            metric.update(model, corrupt_images(x, "fog", 3), y, corruption="fog", severity=3)
            metric.compute().acc  # (2, 2), NaN where nothing was evaluated
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False
    counts: Tensor
    clean_counts: Tensor

    def __init__(
        self,
        corruptions: Sequence[str] | None = None,
        severities: Sequence[int] | None = None,
        *,
        batch_size: int = 256,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.corruptions, self.severities = check_corruptions(corruptions), check_severities(severities)
        check_positive_int("batch_size", batch_size)
        self.batch_size = batch_size
        shape = (len(self.corruptions), len(self.severities), 2)
        self.add_state("counts", torch.zeros(shape, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("clean_counts", torch.zeros(2, dtype=torch.float64), dist_reduce_fx="sum")

    def update(
        self,
        model: nn.Module,
        images: Tensor,
        labels: Tensor,
        corruption: str | None = None,
        severity: int | None = None,
    ) -> None:
        """Count correct predictions on a batch of one condition (see ``correct_counts``).

        Args:
            model: classifier mapping (B, C, H, W) images to (B, K) logits (run in eval mode).
            images: (M, C, H, W) float images in [0, 1]: corrupted by ``corruption`` at ``severity``, or clean.
            labels: (M,) integer labels.
            corruption: one of the grid's corruptions; None (with ``severity`` None) for clean images.
            severity: one of the grid's severities; None for clean images.
        """
        if (corruption is None) != (severity is None):
            raise ValueError(
                f"corruption and severity must both be given (a corrupted batch) or both be None (clean), got "
                f"corruption={corruption!r}, severity={severity!r}"
            )
        counts = correct_counts(model, images, labels, batch_size=self.batch_size)
        if corruption is None:
            self.clean_counts += counts.to(self.clean_counts)
            return
        i, j = _cell((corruption, severity), self.corruptions, self.severities)
        self.counts[i, j] += counts.to(self.counts)

    def compute(self) -> CorruptionAccuracy:
        """[`CorruptionAccuracy`][lowfreq.analysis.corruptions.CorruptionAccuracy] of every image on every process."""
        return corruption_accuracy_from_counts(self.counts, self.clean_counts, self.corruptions, self.severities)
