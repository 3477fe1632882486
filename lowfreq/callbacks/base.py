"""Shared machinery of the ``*Analysis`` callbacks: seeded subset, sharding, eval mode, output directory, writing."""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

import lightning as L
import torch
from lightning.pytorch.trainer.states import TrainerFn
from torch import Tensor
from torch.utils.data import Dataset
from torchmetrics import Metric
from tqdm.auto import tqdm

from lowfreq.core.checks import check_positive_int
from lowfreq.core.device import accumulator_dtype, eval_mode, image_progress
from lowfreq.core.io import save_figure, versions, write_json
from lowfreq.core.seeding import seeded_subset
from lowfreq.results.columns import Headline

__all__ = ["AfterFitOrValidate", "AnalysisCallback", "shard_indices", "stack_images_labels", "stack_items"]

log = logging.getLogger(__name__)

MetricT = TypeVar("MetricT", bound=Metric)


def shard_indices(indices: Tensor, rank: int, world_size: int) -> Tensor:
    """This rank's share ``indices[rank::world_size]`` (no padding, unlike DistributedSampler)."""
    return indices[rank::world_size]


def stack_items(dataset: Dataset, indices: Tensor) -> tuple[Tensor, ...]:
    """Stack ``dataset[i]`` for the given indices into batched tensors (one tensor per item field)."""
    items = [dataset[int(i)] for i in indices]
    if not items:
        raise ValueError("no items to stack")
    return tuple(torch.stack([torch.as_tensor(field) for field in fields]) for fields in zip(*items, strict=True))


def stack_images_labels(dataset: Dataset, indices: Tensor) -> tuple[Tensor, Tensor]:
    """(x, y) batch of the given items: the first two fields of each item, labels as int64."""
    fields = stack_items(dataset, indices)
    return fields[0], fields[1].long()


class AfterFitOrValidate(L.Callback):
    """A callback whose ``after`` runs at the end of ``fit`` and of ``validate`` (not after a fit's validation)."""

    def after(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:  # pragma: no cover - abstract
        """The work; called on every rank."""
        raise NotImplementedError

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """After ``fit``, on the trained model."""
        self.after(trainer, pl_module)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """At the end of ``validate`` (not after the validation epochs of a fit)."""
        if trainer.state.fn == TrainerFn.VALIDATING:
            self.after(trainer, pl_module)


class AnalysisCallback(AfterFitOrValidate):
    """Base for analyses run after ``fit`` and from ``lightning validate -c ... --ckpt_path ...``.

    Subclasses implement [`run`][lowfreq.callbacks.base.AnalysisCallback.run] (every rank calls it; collectives inside
    run on every rank), use [`write`][lowfreq.callbacks.base.AnalysisCallback.write] (rank 0 writes
    ``<log_dir>/analysis/<name>/result.json`` and figures, and logs scalars) and declare their headline quantities
    in [`headlines`][lowfreq.callbacks.base.AnalysisCallback.headlines], which the run summary, ``lowfreq compare``
    and ``lowfreq report`` show.

    Args:
        num_images: size of the seeded analysis subset (None = the whole split).
        batch_size: images per forward pass.
        seed: seed of the subset and of every random choice of the analysis.
        split: datamodule split passed to ``analysis_dataset``.
    """

    name = "analysis"
    headlines: ClassVar[tuple[Headline, ...]] = ()
    """The headline quantities, each read from the result passed to ``write``; ``write`` stores them evaluated in
    ``result.json`` under ``"headlines"``."""

    def __init__(
        self, num_images: int | None = 1000, batch_size: int = 256, seed: int = 0, split: str = "test"
    ) -> None:
        if num_images is not None:
            check_positive_int("num_images", num_images)
        check_positive_int("batch_size", batch_size)
        check_positive_int("seed", seed, minimum=0)
        self.num_images, self.batch_size, self.seed, self.split = num_images, batch_size, seed, split

    def run(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:  # pragma: no cover - abstract
        """The analysis; called on every rank with ``pl_module`` in eval mode."""
        raise NotImplementedError

    # ---- cost ------------------------------------------------------------------------------------------------
    SMOKE_IMAGES = 50
    """``num_images`` of ``--analyses.preset smoke``."""

    def planned_images(self, trainer: L.Trainer) -> int:
        """Images of this rank's share of the analysis subset."""
        return len(self.local_indices(trainer, len(self.dataset(trainer))))  # type: ignore[arg-type]

    def planned_passes(self, num_images: int) -> tuple[int, int]:
        """Images through the model for ``num_images`` of the subset: (without gradient, with input gradient)."""
        return num_images, 0

    def planned_note(self) -> str:
        """Cost the plan's model passes leave out (empty: none worth saying)."""
        return ""

    def use_smoke_budget(self) -> None:
        """``--analyses.preset smoke``: the smoke budget (subclasses cut their own budgets).

        At most [`SMOKE_IMAGES`][lowfreq.callbacks.base.AnalysisCallback.SMOKE_IMAGES] images.
        """
        self.num_images = self.SMOKE_IMAGES if self.num_images is None else min(self.num_images, self.SMOKE_IMAGES)

    def after(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Run the analysis with ``pl_module`` in eval mode, timed for ``result.json``."""
        self._started = time.perf_counter()
        with eval_mode(pl_module):
            self.run(trainer, pl_module)

    # ---- helpers for subclasses ------------------------------------------------------------------------------
    def dataset(self, trainer: L.Trainer) -> Dataset:
        """The datamodule's ``analysis_dataset(split)``."""
        datamodule = getattr(trainer, "datamodule", None)
        if datamodule is None or not hasattr(datamodule, "analysis_dataset"):
            raise RuntimeError(f"{type(self).__name__} needs a datamodule with analysis_dataset()")
        return cast("Dataset", datamodule.analysis_dataset(self.split))

    def subset_size(self, trainer: L.Trainer) -> int:
        """Images of the seeded subset, all ranks together."""
        return len(seeded_subset(len(self.dataset(trainer)), self.num_images, self.seed))  # type: ignore[arg-type]

    def local_indices(self, trainer: L.Trainer, num_items: int) -> Tensor:
        """This rank's shard of the seeded subset."""
        subset = seeded_subset(num_items, self.num_images, self.seed)
        return shard_indices(subset, trainer.global_rank, trainer.world_size)

    @staticmethod
    def on_device(metric: MetricT, pl_module: L.LightningModule) -> MetricT:
        """``metric`` on the module's device, where its collectives run (float32 states on MPS: no float64)."""
        dtype = accumulator_dtype(pl_module.device)
        if dtype != torch.float64:
            metric.set_dtype(dtype)  # in place
        return metric.to(pl_module.device)

    @staticmethod
    def show_progress(trainer: L.Trainer) -> bool:
        """Progress bars only on rank 0 and only when the trainer shows one."""
        return trainer.is_global_zero and trainer.progress_bar_callback is not None

    def progress(self, trainer: L.Trainer, total: int, desc: str | None = None) -> tqdm:
        """A bar counting ``total`` images of this rank (rate and time left).

        It is shown as [`show_progress`][lowfreq.callbacks.base.AnalysisCallback.show_progress] says.
        """
        return image_progress(total, desc or self.name, self.show_progress(trainer))

    def output_dir(self, trainer: L.Trainer) -> Path:
        """``<log_dir>/analysis/<name>`` (``trainer.log_dir`` broadcasts: call on every rank)."""
        return Path(trainer.log_dir or trainer.default_root_dir) / "analysis" / self.name

    def init_args(self) -> dict[str, Any]:
        """The constructor arguments, read back from the attributes of the same name."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self" and hasattr(self, name)}

    def payload(
        self, result: dict[str, Any], global_step: int | None, headlines: Sequence[Headline] | None = None
    ) -> dict[str, Any]:
        """The ``result.json`` of ``result``: it, the evaluated headlines, callback name, init args, step, versions.

        ``write`` adds the seconds; ``lowfreq profile`` writes the same files without a Trainer.

        Args:
            result: the analysis's result dict (tensors and dataclasses as they are).
            global_step: the trainer's step, None outside training.
            headlines: the quantities to evaluate on ``result``; None =
                [`headlines`][lowfreq.callbacks.base.AnalysisCallback.headlines].
        """
        declared = self.headlines if headlines is None else headlines
        return {**result, "headlines": [headline.evaluate(result) for headline in declared],
                "callback": type(self).__name__, "init_args": self.init_args(), "global_step": global_step,
                "versions": versions()}

    def write(
        self,
        trainer: L.Trainer,
        out: Path,
        result: dict[str, Any],
        figures: dict[str, Any],
        scalars: dict[str, float],
    ) -> None:
        """Rank 0 writes result.json (+ headlines, init args, step, versions, seconds) and figures, logs; all wait.

        ``result.json`` holds ``result`` and, under ``"headlines"``, every one of
        [`headlines`][lowfreq.callbacks.base.AnalysisCallback.headlines] evaluated on ``result``.

        The scalars go to every logger in ``trainer.loggers`` (TensorBoard, CSV, ...), the figures to every logger
        whose ``experiment`` has ``add_figure`` (TensorBoard: tag ``analysis/<name>/<stem>``), so a run can be read
        in TensorBoard alone. Each logger is saved afterwards, so its files hold the values when ``fit`` returns.
        """
        if trainer.is_global_zero:
            payload = self.payload(result, trainer.global_step)
            started = getattr(self, "_started", None)
            if started is not None:  # wall time of the analysis on this rank, up to its files
                payload["seconds"] = round(time.perf_counter() - started, 3)
            write_json(out / "result.json", payload)
            for stem, fig in figures.items():
                save_figure(fig, out / stem)
            for logger in trainer.loggers:
                if scalars:
                    logger.log_metrics(scalars, step=trainer.global_step)
                add_figure = getattr(getattr(logger, "experiment", None), "add_figure", None) if figures else None
                if callable(add_figure):
                    for stem, fig in figures.items():
                        add_figure(f"analysis/{self.name}/{stem}", fig, global_step=trainer.global_step, close=False)
                if scalars or callable(add_figure):
                    logger.save()
            log.info("%s wrote %s", type(self).__name__, out)
        trainer.strategy.barrier()
