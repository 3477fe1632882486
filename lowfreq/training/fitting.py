"""Fit a model's front-end on the un-augmented training images before training, identically on every rank."""

from __future__ import annotations

from collections.abc import Iterator

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from lowfreq.core.checks import check_positive_int
from lowfreq.frontends import FrontEnd

__all__ = ["FrontEndFitting"]


class _ImageBatches:
    """Re-iterable (B, C, H, W) image batches of a dataset of (x, y) pairs, in order, on ``device``."""

    def __init__(self, dataset: Dataset, batch_size: int, device: torch.device, progress: bool) -> None:
        self.dataset, self.batch_size, self.device, self.progress = dataset, batch_size, device, progress

    def __iter__(self) -> Iterator[Tensor]:
        loader = DataLoader(self.dataset, batch_size=self.batch_size, shuffle=False)
        for x, _ in tqdm(loader, desc="fitting the front-end", disable=not self.progress, leave=False):
            yield x.to(self.device)


def _check_shapes(frontend: FrontEnd, datamodule: object) -> None:
    """A front-end fixed to an ``image_shape`` (PCA) against the datamodule's, before the fit reads any data."""
    expected = getattr(frontend, "image_shape", None)
    try:
        given = getattr(datamodule, "image_shape", None)
    except NotImplementedError:  # a DataModule that does not declare its shape: the fit checks the first batch
        return
    if expected is None or given is None or tuple(expected) == tuple(given):
        return
    raise ValueError(
        f"image_shape={tuple(expected)} of the front-end {type(frontend).__name__} does not match the data: "
        f"{type(datamodule).__name__} yields images of shape {tuple(given)}; set "
        f"--model.init_args.frontend.init_args.image_shape={list(given)}"
    )


class FrontEndFitting(L.Callback):
    """At the start of ``fit``, fit ``pl_module.frontend`` when its ``requires_fit`` is True.

    Rank 0 fits it on ``trainer.datamodule.analysis_dataset("train")`` (the training images without
    augmentation, in order, on the model's device); then rank 0's state dict (parameters and persistent
    buffers) is broadcast and loaded on every rank, so all ranks hold the same front-end. A restored
    checkpoint carries the fitted state, so resuming does not fit again.
    ``FrontEndClassifier.configure_callbacks`` adds this callback by itself when its front-end requires
    fitting.

    Args:
        batch_size: images per batch passed to the front-end's ``fit``.
    """

    def __init__(self, batch_size: int = 512) -> None:
        check_positive_int("batch_size", batch_size)
        self.batch_size = batch_size

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Fit the front-end on rank 0 and broadcast its state to every rank (no-op when it is fitted)."""
        frontend = getattr(pl_module, "frontend", None)
        if not isinstance(frontend, FrontEnd):
            raise TypeError(
                f"FrontEndFitting needs a LightningModule with a FrontEnd attribute 'frontend', got "
                f"{type(pl_module).__name__} whose frontend is {type(frontend).__name__}"
            )
        if not frontend.requires_fit:
            return
        datamodule = getattr(trainer, "datamodule", None)  # set by Trainer.fit, unseen by type checkers
        analysis_dataset = getattr(datamodule, "analysis_dataset", None)
        if not callable(analysis_dataset):
            raise RuntimeError(
                f"the front-end {type(frontend).__name__} must be fitted before training: pass a datamodule "
                f"with analysis_dataset(split) to Trainer.fit (got {type(datamodule).__name__}), or call "
                "frontend.fit(batches) before fit()"
            )
        _check_shapes(frontend, datamodule)  # every rank: a wrong shape fails before fitting, on all of them
        if trainer.is_global_zero:
            rank_zero_info(f"fitting the front-end {type(frontend).__name__} on the un-augmented train split")
            progress = trainer.progress_bar_callback is not None
            frontend.fit(_ImageBatches(analysis_dataset("train"), self.batch_size, pl_module.device, progress))
        # CPU tensors: unpickled on other ranks they must not land on rank 0's GPU
        state = {key: value.cpu() for key, value in frontend.state_dict().items()}
        frontend.load_state_dict(trainer.strategy.broadcast(state, src=0))
