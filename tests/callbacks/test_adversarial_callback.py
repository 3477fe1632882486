"""AdversarialSpectrumAnalysis end to end: after validate it writes per-image epsilons and targets, f_0.5 and the
figures; 1 and 2 CPU processes give the same numbers image by image."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import torch
from lightning import Trainer

from lowfreq.backbones import SimpleCNN
from lowfreq.callbacks import AdversarialSpectrumAnalysis
from lowfreq.data import SyntheticShapesDataModule
from lowfreq.frontends import Identity
from lowfreq.training import FrontEndClassifier

pytest.importorskip("foolbox")


def _validate(root: Path, devices: int) -> dict:
    torch.manual_seed(0)
    model = FrontEndClassifier(Identity(), SimpleCNN(num_classes=10, widths=(4, 8)))
    data = SyntheticShapesDataModule(num_train=32, num_val=16, num_test=24, num_conflict=10, image_size=16,
                                     batch_size=8, seed=0, device_resident=False)
    callback = AdversarialSpectrumAnalysis(num_images=12, batch_size=6, num_bootstrap=20,
                                           attacks=["fmn", "pgd"])
    trainer = Trainer(accelerator="cpu", devices=devices, strategy="ddp_spawn" if devices > 1 else "auto",
                      logger=False, enable_progress_bar=False, enable_model_summary=False, default_root_dir=root,
                      callbacks=[callback], limit_val_batches=1)
    trainer.validate(model, datamodule=data)
    return json.loads((root / "analysis" / "adversarial" / "result.json").read_text())


def test_validate_writes_the_adversarial_analysis(tmp_path):
    result = _validate(tmp_path, 1)
    out = tmp_path / "analysis" / "adversarial"
    for stem in ("spectrum", "profile", "success"):
        assert (out / f"{stem}.png").is_file()
        assert (out / f"{stem}.pdf").is_file()
    assert len(result["epsilons"]) == len(result["targets"]) == len(result["indices"]) == 12
    assert result["indices"] == sorted(result["indices"])
    assert 0.0 < result["f_half"] < 0.71
    assert result["frequency_unit"] == "cycles/pixel"
    fraction = result["profile"]["fraction_below"]  # the overlay of compare reads it: a CDF of the power
    assert len(fraction) == len(result["profile"]["frequency"])
    assert fraction[-1] == pytest.approx(1.0)
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(fraction))
    assert result["summary"]["num_failed"] == sum(e is None for e in result["epsilons"])
    assert set(result["attack"]) <= {"fmn", "pgd", ""}


@pytest.mark.ddp
def test_one_and_two_processes_agree_image_by_image(tmp_path):
    one = _validate(tmp_path / "one", 1)
    two = _validate(tmp_path / "two", 2)
    for key in ("indices", "targets", "attack"):
        assert one[key] == two[key], key
    def eps(result):  # JSON writes inf (every attack failed) as null
        return [float("inf") if e is None else e for e in result["epsilons"]]

    assert eps(two) == pytest.approx(eps(one), rel=1e-5)
    assert two["f_half"] == pytest.approx(one["f_half"], rel=1e-6)


def _robustness(root: Path, devices: int) -> dict:
    from lowfreq.callbacks import RobustnessAnalysis

    torch.manual_seed(0)
    model = FrontEndClassifier(Identity(), SimpleCNN(num_classes=10, widths=(4, 8)))
    data = SyntheticShapesDataModule(num_train=32, num_val=16, num_test=24, num_conflict=10, image_size=16,
                                     batch_size=8, seed=0, device_resident=False)
    callback = RobustnessAnalysis(rhos=[0.0, 0.5], epsilon=0.05, num_images=12)
    Trainer(accelerator="cpu", devices=devices, strategy="ddp_spawn" if devices > 1 else "auto", logger=False,
            enable_progress_bar=False, enable_model_summary=False, default_root_dir=root, callbacks=[callback],
            limit_val_batches=1).validate(model, datamodule=data)
    return json.loads((root / "analysis" / "robustness" / "result.json").read_text())


def test_robustness_table_after_validate(tmp_path):
    from lowfreq.callbacks import RobustnessAnalysis

    torch.manual_seed(0)
    model = FrontEndClassifier(Identity(), SimpleCNN(num_classes=10, widths=(4, 8)))
    before = [p.clone() for p in model.parameters()]
    data = SyntheticShapesDataModule(num_train=32, num_val=16, num_test=24, num_conflict=10, image_size=16,
                                     batch_size=8, seed=0, device_resident=False)
    callback = RobustnessAnalysis(rhos=[0.0, 0.5], epsilon=0.05, num_images=12)
    Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
            default_root_dir=tmp_path, callbacks=[callback], limit_val_batches=1).validate(model, datamodule=data)
    result = json.loads((tmp_path / "analysis" / "robustness" / "result.json").read_text())
    assert [row["rho"] for row in result["table"]] == [0.0, 0.5]
    assert result["num_images"] == 12
    for row in result["table"]:
        assert 0.0 <= row["pgd"] <= row["clean"]
        assert 0.0 <= row["fgsm"] <= row["clean"]
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))  # smoothing copies


@pytest.mark.ddp
def test_robustness_one_and_two_processes_agree(tmp_path):
    """Each rank attacks its shard (PGD starts seeded per dataset index); the summed table is the same."""
    one, two = _robustness(tmp_path / "one", 1), _robustness(tmp_path / "two", 2)
    assert one["table"] == two["table"]
    assert one["num_images"] == two["num_images"] == 12


def test_brendel_bethge_compiles_in_a_thread_from_fit_start_only_when_it_runs(monkeypatch):
    import threading

    import lowfreq.analysis.adversarial as module

    calls: list[str] = []
    monkeypatch.setattr(module, "compile_brendel_bethge", lambda: calls.append(threading.current_thread().name))
    default = AdversarialSpectrumAnalysis()
    default.on_fit_start(None, None)  # type: ignore[arg-type]
    default._warm_up.join(timeout=10)
    assert calls == ["lowfreq-bb-compile"]  # not the main thread
    for no_bb in (AdversarialSpectrumAnalysis(protocol="smoke"), AdversarialSpectrumAnalysis(attacks=["fmn"])):
        no_bb.on_fit_start(None, None)  # type: ignore[arg-type]
        assert not hasattr(no_bb, "_warm_up")
    assert len(calls) == 1
