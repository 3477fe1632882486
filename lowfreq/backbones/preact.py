"""P003's network: a pre-activation CIFAR ResNet-32 (16/32/64 channels), BatchNorm off by default."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch.nn.functional as F
from torch import Tensor, nn

from lowfreq.backbones.base import Backbone, Normalize
from lowfreq.core.checks import check_positive_int

__all__ = ["PreActResNet32"]


class _PreActBlock(nn.Module):
    """BN-ReLU-conv3x3 twice; option-A shortcut (2x2 average pool + zero channel padding) when the shape changes."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, batch_norm: bool) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_ch) if batch_norm else nn.Identity()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=not batch_norm)
        self.bn2 = nn.BatchNorm2d(out_ch) if batch_norm else nn.Identity()
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=not batch_norm)
        self.stride, self.extra_channels = stride, out_ch - in_ch

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        shortcut = F.avg_pool2d(x, self.stride) if self.stride > 1 else x
        if self.extra_channels:
            shortcut = F.pad(shortcut, (0, 0, 0, 0, 0, self.extra_channels))  # (B, C + extra, H, W)
        return cast("Tensor", out + shortcut)


class PreActResNet32(Backbone):
    """Pre-activation ResNet for 32 x 32 images as in P003's code (``scripts/resnet.py``), not a ResNet-18.

    Stem 3x3 conv (in_channels -> width), three stages of ``blocks_per_stage`` blocks with width, 2 width and
    4 width channels (stride 2 between stages), ReLU, global average pool, linear head; Xavier-initialised convs.

    Args:
        num_classes: number of output logits.
        blocks_per_stage: n (P003: 5, i.e. 6n + 2 = 32 layers).
        width: channels of the first stage (P003: 16).
        batch_norm: P003's vanilla model has BatchNorm disabled; True is its "BatchNorm" heuristic.
        in_channels: 3 for RGB, 1 for grayscale.
        mean: per-channel mean of the normalisation inside the model (P003 feeds [0, 1] pixels: mean 0, std 1).
        std: per-channel standard deviation of that normalisation.
    """

    def __init__(
        self,
        num_classes: int = 10,
        blocks_per_stage: int = 5,
        width: int = 16,
        batch_norm: bool = False,
        in_channels: int = 3,
        mean: Sequence[float] = (0.0, 0.0, 0.0),
        std: Sequence[float] = (1.0, 1.0, 1.0),
    ) -> None:
        super().__init__()
        check_positive_int("num_classes", num_classes)
        check_positive_int("blocks_per_stage", blocks_per_stage)
        check_positive_int("width", width)
        self.num_classes = num_classes
        self.normalize = Normalize(mean, std, in_channels=in_channels)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 3, 1, 1, bias=not batch_norm)]
        in_ch = width
        for stage in range(3):
            out_ch = width * 2**stage
            for block in range(blocks_per_stage):
                layers.append(_PreActBlock(in_ch, out_ch, 2 if stage and not block else 1, batch_norm))
                in_ch = out_ch
        layers += [nn.BatchNorm2d(in_ch) if batch_norm else nn.Identity(), nn.ReLU(inplace=True),
                   nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_ch, num_classes)]
        self.net = nn.Sequential(*layers)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
