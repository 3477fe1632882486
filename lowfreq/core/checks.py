"""Input validation with one wording for every error message."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "ImageTypeError",
    "LabelTypeError",
    "check_bool",
    "check_choice",
    "check_image",
    "check_indices",
    "check_labels",
    "check_positive_int",
    "check_range",
]


class ImageTypeError(TypeError, ValueError):
    """An input that is not a float image tensor: both a TypeError and a ValueError, so either catch works."""


class LabelTypeError(TypeError, ValueError):
    """Labels that are not an integer tensor: both a TypeError and a ValueError, so either catch works."""


def check_image(
    x: Any, name: str = "x", *, unit_range: bool = True, values: bool = True, channels: int | None = None
) -> None:
    """Raise unless ``x`` is a float (B, C, H, W) tensor; with ``values`` also finite and (``unit_range``) in [0, 1].

    ``values=False`` checks only type, shape and dtype, which needs no device synchronisation (hot loops).
    """
    if not isinstance(x, Tensor):
        raise ImageTypeError(f"{name} must be a torch.Tensor of shape (B, C, H, W), got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{name} must have shape (B, C, H, W), got {tuple(x.shape)}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name} must have {channels} channels, got shape {tuple(x.shape)}")
    if not torch.is_floating_point(x):
        raise ImageTypeError(f"{name} must be a floating-point tensor with values in [0, 1], got dtype {x.dtype}")
    if not values or x.numel() == 0:
        return
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} must be finite, got NaN or inf values")
    if unit_range:
        lo, hi = float(x.min()), float(x.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise ValueError(
                f"{name} must hold images in [0, 1], got values in [{lo:.4g}, {hi:.4g}] "
                "(pass un-normalised pixels; normalisation happens inside the backbone)"
            )


def check_range(
    name: str,
    value: float,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raise ValueError unless ``low <(=) value <(=) high`` and ``value`` is a finite real number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    lb, hb = "(" if low_open else "[", ")" if high_open else "]"
    interval = f"{lb}{low}, {high}{hb}"
    ok = math.isfinite(value) or (value == high == math.inf and not high_open)
    ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        raise ValueError(f"{name} must be in {interval}, got {value}")


def check_positive_int(name: str, value: int, minimum: int = 1) -> None:
    """Raise unless ``value`` is an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int >= {minimum}, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> None:
    """Raise ValueError listing the valid choices."""
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def check_bool(name: str, value: Any) -> None:
    """Raise TypeError unless ``value`` is a bool (a string such as "false" would otherwise count as True)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")


def check_labels(
    labels: Any,
    name: str = "labels",
    *,
    num_classes: int | None = None,
    length: int | None = None,
    classes_from: str | None = None,
) -> None:
    """Raise unless ``labels`` is a 1-D integer (not bool) tensor of class indices in [0, ``num_classes``).

    Without ``num_classes`` only negative labels are rejected (cross-entropy silently ignores -100).
    ``length`` fixes the number of labels; ``classes_from`` says where ``num_classes`` comes from, for the
    message. Reads the minimum and maximum (one device synchronisation): call it at entry points, not inside a
    training step.
    """
    if not isinstance(labels, Tensor):
        raise LabelTypeError(
            f"{name} must be a 1-D integer torch.Tensor of class indices, got {type(labels).__name__}"
        )
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise LabelTypeError(f"{name} must be an integer tensor of class indices, got dtype {labels.dtype}")
    if labels.ndim != 1 or (length is not None and labels.shape[0] != length):
        expected = f"({length},)" if length is not None else "(N,)"
        raise ValueError(f"{name} must have shape {expected}, got {tuple(labels.shape)}")
    if labels.numel() == 0:
        return
    lo, hi = int(labels.min()), int(labels.max())
    if num_classes is None:
        if lo < 0:
            raise ValueError(f"{name} must be class indices >= 0, got values in [{lo}, {hi}]")
    elif lo < 0 or hi >= num_classes:
        source = f" ({classes_from})" if classes_from else ""
        raise ValueError(
            f"{name} must be class indices in [0, {num_classes}){source}, got values in [{lo}, {hi}]"
        )


def check_indices(indices: Tensor | Sequence[int] | None, num_images: int) -> Tensor:
    """Dataset indices of ``num_images`` images (the keys of per-image seeds) as a CPU int64 tensor.

    None gives ``0 .. num_images - 1``.

    Raises:
        ValueError: not ``num_images`` integers (bools and floats included), or a negative index.
    """
    if indices is None:
        return torch.arange(num_images)
    index = torch.as_tensor(indices)
    if index.shape != (num_images,) or index.dtype.is_floating_point or index.dtype == torch.bool:
        raise ValueError(f"indices must be a ({num_images},) integer tensor of dataset indices (one per image), "
                         f"got {index.dtype} {tuple(index.shape)}")
    if num_images and int(index.min()) < 0:
        raise ValueError(f"indices must be >= 0, got minimum {int(index.min())}")
    return index.cpu().to(torch.int64)
