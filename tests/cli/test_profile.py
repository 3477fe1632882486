"""``lowfreq profile``: end to end on random-weight models (embedded data, a folder of PNGs), outputs mapped onto the
data's classes, weights that cannot be had, and one-line errors that name the argument."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch
from PIL import Image

from lowfreq.cli.entry import main
from lowfreq.mvh.labels import CLASSES_16
from lowfreq.profile.images import data_head, folder_sample
from lowfreq.profile.models import build_model

# two tiny random-weight CNNs that run in seconds on 2 CPU cores
TINY = ["lowfreq:SimpleCNN/widths=[4,8]", "lowfreq:SimpleCNN/widths=[6]"]
FAST = ["--preset", "smoke", "--num-images", "10", "--no-progress"]


def _rows(path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _finite(row: dict[str, str], name: str) -> bool:
    try:
        return math.isfinite(float(row[name]))
    except (KeyError, ValueError):
        return False


def _check_board(out, printed: str, columns: tuple[str, ...], overlays: tuple[str, ...]) -> None:
    assert "embedded synthetic shapes (no --data given)" in printed
    assert printed.count("RANDOM weights") == 2
    assert "analyses planned" in printed
    assert "estimated total for 2 model(s)" in printed
    rows = _rows(out / "runs.csv")
    assert [r["run"] for r in rows] == [f"{spec} (random weights) seed 0" for spec in TINY]
    # every analysis gives finite numbers for every model (counts and fractions exist even at chance level)
    for row in rows:
        for column in columns:
            assert _finite(row, column), (row["run"], column)
        assert row["missing"] == ""
    html = (out / "report.html").read_text()
    assert all(f"{spec} (random weights)" in html for spec in TINY)
    for stem in overlays:
        assert (out / f"{stem}.png").stat().st_size > 0, stem
    run = out / "lowfreq_SimpleCNN_widths_4_8"
    assert (run / "analysis" / "hybrid" / "figure.png").is_file()
    assert "weights: random" in (run / "config.yaml").read_text()


FAST_COLUMNS = ("f_rev_crossing", "component_acc", "lfc_acc_0p125", "hfc_acc_0p5", "shape_decisions",
                "texture_decisions", "band_pass_peak_freq", "band_stop_peak_freq", "heat_map_error")
OVERLAYS = ("overlay_hybrid", "overlay_component_cutoffs", "overlay_cue_conflict", "overlay_band_pass",
            "overlay_heat_map_profile")


def test_profile_two_random_models_on_the_embedded_data(tmp_path, capsys):
    out = tmp_path / "board"
    main(["profile", *TINY, "--out", str(out), *FAST, "--analyses", "hybrid", "frequency_components", "cue_conflict",
          "band_pass", "fourier_heat_map"])
    _check_board(out, capsys.readouterr().out, FAST_COLUMNS, OVERLAYS)


@pytest.mark.slow
def test_profile_runs_every_analysis_by_default(tmp_path, capsys):
    pytest.importorskip("foolbox")
    out = tmp_path / "board"
    main(["profile", *TINY, "--out", str(out), *FAST, "--num-adversarial", "2"])
    _check_board(out, capsys.readouterr().out, (*FAST_COLUMNS, "adv_failed"), OVERLAYS)
    assert (out / "lowfreq_SimpleCNN_widths_6" / "analysis" / "adversarial" / "result.json").is_file()


def test_the_adversarial_entry_gives_f_half_and_the_profile_the_overlay_reads():
    pytest.importorskip("foolbox")
    from lowfreq.core.io import to_jsonable
    from lowfreq.plotting.overlays import OVERLAYS
    from lowfreq.profile.analyses import ANALYSES, PRESETS, Context

    from toy_models import template_classifier

    model, x, y = template_classifier(torch.Generator().manual_seed(0), 4, 8, 4, noise=0.05)
    entry = ANALYSES["adversarial"]
    callback = entry.declare(PRESETS["smoke"], 8)
    outcome = entry.run(model, x, y, Context(callback, PRESETS["smoke"], "template"))
    payload = to_jsonable(callback.payload(outcome.result, None, outcome.headlines))
    values = {h["name"]: h["value"] for h in payload["headlines"]}
    assert 0 < values["f_half"] < 0.71
    assert values["adv_failed"] == 0
    assert values["eps_median"] > 0
    assert OVERLAYS["overlay_perturbation_profile"].needs(payload)
    assert payload["init_args"]["protocol"] == "smoke"
    assert {"spectrum", "profile", "success"} == set(outcome.figures)


def _png(path, rgb, size=20) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.full((size, size + 4, 3), rgb, dtype=np.uint8)
    pixels[size // 4 : size // 2, :, 0] = 255 - rgb[0]  # a stripe, so that the components differ
    Image.fromarray(pixels).save(path)


def test_profile_reads_an_image_folder_and_the_shape_bias_of_cue_conflict_stimuli(tmp_path, capsys):
    data = tmp_path / "stimuli"
    for k, (shape, texture) in enumerate([("cat", "dog"), ("dog", "cat"), ("cat", "cat"), ("dog", "cat"),
                                          ("cat", "dog"), ("dog", "dog")]):
        _png(data / shape / f"{shape}{k}-{texture}{k}.png", (40 * k, 100, 200 - 30 * k))
    out = tmp_path / "board"
    main(["profile", "lowfreq:SimpleCNN/num_classes=16,widths=[4]", "--data", str(data), "--out", str(out), *FAST,
          "--analyses", "hybrid", "frequency_components", "cue_conflict"])
    printed = capsys.readouterr().out
    assert "scored on the 2 model-vs-human classes of the data" in printed
    assert "6 images in 2 classes; 32 px" in printed
    (row,) = _rows(out / "runs.csv")
    assert _finite(row, "component_acc")
    assert _finite(row, "shape_decisions")
    result = (out / "lowfreq_SimpleCNN_num_classes_16_widths_4" / "analysis" / "cue_conflict" / "result.json")
    assert '"num_images": 4' in result.read_text()  # the two stimuli whose shape is their texture are left out
    assert "model-vs-human stimuli" in result.read_text()


def test_folder_images_are_resized_and_centre_cropped_to_the_model_size(tmp_path):
    for k in range(4):
        _png(tmp_path / f"c{k % 2}" / f"{k}.png", (10 * k, 20, 30), size=40)
    sample = folder_sample(tmp_path, 32, 3, seed=0)
    assert sample.x.shape == (3, 3, 32, 32)
    assert sample.class_names == ["c0", "c1"]
    assert 0.0 <= float(sample.x.min()) <= float(sample.x.max()) <= 1.0
    assert sample.conflict is None


def test_outputs_are_mapped_onto_the_data_classes():
    class Logits(torch.nn.Module):
        def forward(self, x):
            return torch.arange(1000.0).repeat(len(x), 1)  # output k scores k

    x = torch.zeros(2, 3, 8, 8)
    wnids = pytest.importorskip("timm.data").ImageNetInfo().label_names()
    head, how = data_head(Logits(), 1000, [wnids[7], wnids[3]], spec="m", embedded=False)
    assert head(x)[0].tolist() == [7.0, 3.0]
    assert "ImageNet outputs" in how
    head, how = data_head(Logits(), 1000, ["cat", "dog"], spec="m", embedded=False)
    assert head(x).shape == (2, 2)
    assert "1000 -> 16" in how
    head, how = data_head(Logits(), 1000, ["a", "b", "c"], spec="m", embedded=True)
    assert head(x)[0].tolist() == [0.0, 1.0, 2.0]
    assert "first 3 of 1000 outputs" in how
    with pytest.raises(ValueError, match=r"--data classes must fit MODEL m's 1000 outputs"):
        data_head(Logits(), 1000, ["a", "b", "c"], spec="m", embedded=False)
    assert CLASSES_16.index("dog") == 10


def test_weights_that_cannot_be_had_are_random_and_said_so(monkeypatch):
    monkeypatch.setattr("lowfreq.backbones.torchvision.probe", lambda url: "offline in this test")
    model = build_model("torchvision:resnet18")
    assert model.weights == "random"
    assert "weights cannot be had" in model.note
    assert "offline in this test" in model.note
    assert model.label == "torchvision:resnet18 (random weights)"
    assert model.image_size == 224


def _error_line(capsys, argv) -> str:
    with pytest.raises(SystemExit) as info:
        main(["profile", *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[0]


@pytest.mark.parametrize(("argv", "expected"), [
    (["nope:resnet18"], "MODEL must be <source>:<name> with source one of ['torchvision', 'timm'"),
    (["torchvision:notamodel"], "MODEL torchvision:notamodel: name must be a torchvision classification model"),
    (["lowfreq:NoSuchNet"], "MODEL must be lowfreq:<Backbone>"),
    (["missing.ckpt"], "MODEL 'missing.ckpt' looks like a checkpoint path, but no such file exists"),
    (["lowfreq:SimpleCNN", "--data", "no/such/folder"], "--data must be an existing folder"),
    (["lowfreq:SimpleCNN", "--preset", "smoke", "--analyses", "hybridd"], "analyses must be one of ['hybrid'"),
])
def test_bad_input_is_one_line_naming_the_argument(capsys, argv, expected):
    line = _error_line(capsys, argv)
    assert line.startswith("lowfreq: error: ")
    assert expected in line


def test_a_folder_without_class_folders_or_with_too_few_images_is_one_line(tmp_path, capsys):
    _png(tmp_path / "flat" / "a.png", (1, 2, 3))
    line = _error_line(capsys, ["lowfreq:SimpleCNN", "--data", str(tmp_path / "flat")])
    assert "--data must hold one sub-folder of images per class" in line
    assert "no sub-folders (1 images lying directly in it)" in line
    _png(tmp_path / "few" / "a" / "1.png", (1, 2, 3))
    _png(tmp_path / "few" / "b" / "2.png", (1, 2, 3))
    line = _error_line(capsys, ["lowfreq:SimpleCNN", "--data", str(tmp_path / "few")])
    assert "at least 2 classes and 4 images" in line
    assert "got" in line
    assert "with 2 images in 2 of its 2 sub-folders" in line


def test_a_lowfreq_checkpoint_is_profiled_at_its_recorded_size_and_classes(tmp_path, capsys):
    import lightning as L

    from lowfreq.backbones import SimpleCNN
    from lowfreq.data.synthetic import SHAPE_NAMES
    from lowfreq.frontends import GaussianBlur
    from lowfreq.training import FrontEndClassifier
    from lowfreq.training.checkpoints import DATA_KEY

    module = FrontEndClassifier(GaussianBlur(1.5), SimpleCNN(widths=[4]))
    path = tmp_path / "last.ckpt"
    torch.save({"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams),
                "pytorch-lightning_version": L.__version__,
                DATA_KEY: {"image_shape": [3, 24, 24], "class_names": SHAPE_NAMES, "num_classes": 10}}, path)
    out = tmp_path / "board"
    main(["profile", str(path), "--out", str(out), *FAST, "--analyses", "cue_conflict"])
    printed = capsys.readouterr().out
    assert "RANDOM" not in printed
    assert "at 24 px" in printed
    (row,) = _rows(out / "runs.csv")
    assert row["run"] == f"{path} seed 0"
    assert _finite(row, "shape_decisions")
    config = next(out.glob("*/config.yaml")).read_text()
    assert "GaussianBlur" in config
    assert "weights: checkpoint" in config


def test_random_weights_are_seeded_and_leave_the_global_random_state_alone():
    from lowfreq.profile.models import build_model

    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    first = build_model("lowfreq:SimpleCNN", random_weights=True, seed=0).module.state_dict()
    again = build_model("lowfreq:SimpleCNN", random_weights=True, seed=0).module.state_dict()
    other = build_model("lowfreq:SimpleCNN", random_weights=True, seed=1).module.state_dict()
    assert torch.equal(torch.rand(3), expected)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)
