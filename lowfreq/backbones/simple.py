"""A small VGG-style CNN for fast CPU experiments (the quickstart)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from lowfreq.backbones.base import IMAGENET_MEAN, IMAGENET_STD, Backbone, Normalize
from lowfreq.core.checks import check_positive_int

__all__ = ["SimpleCNN"]


class SimpleCNN(Backbone):
    """conv3x3-BN-ReLU stages with 2x2 max-pooling between them, global average pool, linear head.

    About 4 MFLOPs per 32 x 32 image with the default widths (a CIFAR ResNet-18 needs 560): trains in seconds
    per epoch on a CPU.

    Args:
        num_classes: number of output logits.
        widths: channels of each stage; the resolution halves between stages.
        in_channels: 3 for RGB, 1 for grayscale.
        mean: per-channel mean of the normalisation applied inside the model.
        std: per-channel standard deviation of that normalisation.
    """

    def __init__(
        self,
        num_classes: int = 10,
        widths: Sequence[int] = (16, 32, 64, 128),
        in_channels: int = 3,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        super().__init__()
        check_positive_int("num_classes", num_classes)
        check_positive_int("in_channels", in_channels)
        if not widths:
            raise ValueError("widths must name at least one stage, got []")
        self.num_classes = num_classes
        self.normalize = Normalize(mean, std, in_channels=in_channels)
        layers: list[nn.Module] = []
        c_in = in_channels
        for i, width in enumerate(widths):
            check_positive_int(f"widths[{i}]", width)
            if i:
                layers.append(nn.MaxPool2d(2))
            layers += [nn.Conv2d(c_in, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            c_in = width
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes)]
        self.net = nn.Sequential(*layers)
