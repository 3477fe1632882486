"""Any timm classification model by name (pretrained weights from the Hugging Face hub or a local file)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lowfreq.backbones.base import Backbone, Normalize
from lowfreq.core.download import probe
from lowfreq.core.optional import require

__all__ = ["TimmClassifier"]


def _import_timm() -> Any:
    return require("timm", extra="timm", purpose="TimmClassifier")


_HF = "https://huggingface.co"
_HF_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


def _cached_weights(repo: str) -> str | None:
    from huggingface_hub import try_to_load_from_cache

    for filename in _HF_WEIGHTS:
        cached = try_to_load_from_cache(repo, filename)
        if isinstance(cached, str):
            return cached
    return None


def _weights_source(timm: Any, name: str, pretrained: bool) -> str | None:
    """The cached weights file of ``name`` (loaded instead of asking the hub), or None to let timm download.

    Offline (and without ``HF_HUB_OFFLINE=1``, which makes the hub read its cache at once), a name that needs the
    hub fails in seconds with what to put where, instead of timm's half a minute of hub retries.
    """
    hub_model = name.startswith("hf-hub:")
    if not (pretrained or hub_model):
        return None
    cfg = None if hub_model else timm.models.get_pretrained_cfg(name)
    repo = name.removeprefix("hf-hub:").split("@")[0] if hub_model else getattr(cfg, "hf_hub_id", None)
    if not repo:
        return None  # weights from a plain URL: timm's torch.hub download reports its own error
    cached = None if hub_model else _cached_weights(repo)
    if cached is not None or os.environ.get("HF_HUB_OFFLINE"):
        return cached
    reason = probe(f"{_HF}/{repo}")
    if reason is not None:
        raise RuntimeError(
            f"cannot download {name} from {_HF}/{repo} ({reason}). Offline, download its weights file "
            f"({' or '.join(_HF_WEIGHTS)}) on a machine with internet access (or run `lowfreq download weights "
            f"timm:{name}` there and copy the Hugging Face cache, then set HF_HUB_OFFLINE=1) and pass "
            "checkpoint_path=/path/to/that/file with the architecture's timm name and pretrained=false"
        ) from None
    return None


class TimmClassifier(Backbone):
    """A ``timm`` model with the normalisation of its pretrained config inside.

    Args:
        name: any name ``timm.create_model`` accepts, e.g. "resnet50.a1_in1k", "convnext_base.fb_in22k_ft_in1k"
            (``timm.list_models()``), "hf-hub:timm/vit_base_patch16_224.augreg_in21k" (config and weights from the
            Hugging Face hub) or "local-dir:/path" (a downloaded hub folder).
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
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a timm model name (str), got {name!r}")
        if checkpoint_path is not None and not Path(checkpoint_path).is_file():
            raise FileNotFoundError(f"checkpoint_path must be an existing weights file, got {checkpoint_path!r}")
        download = pretrained and checkpoint_path is None
        cached = _weights_source(timm, name, download)
        kwargs: dict[str, Any] = {} if num_classes is None else {"num_classes": num_classes}
        if cached is not None:  # timm's pretrained loading (head adaptation included) from the cached file
            kwargs["pretrained_cfg_overlay"] = {"file": cached}
        try:  # timm decides which names exist (also hf-hub:org/repo and local-dir:/path models)
            net = timm.create_model(name, pretrained=download, checkpoint_path=checkpoint_path or "", **kwargs)
        except RuntimeError as err:
            if "Unknown model" not in str(err):
                raise
            raise ValueError(
                f"name must be a timm model such as {timm.list_models('resnet*')[:5]}... (timm.list_models(), "
                f"'hf-hub:org/repo' or 'local-dir:/path'), got {name!r}"
            ) from None
        except OSError as err:
            raise RuntimeError(
                f"could not download the pretrained weights of {name} ({err}); when offline, pass "
                "checkpoint_path=<local weights file> (or set HF_HUB_OFFLINE=1 with a filled Hugging Face cache)"
            ) from err
        config = net.pretrained_cfg
        self.net, self.name, self.num_classes = net, name, net.num_classes
        loaded = download or checkpoint_path is not None
        self.is_pretrained = loaded and num_classes in (None, config.get("num_classes"))  # else a fresh head
        self.normalize = Normalize(config.get("mean", (0.485, 0.456, 0.406)), config.get("std", (0.229, 0.224, 0.225)))
