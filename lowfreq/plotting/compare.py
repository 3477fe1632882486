"""Scatter plots across runs (the per-setting table of [`aggregate_seeds`][lowfreq.results.compare.aggregate_seeds]).

Each point is a setting (mean over its seeds, error bars ± std where it has several), labelled with its name and
number of runs. ``plot_corruption_vs_f_rev`` adds P001's second-order polynomial fit over the Gaussian-blur
settings.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from lowfreq.plotting._common import figure_axes

__all__ = [
    "FIGURES",
    "plot_consistency_vs_ood",
    "plot_corruption_vs_f_rev",
    "plot_epsilon_vs_f_half",
    "plot_training_curves",
    "quadratic_fit",
]


def _scatter(ax: Axes, settings: pd.DataFrame, x: str, y: str, x_scale: float = 1.0, y_scale: float = 1.0) -> None:
    """Points with ± std error bars (several runs) and a text label each; one colour per setting."""
    for i, row in enumerate(settings.itertuples(index=False)):
        xv, yv = getattr(row, f"{x}_mean") * x_scale, getattr(row, f"{y}_mean") * y_scale
        xe, ye = getattr(row, f"{x}_seed_std") * x_scale, getattr(row, f"{y}_seed_std") * y_scale
        n = min(getattr(row, f"{x}_n"), getattr(row, f"{y}_n"))
        color = f"C{i % 10}"
        ax.errorbar(xv, yv, xerr=xe if n > 1 else None, yerr=ye if n > 1 else None, fmt="o", color=color,
                    capsize=3, label=f"{row.setting} (n={n} run{'s' if n != 1 else ''})")
    ax.grid(alpha=0.3)


def _legend(ax: Axes) -> None:
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False)


def plot_epsilon_vs_f_half(settings: pd.DataFrame, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Mean minimal L-inf epsilon (log scale, in 1/255) vs the half-power frequency f_0.5 (P001 Fig 4c).

    Args:
        settings: per-setting table with ``f_half_*`` and ``eps_mean_*`` columns.
        ax: axis to draw on (default: a new figure).
    """
    fig, ax = figure_axes(ax, figsize=(6.4, 3.4))
    _scatter(ax, settings, "f_half", "eps_mean", y_scale=255.0)
    ax.set_yscale("log")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.set_xlabel("f_0.5 of minimal perturbations (cycles/pixel)")
    ax.set_ylabel("mean minimal ε (L∞, ×1/255)")
    _legend(ax)
    return fig, ax


def quadratic_fit(x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """Coefficients (highest power first) of the least-squares parabola through the finite points.

    None when fewer than three distinct x values leave it undetermined.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    if len(np.unique(x[keep])) < 3:
        return None
    return np.polyfit(x[keep], y[keep], 2)


def plot_corruption_vs_f_rev(settings: pd.DataFrame, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Mean corruption accuracy (%) vs reversal frequency f_rev, with a quadratic fit over blur settings (P001 Fig 5b).

    Args:
        settings: per-setting table with ``f_rev_*``, ``corruption_acc_*`` and ``frontend`` columns.
        ax: axis to draw on (default: a new figure).
    """
    fig, ax = figure_axes(ax, figsize=(6.4, 3.4))
    _scatter(ax, settings, "f_rev", "corruption_acc", y_scale=100.0)
    blur = settings[settings["frontend"] == "GaussianBlur"]
    coeffs = quadratic_fit(blur["f_rev_mean"].to_numpy(), blur["corruption_acc_mean"].to_numpy() * 100.0)
    if coeffs is not None:
        grid = np.linspace(blur["f_rev_mean"].min(), blur["f_rev_mean"].max(), 100)
        ax.plot(grid, np.polyval(coeffs, grid), color="green", lw=1.2,
                label=f"quadratic fit over {len(blur)} blur settings")
    ax.set_xlabel("reversal frequency f_rev (Nyquist units)")
    ax.set_ylabel("mean corruption accuracy (%)")
    _legend(ax)
    return fig, ax


def plot_consistency_vs_ood(settings: pd.DataFrame, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Model-vs-human error consistency (κ) vs OOD accuracy (P000 Fig 4).

    Args:
        settings: per-setting table with ``ood_accuracy_*`` and ``error_consistency_*`` columns.
        ax: axis to draw on (default: a new figure).
    """
    fig, ax = figure_axes(ax, figsize=(6.4, 3.4))
    _scatter(ax, settings, "ood_accuracy", "error_consistency")
    ax.set_xlabel("OOD accuracy (fraction)")
    ax.set_ylabel("error consistency κ")
    _legend(ax)
    return fig, ax


def plot_training_curves(series: dict[str, tuple[list[int], list[float]]]) -> tuple[Figure, Axes]:
    """Logged scalars vs global step: losses on the left axis, accuracies (fraction) on the right.

    Args:
        series: ``{tag: (steps, values)}`` (see
            [`lowfreq.results.compare.logged_scalars`][lowfreq.results.compare.logged_scalars]);
            tags with "loss" go to the left axis, tags with "acc" to the right one, others are left out.
    """
    fig = Figure(figsize=(6.4, 3.2), layout="constrained")
    loss_ax = fig.add_subplot()
    acc_ax = loss_ax.twinx()
    for i, (tag, (steps, values)) in enumerate(sorted(series.items())):
        ax = loss_ax if "loss" in tag else acc_ax if "acc" in tag else None
        if ax is not None:
            marker = "o" if len(steps) < 30 else None
            ax.plot(steps, values, color=f"C{i % 10}", marker=marker, ms=3, lw=1.2,
                    ls="-" if ax is loss_ax else "--", label=f"{tag} (n={len(values)})")
    loss_ax.set_xlabel("global step")
    loss_ax.set_ylabel("loss (solid)")
    acc_ax.set_ylabel("accuracy, fraction (dashed)")
    handles = [h for ax in (loss_ax, acc_ax) for h in ax.get_legend_handles_labels()[0]]
    if handles:
        loss_ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3,
                       frameon=False)
    loss_ax.grid(alpha=0.3)
    return fig, loss_ax


FIGURES: dict[str, tuple[tuple[str, ...], Callable[[pd.DataFrame], tuple[Figure, Axes]]]] = {
    "eps_vs_f_half": (("f_half", "eps_mean"), plot_epsilon_vs_f_half),
    "corruption_vs_f_rev": (("f_rev", "corruption_acc"), plot_corruption_vs_f_rev),
    "consistency_vs_ood": (("ood_accuracy", "error_consistency"), plot_consistency_vs_ood),
}
"""Figure stem -> (the columns it needs, its plot function), as
[`lowfreq.results.compare.compare_runs`][lowfreq.results.compare.compare_runs] draws them."""
