"""FrontEndClassifier: a front-end before a backbone, trained or fine-tuned with Lightning."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, cast

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from lightning.pytorch.core.optimizer import LightningOptimizer
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor, nn
from torchmetrics import MeanMetric, MetricCollection
from torchmetrics.classification import MulticlassAccuracy

from lowfreq.backbones import Backbone
from lowfreq.core.checks import check_range
from lowfreq.core.spec import build_from_spec
from lowfreq.frontends import FrontEnd, Identity
from lowfreq.training.checkpoints import (
    check_label_map,
    function_from_path,
    load_backbone_weights,
    make_hparams_plain,
    read_checkpoint,
    record_data,
)
from lowfreq.training.fitting import FrontEndFitting

__all__ = ["FrontEndClassifier", "batch_mean"]

LabelMap = Callable[[Tensor], Tensor]
"""Maps the backbone's (B, K) logits to (B, K') scores over the data's classes (log-probability-like)."""


def _default_optimizer(params: Any) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)


def batch_mean() -> MeanMetric:
    """Batch-size-weighted mean of a per-batch scalar: update with ``value.expand(batch_size)``.

    ``nan_strategy="disable"`` skips the NaN test, a host read per update; it also drops explicit weights
    (torchmetrics 1.9), hence the value repeated ``batch_size`` times instead of a weight.
    """
    return MeanMetric(nan_strategy="disable")


def _accuracy(num_classes: int) -> MetricCollection:
    return MetricCollection({"acc": MulticlassAccuracy(num_classes=num_classes, average="micro")})


def _mapped_classes(label_map: LabelMap, num_outputs: int) -> int:
    """Number of classes ``label_map`` scores, from one (1, num_outputs) row of zero logits."""
    with torch.no_grad():
        scores = label_map(torch.zeros(1, num_outputs))
    if not isinstance(scores, Tensor) or scores.ndim != 2 or scores.shape[0] != 1:
        got = tuple(scores.shape) if isinstance(scores, Tensor) else type(scores).__name__
        raise ValueError(f"label_map must map (B, {num_outputs}) logits to (B, K) scores, got {got} for B = 1")
    return int(scores.shape[1])


class FrontEndClassifier(L.LightningModule):
    """Image classifier ``backbone(frontend(x))`` for [0, 1] images.

    The model knows front-ends only through the [`FrontEnd`][lowfreq.frontends.FrontEnd] hooks: the training loss
    adds ``lambda_l1 * frontend.penalty()`` (when the penalty is not None and ``lambda_l1 > 0``), every
    optimiser step is followed by ``frontend.after_optimizer_step()``, and a front-end whose ``requires_fit``
    is True is fitted at the start of ``fit`` by the callback
    [`FrontEndFitting`][lowfreq.training.fitting.FrontEndFitting] (returned by
    [`configure_callbacks`][lowfreq.training.classifier.FrontEndClassifier.configure_callbacks]: on rank 0 on the
    datamodule's un-augmented training images, then broadcast). Front-ends without parameters stay fixed.

    Args:
        frontend: the pixel-space operator (blur, PCA, ideal filter, mask, identity).
        backbone: the network, normalisation included (``lowfreq.backbones``).
        optimizer: optimiser factory taking the trainable parameters (default: SGD lr 0.1, momentum 0.9,
            Nesterov, weight decay 5e-4).
        lr_scheduler: scheduler factory taking the optimiser, or None.
        lr_scheduler_interval: step the scheduler every "epoch" or every "step".
        lambda_l1: weight, >= 0, of the front-end's penalty in the training loss (``FrontEnd.penalty``, e.g.
            the L1 term of a ``FourierMask``); the name is kept for recipes.
        label_smoothing: cross-entropy label smoothing in [0, 1).
        freeze_backbone: keep the backbone fixed and in eval mode (P004: mask on a frozen network).
        init_checkpoint: a Lightning checkpoint or state-dict file whose ``backbone.*`` weights initialise the
            backbone (e.g. fine-tune a baseline behind a newly inserted blur, P002). Read with
            ``weights_only=True`` once, at the start of a fit that does not resume; never when a checkpoint of
            this model is restored or loaded, so the file may move afterwards.
        channels_last: on CUDA, convert the backbone and its inputs (the front-end's output) to channels-last
            memory format (faster convolutions, especially under bf16), when a Trainer sets the model up. Ignored
            (with a message) on other devices: torch's CPU channels-last backward is unreliable (oneDNN crash/hang).
        compile: compile the backbone with ``torch.compile(dynamic=False)`` (one graph per batch shape: the full
            batch and an epoch's last batch); the front-end stays eager and exact float32.
        label_map: None (the backbone's outputs are the data's classes), or a function or module, or its import
            path, mapping the backbone's (B, K) logits to (B, K') scores over the data's classes; the model's output,
            loss, accuracy and predictions are then over those K' classes. A 1000-way ImageNet backbone on the 16
            model-vs-human classes needs ``lowfreq.mvh.labels.imagenet_to_16`` (model-vs-human's mean-probability
            mapping; ``recipes/pretrained_alignment.yaml``); without it, ``setup`` stops saying so.

    Logged: ``train_loss_step`` (on the steps the logger writes, every ``log_every_n_steps``); once per epoch
    ``train_loss_epoch``, ``train_acc`` (and ``train_l1``, the mean front-end penalty, when it enters the
    loss), ``val_loss``, ``val_acc``,
    ``test_loss``, ``test_acc`` (batch-size-weighted means over the epoch and all processes). No step synchronises
    the GPU with the host, and
    only the logger's steps call ``self.log``: the epoch values accumulate in device-side metrics and are read once per
    epoch, which keeps Lightning's per-step host time small enough for the GPU to stay busy.
    """

    def __init__(
        self,
        frontend: FrontEnd | None = None,
        backbone: Backbone | None = None,
        optimizer: OptimizerCallable = _default_optimizer,
        lr_scheduler: LRSchedulerCallable | None = None,
        lr_scheduler_interval: Literal["epoch", "step"] = "epoch",
        lambda_l1: float = 0.0,
        label_smoothing: float = 0.0,
        freeze_backbone: bool = False,
        init_checkpoint: str | None = None,
        channels_last: bool = False,
        compile: bool = False,
        label_map: LabelMap | str | None = None,
    ) -> None:
        super().__init__()
        check_range("lambda_l1", lambda_l1, 0.0)
        check_range("label_smoothing", label_smoothing, 0.0, 1.0, high_open=True)
        frontend = Identity() if frontend is None else build_from_spec("frontend", frontend, FrontEnd)
        if backbone is None:
            from lowfreq.backbones import CIFARResNet18

            backbone = CIFARResNet18()
        backbone = build_from_spec("backbone", backbone, Backbone)
        if isinstance(label_map, str) and not label_map.startswith("unrecorded "):  # a recorded import path
            label_map = function_from_path("label_map", label_map)
        elif isinstance(label_map, (str, Mapping)):  # a recorded module spec, or the note that it was not recorded
            label_map = build_from_spec("label_map", label_map, nn.Module)
        elif label_map is not None and not callable(label_map):
            raise TypeError(f"label_map must be None, a function or a module, got {type(label_map).__name__}")
        with warnings.catch_warnings():  # Python-built modules: replaced by plain specs just below
            warnings.filterwarnings("ignore", message="Attribute '.*' is an instance of `nn.Module`")
            self.save_hyperparameters()
        make_hparams_plain(self.hparams)
        self.frontend: FrontEnd = frontend
        self.backbone: Backbone = backbone
        self.label_map = label_map
        num_outputs = backbone.num_classes
        self._num_classes = num_outputs if label_map is None else _mapped_classes(label_map, num_outputs)
        self.optimizer_factory, self.lr_scheduler_factory = optimizer, lr_scheduler
        self.lr_scheduler_interval = lr_scheduler_interval
        self.lambda_l1, self.label_smoothing, self.freeze_backbone = lambda_l1, label_smoothing, freeze_backbone
        self.init_checkpoint, self.channels_last = init_checkpoint, channels_last
        self._channels_last_active = False
        if freeze_backbone:
            self.backbone.requires_grad_(False)
        if compile:
            self.backbone.compile(dynamic=False)  # in place: state-dict keys stay those of the backbone
        metrics = _accuracy(self._num_classes)
        self.train_metrics = metrics.clone(prefix="train_")
        self.val_metrics = metrics.clone(prefix="val_")
        self.test_metrics = metrics.clone(prefix="test_")
        self.train_loss_mean, self.val_loss_mean = batch_mean(), batch_mean()
        self.test_loss_mean, self.train_l1_mean = batch_mean(), batch_mean()

    @property
    def num_classes(self) -> int:
        """Number of classes scored: the backbone's outputs, or those of ``label_map`` when one is given."""
        return self._num_classes

    @property
    def untrained_reason(self) -> str | None:
        """Why evaluating the model without a checkpoint would evaluate untrained weights, or None.

        None when the model as built holds trained weights: a pretrained backbone (``Backbone.is_pretrained``)
        behind a front-end that neither waits to be fitted (``requires_fit``) nor has parameters that fit learns.
        """
        frontend = type(self.frontend).__name__
        if getattr(self.frontend, "requires_fit", False):
            return f"its front-end {frontend} is fitted on data at the start of fit"
        if any(p.requires_grad for p in self.frontend.parameters()):
            return f"its front-end {frontend} has parameters that fit learns"
        if getattr(self.backbone, "is_pretrained", False):
            return None
        return f"its backbone {type(self.backbone).__name__} has no pretrained weights"

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Record the training data's classes and image shape (``DATA_KEY``), checked by ``lowfreq validate``."""
        record_data(self, checkpoint)

    @classmethod
    def load_from_checkpoint(  # type: ignore[override]
        cls, checkpoint_path: str | Path, map_location: Any = None, strict: bool | None = None, **kwargs: Any
    ) -> FrontEndClassifier:
        """Rebuild a model from a checkpoint, reading it with ``torch.load(weights_only=True)``.

        Keyword arguments override the saved hyper-parameters (e.g. ``frontend=...`` for a front-end whose
        constructor arguments could not be recorded). A missing, corrupt or non-checkpoint file raises an error
        naming ``checkpoint_path``.
        """
        path = Path(checkpoint_path)
        read_checkpoint("checkpoint_path", path)  # clear errors before Lightning's own load
        kwargs.pop("weights_only", None)
        return super().load_from_checkpoint(path, map_location=map_location, strict=strict, weights_only=True, **kwargs)

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) in [0, 1] -> logits (B, K): the backbone's, through ``label_map`` when one is given."""
        x = self.frontend(x)
        if self._channels_last_active:
            x = x.contiguous(memory_format=torch.channels_last)
        logits = self.backbone(x)
        return logits if self.label_map is None else self.label_map(logits)

    def setup(self, stage: str) -> None:
        """Stop when a label map is missing, and use channels-last memory format only on CUDA.

        A 1000-way ImageNet model on data whose classes are the 16 model-vs-human classes stops here, saying to set
        ``label_map=``[`imagenet_to_16`][lowfreq.mvh.labels.imagenet_to_16]
        ([`check_label_map`][lowfreq.training.checkpoints.check_label_map]). On CPUs, oneDNN's channels-last
        backward of strided 1x1 convolutions crashes or hangs in current torch releases.
        """
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is not None:
            check_label_map(f"the model {type(self).__name__}", datamodule, self.num_classes)
        if not self.channels_last or self._channels_last_active:
            return
        device = self.trainer.strategy.root_device
        if device.type == "cuda":
            self.backbone.to(memory_format=torch.channels_last)
            self._channels_last_active = True
        else:
            rank_zero_info(f"channels_last=True is ignored on {device.type}: it only speeds up CUDA convolutions, and "
                           "torch's CPU channels-last backward is unreliable (oneDNN crash/hang)")

    def configure_callbacks(self) -> list[L.Callback]:
        """``[FrontEndFitting()]`` when the front-end requires fitting (done at the start of ``fit``)."""
        if not self.frontend.requires_fit:
            return []
        try:
            configured = getattr(self.trainer, "callbacks", [])
        except RuntimeError:  # not attached to a Trainer (yet)
            configured = []
        if any(isinstance(c, FrontEndFitting) for c in configured):
            return []  # the recipe configured its own FrontEndFitting
        return [FrontEndFitting()]

    def on_fit_start(self) -> None:
        """Load ``init_checkpoint`` (unless resuming) and keep a frozen backbone in eval mode."""
        if self.init_checkpoint is not None and self.trainer.ckpt_path is None:  # resuming restores the weights
            load_backbone_weights(self.backbone, self.init_checkpoint)
        if self.freeze_backbone:
            self.backbone.eval()

    def on_train_epoch_start(self) -> None:
        """Keep a frozen backbone in eval mode (its BatchNorm statistics fixed)."""
        if self.freeze_backbone:
            self.backbone.eval()

    def _step(self, batch: tuple[Tensor, Tensor], metrics: MetricCollection) -> Tensor:
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y, label_smoothing=self.label_smoothing)
        metrics.update(logits.detach(), y)
        return loss

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        """Cross-entropy plus ``lambda_l1`` times the front-end's penalty; accumulates the epoch values."""
        loss = self._step(batch, self.train_metrics)
        batch_size = batch[1].shape[0]
        penalty = self.frontend.penalty() if self.lambda_l1 > 0 else None
        if penalty is not None:
            self.train_l1_mean.update(penalty.detach().expand(batch_size))
            loss = loss + self.lambda_l1 * penalty
        self.train_loss_mean.update(loss.detach().expand(batch_size))
        if self._logger_writes_this_step():
            self.log("train_loss_step", loss.detach(), on_step=True, on_epoch=False, sync_dist=True)
        return loss

    def _logger_writes_this_step(self) -> bool:
        """True on the steps after which Lightning writes step values to its loggers (``log_every_n_steps``).

        Lightning exposes this test only privately (``trainer._logger_connector.should_update_logs``), and a
        ``self.log(on_step=True)`` on every step costs host time that starves a fast GPU (``benchmarks/README.md``),
        hence this public-attribute copy: ``global_step`` counts the optimiser steps before this one, as
        Lightning's logging step does with one optimiser; the last step of a run (``should_stop``) and
        ``fast_dev_run`` write too.
        """
        trainer = self.trainer
        if not trainer.loggers:
            return False
        if getattr(trainer, "fast_dev_run", False):  # public Trainer attributes set at init, unseen by mypy
            return True
        every = getattr(trainer, "log_every_n_steps", 0)
        return every > 0 and ((trainer.global_step + 1) % every == 0 or trainer.should_stop)

    def optimizer_step(
        self,
        epoch: int,
        batch_idx: int,
        optimizer: torch.optim.Optimizer | LightningOptimizer,
        optimizer_closure: Callable[[], Any] | None = None,
    ) -> None:
        """Lightning's optimiser step, then the front-end's ``after_optimizer_step`` hook."""
        super().optimizer_step(epoch, batch_idx, optimizer, optimizer_closure)
        self.frontend.after_optimizer_step()

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        """Accumulate the validation loss and accuracy."""
        loss = self._step(batch, self.val_metrics)
        self.val_loss_mean.update(loss.expand(batch[1].shape[0]))

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        """Accumulate the test loss and accuracy."""
        loss = self._step(batch, self.test_metrics)
        self.test_loss_mean.update(loss.expand(batch[1].shape[0]))

    def on_train_epoch_end(self) -> None:
        """Log the epoch's training values."""
        self._log_epoch(self.train_metrics, "train_loss_epoch", self.train_loss_mean, loss_in_bar=False)
        if self.train_l1_mean.update_called:
            self.log("train_l1", self.train_l1_mean)

    def on_validation_epoch_end(self) -> None:
        """Log the epoch's validation values."""
        self._log_epoch(self.val_metrics, "val_loss", self.val_loss_mean, loss_in_bar=True)

    def on_test_epoch_end(self) -> None:
        """Log the test values."""
        self._log_epoch(self.test_metrics, "test_loss", self.test_loss_mean, loss_in_bar=False)

    def _log_epoch(
        self, metrics: MetricCollection, loss_name: str, loss_mean: MeanMetric, loss_in_bar: bool
    ) -> None:
        """Log an epoch's values as metric objects.

        Lightning computes them (summed across processes), then resets them for the next epoch.
        """
        if loss_mean.update_called:
            self.log_dict(metrics, prog_bar=True)
            self.log(loss_name, loss_mean, prog_bar=loss_in_bar)

    def predict_step(self, batch: Any, batch_idx: int) -> Tensor:
        """Class probabilities (B, K) of a batch of images or of (images, labels)."""
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        return cast("Tensor", self(x).softmax(dim=-1))

    def configure_optimizers(self) -> Any:
        """The optimiser over all trainable parameters, with the scheduler when one is given."""
        params = [p for p in self.parameters() if p.requires_grad]
        if not params:
            raise ValueError("nothing to train: the backbone is frozen and the front-end has no parameters")
        optimizer = self.optimizer_factory(params)
        if self.lr_scheduler_factory is None:
            return optimizer
        scheduler = self.lr_scheduler_factory(optimizer)
        schedule = {"scheduler": scheduler, "interval": self.lr_scheduler_interval}
        return {"optimizer": optimizer, "lr_scheduler": schedule}
