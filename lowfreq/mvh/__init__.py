"""The model-vs-human benchmark (Geirhos et al. 2021; paper 000) in one package.

* [`labels`][lowfreq.mvh.labels]: the 16 classes and the ImageNet-1000 -> 16 mapping (torch only; also used by the
  OpenCLIP backbone).
* [`raw_data`][lowfreq.mvh.raw_data]: constants, decision tables, the raw-data CSV reader and writer.
* [`metrics`][lowfreq.mvh.metrics]: shape bias, error consistency, OOD accuracy, aggregated as the benchmark does.
* [`download`][lowfreq.mvh.download] and [`stimuli`][lowfreq.mvh.stimuli]: files, downloads, the dataset and DataModule.
* [`decisions`][lowfreq.mvh.decisions]: model decisions, the
  [`StimulusDecisions`][lowfreq.mvh.decisions.StimulusDecisions] Metric, front-end sweeps.
* [`plotting`][lowfreq.mvh.plotting]: the figures; [`cli`][lowfreq.mvh.cli]: ``lowfreq alignment``.

Names load on first access, so ``import lowfreq.mvh.labels`` stays free of pandas and Lightning.
"""

from __future__ import annotations

import importlib
from typing import Any

_SUBMODULE_NAMES: dict[str, tuple[str, ...]] = {
    "labels": ("CLASSES_16", "IMAGENET_16_INDICES", "imagenet_to_16", "logits_to_16"),
    "raw_data": (
        "BENCHMARK_DATASETS",
        "DATASET_CONDITIONS",
        "EXCLUDED_CONDITIONS",
        "IMAGE_DATASETS",
        "PARAMETRIC_DATASETS",
        "TRIAL_COLUMNS",
        "decision_table",
        "read_raw_data",
        "write_decisions_csv",
    ),
    "metrics": (
        "METRICS",
        "accuracy",
        "benchmark",
        "benchmark_from_raw_data",
        "benchmark_table",
        "error_consistency",
        "human_reference",
        "observed_consistency",
        "ood_accuracy",
        "shape_bias",
        "shape_bias_per_class",
        "shape_bias_table",
    ),
    "download": ("download_datasets", "download_raw_data", "find_dataset_dir"),
    "stimuli": ("ModelVsHumanDataModule", "ModelVsHumanDataset", "stimulus_records"),
    "decisions": ("StimulusDecisions", "alignment_sweep", "model_decisions", "records_to_table"),
}
_LOCATION = {name: module for module, names in _SUBMODULE_NAMES.items() for name in names}

__all__ = sorted(_LOCATION)


def __getattr__(name: str) -> Any:
    if name in _LOCATION:
        return getattr(importlib.import_module(f"lowfreq.mvh.{_LOCATION[name]}"), name)
    raise AttributeError(f"module 'lowfreq.mvh' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
