"""Backbone base: normalisation inside the model, [0, 1] images in, logits out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch import Tensor, nn

from lowfreq.core.checks import check_image
from lowfreq.core.spec import RecordsInitArgs

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "Backbone", "Normalize"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Normalize(nn.Module):
    """(x - mean) / std per channel, with (1, C, 1, 1) buffers. The only place images are normalised.

    Args:
        mean: per-channel mean.
        std: per-channel standard deviation, > 0.
        in_channels: if given, the number of channels ``mean`` and ``std`` must have (a backbone's input channels).
    """

    mean: Tensor
    std: Tensor

    def __init__(
        self, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD, in_channels: int | None = None
    ) -> None:
        super().__init__()
        if in_channels is not None and len(mean) != in_channels:
            raise ValueError(f"mean must have in_channels={in_channels} entries, got {len(mean)}")
        if len(mean) != len(std):
            raise ValueError(f"mean and std must have the same length, got {len(mean)} and {len(std)}")
        if any(s <= 0 for s in std):
            raise ValueError(f"std must be > 0 in every channel, got {list(std)}")
        self.register_buffer("mean", torch.tensor(list(mean), dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        """``(x - mean) / std`` per channel, in the dtype of ``x``."""
        check_image(x, values=False)  # dtype and shape only: no device synchronisation in a training step
        if x.shape[1] != self.mean.shape[1]:
            channels = self.mean.shape[1]
            raise ValueError(
                f"x must have {channels} channels (one per mean/std entry), got shape {tuple(x.shape)}"
            )
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    def extra_repr(self) -> str:
        """Mean and std in the module's repr."""
        return f"mean={self.mean.flatten().tolist()}, std={self.std.flatten().tolist()}"


class Backbone(RecordsInitArgs, nn.Module):
    """A classifier of [0, 1] images: ``forward(x) = net(normalize(x))`` -> (B, num_classes) logits.

    Subclasses set ``self.normalize``, ``self.net`` and ``self.num_classes``, and ``self.is_pretrained = True`` when
    the whole network, classification head included, holds trained weights once built (evaluating it means
    something without a fit: ``lowfreq validate`` then needs no ``--ckpt_path``).
    """

    num_classes: int
    is_pretrained: bool = False
    normalize: Normalize
    net: nn.Module

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) in [0, 1] -> logits (B, num_classes)."""
        return cast("Tensor", self.net(self.normalize(x)))
