"""Analyses as pure functions over models and tensors; each also runs in a notebook without a Trainer.

Submodules: ``hybrid`` (P001 hybrid images, reversal frequency), ``components`` (P003 low/high-frequency
component accuracy), ``cue_conflict`` (shape vs texture decisions), ``alignment`` and ``decisions`` (P000
model-vs-human metrics). None of them imports Lightning.
"""

from lowfreq.analysis.alignment import (
    benchmark,
    benchmark_from_raw_data,
    error_consistency,
    human_reference,
    read_raw_data,
    shape_bias,
)
from lowfreq.analysis.components import (
    ComponentAccuracy,
    ComponentTransform,
    component_accuracy,
    frequency_components,
)
from lowfreq.analysis.cue_conflict import CueConflictResult, cue_conflict_decisions
from lowfreq.analysis.decisions import alignment_sweep, imagenet_to_16, model_decisions
from lowfreq.analysis.hybrid import DEFAULT_F_MIX, HybridCurve, hybrid_curve, hybrid_pairs, reversal_frequency

__all__ = [
    "DEFAULT_F_MIX",
    "ComponentAccuracy",
    "ComponentTransform",
    "CueConflictResult",
    "HybridCurve",
    "alignment_sweep",
    "benchmark",
    "benchmark_from_raw_data",
    "component_accuracy",
    "cue_conflict_decisions",
    "error_consistency",
    "frequency_components",
    "human_reference",
    "hybrid_curve",
    "hybrid_pairs",
    "imagenet_to_16",
    "model_decisions",
    "read_raw_data",
    "reversal_frequency",
    "shape_bias",
]
