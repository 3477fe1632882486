"""The ImageDataModule base under a Lightning Trainer: loaders and train_transform."""

from __future__ import annotations

import pytest
import torch

from lowfreq.data import ComponentTransform, ImageDataModule, SyntheticShapesDataModule


def test_base_is_abstract_about_data():
    dm = ImageDataModule()
    with pytest.raises(NotImplementedError):
        dm.setup()


class _Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 4, 3),
            torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Flatten(),
            torch.nn.Linear(4, 10),
        )


def test_synthetic_datamodule_drives_a_trainer(tmp_path):
    import lightning as L

    class Module(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = _Tiny().net

        def training_step(self, batch, batch_idx):
            x, y = batch
            return torch.nn.functional.cross_entropy(self.net(x), y)

        def validation_step(self, batch, batch_idx):
            x, y = batch
            self.log("val_loss", torch.nn.functional.cross_entropy(self.net(x), y))

        def test_step(self, batch, batch_idx):
            self.validation_step(batch, batch_idx)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    dm = SyntheticShapesDataModule(num_train=64, num_val=32, num_test=32, num_conflict=10, batch_size=16)
    trainer = L.Trainer(
        accelerator="cpu",
        max_steps=2,
        limit_val_batches=1,
        limit_test_batches=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(Module(), datamodule=dm)
    trainer.test(datamodule=dm, ckpt_path=None, model=trainer.lightning_module)
    assert len(dm.analysis_dataset()) == 32


def test_train_transform_applies_to_training_batches_only(tmp_path):
    import lightning as L

    from lowfreq.backbones import SimpleCNN
    from lowfreq.frontends import Identity
    from lowfreq.training.classifier import FrontEndClassifier

    seen: dict[str, list[torch.Tensor]] = {"train": [], "val": []}

    class Spy(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            seen["train"].append(batch[0].detach().clone())

        def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
            seen["val"].append(batch[0].detach().clone())

    transform = ComponentTransform(radius_bins=4, component="high")
    dm = SyntheticShapesDataModule(num_train=32, num_val=16, num_test=16, num_conflict=10, image_size=16,
                                   batch_size=16, augment=False, train_transform=transform)
    model = FrontEndClassifier(Identity(), SimpleCNN(widths=(4,)))
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, limit_train_batches=1, limit_val_batches=1,
                        num_sanity_val_steps=0, callbacks=[Spy()],
                        default_root_dir=tmp_path, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, dm)
    train_batch, val_batch = seen["train"][0], seen["val"][0]
    assert train_batch.min() < 0  # high-frequency components oscillate around 0
    assert torch.allclose(train_batch.mean((-2, -1)), torch.zeros(16, 3), atol=1e-5)  # no DC in x_h
    assert val_batch.min() >= 0
    assert val_batch.max() <= 1
