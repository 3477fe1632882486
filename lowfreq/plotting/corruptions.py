"""Figures of the corruption analysis (P001 Fig. 2c,g): accuracy by frequency band and severity, and a heat map.

Every function builds a ``matplotlib.figure.Figure`` directly (no pyplot state), takes an optional ``ax`` and
returns ``(fig, ax)``. The input is a ``lowfreq.analysis.CorruptionAccuracy`` or a mapping with its fields (e.g.
the ``result`` entry of the ``CorruptionAnalysis`` ``result.json`` read back).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lowfreq.data.corruptions.names import BAND_OF, BANDS
from lowfreq.plotting._common import as_array, figure_axes

__all__ = ["plot_corruption_heatmap", "plot_corruption_severity"]

_BAND_COLOURS = {"low": "C0", "medium": "C2", "high": "C3"}


def _field(result: Any, name: str) -> Any:
    value = result[name] if isinstance(result, Mapping) else getattr(result, name)
    return np.nan if value is None else value


def _floats(value: Any) -> np.ndarray:
    """Tensor / list with None (NaN in JSON) -> float array."""
    if hasattr(value, "detach"):
        return as_array(value)
    return np.array([[np.nan if v is None else v for v in row] if isinstance(row, list) else
                     (np.nan if row is None else row) for row in value], dtype=float)


def _count_text(num_images: np.ndarray) -> str:
    evaluated = num_images[num_images > 0]
    if evaluated.size == 0:
        return "n = 0"
    lo, hi = int(evaluated.min()), int(evaluated.max())
    return f"n = {lo} images per cell" if lo == hi else f"n = {lo}–{hi} images per cell"


def plot_corruption_severity(
    result: Any,
    *,
    label: str | None = None,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Accuracy (%) against severity for each frequency band and for the mean over all corruptions.

    Severity 0 is the clean accuracy (shared by every curve); severity s of a band is the mean over its
    corruptions at s, and the black line is the mean over every corruption (P001's per-severity curve).

    Args:
        result: a ``CorruptionAccuracy`` (or a mapping of its fields): ``severities`` (S,), ``severity_acc``
            (S + 1,), ``band_severity_acc`` (3, S), ``band_acc``, ``clean_acc``, ``num_images`` (C, S).
        label: prefix of the legend entries (call again with ``ax`` to compare models).
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, (4.6, 3.4))
    severities = [int(s) for s in _field(result, "severities")]
    clean = float(_field(result, "clean_acc"))
    bands = _floats(_field(result, "band_severity_acc")).reshape(len(BANDS), len(severities))
    band_acc = _field(result, "band_acc")
    prefix = f"{label} " if label else ""
    xs = [0, *severities]
    for b, band in enumerate(BANDS):
        if np.isnan(bands[b]).all():
            continue
        mean = band_acc.get(band)
        text = f" ({100 * mean:.1f}%)" if mean is not None and np.isfinite(mean) else ""
        ax.plot(xs, 100 * np.array([clean, *bands[b]]), "-o", markersize=3, color=_BAND_COLOURS[band],
                label=f"{prefix}{band}{text}")
    curve = _floats(_field(result, "severity_acc")).reshape(-1)
    ax.plot(xs, 100 * curve, "-s", markersize=3, color="k", label=f"{prefix}mean")
    ax.set_xticks(xs)
    ax.set_xlabel("severity (0 = clean)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.set_title(_count_text(_floats(_field(result, "num_images"))), fontsize="small")
    ax.legend(fontsize="x-small", frameon=False)
    return fig, ax


def plot_corruption_heatmap(result: Any, *, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Heat map of the accuracy (%) per corruption (rows, grouped low / medium / high) and severity (columns).

    Cells that were not evaluated are blank; each cell is annotated with its accuracy, the colour bar is in %,
    and the title states the number of images per cell and the unweighted mean.

    Args:
        result: a ``CorruptionAccuracy`` (or a mapping of its fields): ``corruptions`` (C,), ``severities`` (S,),
            ``acc`` (C, S), ``num_images`` (C, S), ``mean_acc``.
        ax: axes to draw into; None creates a new figure.
    """
    corruptions = list(_field(result, "corruptions"))
    severities = [int(s) for s in _field(result, "severities")]
    fig, ax = figure_axes(ax, (1.6 + 0.55 * len(severities) + 1.2, 0.8 + 0.28 * len(corruptions)))
    acc = _floats(_field(result, "acc")).reshape(len(corruptions), len(severities))
    order = sorted(range(len(corruptions)), key=lambda i: BANDS.index(BAND_OF[corruptions[i]]))
    values = 100 * acc[order]
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", vmin=0, vmax=100, aspect="auto")
    for r in range(values.shape[0]):
        for c in range(values.shape[1]):
            if np.isfinite(values[r, c]):
                ax.text(c, r, f"{values[r, c]:.0f}", ha="center", va="center", fontsize=6,
                        color="white" if values[r, c] < 50 else "black")
    ax.set_xticks(range(len(severities)), [str(s) for s in severities])
    ax.set_yticks(range(len(order)), [f"{corruptions[i]} ({BAND_OF[corruptions[i]][0].upper()})" for i in order],
                  fontsize=7)
    ax.set_xlabel("severity")
    fig.colorbar(image, ax=ax, label="accuracy (%)")
    mean = _field(result, "mean_acc")
    mean_text = f", mean {100 * float(mean):.1f}%" if mean is not None and np.isfinite(mean) else ""
    ax.set_title(_count_text(_floats(_field(result, "num_images"))) + mean_text, fontsize="small")
    return fig, ax
