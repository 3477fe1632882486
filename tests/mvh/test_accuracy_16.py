"""A 1000-way ImageNet model on 16-class model-vs-human data: val_acc is the 16-class accuracy (oracle by hand)."""

from __future__ import annotations

import torch
from lightning import Trainer
from torch.utils.data import Dataset, TensorDataset

from lowfreq.data import ImageDataModule
from lowfreq.frontends import Identity
from lowfreq.mvh.labels import CLASSES_16, IMAGENET_16_INDICES
from lowfreq.training import FrontEndClassifier

from tiny_backbone import TinyBackbone


class Fake16(ImageDataModule):
    """Evaluation-only data whose classes are the 16 model-vs-human classes (like ModelVsHumanDataModule)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, class_names: list[str]) -> None:
        super().__init__(batch_size=5, num_workers=0, seed=0, augment=False)
        self.x, self.y, self._names = x, y, class_names

    @property
    def class_names(self) -> list[str]:
        return list(self._names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (3, 8, 8)

    def _build(self) -> dict[str, Dataset]:
        ds = TensorDataset(self.x, self.y)
        return {"val": ds, "test": ds}


def _hand_decisions(logits: torch.Tensor) -> torch.Tensor:
    """model-vs-human's rule written out: softmax over 1000, mean probability of each class's members, argmax."""
    probs = logits.double().softmax(-1)
    scores = torch.stack([probs[:, list(IMAGENET_16_INDICES[c])].mean(-1) for c in CLASSES_16], dim=-1)
    return scores.argmax(-1)


def _validate(model: FrontEndClassifier, dm: ImageDataModule, tmp_path) -> dict[str, float]:
    trainer = Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    (metrics,) = trainer.validate(model, dm, verbose=False)
    return metrics


def test_val_acc_of_a_1000_way_model_is_over_the_16_classes(tmp_path):
    torch.manual_seed(0)
    model = FrontEndClassifier(Identity(), TinyBackbone(1000)).eval()
    x = torch.rand(20, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = model(x)
    decided = _hand_decisions(logits)
    y = decided.clone()
    y[::2] = (decided[::2] + 1) % 16  # every other label wrong: the oracle is exactly 0.5
    expected = (decided == y).double().mean().item()
    assert expected == 0.5
    metrics = _validate(model, Fake16(x, y, list(CLASSES_16)), tmp_path)
    assert abs(metrics["val_acc"] - expected) < 1e-6
    # the loss is the cross-entropy of the 16 (renormalised) scores, not of 1000 logits against 16 labels
    scores = torch.stack([logits.softmax(-1)[:, list(IMAGENET_16_INDICES[c])].mean(-1) for c in CLASSES_16], -1)
    expected_loss = torch.nn.functional.cross_entropy(scores.log(), y).item()
    assert abs(metrics["val_loss"] - expected_loss) < 1e-4


def test_other_data_keep_the_models_own_label_space(tmp_path):
    """Data with other class names (ImageNet itself, CIFAR): logits are scored as they are."""
    torch.manual_seed(0)
    model = FrontEndClassifier(Identity(), TinyBackbone(1000)).eval()
    x = torch.rand(10, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        y = model(x).argmax(-1)  # labels = the model's own 1000-way decisions
    metrics = _validate(model, Fake16(x, y, [f"class{i}" for i in range(1000)]), tmp_path)
    assert metrics["val_acc"] == 1.0
