"""FourierMaskProbe: a dataset-level Fourier mask learned on a frozen classifier (P004), with Lightning."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.core.optimizer import LightningOptimizer
from torch import Tensor, nn

from lowfreq.analysis.masks import apply_masks, mask_objective
from lowfreq.core.checks import check_range
from lowfreq.training.checkpoints import record_data
from lowfreq.training.classifier import FrontEndClassifier, batch_mean

__all__ = ["FourierMaskProbe"]


class FourierMaskProbe(L.LightningModule):
    """Learn a dataset-level Fourier mask on a frozen classifier (P004), on any data size and number of GPUs.

    The classifier (``classifier``: any module from [0, 1] images to logits, e.g. a torchvision or timm model with
    weights given by ``class_path``; or ``checkpoint_path``: a lowfreq ``FrontEndClassifier`` checkpoint) is frozen:
    no gradients, and it stays in eval mode (BatchNorm statistics fixed) whatever Lightning switches. The mask
    ``M`` (H, W), unshifted FFT layout, starts at ones, filters every channel of the input
    ([`lowfreq.analysis.masks.apply_masks`][lowfreq.analysis.masks.apply_masks]) and is clamped to [0, 1] after every
    optimiser step; the loss is the objective of
    [`lowfreq.analysis.masks.fit_fourier_masks`][lowfreq.analysis.masks.fit_fourier_masks]
    (``exp((ΔCE)²) + λ · mean(M)``, batch mean). Under DDP the mask's gradients are averaged across processes like any
    parameter, so every rank holds the same mask. The mask acts on [0, 1] pixels, before the classifier's own
    normalisation (the authors mask the normalised image; the difference is only the DC bin's offset).

    Logged: ``train_loss``, ``mask_mean`` (the relative L1 norm) per epoch; ``val_acc`` (unmasked),
    ``val_masked_acc`` and ``val_agreement`` (masked prediction = unmasked prediction).

    Args:
        classifier: the frozen network; exactly one of ``classifier`` and ``checkpoint_path``.
        checkpoint_path: a lowfreq checkpoint whose ``FrontEndClassifier`` (front-end and backbone) is frozen.
        image_size: (H, W) of the images.
        lambda_l1: λ >= 0 (P004: 0.2 for dataset masks).
        lr: Adam learning rate (P004: max 1e-3 with a one-cycle schedule; constant here).
        use_labels: the objective's labels are the data's labels (P004 for dataset masks); False uses the frozen
            network's predictions.
    """

    def __init__(
        self,
        classifier: nn.Module | None = None,
        checkpoint_path: str | None = None,
        image_size: tuple[int, int] = (32, 32),
        lambda_l1: float = 0.2,
        lr: float = 1e-3,
        use_labels: bool = True,
    ) -> None:
        super().__init__()
        if (classifier is None) == (checkpoint_path is None):
            raise ValueError(
                "give exactly one of classifier (a module, e.g. class_path: lowfreq.backbones.TorchvisionClassifier) "
                f"and checkpoint_path (a lowfreq checkpoint), got classifier={type(classifier).__name__} and "
                f"checkpoint_path={checkpoint_path!r}"
            )
        check_range("lambda_l1", lambda_l1, 0.0)
        check_range("lr", lr, 0.0, low_open=True)
        height, width = image_size
        for name, value in (("image_size[0]", height), ("image_size[1]", width)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        self.save_hyperparameters(ignore=["classifier"])
        if checkpoint_path is not None:
            classifier = FrontEndClassifier.load_from_checkpoint(checkpoint_path, map_location="cpu")
        assert classifier is not None
        self.classifier = classifier.eval()
        for p in self.classifier.parameters():
            p.requires_grad_(False)
        self.mask = nn.Parameter(torch.ones(height, width))
        self.lambda_l1, self.lr, self.use_labels = lambda_l1, lr, use_labels
        self.train_loss_mean, self.mask_mean = batch_mean(), batch_mean()
        self.val_acc, self.val_masked_acc, self.val_agreement = batch_mean(), batch_mean(), batch_mean()

    @property
    def num_classes(self) -> int | None:
        """Number of outputs of the frozen classifier, when it tells (lowfreq models and backbones do)."""
        value = getattr(self.classifier, "num_classes", None)
        return value if isinstance(value, int) else None

    @property
    def untrained_reason(self) -> str | None:
        """Why evaluating the probe without a checkpoint evaluates nothing learned: the mask comes from ``fit``."""
        return "its Fourier mask is learned by fit (before, the mask is all ones)"

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Record the training data's classes and image shape (``DATA_KEY``), checked by ``lowfreq validate``."""
        record_data(self, checkpoint)

    def train(self, mode: bool = True) -> FourierMaskProbe:
        """Switch the mode of the module but keep the frozen classifier in eval mode."""
        super().train(mode)
        self.classifier.eval()
        return self

    def forward(self, x: Tensor) -> Tensor:
        """Logits of the mask-filtered images."""
        return cast("Tensor", self.classifier(apply_masks(x, self.mask.clamp(0.0, 1.0))))

    def _targets(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        with torch.no_grad():
            clean = self.classifier(x)
        return clean, (y if self.use_labels else clean.argmax(-1))

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        """The P004 objective on a batch (mean over its images)."""
        self.classifier.eval()  # Lightning may restore recorded training flags of submodules at epoch starts
        x, y = batch
        clean, target = self._targets(x, y)
        clean_ce = F.cross_entropy(clean.float(), target, reduction="none")
        invariance, penalty = mask_objective(self(x), clean_ce, target, self.mask[None])
        loss = invariance.mean() + self.lambda_l1 * penalty.mean()
        self.train_loss_mean.update(loss.detach().expand(len(x)))
        self.mask_mean.update(self.mask.detach().mean().expand(len(x)))
        return loss

    def optimizer_step(
        self,
        epoch: int,
        batch_idx: int,
        optimizer: torch.optim.Optimizer | LightningOptimizer,
        optimizer_closure: Callable[[], Any] | None = None,
    ) -> None:
        """Lightning's optimiser step, then the projection of the mask to [0, 1]."""
        super().optimizer_step(epoch, batch_idx, optimizer, optimizer_closure)
        with torch.no_grad():
            self.mask.clamp_(0.0, 1.0)

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        """Accuracy with and without the mask, and their agreement."""
        x, y = batch
        clean = self.classifier(x).argmax(-1)
        masked = self(x).argmax(-1)
        self.val_acc.update((clean == y).float())
        self.val_masked_acc.update((masked == y).float())
        self.val_agreement.update((masked == clean).float())

    def on_train_epoch_end(self) -> None:
        """Log the epoch's loss and mask mean."""
        if self.train_loss_mean.update_called:
            self.log("train_loss", self.train_loss_mean, prog_bar=True)
            self.log("mask_mean", self.mask_mean, prog_bar=True)

    def on_validation_epoch_end(self) -> None:
        """Log the validation accuracies."""
        if self.val_acc.update_called:
            self.log("val_acc", self.val_acc, prog_bar=True)
            self.log("val_masked_acc", self.val_masked_acc, prog_bar=True)
            self.log("val_agreement", self.val_agreement)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Adam over the mask only."""
        return torch.optim.Adam([self.mask], lr=self.lr)
