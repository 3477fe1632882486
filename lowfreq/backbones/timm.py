"""Any timm classification model by name (pretrained weights from the Hugging Face hub or a local file)."""

from __future__ import annotations

from pathlib import Path

from lowfreq.backbones.base import Backbone, Normalize

__all__ = ["TimmClassifier"]


def _import_timm():
    try:
        import timm
    except ImportError as err:  # pragma: no cover - timm ships with the dev and clip extras
        raise ImportError("TimmClassifier needs timm: pip install timm") from err
    return timm


class TimmClassifier(Backbone):
    """A ``timm`` model with the normalisation of its pretrained config inside.

    Args:
        name: timm model name, e.g. "resnet50.a1_in1k", "convnext_base.fb_in22k_ft_in1k" (``timm.list_models()``).
        pretrained: download the pretrained weights (Hugging Face hub; needs the network).
        checkpoint_path: a local weights file for the same architecture, used instead of downloading.
        num_classes: a fresh classification head of this size; None keeps the model's own (1000 for ImageNet).
    """

    def __init__(
        self,
        name: str = "resnet50",
        pretrained: bool = False,
        checkpoint_path: str | None = None,
        num_classes: int | None = None,
    ) -> None:
        super().__init__()
        timm = _import_timm()
        if not timm.is_model(name.split(".")[0]):
            raise ValueError(f"name must be a timm model such as {timm.list_models('resnet*')[:5]}..., got {name!r}")
        if checkpoint_path is not None and not Path(checkpoint_path).is_file():
            raise FileNotFoundError(f"checkpoint_path must be an existing weights file, got {checkpoint_path!r}")
        kwargs = {} if num_classes is None else {"num_classes": num_classes}
        try:
            net = timm.create_model(name, pretrained=pretrained and checkpoint_path is None,
                                    checkpoint_path=checkpoint_path or "", **kwargs)
        except OSError as err:
            raise RuntimeError(
                f"could not download the pretrained weights of {name} ({err}); when offline, pass "
                "checkpoint_path=<local weights file> (or set HF_HUB_OFFLINE=1 with a filled Hugging Face cache)"
            ) from err
        config = net.pretrained_cfg
        self.net, self.name, self.num_classes = net, name, net.num_classes
        self.normalize = Normalize(config.get("mean", (0.485, 0.456, 0.406)), config.get("std", (0.229, 0.224, 0.225)))
