"""Shape vs texture decisions on cue-conflict images (the embedded synthetic data's shortcut test).

[`cue_conflict_decisions`][lowfreq.analysis.cue_conflict.cue_conflict_decisions] evaluates a model on a set of images;
[`CueConflictMetric`][lowfreq.analysis.cue_conflict.CueConflictMetric] accumulates the same counts from logits batch by
batch (from a validation step or a callback) and syncs them across processes. Both are built on ``cue_conflict_counts``,
so they cannot diverge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import Metric

from lowfreq.core.checks import check_image, check_labels, check_positive_int
from lowfreq.core.device import analysis_mode, image_progress, model_device_dtype

__all__ = [
    "CueConflictMetric",
    "CueConflictResult",
    "cue_conflict_counts",
    "cue_conflict_decisions",
    "cue_conflict_result",
    "shape_bias_from_counts",
]


@dataclass
class CueConflictResult:
    """Decisions on images whose shape class and texture class differ.

    ``shape_fraction``/``texture_fraction``/``other_fraction`` sum to 1; ``shape_bias`` =
    num_shape / (num_shape + num_texture) (NaN when there is neither), as model-vs-human defines it.
    """

    num_images: int
    shape_fraction: float
    texture_fraction: float
    other_fraction: float
    shape_bias: float


def shape_bias_from_counts(num_shape: int, num_texture: int) -> float:
    """Shape bias ``num_shape / (num_shape + num_texture)`` (model-vs-human's definition); NaN when both are 0."""
    return num_shape / (num_shape + num_texture) if num_shape + num_texture else float("nan")


def cue_conflict_counts(logits: Tensor, y_shape: Tensor, y_texture: Tensor) -> Tensor:
    """Counts of predictions equal to the shape class, the texture class, or neither.

    Args:
        logits: (N, K) logits.
        y_shape: (N,) shape classes in [0, K).
        y_texture: (N,) texture classes in [0, K), different from ``y_shape`` everywhere.

    Returns:
        (3,) int64 tensor on the device of ``logits``: (shape, texture, other) counts.
    """
    if not isinstance(logits, Tensor) or logits.ndim != 2:
        got = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
        raise ValueError(f"logits must have shape (N, K), got {got}")
    num_classes, n = int(logits.shape[-1]), int(logits.shape[0])
    source = f"the model outputs {num_classes} logits"  # classes it cannot output would count as "other"
    for name, y in (("y_shape", y_shape), ("y_texture", y_texture)):
        check_labels(y, name, num_classes=num_classes, length=n, classes_from=source)
    if (y_shape == y_texture).any():
        raise ValueError("y_texture must differ from y_shape on every cue-conflict image")
    pred = logits.argmax(dim=-1)
    shape, texture = pred == y_shape.to(pred.device), pred == y_texture.to(pred.device)
    return torch.stack([shape.sum(), texture.sum(), (~shape & ~texture).sum()]).long()


def cue_conflict_result(counts: Tensor) -> CueConflictResult:
    """Fractions and shape bias from (shape, texture, other) counts (a (3,) tensor with a positive sum)."""
    num = int(counts.sum())
    if counts.shape != (3,) or num <= 0:
        raise ValueError(f"counts must be 3 (shape, texture, other) counts with a positive sum, got {counts.tolist()}")
    num_shape, num_texture, num_other = (int(c) for c in counts)
    return CueConflictResult(
        num, num_shape / num, num_texture / num, num_other / num, shape_bias_from_counts(num_shape, num_texture)
    )


def cue_conflict_decisions(
    model: nn.Module,
    x: Tensor,
    y_shape: Tensor,
    y_texture: Tensor,
    *,
    batch_size: int = 256,
    progress: bool = False,
) -> CueConflictResult:
    """Fractions of shape-following and texture-following decisions of ``model`` on cue-conflict images.

    Args:
        model: maps (B, C, H, W) images in [0, 1] to logits (B, K); run in eval mode under no_grad on the device
            and float dtype of its parameters (training flag restored afterwards).
        x: (N, C, H, W) cue-conflict images in [0, 1].
        y_shape: (N,) shape classes.
        y_texture: (N,) texture classes, different from ``y_shape`` for every image.
        batch_size: images per forward pass.
        progress: show a bar counting the images, with the time left.
    """
    check_image(x)
    check_positive_int("batch_size", batch_size)
    check_labels(y_shape, "y_shape", length=x.shape[0])
    check_labels(y_texture, "y_texture", length=x.shape[0])
    device, dtype = model_device_dtype(model, x)
    counts = torch.zeros(3, dtype=torch.long)
    with analysis_mode(model), image_progress(x.shape[0], "cue conflict", progress) as bar:
        for start in range(0, x.shape[0], batch_size):
            sl = slice(start, start + batch_size)
            logits = model(x[sl].to(device=device, dtype=dtype))
            counts += cue_conflict_counts(logits, y_shape[sl], y_texture[sl]).cpu()
            bar.update(logits.shape[0])
    return cue_conflict_result(counts)


class CueConflictMetric(Metric):
    """[`cue_conflict_decisions`][lowfreq.analysis.cue_conflict.cue_conflict_decisions] as a torchmetrics ``Metric``.

    Each [`update`][lowfreq.analysis.cue_conflict.CueConflictMetric.update] counts the decisions of a batch of logits;
    [`compute`][lowfreq.analysis.cue_conflict.CueConflictMetric.compute] sums the (3,) counts of every process (a
    fixed-size sum state) and returns the [`CueConflictResult`][lowfreq.analysis.cue_conflict.CueConflictResult].

    Args:
        kwargs: ``torchmetrics.Metric`` options (e.g. ``process_group``).

    Example:
        Shape bias on a cue-conflict validation set, synced across processes::

            def validation_step(self, batch, batch_idx):
                x, y_shape, y_texture = batch
                self.cue_conflict.update(self(x), y_shape, y_texture)  # self.cue_conflict = CueConflictMetric()

            def on_validation_epoch_end(self):
                self.log("val_shape_bias", self.cue_conflict.compute().shape_bias)
                self.cue_conflict.reset()
    """

    is_differentiable = False
    higher_is_better = None
    full_state_update = False
    counts: Tensor

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_state("counts", torch.zeros(3, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, logits: Tensor, y_shape: Tensor, y_texture: Tensor) -> None:
        """Count the decisions of a batch (see ``cue_conflict_counts``).

        Args:
            logits: (N, K) logits of cue-conflict images.
            y_shape: (N,) shape classes.
            y_texture: (N,) texture classes, different from ``y_shape`` everywhere.
        """
        self.counts += cue_conflict_counts(logits.detach(), y_shape, y_texture).to(self.counts.device)

    def compute(self) -> CueConflictResult:
        """[`CueConflictResult`][lowfreq.analysis.cue_conflict.CueConflictResult] of every image on every process."""
        return cue_conflict_result(self.counts)
