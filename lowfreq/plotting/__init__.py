"""Analysis results -> matplotlib Figures (no pyplot state).

Every function takes the result object of its analysis (``HybridCurve``, ``ComponentAccuracy``,
``BandPassAccuracy``, ``CueConflictResult``) and an optional ``ax``, and returns ``(fig, ax)``. Model-vs-human
figures are in [`lowfreq.mvh.plotting`][lowfreq.mvh.plotting].
``plot_fourier_heat_map`` and ``plot_heat_map_profile`` take a ``FourierHeatMap``.
"""

from lowfreq.plotting.adversarial import plot_perturbation_profile, plot_perturbation_spectrum, plot_success_rate
from lowfreq.plotting.band_pass import plot_band_pass
from lowfreq.plotting.components import plot_component_accuracy, plot_component_curves
from lowfreq.plotting.corruptions import plot_corruption_heatmap, plot_corruption_severity
from lowfreq.plotting.cue_conflict import plot_cue_conflict
from lowfreq.plotting.heat_map import plot_fourier_heat_map, plot_heat_map_profile
from lowfreq.plotting.hybrid import plot_hybrid_curve, plot_hybrid_probabilities
from lowfreq.plotting.masks import plot_filtered_images, plot_fourier_mask, plot_mask_energies, plot_mask_energy

__all__ = [
    "plot_band_pass",
    "plot_component_accuracy",
    "plot_component_curves",
    "plot_corruption_heatmap",
    "plot_corruption_severity",
    "plot_cue_conflict",
    "plot_filtered_images",
    "plot_fourier_heat_map",
    "plot_fourier_mask",
    "plot_heat_map_profile",
    "plot_hybrid_curve",
    "plot_hybrid_probabilities",
    "plot_mask_energies",
    "plot_mask_energy",
    "plot_perturbation_profile",
    "plot_perturbation_spectrum",
    "plot_success_rate",
]
