"""Helpers shared by the plotting modules (no pyplot state)."""

from __future__ import annotations

import math
from typing import Any, TypeGuard

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["as_array", "count_text", "figure_axes", "is_finite", "legend_below", "legend_outside"]


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


def count_text(n: Any, what: str = "images") -> str:
    """``"n = 1000 images"`` (the sample size behind a rate), or "" when ``n`` is unknown."""
    return f"n = {int(n)} {what}".rstrip() if is_finite(n) else ""


def legend_below(ax: Axes, **kwargs: Any) -> None:
    """A legend under the axes (below the x label), off the data; long entries keep the figure's width."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), borderaxespad=0.0, frameon=False, **kwargs)


def legend_outside(ax: Axes, **kwargs: Any) -> None:
    """A legend to the right of the axes, off the data (constrained layout makes room for it)."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False, **kwargs)
