"""The models of ``lowfreq profile``: ``source:name`` specs and lowfreq checkpoints -> ready backbones.

A spec names a model the way ``lowfreq download weights`` does, so a model fetched there profiles offline:

* ``torchvision:<model>[.<weights>]``: [`TorchvisionClassifier`][lowfreq.backbones.torchvision.TorchvisionClassifier]
  (weights default "DEFAULT"; e.g. torchvision:resnet50, torchvision:resnet50.IMAGENET1K_V1);
* ``timm:<name>``: [`TimmClassifier`][lowfreq.backbones.timm.TimmClassifier], pretrained (e.g. timm:resnet18.a1_in1k);
* ``openclip:<architecture>[/<tag>]``: [`OpenCLIPZeroShot`][lowfreq.backbones.openclip.OpenCLIPZeroShot], the 16-way
  zero-shot head (e.g. openclip:ViT-B-32/laion2b_s34b_b79k; no tag with random weights);
* ``robustbench:<dataset>/<threat>/<model>``:
  [`RobustBenchClassifier`][lowfreq.backbones.robustbench.RobustBenchClassifier] (its own weights only);
* ``lowfreq:<Backbone>[/<arg>=<value>,...]``: a backbone of ``lowfreq.backbones`` with random weights (e.g.
  lowfreq:CIFARResNet18/width=8, lowfreq:SimpleCNN/widths=[16,32]), at 32 px;
* ``path/to/file.ckpt``: a lowfreq checkpoint (``FrontEndClassifier.load_from_checkpoint``), at the image size it
  recorded.

With ``random_weights`` (or when the weights cannot be had, e.g. offline without a cached copy) the architecture is
built with random weights instead, and the model says so (``weights == "random"`` and ``note``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import yaml
from torch import nn

from lowfreq.backbones.base import Backbone
from lowfreq.core.io import to_jsonable
from lowfreq.core.spec import module_spec

__all__ = ["SOURCES", "ProfiledModel", "build_model"]

log = logging.getLogger(__name__)

SOURCES = ("torchvision", "timm", "openclip", "robustbench", "lowfreq")
"""The ``source:`` prefixes of a model spec (a path to a ``.ckpt`` file needs none)."""

_EXAMPLES = ("torchvision:resnet50", "timm:resnet18.a1_in1k", "openclip:ViT-B-32/laion2b_s34b_b79k",
             "robustbench:cifar10/Linf/Carmon2019Unlabeled", "lowfreq:SimpleCNN", "run/checkpoints/last.ckpt")
_ALLOWED = f"<source>:<name> with source one of {list(SOURCES)} (e.g. {', '.join(_EXAMPLES[:5])}) or a .ckpt file"

Weights = Literal["pretrained", "random", "checkpoint"]


@dataclass
class ProfiledModel:
    """A model ready for the profile: [0, 1] images in, logits out.

    Attributes:
        spec: the spec as given on the command line.
        module: the model (eval mode, on the CPU).
        weights: "pretrained", "random" or "checkpoint".
        image_size: the side of the square images it takes (its weights' input size; 32 for CIFAR-size models).
        num_classes: number of logits.
        config: the run's ``config.yaml`` (``model`` as ``{class_path, init_args}``), for compare and the report.
        class_names: the classes of its training data where a checkpoint records them, else None.
        note: why the weights are random when they were asked for ("" otherwise).
    """

    spec: str
    module: nn.Module
    weights: Weights
    image_size: int
    num_classes: int
    config: dict[str, Any]
    class_names: list[str] | None = None
    note: str = ""
    label: str = field(default="")

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.spec if self.weights != "random" else f"{self.spec} (random weights)"


def _model_config(backbone: nn.Module) -> dict[str, Any]:
    spec = module_spec(backbone)
    return {"model": {"class_path": "lowfreq.training.FrontEndClassifier",
                      "init_args": {"frontend": {"class_path": "lowfreq.frontends.Identity"}, "backbone": spec}}}


def _unavailable(err: RuntimeError) -> bool:
    """The backbones' fast offline failures (their messages say the weights cannot be downloaded)."""
    text = str(err)
    return "download" in text and ("cannot" in text or "could not" in text)


def _first_sentence(text: str) -> str:
    line = " ".join(text.split())
    return line.split(". ")[0].rstrip(".")


def _torchvision(name: str, random_weights: bool) -> tuple[Backbone, int]:
    import torchvision

    from lowfreq.backbones.torchvision import TorchvisionClassifier

    model, _, tag = name.partition(".")
    backbone = TorchvisionClassifier(model, weights=None if random_weights else (tag or "DEFAULT"))
    size = 224
    try:
        enum = torchvision.models.get_model_weights(model)
        weights = enum.DEFAULT if not tag or tag == "DEFAULT" else enum[tag]
        size = int(weights.transforms().crop_size[0])
    except (KeyError, ValueError, AttributeError, IndexError):  # no weights enum / transforms: ImageNet's 224
        pass
    return backbone, size


def _timm(name: str, random_weights: bool) -> tuple[Backbone, int]:
    from lowfreq.backbones.timm import TimmClassifier

    backbone = TimmClassifier(name, pretrained=not random_weights)
    config: dict[str, Any] = getattr(backbone.net, "pretrained_cfg", {})
    input_size = config.get("input_size", (3, 224, 224))
    return backbone, int(input_size[-1])


def _openclip(name: str, random_weights: bool) -> tuple[Backbone, int]:
    from lowfreq.backbones.openclip import OpenCLIPZeroShot

    architecture, _, tag = name.partition("/")
    if not tag and not random_weights:
        raise ValueError(f"MODEL openclip:{name} needs a pretrained tag, openclip:<architecture>/<tag> (e.g. "
                         "openclip:ViT-B-32/laion2b_s34b_b79k), or --random-weights")
    backbone = OpenCLIPZeroShot(architecture, pretrained=None if random_weights else tag)
    return backbone, int(backbone.image_size[0])


def _robustbench(name: str, random_weights: bool) -> tuple[Backbone, int]:
    from lowfreq.backbones.robustbench import RobustBenchClassifier

    parts = name.split("/")
    if len(parts) != 3:
        raise ValueError(f"MODEL must be robustbench:<dataset>/<threat_model>/<model> (e.g. "
                         f"robustbench:cifar10/Linf/Carmon2019Unlabeled), got robustbench:{name}")
    if random_weights:
        raise ValueError(f"MODEL robustbench:{name} has no random-weight variant (RobustBench builds its models "
                         "with their weights); leave out --random-weights or profile another model")
    dataset, threat, model = parts
    backbone = RobustBenchClassifier(model, dataset, threat)  # type: ignore[arg-type]  # checked inside
    return backbone, 224 if dataset == "imagenet" else 32


def _split_arguments(text: str) -> list[str]:
    """``"width=8,widths=[4, 8]"`` -> ``["width=8", "widths=[4, 8]"]`` (commas inside brackets kept)."""
    items, depth, current = [], 0, ""
    for char in text:
        depth += (char in "[(") - (char in "])")
        if char == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += char
    return [*items, current]


def _lowfreq(name: str) -> tuple[Backbone, int]:
    import lowfreq.backbones as backbones

    cls_name, _, arg_text = name.partition("/")
    available = [n for n in backbones.__all__ if isinstance(getattr(backbones, n), type)
                 and issubclass(getattr(backbones, n), Backbone) and getattr(backbones, n) is not Backbone]
    cls = getattr(backbones, cls_name, None)
    if cls_name not in available or cls is None:
        raise ValueError(f"MODEL must be lowfreq:<Backbone>[/<arg>=<value>,...] with a backbone of "
                         f"{available}, got lowfreq:{name}")
    kwargs: dict[str, Any] = {}
    for item in filter(None, _split_arguments(arg_text)):
        key, eq, value = item.partition("=")
        if not eq or not key.isidentifier():
            raise ValueError(f"MODEL lowfreq:{name}: arguments must be <arg>=<value> separated by commas (e.g. "
                             f"lowfreq:CIFARResNet18/width=8), got {item!r}")
        kwargs[key] = yaml.safe_load(value)
    try:
        backbone = cls(**kwargs)
    except TypeError as err:
        raise ValueError(f"MODEL lowfreq:{name}: {err}") from None
    return backbone, 32  # lowfreq's backbones are the CIFAR-size models of the papers


_BUILDERS = {"torchvision": _torchvision, "timm": _timm, "openclip": _openclip, "robustbench": _robustbench}


def _checkpoint(spec: str) -> ProfiledModel:
    from lowfreq.training.checkpoints import DATA_KEY, read_checkpoint
    from lowfreq.training.classifier import FrontEndClassifier

    state = read_checkpoint("MODEL", Path(spec))
    if "state_dict" not in state or "hyper_parameters" not in state:
        raise ValueError(f"MODEL {spec!r} must be a lowfreq checkpoint (a Lightning .ckpt of FrontEndClassifier, "
                         "with state_dict and hyper_parameters); for a plain weights file use its source's spec")
    module = FrontEndClassifier.load_from_checkpoint(spec, map_location="cpu").eval()
    recorded = state.get(DATA_KEY) or {}
    shape = recorded.get("image_shape")
    num_classes = int(module.num_classes)
    size = int(shape[-1]) if shape else (224 if num_classes == 1000 else 32)
    names = recorded.get("class_names")
    config = {"model": {"class_path": "lowfreq.training.FrontEndClassifier",
                        "init_args": to_jsonable(dict(module.hparams))}, "ckpt_path": spec}
    return ProfiledModel(spec, module, "checkpoint", size, num_classes, config,
                         class_names=[str(n) for n in names] if names else None)


def build_model(spec: str, *, random_weights: bool = False, seed: int = 0) -> ProfiledModel:
    """Build the model ``spec`` names (see the module's table), pretrained unless ``random_weights``.

    When the weights cannot be had (the backbones fail fast offline), the architecture is built with random weights
    and the result's ``note`` says why. Random weights are drawn from ``torch.manual_seed(seed)`` in a forked
    generator: the same seed gives the same model, and the global random state is left alone.

    Raises:
        ValueError: ``spec`` is no model spec, or names no model of its source (naming MODEL and what is allowed).
    """
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"MODEL must be {_ALLOWED}, got {spec!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _build(spec, random_weights)


def _build(spec: str, random_weights: bool) -> ProfiledModel:
    if spec.endswith(".ckpt") or Path(spec).is_file():
        if not Path(spec).is_file():
            raise FileNotFoundError(f"MODEL {spec!r} looks like a checkpoint path, but no such file exists")
        return _checkpoint(spec)
    source, sep, name = spec.partition(":")
    if not sep or source not in SOURCES or not name:
        raise ValueError(f"MODEL must be {_ALLOWED}, got {spec!r}")
    if source == "lowfreq":
        backbone, size = _lowfreq(name)
        note = "" if random_weights else "lowfreq's backbones come without pretrained weights"
        return ProfiledModel(spec, backbone.eval(), "random", size, backbone.num_classes, _model_config(backbone),
                             note=note)
    build = _BUILDERS[source]
    note = ""
    try:
        backbone, size = build(name, random_weights)
    except ValueError as err:
        message = str(err)
        raise ValueError(message if message.startswith("MODEL") else f"MODEL {spec}: {message}") from None
    except RuntimeError as err:
        if random_weights or source == "robustbench" or not _unavailable(err):
            raise
        note = f"its weights cannot be had ({_first_sentence(str(err))})"
        log.info("%s: %s; random weights instead", spec, note)
        backbone, size = build(name, True)
    weights: Weights = "random" if random_weights or note else "pretrained"
    return ProfiledModel(spec, backbone.eval(), weights, size, backbone.num_classes, _model_config(backbone),
                         note=note)
