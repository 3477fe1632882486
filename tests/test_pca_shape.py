"""PCAProjection's image_shape is checked before the fit does any work, not after it has read all the data."""

from __future__ import annotations

import pytest
import torch
from lightning import Trainer

import lowfreq.frontends
from lowfreq.data import SyntheticShapesDataModule
from lowfreq.frontends import PCAProjection
from lowfreq.training import FrontEndClassifier

from tiny_backbone import TinyBackbone


def test_wrong_shape_fails_on_the_first_batch():
    pulled = []

    def batches():
        for i in range(50):
            pulled.append(i)
            yield torch.rand(4, 3, 16, 16), torch.zeros(4, dtype=torch.long)

    pca = PCAProjection(4, image_shape=(3, 8, 8), method="covariance")
    with pytest.raises(ValueError, match=r"image_shape=\(3, 8, 8\) of PCAProjection does not match the data: "
                                         r"images of shape \(3, 16, 16\)"):
        pca.fit(batches())
    assert pulled == [0]  # one batch read, not fifty
    assert not pca.is_fitted


def test_wrong_shape_of_a_tensor_fails_before_the_fit(monkeypatch):
    called = []
    monkeypatch.setattr(lowfreq.frontends, "pca_fit", lambda *a, **k: called.append(1))
    with pytest.raises(ValueError, match=r"image_shape=.*does not match the data"):
        PCAProjection(4, image_shape=(3, 8, 8)).fit(torch.rand(10, 3, 8, 9))
    assert called == []


def test_right_shape_still_fits():
    x = torch.rand(30, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    pca = PCAProjection(5, image_shape=(3, 4, 4), method="covariance").fit([(x[:15], None), (x[15:], None)])
    assert pca.is_fitted
    assert pca.components.shape == (5, 48)


@pytest.mark.parametrize("shape", [(3, 32), (3, 0, 4), (3, 4.0, 4)])
def test_bad_image_shape_is_rejected_at_construction(shape):
    with pytest.raises(ValueError, match=r"image_shape must be three ints >= 1, \(C, H, W\)"):
        PCAProjection(1, image_shape=shape)  # type: ignore[arg-type]


def test_fit_with_a_wrong_shape_stops_before_fitting_and_training(tmp_path, monkeypatch):
    """Through Trainer.fit: the datamodule's image_shape is compared first, on every rank, with the fix."""
    called = []
    monkeypatch.setattr(lowfreq.frontends, "pca_fit", lambda *a, **k: called.append(1))
    model = FrontEndClassifier(PCAProjection(8, image_shape=(3, 32, 32)), TinyBackbone(2))
    dm = SyntheticShapesDataModule(num_train=16, num_val=10, num_test=10, num_conflict=10, image_size=16, batch_size=8)
    trainer = Trainer(accelerator="cpu", devices=1, max_steps=2, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    with pytest.raises(ValueError, match=r"image_shape=\[3, 16, 16\]"):
        trainer.fit(model, dm)
    assert called == []
    assert trainer.global_step == 0
