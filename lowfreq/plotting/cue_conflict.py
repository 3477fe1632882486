"""Bar chart of shape / texture / other decisions on cue-conflict images."""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lowfreq.plotting._common import figure_axes

__all__ = ["plot_cue_conflict"]


def plot_cue_conflict(result: Any, *, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Fractions of decisions that follow the shape, the texture, or neither, with the shape bias in the title.

    Args:
        result: a ``lowfreq.analysis.CueConflictResult`` (or any object with its attributes ``shape_fraction``,
            ``texture_fraction``, ``other_fraction`` in [0, 1] and ``shape_bias``).
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, (4.0, 3.0))
    values = [float(result.shape_fraction), float(result.texture_fraction), float(result.other_fraction)]
    bars = ax.bar(["shape", "texture", "other"], values, color=["tab:blue", "tab:orange", "tab:gray"])
    ax.bar_label(bars, labels=[f"{v:.0%}" for v in values])
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("fraction of decisions")
    ax.set_title(f"cue-conflict decisions (shape bias {float(result.shape_bias):.2f})")
    return fig, ax
