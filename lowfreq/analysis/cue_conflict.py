"""Shape vs texture decisions on cue-conflict images (the embedded synthetic data's shortcut test)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from lowfreq._checks import check_image, check_labels, check_positive_int

__all__ = ["CueConflictResult", "cue_conflict_counts", "cue_conflict_decisions", "cue_conflict_result"]


@dataclass
class CueConflictResult:
    """Decisions on images whose shape class and texture class differ.

    ``shape_fraction``/``texture_fraction``/``other_fraction`` sum to 1; ``shape_bias`` =
    n_shape / (n_shape + n_texture) (NaN when there is neither), as model-vs-human defines it.
    """

    num_images: int
    shape_fraction: float
    texture_fraction: float
    other_fraction: float
    shape_bias: float


def cue_conflict_counts(logits: Tensor, y_shape: Tensor, y_texture: Tensor) -> Tensor:
    """(3,) int64 counts of predictions equal to the shape class, the texture class, or neither."""
    if (y_shape == y_texture).any():
        raise ValueError("y_texture must differ from y_shape on every cue-conflict image")
    pred = logits.argmax(dim=-1)
    shape, texture = pred == y_shape, pred == y_texture
    return torch.stack([shape.sum(), texture.sum(), (~shape & ~texture).sum()]).long()


def cue_conflict_result(counts: Tensor) -> CueConflictResult:
    """Fractions and shape bias from (shape, texture, other) counts."""
    n = int(counts.sum())
    n_shape, n_texture, n_other = (int(c) for c in counts)
    bias = n_shape / (n_shape + n_texture) if n_shape + n_texture else float("nan")
    return CueConflictResult(n, n_shape / n, n_texture / n, n_other / n, bias)


@torch.no_grad()
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
        model: maps (B, C, H, W) images in [0, 1] to logits (B, K); evaluated in its current mode.
        x: (N, C, H, W) cue-conflict images in [0, 1].
        y_shape, y_texture: (N,) shape and texture classes, different for every image.
        batch_size: images per forward pass.
        progress: show a progress bar.
    """
    check_image(x)
    check_positive_int("batch_size", batch_size)
    check_labels(y_shape, "y_shape", length=x.shape[0])
    check_labels(y_texture, "y_texture", length=x.shape[0])
    device = next(model.parameters(), torch.empty(0)).device
    counts = torch.zeros(3, dtype=torch.long)
    for start in tqdm(range(0, x.shape[0], batch_size), desc="cue conflict", disable=not progress, leave=False):
        sl = slice(start, start + batch_size)
        logits = model(x[sl].to(device))
        if start == 0:  # classes the model cannot output would silently count as "other"
            num_classes = int(logits.shape[-1])
            source = f"the model outputs {num_classes} logits"
            for name, y in (("y_shape", y_shape), ("y_texture", y_texture)):
                check_labels(y, name, num_classes=num_classes, classes_from=source)
        counts += cue_conflict_counts(logits.cpu(), y_shape[sl], y_texture[sl])
    return cue_conflict_result(counts)
