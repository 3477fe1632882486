"""OpenCLIPZeroShot offline: a tiny random open_clip config, the 16-way and 1000-to-16 heads, checkpoints, recipe."""

import json
from pathlib import Path

import pytest
import torch
import yaml

open_clip = pytest.importorskip("open_clip")

from lowfreq.backbones.openclip import OpenCLIPZeroShot  # noqa: E402  (after the importorskip above)
from lowfreq.mvh.labels import CLASSES_16, imagenet_to_16  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TINY = "lowfreq-tiny-clip"
TINY_CFG = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory) -> str:
    """Register a tiny random CLIP architecture with open_clip (bundled BPE tokenizer: works offline)."""
    path = tmp_path_factory.mktemp("open_clip") / f"{TINY}.json"
    path.write_text(json.dumps(TINY_CFG))
    open_clip.add_model_config(path)
    return TINY


def test_16way_head_classifies_into_the_16_classes(tiny_clip):
    torch.manual_seed(0)
    model = OpenCLIPZeroShot(tiny_clip).eval()
    assert model.num_classes == 16
    assert model.class_names == list(CLASSES_16)
    assert not model.is_pretrained  # random weights (pretrained=None)
    assert len(model.templates) == 80  # open_clip's OPENAI_IMAGENET_TEMPLATES
    assert torch.allclose(model.normalize.mean.flatten(), torch.tensor(open_clip.OPENAI_DATASET_MEAN))
    x = torch.rand(3, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits = model(x)
    assert logits.shape == (3, 16)
    assert torch.isfinite(logits).all()
    assert logits.abs().max() <= 100.0 + 1e-4  # 100 * cosine
    head = model.classifier  # (D, 16), unit-norm class embeddings
    assert head.shape == (TINY_CFG["embed_dim"], 16)
    assert torch.allclose(head.norm(dim=0), torch.ones(16), atol=1e-5)
    assert "classifier" not in model.state_dict()  # rebuilt from the arguments, not checkpointed
    assert not any(k.startswith("text") for k in model.state_dict())


def test_1000to16_head_matches_the_imagenet_mapping(tiny_clip):
    model = OpenCLIPZeroShot(tiny_clip, head="1000to16", templates="simple").eval()
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = model(x)
        feats = torch.nn.functional.normalize(model.net(model.normalize(x)), dim=-1)
        logits_1000 = 100.0 * feats @ model.classifier
    assert model.classifier.shape[1] == 1000
    assert out.shape == (2, 16)
    assert torch.allclose(out, imagenet_to_16(logits_1000), atol=1e-5)


def test_local_checkpoint_is_loaded(tiny_clip, tmp_path):
    torch.manual_seed(3)
    reference = open_clip.create_model(tiny_clip)
    path = tmp_path / "tiny.pt"
    torch.save(reference.state_dict(), path)
    model = OpenCLIPZeroShot(tiny_clip, checkpoint_path=str(path))
    assert model.is_pretrained
    for name, tensor in reference.visual.state_dict().items():
        assert torch.equal(model.net.state_dict()[name], tensor), name


def test_resizes_other_input_sizes_like_clip_preprocessing(tiny_clip):
    model = OpenCLIPZeroShot(tiny_clip).eval()
    x = torch.rand(1, 3, 64, 48)
    assert model._resize(x).shape == (1, 3, 32, 32)
    y = torch.rand(1, 3, 32, 32)
    assert model._resize(y) is y


def test_argument_errors(tiny_clip, tmp_path):
    with pytest.raises(ValueError, match="head must be one of"):
        OpenCLIPZeroShot(tiny_clip, head="10way")
    with pytest.raises(ValueError, match="at most one of pretrained"):
        OpenCLIPZeroShot(tiny_clip, pretrained="laion2b_s32b_b79k", checkpoint_path=str(tmp_path / "x.pt"))
    with pytest.raises(ValueError, match="model_name must be an open_clip architecture"):
        OpenCLIPZeroShot("not-a-model")
    with pytest.raises(FileNotFoundError, match="checkpoint_path"):
        OpenCLIPZeroShot(tiny_clip, checkpoint_path=str(tmp_path / "missing.pt"))


def test_import_of_lowfreq_does_not_load_open_clip():
    import subprocess
    import sys

    code = "import sys, lowfreq, lowfreq.backbones; print('open_clip' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ---- recipe ------------------------------------------------------------------------------------------------------

RECIPE = ROOT / "recipes" / "clip_alignment.yaml"


def test_clip_alignment_recipe_parses_alone(capsys):
    from lowfreq.cli.lightning_cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "-c", str(RECIPE), "--print_config"])
    assert exit_info.value.code == 0
    config = yaml.safe_load(capsys.readouterr().out)
    backbone = config["model"]["init_args"]["backbone"]
    assert backbone["class_path"] == "lowfreq.backbones.OpenCLIPZeroShot"
    assert backbone["init_args"]["model_name"] == "ViT-H-14"
    assert backbone["init_args"]["pretrained"] == "laion2b_s32b_b79k"
    assert config["model"]["init_args"]["frontend"]["init_args"]["sigma"] == 2.5
    assert len(config["data"]["init_args"]["datasets"]) == 17


@pytest.mark.data
def test_clip_alignment_recipe_end_to_end_with_a_tiny_model(tiny_clip, test_data, tmp_path):
    """The recipe with a tiny random OpenCLIP config on the three datasets with images (8 images each)."""
    from lowfreq.cli.lightning_cli import main

    data_dir = test_data / "model-vs-human"
    weights = tmp_path / "tiny_clip.pt"  # the random weights as a local checkpoint: validate evaluates given weights
    torch.manual_seed(0)
    torch.save(open_clip.create_model(tiny_clip).state_dict(), weights)
    main(
        [
            "validate",
            "-c",
            str(RECIPE),
            f"--model.init_args.backbone.init_args.model_name={tiny_clip}",
            "--model.init_args.backbone.init_args.pretrained=null",
            f"--model.init_args.backbone.init_args.checkpoint_path={weights}",
            f"--data.init_args.data_dir={data_dir}",
            "--data.init_args.datasets=[cue-conflict, edge, silhouette]",
            "--data.init_args.download=false",
            "--data.init_args.images_per_dataset=8",
            "--data.init_args.num_workers=0",
            "--data.init_args.batch_size=12",
            "--trainer.accelerator=cpu",
            "--trainer.enable_progress_bar=false",
            f"--trainer.logger.init_args.save_dir={tmp_path}",
            f"--trainer.default_root_dir={tmp_path}",
        ]
    )
    (out,) = list(tmp_path.glob("clip_alignment/version_*/analysis/model_vs_human"))
    result = json.loads((out / "result.json").read_text())
    assert result["model"] == "openclip-vit-h-14-blur2.5"
    assert result["num_stimuli"] == 24
    assert set(result["datasets"]) == {"cue-conflict", "edge", "silhouette"}
    for key in ("error_consistency", "observed_consistency", "accuracy_difference", "ood_accuracy"):
        assert result[key] is not None
    assert (out / "figure.png").is_file()
    assert (out / "figure.pdf").is_file()
    csvs = sorted(p.name for p in (out / "raw-data").rglob("*.csv"))
    assert csvs == [
        f"{d}_openclip-vit-h-14-blur2.5_session-1.csv" for d in ("cue-conflict", "edge", "silhouette")
    ]
