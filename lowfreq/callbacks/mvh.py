"""ModelVsHumanAnalysis: the model-vs-human benchmark (shape bias, error consistency, OOD accuracy) as a callback."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import cast

import lightning as L
import pandas as pd
import torch
from lightning.pytorch.utilities import rank_zero_warn

from lowfreq.callbacks.base import AnalysisCallback
from lowfreq.core.checks import check_bool, check_positive_int
from lowfreq.mvh.decisions import StimulusDecisions, records_to_table
from lowfreq.mvh.metrics import METRICS, benchmark
from lowfreq.mvh.plotting import plot_benchmark
from lowfreq.mvh.raw_data import BENCHMARK_DATASETS, IMAGE_DATASETS, is_human, read_raw_data, write_decisions_csv
from lowfreq.mvh.stimuli import ModelVsHumanDataModule, ModelVsHumanDataset
from lowfreq.results.columns import Headline

__all__ = ["ModelVsHumanAnalysis"]

log = logging.getLogger(__name__)


class ModelVsHumanAnalysis(AnalysisCallback):
    """Evaluate the model on the model-vs-human stimuli and compare its decisions with the human observers.

    Runs after ``fit`` (``on_fit_end``) and at the end of ``lightning validate`` (``on_validation_end`` when the
    trainer is validating, so not after every validation epoch of a fit). The model must map [0, 1] images to
    16 logits (classes in ``lowfreq.mvh.CLASSES_16`` order, e.g. ``OpenCLIPZeroShot``, or a ``FrontEndClassifier``
    with ``label_map=imagenet_to_16``) or to 1000 ImageNet logits (e.g. a model trained on ImageNet, benchmarked
    with ``data_dir``), which the benchmark maps with model-vs-human's mean-probability rule
    ([`logits_to_16`][lowfreq.mvh.labels.logits_to_16]).

    Every rank classifies its shard (by index) of the stimuli; the decisions are summed across ranks (a
    collective on every rank); rank 0 then writes into ``<log_dir>/analysis/model_vs_human/``:

    * ``result.json``: [`benchmark`][lowfreq.mvh.metrics.benchmark] output (model and humans, per dataset),
    * ``raw-data/<dataset>/<dataset>_<model_name>_session-1.csv``: decisions in model-vs-human's format,
    * ``figure.png``/``.pdf``: per-class shape bias (model vs humans) and the metrics next to the human reference,

    and logs ``analysis_mvh_<metric>`` scalars.

    Args:
        data_dir: model-vs-human directory (layouts in [`lowfreq.mvh.download`][lowfreq.mvh.download]); None uses the
            trainer's ``ModelVsHumanDataModule``.
        datasets: datasets to evaluate (with ``data_dir``); default the three with images.
        raw_data_dir: human CSVs; None = ``<data_dir>/raw-data``.
        model_name: the model's name in the CSVs (``subj`` column; must not start with ``subject-``).
        num_images: seeded random subset of the stimuli (None = all).
        batch_size: images per forward pass.
        seed: seed of the subset.
        exclude: drop the benchmark's excluded conditions.
        humans_on_model_stimuli: human reference only on the stimuli the model saw (comparable numbers when
            ``num_images`` is set); by default all human trials of the evaluated datasets.
    """

    name = "model_vs_human"
    headlines = (
        Headline(name="mvh_shape_bias", description="model-vs-human shape bias", unit="fraction", in_summary=True,
                 paper="P000: humans 0.96; OpenCLIP ViT-H-14 0.60, with blur σ = 2.5: 0.96",
                 value=lambda r: r["shape_bias"], count=lambda r: r["num_stimuli"]),
        Headline(name="error_consistency", description="model-vs-human error consistency (kappa)",
                 direction="higher", in_summary=True,
                 paper="P000: humans 0.43; OpenCLIP ViT-H-14 0.28, with blur σ = 2.5: 0.37",
                 value=lambda r: r["error_consistency"], count=lambda r: r["num_stimuli"]),
        Headline(name="observed_consistency", description="model-vs-human observed consistency", unit="fraction",
                 direction="higher", value=lambda r: r["observed_consistency"]),
        Headline(name="accuracy_difference", description="model-vs-human accuracy difference", unit="fraction",
                 direction="lower", value=lambda r: r["accuracy_difference"]),
        Headline(name="ood_accuracy", description="model-vs-human OOD accuracy", unit="fraction", direction="higher",
                 in_summary=True, paper="P000: humans 0.72; OpenCLIP ViT-H-14 0.78, with blur σ = 2.5: 0.72",
                 value=lambda r: r["ood_accuracy"], count=lambda r: r["num_stimuli"]),
    )

    def __init__(
        self,
        data_dir: str | None = None,
        datasets: list[str] | None = None,
        raw_data_dir: str | None = None,
        model_name: str = "lowfreq-model",
        num_images: int | None = None,
        batch_size: int = 32,
        seed: int = 0,
        exclude: bool = True,
        humans_on_model_stimuli: bool = False,
    ) -> None:
        super().__init__(num_images=num_images, batch_size=batch_size, seed=seed, split="test")
        for name, path in (("data_dir", data_dir), ("raw_data_dir", raw_data_dir)):
            if path is not None and not isinstance(path, (str, Path)):
                raise TypeError(f"{name} must be a path string or None, got {type(path).__name__}")
        if datasets is not None:
            if isinstance(datasets, str) or not isinstance(datasets, (list, tuple)):
                got = type(datasets).__name__
                raise TypeError(f"datasets must be a list of dataset names or None, got {got}")
            if not datasets:
                raise ValueError(f"datasets must name at least one dataset (or be None), got {datasets!r}")
            for d in datasets:
                if d not in BENCHMARK_DATASETS:
                    raise ValueError(f"datasets must be among {list(BENCHMARK_DATASETS)}, got {d!r}")
        if not isinstance(model_name, str):
            raise TypeError(f"model_name must be a str, got {type(model_name).__name__}")
        if is_human(model_name) or not model_name:
            raise ValueError(
                f"model_name must be non-empty and not start with 'subject-', got {model_name!r}"
            )
        check_positive_int("batch_size", batch_size)
        check_bool("exclude", exclude)
        check_bool("humans_on_model_stimuli", humans_on_model_stimuli)
        self.data_dir, self.datasets, self.raw_data_dir = data_dir, datasets, raw_data_dir
        self.model_name, self.exclude, self.humans_on_model_stimuli = (
            model_name,
            exclude,
            humans_on_model_stimuli,
        )

    # ---- data --------------------------------------------------------------------------------------------------
    def _stimuli(self, trainer: L.Trainer) -> tuple[ModelVsHumanDataset, Path]:
        dm = getattr(trainer, "datamodule", None)
        if self.data_dir is None:
            if not isinstance(dm, ModelVsHumanDataModule):
                raise RuntimeError(
                    "ModelVsHumanAnalysis needs data_dir (a model-vs-human directory) unless the datamodule is a "
                    f"ModelVsHumanDataModule, got {type(dm).__name__}"
                )
            dataset = dm.analysis_dataset("test")
            root = Path(dm.data_dir)
        else:
            names = list(IMAGE_DATASETS) if self.datasets is None else self.datasets
            dataset = ModelVsHumanDataset(self.data_dir, names)
            root = Path(self.data_dir)
        if not isinstance(dataset, ModelVsHumanDataset):
            raise TypeError(
                f"expected a ModelVsHumanDataset with stimulus records, got {type(dataset).__name__}"
            )
        raw = Path(self.raw_data_dir) if self.raw_data_dir is not None else root / "raw-data"
        return dataset, raw

    def planned_images(self, trainer: L.Trainer) -> int:
        """Stimuli of this rank's share."""
        return len(self.local_indices(trainer, len(self._stimuli(trainer)[0])))

    # ---- analysis ----------------------------------------------------------------------------------------------
    def run(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Classify this rank's shard, gather the decisions, benchmark them against the humans (every rank)."""
        dataset, raw_dir = self._stimuli(trainer)
        local = self.local_indices(trainer, len(dataset))
        metric = StimulusDecisions(len(dataset)).to(pl_module.device)
        loader = torch.utils.data.DataLoader(
            torch.utils.data.Subset(dataset, local.tolist()), batch_size=self.batch_size, shuffle=False
        )
        offset = 0
        with torch.no_grad(), self.progress(trainer, local.numel(), "model-vs-human") as bar:
            for x, _ in loader:
                metric.update(pl_module(x.to(pl_module.device)), local[offset : offset + len(x)])
                offset += len(x)
                bar.update(len(x))
        decisions = metric.compute()  # collective: every rank
        out = self.output_dir(trainer)  # broadcasts: every rank
        result: dict = {}
        figures: dict = {}
        scalars: dict = {}
        if trainer.is_global_zero:
            keep = decisions >= 0
            records = dataset.records[keep.numpy()]
            table = records_to_table(records, decisions[keep], self.model_name)
            write_decisions_csv(table, out / "raw-data")
            result = benchmark(
                pd.concat([table, self._humans(raw_dir, sorted(set(table["dataset"])))]),
                self.model_name,
                exclude=self.exclude,
                humans_on_model_stimuli=self.humans_on_model_stimuli,
            )
            result["raw_data_dir"] = str(raw_dir)
            result["num_stimuli"] = int(keep.sum())
            figures = {"figure": plot_benchmark(result)[0]}
            scalars = {f"analysis_mvh_{k}": float(result[k]) for k in METRICS if math.isfinite(result[k])}
        self.write(trainer, out, result, figures, scalars)

    @staticmethod
    def _humans(raw_dir: Path, datasets: list[str]) -> pd.DataFrame:
        present = [
            d for d in datasets if (raw_dir / d).is_dir() and any((raw_dir / d).glob("*_subject-*.csv"))
        ]
        missing = sorted(set(datasets) - set(present))
        if missing:
            rank_zero_warn(
                f"no human CSVs for {missing} in {raw_dir}: consistency metrics for them are NaN "
                "(download with lowfreq.mvh.download_raw_data)"
            )
        if not present:
            return cast("pd.DataFrame", pd.DataFrame(columns=["subj", "dataset"]))
        table = read_raw_data(raw_dir, present)
        return cast("pd.DataFrame", table[table["subj"].map(is_human)])

