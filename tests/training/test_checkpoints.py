"""Checkpoints: weights-only everywhere, initial weights read once, clear errors; channels-last only on CUDA."""

import logging
import os
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning import Trainer

from lowfreq.backbones import SimpleCNN
from lowfreq.cli.lightning_cli import main
from lowfreq.data import SyntheticShapesDataModule
from lowfreq.frontends import GaussianBlur
from lowfreq.training import FrontEndClassifier

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "conf" / "tiny_blur.yaml"


class _Marker:
    """Unpickling this object creates a file: stands for code a malicious checkpoint would run."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def _data() -> SyntheticShapesDataModule:
    return SyntheticShapesDataModule(num_train=32, num_val=10, num_test=10, num_conflict=10, image_size=16,
                                     batch_size=16)


def _trainer(root: Path, **kwargs) -> Trainer:
    return Trainer(accelerator="cpu", max_steps=1, limit_val_batches=0, default_root_dir=root, logger=False,
                   enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, **kwargs)


def _save(model: FrontEndClassifier, path: Path) -> Path:
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams),
                "pytorch-lightning_version": L.__version__}, path)
    return path


def test_cli_checkpoints_load_weights_only(tmp_path):
    main(["fit", "-c", str(TINY), f"--trainer.default_root_dir={tmp_path}"])
    checkpoints = sorted((tmp_path / "lightning_logs" / "version_0" / "checkpoints").glob("*.ckpt"))
    assert {p.name for p in checkpoints} >= {"last.ckpt"}
    assert len(checkpoints) == 2
    for path in checkpoints:
        assert torch.load(path, weights_only=True)["state_dict"]


def test_python_built_checkpoint_holds_plain_data_only(tmp_path):
    model = FrontEndClassifier(GaussianBlur(2.0, padding="reflect"), SimpleCNN(widths=(4, 8)),
                               optimizer=lambda p: torch.optim.SGD(p, lr=0.1))
    path = _save(model, tmp_path / "model.ckpt")
    hparams = torch.load(path, weights_only=True)["hyper_parameters"]
    assert hparams["frontend"] == {"class_path": "lowfreq.frontends.GaussianBlur",
                                   "init_args": {"sigma": 2.0, "truncate": 3.0, "padding": "reflect"}}
    assert "optimizer" not in hparams  # a factory is not data; only training needs it
    restored = FrontEndClassifier.load_from_checkpoint(path)
    x = torch.rand(2, 3, 16, 16)
    torch.testing.assert_close(restored.eval()(x), model.eval()(x), rtol=0, atol=0)


def test_init_checkpoint_is_never_unpickled_on_load(tmp_path):
    marker, evil = tmp_path / "code_ran", tmp_path / "evil.pt"
    torch.save({"state_dict": {"backbone.x": _Marker(str(marker))}}, evil)
    # a harmless-looking checkpoint that names the malicious file as its init_checkpoint
    model = FrontEndClassifier(GaussianBlur(1.0), SimpleCNN(widths=(4, 8)), init_checkpoint=str(evil))
    path = _save(model, tmp_path / "model.ckpt")
    assert torch.load(path, weights_only=True)
    FrontEndClassifier.load_from_checkpoint(path)
    assert not marker.exists()
    with pytest.raises(ValueError, match=r"init_checkpoint=.*evil\.pt.*Python objects"):
        _trainer(tmp_path).fit(model, _data())  # fit start reads it weights-only and refuses
    assert not marker.exists()


def test_fine_tuned_checkpoint_loads_after_its_init_file_moved(tmp_path):
    base = FrontEndClassifier(GaussianBlur(1.0), SimpleCNN(widths=(4, 8)))
    init = _save(base, tmp_path / "base.ckpt")
    tuned = FrontEndClassifier(GaussianBlur(2.0), SimpleCNN(widths=(4, 8)), init_checkpoint=str(init))
    _trainer(tmp_path, max_epochs=None).fit(tuned, _data())
    path = _save(tuned, tmp_path / "tuned.ckpt")
    os.remove(init)
    restored = FrontEndClassifier.load_from_checkpoint(path)
    for key, value in tuned.state_dict().items():
        assert torch.equal(restored.state_dict()[key], value), key


def test_init_checkpoint_initialises_the_backbone_at_fit_start(tmp_path):
    base = FrontEndClassifier(GaussianBlur(1.0), SimpleCNN(widths=(4, 8)))
    init = _save(base, tmp_path / "base.ckpt")
    tuned = FrontEndClassifier(GaussianBlur(2.0), SimpleCNN(widths=(4, 8)), init_checkpoint=str(init),
                               optimizer=lambda p: torch.optim.SGD(p, lr=0.0))
    assert not torch.equal(tuned.backbone.net[0].weight, base.backbone.net[0].weight)
    _trainer(tmp_path).fit(tuned, _data())
    assert torch.equal(tuned.backbone.net[0].weight, base.backbone.net[0].weight)  # lr 0: exactly the init


def test_corrupt_and_wrong_architecture_files_name_the_parameter_and_path(tmp_path):
    corrupt = tmp_path / "corrupt.ckpt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"checkpoint_path=.*corrupt\.ckpt.*not a readable PyTorch checkpoint"):
        FrontEndClassifier.load_from_checkpoint(corrupt)
    with pytest.raises(FileNotFoundError, match=r"checkpoint_path must be an existing checkpoint file.*nope"):
        FrontEndClassifier.load_from_checkpoint(tmp_path / "nope.ckpt")
    other = _save(FrontEndClassifier(GaussianBlur(1.0), SimpleCNN(widths=(4, 8, 16))), tmp_path / "other.ckpt")
    model = FrontEndClassifier(GaussianBlur(1.0), SimpleCNN(widths=(4, 8)), init_checkpoint=str(other))
    with pytest.raises(ValueError, match=r"init_checkpoint=.*other\.ckpt.*does not fit the backbone SimpleCNN"):
        _trainer(tmp_path).fit(model, _data())
    model = FrontEndClassifier(GaussianBlur(1.0), SimpleCNN(widths=(4, 8)), init_checkpoint=str(corrupt))
    with pytest.raises(ValueError, match=r"init_checkpoint=.*corrupt\.ckpt.*not a readable"):
        _trainer(tmp_path).fit(model, _data())


def test_channels_last_is_not_used_on_cpu(tmp_path, caplog):
    """oneDNN's CPU channels-last backward of strided 1x1 convolutions crashes or spins in current torch."""
    from lowfreq.backbones import CIFARResNet18

    model = FrontEndClassifier(GaussianBlur(1.5), CIFARResNet18(width=4), channels_last=True)
    with caplog.at_level(logging.INFO):
        _trainer(tmp_path).fit(model, _data())
    assert "channels_last=True is ignored on cpu" in caplog.text
    for conv in (m for m in model.backbone.modules() if isinstance(m, torch.nn.Conv2d)):
        assert conv.weight.is_contiguous()  # standard layout, never channels-last on the CPU
        if conv.weight.shape[1] > 1 and conv.weight.shape[-1] > 1:
            assert not conv.weight.is_contiguous(memory_format=torch.channels_last)


def test_hyper_parameters_become_plain_data_and_back():
    """Modules become class_path specs, a function its import path, factories are dropped; both rebuild."""
    from torch import nn

    from lowfreq.mvh.labels import imagenet_to_16
    from lowfreq.training.checkpoints import function_from_path, function_path, make_hparams_plain

    hparams = {"frontend": GaussianBlur(1.5), "label_map": imagenet_to_16, "optimizer": torch.optim.SGD,
               "lambda_l1": 0.5}
    make_hparams_plain(hparams)
    assert hparams == {"frontend": {"class_path": "lowfreq.frontends.GaussianBlur",
                                    "init_args": hparams["frontend"]["init_args"]},
                       "label_map": "lowfreq.mvh.labels.imagenet_to_16", "lambda_l1": 0.5}
    assert hparams["frontend"]["init_args"]["sigma"] == 1.5
    assert function_from_path("label_map", function_path(imagenet_to_16)) is imagenet_to_16
    with pytest.raises(ValueError, match=r"label_map must be a function or the import path .* got 'torch.nn.Linear2'"):
        function_from_path("label_map", "torch.nn.Linear2")
    model = FrontEndClassifier(GaussianBlur(1.0), SimpleCNN(num_classes=1000, widths=(4, 8)),
                               label_map=nn.Sequential(nn.Linear(1000, 3)))
    assert model.num_classes == 3
    assert model.hparams["label_map"].startswith("unrecorded torch.nn")
    with pytest.raises(TypeError, match="pass label_map=<the module> to load_from_checkpoint"):
        FrontEndClassifier(label_map=model.hparams["label_map"])
