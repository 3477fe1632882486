"""The analyses of ``lowfreq profile``, one entry each: the callback that declares it, the function that runs it.

An entry of [`ANALYSES`][lowfreq.profile.analyses.ANALYSES] is a
[`ProfileAnalysis`][lowfreq.profile.analyses.ProfileAnalysis]:

* ``declare(budget, size)``: the ``*Analysis`` callback configured with the budget for images of ``size`` px. It is the
  one declaration of the analysis: its ``name`` (the folder ``analysis/<name>/``), its ``headlines`` (the leaderboard's
  columns), ``planned_passes`` and ``planned_note`` (the printed time estimate) and ``init_args`` (recorded in
  ``result.json``), exactly as after ``lowfreq fit``;
* ``run(model, images, labels, context)``: the analysis through its pure function (no Trainer), returning an
  [`Outcome`][lowfreq.profile.analyses.Outcome]: the result dict the callback would write, the headlines evaluated on
  it and the run's own figures. ``lowfreq compare`` overlays every model's curve from those result files;
* ``conflict``: the entry runs on the cue-conflict images, ``labels`` then (N, 2): shape and texture class.

Adding an analysis to the profile is one entry here (its callback, pure function and plot already exist).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from matplotlib.figure import Figure
from torch import Tensor, nn

from lowfreq.callbacks.adversarial import AdversarialSpectrumAnalysis
from lowfreq.callbacks.band_pass import BandPassAnalysis
from lowfreq.callbacks.base import AnalysisCallback
from lowfreq.callbacks.components import FrequencyComponentAnalysis
from lowfreq.callbacks.cue_conflict import CueConflictAnalysis
from lowfreq.callbacks.heat_map import FourierHeatMapAnalysis
from lowfreq.callbacks.hybrid import HybridCurveAnalysis
from lowfreq.results.columns import Headline

__all__ = ["ANALYSES", "COMPONENT_CUTOFFS", "PRESETS", "Budget", "Context", "Outcome", "ProfileAnalysis"]


@dataclass(frozen=True)
class Budget:
    """How much work each analysis of a profile does.

    Args:
        num_images: images of the hybrid, frequency-component and cue-conflict analyses.
        num_adversarial: images of the minimal-perturbation spectrum.
        num_permutations: hybrid pairings (P001: 4).
        protocol: attack protocol of the minimal perturbations (``lowfreq.analysis.adversarial.PROTOCOLS``).
        num_bootstrap: bootstrap replicates of f_0.5.
        num_heat_map: images of the Fourier heat map.
        heat_map_grid: about this many evaluated frequencies per axis of the heat map (stride = size // grid); None
            = Yin et al.'s maps (every frequency at 32 px, the 63 x 63 lowest at 224 px).
        num_bands: radial bands of the band-pass / band-stop accuracy.
        batch_size: images per forward pass.
        seed: seed of the image subsets, the pairings and the attack targets.
    """

    num_images: int = 200
    num_adversarial: int = 16
    num_permutations: int = 2
    protocol: str = "default"
    num_bootstrap: int = 1000
    num_heat_map: int = 20
    heat_map_grid: int | None = 16
    num_bands: int = 8
    batch_size: int = 64
    seed: int = 0


PRESETS: dict[str, Budget] = {
    "smoke": Budget(num_images=20, num_adversarial=4, num_permutations=1, protocol="smoke", num_bootstrap=100,
                    num_heat_map=10, heat_map_grid=8, num_bands=4),
    "default": Budget(),
    "paper": Budget(num_images=1000, num_adversarial=1000, num_permutations=4, num_heat_map=1000, heat_map_grid=None),
}
"""``--preset``: "smoke" (seconds per CPU model: the command works), "default" (minutes per model on a CPU), "paper"
(P001's sizes: 1000 images, 4 pairings, 1000 attacked images; Yin et al.'s heat maps on 1000 images)."""

COMPONENT_CUTOFFS: tuple[float, ...] = (0.125, 0.25, 0.375, 0.5)
"""Cutoffs of the low/high-frequency components in cycles/pixel: P003's radii 4, 8, 12, 16 on 32 x 32, the same
frequencies at every image size (radius = cutoff x size in index units)."""


@dataclass
class Context:
    """What an analysis run needs besides the model and the images.

    Attributes:
        callback: the entry's declaration, configured with the budget (``declare(budget, size)``).
        budget: the profile's budget.
        label: the model's name for figures.
        progress: show progress bars counting images.
        conflict_kind: "synthetic" or "model-vs-human" for the cue-conflict images, None otherwise.
    """

    callback: AnalysisCallback
    budget: Budget
    label: str
    progress: bool = False
    conflict_kind: str | None = None


@dataclass
class Outcome:
    """What one analysis of one model gives.

    Attributes:
        result: the dict the analysis's callback passes to ``write`` (tensors and dataclasses as they are).
        headlines: the quantities to evaluate on ``result`` (the callback's, plus any the profile adds).
        figures: the model's own figures by file stem (``figure`` first).
    """

    result: dict[str, Any]
    headlines: tuple[Headline, ...]
    figures: dict[str, Figure]


@dataclass(frozen=True)
class ProfileAnalysis:
    """One analysis of the profile (see the module docstring).

    Args:
        declare: the analysis's callback configured with a budget, for images of a given side (pixels).
        run: runs it on ``(model, images, labels, context)``.
        conflict: it runs on the cue-conflict images (labels (N, 2): shape, texture class) and is skipped on data
            without them.
    """

    declare: Callable[[Budget, int], AnalysisCallback]
    run: Callable[[nn.Module, Tensor, Tensor, Context], Outcome]
    conflict: bool = False


# ---- hybrid images (P001) -------------------------------------------------------------------------------------------
def _hybrid(model: nn.Module, images: Tensor, labels: Tensor, context: Context) -> Outcome:
    from lowfreq.analysis.hybrid import hybrid_curve
    from lowfreq.plotting.hybrid import plot_hybrid_curve, plot_hybrid_probabilities

    callback = context.callback
    assert isinstance(callback, HybridCurveAnalysis)
    curve = hybrid_curve(model, images, labels, f_mix_nyquist=callback.f_mix_nyquist,
                         num_permutations=callback.num_permutations, seed=callback.seed,
                         batch_size=callback.batch_size, progress=context.progress)
    result = {"hybrid": curve, "p_low_minus_p_high": curve.difference, "split": "profile"}
    figures = {"figure": plot_hybrid_curve(curve, label=context.label)[0],
               "probabilities": plot_hybrid_probabilities(curve, label=context.label)[0]}
    return Outcome(result, callback.headlines, figures)


# ---- low/high-frequency components (P003) ---------------------------------------------------------------------------
def _cutoff_key(cutoff: float) -> str:
    return f"{cutoff:g}".replace(".", "p")


def _component_value(field: str, j: int) -> Callable[[Any], Any]:
    """Reads ``field`` (acc_low / acc_high) at cutoff ``j`` of the last evaluation."""
    return lambda result: getattr(result["last"], field)[j]


def _component_headlines() -> tuple[Headline, ...]:
    extra = []
    for j, cutoff in enumerate(COMPONENT_CUTOFFS):
        for part, field in (("lfc", "acc_low"), ("hfc", "acc_high")):
            extra.append(Headline(
                name=f"{part}_acc_{_cutoff_key(cutoff)}", unit="fraction",
                description=f"accuracy on the {'low' if part == 'lfc' else 'high'}-frequency component "
                            f"({'below' if part == 'lfc' else 'above'} {cutoff:g} cycles/pixel)",
                value=_component_value(field, j),
                count=lambda r: r["last"].num_images))
    return (*FrequencyComponentAnalysis.headlines, *extra)


def _components(model: nn.Module, images: Tensor, labels: Tensor, context: Context) -> Outcome:
    from lowfreq.analysis.components import component_accuracy
    from lowfreq.plotting.components import plot_component_accuracy

    callback = context.callback
    assert isinstance(callback, FrequencyComponentAnalysis)
    radii = callback.radii_bins  # index units at this size: COMPONENT_CUTOFFS x size
    result = component_accuracy(model, images, labels, radii, inclusive=callback.inclusive,
                                rescale=callback.rescale, batch_size=callback.batch_size, progress=context.progress)
    history = [{"epoch": 0, "global_step": 0, "acc_low": result.acc_low.tolist(),
                "acc_high": result.acc_high.tolist(), "acc": result.acc}]
    payload = {"radii": radii, "radii_cycles": result.radii_cycles, "image_size": result.image_size,
               "split": "profile", "history": history, "last": result}
    figures = {"figure": plot_component_accuracy(result, label=context.label)[0]}
    return Outcome(payload, _component_headlines(), figures)


# ---- minimal adversarial perturbations (P001) ----------------------------------------------------------------------
def _adversarial(model: nn.Module, images: Tensor, labels: Tensor, context: Context) -> Outcome:
    import torch

    from lowfreq.analysis.adversarial import AdversarialSpectrumMetric, derangement_targets, minimal_perturbations
    from lowfreq.plotting.adversarial import (
        plot_perturbation_profile,
        plot_perturbation_spectrum,
        plot_success_rate,
    )

    callback = context.callback
    assert isinstance(callback, AdversarialSpectrumAnalysis)
    options = callback.attack_options()
    targets = derangement_targets(labels, callback.seed)
    found = minimal_perturbations(model, images, labels, targets=targets, seed=callback.seed,
                                  batch_size=callback.batch_size, progress=context.progress, **options)
    metric = AdversarialSpectrumMetric(tuple(images.shape[-2:]), options["attacks"],  # type: ignore[arg-type]
                                       num_bootstrap=callback.num_bootstrap, seed=callback.seed)
    metric.update(found, torch.arange(len(images)))
    spectrum = metric.compute()
    shaped = bool(torch.isfinite(spectrum.epsilons).any()) and float(spectrum.power.sum()) > 0  # a spectrum to show
    payload = {
        "f_half": spectrum.f_half, "f_half_exact": spectrum.f_half_exact, "f_half_std": spectrum.f_half_std,
        "f_half_interval": [spectrum.f_half_low, spectrum.f_half_high], "frequency_unit": "cycles/pixel",
        "profile": spectrum.profile if shaped else None, "summary": spectrum.summary, "indices": spectrum.indices,
        "targets": spectrum.targets, "epsilons": spectrum.epsilons,
        "attack": [spectrum.attacks[k] if k >= 0 else "" for k in spectrum.attack.tolist()], "split": "profile",
    }
    figures = {"success": plot_success_rate(spectrum, label=context.label)[0]}
    if shaped:  # no successful non-zero perturbation: no spectrum (f_0.5 is NaN)
        figures = {"spectrum": plot_perturbation_spectrum(spectrum, label=context.label)[0],
                   "profile": plot_perturbation_profile(spectrum, label=context.label)[0], **figures}
    return Outcome(payload, callback.headlines, figures)


# ---- shape bias on cue-conflict images -----------------------------------------------------------------------------
_DECISIONS = (
    Headline(name="shape_decisions", description="cue-conflict decisions for the shape class", unit="fraction",
             value=lambda r: r["result"].shape_fraction, count=lambda r: r["result"].num_images),
    Headline(name="texture_decisions", description="cue-conflict decisions for the texture class", unit="fraction",
             value=lambda r: r["result"].texture_fraction, count=lambda r: r["result"].num_images),
)


def _cue_conflict(model: nn.Module, images: Tensor, labels: Tensor, context: Context) -> Outcome:
    from lowfreq.analysis.cue_conflict import cue_conflict_decisions
    from lowfreq.plotting.cue_conflict import plot_cue_conflict

    callback = context.callback
    result = cue_conflict_decisions(model, images, labels[:, 0], labels[:, 1], batch_size=callback.batch_size,
                                    progress=context.progress)
    headlines: tuple[Headline, ...] = CueConflictAnalysis.headlines
    if context.conflict_kind == "model-vs-human":  # the benchmark's stimuli, not the synthetic shapes
        headlines = tuple(dataclasses.replace(h, description="cue-conflict shape bias (model-vs-human stimuli)")
                          if h.name == "shape_bias" else h for h in headlines)
    figures = {"figure": plot_cue_conflict(result, label=context.label)[0]}
    return Outcome({"result": result, "stimuli": context.conflict_kind}, (*headlines, *_DECISIONS), figures)


# ---- Fourier heat map (Yin et al. 2019) ----------------------------------------------------------------------------
HEAT_MAP_EPS = {32: 4.0, 224: 15.7}
"""Yin et al.'s L2 norm per channel: 4 on CIFAR-10 (32 px), 15.7 on ImageNet (224 px); a size in between takes the
value of the nearer of the two (on a log scale)."""


def _heat_map_callback(budget: Budget, size: int) -> FourierHeatMapAnalysis:
    eps = HEAT_MAP_EPS[32] if size * size < 32 * 224 else HEAT_MAP_EPS[224]
    if budget.heat_map_grid is None:  # Yin et al.'s maps: the whole grid at 32 px, the 63 x 63 centre at 224 px
        stride, limit = 1, (None if size <= 64 else 31 / 224)
    else:  # about heat_map_grid steps per axis over the whole grid
        stride, limit = max(1, size // budget.heat_map_grid), None
    callback = FourierHeatMapAnalysis(**_with(budget, num_images=budget.num_heat_map, eps=eps, stride=stride,
                                              max_frequency=limit))
    callback._image_size = (size, size)  # the grid its planned passes count (a fit reads it from the data)
    return callback


def _heat_map(model: nn.Module, images: Tensor, labels: Tensor, context: Context) -> Outcome:
    from lowfreq.analysis.heat_map import fourier_heat_map
    from lowfreq.plotting.heat_map import plot_fourier_heat_map, plot_heat_map_profile

    callback = context.callback
    assert isinstance(callback, FourierHeatMapAnalysis)
    result = fourier_heat_map(model, images, labels, eps=callback.eps, seed=callback.seed, stride=callback.stride,
                              max_frequency=callback.max_frequency, batch_size=callback.batch_size,
                              progress=context.progress)
    payload = {"heat_map": result, "image_size": list(images.shape[-2:]), "split": "profile",
               "low_band": "|f| <= 0.125 cycles/pixel", "high_band": "|f| > 0.25 cycles/pixel"}
    figures = {"figure": plot_fourier_heat_map(result, label=context.label)[0],
               "profile": plot_heat_map_profile(result, label=context.label)[0]}
    return Outcome(payload, callback.headlines, figures)


# ---- band-pass / band-stop accuracy ----------------------------------------------------------------------------------
def _band_pass(model: nn.Module, images: Tensor, labels: Tensor, context: Context) -> Outcome:
    from lowfreq.analysis.band_pass import band_pass_accuracy
    from lowfreq.plotting.band_pass import plot_band_pass

    callback = context.callback
    assert isinstance(callback, BandPassAnalysis)
    result = band_pass_accuracy(model, images, labels, num_bands=callback.num_bands, edges=callback.edges,
                                spacing=callback.spacing, batch_size=callback.batch_size, progress=context.progress)
    figures = {"figure": plot_band_pass(result, label=context.label)[0]}
    return Outcome({"band_pass": result, "split": "profile"}, callback.headlines, figures)


def _with(budget: Budget, **options: Any) -> dict[str, Any]:
    return {"batch_size": budget.batch_size, "seed": budget.seed, **options}


ANALYSES: dict[str, ProfileAnalysis] = {
    "hybrid": ProfileAnalysis(
        lambda b, size: HybridCurveAnalysis(**_with(b, num_images=b.num_images, num_permutations=b.num_permutations)),
        _hybrid),
    "frequency_components": ProfileAnalysis(
        lambda b, size: FrequencyComponentAnalysis(**_with(b, num_images=b.num_images, every_n_epochs=0,
                                                           radii_bins=[c * size for c in COMPONENT_CUTOFFS])),
        _components),
    "band_pass": ProfileAnalysis(
        lambda b, size: BandPassAnalysis(**_with(b, num_images=b.num_images, num_bands=b.num_bands)), _band_pass),
    "fourier_heat_map": ProfileAnalysis(_heat_map_callback, _heat_map),
    "cue_conflict": ProfileAnalysis(
        lambda b, size: CueConflictAnalysis(**_with(b, num_images=b.num_images)), _cue_conflict, conflict=True),
    "adversarial": ProfileAnalysis(
        lambda b, size: AdversarialSpectrumAnalysis(**_with(b, num_images=b.num_adversarial, protocol=b.protocol,
                                                            num_bootstrap=b.num_bootstrap)),
        _adversarial),
}
"""The analyses of ``lowfreq profile``, by the name of their ``analysis/<name>/`` folder, in the order they run."""
