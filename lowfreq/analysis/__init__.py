"""Analyses as pure functions over models and tensors; each also runs in a notebook without a Trainer.

Submodules: ``hybrid`` (P001 hybrid images, reversal frequency), ``components`` (P003 low/high-frequency
component accuracy), ``band_pass`` (accuracy with one radial band kept or removed), ``cue_conflict`` (shape vs
texture decisions), ``masks`` (P004 learned Fourier masks), ``adversarial`` (P001 minimal perturbations and their
spectra, P003 kernel smoothing; Foolbox is imported only when an attack runs). The model-vs-human benchmark (P000) is
its own package, [`lowfreq.mvh`][lowfreq.mvh]. The counting analyses are a pure function plus a torchmetrics
``Metric`` with sum states (``HybridCurveMetric``, ``ComponentAccuracyMetric``, ``BandPassAccuracyMetric``,
``CueConflictMetric``, ``CorruptionAccuracyMetric``, ``RobustAccuracyMetric``, ``FilteredAccuracyMetric``;
``AdversarialSpectrumMetric`` adds per-image "cat" states) sharing one pair of update (fixed-size sums of a batch)
and compute (sums -> result) functions with the public function, whose result ``compute()`` returns, for validation
steps and callbacks. None of them imports Lightning.
``heat_map``: Yin et al.'s Fourier heat map (``fourier_heat_map``, ``FourierHeatMapMetric``, the same pattern).
"""

from lowfreq.analysis.adversarial import (
    MinimalPerturbations,
    RobustAccuracyMetric,
    minimal_perturbations,
    perturbation_half_power,
    perturbation_spectrum,
    robust_accuracy,
    smooth_first_layer,
)
from lowfreq.analysis.band_pass import (
    BandPassAccuracy,
    BandPassAccuracyMetric,
    band_edges,
    band_pass_accuracy,
    band_pass_images,
)
from lowfreq.analysis.components import (
    ComponentAccuracy,
    ComponentAccuracyMetric,
    component_accuracy,
    frequency_components,
)
from lowfreq.analysis.corruptions import (
    CorruptionAccuracy,
    CorruptionAccuracyMetric,
    corruption_accuracy,
    corruption_accuracy_from_counts,
)
from lowfreq.analysis.cue_conflict import CueConflictMetric, CueConflictResult, cue_conflict_decisions
from lowfreq.analysis.heat_map import (
    FourierHeatMap,
    FourierHeatMapMetric,
    fourier_basis,
    fourier_heat_map,
    heat_map_frequencies,
)
from lowfreq.analysis.hybrid import (
    DEFAULT_F_MIX,
    HybridCurve,
    HybridCurveMetric,
    hybrid_curve,
    hybrid_pairs,
    reversal_frequency,
)
from lowfreq.analysis.masks import (
    FilteredAccuracyMetric,
    FourierMaskResult,
    angular_energy,
    apply_masks,
    complementary_mask,
    filtered_accuracy,
    fit_fourier_masks,
    linear_separability,
    radial_energy,
)

__all__ = [
    "DEFAULT_F_MIX",
    "BandPassAccuracy",
    "BandPassAccuracyMetric",
    "ComponentAccuracy",
    "ComponentAccuracyMetric",
    "CorruptionAccuracy",
    "CorruptionAccuracyMetric",
    "CueConflictMetric",
    "CueConflictResult",
    "FilteredAccuracyMetric",
    "FourierHeatMap",
    "FourierHeatMapMetric",
    "FourierMaskResult",
    "HybridCurve",
    "HybridCurveMetric",
    "MinimalPerturbations",
    "RobustAccuracyMetric",
    "angular_energy",
    "apply_masks",
    "band_edges",
    "band_pass_accuracy",
    "band_pass_images",
    "complementary_mask",
    "component_accuracy",
    "corruption_accuracy",
    "corruption_accuracy_from_counts",
    "cue_conflict_decisions",
    "filtered_accuracy",
    "fit_fourier_masks",
    "fourier_basis",
    "fourier_heat_map",
    "frequency_components",
    "heat_map_frequencies",
    "hybrid_curve",
    "hybrid_pairs",
    "linear_separability",
    "minimal_perturbations",
    "perturbation_half_power",
    "perturbation_spectrum",
    "radial_energy",
    "reversal_frequency",
    "robust_accuracy",
    "smooth_first_layer",
]
