"""The CLI: every recipe parses, tiny configs fit end to end, checkpoints restore front-ends and config."""

from importlib.metadata import entry_points
from pathlib import Path

import pytest
import torch
import yaml
from lightning.pytorch.callbacks import TQDMProgressBar

from lowfreq.cli.lightning_cli import PROGRESS_BAR_REFRESH_STEPS, LowFreqCLI, main
from lowfreq.data import ImageDataModule
from lowfreq.training import FrontEndClassifier

ROOT = Path(__file__).resolve().parents[2]
RECIPES = sorted((ROOT / "recipes").glob("*.yaml"))
TINY = ROOT / "tests" / "conf" / "tiny_blur.yaml"


def test_both_console_scripts_exist():
    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get("lowfreq") == "lowfreq.cli.entry:main"
    assert scripts.get("lightning") == "lowfreq.cli.entry:main"


def test_recipes_exist():
    names = {p.name for p in RECIPES}
    assert {"quickstart.yaml", "baseline_resnet18.yaml", "blur_resnet18.yaml", "pca_resnet18.yaml",
            "blur_resnet50_imagenet.yaml"} <= names


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_recipe_parses_alone(recipe, capsys):
    subcommand = "validate" if "alignment" in recipe.name else "fit"
    with pytest.raises(SystemExit) as exit_info:
        main([subcommand, "-c", str(recipe), "--print_config"])
    assert exit_info.value.code == 0
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["model"]["class_path"]
    assert config["data"]["class_path"]


def test_bad_recipe_value_fails_while_parsing():
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "-c", str(TINY), "--model.init_args.frontend.init_args.padding=wrap", "--print_config"])
    assert exit_info.value.code != 0


def _fit(tmp_path: Path, *extra: str) -> Path:
    main(["fit", "-c", str(TINY), f"--trainer.default_root_dir={tmp_path}", *extra])
    (run,) = sorted((tmp_path / "lightning_logs").glob("version_*"))
    return run


def _checkpoint(run: Path) -> Path:
    (ckpt,) = sorted((run / "checkpoints").glob("epoch=*.ckpt"))  # besides last.ckpt
    return ckpt


def test_tiny_fit_writes_config_and_checkpoint(tmp_path):
    run = _fit(tmp_path)
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["model"]["init_args"]["frontend"]["class_path"] == "lowfreq.frontends.GaussianBlur"
    model = FrontEndClassifier.load_from_checkpoint(_checkpoint(run))
    assert model.frontend.sigma == 1.5
    assert model.backbone.num_classes == 10
    stored = torch.load(_checkpoint(run), weights_only=True)["hyper_parameters"]
    assert stored["frontend"]["class_path"] == "lowfreq.frontends.GaussianBlur"  # the CLI config travels along


def test_pca_frontend_is_fitted_at_fit_start_and_restored(tmp_path):
    run = _fit(
        tmp_path,
        "--model.init_args.frontend=lowfreq.frontends.PCAProjection",
        "--model.init_args.frontend.init_args.num_components=8",
        "--model.init_args.frontend.init_args.image_shape=[3, 16, 16]",
    )
    restored = FrontEndClassifier.load_from_checkpoint(_checkpoint(run))
    pca = restored.frontend
    assert pca.is_fitted
    assert pca.components.shape == (8, 768)
    state = torch.load(_checkpoint(run), weights_only=True)["state_dict"]
    assert torch.equal(pca.components, state["frontend.components"])
    u = pca.components.double()
    assert torch.allclose(u @ u.T, torch.eye(8, dtype=torch.float64), atol=1e-4)


def test_fourier_mask_is_trained_with_l1_and_restored(tmp_path):
    run = _fit(
        tmp_path,
        "--model.init_args.frontend=lowfreq.frontends.FourierMask",
        "--model.init_args.frontend.init_args.image_size=[16, 16]",
        "--model.init_args.lambda_l1=5.0",
        "--model.init_args.freeze_backbone=true",
    )
    state = torch.load(_checkpoint(run), weights_only=True)["state_dict"]
    trained = state["frontend.mask"]
    assert trained.shape == (1, 16, 9)
    assert trained.max() <= 1
    assert trained.min() >= 0
    assert trained.mean() < 1
    restored = FrontEndClassifier.load_from_checkpoint(_checkpoint(run))
    assert torch.equal(restored.frontend.mask.detach(), trained)
    assert not any(p.requires_grad for p in restored.backbone.parameters())


def test_offline_pretrained_weights_fail_with_instructions():
    from lowfreq.backbones import TorchvisionClassifier

    with pytest.raises(RuntimeError, match=r"put the file resnet18-.*pth into .* or pass weights_path"):
        TorchvisionClassifier("resnet18", weights="IMAGENET1K_V1")
    with pytest.raises(ValueError, match=r"weights must be one of \['IMAGENET1K_V1', 'DEFAULT'\]"):
        TorchvisionClassifier("resnet18", weights="V9")
    with pytest.raises(ValueError, match="name must be a torchvision classification model"):
        TorchvisionClassifier("resnet1800")


def test_local_weights_file_and_head_replacement(tmp_path):
    import torchvision

    from lowfreq.backbones import TorchvisionClassifier

    path = tmp_path / "resnet18.pth"
    reference = torchvision.models.resnet18()
    torch.save(reference.state_dict(), path)
    model = TorchvisionClassifier("resnet18", weights_path=str(path))
    assert torch.equal(model.net.conv1.weight, reference.conv1.weight)
    assert model.num_classes == 1000
    offline = TorchvisionClassifier("resnet18", weights="IMAGENET1K_V1", weights_path=str(path))  # no download
    assert torch.equal(offline.net.conv1.weight, reference.conv1.weight)
    assert model.is_pretrained
    assert offline.is_pretrained
    assert TorchvisionClassifier("resnet18", num_classes=7).eval()(torch.rand(1, 3, 32, 32)).shape == (1, 7)
    assert not TorchvisionClassifier("resnet18", weights_path=str(path), num_classes=7).is_pretrained  # fresh head
    assert not TorchvisionClassifier("resnet18").is_pretrained
    with pytest.raises(FileNotFoundError, match="weights_path must be an existing"):
        TorchvisionClassifier("resnet18", weights_path=str(tmp_path / "missing.pth"))


def test_timm_classifier_offline(tmp_path):
    import timm

    from lowfreq.backbones import TimmClassifier
    from lowfreq.mvh.labels import logits_to_16

    model = TimmClassifier("resnet18").eval()
    assert model.num_classes == 1000
    assert "timm" not in type(model).__module__.split(".")[0]
    x = torch.rand(2, 3, 64, 64)
    assert logits_to_16(model(x)).shape == (2, 16)  # ImageNet logits -> the 16 model-vs-human classes
    path = tmp_path / "weights.pth"
    torch.save(timm.create_model("resnet18").state_dict(), path)
    restored = TimmClassifier("resnet18", checkpoint_path=str(path), num_classes=None)
    assert torch.equal(restored.net.state_dict()["fc.weight"], torch.load(path)["fc.weight"])
    assert restored.is_pretrained
    assert not model.is_pretrained
    with pytest.raises(ValueError, match="name must be a timm model"):
        TimmClassifier("resnet1800")
    with pytest.raises(FileNotFoundError, match="checkpoint_path must be an existing"):
        TimmClassifier("resnet18", checkpoint_path=str(tmp_path / "missing.pth"))


@pytest.mark.parametrize("frontend", [
    "Identity()", "GaussianBlur(2.0, padding='reflect')", "DownUpResize(8)", "IdealFilter(0.2, 'high')",
    "PCAProjection(6, image_shape=(3, 16, 16))", "FourierMask((16, 16), init=0.7)",
])
def test_every_frontend_survives_a_checkpoint_round_trip(tmp_path, frontend):
    """Python-built models (no CLI) too: their hyper-parameters record the front-end and backbone as plain
    {class_path, init_args} data, so they load weights-only; modules passed in are overwritten by the saved state."""
    import lightning as L

    from lowfreq import frontends
    from lowfreq.backbones import SimpleCNN

    front = eval(frontend, vars(frontends))
    if isinstance(front, frontends.PCAProjection):
        front.fit(torch.rand(20, 3, 16, 16, generator=torch.Generator().manual_seed(0)))
    model = FrontEndClassifier(front, SimpleCNN(widths=(4, 8)))
    path = tmp_path / "model.ckpt"
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams),
                "pytorch-lightning_version": L.__version__}, path)
    restored = FrontEndClassifier.load_from_checkpoint(path)
    assert type(restored.frontend) is type(front)
    assert repr(restored.frontend) == repr(front)
    for key, value in model.state_dict().items():
        assert torch.equal(restored.state_dict()[key], value), key
    x = torch.rand(2, 3, 16, 16)
    assert torch.allclose(restored.eval()(x), model.eval()(x))
    fresh = eval(frontend, vars(frontends))  # unfitted / re-initialised: the checkpoint's state must win
    rebuilt = FrontEndClassifier.load_from_checkpoint(path, frontend=fresh,
                                                      backbone=SimpleCNN(widths=(4, 8)))
    assert torch.allclose(rebuilt.eval()(x), model.eval()(x))


def _trainer(*extra: str):
    cli = LowFreqCLI(FrontEndClassifier, ImageDataModule, subclass_mode_model=True, subclass_mode_data=True,
                     auto_configure_optimizers=False, save_config_callback=None, run=False,
                     args=["-c", str(TINY), *extra])
    return cli.trainer


def test_cli_progress_bar_redraws_every_few_steps():
    """A redraw per step costs host time; the CLI's bar redraws every PROGRESS_BAR_REFRESH_STEPS steps."""
    bar = _trainer("--trainer.enable_progress_bar=true").progress_bar_callback
    assert isinstance(bar, TQDMProgressBar)
    assert bar.refresh_rate == PROGRESS_BAR_REFRESH_STEPS > 1
    assert _trainer().progress_bar_callback is None  # the config disables it: no bar, no error
    own = _trainer("--trainer.enable_progress_bar=true", "--trainer.callbacks+=TQDMProgressBar",
                   "--trainer.callbacks.refresh_rate=3")
    assert own.progress_bar_callback.refresh_rate == 3
    assert sum(isinstance(c, TQDMProgressBar) for c in own.callbacks) == 1
