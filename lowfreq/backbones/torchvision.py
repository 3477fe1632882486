"""Any torchvision classification model by name, with optional pretrained weights (online or local file)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import cast

import torch
from torch import nn

from lowfreq.backbones.base import IMAGENET_MEAN, IMAGENET_STD, Backbone, Normalize
from lowfreq.core.download import probe

__all__ = ["TorchvisionClassifier"]

log = logging.getLogger(__name__)


def _replace_head(net: nn.Module, num_classes: int) -> None:
    """Swap the last Linear layer for a fresh one with ``num_classes`` outputs."""
    for parent in reversed(list(net.modules())):
        for name, child in parent.named_children():
            if isinstance(child, nn.Linear):
                setattr(parent, name, nn.Linear(child.in_features, num_classes))
                return
    raise ValueError(f"cannot find a Linear classification head in {type(net).__name__} to set num_classes")


class TorchvisionClassifier(Backbone):
    """A torchvision classification model (``torchvision.models.get_model``) with its normalisation inside.

    Args:
        name: model name, e.g. "resnet50", "resnet18", "vit_b_16" (``torchvision.models.list_models()``).
        weights: torchvision weights tag, e.g. "IMAGENET1K_V1" or "DEFAULT"; downloaded into the torch hub
            cache when online. None = random initialisation.
        weights_path: a local state-dict file for the same architecture (e.g. the downloaded
            ``resnet50-0676ba61.pth``), loaded instead of downloading; ``weights`` then only names the
            normalisation statistics (offline runs keep the recipe's tag and add this path).
        num_classes: replace the classification head with a fresh one of this size (fine-tuning on another
            label set); None keeps the model's own (1000 for ImageNet).
        mean: per-channel normalisation mean; None takes it from the weights' transforms (ImageNet statistics
            otherwise).
        std: per-channel normalisation standard deviation; None as for ``mean``.
    """

    def __init__(
        self,
        name: str = "resnet50",
        weights: str | None = None,
        weights_path: str | None = None,
        num_classes: int | None = None,
        mean: tuple[float, float, float] | None = None,
        std: tuple[float, float, float] | None = None,
    ) -> None:
        super().__init__()
        import torchvision

        available = torchvision.models.list_models(module=torchvision.models)
        if name not in available:
            examples = available[:8]
            raise ValueError(f"name must be a torchvision classification model such as {examples}..., got {name!r}")
        transforms_mean, transforms_std = IMAGENET_MEAN, IMAGENET_STD
        resolved = None
        if weights is not None:
            weight_enum = torchvision.models.get_model_weights(name)
            try:
                resolved = weight_enum[weights] if weights != "DEFAULT" else weight_enum.DEFAULT
            except KeyError:
                raise ValueError(
                    f"weights must be one of {[w.name for w in weight_enum] + ['DEFAULT']} for {name}, got {weights!r}"
                ) from None
            preset = resolved.transforms()
            transforms_mean, transforms_std = tuple(preset.mean), tuple(preset.std)
        if weights_path is not None:
            path = Path(weights_path)
            if not path.is_file():
                raise FileNotFoundError(f"weights_path must be an existing state-dict file, got {weights_path!r}")
            net = torchvision.models.get_model(name, weights=None)
            net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        elif resolved is not None:
            net = self._download(name, resolved)
        else:
            net = torchvision.models.get_model(name, weights=None)
        if num_classes is not None:
            _replace_head(net, num_classes)
        self.net = net
        self.name = name
        self.num_classes = num_classes if num_classes is not None else _output_size(net)
        self.is_pretrained = (weights_path is not None or resolved is not None) and num_classes is None  # fresh head
        self.normalize = Normalize(mean or transforms_mean, std or transforms_std)

    @staticmethod
    def _download(name: str, weights: object) -> nn.Module:
        import torchvision

        url = getattr(weights, "url", "")
        hub = Path(torch.hub.get_dir()) / "checkpoints"
        advice = (f"When offline, put the file {Path(url).name} into {hub} (`lowfreq download weights "
                  f"torchvision:{name}.{getattr(weights, 'name', 'DEFAULT')}` does that where online), or pass "
                  "weights_path=<local .pth file>.")
        if url and not (hub / Path(url).name).is_file():  # not cached: a quick probe instead of a hanging download
            reason = probe(url)
            if reason is not None:
                raise RuntimeError(f"could not download the {weights} weights for {name} ({reason}). {advice}")
        try:
            return cast("nn.Module", torchvision.models.get_model(name, weights=weights))
        except (OSError, RuntimeError) as err:  # URLError is an OSError
            raise RuntimeError(f"could not download the {weights} weights for {name} ({err}). {advice}") from err


def _output_size(net: nn.Module) -> int:
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"cannot infer num_classes of {type(net).__name__}; pass num_classes")
    return linears[-1].out_features
