"""CorruptionAnalysis end to end: generated (with its cache) and official CIFAR-10-C sources, files and scalars."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from lightning.pytorch.loggers import CSVLogger

import lowfreq.data.corruptions.generator as corruptions_module
from lowfreq.analysis import corruption_accuracy
from lowfreq.callbacks import CorruptionAnalysis
from lowfreq.core.io import read_json
from lowfreq.core.seeding import seeded_subset
from lowfreq.data import SyntheticShapesDataModule, corrupt_images, to_grayscale
from lowfreq.frontends import Identity
from lowfreq.training import FrontEndClassifier

from tiny_backbone import TinyBackbone

CORRUPTIONS = ["fog", "pixelate", "gaussian_noise"]  # one of each band
SEVERITIES = [1, 4]


def _datamodule() -> SyntheticShapesDataModule:
    return SyntheticShapesDataModule(
        num_train=32, num_val=10, num_test=24, num_conflict=10, image_size=32, batch_size=16, seed=0
    )


def _model() -> FrontEndClassifier:
    torch.manual_seed(0)  # test-only: the same initial weights in every run
    return FrontEndClassifier(Identity(), TinyBackbone(), optimizer=lambda p: torch.optim.SGD(p, lr=0.05))


def _trainer(root: Path, callbacks: list) -> L.Trainer:
    return L.Trainer(
        accelerator="cpu", devices=1, max_steps=2, limit_val_batches=1, enable_progress_bar=False,
        enable_model_summary=False, enable_checkpointing=False, logger=CSVLogger(root), default_root_dir=root,
        callbacks=callbacks,
    )


def _out(root: Path) -> Path:
    (out,) = root.rglob("analysis/corruptions")
    return out


def _test_subset(dm: SyntheticShapesDataModule, num_images: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    ds = dm.analysis_dataset("test")
    index = seeded_subset(len(ds), num_images, 0)
    x, y = zip(*(ds[int(i)] for i in index), strict=True)
    return torch.stack(x), torch.stack(y), index


def test_generated_corruptions_after_fit_then_validate_from_the_cache(tmp_path, monkeypatch):
    dm, model = _datamodule(), _model()
    callback = CorruptionAnalysis(corruptions=CORRUPTIONS, severities=SEVERITIES, num_images=12, batch_size=5,
                                  cache_dir=str(tmp_path / "cache"))
    _trainer(tmp_path / "fit", [callback]).fit(model, datamodule=dm)
    out = _out(tmp_path / "fit")
    result = read_json(out / "result.json")
    for stem in ("figure", "heatmap"):
        assert (out / f"{stem}.png").is_file()
        assert (out / f"{stem}.pdf").is_file()
    assert result["source"] == "generated"
    assert result["release"] is None
    assert result["data_dir"] is None
    assert result["init_args"]["corruptions"] == CORRUPTIONS
    assert result["global_step"] == 2
    assert result["bands"]["high"] == ["gaussian_noise", "shot_noise", "impulse_noise"]
    r = result["result"]
    assert r["corruptions"] == CORRUPTIONS
    assert r["severities"] == SEVERITIES
    assert r["num_images"] == [[12, 12]] * 3
    assert r["num_clean"] == 12
    assert len(r["missing"]) == 75 - 6
    assert not r["complete"]
    assert "fog/2" in r["missing"]
    # the same numbers as the pure function on the same seeded subset, corrupted with the same indices
    x, y, index = _test_subset(dm, 12)
    data = {(c, s): (corrupt_images(x, c, s, seed=0, indices=index), y) for c in CORRUPTIONS for s in SEVERITIES}
    expected = corruption_accuracy(model, data, clean=(x, y), corruptions=CORRUPTIONS)
    np.testing.assert_allclose(np.array(r["acc"], dtype=float), expected.acc.numpy(), rtol=1e-12)
    assert r["mean_acc"] == pytest.approx(expected.mean_acc)
    assert r["clean_acc"] == pytest.approx(expected.clean_acc)
    assert r["band_acc"] == pytest.approx(expected.band_acc)
    assert r["severity_acc"] == pytest.approx(expected.severity_acc.tolist())
    with open(Path(tmp_path / "fit").rglob("metrics.csv").__next__()) as f:
        logged = {k: v for row in csv.DictReader(f) for k, v in row.items() if v}
    assert float(logged["analysis_corruption_acc"]) == pytest.approx(expected.mean_acc)
    for band in ("low", "medium", "high"):
        assert float(logged[f"analysis_corruption_{band}"]) == pytest.approx(expected.band_acc[band])
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == 3 * 6  # 3 batches (5 + 5 + 2) x 6 conditions

    # validate --ckpt_path path: the second run reads every corruption from the cache
    def boom(*args, **kwargs):
        raise AssertionError("regenerated a cached corruption")

    monkeypatch.setattr(corruptions_module, "_corrupt_one", boom)
    _trainer(tmp_path / "val", [callback]).validate(model, datamodule=dm)
    again = read_json(_out(tmp_path / "val") / "result.json")["result"]
    assert again["acc"] == r["acc"]
    assert again["clean_acc"] == r["clean_acc"]


def test_grayscale_variant_and_absent_data_dir(tmp_path):
    dm, model = _datamodule(), _model()
    callback = CorruptionAnalysis(data_dir=str(tmp_path / "absent"), corruptions=["contrast"], severities=[2],
                                  grayscale=True, num_images=8, batch_size=8, cache_dir=str(tmp_path / "cache"))
    with pytest.warns(UserWarning, match="does not exist; generating"):
        _trainer(tmp_path, [callback]).validate(model, datamodule=dm)
    result = read_json(_out(tmp_path) / "result.json")
    assert result["source"] == "generated"
    assert result["grayscale"] is True
    x, y, index = _test_subset(dm, 8)
    expected = corruption_accuracy(
        model, {("contrast", 2): (to_grayscale(corrupt_images(x, "contrast", 2, indices=index)), y)},
        clean=(to_grayscale(x), y),
    )
    np.testing.assert_allclose(np.array(result["result"]["acc"], dtype=float), expected.acc.numpy(), rtol=1e-12)
    assert result["result"]["clean_acc"] == pytest.approx(expected.clean_acc)


def test_official_cifar10_c_source(tmp_path):
    dm, model = _datamodule(), _model()
    n = 24
    rng = np.random.default_rng(3)
    folder = tmp_path / "c10c" / "CIFAR-10-C"
    folder.mkdir(parents=True)
    images = rng.integers(0, 256, (5 * n, 32, 32, 3), dtype=np.uint8)
    labels = np.tile(rng.integers(0, 10, n), 5)
    np.save(folder / "fog.npy", images)
    np.save(folder / "labels.npy", labels)
    callback = CorruptionAnalysis(data_dir=str(tmp_path / "c10c"), corruptions=["fog", "snow"], severities=[2, 5],
                                  num_images=10, batch_size=4)
    with pytest.warns(UserWarning, match="2 conditions are missing"):
        _trainer(tmp_path / "run", [callback]).validate(model, datamodule=dm)
    result = read_json(_out(tmp_path / "run") / "result.json")
    assert result["source"] == "official"
    assert result["release"] == "cifar10-c"
    r = result["result"]
    assert r["num_images"] == [[10, 10], [0, 0]]
    assert r["acc"][1] == [None, None]
    index = seeded_subset(n, 10, 0)
    data = {}
    for s in (2, 5):
        rows = images[(s - 1) * n : s * n][index.numpy()]
        data[("fog", s)] = (torch.from_numpy(rows).permute(0, 3, 1, 2).float() / 255,
                            torch.from_numpy(labels[:n][index.numpy()]))
    x, y, _ = _test_subset(dm, 10)
    expected = corruption_accuracy(model, data, clean=(x, y))
    assert r["acc"][0] == pytest.approx(expected.acc[0].tolist())
    assert r["clean_acc"] == pytest.approx(expected.clean_acc)
    assert r["band_acc"]["low"] == pytest.approx(expected.band_acc["low"])
    assert r["band_acc"]["high"] is None
    assert math.isfinite(r["mean_acc"])


def test_arguments_are_validated(tmp_path):
    with pytest.raises(ValueError, match=r"corruptions must be one of \['gaussian_noise'.*got 'haze'"):
        CorruptionAnalysis(corruptions=["haze"])
    with pytest.raises(ValueError, match=r"severities must be one of \[1, 2, 3, 4, 5\], got 7"):
        CorruptionAnalysis(severities=[7])
    with pytest.raises(ValueError, match="split must be one of"):
        CorruptionAnalysis(split="all")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="grayscale must be a bool"):
        CorruptionAnalysis(grayscale="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_images must be an int >= 1"):
        CorruptionAnalysis(num_images=0)
    (tmp_path / "empty").mkdir()
    callback = CorruptionAnalysis(data_dir=str(tmp_path / "empty"), corruptions=["fog"], severities=[1])
    with pytest.raises(FileNotFoundError, match="holds neither CIFAR-10-C"):
        _trainer(tmp_path, [callback]).validate(_model(), datamodule=_datamodule())
