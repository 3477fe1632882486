"""Thin Lightning callbacks over the pure analysis functions; each writes result.json and figures."""

from lowfreq.callbacks.alignment import ModelVsHumanAnalysis
from lowfreq.callbacks.base import AnalysisCallback
from lowfreq.callbacks.components import FrequencyComponentAnalysis
from lowfreq.callbacks.cue_conflict import CueConflictAnalysis
from lowfreq.callbacks.hybrid import HybridCurveAnalysis

__all__ = [
    "AnalysisCallback",
    "CueConflictAnalysis",
    "FrequencyComponentAnalysis",
    "HybridCurveAnalysis",
    "ModelVsHumanAnalysis",
]
