"""Shared machinery of the ``*Analysis`` callbacks: subset, sharding, collectives, output directory."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.trainer.states import TrainerFn
from torch import Tensor
from torch.utils.data import Dataset

from lowfreq._checks import check_positive_int
from lowfreq.io import save_figure, versions, write_json

__all__ = ["AnalysisCallback", "analysis_subset", "shard_indices"]

log = logging.getLogger(__name__)


def analysis_subset(num_items: int, num_images: int | None, seed: int) -> Tensor:
    """Sorted indices of a seeded random subset of ``range(num_items)`` (all items when ``num_images`` is None).

    The same on every rank, so results do not depend on the world size.
    """
    if num_images is None or num_images >= num_items:
        return torch.arange(num_items)
    perm = torch.randperm(num_items, generator=torch.Generator().manual_seed(seed))
    return perm[:num_images].sort().values


def shard_indices(indices: Tensor, rank: int, world_size: int) -> Tensor:
    """This rank's share ``indices[rank::world_size]`` (no padding, unlike DistributedSampler)."""
    return indices[rank::world_size]


def stack_items(dataset: Dataset, indices: Tensor) -> tuple[Tensor, ...]:
    """Stack ``dataset[i]`` for the given indices into batched tensors (one tensor per item field)."""
    items = [dataset[int(i)] for i in indices]
    if not items:
        raise ValueError("no items to stack")
    return tuple(torch.stack([torch.as_tensor(field) for field in fields]) for fields in zip(*items))


class AnalysisCallback(L.Callback):
    """Base for analyses run after ``fit`` and from ``lightning validate -c ... --ckpt_path ...``.

    Subclasses implement :meth:`run` (every rank calls it; collectives inside run on every rank) and use
    :meth:`write` (rank 0 writes ``<log_dir>/analysis/<name>/result.json`` and figures, and logs scalars).

    Args:
        num_images: size of the seeded analysis subset (None = the whole split).
        batch_size: images per forward pass.
        seed: seed of the subset and of every random choice of the analysis.
        split: datamodule split passed to ``analysis_dataset``.
    """

    name = "analysis"

    def __init__(self, num_images: int | None = 1000, batch_size: int = 256, seed: int = 0, split: str = "test") -> None:
        if num_images is not None:
            check_positive_int("num_images", num_images)
        check_positive_int("batch_size", batch_size)
        check_positive_int("seed", seed, minimum=0)
        self.num_images, self.batch_size, self.seed, self.split = num_images, batch_size, seed, split

    def run(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._run_in_eval(trainer, pl_module)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.state.fn == TrainerFn.VALIDATING:
            self._run_in_eval(trainer, pl_module)

    def _run_in_eval(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        was_training = pl_module.training
        pl_module.eval()
        try:
            self.run(trainer, pl_module)
        finally:
            pl_module.train(was_training)

    # ---- helpers for subclasses ------------------------------------------------------------------------------
    def dataset(self, trainer: L.Trainer) -> Dataset:
        datamodule = trainer.datamodule
        if datamodule is None or not hasattr(datamodule, "analysis_dataset"):
            raise RuntimeError(f"{type(self).__name__} needs a datamodule with analysis_dataset()")
        return datamodule.analysis_dataset(self.split)

    def local_indices(self, trainer: L.Trainer, num_items: int) -> Tensor:
        """This rank's shard of the seeded subset."""
        subset = analysis_subset(num_items, self.num_images, self.seed)
        return shard_indices(subset, trainer.global_rank, trainer.world_size)

    @staticmethod
    def sum_across_ranks(trainer: L.Trainer, tensor: Tensor) -> Tensor:
        """All-reduce sum (collective: call on every rank)."""
        if trainer.world_size == 1:
            return tensor
        return trainer.strategy.reduce(tensor.clone(), reduce_op="sum")

    @staticmethod
    def show_progress(trainer: L.Trainer) -> bool:
        return trainer.is_global_zero and trainer.progress_bar_callback is not None

    def output_dir(self, trainer: L.Trainer) -> Path:
        """``<log_dir>/analysis/<name>`` (``trainer.log_dir`` broadcasts: call on every rank)."""
        return Path(trainer.log_dir or trainer.default_root_dir) / "analysis" / self.name

    def init_args(self) -> dict[str, Any]:
        """The constructor arguments, read back from the attributes of the same name."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self" and hasattr(self, name)}

    def write(
        self,
        trainer: L.Trainer,
        out: Path,
        result: dict[str, Any],
        figures: dict[str, Any],
        scalars: dict[str, float],
    ) -> None:
        """Rank 0 writes result.json (+ init args, step, versions) and figures and logs the scalars; all ranks wait."""
        if trainer.is_global_zero:
            payload = {**result, "callback": type(self).__name__, "init_args": self.init_args(),
                       "global_step": trainer.global_step, "versions": versions()}
            write_json(out / "result.json", payload)
            for stem, fig in figures.items():
                save_figure(fig, out / stem)
            if trainer.logger is not None and scalars:
                trainer.logger.log_metrics(scalars, step=trainer.global_step)
            log.info("%s wrote %s", type(self).__name__, out)
        trainer.strategy.barrier()
