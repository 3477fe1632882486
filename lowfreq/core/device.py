"""Running a model for analysis: where its weights live, eval mode without autograd, exact sums, progress."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

__all__ = [
    "accumulator_dtype", "analysis_mode", "eval_mode", "frozen_parameters", "image_progress", "model_device_dtype",
]


def model_device_dtype(model: nn.Module, fallback: Tensor) -> tuple[torch.device, torch.dtype]:
    """Device and dtype of the model's first floating-point parameter or buffer (else those of ``fallback``)."""
    for tensor in (*model.parameters(), *model.buffers()):
        if tensor.is_floating_point():
            return tensor.device, tensor.dtype
    return fallback.device, fallback.dtype


def accumulator_dtype(device: torch.device) -> torch.dtype:
    """float64 for exact counts where the device has it (MPS has no float64)."""
    return torch.float32 if device.type == "mps" else torch.float64


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the block and restore its previous mode afterwards (also on errors)."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@contextmanager
def analysis_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode and no autograd for the block: the forward passes of an analysis keep no graph.

    The training flag is restored afterwards; gradients are off even when the caller enabled them.
    """
    with eval_mode(model), torch.no_grad():
        yield model


@contextmanager
def frozen_parameters(model: nn.Module) -> Iterator[nn.Module]:
    """No gradient for any parameter of ``model`` in the block (flags restored afterwards, also on errors).

    For methods that need gradients of the input only (attacks, mask fitting): the backward pass then skips every
    weight gradient, about half of its work in convolutions.
    """
    flags = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield model
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


def image_progress(total: int, desc: str, enabled: bool) -> tqdm:
    """A progress bar that counts images (``total`` of them) and shows the rate and the time left."""
    return tqdm(total=total, desc=desc, unit="img", disable=not enabled, leave=False, dynamic_ncols=True)
