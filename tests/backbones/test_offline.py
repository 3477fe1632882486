"""Pretrained backbones offline: fast one-line errors that say what to put where; any name timm accepts;
RobustBench's loader behind a checkpoint-file check."""

from __future__ import annotations

import json
import sys
import time
import types
from pathlib import Path

import pytest
import torch
from torch import nn

import lowfreq.backbones.openclip as openclip_backbone
import lowfreq.backbones.robustbench as robustbench_backbone
import lowfreq.backbones.timm as timm_backbone

ROOT = Path(__file__).resolve().parents[2]
NO_NETWORK = "URLError: <urlopen error [Errno -2] Name or service not known>"


@pytest.fixture
def no_network(monkeypatch):
    """Every reachability probe of the backbones fails, as on a machine without internet access."""
    for module in (openclip_backbone, timm_backbone, robustbench_backbone):
        monkeypatch.setattr(module, "probe", lambda url, timeout=None: NO_NETWORK)


@pytest.fixture
def hf_cache(tmp_path, monkeypatch) -> Path:
    """An empty Hugging Face cache (HF_HUB_CACHE is read per call by try_to_load_from_cache's default)."""
    import huggingface_hub.constants

    cache = tmp_path / "hf"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return cache


def _cache_file(cache: Path, repo_id: str, filename: str, content: bytes = b"weights") -> Path:
    """Put a file into the Hugging Face cache layout (refs/main -> snapshots/<commit>/<file>)."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    path = repo / "snapshots" / commit / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


# ---- OpenCLIP ----------------------------------------------------------------------------------------------------
def test_openclip_offline_fails_fast_naming_the_file_and_the_arguments(no_network, hf_cache):
    pytest.importorskip("open_clip")
    t = time.perf_counter()
    with pytest.raises(RuntimeError) as info:
        openclip_backbone.OpenCLIPZeroShot("ViT-B-32", pretrained="laion2b_s34b_b79k", cache_dir=str(hf_cache))
    assert time.perf_counter() - t < 5.0
    msg = str(info.value)
    assert "\n" not in msg
    assert NO_NETWORK in msg
    for part in ("open_clip_pytorch_model.bin", "https://huggingface.co/laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
                 "checkpoint_path=", "pretrained=null", "lowfreq download weights openclip:ViT-B-32/laion2b_s34b_b79k"):
        assert part in msg, part


def test_openclip_cached_weights_are_used_without_the_network(no_network, hf_cache):
    open_clip = pytest.importorskip("open_clip")
    cached = _cache_file(hf_cache, "laion/CLIP-ViT-B-32-laion2B-s34B-b79K", "open_clip_model.safetensors")
    source, preprocess = openclip_backbone._pretrained_source(open_clip, "ViT-B-32", "laion2b_s34b_b79k", None)
    assert Path(source) == cached  # a file path: open_clip loads it without asking the hub
    assert preprocess["mean"] == open_clip.get_pretrained_cfg("ViT-B-32", "laion2b_s34b_b79k")["mean"]


def test_openclip_unknown_tag_lists_the_tags():
    pytest.importorskip("open_clip")
    with pytest.raises(ValueError, match=r"pretrained must be an open_clip tag of ViT-B-32, one of \[.*'openai'"):
        openclip_backbone.OpenCLIPZeroShot("ViT-B-32", pretrained="laion9b")


def test_clip_alignment_recipe_offline_is_one_line_and_fast(no_network, hf_cache, capsys):
    """The recipe's real path: jsonargparse instantiates the backbone; the user sees one line, within seconds."""
    pytest.importorskip("open_clip")
    from lowfreq.cli.lightning_cli import main

    t = time.perf_counter()
    with pytest.raises(SystemExit) as info:
        main(["validate", "-c", str(ROOT / "recipes" / "clip_alignment.yaml"), "--trainer.accelerator=cpu"])
    elapsed = time.perf_counter() - t
    assert info.value.code == 2
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr, stderr
    assert "Retrying" not in stderr, stderr
    assert len(stderr) < 2000, stderr
    err = [line for line in stderr.splitlines() if not line.startswith("INFO: Seed set")]  # Lightning's info
    assert len(err) == 2, err
    assert err[0].startswith("lowfreq: error: RuntimeError: cannot download the open_clip weights ViT-H-14/")
    assert "checkpoint_path=" in err[0]
    assert err[1] == "(set LOWFREQ_DEBUG=1 for the full traceback)"
    assert elapsed < 30.0  # parsing and imports; no retries (Lightning's were 60 s)


# ---- timm --------------------------------------------------------------------------------------------------------
def test_timm_accepts_names_outside_list_models(tmp_path):
    """A ``local-dir:`` model (timm resolves it; it is not in timm.list_models()) builds offline."""
    timm = pytest.importorskip("timm")
    folder = tmp_path / "my_resnet"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architecture": "resnet18", "num_classes": 7,
                                                    "pretrained_cfg": {"mean": [0.5, 0.5, 0.5],
                                                                       "std": [0.25, 0.25, 0.25]}}))
    torch.save(timm.create_model("resnet18", num_classes=7).state_dict(), folder / "pytorch_model.bin")
    name = f"local-dir:{folder}"
    assert name not in timm.list_models()
    model = timm_backbone.TimmClassifier(name, pretrained=True).eval()
    assert model.num_classes == 7
    assert model(torch.rand(1, 3, 32, 32)).shape == (1, 7)
    assert model.normalize.std.flatten().tolist() == [0.25, 0.25, 0.25]


def test_timm_hub_name_offline_fails_fast_not_as_a_bad_name(no_network, hf_cache):
    pytest.importorskip("timm")
    t = time.perf_counter()
    with pytest.raises(RuntimeError) as info:
        timm_backbone.TimmClassifier("hf-hub:timm/resnet18.a1_in1k")
    assert time.perf_counter() - t < 5.0
    msg = str(info.value)
    assert "https://huggingface.co/timm/resnet18.a1_in1k" in msg
    assert "checkpoint_path=" in msg


def test_timm_pretrained_offline_uses_the_cached_weights(no_network, hf_cache):
    timm = pytest.importorskip("timm")
    from safetensors.torch import save_file

    reference = timm.create_model("resnet18")
    weights = _cache_file(hf_cache, "timm/resnet18.a1_in1k", "model.safetensors")
    save_file(reference.state_dict(), str(weights))
    model = timm_backbone.TimmClassifier("resnet18.a1_in1k", pretrained=True, num_classes=5)
    assert torch.equal(model.net.conv1.weight, reference.conv1.weight)
    assert model.num_classes == 5
    assert not model.is_pretrained  # a fresh 5-way head
    assert timm_backbone.TimmClassifier("resnet18.a1_in1k", pretrained=True).is_pretrained


def test_timm_unknown_name_is_our_error():
    pytest.importorskip("timm")
    with pytest.raises(ValueError, match=r"name must be a timm model such as .*'hf-hub:org/repo'.*got 'resnet1800'"):
        timm_backbone.TimmClassifier("resnet1800")


# ---- RobustBench -------------------------------------------------------------------------------------------------
def test_robustbench_missing_checkpoint_offline_names_the_path(no_network, tmp_path):
    with pytest.raises(RuntimeError) as info:
        robustbench_backbone.RobustBenchClassifier("Carmon2019Unlabeled", "cifar10", "Linf", str(tmp_path))
    assert f"put its checkpoint at {tmp_path / 'cifar10' / 'Linf' / 'Carmon2019Unlabeled.pt'}" in str(info.value)


def test_robustbench_without_the_package_says_how_to_install(tmp_path, monkeypatch):
    (tmp_path / "cifar10" / "Linf").mkdir(parents=True)
    (tmp_path / "cifar10" / "Linf" / "Standard.pt").write_bytes(b"checkpoint")
    monkeypatch.setitem(sys.modules, "robustbench", None)  # not installed
    with pytest.raises(ImportError, match=r"pip install 'lowfreq\[robustbench\]'"):
        robustbench_backbone.RobustBenchClassifier("Standard", model_dir=str(tmp_path))


def test_robustbench_loader_is_called_with_the_local_checkpoint(tmp_path, monkeypatch):
    (tmp_path / "cifar100" / "L2").mkdir(parents=True)
    (tmp_path / "cifar100" / "L2" / "Net.pt").write_bytes(b"checkpoint")
    calls = []

    def load_model(model_name, model_dir, dataset, threat_model):
        calls.append((model_name, model_dir, dataset, threat_model))
        return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 100)).train()

    utils = types.ModuleType("robustbench.utils")
    utils.load_model = load_model  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "robustbench", types.ModuleType("robustbench"))
    monkeypatch.setitem(sys.modules, "robustbench.utils", utils)
    model = robustbench_backbone.RobustBenchClassifier("Net", "cifar100", "L2", str(tmp_path))
    assert calls == [("Net", str(tmp_path), "cifar100", "L2")]
    assert model.num_classes == 100
    assert not model.net.training
    assert model.is_pretrained
    x = torch.rand(2, 3, 8, 8)
    assert torch.equal(model(x), model.net(x))  # [0, 1] inputs reach the net unchanged (it normalises itself)


def test_robustbench_bad_choices():
    with pytest.raises(ValueError, match="dataset must be one of"):
        robustbench_backbone.RobustBenchClassifier("X", dataset="mnist")  # type: ignore[arg-type]
