"""OpenCLIP zero-shot classifiers for the model-vs-human classes (paper 000), as a lowfreq Backbone."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lowfreq.backbones.base import Backbone, Normalize
from lowfreq.core.download import probe
from lowfreq.core.optional import require
from lowfreq.mvh.labels import CLASSES_16, imagenet_to_16

__all__ = ["OpenCLIPZeroShot"]

log = logging.getLogger(__name__)

Head = Literal["16way", "1000to16"]
Templates = Literal["openai", "simple"]


def _none_if_null(value: str | None) -> str | None:
    """Jsonargparse (4.53) turns a nested command-line override ``...init_args.pretrained=null`` into "None"."""
    return None if value is None or value.strip() in ("", "None", "none", "null") else value


def _import_open_clip() -> Any:
    return require("open_clip", extra="clip", purpose="OpenCLIPZeroShot", package="open_clip_torch")


_HF = "https://huggingface.co"
_PREPROCESS_KEYS = ("mean", "std", "interpolation", "resize_mode")


def _offline_error(what: str, reason: str, fix: str) -> RuntimeError:
    return RuntimeError(f"cannot download {what} ({reason}). Offline, {fix}")


def _pretrained_source(
    open_clip: Any, model_name: str, tag: str, cache_dir: str | None
) -> tuple[str, dict[str, Any]]:
    """What to pass to open_clip as ``pretrained`` for the tag ``tag`` of ``model_name``, and the tag's preprocessing.

    The cached weights file when there is one (open_clip then never touches the network); otherwise ``tag`` itself,
    after a probe of the server, so that offline the constructor fails in seconds with what to put where instead
    of open_clip's and the Hugging Face hub's minute of retries.
    """
    cfg = open_clip.get_pretrained_cfg(model_name, tag)
    if not cfg:
        tags = open_clip.list_pretrained_tags_by_model(model_name)
        raise ValueError(f"pretrained must be an open_clip tag of {model_name}, one of {tags} (or None), got {tag!r}")
    preprocess = {k: cfg[k] for k in _PREPROCESS_KEYS if k in cfg}
    hub = cfg.get("hf_hub", "")
    if hub:
        from huggingface_hub import try_to_load_from_cache

        repo_id, filename = os.path.split(hub)  # "org/repo/" (default file names) or "org/repo/file.bin"
        names = [filename] if filename else ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
        for name in names:
            cached = try_to_load_from_cache(repo_id, name, cache_dir=cache_dir)
            if isinstance(cached, str):
                return cached, preprocess
        url, source = f"{_HF}/{repo_id}", f"{names[-1]} from {_HF}/{repo_id}"
    else:
        url, source = cfg["url"], cfg["url"]
        local = Path(cache_dir or "~/.cache/clip").expanduser() / Path(url).name
        if local.is_file():
            return str(local), preprocess
    reason = probe(url)
    if reason is not None:
        raise _offline_error(
            f"the open_clip weights {model_name}/{tag}",
            reason,
            f"download {source} on a machine with internet access (or run `lowfreq download weights "
            f"openclip:{model_name}/{tag}` there and copy the Hugging Face cache), then pass "
            "checkpoint_path=/path/to/that/file and pretrained=null "
            "(--model.init_args.backbone.init_args.checkpoint_path=... "
            "--model.init_args.backbone.init_args.pretrained=null)",
        ) from None
    return tag, preprocess


def _check_hub_model(model_name: str) -> None:
    """``hf-hub:org/repo`` models download their config and weights: fail fast offline."""
    if not model_name.startswith("hf-hub:"):
        return
    repo_id = model_name.removeprefix("hf-hub:")
    reason = probe(f"{_HF}/{repo_id}")
    if reason is not None:
        raise _offline_error(
            f"the open_clip model {model_name}",
            reason,
            f"download the repository {_HF}/{repo_id} (open_clip_config.json and the weights) on a machine with "
            "internet access and pass model_name=local-dir:/path/to/that/folder",
        ) from None


class OpenCLIPZeroShot(Backbone):
    """An OpenCLIP image tower with a zero-shot text head: [0, 1] images -> (B, 16) logits.

    The head is built as in open_clip's ``build_zero_shot_classifier``: every class name is put into each prompt
    template, the text embeddings are L2-normalised, averaged over templates and normalised again; the logits are
    ``100 * cos(image embedding, class embedding)``.

    * ``head="16way"`` (paper 000): the 16 model-vs-human class names, logits (B, 16) = ``100 * cos``.
    * ``head="1000to16"`` (model-vs-human's own CLIP wrapper): a 1000-way head on open_clip's ImageNet class names,
      then model-vs-human's mapping to 16 classes: ``log(mean_{i in S_k} softmax(100 * cos)_i)`` (B, 16). These
      are log mean-probabilities, not normalised log-probabilities, but argmax/softmax keep their meaning.

    Normalisation (mean/std) comes from the model's preprocess config (``open_clip.get_model_preprocess_cfg``).
    Images whose size differs from the model's are resized as CLIP's preprocessing does (bicubic, shortest side,
    antialiased, clamped to [0, 1]) and centre-cropped; 224 x 224 model-vs-human images reach a 224 model unchanged.

    The text head is built lazily, on the device of the first input (the text tower is then dropped), or eagerly
    with [`build_classifier`][lowfreq.backbones.openclip.OpenCLIPZeroShot.build_classifier]; it is a non-persistent
    buffer, rebuilt from the constructor arguments.

    Args:
        model_name: open_clip architecture, e.g. "ViT-H-14" (``open_clip.list_models()``), or an
            "hf-hub:org/repo" / "local-dir:/path" model (config and weights from there; ``pretrained`` ignored).
        pretrained: open_clip pretrained tag, e.g. "laion2b_s32b_b79k" (downloaded into the Hugging Face cache
            when online); None = random weights (tests).
        checkpoint_path: local open_clip checkpoint file for ``model_name``, instead of ``pretrained``.
        class_names: names put into the prompts; default the 16 model-vs-human classes (only for "16way").
        head: "16way" or "1000to16" (see above).
        templates: prompt ensemble: "openai" (the 80 templates, open_clip's ``OPENAI_IMAGENET_TEMPLATES``) or
            "simple" (open_clip's ``SIMPLE_IMAGENET_TEMPLATES``).
        cache_dir: download cache for ``pretrained``; None uses open_clip's default.
    """

    classifier: Tensor  # (D, K) zero-shot head, a non-persistent buffer

    def __init__(
        self,
        model_name: str = "ViT-B-32",
        pretrained: str | None = None,
        checkpoint_path: str | None = None,
        class_names: Sequence[str] | None = None,
        head: Head = "16way",
        templates: Templates = "openai",
        cache_dir: str | None = None,
    ) -> None:
        super().__init__()
        open_clip = _import_open_clip()
        pretrained, checkpoint_path = _none_if_null(pretrained), _none_if_null(checkpoint_path)
        if head not in ("16way", "1000to16"):
            raise ValueError(f"head must be one of ['16way', '1000to16'], got {head!r}")
        if templates not in ("openai", "simple"):
            raise ValueError(f"templates must be one of ['openai', 'simple'], got {templates!r}")
        if pretrained is not None and checkpoint_path is not None:
            raise ValueError(
                "give at most one of pretrained (an open_clip tag) and checkpoint_path (a local file)"
            )
        if checkpoint_path is not None and not Path(checkpoint_path).is_file():
            raise FileNotFoundError(
                f"checkpoint_path must be an existing open_clip checkpoint file, got {checkpoint_path!r}"
            )
        if not model_name.startswith(("hf-hub:", "local-dir:")) and model_name not in open_clip.list_models():
            raise ValueError(
                f"model_name must be an open_clip architecture such as ViT-B-32, ViT-H-14, got {model_name!r}"
            )
        if head == "1000to16" and class_names is not None:
            raise ValueError(
                "class_names must be None with head='1000to16' (the head uses the ImageNet class names)"
            )

        self.model_name, self.head_type = model_name, head
        if head == "16way":
            self.class_names = list(CLASSES_16 if class_names is None else class_names)
            prompt_names = self.class_names
        else:
            self.class_names = list(CLASSES_16)
            prompt_names = list(open_clip.IMAGENET_CLASSNAMES)
        self.num_classes = len(self.class_names)
        self.templates = list(
            open_clip.OPENAI_IMAGENET_TEMPLATES
            if templates == "openai"
            else open_clip.SIMPLE_IMAGENET_TEMPLATES
        )

        _check_hub_model(model_name)
        source: str | None = checkpoint_path
        preprocess: dict[str, Any] = {}
        self.is_pretrained = pretrained is not None or checkpoint_path is not None or model_name.startswith(
            ("hf-hub:", "local-dir:")  # config and weights from there
        )
        if pretrained is not None and checkpoint_path is None and not model_name.startswith(("hf-hub:", "local-dir:")):
            source, preprocess = _pretrained_source(open_clip, model_name, pretrained, cache_dir)
        clip = open_clip.create_model(
            model_name, pretrained=source, cache_dir=cache_dir, force_preprocess_cfg=preprocess or None
        )
        clip.eval()
        cfg = open_clip.get_model_preprocess_cfg(clip)
        size = cfg.get("size", 224)
        self.image_size: tuple[int, int] = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
        self.normalize = Normalize(cfg["mean"], cfg["std"])
        self.net = clip.visual
        clip.visual = nn.Identity()  # the hidden text model must not share (and later move) the image tower
        # text side kept outside the module tree: not in state_dict, not moved by .to(), dropped after use
        self._text: tuple[Any, Any, list[str]] | None = (
            clip,
            open_clip.get_tokenizer(model_name),
            prompt_names,
        )
        self.register_buffer("classifier", torch.empty(0), persistent=False)  # (D, K) once built

    @torch.no_grad()
    def build_classifier(self, device: torch.device | str | None = None) -> Tensor:
        """Encode the prompts (on ``device``, default that of the image tower) and store the (D, K) head."""
        if self._text is None:
            return self.classifier
        open_clip = _import_open_clip()
        clip, tokenizer, names = self._text
        if device is None:
            device = next(self.net.parameters()).device
        with torch.inference_mode(False):
            clip.to(device)
            weights = open_clip.build_zero_shot_classifier(
                clip, tokenizer, names, self.templates, num_classes_per_batch=8, device=device
            )
        self.classifier = weights.to(device=self.normalize.mean.device, dtype=torch.float32)
        self._text = None  # free the text tower
        return self.classifier

    def _resize(self, x: Tensor) -> Tensor:
        h, w = self.image_size
        if x.shape[-2:] == (h, w):
            return x
        scale = max(h / x.shape[-2], w / x.shape[-1])  # shortest side to the target, as CLIP's Resize(size)
        new = (max(h, round(x.shape[-2] * scale)), max(w, round(x.shape[-1] * scale)))
        x = F.interpolate(x, size=new, mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)
        top, left = (new[0] - h) // 2, (new[1] - w) // 2
        return x[..., top : top + h, left : left + w]

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, 3, H, W) in [0, 1] -> (B, 16) logits (see class docstring for the two heads)."""
        if self._text is not None:
            self.build_classifier(x.device)
        feats = self.net(self.normalize(self._resize(x)))  # (B, D)
        feats = F.normalize(feats.float(), dim=-1)
        logits = 100.0 * feats @ self.classifier  # (B, K)
        if self.head_type == "1000to16":
            logits = imagenet_to_16(logits)  # (B, 16) log mean member probability
        return logits
