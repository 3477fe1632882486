"""ResNet-18 with a CIFAR stem (stride-1 conv, no max-pool), width-scalable for fast CPU experiments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, cast

from torch import Tensor, nn

from lowfreq.backbones.base import IMAGENET_MEAN, IMAGENET_STD, Backbone, Normalize
from lowfreq.core.checks import check_choice, check_positive_int

__all__ = ["CIFARResNet18"]


class _BasicBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return cast("Tensor", self.relu(out + self.shortcut(x)))


class CIFARResNet18(Backbone):
    """ResNet-18 (basic blocks [2, 2, 2, 2]) for small images: stride-1 stem, no max-pool.

    Args:
        num_classes: number of output logits.
        width: channels of the first stage (64 = the standard ResNet-18; 16 is a 16x cheaper CPU model).
        stem_kernel: 3 (the common CIFAR ResNet-18, P001's 2022 models) or 7 (P001's 2021 models), stride 1.
        in_channels: 3 for RGB, 1 for grayscale.
        mean: per-channel mean of the normalisation applied inside the model (P001/jarvis use ImageNet
            statistics even for CIFAR-10; grayscale: 0.5).
        std: per-channel standard deviation of that normalisation (grayscale: 0.2).
    """

    def __init__(
        self,
        num_classes: int = 10,
        width: int = 64,
        stem_kernel: Literal[3, 7] = 3,
        in_channels: int = 3,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        super().__init__()
        check_positive_int("num_classes", num_classes)
        check_positive_int("width", width)
        check_choice("stem_kernel", stem_kernel, (3, 7))
        self.num_classes = num_classes
        self.normalize = Normalize(mean, std, in_channels=in_channels)
        widths = [width, 2 * width, 4 * width, 8 * width]
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, width, stem_kernel, 1, stem_kernel // 2, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        ]
        in_ch = width
        for stage, out_ch in enumerate(widths):
            for block in range(2):
                layers.append(_BasicBlock(in_ch, out_ch, 2 if stage > 0 and block == 0 else 1))
                in_ch = out_ch
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_ch, num_classes)]
        self.net = nn.Sequential(*layers)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
