"""Fixtures shared by the data tests: the batch contract and the pad-slice-mirror definition of a crop."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F


def _check_batch(x: torch.Tensor, y: torch.Tensor, shape: tuple[int, ...]) -> None:
    assert x.shape == shape
    assert x.dtype == torch.float32
    assert float(x.min()) >= 0.0
    assert float(x.max()) <= 1.0
    assert y.shape == shape[:1]
    assert y.dtype == torch.int64


def _reference_crop_flip(x: torch.Tensor, oy, ox, flip, padding: int) -> torch.Tensor:
    """Pad, slice and mirror image by image: the definition crop_flip must match."""
    h, w = x.shape[-2:]
    padded = F.pad(x, (padding,) * 4, mode="reflect") if padding else x
    offsets = enumerate(zip(oy.tolist(), ox.tolist(), strict=True))
    out = torch.stack([padded[i, :, a : a + h, b : b + w] for i, (a, b) in offsets])
    return torch.where(flip[:, None, None, None], out.flip(-1), out)


@pytest.fixture
def check_batch() -> Callable[..., None]:
    """``check_batch(x, y, shape)``: x float32 of ``shape`` in [0, 1], y int64 of ``shape[:1]``."""
    return _check_batch


@pytest.fixture
def reference_crop_flip() -> Callable[..., torch.Tensor]:
    """``reference_crop_flip(x, oy, ox, flip, padding)``: crop_flip by pad, slice and mirror, image by image."""
    return _reference_crop_flip
