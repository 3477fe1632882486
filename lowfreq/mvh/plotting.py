"""Figures of paper 000 (model-vs-human alignment): sweeps (Figs 2-3), kappa vs OOD accuracy (Fig. 4), shape bias.

Every function builds a ``matplotlib.figure.Figure`` directly (no pyplot state, so no GUI backend is ever
touched: the figures render with Agg whatever ``MPLBACKEND`` says), takes an optional ``ax`` and returns
``(fig, ax)``. Inputs are the results of the analyses: the DataFrame of
[`lowfreq.mvh.alignment_sweep`][lowfreq.mvh.decisions.alignment_sweep] and the dict of
[`lowfreq.mvh.benchmark`][lowfreq.mvh.metrics.benchmark] (one result, or a list of them for several models).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lowfreq.plotting._common import count_text, figure_axes, is_finite, legend_below

__all__ = [
    "METRIC_LABELS",
    "plot_alignment_sweep",
    "plot_benchmark",
    "plot_benchmark_consistency",
    "plot_benchmark_summary",
    "plot_consistency_vs_accuracy",
    "plot_shape_bias_per_class",
    "plot_sweep_panels",
]

#: Axis labels of the benchmark metrics.
METRIC_LABELS: dict[str, str] = {
    "shape_bias": "shape bias",
    "error_consistency": "error consistency (κ)",
    "observed_consistency": "observed consistency",
    "accuracy_difference": "accuracy difference (squared)",
    "ood_accuracy": "OOD accuracy",
}
_HUMAN_COLOUR = (165 / 255, 30 / 255, 55 / 255)  # model-vs-human's red for humans


_FIGSIZE = (4.0, 3.2)


def _finite_or_zero(value: Any) -> float:
    return float(value) if is_finite(value) else 0.0


def _results(result: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One benchmark result or several, as a list."""
    return [result] if isinstance(result, Mapping) else list(result)


def _is_human_reference(result: Mapping[str, Any]) -> bool:
    """The humans-vs-humans result itself (``benchmark_from_raw_data(dir, None)``), not a model's."""
    return result.get("model") == "humans" and "humans" not in result


def _human_block(results: Sequence[Mapping[str, Any]], key: str) -> Mapping[str, Any] | None:
    """The humans' block (the reference itself, or the first model's ``humans``) that has ``key``, else None."""
    for r in results:
        block = r if _is_human_reference(r) else r.get("humans") or {}
        if block.get(key) not in (None, {}):
            return block
    return None


def _cue_conflict_trials(block: Mapping[str, Any]) -> Any:
    return (block.get("datasets") or {}).get("cue-conflict", {}).get("num_trials")


def _one_minus(x: Any) -> Any:
    return 1.0 - np.asarray(x, dtype=float)


def _with_count(name: str, n: Any) -> str:
    count = count_text(n, "trials")
    return f"{name} ({count})" if count else name


def plot_alignment_sweep(
    table: Any,
    metric: str = "error_consistency",
    *,
    x: str = "value",
    xlabel: str = "blur σ (px)",
    label: str | None = None,
    human: float | None = None,
    invert_x: bool = False,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """One metric against the front-end strength (paper 000, Fig. 2 A-D; call repeatedly for Fig. 3).

    Args:
        table: sweep table (``alignment_sweep``) with column ``x`` and ``metric``; ``human_<metric>`` columns,
            when present and ``human`` is None, draw the human reference.
        metric: one of ``METRIC_LABELS``.
        x: column on the x axis ("value": sigma in px, or resize resolution R1).
        xlabel: x-axis label, e.g. "blur σ (px)" or "resize resolution R1 (px)".
        label: legend entry of this curve.
        human: human reference value drawn as a dashed horizontal line.
        invert_x: decreasing x (use for R1, so that the resize strength grows to the right).
        ax: axes to draw into; None creates a new figure.
    """
    if metric not in METRIC_LABELS:
        raise ValueError(f"metric must be one of {list(METRIC_LABELS)}, got {metric!r}")
    fig, ax = figure_axes(ax, _FIGSIZE)
    t = table.sort_values(x)
    ax.plot(t[x].to_numpy(float), t[metric].to_numpy(float), marker="o", label=label)
    ref = human
    if ref is None and f"human_{metric}" in t.columns and len(t):
        ref = float(t[f"human_{metric}"].iloc[0])
    if is_finite(ref):
        ax.axhline(float(ref), color=_HUMAN_COLOUR, linestyle="--", linewidth=1, label="humans")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(METRIC_LABELS[metric])
    if invert_x and not ax.xaxis_inverted():
        ax.invert_xaxis()
    if label is not None or is_finite(ref):
        ax.legend(frameon=False, fontsize="small")
    return fig, ax


def plot_sweep_panels(
    table: Any,
    *,
    xlabel: str = "blur σ (px)",
    metrics: Sequence[str] = ("shape_bias", "error_consistency", "ood_accuracy"),
    label: str | None = None,
    invert_x: bool = False,
) -> tuple[Figure, np.ndarray]:
    """Side-by-side [`plot_alignment_sweep`][lowfreq.mvh.plotting.plot_alignment_sweep] panels for several metrics.

    Returns ``(fig, axes)``.
    """
    fig = Figure(figsize=(3.6 * len(metrics), 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(metrics)))
    for ax, metric in zip(axes, metrics, strict=True):
        plot_alignment_sweep(table, metric, xlabel=xlabel, label=label, invert_x=invert_x, ax=ax)
    return fig, axes


def plot_consistency_vs_accuracy(
    points: Mapping[str, Any],
    *,
    human: tuple[float, float] | None = None,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Error consistency against OOD accuracy (paper 000, Fig. 4).

    Args:
        points: ``{label: table}`` with sweep tables (a line per model through its settings), or
            ``{label: (ood_accuracy, error_consistency)}`` for single points.
        human: (OOD accuracy, kappa) of humans, drawn as a star; the dashed line kappa = 0 is chance.
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, _FIGSIZE)
    for label, p in points.items():
        if hasattr(p, "columns"):
            t = p.sort_values("ood_accuracy")
            ax.plot(
                t["ood_accuracy"].to_numpy(float),
                t["error_consistency"].to_numpy(float),
                marker="o",
                label=label,
            )
        else:
            ax.plot([float(p[0])], [float(p[1])], marker="o", linestyle="", label=label)
    if human is not None and is_finite(human[0]) and is_finite(human[1]):
        ax.plot(
            [human[0]],
            [human[1]],
            marker="*",
            markersize=12,
            linestyle="",
            color=_HUMAN_COLOUR,
            label="humans",
        )
        ax.axvline(human[0], color=_HUMAN_COLOUR, linestyle=":", linewidth=0.8)
    ax.axhline(0.0, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlabel(METRIC_LABELS["ood_accuracy"])
    ax.set_ylabel(METRIC_LABELS["error_consistency"])
    ax.legend(frameon=False, fontsize="small")
    return fig, ax


def plot_shape_bias_per_class(
    result: Mapping[str, Any] | Sequence[Mapping[str, Any]], *, ax: Axes | None = None
) -> tuple[Figure, Axes]:
    """Per-category shape bias of the model(s) and the humans (model-vs-human's shape-bias plot).

    One row per category, one marker per observer: the fraction of 'shape' decisions among the cue-conflict
    decisions that follow the shape or the texture (bottom axis; the top axis reads it as the fraction of
    'texture' decisions). Each observer's overall shape bias is a vertical line; the legend gives its number of
    cue-conflict trials.

    Args:
        result: a [`benchmark`][lowfreq.mvh.metrics.benchmark] result with ``shape_bias_per_class``
            (``{class: shape bias}``) and ``shape_bias`` for the model and, under ``humans``, for the pooled human
            observers; or a list of them (several models; the humans are drawn once, from the first result that has
            them). Categories are sorted by the humans' values when present, highest first.
        ax: axes to draw into; None creates a new figure.
    """
    results = _results(result)
    per_class: dict[str, Mapping[str, float]] = {}
    overall: dict[str, Any] = {}
    trials: dict[str, Any] = {}
    for r in results:
        name = str(r.get("model", "model"))
        if r.get("shape_bias_per_class") and not _is_human_reference(r):
            per_class[name] = r["shape_bias_per_class"]
            overall[name], trials[name] = r.get("shape_bias"), _cue_conflict_trials(r)
    humans = _human_block(results, "shape_bias_per_class")
    if humans is not None:
        per_class["humans"] = humans["shape_bias_per_class"]
        overall["humans"], trials["humans"] = humans.get("shape_bias"), _cue_conflict_trials(humans)
    if not per_class:
        raise ValueError("result has no shape_bias_per_class (no cue-conflict stimuli were evaluated)")
    fig, ax = figure_axes(ax, (4.5, 5.0))
    observers = list(per_class)
    key = "humans" if "humans" in per_class else observers[0]
    classes = list(per_class[key])

    def value(obs: str, c: str) -> float:  # NaN for a missing class or a JSON null
        v = per_class[obs].get(c)
        return float(v) if is_finite(v) else math.nan

    classes.sort(key=lambda c: -np.nan_to_num(value(key, c), nan=-1.0))
    ypos = np.arange(len(classes))
    markers = "o^svP*X"  # the diamond is the humans'
    for i, obs in enumerate(observers):
        vals = np.array([value(obs, c) for c in classes], dtype=float)
        colour = _HUMAN_COLOUR if obs == "humans" else f"C{i}"
        marker = "D" if obs == "humans" else markers[i % len(markers)]
        ax.scatter(
            vals, ypos, marker=marker, color=colour, label=_with_count(obs, trials.get(obs)), zorder=3,
            clip_on=False,
        )
        if is_finite(overall.get(obs)):
            ax.axvline(float(overall[obs]), color=colour, linewidth=1)
    ax.set_yticks(ypos, classes)
    ax.set_ylim(len(classes) - 0.5, -0.5)
    ax.set_xlim(0, 1)
    ax.set_xlabel("fraction of 'shape' decisions")
    top = ax.secondary_xaxis("top", functions=(_one_minus, _one_minus))
    top.set_xlabel("fraction of 'texture' decisions")
    ax.grid(axis="y", linestyle=":", alpha=0.4)
    legend_below(ax, fontsize="small")
    return fig, ax


def plot_benchmark_consistency(
    result: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    per_dataset: bool = True,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Error consistency against OOD accuracy of benchmark results: model(s) and humans (paper 000 Fig. 4).

    A large marker per observer at its benchmark values (mean over datasets), drawn by
    ``plot_consistency_vs_accuracy`` (humans: a star, humans-vs-humans κ); with ``per_dataset`` also a small
    marker per dataset in the observer's colour. The title gives the number of datasets.

    Args:
        result: a ``benchmark`` result (with its ``humans`` reference), the humans-vs-humans
            result of ``benchmark_from_raw_data(dir, None)``, or a list of results (several models).
        per_dataset: also draw each dataset's point.
        ax: axes to draw into; None creates a new figure.
    """
    results = _results(result)
    models = [r for r in results if not _is_human_reference(r)]
    points = {
        str(r.get("model", "model")): (r["ood_accuracy"], r["error_consistency"])
        for r in models
        if is_finite(r.get("ood_accuracy")) and is_finite(r.get("error_consistency"))
    }
    humans = _human_block(results, "datasets")
    human = None
    if humans is not None and is_finite(humans.get("ood_accuracy")) and is_finite(humans.get("error_consistency")):
        human = (float(humans["ood_accuracy"]), float(humans["error_consistency"]))
    fig, ax = plot_consistency_vs_accuracy(points, human=human, ax=ax)
    colours = {line.get_label(): line.get_color() for line in ax.get_lines()}
    names: set[str] = set()
    if per_dataset:
        observers = [(str(r.get("model", "model")), r) for r in models]
        observers += [] if humans is None else [("humans", humans)]
        for name, block in observers:
            entries = (block.get("datasets") or {}).values()
            xy = [(e.get("ood_accuracy"), e.get("error_consistency")) for e in entries]
            xy = [(x, y) for x, y in xy if is_finite(x) and is_finite(y)]
            if not xy:
                continue
            colour = colours.get(name, _HUMAN_COLOUR if name == "humans" else "grey")
            ax.plot(
                [p[0] for p in xy], [p[1] for p in xy], marker="o", markersize=3.5, linestyle="", alpha=0.45,
                color=colour, label=f"{name}, per dataset", zorder=1,
            )
    for block in [*models, *([] if humans is None else [humans])]:
        names.update(block.get("datasets") or {})
    ax.set_xlim(0, 1)
    ax.set_title(count_text(len(names), "datasets"), fontsize="small")
    legend_below(ax, fontsize="small", ncols=2)
    return fig, ax


def plot_benchmark_summary(
    result: Mapping[str, Any],
    *,
    metrics: Sequence[str] = ("shape_bias", "error_consistency", "observed_consistency", "ood_accuracy"),
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Bars of a model's benchmark metrics next to the humans-vs-humans reference (``benchmark`` output)."""
    fig, ax = figure_axes(ax, (5.0, 3.2))
    humans = result.get("humans", {})
    pos = np.arange(len(metrics))
    width = 0.38
    model_vals = [_finite_or_zero(result.get(m)) for m in metrics]
    human_vals = [_finite_or_zero(humans.get(m)) for m in metrics]
    ax.bar(pos - width / 2, model_vals, width, label=str(result.get("model", "model")))
    if humans:
        ax.bar(pos + width / 2, human_vals, width, color=_HUMAN_COLOUR, label="humans")
    ax.set_xticks(pos, [METRIC_LABELS[m] for m in metrics], rotation=20, ha="right")
    ax.set_ylim(min(0.0, *model_vals, *human_vals) - 0.05, 1.0)
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.legend(frameon=False, fontsize="small")
    return fig, ax


def plot_benchmark(result: Mapping[str, Any], *, axes: Sequence[Axes] | None = None) -> tuple[Figure, Sequence[Axes]]:
    """Per-class shape bias (left) and the summary (right) of one [`benchmark`][lowfreq.mvh.metrics.benchmark] result.

    Args:
        result: the benchmark result of one model (with its ``humans`` reference when present).
        axes: two axes to draw into; None creates a new figure.
    """
    if axes is None:
        fig = Figure(figsize=(10, 4.6), layout="constrained")
        axes = list(fig.subplots(1, 2, width_ratios=(1, 1.2)))
    else:
        fig = axes[0].get_figure()  # type: ignore[assignment]
    if result.get("shape_bias_per_class") or result.get("humans", {}).get("shape_bias_per_class"):
        plot_shape_bias_per_class(result, ax=axes[0])
    else:
        axes[0].set_axis_off()
        axes[0].text(0.5, 0.5, "no cue-conflict stimuli", ha="center", va="center")
    plot_benchmark_summary(result, ax=axes[1])
    return fig, axes
