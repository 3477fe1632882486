"""FourierMaskProbe (P004 at scale): a frozen classifier stays frozen, the mask stays in [0, 1], the recipe and
the analysis callback run end to end, and 1 vs 2 DDP processes learn the same mask."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch
from lightning import Trainer
from torch.utils.data import DataLoader, TensorDataset

from lowfreq.backbones import SimpleCNN
from lowfreq.cli.lightning_cli import main
from lowfreq.training import FourierMaskProbe, FrontEndClassifier

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "conf" / "tiny_mask.yaml"


def _trainer(root: Path, **kwargs) -> Trainer:
    defaults = {"accelerator": "cpu", "devices": 1, "logger": False, "enable_checkpointing": False,
                    "enable_progress_bar": False, "enable_model_summary": False, "default_root_dir": root}
    return Trainer(**{**defaults, **kwargs})


def _data(n: int = 32) -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    return TensorDataset(torch.rand(n, 3, 16, 16, generator=g), torch.randint(0, 10, (n,), generator=g))


def test_classifier_stays_frozen_and_mask_stays_in_the_unit_interval(tmp_path):
    torch.manual_seed(0)
    classifier = SimpleCNN(num_classes=10, widths=(4, 8))  # has BatchNorm
    before = copy.deepcopy(classifier.state_dict())
    probe = FourierMaskProbe(classifier, image_size=(16, 16), lr=0.2)
    modes, ranges = [], []

    class Watch(torch.nn.Module):
        def forward(self, x):
            modes.append(classifier.training)
            ranges.append((float(probe.mask.min()), float(probe.mask.max())))
            return x

    probe.classifier = torch.nn.Sequential(Watch(), classifier)
    _trainer(tmp_path, max_steps=6).fit(probe, DataLoader(_data(), batch_size=8))
    assert not any(modes)  # eval mode throughout (BatchNorm statistics fixed)
    assert all(lo >= 0.0 and hi <= 1.0 for lo, hi in ranges)
    assert all(torch.equal(before[k], v) for k, v in classifier.state_dict().items())
    assert float(probe.mask.mean()) < 1.0  # the L1 term moved the mask at lr 0.2


def test_exactly_one_classifier_source(tmp_path):
    with pytest.raises(ValueError, match="give exactly one of classifier"):
        FourierMaskProbe()
    with pytest.raises(ValueError, match="give exactly one of classifier"):
        FourierMaskProbe(SimpleCNN(), checkpoint_path="x.ckpt")
    with pytest.raises(ValueError, match="lambda_l1 must be"):
        FourierMaskProbe(SimpleCNN(), lambda_l1=-1.0)
    with pytest.raises(FileNotFoundError, match="must be an existing checkpoint file"):
        FourierMaskProbe(checkpoint_path=str(tmp_path / "missing.ckpt"))


def test_probe_of_a_lowfreq_checkpoint(tmp_path):
    model = FrontEndClassifier(backbone=SimpleCNN(num_classes=10, widths=(4, 8)))
    trainer = _trainer(tmp_path, max_steps=2)
    trainer.fit(model, DataLoader(_data(), batch_size=8))
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    probe = FourierMaskProbe(checkpoint_path=str(path), image_size=(16, 16))
    x = _data(4).tensors[0]
    model.eval()
    torch.testing.assert_close(probe.classifier(x), model(x))  # the checkpoint's front-end and backbone
    torch.testing.assert_close(probe(x), model(x))  # all-ones mask: the identity filter


def test_recipe_runs_and_the_callback_writes_the_mask(tmp_path):
    main(["fit", "-c", str(TINY), f"--trainer.default_root_dir={tmp_path}"])
    (run,) = sorted((tmp_path / "lightning_logs").glob("version_*"))
    out = run / "analysis" / "fourier_mask"
    saved = torch.load(out / "mask.pt", weights_only=True)
    assert saved["mask"].shape == (16, 16)
    assert float(saved["mask"].min()) >= 0
    assert float(saved["mask"].max()) <= 1
    result = json.loads((out / "result.json").read_text())
    assert set(result["accuracy"]) == {"clean", "masked", "complement"}
    assert result["num_images"] == 16
    assert len(result["radial_energy"]) == 8
    assert sum(e * e for e in result["angular_energy"]) == pytest.approx(1.0)
    assert (out / "figure.png").is_file()
    assert (out / "energy.pdf").is_file()


def test_fourier_mask_recipe_parses_with_a_checkpoint_path(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "-c", str(ROOT / "recipes" / "fourier_mask.yaml"),
              "--model.init_args.checkpoint_path=run/last.ckpt", "--print_config"])
    assert exit_info.value.code == 0
    assert "checkpoint_path: run/last.ckpt" in capsys.readouterr().out


@pytest.mark.ddp
def test_one_and_two_processes_learn_the_same_mask(tmp_path):
    torch.manual_seed(0)
    single = FourierMaskProbe(SimpleCNN(num_classes=10, widths=(4, 8)), image_size=(16, 16), lr=0.05)
    _trainer(tmp_path / "one", max_steps=5).fit(single, DataLoader(_data(), batch_size=32, shuffle=False))
    one = single.mask.detach()
    # full unshuffled batches: 1 process sees all 32 images per step, 2 processes 16 each (gradients averaged)
    torch.manual_seed(0)
    probe = FourierMaskProbe(SimpleCNN(num_classes=10, widths=(4, 8)), image_size=(16, 16), lr=0.05)
    trainer = _trainer(tmp_path / "two", devices=2, strategy="ddp_spawn", max_steps=5)
    trainer.fit(probe, DataLoader(_data(), batch_size=16, shuffle=False))
    # ddp_spawn copies the trained weights back into the parent's module
    torch.testing.assert_close(probe.mask.detach(), one, atol=1e-5, rtol=0)
    assert float(one.mean()) < 1.0
