"""FrontEndClassifier: a frozen front-end before a backbone, trained or fine-tuned with Lightning."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor
from torchmetrics import Metric, MetricCollection
from torchmetrics.classification import MulticlassAccuracy

from lowfreq._checks import check_range
from lowfreq.backbones import Backbone
from lowfreq.frontends import FourierMask, FrontEnd, Identity, PCAProjection

__all__ = ["FrontEndClassifier"]

log = logging.getLogger(__name__)


def _default_optimizer(params: Any) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)


class _RunningMean(Metric):
    """Batch-size-weighted mean of a per-batch scalar, accumulated on the device, summed across processes."""

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.add_state("total", default=torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("weight", default=torch.tensor(0.0), dist_reduce_fx="sum")

    def update(self, value: Tensor, weight: int) -> None:
        self.total += value.detach().float() * weight
        self.weight += weight

    def compute(self) -> Tensor:
        return self.total / self.weight


class FrontEndClassifier(L.LightningModule):
    """Image classifier ``backbone(frontend(x))`` for [0, 1] images.

    The front-end is frozen (buffers only), except :class:`~lowfreq.frontends.FourierMask`, whose mask is
    trained with ``lambda_l1 * frontend.l1_penalty()`` added to the loss and projected to [0, 1] after every
    step. A :class:`~lowfreq.frontends.PCAProjection` that is not yet fitted is fitted at the start of ``fit``
    on the datamodule's un-augmented training images (on rank 0, then broadcast).

    Args:
        frontend: the frozen pixel-space operator (blur, PCA, ideal filter, mask, identity).
        backbone: the network, normalisation included (``lowfreq.backbones``).
        optimizer: optimiser factory taking the trainable parameters (default: SGD lr 0.1, momentum 0.9,
            Nesterov, weight decay 5e-4).
        lr_scheduler: scheduler factory taking the optimiser, or None.
        lr_scheduler_interval: step the scheduler every "epoch" or every "step".
        lambda_l1: weight of the front-end's L1 penalty (FourierMask only).
        label_smoothing: cross-entropy label smoothing in [0, 1).
        freeze_backbone: keep the backbone fixed and in eval mode (P004: mask on a frozen network).
        init_checkpoint: a Lightning checkpoint or state-dict file whose ``backbone.*`` weights initialise the
            backbone (e.g. fine-tune a baseline behind a newly inserted blur, P002).
        channels_last: convert the backbone and its inputs (the front-end's output) to channels-last memory format
            (faster convolutions on GPUs, especially under bf16).
        compile: compile the backbone with ``torch.compile(dynamic=False)`` (one graph per batch shape: the full
            batch and an epoch's last batch); the front-end stays eager and exact float32.

    Logged: ``train_loss_step`` (on the steps the logger writes, every ``log_every_n_steps``); once per epoch
    ``train_loss_epoch``, ``train_acc`` (and ``train_l1`` for a penalised mask), ``val_loss``, ``val_acc``,
    ``test_loss``, ``test_acc`` (batch-size-weighted means over the epoch and all processes). No step synchronises
    the GPU with the host, and only the logger's steps call ``self.log``: the epoch values accumulate in
    device-side metrics and are read once per epoch, which keeps Lightning's per-step host time small enough for
    the GPU to stay busy.
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
    ) -> None:
        super().__init__()
        check_range("lambda_l1", lambda_l1, 0.0)
        check_range("label_smoothing", label_smoothing, 0.0, 1.0, high_open=True)
        if backbone is None:
            from lowfreq.backbones import CIFARResNet18

            backbone = CIFARResNet18()
        self.save_hyperparameters()
        self.frontend = frontend if frontend is not None else Identity()
        self.backbone = backbone
        self.optimizer_factory, self.lr_scheduler_factory = optimizer, lr_scheduler
        self.lr_scheduler_interval = lr_scheduler_interval
        self.lambda_l1, self.label_smoothing, self.freeze_backbone = lambda_l1, label_smoothing, freeze_backbone
        self.channels_last = channels_last
        if init_checkpoint is not None:
            self._load_backbone(init_checkpoint)
        if freeze_backbone:
            self.backbone.requires_grad_(False)
        if channels_last:
            self.backbone.to(memory_format=torch.channels_last)
        if compile:
            self.backbone.compile(dynamic=False)  # in place: state-dict keys stay those of the backbone
        metrics = MetricCollection({"acc": MulticlassAccuracy(num_classes=backbone.num_classes, average="micro")})
        self.train_metrics = metrics.clone(prefix="train_")
        self.val_metrics = metrics.clone(prefix="val_")
        self.test_metrics = metrics.clone(prefix="test_")
        self.train_loss_mean, self.val_loss_mean, self.test_loss_mean = _RunningMean(), _RunningMean(), _RunningMean()
        self.train_l1_mean = _RunningMean()

    def _load_backbone(self, path: str) -> None:
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"init_checkpoint must be an existing checkpoint file, got {path!r}")
        state = torch.load(file, map_location="cpu", weights_only=False)
        state = state.get("state_dict", state)
        backbone_state = {k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")}
        self.backbone.load_state_dict(backbone_state or state)
        log.info("initialised the backbone from %s", path)

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) in [0, 1] -> logits (B, K)."""
        x = self.frontend(x)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.backbone(x)

    def on_fit_start(self) -> None:
        if isinstance(self.frontend, PCAProjection) and not self.frontend.is_fitted:
            self._fit_pca(self.frontend)
        if self.freeze_backbone:
            self.backbone.eval()

    def _fit_pca(self, pca: PCAProjection) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is None or not hasattr(datamodule, "analysis_dataset"):
            raise RuntimeError("PCAProjection must be fitted before fit() when the datamodule has no analysis_dataset")
        if self.trainer.is_global_zero:
            dataset = datamodule.analysis_dataset("train")
            if pca.max_images is not None and pca.max_images < len(dataset):
                dataset = torch.utils.data.Subset(dataset, range(pca.max_images))
            loader = torch.utils.data.DataLoader(dataset, batch_size=512, shuffle=False)
            pca.fit(((x.to(self.device), y) for x, y in loader), progress=self.trainer.progress_bar_callback is not None)
        for name in ("mean", "components", "explained_variance", "fitted"):
            buffer = getattr(pca, name)
            buffer.copy_(self.trainer.strategy.broadcast(buffer, src=0))

    def on_train_epoch_start(self) -> None:
        if self.freeze_backbone:
            self.backbone.eval()

    def _step(self, batch: tuple[Tensor, Tensor], metrics: MetricCollection) -> Tensor:
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y, label_smoothing=self.label_smoothing)
        metrics.update(logits.detach(), y)
        return loss

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        loss = self._step(batch, self.train_metrics)
        batch_size = batch[1].shape[0]
        if self.lambda_l1 > 0 and isinstance(self.frontend, FourierMask):
            penalty = self.frontend.l1_penalty()
            self.train_l1_mean.update(penalty, batch_size)
            loss = loss + self.lambda_l1 * penalty
        self.train_loss_mean.update(loss, batch_size)
        if self._logger_writes_this_step():
            self.log("train_loss_step", loss.detach(), on_step=True, on_epoch=False, sync_dist=True)
        return loss

    def _logger_writes_this_step(self) -> bool:
        """True on the steps after which Lightning writes step values to its loggers (``log_every_n_steps``)."""
        trainer = self._trainer
        if trainer is None or not trainer.loggers:
            return False
        return bool(trainer.fast_dev_run) or trainer._logger_connector.should_update_logs  # no public equivalent

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if isinstance(self.frontend, FourierMask):
            self.frontend.project_()

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self.val_loss_mean.update(self._step(batch, self.val_metrics), batch[1].shape[0])

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self.test_loss_mean.update(self._step(batch, self.test_metrics), batch[1].shape[0])

    def on_train_epoch_end(self) -> None:
        self._log_epoch(self.train_metrics, "train_loss_epoch", self.train_loss_mean, loss_in_bar=False)
        if self.train_l1_mean.update_called:
            self.log("train_l1", self.train_l1_mean)

    def on_validation_epoch_end(self) -> None:
        self._log_epoch(self.val_metrics, "val_loss", self.val_loss_mean, loss_in_bar=True)

    def on_test_epoch_end(self) -> None:
        self._log_epoch(self.test_metrics, "test_loss", self.test_loss_mean, loss_in_bar=False)

    def _log_epoch(self, metrics: MetricCollection, loss_name: str, loss_mean: _RunningMean, loss_in_bar: bool) -> None:
        """Log an epoch's values as metric objects: Lightning computes them (summed across processes), then resets
        them for the next epoch."""
        if loss_mean.update_called:
            self.log_dict(metrics, prog_bar=True)
            self.log(loss_name, loss_mean, prog_bar=loss_in_bar)

    def predict_step(self, batch: Any, batch_idx: int) -> Tensor:
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        return self(x).softmax(dim=-1)

    def configure_optimizers(self) -> Any:
        params = [p for p in self.parameters() if p.requires_grad]
        if not params:
            raise ValueError("nothing to train: the backbone is frozen and the front-end has no parameters")
        optimizer = self.optimizer_factory(params)
        if self.lr_scheduler_factory is None:
            return optimizer
        scheduler = self.lr_scheduler_factory(optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": self.lr_scheduler_interval}}
