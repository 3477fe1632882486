"""Thin Lightning callbacks: the analyses after fit, the plan of their cost, and the run summary.

The ``*Analysis`` callbacks shard the data, update their analysis Metric, call ``compute()`` (synced across
processes) and write files and scalars. (Fitting front-ends such as PCA before training is part of the model:
[`FrontEndFitting`][lowfreq.training.fitting.FrontEndFitting].)
"""

from lowfreq.callbacks.adversarial import AdversarialSpectrumAnalysis
from lowfreq.callbacks.band_pass import BandPassAnalysis
from lowfreq.callbacks.base import AnalysisCallback
from lowfreq.callbacks.components import FrequencyComponentAnalysis
from lowfreq.callbacks.corruptions import CorruptionAnalysis
from lowfreq.callbacks.cue_conflict import CueConflictAnalysis
from lowfreq.callbacks.heat_map import FourierHeatMapAnalysis
from lowfreq.callbacks.hybrid import HybridCurveAnalysis
from lowfreq.callbacks.masks import FourierMaskAnalysis
from lowfreq.callbacks.mvh import ModelVsHumanAnalysis
from lowfreq.callbacks.robustness import RobustnessAnalysis
from lowfreq.callbacks.summary import RunSummary

__all__ = [
    "AdversarialSpectrumAnalysis",
    "AnalysisCallback",
    "BandPassAnalysis",
    "CorruptionAnalysis",
    "CueConflictAnalysis",
    "FourierHeatMapAnalysis",
    "FourierMaskAnalysis",
    "FrequencyComponentAnalysis",
    "HybridCurveAnalysis",
    "ModelVsHumanAnalysis",
    "RobustnessAnalysis",
    "RunSummary",
]
