"""HybridCurveAnalysis and FrequencyComponentAnalysis: files, logged scalars, validate/CLI use and DDP equality."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lowfreq.analysis.components import component_accuracy
from lowfreq.analysis.hybrid import hybrid_curve
from lowfreq.backbones import CIFARResNet18
from lowfreq.callbacks import FrequencyComponentAnalysis, HybridCurveAnalysis
from lowfreq.core.io import read_json
from lowfreq.core.seeding import seeded_subset
from lowfreq.data import SyntheticShapesDataModule, texture_frequencies
from lowfreq.frontends import Identity
from lowfreq.training import FrontEndClassifier

ROOT = Path(__file__).resolve().parents[2]


def _datamodule() -> SyntheticShapesDataModule:
    return SyntheticShapesDataModule(
        num_train=64, num_val=16, num_test=40, num_conflict=10, image_size=16, batch_size=16, seed=0
    )


def _model() -> FrontEndClassifier:
    torch.manual_seed(0)  # test-only: the same initial weights in every run
    return FrontEndClassifier(
        Identity(), CIFARResNet18(num_classes=10, width=4), optimizer=lambda p: torch.optim.SGD(p, lr=0.05)
    )


def _trainer(tmp_path: Path, callbacks: list, **kwargs) -> L.Trainer:
    options = {
        "accelerator": "cpu", "devices": 1, "max_steps": 2, "limit_val_batches": 1, "enable_progress_bar": False,
        "enable_model_summary": False, "enable_checkpointing": False, "logger": True, "default_root_dir": tmp_path,
    }
    options.update(kwargs)
    return L.Trainer(callbacks=callbacks, **options)


def _result(root: Path, name: str) -> dict:
    files = sorted(root.rglob(f"analysis/{name}/result.json"))
    assert len(files) == 1, files
    return read_json(files[0])


def _test_set(dm: SyntheticShapesDataModule) -> tuple[torch.Tensor, torch.Tensor]:
    ds = dm.analysis_dataset("test")
    x, y = zip(*(ds[i] for i in range(len(ds))), strict=True)
    return torch.stack(x), torch.stack(y)


def test_hybrid_analysis_after_fit_matches_the_function(tmp_path):
    dm, model = _datamodule(), _model()
    callback = HybridCurveAnalysis(
        f_mix_nyquist=[0.0, 0.2, 0.5, 1.0, 1.4], num_permutations=2, num_images=None, batch_size=16
    )
    trainer = _trainer(tmp_path, [callback])
    trainer.fit(model, datamodule=dm)
    result = _result(tmp_path, "hybrid")
    out = next(tmp_path.rglob("analysis/hybrid"))
    for stem in ("figure", "probabilities", "examples"):
        assert (out / f"{stem}.png").is_file()
        assert (out / f"{stem}.pdf").is_file()
    assert result["global_step"] == 2
    assert result["init_args"]["num_permutations"] == 2
    assert result["hybrid"]["frequency_unit"] == "nyquist"
    assert "versions" in result
    x, y = _test_set(dm)
    expected = hybrid_curve(model, x, y, f_mix_nyquist=[0.0, 0.2, 0.5, 1.0, 1.4], num_permutations=2, seed=0)
    assert result["hybrid"]["p_low_per_permutation"] == expected.p_low_per_permutation.tolist()
    assert result["hybrid"]["p_high_per_permutation"] == expected.p_high_per_permutation.tolist()
    assert result["hybrid"]["p_other"] == pytest.approx(expected.p_other.tolist())
    logged = (tmp_path / "lightning_logs").rglob("events.out.tfevents*")
    assert any(logged)


def test_hybrid_analysis_in_validate_only_when_validating(tmp_path):
    dm, model = _datamodule(), _model()
    callback = HybridCurveAnalysis(num_permutations=1, num_images=20, batch_size=32)
    trainer = _trainer(tmp_path, [callback], max_steps=-1, max_epochs=1, limit_train_batches=0)
    trainer.validate(model, datamodule=dm)
    result = _result(tmp_path, "hybrid")
    assert result["hybrid"]["num_pairs"] == 20
    assert len(result["hybrid"]["f_mix"]) == 18  # P001's alpha grid


def test_component_analysis_along_training(tmp_path):
    dm, model = _datamodule(), _model()
    callback = FrequencyComponentAnalysis(radii_bins=[2, 4.5], every_n_epochs=2, num_images=24, batch_size=16)
    trainer = _trainer(tmp_path, [callback], max_steps=-1, max_epochs=3, limit_train_batches=1)
    trainer.fit(model, datamodule=dm)
    result = _result(tmp_path, "frequency_components")
    history = result["history"]
    assert [h["epoch"] for h in history] == [2, 3]  # every 2nd epoch, then the final model after fit
    assert [h["global_step"] for h in history] == [2, 3]
    assert result["radii_cycles"] == pytest.approx([2 / 16, 4.5 / 16])
    assert len(history[0]["acc_low"]) == 2
    assert "analysis_lfc_acc_r4p5" in trainer.callback_metrics  # logged at the epoch end
    out = next(tmp_path.rglob("analysis/frequency_components"))
    assert (out / "figure.png").is_file()
    assert (out / "radius.pdf").is_file()
    # the last entry equals the function on the same subset
    x, y = _test_set(dm)
    subset = seeded_subset(len(y), 24, 0)
    expected = component_accuracy(model, x[subset], y[subset], radii_bins=[2, 4.5])
    assert history[-1]["acc_low"] == pytest.approx(expected.acc_low.tolist())
    assert history[-1]["acc_high"] == pytest.approx(expected.acc_high.tolist())
    # checkpoint state carries the curve
    state = callback.state_dict()
    restored = FrequencyComponentAnalysis()
    restored.load_state_dict(state)
    assert restored.state_dict() == state


def test_callbacks_validate_arguments():
    with pytest.raises(ValueError, match="f_mix_nyquist must be in"):
        HybridCurveAnalysis(f_mix_nyquist=[0.0, 2.0])
    with pytest.raises(ValueError, match="num_permutations must be an int >= 1"):
        HybridCurveAnalysis(num_permutations=0)
    with pytest.raises(ValueError, match="split must be one of"):
        HybridCurveAnalysis(split="train")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="radii_bins must be in"):
        FrequencyComponentAnalysis(radii_bins=[0.0])
    with pytest.raises(ValueError, match="every_n_epochs must be an int >= 0"):
        FrequencyComponentAnalysis(every_n_epochs=-1)


CALLBACKS_YAML = """\
trainer:
  callbacks:
    - class_path: lowfreq.callbacks.HybridCurveAnalysis
      init_args: {num_permutations: 2, num_images: 20, batch_size: 32}
    - class_path: lowfreq.callbacks.FrequencyComponentAnalysis
      init_args: {radii_bins: [2, 4, 6, 8], every_n_epochs: 1, num_images: 20, batch_size: 32}
    - class_path: lightning.pytorch.callbacks.ModelCheckpoint
"""


@pytest.mark.slow
def test_cli_fit_then_validate_with_checkpoint(tmp_path):
    from lowfreq.cli.lightning_cli import main

    extra = tmp_path / "callbacks.yaml"
    extra.write_text(CALLBACKS_YAML)
    conf = str(ROOT / "tests" / "conf" / "tiny_blur.yaml")
    main(["fit", "-c", conf, "-c", str(extra), "--trainer.default_root_dir", str(tmp_path / "fit")])
    fit_result = _result(tmp_path / "fit", "hybrid")
    assert _result(tmp_path / "fit", "frequency_components")["history"][0]["epoch"] == 1
    ckpt = next((tmp_path / "fit").rglob("*.ckpt"))
    main(["validate", "-c", conf, "-c", str(extra), "--ckpt_path", str(ckpt),
          "--trainer.default_root_dir", str(tmp_path / "val")])
    val_result = _result(tmp_path / "val", "hybrid")
    assert val_result["hybrid"]["p_low_per_permutation"] == fit_result["hybrid"]["p_low_per_permutation"]
    components = _result(tmp_path / "val", "frequency_components")
    assert components["history"][-1]["acc_low"] == pytest.approx(
        _result(tmp_path / "fit", "frequency_components")["history"][-1]["acc_low"]
    )


# ---- DDP ------------------------------------------------------------------------------------------------------


class FrozenNet(L.LightningModule):
    """A fixed texture detector (power at each class's grating frequencies); only a zero offset "trains", at lr 0.

    Training changes nothing, so runs with any number of processes analyse the same classifier along "training".
    """

    def __init__(self, image_size: int = 16) -> None:
        super().__init__()
        freqs = texture_frequencies(image_size)  # (K, 2, 2) float64: (fy, fx) of each class's two gratings
        coord = torch.arange(image_size, dtype=torch.float64)
        phase = 2 * math.pi * (freqs[..., 0, None, None] * coord[:, None] + freqs[..., 1, None, None] * coord)
        self.register_buffer("cos", torch.cos(phase))  # (K, 2, H, W)
        self.register_buffer("sin", torch.sin(phase))
        self.offset = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gray = x.double().mean(dim=1)  # (B, H, W); float64 so that no near-tie depends on the batch layout
        re = torch.einsum("bhw,kjhw->bkj", gray, self.cos)
        im = torch.einsum("bhw,kjhw->bkj", gray, self.sin)
        return (re.square() + im.square()).sum(dim=2) + self.offset.double()  # (B, K)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD([self.offset], lr=0.0)


def _ddp_run(root: Path, model: L.LightningModule, devices: int) -> tuple[dict, dict]:
    callbacks = [
        HybridCurveAnalysis(f_mix_nyquist=[0.0, 0.1, 0.3, 0.6, 1.0], num_permutations=2, num_images=30, batch_size=8),
        FrequencyComponentAnalysis(radii_bins=[2, 4, 8], every_n_epochs=1, num_images=30, batch_size=8),
    ]
    strategy = "ddp_spawn" if devices > 1 else "auto"
    trainer = _trainer(root, callbacks, devices=devices, strategy=strategy, max_steps=-1, max_epochs=2,
                       limit_train_batches=1, limit_val_batches=0)
    trainer.fit(model, datamodule=_datamodule())
    return _result(root, "hybrid"), _result(root, "frequency_components")


@pytest.mark.ddp
def test_one_and_two_processes_give_identical_results(tmp_path):
    model = FrozenNet()
    hybrid1, comp1 = _ddp_run(tmp_path / "one", copy.deepcopy(model), devices=1)
    hybrid2, comp2 = _ddp_run(tmp_path / "two", model, devices=2)
    for key in ("p_low_per_permutation", "p_high_per_permutation", "f_rev_per_permutation", "num_pairs"):
        assert hybrid1["hybrid"][key] == hybrid2["hybrid"][key], key
    assert hybrid1["hybrid"]["confidence"] == pytest.approx(hybrid2["hybrid"]["confidence"], rel=1e-6)
    assert hybrid1["hybrid"]["f_rev"] is not None  # a finite crossing (textures at 0.625 / 0.875 Nyquist)
    assert hybrid1["hybrid"]["p_low"][-1] > 0.5
    assert hybrid1["hybrid"]["p_high"][0] > 0.5
    strip = [{k: h[k] for k in ("epoch", "acc_low", "acc_high", "acc")} for h in comp1["history"]]
    assert strip == [{k: h[k] for k in ("epoch", "acc_low", "acc_high", "acc")} for h in comp2["history"]]
    assert len(strip) == 2
