"""A template-matching classifier whose decisions are known: each class is a white-noise template."""

import torch
from torch import nn


def template_classifier(g: torch.Generator, num_classes: int, size: int, num_images: int,
                        noise: float) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """(float64 linear model scoring each image by its template, noisy images of the templates in [0, 1], labels).

    Draws from ``g`` (templates, then the image noise), so later draws from ``g`` continue the same stream.
    """
    templates = torch.rand(num_classes, 3, size, size, generator=g, dtype=torch.float64) - 0.5
    y = torch.arange(num_images) % num_classes
    x = 0.5 + 0.4 * templates[y] + noise * torch.randn(num_images, 3, size, size, generator=g, dtype=torch.float64)
    linear = nn.Linear(3 * size * size, num_classes).double()
    with torch.no_grad():
        linear.weight.copy_(templates.flatten(1))
        linear.bias.copy_(-0.5 * templates.flatten(1).sum(1))
    return nn.Sequential(nn.Flatten(), linear), x.clamp(0, 1), y
