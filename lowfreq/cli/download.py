"""``lowfreq download cifar10|cifar10c|imagenetc|mvh|weights NAME``: what the recipes need, where they look.

========================================  ==============================================  ===========================
command                                   where the files go (the recipes' defaults)      checked with
========================================  ==============================================  ===========================
``lowfreq download cifar10``              ``data/cifar10/cifar-10-batches-py/``           torchvision's md5
``lowfreq download cifar10c``             ``data/CIFAR-10-C/`` (15 x 5 corruptions, 2.9 GB)  md5 of the archive
``lowfreq download imagenetc``            ``data/ImageNet-C/<corruption>/<severity>/``    image count per folder
``lowfreq download mvh``                  ``data/model-vs-human/{datasets,raw-data}/``    SHA-256 (CSVs), image count
``lowfreq download weights torchvision:resnet50.IMAGENET1K_V1``  ``$TORCH_HOME/hub/checkpoints/``  hash in the name
``lowfreq download weights timm:NAME``    the Hugging Face cache (timm's own download)    the hub's
``lowfreq download weights openclip:ARCH/TAG``  the Hugging Face cache (open_clip's download)  the hub's
``lowfreq download weights robustbench:DATASET/THREAT/MODEL``  ``models/DATASET/THREAT/MODEL.pt``  robustbench's
========================================  ==============================================  ===========================

Every target is where the backbone or DataModule looks by default, so after the download the recipe runs as is
(also offline). Without network access each command fails within seconds, saying which file to put where. The
command line is built by jsonargparse from the signatures and docstrings below (``lowfreq download --help``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from jsonargparse import auto_cli

from lowfreq.core.download import download_file, probe
from lowfreq.core.optional import require

__all__ = ["cifar10", "cifar10c", "download_main", "imagenetc", "mvh", "weights"]

_SOURCES = ("torchvision", "timm", "openclip", "robustbench")


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")


def cifar10(data_dir: str = "data/cifar10") -> str:
    """Download CIFAR-10 (torchvision's archive, md5-checked) and unpack it where the CIFAR-10 recipes read it.

    Args:
        data_dir: the DataModule's ``data_dir`` (the recipes use data/cifar10).

    Returns:
        The folder holding ``cifar-10-batches-py/``.
    """
    from lowfreq.data.cifar import CIFAR10DataModule

    CIFAR10DataModule(data_dir=data_dir, download=True).prepare_data()
    _say(f"CIFAR-10 in {Path(data_dir) / 'cifar-10-batches-py'}")
    return data_dir


def cifar10c(data_dir: str = "data") -> str:
    """Download CIFAR-10-C (Zenodo's archive, md5-checked) and unpack it into ``data/CIFAR-10-C``.

    That is where the CIFAR recipes' ``CorruptionAnalysis`` reads it.

    Args:
        data_dir: folder that receives ``CIFAR-10-C/`` (the recipes' ``CorruptionAnalysis`` reads data/CIFAR-10-C).

    Returns:
        The folder holding the ``.npy`` files.
    """
    from lowfreq.data.corruptions import download_cifar10_c

    where = download_cifar10_c(data_dir)
    _say(f"CIFAR-10-C in {where}")
    return str(where)


def imagenetc(data_dir: str = "data/ImageNet-C", corruptions: list[str] | None = None) -> str:
    """Download ImageNet-C (Zenodo's blur/digital/noise/weather archives, tens of GB) and unpack it.

    No checksums are published for these archives: every ``<corruption>/<severity>/`` folder must hold the
    50,000 validation images instead. Point ``CorruptionAnalysis(data_dir=...)`` at the folder.

    Args:
        data_dir: the ImageNet-C root (receives ``<corruption>/<severity>/<wnid>/*.JPEG``).
        corruptions: corruption names (default all 15; only the archives holding them are fetched).

    Returns:
        The ImageNet-C root.
    """
    from lowfreq.data.corruptions import download_imagenet_c

    where = download_imagenet_c(data_dir, corruptions)
    _say(f"ImageNet-C in {where}")
    return str(where)


def mvh(
    data_dir: str = "data/model-vs-human",
    datasets: list[str] | None = None,
    images: bool = True,
    raw_data: bool = True,
) -> str:
    """Download model-vs-human: the stimulus archives and the human raw-data CSVs (SHA-256-checked).

    Args:
        data_dir: the model-vs-human directory of the recipes (data/model-vs-human), laid out as
            ``datasets/<name>/`` and ``raw-data/<name>/`` (docs/alignment.md).
        datasets: which of the 17 datasets; default all (what recipes/clip_alignment.yaml evaluates).
        images: download the stimulus archives (about 1.5 GB for all 17).
        raw_data: download the human CSVs.

    Returns:
        ``data_dir``.
    """
    from lowfreq.mvh.download import download_datasets, download_raw_data
    from lowfreq.mvh.raw_data import BENCHMARK_DATASETS

    names = list(BENCHMARK_DATASETS if datasets is None else datasets)
    if images:
        for folder in download_datasets(data_dir, names):
            _say(f"images: {folder}")
    if raw_data:
        paths = download_raw_data(data_dir, names)
        _say(f"human raw data: {len(paths)} CSVs in {Path(data_dir) / 'raw-data'}")
    return data_dir


def _torchvision(spec: str) -> Path:
    import torch
    import torchvision

    name, _, tag = spec.partition(".")
    available = torchvision.models.list_models(module=torchvision.models)
    if name not in available:
        raise ValueError(f"NAME must be torchvision:<model>[.<weights>] with a model such as {available[:6]}, "
                         f"got torchvision:{spec}")
    enum = torchvision.models.get_model_weights(name)
    tags = [w.name for w in enum]
    if tag and tag not in (*tags, "DEFAULT"):
        raise ValueError(f"weights of {name} must be one of {[*tags, 'DEFAULT']}, got {tag!r}")
    weights = enum.DEFAULT if tag in ("", "DEFAULT") else enum[tag]
    filename = Path(weights.url).name
    digest = re.search(r"-([a-f0-9]+)\.", filename)  # torchvision's file names carry a SHA-256 prefix
    dest = Path(torch.hub.get_dir()) / "checkpoints" / filename  # where TorchvisionClassifier(weights=...) looks
    if dest.is_file():
        return dest
    return download_file(weights.url, dest, sha256=digest.group(1) if digest else None, progress=True,
                         hint="or pass weights_path=<that file> to TorchvisionClassifier")


def _need_network(url: str, what: str, fix: str) -> None:
    reason = probe(url)
    if reason is not None:
        raise RuntimeError(f"cannot download {what} from {url} ({reason}). Offline, {fix}")


def _timm(name: str) -> str:
    timm = require("timm", extra="timm", purpose="`lowfreq download weights timm:...`")

    _need_network("https://huggingface.co", f"the timm weights {name}",
                  "download the weights file elsewhere and pass checkpoint_path=<file> to TimmClassifier")
    timm.create_model(name, pretrained=True)  # timm's own download, into the cache it reads
    cfg = timm.models.get_pretrained_cfg(name)
    return f"the Hugging Face / torch hub cache (timm {getattr(cfg, 'hf_hub_id', None) or name})"


def _openclip(spec: str) -> str:
    open_clip = require(
        "open_clip", extra="clip", purpose="`lowfreq download weights openclip:...`", package="open_clip_torch"
    )
    model_name, _, tag = spec.partition("/")
    if model_name not in open_clip.list_models() or not tag:
        raise ValueError(f"NAME must be openclip:<architecture>/<tag>, e.g. openclip:ViT-H-14/laion2b_s32b_b79k, "
                         f"got openclip:{spec}")
    cfg = open_clip.get_pretrained_cfg(model_name, tag)
    if not cfg:
        tags = open_clip.list_pretrained_tags_by_model(model_name)
        raise ValueError(f"tag of {model_name} must be one of {tags}, got {tag!r}")
    _need_network("https://huggingface.co", f"the open_clip weights {spec}",
                  "download the weights file elsewhere and pass checkpoint_path=<file> to OpenCLIPZeroShot")
    return str(open_clip.download_pretrained(cfg))


def _robustbench(spec: str, model_dir: str) -> str:
    from lowfreq.backbones.robustbench import RobustBenchClassifier

    parts = spec.split("/")
    if len(parts) != 3:
        raise ValueError(f"NAME must be robustbench:<dataset>/<threat_model>/<model>, e.g. "
                         f"robustbench:cifar10/Linf/Carmon2019Unlabeled, got robustbench:{spec}")
    dataset, threat, model_name = parts
    RobustBenchClassifier(model_name, dataset, threat, model_dir)  # type: ignore[arg-type]  # checked inside
    return str(Path(model_dir) / dataset / threat / f"{model_name}.pt")


def weights(name: str, model_dir: str = "models") -> str:
    """Download pretrained weights into the cache the backbone reads (so the recipe then runs offline too).

    Args:
        name: ``torchvision:<model>[.<weights>]`` (e.g. torchvision:resnet50.IMAGENET1K_V1, into the torch hub
            cache), ``timm:<name>`` (e.g. timm:resnet50.a1_in1k), ``openclip:<architecture>/<tag>`` (e.g.
            openclip:ViT-H-14/laion2b_s32b_b79k, both into the Hugging Face cache) or
            ``robustbench:<dataset>/<threat_model>/<model>`` (e.g. robustbench:cifar10/Linf/Carmon2019Unlabeled).
        model_dir: RobustBench's model folder (RobustBenchClassifier's ``model_dir``).

    Returns:
        Where the weights are.
    """
    source, sep, spec = name.partition(":")
    if not sep or source not in _SOURCES or not spec:
        raise ValueError(f"name must be <source>:<model> with source one of {list(_SOURCES)}, got {name!r}")
    if source == "torchvision":
        where = str(_torchvision(spec))
    elif source == "timm":
        where = _timm(spec)
    elif source == "openclip":
        where = _openclip(spec)
    else:
        where = _robustbench(spec, model_dir)
    _say(f"{name}: {where}")
    return where


def download_main(args: list[str] | None = None) -> None:
    """Run ``lowfreq download <what> ...`` on ``args`` (default ``sys.argv[2:]``)."""
    argv = sys.argv[2:] if args is None else list(args)
    auto_cli(
        {"cifar10": cifar10, "cifar10c": cifar10c, "imagenetc": imagenetc, "mvh": mvh, "weights": weights},
        args=argv,
        prog="lowfreq download",
        description="Fetch what the recipes need into the paths they read, with checksums; fails fast offline.",
    )
