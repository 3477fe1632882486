"""Bar chart of shape / texture / other decisions on cue-conflict images."""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lowfreq.plotting._common import count_text, figure_axes

__all__ = ["plot_cue_conflict"]


def plot_cue_conflict(result: Any, *, label: str | None = None, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Decisions (%) that follow the shape, the texture, or neither, with the shape bias and n in the title.

    Args:
        result: a ``lowfreq.analysis.CueConflictResult`` (or any object with its attributes ``shape_fraction``,
            ``texture_fraction``, ``other_fraction`` in [0, 1], ``shape_bias`` and optionally ``num_images``).
        label: the run, first line of the title.
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, (4.0, 3.2))
    values = [100 * float(result.shape_fraction), 100 * float(result.texture_fraction),
              100 * float(result.other_fraction)]
    bars = ax.bar(["shape", "texture", "other"], values, color=["tab:blue", "tab:orange", "tab:gray"])
    ax.bar_label(bars, labels=[f"{v:.0f} %" for v in values])
    ax.set_ylim(0, 110)
    ax.set_ylabel("decisions (%)")
    n = count_text(getattr(result, "num_images", None))
    details = ", ".join(t for t in (f"shape bias {float(result.shape_bias):.2f}", n) if t)
    ax.set_title(f"{label}\n{details}" if label else f"cue-conflict decisions ({details})", fontsize="small")
    return fig, ax
