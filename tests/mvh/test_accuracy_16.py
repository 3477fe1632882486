"""A 1000-way ImageNet model on 16-class model-vs-human data: val_acc is the 16-class accuracy (oracle by hand).

The 16-class scoring is explicit (``label_map=imagenet_to_16``); without it the model stops in ``setup``.
"""

from __future__ import annotations

import pytest
import torch
from lightning import Trainer
from torch.utils.data import Dataset, TensorDataset

from lowfreq.data import ImageDataModule
from lowfreq.frontends import Identity
from lowfreq.mvh.labels import CLASSES_16, IMAGENET_16_INDICES, imagenet_to_16
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
    model = FrontEndClassifier(Identity(), TinyBackbone(1000), label_map=imagenet_to_16).eval()
    x = torch.rand(20, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = model.backbone(model.frontend(x))
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


def test_a_1000_way_model_on_the_16_classes_without_a_label_map_names_the_argument(tmp_path):
    model = FrontEndClassifier(Identity(), TinyBackbone(1000)).eval()
    x, y = torch.rand(4, 3, 8, 8), torch.zeros(4, dtype=torch.long)
    with pytest.raises(ValueError, match=r"predicts 1000 .ImageNet. classes") as info:
        _validate(model, Fake16(x, y, list(CLASSES_16)), tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert "label_map: lowfreq.mvh.labels.imagenet_to_16" in message
    assert "--model.init_args.label_map=lowfreq.mvh.labels.imagenet_to_16" in message


def test_the_label_map_is_the_models_output_and_survives_a_checkpoint(tmp_path):
    """forward, predict and a Python-built checkpoint (import path in its hyper-parameters) all use the map."""
    torch.manual_seed(0)
    model = FrontEndClassifier(Identity(), TinyBackbone(1000), label_map=imagenet_to_16).eval()
    assert model.num_classes == 16
    assert model.hparams["label_map"] == "lowfreq.mvh.labels.imagenet_to_16"
    x = torch.rand(3, 3, 8, 8)
    with torch.no_grad():
        expected = imagenet_to_16(model.backbone(x))
        assert torch.equal(model(x), expected)
        assert torch.allclose(model.predict_step(x, 0), expected.softmax(-1))
    trainer = Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False, default_root_dir=tmp_path)
    trainer.strategy.connect(model)
    trainer.save_checkpoint(tmp_path / "m.ckpt")
    back = FrontEndClassifier.load_from_checkpoint(tmp_path / "m.ckpt", backbone=TinyBackbone(1000)).eval()
    assert back.label_map is imagenet_to_16
    assert back.num_classes == 16
    with torch.no_grad():
        assert torch.equal(back(x), expected)


def test_a_label_map_must_be_a_known_function():
    with pytest.raises(ValueError, match=r"label_map must be a function or the import path .* got 'no.such.map'"):
        FrontEndClassifier(Identity(), TinyBackbone(1000), label_map="no.such.map")
    with pytest.raises(TypeError, match="label_map must be None, a function or a module, got int"):
        FrontEndClassifier(Identity(), TinyBackbone(1000), label_map=3)  # type: ignore[arg-type]
