"""validate / test evaluate trained weights: a checkpoint, or a pretrained backbone, that fits the data.

Before, ``lowfreq validate`` of a recipe whose model trains analysed a random network without a word (val accuracy
0.098), ``--ckpt_path last`` found nothing and did the same, and a checkpoint of other data ran silently.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest
import torch
from lightning import Trainer

from lowfreq.cli.lightning_cli import main
from lowfreq.data.cifar import CIFAR10_CLASSES
from lowfreq.mvh.labels import CLASSES_16
from lowfreq.training.checkpoints import DATA_KEY, check_fits_data

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "tests" / "conf" / "tiny_blur.yaml")
ANALYSIS = ["--trainer.callbacks+=lowfreq.callbacks.CueConflictAnalysis", "--trainer.callbacks.num_images=8"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> Path:
    """A tiny fit (3 steps on 16 px synthetic shapes); its root directory."""
    root = tmp_path_factory.mktemp("fit")
    main(["fit", "-c", TINY, f"--trainer.default_root_dir={root}", "--trainer.limit_val_batches=1"])
    return root


def _last(root: Path) -> Path:
    (path,) = root.glob("lightning_logs/version_*/checkpoints/last.ckpt")
    return path


@pytest.fixture
def evaluations(monkeypatch) -> list[dict]:
    """Trainer.validate / test replaced by a recorder of their arguments (the checks run before them)."""
    calls: list[dict] = []
    for name in ("validate", "test"):
        original = getattr(Trainer, name)

        @functools.wraps(original)
        def record(self, *args, _name=name, **kwargs):
            calls.append({"fn": _name, **kwargs})

        monkeypatch.setattr(Trainer, name, record)
    return calls


def _fails(capsys, args: list[str]) -> list[str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2, err
    assert err[1] == "(set LOWFREQ_DEBUG=1 for the full traceback)", err
    return err


@pytest.mark.parametrize("subcommand", ["validate", "test"])
def test_a_trained_recipe_without_ckpt_path_stops_with_one_line(subcommand, tmp_path, evaluations, capsys):
    err = _fails(capsys, [subcommand, "-c", TINY, f"--trainer.default_root_dir={tmp_path}", *ANALYSIS])
    assert err[0].startswith(f"lowfreq: error: ValueError: `lowfreq {subcommand}` without --ckpt_path would evaluate "
                             "FrontEndClassifier with untrained weights (its backbone CIFARResNet18 has no pretrained "
                             "weights): pass --ckpt_path PATH/last.ckpt")
    assert "--ckpt_path last" in err[0]
    assert evaluations == []
    assert not (tmp_path / "lightning_logs").exists()


def test_a_pretrained_backbone_needs_no_checkpoint(tmp_path, evaluations, capsys):
    main(["validate", "-c", TINY, f"--trainer.default_root_dir={tmp_path}",
          "--model.init_args.backbone=tiny_backbone.PretrainedTinyBackbone"])
    assert [c["fn"] for c in evaluations] == ["validate"]
    assert evaluations[0]["ckpt_path"] is None
    _fails(capsys, ["validate", "-c", TINY, "--model.init_args.backbone=tiny_backbone.TinyBackbone"])


@pytest.mark.parametrize("recipe", ["pretrained_alignment.yaml", "adversarial_pretrained.yaml"])
def test_validate_only_recipes_run_without_ckpt_path(recipe, tmp_path, evaluations, monkeypatch):
    """The pretrained recipes' weights (here a stand-in: no download) make a checkpoint unnecessary."""
    import torchvision

    from lowfreq.backbones import TorchvisionClassifier

    monkeypatch.setattr(TorchvisionClassifier, "_download",
                        staticmethod(lambda name, weights: torchvision.models.get_model(name, weights=None)))
    monkeypatch.chdir(tmp_path)  # the recipes' relative data and log folders
    main(["validate", "-c", str(ROOT / "recipes" / recipe), "--trainer.accelerator=cpu"])
    assert [c["fn"] for c in evaluations] == ["validate"]


def test_ckpt_path_last_is_the_latest_runs_last_checkpoint(fitted, tmp_path, evaluations, capsys):
    main(["validate", "-c", TINY, f"--trainer.default_root_dir={fitted}", "--ckpt_path", "last"])
    assert evaluations[0]["ckpt_path"] == str(_last(fitted))
    err = _fails(capsys, ["test", "-c", TINY, f"--trainer.default_root_dir={tmp_path}", "--ckpt_path=last"])
    assert err[0].startswith(f"lowfreq: error: FileNotFoundError: --ckpt_path last: no run in "
                             f"{tmp_path / 'lightning_logs'} has checkpoints/last.ckpt")
    err = _fails(capsys, ["test", "-c", TINY, f"--ckpt_path={tmp_path / 'missing.ckpt'}"])
    assert "--ckpt_path must be an existing checkpoint file or 'last'" in err[0]


def test_a_fit_records_its_data_in_the_checkpoint(fitted):
    recorded = torch.load(_last(fitted), weights_only=True)[DATA_KEY]
    assert recorded == {"datamodule": "lowfreq.data.synthetic.SyntheticShapesDataModule", "num_classes": 10,
                        "class_names": recorded["class_names"], "image_shape": [3, 16, 16]}
    assert len(recorded["class_names"]) == 10


def _edited(fitted: Path, tmp_path: Path, edit) -> Path:
    checkpoint = torch.load(_last(fitted), weights_only=True)
    edit(checkpoint)
    path = tmp_path / "edited.ckpt"
    torch.save(checkpoint, path)
    return path


def test_a_checkpoint_of_other_images_fails_before_any_analysis(fitted, tmp_path, evaluations, capsys):
    ckpt = _last(fitted)
    err = _fails(capsys, ["validate", "-c", TINY, f"--ckpt_path={ckpt}", "--data.init_args.image_size=32",
                          f"--trainer.default_root_dir={tmp_path}", *ANALYSIS])
    assert err[0] == (
        f"lowfreq: error: ValueError: --ckpt_path {ckpt} was trained on 3x16x16 (CxHxW) images "
        "(SyntheticShapesDataModule), but the data (SyntheticShapesDataModule) have 3x32x32: the image size differs; "
        "set the data's options to match (e.g. --data.init_args.image_size), or pass a checkpoint trained on these "
        "images"
    )
    assert evaluations == []


def test_a_cifar_checkpoint_on_the_synthetic_recipe_fails(fitted, tmp_path, evaluations, capsys):
    def as_cifar(checkpoint: dict) -> None:
        checkpoint[DATA_KEY].update(datamodule="lowfreq.data.cifar.CIFAR10DataModule", class_names=CIFAR10_CLASSES)

    ckpt = _edited(fitted, tmp_path, as_cifar)
    err = _fails(capsys, ["validate", "-c", TINY, f"--ckpt_path={ckpt}", *ANALYSIS])
    assert err[0].startswith(
        f"lowfreq: error: ValueError: --ckpt_path {ckpt} was trained on other classes (CIFAR10DataModule: airplane, "
        "automobile, bird, cat, ...) than those of the data (SyntheticShapesDataModule: disc, square, triangle, plus, "
        "...)"
    )
    assert evaluations == []


def test_a_checkpoint_with_other_classes_fails(fitted, tmp_path, evaluations, capsys):
    def twelve_classes(checkpoint: dict) -> None:
        checkpoint["hyper_parameters"]["backbone"]["init_args"]["num_classes"] = 12
        del checkpoint[DATA_KEY]  # an older checkpoint: the model's outputs are still compared

    ckpt = _edited(fitted, tmp_path, twelve_classes)
    err = _fails(capsys, ["validate", "-c", TINY, f"--ckpt_path={ckpt}"])
    assert err[0].startswith(f"lowfreq: error: ValueError: --ckpt_path {ckpt} predicts 12 classes, but the data "
                             "(SyntheticShapesDataModule) have 10")
    assert evaluations == []


def test_hyper_parameters_that_do_not_parse_are_one_line(fitted, tmp_path, evaluations, capsys):
    def typo(checkpoint: dict) -> None:
        checkpoint["hyper_parameters"]["frontend"]["init_args"]["sigmaa"] = 1.0

    err = _fails(capsys, ["validate", "-c", TINY, f"--ckpt_path={_edited(fitted, tmp_path, typo)}"])
    assert err[0] == ("lowfreq: error: ValueError: the model's hyper-parameters stored in --ckpt_path do not parse: "
                      "unknown key 'sigmaa' in model.init_args.frontend.init_args: did you mean 'sigma'?")


def test_the_checkpoint_of_the_run_evaluates(fitted, tmp_path, evaluations):
    copy = tmp_path / "copy.ckpt"
    shutil.copy(_last(fitted), copy)
    main(["test", "-c", TINY, f"--ckpt_path={copy}", f"--trainer.default_root_dir={tmp_path}"])
    assert [(c["fn"], c["ckpt_path"]) for c in evaluations] == [("test", str(copy))]


class _Data:
    def __init__(self, names: list[str], shape: tuple[int, int, int] = (3, 224, 224)) -> None:
        self.class_names, self.num_classes, self.image_shape = names, len(names), shape


def test_a_1000_way_model_fits_the_16_model_vs_human_classes_through_its_label_map():
    imagenet = {"num_classes": 1000, "class_names": [f"n{i}" for i in range(1000)]}
    check_fits_data("m", _Data(list(CLASSES_16)), 16, imagenet, label_map=True)
    with pytest.raises(ValueError, match=r"m predicts 1000 .ImageNet. classes.*set label_map: "
                                         "lowfreq.mvh.labels.imagenet_to_16"):
        check_fits_data("m", _Data(list(CLASSES_16)), 1000, imagenet)
    with pytest.raises(ValueError, match="m was trained on other classes"):
        check_fits_data("m", _Data(list(CLASSES_16)), 16, imagenet)  # no label map: the names must agree
    with pytest.raises(ValueError, match=r"m predicts 1000 classes, but the data .* have 10"):
        check_fits_data("m", _Data(list(CIFAR10_CLASSES), (3, 32, 32)), 1000)
    with pytest.raises(ValueError, match=r"the number of channels differs"):
        check_fits_data("m", _Data(list(CIFAR10_CLASSES), (1, 32, 32)), 10, {"image_shape": [3, 32, 32]})


def test_a_pretrained_backbone_behind_an_unfitted_or_learned_front_end_is_untrained():
    """Only a pretrained backbone behind a fixed front-end holds trained weights before fit."""
    from lowfreq.frontends import FourierMask, GaussianBlur, PCAProjection
    from lowfreq.training.classifier import FrontEndClassifier

    from tiny_backbone import PretrainedTinyBackbone

    assert FrontEndClassifier(GaussianBlur(), PretrainedTinyBackbone()).untrained_reason is None
    pca = FrontEndClassifier(PCAProjection(num_components=4, image_shape=(3, 8, 8)), PretrainedTinyBackbone())
    assert "PCAProjection is fitted on data" in (pca.untrained_reason or "")
    mask = FrontEndClassifier(FourierMask(), PretrainedTinyBackbone())
    assert "FourierMask has parameters that fit learns" in (mask.untrained_reason or "")
