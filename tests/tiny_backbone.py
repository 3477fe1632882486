"""The one tiny backbone of the test suite: fast on 2 CPU cores, any image size, no BatchNorm.

Average pooling to 4 x 4 then a linear layer: a linear, batch-independent model, so a DDP run on 2 x B images
equals one run on 2B exactly, and a Lightning fit takes seconds. Import it as ``from tiny_backbone import
TinyBackbone`` (``tests/`` is on ``sys.path`` through its conftest), which also works in ``ddp_spawn`` workers.
"""

from __future__ import annotations

from torch import nn

from lowfreq.backbones import Backbone, Normalize


class TinyBackbone(Backbone):
    """[0, 1] images (B, 3, H, W) -> (B, ``num_classes``) logits."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.normalize = Normalize()
        self.net = nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(3 * 4 * 4, num_classes))


class PretrainedTinyBackbone(TinyBackbone):
    """:class:`TinyBackbone` standing in for a backbone with pretrained weights (``is_pretrained``)."""

    is_pretrained = True
