import pytest
import torch

from lowfreq.backbones import CIFARResNet18, PreActResNet32, SimpleCNN


def _conv_layers(model):
    return [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]


def test_preact_resnet32_matches_p003_architecture():
    model = PreActResNet32()
    convs = _conv_layers(model)
    assert len(convs) == 1 + 3 * 5 * 2  # stem + 15 blocks of two convs; 6n + 2 = 32 layers with the head
    assert [c.out_channels for c in convs][::10] == [16, 16, 32, 64]
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())  # vanilla P003: BN off
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 10)
    with_bn = PreActResNet32(batch_norm=True, num_classes=5)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in with_bn.modules())
    assert with_bn(torch.rand(2, 3, 32, 32)).shape == (2, 5)


def test_option_a_shortcut_keeps_the_input():
    """With zero conv weights a block is its shortcut: average-pooled input, zero-padded channels."""
    model = PreActResNet32(blocks_per_stage=1, width=2)
    block = model.net[2]  # second stage: stride 2, 2 -> 4 channels
    for conv in _conv_layers(block):
        torch.nn.init.zeros_(conv.weight)
        torch.nn.init.zeros_(conv.bias)
    x = torch.rand(1, 2, 8, 8)
    out = block(x)
    assert torch.allclose(out[:, :2], torch.nn.functional.avg_pool2d(x, 2))
    assert torch.equal(out[:, 2:], torch.zeros(1, 2, 4, 4))


@pytest.mark.parametrize("factory", [lambda: CIFARResNet18(width=4), lambda: SimpleCNN(widths=(4, 8)),
                                     lambda: PreActResNet32(blocks_per_stage=1)])
def test_backbones_normalise_inside_and_keep_batch(factory):
    model = factory().eval()
    x = torch.rand(3, 3, 32, 32)
    assert model(x).shape == (3, 10)
    assert torch.allclose(model(x), model.net(model.normalize(x)))


def test_backbone_argument_errors():
    with pytest.raises(ValueError, match="num_classes must be an int >= 1, got 0"):
        CIFARResNet18(num_classes=0)
    with pytest.raises(ValueError, match="stem_kernel must be one of"):
        CIFARResNet18(stem_kernel=5)
    with pytest.raises(ValueError, match="mean must have in_channels=1 entries"):
        PreActResNet32(in_channels=1)
    with pytest.raises(ValueError, match="widths must name at least one stage"):
        SimpleCNN(widths=())
