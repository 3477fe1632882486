"""Bar chart of shape / texture / other decisions on cue-conflict images."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lowfreq.plotting._common import figure_axes

__all__ = ["plot_cue_conflict"]


def plot_cue_conflict(
    shape_fraction: float, texture_fraction: float, other_fraction: float, *, ax: Axes | None = None
) -> tuple[Figure, Axes]:
    """Fractions of decisions that follow the shape, the texture, or neither."""
    fig, ax = figure_axes(ax, (4.0, 3.0))
    values = [shape_fraction, texture_fraction, other_fraction]
    bars = ax.bar(["shape", "texture", "other"], values, color=["tab:blue", "tab:orange", "tab:gray"])
    ax.bar_label(bars, labels=[f"{v:.0%}" for v in values])
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("fraction of decisions")
    bias = shape_fraction / (shape_fraction + texture_fraction) if shape_fraction + texture_fraction else float("nan")
    ax.set_title(f"cue-conflict decisions (shape bias {bias:.2f})")
    return fig, ax
