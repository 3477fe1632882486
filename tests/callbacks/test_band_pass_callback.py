"""BandPassAnalysis after a tiny fit: result.json equals the function on the same subset, headlines, figure, scalars,
planned passes, the smoke budget and argument checks."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.loggers import CSVLogger

from lowfreq.analysis.band_pass import band_pass_accuracy
from lowfreq.backbones import CIFARResNet18
from lowfreq.callbacks import BandPassAnalysis
from lowfreq.core.io import read_json
from lowfreq.core.seeding import seeded_subset
from lowfreq.data import SyntheticShapesDataModule
from lowfreq.frontends import Identity
from lowfreq.training import FrontEndClassifier


def _fit(tmp_path: Path, callback: BandPassAnalysis) -> tuple[FrontEndClassifier, SyntheticShapesDataModule]:
    dm = SyntheticShapesDataModule(num_train=32, num_val=16, num_test=20, num_conflict=10, image_size=16,
                                   batch_size=16, seed=0)
    torch.manual_seed(0)  # test-only: the same initial weights in every run
    model = FrontEndClassifier(Identity(), CIFARResNet18(num_classes=10, width=4),
                               optimizer=lambda p: torch.optim.SGD(p, lr=0.05))
    trainer = L.Trainer(accelerator="cpu", devices=1, max_steps=2, limit_val_batches=1, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, logger=CSVLogger(tmp_path),
                        default_root_dir=tmp_path, callbacks=[callback])
    trainer.fit(model, datamodule=dm)
    return model, dm


def test_band_pass_analysis_after_fit_matches_the_function(tmp_path):
    callback = BandPassAnalysis(num_bands=3, spacing="octave", num_images=12, batch_size=12, seed=1)
    model, dm = _fit(tmp_path, callback)
    (path,) = tmp_path.rglob("analysis/band_pass/result.json")
    result = read_json(path)
    for stem in ("figure.png", "figure.pdf"):
        assert (path.parent / stem).is_file()
    ds = dm.analysis_dataset("test")
    subset = seeded_subset(len(ds), 12, 1)
    x = torch.stack([ds[int(i)][0] for i in subset])
    y = torch.stack([torch.as_tensor(ds[int(i)][1]) for i in subset])
    expected = band_pass_accuracy(model, x, y, num_bands=3, spacing="octave", batch_size=12)
    bands = result["band_pass"]
    assert bands["edges"] == [0.0, 0.125, 0.25, 0.5]
    assert bands["acc_pass"] == pytest.approx(expected.acc_pass.tolist())
    assert bands["acc_stop"] == pytest.approx(expected.acc_stop.tolist())
    assert bands["acc"] == pytest.approx(expected.acc)
    assert bands["num_images"] == 12
    assert bands["image_shape"] == [16, 16]
    assert bands["spacing"] == "octave"
    headlines = {h["name"]: h for h in result["headlines"]}
    assert headlines["band_pass_peak_freq"]["value"] == pytest.approx(expected.peak_pass_freq)
    assert min(abs(headlines["band_pass_peak_freq"]["value"] - c) for c in expected.centres.tolist()) < 1e-12
    assert headlines["band_pass_peak_freq"]["count"] == 12
    assert headlines["band_pass_peak_freq"]["unit"] == "cycles/pixel"
    assert headlines["band_stop_peak_freq"]["value"] == pytest.approx(expected.peak_stop_freq)
    assert result["init_args"] == {"num_bands": 3, "edges": None, "spacing": "octave", "num_images": 12,
                                   "batch_size": 12, "seed": 1, "split": "test"}
    (csv,) = tmp_path.rglob("metrics.csv")
    header, *rows = (line.split(",") for line in csv.read_text().splitlines())
    logged = {k: float(v) for row in rows for k, v in zip(header, row, strict=True) if k.startswith("analysis") and v}
    assert logged["analysis_band_stop_acc_b2"] == pytest.approx(expected.acc_stop[2].item())
    assert logged["analysis_band_pass_acc"] == pytest.approx(expected.acc)
    assert callback.planned_passes(20) == (20 * 7, 0)  # the image + 3 band-pass + 3 band-stop


def test_band_pass_analysis_budgets_and_arguments():
    callback = BandPassAnalysis(num_images=1000)
    assert callback.num_bands == 8
    assert callback.planned_passes(10) == (170, 0)
    callback.use_smoke_budget()
    assert (callback.num_images, callback.num_bands) == (50, 4)
    custom = BandPassAnalysis(edges=[0.0, 0.05, 0.1, 0.2, 0.3, 0.5])
    custom.use_smoke_budget()
    assert custom.num_bands == 5  # given edges are kept
    assert custom.edges == [0.0, 0.05, 0.1, 0.2, 0.3, 0.5]
    with pytest.raises(ValueError, match="edges must be strictly ascending"):
        BandPassAnalysis(edges=[0.0, 0.3, 0.3, 0.5])
    with pytest.raises(ValueError, match=r"num_bands must equal len\(edges\) - 1 = 2"):
        BandPassAnalysis(num_bands=4, edges=[0.0, 0.2, 0.5])
    with pytest.raises(ValueError, match="split must be one of"):
        BandPassAnalysis(split="train")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="spacing must be one of"):
        BandPassAnalysis(spacing="log")  # type: ignore[arg-type]
