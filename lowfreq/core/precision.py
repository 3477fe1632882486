"""Exact float32 for the front-ends' convolutions and matmuls on CUDA (no TF32)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["ieee_float32"]


@contextmanager
def ieee_float32(device: torch.device) -> Iterator[None]:
    """Full float32 (no TF32) in cuDNN convolutions and cuBLAS matmuls on CUDA, whatever the global flags.

    cuDNN convolutions default to TF32 on Ampere and later GPUs (10-bit mantissa), which would move a blur by
    ~1e-3; front-ends must match their CPU float32 result. Autocast is already disabled inside each front-end.
    """
    if device.type != "cuda":
        yield
        return
    conv, matmul = getattr(torch.backends.cudnn, "conv", None), torch.backends.cuda.matmul
    if conv is not None and hasattr(conv, "fp32_precision"):  # torch >= 2.9; do not mix with the legacy flags
        saved = conv.fp32_precision, matmul.fp32_precision
        conv.fp32_precision = matmul.fp32_precision = "ieee"
        try:
            yield
        finally:
            conv.fp32_precision, matmul.fp32_precision = saved
        return
    legacy = torch.backends.cudnn.allow_tf32, matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, matmul.allow_tf32 = legacy
