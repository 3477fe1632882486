"""FourierMaskAnalysis shards its subset: 1 and 2 CPU processes give the same accuracies, equal to the function's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from lightning import Trainer

from lowfreq.analysis.masks import filtered_accuracy
from lowfreq.backbones import SimpleCNN
from lowfreq.callbacks import FourierMaskAnalysis
from lowfreq.callbacks.base import stack_images_labels
from lowfreq.core.seeding import seeded_subset
from lowfreq.data import SyntheticShapesDataModule
from lowfreq.training import FourierMaskProbe


def _probe() -> FourierMaskProbe:
    torch.manual_seed(0)
    probe = FourierMaskProbe(SimpleCNN(num_classes=10, widths=(4, 8)), image_size=(16, 16))
    f = torch.fft.fftfreq(16)
    with torch.no_grad():
        probe.mask.copy_(((f[:, None] ** 2 + f[None, :] ** 2).sqrt() <= 0.2).float())  # a low-pass mask
    return probe


def _data() -> SyntheticShapesDataModule:
    return SyntheticShapesDataModule(num_train=32, num_val=16, num_test=24, num_conflict=10, image_size=16,
                                     batch_size=8, seed=0, device_resident=False)


def _validate(root: Path, devices: int) -> dict:
    callback = FourierMaskAnalysis(num_bands=4, num_images=11, batch_size=4)
    Trainer(accelerator="cpu", devices=devices, strategy="ddp_spawn" if devices > 1 else "auto", logger=False,
            enable_progress_bar=False, enable_model_summary=False, default_root_dir=root, callbacks=[callback],
            limit_val_batches=1).validate(_probe(), datamodule=_data())
    return json.loads((root / "analysis" / "fourier_mask" / "result.json").read_text())


def test_the_callback_writes_the_function_s_accuracies(tmp_path):
    result = _validate(tmp_path, 1)
    data = _data()
    data.setup("validate")
    dataset = data.analysis_dataset("test")
    x, y = stack_images_labels(dataset, seeded_subset(len(dataset), 11, 0))
    probe = _probe()
    assert result["accuracy"] == filtered_accuracy(probe.classifier, x, y, probe.mask.detach())
    assert len(y) == 11
    assert result["num_images"] == 11


@pytest.mark.ddp
def test_one_and_two_processes_agree(tmp_path):
    one, two = _validate(tmp_path / "one", 1), _validate(tmp_path / "two", 2)
    assert one["accuracy"] == two["accuracy"]
    assert one["num_images"] == two["num_images"] == 11
