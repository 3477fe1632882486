"""The 16 entry-level classes of model-vs-human and the ImageNet-1000 -> 16 mapping (bottom layer: torch only).

* ``CLASSES_16``: the 16 class names, sorted; index = the 16-way label used everywhere in lowfreq.
* [`imagenet_to_16`][lowfreq.mvh.labels.imagenet_to_16] turns ImageNet logits into 16-class scores exactly as
  model-vs-human's ``ImageNetProbabilitiesTo16ClassesMapping``: softmax over the 1000 classes, then the **mean**
  probability of each class's member indices (``IMAGENET_16_INDICES``); we return its log, so argmax and softmax keep
  their meaning.

Used by the model-vs-human analyses and by the OpenCLIP backbone's ``1000to16`` head.
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor

__all__ = [
    "CLASSES_16",
    "IMAGENET_16_INDICES",
    "imagenet_averaging_matrix",
    "imagenet_to_16",
    "logits_to_16",
]

#: The 16 entry-level classes, sorted; index = 16-way label used everywhere in lowfreq.
CLASSES_16: tuple[str, ...] = (
    "airplane",
    "bear",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "car",
    "cat",
    "chair",
    "clock",
    "dog",
    "elephant",
    "keyboard",
    "knife",
    "oven",
    "truck",
)


def _r(a: int, b: int) -> range:
    return range(a, b + 1)


#: 0-based ImageNet-1k indices of each of the 16 classes (model-vs-human ``helper/human_categories.py``).
IMAGENET_16_INDICES: dict[str, tuple[int, ...]] = {
    "airplane": (404,),
    "bear": (294, 295, 296, 297),
    "bicycle": (444, 671),
    "bird": (
        8,
        *_r(10, 16),
        *_r(18, 20),
        *_r(22, 24),
        *_r(80, 83),
        *_r(87, 96),
        *_r(98, 100),
        *_r(127, 133),
        *_r(135, 145),
    ),
    "boat": (472, 554, 625, 814, 914),
    "bottle": (440, 720, 737, 898, 899, 901, 907),
    "car": (436, 511, 817),
    "cat": (281, 282, 283, 284, 285, 286),
    "chair": (423, 559, 765, 857),
    "clock": (409, 530, 892),
    "dog": (
        *_r(152, 191),
        *_r(193, 203),
        *_r(205, 226),
        *_r(228, 241),
        *_r(243, 250),
        *_r(252, 257),
        259,
        *_r(261, 263),
        *_r(265, 268),
    ),
    "elephant": (385, 386),
    "keyboard": (508, 878),
    "knife": (499,),
    "oven": (766,),
    "truck": (555, 569, 656, 675, 717, 734, 864, 867),
}


@functools.lru_cache(maxsize=8)
def imagenet_averaging_matrix(dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> Tensor:
    """(1000, 16) matrix whose column k averages the ImageNet probabilities of the member classes of class k.

    Cached per (dtype, device): built once, not in every forward pass. Do not modify the returned tensor.
    """
    m = torch.zeros(1000, len(CLASSES_16), dtype=dtype, device=device)
    for k, name in enumerate(CLASSES_16):
        idx = torch.tensor(IMAGENET_16_INDICES[name], device=device)
        m[idx, k] = 1.0 / len(idx)
    return m


def imagenet_to_16(logits: Tensor) -> Tensor:
    """ImageNet-1000 logits -> 16-class log scores (log of the mean member probability).

    Args:
        logits: (B, 1000) ImageNet logits.

    Returns:
        (B, 16) float32 ``log(mean_{i in S_k} softmax(logits)_i)``, classes in ``CLASSES_16`` order. These are
        not normalised log-probabilities (the 16 means do not sum to 1), but argmax gives model-vs-human's decision.
    """
    if logits.ndim != 2 or logits.shape[1] != 1000:
        raise ValueError(f"logits must have shape (B, 1000), got {tuple(logits.shape)}")
    probs = torch.softmax(logits.float(), dim=-1)
    agg = probs @ imagenet_averaging_matrix(probs.dtype, probs.device)  # (B, 16)
    return agg.clamp_min(torch.finfo(agg.dtype).tiny).log()


def logits_to_16(logits: Tensor) -> Tensor:
    """(B, 16) logits pass through; (B, 1000) ones go through [`imagenet_to_16`][lowfreq.mvh.labels.imagenet_to_16]."""
    if logits.ndim == 2 and logits.shape[1] == len(CLASSES_16):
        return logits
    if logits.ndim == 2 and logits.shape[1] == 1000:
        return imagenet_to_16(logits)
    raise ValueError(f"logits must have shape (B, 16) or (B, 1000) (ImageNet), got {tuple(logits.shape)}")
