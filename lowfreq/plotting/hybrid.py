"""Figures of the hybrid-image experiment (P001 Fig 3b, Fig 5a; P002's third class).

Every function builds a ``matplotlib.figure.Figure`` directly (no pyplot state), takes an optional ``ax`` and
returns ``(fig, ax)``. The input is the analysis result: a ``lowfreq.analysis.HybridCurve`` or any object with its
attributes (``f_mix`` in Nyquist units, ``p_low``, ``p_high``, ``p_other``,
``p_low_per_permutation``, ``p_high_per_permutation``, ``f_rev``, ``f_rev_std``); tensors, arrays or lists.
Call a function again with the same ``ax`` to overlay several models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor

from lowfreq.plotting._common import as_array, count_text, figure_axes, is_finite, legend_below
from lowfreq.spectral import make_hybrids

__all__ = ["plot_hybrid_curve", "plot_hybrid_examples", "plot_hybrid_probabilities"]


_FIGSIZE = (4.4, 4.0)  # room for the legend under the axes


def _pairs_text(curve: Any) -> str:
    """``"n = 1000 pairs x 4 pairings"``: the hybrids behind every rate of the curve ("" when unknown)."""
    n = getattr(curve, "num_pairs", None)
    if not is_finite(n):
        return ""
    per_perm = getattr(curve, "p_low_per_permutation", None)
    pairings = as_array(per_perm).shape[0] if per_perm is not None and as_array(per_perm).ndim == 2 else 1
    return count_text(n, "pairs") + (f" x {pairings} pairings" if pairings > 1 else "")


def _finish_f_mix_axes(ax: Axes, f_mix: Any, ylabel: str, ylim: tuple[float, float]) -> None:
    """Shared x axis (f_mix in Nyquist units over the measured range), y label and limits, legend under the axes."""
    ax.set_xlabel("$f_{mix}$ (Nyquist units; 1 = 0.5 cycles/pixel)")
    ax.set_ylabel(ylabel)
    ax.set_xlim(float(f_mix.min()), float(f_mix.max()))
    ax.set_ylim(*ylim)
    legend_below(ax, fontsize="small")


def plot_hybrid_curve(
    curve: Any,
    *,
    label: str | None = None,
    color: Any = None,
    show_permutations: bool = True,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """``p_low - p_high`` (%) against f_mix (Nyquist units) with f_rev marked (P001 Fig 3b).

    Draws the permutation-averaged curve, a band of ± one standard deviation across permutations, thin lines for
    the single permutations (``show_permutations``), and a dashed vertical line at ``f_rev`` labelled with its mean
    ± std over permutations.

    Args:
        curve: a ``HybridCurve`` (see the module docstring for the attributes used).
        label: legend label of the curve, e.g. the run (default "model"); the number of hybrids is appended.
        color: matplotlib colour of the curve (default: next in the cycle).
        show_permutations: draw every permutation's curve as a thin line.
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, _FIGSIZE)
    f_mix = as_array(curve.f_mix)
    per_perm = 100 * (as_array(curve.p_low_per_permutation) - as_array(curve.p_high_per_permutation))  # (P, F)
    mean, std = per_perm.mean(axis=0), per_perm.std(axis=0)
    pairs = _pairs_text(curve)
    text = f"{label or 'model'}\n{pairs}" if pairs else (label or "model")
    (line,) = ax.plot(f_mix, mean, marker="o", markersize=3, color=color, label=text, zorder=3)
    c = line.get_color()
    if per_perm.shape[0] > 1:
        ax.fill_between(f_mix, mean - std, mean + std, color=c, alpha=0.2, linewidth=0)
        if show_permutations:
            for row in per_perm:
                ax.plot(f_mix, row, color=c, alpha=0.35, linewidth=0.6)
    f_rev, f_rev_std = getattr(curve, "f_rev", None), getattr(curve, "f_rev_std", None)
    if is_finite(f_rev):
        text = f"$f_{{rev}}$ = {float(f_rev):.3f}" + (f" ± {float(f_rev_std):.3f}" if is_finite(f_rev_std) else "")
        ax.axvline(float(f_rev), color=c, linestyle="--", linewidth=1, label=text)
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    _finish_f_mix_axes(ax, f_mix, "$p_{low} - p_{high}$ (%)", (-100, 100))
    return fig, ax


def plot_hybrid_probabilities(curve: Any, *, label: str | None = None, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """``p_low``, ``p_high`` and the third-class rate ``p_other`` (%) against f_mix (Nyquist units) (P002).

    Args:
        curve: a ``HybridCurve``; ``confidence`` (mean max-softmax) is drawn too when present.
        label: the run, shown in the title with the number of hybrids.
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, _FIGSIZE)
    title = "\n".join(t for t in (label, _pairs_text(curve)) if t)
    if title:
        ax.set_title(title, fontsize="small")
    f_mix = as_array(curve.f_mix)
    for name, text, style in (
        ("p_low", "$p_{low}$", "-"),
        ("p_high", "$p_{high}$", "-"),
        ("p_other", "third class", ":"),
        ("confidence", "mean confidence", "--"),
    ):
        if getattr(curve, name, None) is not None:
            ax.plot(f_mix, 100 * as_array(getattr(curve, name)), style, marker="o", markersize=3, label=text)
    f_rev = getattr(curve, "f_rev", None)
    if is_finite(f_rev):
        ax.axvline(float(f_rev), color="0.4", linestyle="--", linewidth=1)
    _finish_f_mix_axes(ax, f_mix, "% of hybrids (confidence: mean max-softmax, %)", (-2, 102))
    return fig, ax


def plot_hybrid_examples(
    x_low: Tensor,
    x_high: Tensor,
    f_mix_nyquist: Sequence[float],
    *,
    labels_low: Sequence[int] | None = None,
    labels_high: Sequence[int] | None = None,
    class_names: Sequence[str] | None = None,
    label: str | None = None,
) -> tuple[Figure, Axes]:
    """A grid of example hybrids: one row per pair, the two seeds, then the hybrid at each ``f_mix`` (P001 Fig 3a).

    Args:
        x_low: (B, C, H, W) images in [0, 1] giving the low frequencies (one row each).
        x_high: images of the same shape giving the high frequencies.
        f_mix_nyquist: mixing frequencies in Nyquist units (1 = 0.5 cycles/pixel), one column each.
        labels_low: class of each low seed (shown in the row's first title); None shows none.
        labels_high: class of each high seed.
        class_names: names of the classes (default: the class numbers).
        label: the model or run, named first in the title.

    Returns:
        ``(fig, ax)`` with ``ax`` the top-left image.
    """
    values = [float(f) for f in f_mix_nyquist]
    hybrids = list(make_hybrids(x_low.detach().float().cpu(), x_high.detach().float().cpu(), [f / 2 for f in values]))
    rows, cols = len(x_low), 2 + len(values)
    fig = Figure(figsize=(1.3 * cols, 1.4 * rows + 0.3), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)

    def name(labels: Sequence[int] | None, i: int) -> str:
        if labels is None:
            return ""
        k = int(labels[i])
        return f"\n{class_names[k]}" if class_names is not None and k < len(class_names) else f"\nclass {k}"

    for i in range(rows):
        images = [x_low[i], x_high[i], *(h[i] for h in hybrids)]
        titles = [f"low seed{name(labels_low, i)}", f"high seed{name(labels_high, i)}",
                  *(f"$f_{{mix}}$ = {f:g}" for f in values)]
        for j, (ax, image, title) in enumerate(zip(axes[i], images, titles, strict=True)):
            picture = image.detach().float().cpu().clamp(0, 1).permute(1, 2, 0).numpy()
            ax.imshow(picture[..., 0] if picture.shape[-1] == 1 else picture, cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0 or j < 2:  # the seeds' classes on every row, f_mix on the top row
                ax.set_title(title, fontsize="x-small")
    title = "hybrids: frequencies below $f_{mix}$ (Nyquist units) from the low seed"
    fig.suptitle(f"{label}\n{title}" if label else title, fontsize="small")
    return fig, axes[0][0]

