"""Cross-run overlays of the analysis curves, drawn from the ``result.json`` payloads that the callbacks write.

Each function takes ``runs``, a sequence of ``(label, payload)`` pairs (one per run, ``payload`` the parsed
``analysis/<name>/result.json``), draws one curve per run in its own colour, and returns ``(fig, ax)`` (the first
axis where there are several panels). [`OVERLAYS`][lowfreq.plotting.overlays.OVERLAYS] names them by figure stem with
the analysis they read and a test of whether a payload has what the curve needs, as
[`lowfreq.results.compare.compare_runs`][lowfreq.results.compare.compare_runs] and the report use them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lowfreq.plotting._common import as_array, legend_below

__all__ = [
    "OVERLAYS",
    "Overlay",
    "overlay_band_pass",
    "overlay_component_accuracy",
    "overlay_component_cutoffs",
    "overlay_corruption_bands",
    "overlay_cue_conflict",
    "overlay_heat_map_profile",
    "overlay_hybrid",
    "overlay_mask_radial_energy",
    "overlay_perturbation_profile",
]

Runs = Sequence[tuple[str, dict[str, Any]]]

_MAX_COMPONENT_PANELS = 4


def _get(payload: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(payload, dict) or key not in payload:
            return None
        payload = payload[key]
    return payload


def _new(width: float = 5.6, height: float = 4.2, panels: int = 1) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=(width * (1 + 0.75 * (panels - 1)), height), layout="constrained")
    return fig, [fig.add_subplot(1, panels, i + 1) for i in range(panels)]


def _named(label: str, n: Any) -> str:
    """The run's legend entry with the number behind its curve."""
    return f"{label} (n={n})" if n else label


def _finish(ax: Axes, xlabel: str, ylabel: str, *, percent: bool = True) -> tuple[Figure, Axes]:
    """Labels, a 0-100 % range where the curve is a rate, grid and the legend under the axes."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if percent:
        ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    legend_below(ax, fontsize="small")
    return ax.figure, ax  # type: ignore[return-value]


def overlay_hybrid(runs: Runs) -> tuple[Figure, Axes]:
    """p_low (solid) and p_high (dashed) against f_mix (Nyquist units), one colour per run (P001 Fig 3b)."""
    _fig, (ax,) = _new()
    for i, (label, payload) in enumerate(runs):
        curve = payload["hybrid"]
        f_mix = as_array(curve["f_mix"])
        color = f"C{i % 10}"
        n = curve.get("num_pairs")
        ax.plot(f_mix, 100 * as_array(curve["p_low"]), "-", color=color, label=_named(label, n))
        ax.plot(f_mix, 100 * as_array(curve["p_high"]), "--", color=color)
    ax.plot([], [], "-", color="0.3", label="p_low: low seed's class")
    ax.plot([], [], "--", color="0.3", label="p_high: high seed's class")
    return _finish(ax, "$f_{mix}$ (Nyquist units; 1 = 0.5 cycles/pixel)", "hybrids classified as (%)")


def overlay_component_accuracy(runs: Runs) -> tuple[Figure, Axes]:
    """Accuracy on low- (solid) and high-frequency components (dashed) along training, one panel per radius."""
    radii = [float(r) for r in runs[0][1]["radii"]][:_MAX_COMPONENT_PANELS]
    fig, axes = _new(4.4, 4.2, len(radii))
    for i, (label, payload) in enumerate(runs):
        history = payload["history"]
        x_key = "epoch" if all("epoch" in h for h in history) else "global_step"
        xs = as_array([h[x_key] for h in history])
        run_radii = [float(r) for r in payload["radii"]]
        low = as_array([h["acc_low"] for h in history]).reshape(len(history), -1)
        high = as_array([h["acc_high"] for h in history]).reshape(len(history), -1)
        marker = "o" if len(xs) < 30 else None
        for ax, radius in zip(axes, radii, strict=False):
            if radius not in run_radii:
                continue
            j = run_radii.index(radius)
            ax.plot(xs, 100 * low[:, j], "-", marker=marker, ms=3, color=f"C{i % 10}", label=label)
            ax.plot(xs, 100 * high[:, j], "--", marker=marker, ms=3, color=f"C{i % 10}")
            ax.set_xlabel(x_key.replace("_", " "))
    cycles = runs[0][1].get("radii_cycles") or [None] * len(radii)
    for ax, radius, radius_cycles in zip(axes, radii, cycles, strict=False):
        in_cycles = f", {radius_cycles:.3g} cycles/pixel" if isinstance(radius_cycles, (int, float)) else ""
        ax.set_title(f"r = {radius:g} (index units{in_cycles})", fontsize="medium")
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy (%): LFC solid, HFC dashed")
    legend_below(axes[0], fontsize="small")
    return fig, axes[0]


def _solid_and_dashed(
    runs: Runs, read: Any, keys: tuple[str, str, str], legend: tuple[str, str], xlabel: str
) -> tuple[Figure, Axes]:
    """Per run one colour: ``keys`` = (x, solid y, dashed y) of ``read(payload)``, accuracies in [0, 1] as %."""
    _fig, (ax,) = _new()
    for i, (label, payload) in enumerate(runs):
        result = read(payload)
        x = as_array(result[keys[0]]).reshape(-1)
        color = f"C{i % 10}"
        ax.plot(x, 100 * as_array(result[keys[1]]).reshape(-1), "-o", ms=3, color=color,
                label=_named(label, result.get("num_images")))
        ax.plot(x, 100 * as_array(result[keys[2]]).reshape(-1), "--o", ms=3, color=color)
    ax.plot([], [], "-", color="0.3", label=legend[0])
    ax.plot([], [], "--", color="0.3", label=legend[1])
    return _finish(ax, xlabel, "accuracy (%)")


def overlay_component_cutoffs(runs: Runs) -> tuple[Figure, Axes]:
    """Accuracy on low- (solid) and high-frequency components (dashed) vs the cutoff (cycles/pixel), one run a colour.

    Each run's last evaluation (``lowfreq profile``, or a fit's end): comparable across image sizes.
    """
    return _solid_and_dashed(runs, lambda payload: payload["last"], ("radii_cycles", "acc_low", "acc_high"),
                             ("LFC: below the cutoff", "HFC: above the cutoff"), "component cutoff (cycles/pixel)")


def overlay_cue_conflict(runs: Runs) -> tuple[Figure, Axes]:
    """Cue-conflict decisions for the shape, the texture or neither (%), one colour per run (shape bias in legend)."""
    _fig, (ax,) = _new()
    parts = (("shape_fraction", "shape"), ("texture_fraction", "texture"), ("other_fraction", "neither"))
    width = 0.8 / len(runs)
    for i, (label, payload) in enumerate(runs):
        result = payload["result"]
        bias = result.get("shape_bias")
        text = f"{label}, shape bias {bias:.3f}" if isinstance(bias, (int, float)) else f"{label}, shape bias -"
        values = [100 * float(result.get(key) or 0.0) for key, _ in parts]
        ax.bar(np.arange(len(parts)) - 0.4 + (i + 0.5) * width, values, width, color=f"C{i % 10}",
               label=_named(text, result.get("num_images")))
    ax.set_xticks(range(len(parts)), [f"{name} class" for _, name in parts])
    return _finish(ax, "decision on cue-conflict images", "decisions (%)")


def overlay_band_pass(runs: Runs) -> tuple[Figure, Axes]:
    """Accuracy with only one radial band kept (solid) and with it removed (dashed) vs the band centre, per run."""
    return _solid_and_dashed(runs, lambda payload: payload["band_pass"], ("centres", "acc_pass", "acc_stop"),
                             ("band-pass: only the band kept", "band-stop: the band removed"),
                             "band centre (cycles/pixel)")


def overlay_heat_map_profile(runs: Runs) -> tuple[Figure, Axes]:
    """Fourier heat map error rate against radial frequency (ring means), one colour per run, clean error dotted."""
    _fig, (ax,) = _new()
    for i, (label, payload) in enumerate(runs):
        result = payload["heat_map"]
        color = f"C{i % 10}"
        error = np.array([np.nan if v is None else v for v in result["radial_error"]], dtype=float)
        ax.plot(as_array(result["radial_frequency"]), 100 * error, "-o", ms=3, color=color,
                label=_named(label, result.get("num_images")))
        clean = result.get("clean_error")
        if isinstance(clean, (int, float)):
            ax.axhline(100 * float(clean), color=color, linestyle=":", linewidth=1)
    return _finish(ax, "radial frequency of the basis image (cycles/pixel); dotted: clean", "error rate (%)")


def overlay_perturbation_profile(runs: Runs) -> tuple[Figure, Axes]:
    """Cumulative radial power fraction of each run's mean minimal-perturbation spectrum, f_0.5 dashed (P001)."""
    _fig, (ax,) = _new()
    for i, (label, payload) in enumerate(runs):
        profile = payload["profile"]
        color = f"C{i % 10}"
        n = len(payload.get("indices") or [])
        ax.plot(as_array(profile["frequency"]), as_array(profile["fraction_below"]), color=color,
                label=_named(label, n))
        f_half = payload.get("f_half")
        if isinstance(f_half, (int, float)) and np.isfinite(f_half):
            ax.axvline(float(f_half), color=color, linestyle="--", linewidth=1)
    ax.axhline(0.5, color="0.6", linewidth=0.8)
    ax.set_ylim(0, 1.02)
    return _finish(ax, "radial frequency (cycles/pixel); dashed: $f_{0.5}$", "fraction of perturbation power below",
                   percent=False)


def overlay_corruption_bands(runs: Runs) -> tuple[Figure, Axes]:
    """Clean accuracy and mean accuracy on low / medium / high-frequency corruptions, one line per run (P001)."""
    _fig, (ax,) = _new()
    for i, (label, payload) in enumerate(runs):
        result = payload["result"]
        bands = list(result["band_acc"])
        names = ["clean", *bands]
        values = [result.get("clean_acc"), *(result["band_acc"][b] for b in bands)]
        y = [100 * float(v) if isinstance(v, (int, float)) else np.nan for v in values]
        n = result.get("num_clean")
        ax.plot(names, y, "-o", color=f"C{i % 10}", label=_named(label, n))
    return _finish(ax, "corruptions by frequency band", "accuracy (%)")


def overlay_mask_radial_energy(runs: Runs) -> tuple[Figure, Axes]:
    """Radial band energy of each run's learned Fourier mask (P004 Fig 4)."""
    _fig, (ax,) = _new()
    in_cycles = all("radial_centres_cycles" in payload for _, payload in runs)
    for i, (label, payload) in enumerate(runs):
        energy = as_array(payload["radial_energy"])
        x = as_array(payload["radial_centres_cycles"]) if in_cycles else np.arange(len(energy))
        ax.plot(x, energy, "-o", ms=2, color=f"C{i % 10}", label=label)
    return _finish(ax, "radial frequency (cycles/pixel)" if in_cycles else "radial band (index)",
                   "band energy (L2 norm of the normalised mask)", percent=False)


class Overlay:
    """One overlay figure: the analysis it reads, what a payload needs, and how it is drawn."""

    def __init__(self, analysis: str, needs: Callable[[dict[str, Any]], bool], plot: Callable[[Runs], Any]):
        self.analysis, self.needs, self.plot = analysis, needs, plot


OVERLAYS: dict[str, Overlay] = {
    "overlay_hybrid": Overlay("hybrid", lambda p: _get(p, "hybrid", "p_low") is not None, overlay_hybrid),
    "overlay_components": Overlay(  # along training: two evaluations at least
        "frequency_components", lambda p: len(_get(p, "history") or ()) > 1 and _get(p, "radii") is not None,
        overlay_component_accuracy,
    ),
    "overlay_component_cutoffs": Overlay(
        "frequency_components", lambda p: _get(p, "last", "radii_cycles") is not None, overlay_component_cutoffs
    ),
    "overlay_perturbation_profile": Overlay(
        "adversarial", lambda p: _get(p, "profile", "fraction_below") is not None, overlay_perturbation_profile
    ),
    "overlay_corruption_bands": Overlay(
        "corruptions", lambda p: _get(p, "result", "band_acc") is not None, overlay_corruption_bands
    ),
    "overlay_cue_conflict": Overlay(
        "cue_conflict", lambda p: _get(p, "result", "shape_fraction") is not None, overlay_cue_conflict
    ),
    "overlay_band_pass": Overlay("band_pass", lambda p: _get(p, "band_pass", "acc_pass") is not None,
                                 overlay_band_pass),
    "overlay_heat_map_profile": Overlay(
        "fourier_heat_map", lambda p: _get(p, "heat_map", "radial_error") is not None, overlay_heat_map_profile
    ),
    "overlay_mask_energy": Overlay(
        "fourier_mask", lambda p: _get(p, "radial_energy") is not None, overlay_mask_radial_energy
    ),
}
"""Figure stem -> [`Overlay`][lowfreq.plotting.overlays.Overlay]: every analysis curve that runs can share."""
