"""CLI defaults for the first hour: precision chosen for the device, analyses sized from the command line."""

import functools
import tempfile
from pathlib import Path

import pytest
import torch
from lightning import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint

import lowfreq.cli.lightning_cli
from lowfreq.callbacks import (
    AnalysisCallback,
    CueConflictAnalysis,
    FrequencyComponentAnalysis,
    HybridCurveAnalysis,
    RunSummary,
)
from lowfreq.cli.lightning_cli import LowFreqCLI
from lowfreq.data import ImageDataModule
from lowfreq.training import FrontEndClassifier

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "tests" / "conf" / "tiny_blur.yaml")
BLUR_RECIPE = str(ROOT / "recipes" / "blur_resnet18.yaml")
KW = {"subclass_mode_model": True, "subclass_mode_data": True, "auto_configure_optimizers": False,
      "save_config_callback": None}


class _ConfigOnly(LowFreqCLI):
    """Parses and runs ``before_instantiate_classes``, instantiates nothing (no device needed)."""

    def instantiate_classes(self) -> None:
        pass


def _config(*args: str, monkeypatch=None, cuda: bool = False, bf16: bool = True):
    if monkeypatch is not None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    cli = _ConfigOnly(FrontEndClassifier, ImageDataModule, run=False, args=list(args), **KW)
    return cli.config


@pytest.fixture
def infos(monkeypatch):
    messages: list[str] = []
    monkeypatch.setattr(lowfreq.cli.lightning_cli, "rank_zero_info", lambda msg, *a, **k: messages.append(str(msg)))
    return messages


# ---- precision ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("accelerator", "cuda", "bf16", "expected"), [
    ("auto", True, True, "bf16-mixed"),
    ("gpu", True, True, "bf16-mixed"),
    ("cuda", True, True, "bf16-mixed"),
    ("auto", True, False, "32-true"),   # e.g. a V100: no bfloat16
    ("auto", False, True, "32-true"),   # no CUDA: CPU
    ("cpu", True, True, "32-true"),     # CUDA present but the recipe asks for the CPU
])
def test_auto_precision_follows_the_accelerator(monkeypatch, infos, accelerator, cuda, bf16, expected):
    config = _config("-c", BLUR_RECIPE, f"--trainer.accelerator={accelerator}", monkeypatch=monkeypatch, cuda=cuda,
                     bf16=bf16)
    assert config.trainer.precision == expected
    (message,) = [m for m in infos if "precision" in m]
    assert message.startswith(f"trainer.precision=auto: {expected} (")
    assert "--trainer.precision" in message


def test_auto_precision_on_mps_and_accelerator_class_paths(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert LowFreqCLI.auto_precision("auto")[0] == "32-true"  # Lightning's auto picks MPS before CUDA
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    from jsonargparse import Namespace

    cuda = Namespace(class_path="lightning.pytorch.accelerators.CUDAAccelerator")
    assert LowFreqCLI.auto_precision(cuda)[0] == "bf16-mixed"
    assert LowFreqCLI.auto_precision(None)[0] == "bf16-mixed"  # None = auto


@pytest.mark.parametrize(("explicit", "cuda"), [("32-true", True), ("bf16-mixed", False), ("16-mixed", True)])
def test_an_explicit_precision_wins(monkeypatch, infos, explicit, cuda):
    config = _config("-c", BLUR_RECIPE, f"--trainer.precision={explicit}", monkeypatch=monkeypatch, cuda=cuda)
    assert config.trainer.precision == explicit
    assert not [m for m in infos if "precision" in m]


def test_every_cifar_and_imagenet_recipe_uses_auto_and_runs_on_cpu(infos):
    for name in ("baseline_resnet18", "blur_resnet18", "pca_resnet18", "lfc_resnet18", "blur_resnet50_imagenet"):
        assert "precision: auto" in (ROOT / "recipes" / f"{name}.yaml").read_text(), name
    cli = LowFreqCLI(FrontEndClassifier, ImageDataModule, run=False, args=["-c", TINY, "--trainer.precision=auto"],
                     **KW)
    assert cli.trainer.precision == "32-true"  # a real Trainer on this CPU
    assert any(m.startswith("trainer.precision=auto: 32-true") for m in infos)


def test_a_bad_precision_still_fails_while_parsing():
    with pytest.raises(SystemExit):
        _config("-c", TINY, "--trainer.precision=fast")


# ---- analyses -------------------------------------------------------------------------------------------------
_THREE = ["--trainer.callbacks+=lowfreq.callbacks.HybridCurveAnalysis", "--trainer.callbacks.num_images=10000",
          "--trainer.callbacks+=lowfreq.callbacks.FrequencyComponentAnalysis", "--trainer.callbacks.num_images=2000",
          "--trainer.callbacks+=lowfreq.callbacks.CueConflictAnalysis"]


@functools.cache
def _blank_checkpoint() -> str:
    """A checkpoint without weights or hyper-parameters: validate and test of the tiny recipe need a --ckpt_path."""
    path = Path(tempfile.mkdtemp()) / "blank.ckpt"
    torch.save({"state_dict": {}}, path)
    return str(path)


def _callbacks(monkeypatch, subcommand: str, *args: str) -> list:
    """The Trainer's callbacks after ``lowfreq <subcommand> ...`` (the Trainer method itself does nothing)."""
    monkeypatch.setattr(Trainer, subcommand, functools.wraps(getattr(Trainer, subcommand))(lambda *a, **k: None))
    ckpt = [] if subcommand == "fit" else [f"--ckpt_path={_blank_checkpoint()}"]  # (the backbone is not pretrained)
    cli = LowFreqCLI(FrontEndClassifier, ImageDataModule, args=[subcommand, "-c", TINY, *ckpt, *args], **KW)
    return cli.trainer.callbacks


def _sizes(callbacks: list) -> dict:
    return {c.name: c.num_images for c in callbacks if isinstance(c, AnalysisCallback)}


@pytest.mark.parametrize("subcommand", ["fit", "validate", "test"])
def test_num_images_caps_every_analysis(monkeypatch, infos, subcommand):
    before = _sizes(_callbacks(monkeypatch, subcommand, *_THREE))
    assert before == {"hybrid": 10000, "frequency_components": 2000, "cue_conflict": None}
    after = _sizes(_callbacks(monkeypatch, subcommand, *_THREE, "--analyses.num_images=200"))
    assert after == {"hybrid": 200, "frequency_components": 200, "cue_conflict": 200}
    assert any("analyses.num_images=200" in m and "hybrid 10000 -> 200" in m for m in infos)


def test_skip_by_name_or_class_name_and_all(monkeypatch):
    kept = _callbacks(monkeypatch, "fit", *_THREE, "--analyses.skip=hybrid,CueConflictAnalysis")
    assert [type(c) for c in kept if isinstance(c, AnalysisCallback)] == [FrequencyComponentAnalysis]
    assert any(isinstance(c, ModelCheckpoint) for c in kept)
    assert any(isinstance(c, RunSummary) for c in kept)
    kept = _callbacks(monkeypatch, "validate", *_THREE, "--analyses.skip=[frequency_components]")
    assert {type(c) for c in kept if isinstance(c, AnalysisCallback)} == {HybridCurveAnalysis, CueConflictAnalysis}
    kept = _callbacks(monkeypatch, "test", *_THREE, "--analyses.skip=all")
    assert not [c for c in kept if isinstance(c, AnalysisCallback)]


def test_bad_analyses_options_name_the_parameter(monkeypatch):
    with pytest.raises(ValueError, match=r"analyses.skip must name analyses of this run, one of \['all', "
                                         r"'CueConflictAnalysis', .*got \['adversrial'\]"):
        _callbacks(monkeypatch, "fit", *_THREE, "--analyses.skip=adversrial")
    with pytest.raises(ValueError, match=r"analyses.num_images must be an integer >= 2 or null, got 1"):
        _callbacks(monkeypatch, "fit", *_THREE, "--analyses.num_images=1")
    with pytest.raises(ValueError, match=r"analyses.full_at_epochs must be a positive integer or null, got 0"):
        _callbacks(monkeypatch, "fit", *_THREE, "--analyses.full_at_epochs=0")


def test_full_at_epochs_scales_a_short_fit_only(monkeypatch, infos):
    scaled = _sizes(_callbacks(monkeypatch, "fit", *_THREE, "--analyses.full_at_epochs=10"))  # max_epochs 1
    assert scaled == {"hybrid": 1000, "frequency_components": 200, "cue_conflict": None}  # 1/10, null stays
    assert any("fit of 1 of analyses.full_at_epochs=10 epochs" in m for m in infos)
    full = _sizes(_callbacks(monkeypatch, "fit", *_THREE, "--analyses.full_at_epochs=10", "--trainer.max_epochs=10"))
    assert full == {"hybrid": 10000, "frequency_components": 2000, "cue_conflict": None}
    not_a_fit = _sizes(_callbacks(monkeypatch, "validate", *_THREE, "--analyses.full_at_epochs=10"))
    assert not_a_fit == full  # nothing is trained: the analyses keep their sizes
    both = _sizes(_callbacks(monkeypatch, "fit", *_THREE, "--analyses.full_at_epochs=10", "--analyses.num_images=300"))
    assert both == {"hybrid": 300, "frequency_components": 200, "cue_conflict": 300}
    floor = _sizes(_callbacks(monkeypatch, "fit", *_THREE, "--analyses.full_at_epochs=1000"))
    m = LowFreqCLI.MIN_SCALED_IMAGES  # 10000 / 1000 = 10 and 2000 / 1000 = 2 images: raised to the floor
    assert floor == {"hybrid": m, "frequency_components": m, "cue_conflict": None}


def test_cifar_recipe_smoke_run_gets_small_analyses(monkeypatch):
    """``lowfreq fit -c recipes/blur_resnet18.yaml --trainer.max_epochs=1`` does not spend its time in analyses."""
    monkeypatch.setattr(Trainer, "fit", lambda self, *a, **k: None)
    cli = LowFreqCLI(FrontEndClassifier, ImageDataModule, args=["fit", "-c", BLUR_RECIPE, "--trainer.max_epochs=1",
                                                                "--trainer.accelerator=cpu"], **KW)
    assert _sizes(cli.trainer.callbacks) == {"hybrid": 100, "frequency_components": 50, "adversarial": 50,
                                                  "corruptions": 50, "fourier_heat_map": 50, "band_pass": 50}
    cli = LowFreqCLI(FrontEndClassifier, ImageDataModule, args=["fit", "-c", BLUR_RECIPE,
                                                                "--trainer.accelerator=cpu"], **KW)
    assert _sizes(cli.trainer.callbacks) == {"hybrid": 10000, "frequency_components": 2000, "adversarial": 1000,
                                                  "corruptions": 1000, "fourier_heat_map": 1000,
                                                  "band_pass": 1000}


def test_preset_smoke_cuts_every_budget_and_paper_keeps_the_papers_sizes(monkeypatch, infos):
    args = ["fit", "-c", BLUR_RECIPE, "--trainer.max_epochs=1", "--trainer.accelerator=cpu"]
    monkeypatch.setattr(Trainer, "fit", lambda self, *a, **k: None)
    smoke = LowFreqCLI(FrontEndClassifier, ImageDataModule, args=[*args, "--analyses.preset=smoke"], **KW)
    analyses = {c.name: c for c in smoke.trainer.callbacks if isinstance(c, AnalysisCallback)}
    assert {k: c.num_images for k, c in analyses.items()} == dict.fromkeys(analyses, AnalysisCallback.SMOKE_IMAGES)
    assert analyses["adversarial"].attack_options()["attacks"] == ("fmn", "pgd")  # no Brendel-Bethge
    assert analyses["corruptions"].severities == [3]
    assert (analyses["fourier_heat_map"].stride, analyses["fourier_heat_map"].max_frequency) == (4, 0.25)
    assert any("analyses.preset=smoke" in m for m in infos)
    paper = LowFreqCLI(FrontEndClassifier, ImageDataModule, args=[*args, "--analyses.preset=paper"], **KW)
    assert _sizes(paper.trainer.callbacks) == {"hybrid": 10000, "frequency_components": 2000, "adversarial": 1000,
                                               "corruptions": 1000, "fourier_heat_map": 1000,
                                               "band_pass": 1000}  # not scaled down
    with pytest.raises(SystemExit):  # jsonargparse rejects the value and names the choices
        LowFreqCLI(FrontEndClassifier, ImageDataModule, args=[*args, "--analyses.preset=quick"], **KW)


def test_the_plan_comes_before_the_analyses(monkeypatch):
    callbacks = _callbacks(monkeypatch, "fit", *_THREE)
    kinds = [type(c).__name__ for c in callbacks]
    assert kinds.index("AnalysisPlan") < min(kinds.index(k) for k in ("HybridCurveAnalysis", "CueConflictAnalysis"))
