"""Throughput of ``lowfreq.analysis.hybrid_curve``: hybrid images classified per second.

Model: CIFAR ResNet-18 (3x3 stride-1 stem, width 64, random weights, eval mode) on 32 x 32 RGB images, P001's
18-point f_mix grid. Each configuration first runs once to warm up, then is timed; the plain forward pass on the
same number of images is timed too, so the cost of building hybrids (FFTs, pairing, counting) can be read off.
Runs on the CPU (few images) and, when available, on CUDA (float32 and bfloat16 autocast).

    python benchmarks/hybrid_throughput.py [--cpu-images 64] [--cuda-images 4096] [--threads N]
"""

from __future__ import annotations

import argparse
import contextlib
import time
import warnings

import torch

from lowfreq.analysis.hybrid import DEFAULT_F_MIX, hybrid_curve
from lowfreq.backbones import CIFARResNet18


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _autocast(device: torch.device, dtype: torch.dtype) -> contextlib.AbstractContextManager:
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


@torch.no_grad()
def forward_rate(model: torch.nn.Module, x: torch.Tensor, batch_size: int, dtype: torch.dtype, repeats: int) -> float:
    """Images/s of the bare forward pass over ``x`` in batches (``repeats`` passes)."""
    device = x.device
    with _autocast(device, dtype):
        for start in range(0, x.shape[0], batch_size):  # warm-up
            model(x[start : start + batch_size])
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(repeats):
            for start in range(0, x.shape[0], batch_size):
                model(x[start : start + batch_size])
        _sync(device)
    return repeats * x.shape[0] / (time.perf_counter() - t0)


def hybrid_rate(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int, dtype: torch.dtype, permutations: int
) -> tuple[float, float]:
    """(hybrids/s, seconds) of one ``hybrid_curve`` call after a warm-up call."""
    with _autocast(x.device, dtype), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # random weights: usually no crossing, f_rev is NaN
        hybrid_curve(model, x[:batch_size], y[:batch_size], num_permutations=1, batch_size=batch_size)  # warm-up
        _sync(x.device)
        t0 = time.perf_counter()
        hybrid_curve(model, x, y, num_permutations=permutations, batch_size=batch_size)
        _sync(x.device)
    seconds = time.perf_counter() - t0
    return permutations * len(DEFAULT_F_MIX) * x.shape[0] / seconds, seconds


def run(device: torch.device, num_images: int, batch_size: int, dtype: torch.dtype, permutations: int) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(num_images, 3, 32, 32, generator=g).to(device)
    y = (torch.arange(num_images) % 10).to(device)
    model = CIFARResNet18(num_classes=10, width=64).to(device).eval()
    rate, seconds = hybrid_rate(model, x, y, batch_size, dtype, permutations)
    fwd = forward_rate(model, x, batch_size, dtype, repeats=max(1, min(5, 4096 // num_images)))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    print(
        f"{name:<34} dtype={str(dtype).removeprefix('torch.'):<9} batch={batch_size:<5} images={num_images:<6} "
        f"hybrids={permutations * len(DEFAULT_F_MIX) * num_images:<7} time={seconds:7.2f}s "
        f"hybrid_curve={rate:9.0f} img/s  forward_only={fwd:9.0f} img/s  ({rate / fwd:4.0%})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-images", type=int, default=64)
    parser.add_argument("--cpu-batch", type=int, default=64)
    parser.add_argument("--cuda-images", type=int, default=4096)
    parser.add_argument("--cuda-batch", type=int, default=1024)
    parser.add_argument("--permutations", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--skip-cpu", action="store_true")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}; ResNet-18 (CIFAR stem, width 64), 32x32, {len(DEFAULT_F_MIX)} f_mix values")
    if not args.skip_cpu:
        run(torch.device("cpu"), args.cpu_images, args.cpu_batch, torch.float32, args.permutations)
    if torch.cuda.is_available():
        torch.backends.cudnn.benchmark = True
        device = torch.device("cuda")
        for dtype in (torch.float32, torch.bfloat16):
            run(device, args.cuda_images, args.cuda_batch, dtype, args.permutations)
    else:
        print("CUDA not available: GPU numbers skipped")


if __name__ == "__main__":
    main()
