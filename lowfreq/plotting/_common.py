"""Helpers shared by the plotting modules (no pyplot state)."""

from __future__ import annotations

import math
from typing import Any, TypeGuard

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["as_array", "figure_axes", "is_finite"]


def figure_axes(ax: Axes | None, figsize: tuple[float, float] = (4.2, 3.2)) -> tuple[Figure, Axes]:
    """``(ax.figure, ax)`` when an axis is given, else a new constrained-layout Figure with one axis."""
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def as_array(value: Any) -> np.ndarray:
    """Tensor, array or list -> float numpy array."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=float)


def is_finite(value: Any) -> TypeGuard[float]:
    """A real number that is neither None, NaN nor infinite."""
    return isinstance(value, (int, float, np.floating)) and not isinstance(value, bool) and math.isfinite(float(value))
