"""Thin Lightning callbacks: the analyses after fit, and the fitting of front-ends before it.

The ``*Analysis`` callbacks shard the data, update their analysis Metric, call ``compute()`` (synced across
processes) and write files and scalars; [`FrontEndFitting`][lowfreq.callbacks.frontend_fit.FrontEndFitting] fits
front-ends such as PCA before training.
"""

from lowfreq.callbacks.adversarial import AdversarialSpectrumAnalysis
from lowfreq.callbacks.base import AnalysisCallback
from lowfreq.callbacks.components import FrequencyComponentAnalysis
from lowfreq.callbacks.corruptions import CorruptionAnalysis
from lowfreq.callbacks.cue_conflict import CueConflictAnalysis
from lowfreq.callbacks.frontend_fit import FrontEndFitting
from lowfreq.callbacks.hybrid import HybridCurveAnalysis
from lowfreq.callbacks.masks import FourierMaskAnalysis
from lowfreq.callbacks.mvh import ModelVsHumanAnalysis
from lowfreq.callbacks.robustness import RobustnessAnalysis
from lowfreq.callbacks.summary import RunSummary

__all__ = [
    "AdversarialSpectrumAnalysis",
    "AnalysisCallback",
    "CorruptionAnalysis",
    "CueConflictAnalysis",
    "FourierMaskAnalysis",
    "FrequencyComponentAnalysis",
    "FrontEndFitting",
    "HybridCurveAnalysis",
    "ModelVsHumanAnalysis",
    "RobustnessAnalysis",
    "RunSummary",
]
