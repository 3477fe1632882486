"""FourierHeatMapAnalysis after a tiny fit: result.json (map, headlines), figures, the plan and the smoke budget."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch

from lowfreq.analysis import fourier_heat_map, heat_map_frequencies
from lowfreq.callbacks import FourierHeatMapAnalysis
from lowfreq.core.io import read_json
from lowfreq.core.seeding import seeded_subset
from lowfreq.data import SyntheticShapesDataModule
from lowfreq.frontends import Identity
from lowfreq.training import FrontEndClassifier

from tiny_backbone import TinyBackbone


def _datamodule() -> SyntheticShapesDataModule:
    return SyntheticShapesDataModule(num_train=32, num_val=10, num_test=24, num_conflict=10, image_size=16,
                                     batch_size=16, seed=0)


def test_heat_map_analysis_after_fit_writes_the_functions_map(tmp_path: Path):
    torch.manual_seed(0)
    model = FrontEndClassifier(Identity(), TinyBackbone(num_classes=10))
    dm = _datamodule()
    callback = FourierHeatMapAnalysis(eps=3.0, stride=2, num_images=12, batch_size=64, seed=1)
    trainer = L.Trainer(accelerator="cpu", devices=1, max_steps=2, limit_val_batches=1, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, logger=True,
                        default_root_dir=tmp_path, callbacks=[callback])
    trainer.fit(model, datamodule=dm)
    (path,) = tmp_path.rglob("analysis/fourier_heat_map/result.json")
    result = read_json(path)
    for stem in ("figure", "profile"):
        assert (path.parent / f"{stem}.png").is_file()
        assert (path.parent / f"{stem}.pdf").is_file()
    heat = result["heat_map"]
    assert result["image_size"] == [16, 16]
    assert heat["num_images"] == 12
    assert heat["eps"] == 3.0
    assert len(heat["frequencies"]) == len(heat_map_frequencies(16, 16, stride=2)) == 34
    # the same map as the function on the same subset, the signs keyed by the dataset indices
    ds = dm.analysis_dataset("test")
    subset = seeded_subset(len(ds), 12, 1)
    x = torch.stack([ds[int(i)][0] for i in subset])
    y = torch.tensor([int(ds[int(i)][1]) for i in subset])
    expected = fourier_heat_map(model, x, y, eps=3.0, seed=1, stride=2, indices=subset)
    assert heat["error_half"] == pytest.approx(expected.error_half.tolist())
    assert heat["clean_error"] == pytest.approx(expected.clean_error)
    assert sum(v is None for row in heat["error"] for v in row) == 16 * 16 * 3 // 4  # odd indices not evaluated
    headlines = {h["name"]: h for h in result["headlines"]}
    assert set(headlines) == {"heat_map_error", "heat_map_low_error", "heat_map_high_error"}
    assert headlines["heat_map_error"]["value"] == pytest.approx(expected.mean_error)
    assert headlines["heat_map_high_error"]["value"] == pytest.approx(expected.high_error)
    assert headlines["heat_map_error"]["count"] == 12
    assert headlines["heat_map_error"]["in_summary"] is True
    assert result["init_args"]["stride"] == 2
    assert callback.planned_passes(12) == (12 * 35, 0)  # the 16 x 16 grid of the images seen


def test_heat_map_analysis_budgets_and_arguments():
    callback = FourierHeatMapAnalysis(num_images=None)
    assert callback.planned_passes(10) == (10 * (514 + 1), 0)  # the full 32 x 32 grid until images are seen
    callback.use_smoke_budget()
    assert (callback.num_images, callback.stride, callback.max_frequency) == (50, 4, 0.25)
    assert callback.planned_passes(50) == (50 * (13 + 1), 0)
    with pytest.raises(ValueError, match=r"eps must be in \[0.0, inf\]"):
        FourierHeatMapAnalysis(eps=-4.0)
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        FourierHeatMapAnalysis(stride=0)
    with pytest.raises(ValueError, match=r"max_frequency must be in \[0.0, 0.5\]"):
        FourierHeatMapAnalysis(max_frequency=1.0)
    with pytest.raises(ValueError, match="split must be one of"):
        FourierHeatMapAnalysis(split="holdout")  # type: ignore[arg-type]
