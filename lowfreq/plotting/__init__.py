"""Result tensors -> matplotlib Figures (no pyplot state); every function takes an optional ``ax`` and returns
``(fig, ax)``."""

from lowfreq.plotting.alignment import (
    plot_alignment_sweep,
    plot_benchmark_summary,
    plot_consistency_vs_accuracy,
    plot_shape_bias_per_class,
    plot_sweep_panels,
)
from lowfreq.plotting.components import plot_component_accuracy, plot_component_curves
from lowfreq.plotting.cue_conflict import plot_cue_conflict
from lowfreq.plotting.hybrid import plot_hybrid_curve, plot_hybrid_probabilities

__all__ = [
    "plot_alignment_sweep",
    "plot_benchmark_summary",
    "plot_component_accuracy",
    "plot_component_curves",
    "plot_consistency_vs_accuracy",
    "plot_cue_conflict",
    "plot_hybrid_curve",
    "plot_hybrid_probabilities",
    "plot_shape_bias_per_class",
    "plot_sweep_panels",
]
