"""Single-image Fourier masks (P004): batched ``fit_fourier_masks`` against one image at a time.

Model: a small CNN (``SimpleCNN``, widths 16, 32, random weights) on 32 x 32 RGB images; every mask runs the same
number of Adam steps (the stopping rule is switched off with a patience above ``--steps``), so both paths do the
same work. The batched path trains all ``--num-images`` masks in one tensor; the one-at-a-time path is timed on
``--sequential-images`` images and scaled to ``--num-images`` (it is linear in the number of images). A check
compares the masks of those images between the two paths.

    python benchmarks/masks.py [--num-images 1000] [--sequential-images 20] [--steps 100] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from lowfreq.analysis.masks import fit_fourier_masks
from lowfreq.backbones import SimpleCNN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-images", type=int, default=1000)
    parser.add_argument("--sequential-images", type=int, default=20)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=500, help="images per forward pass of the batched path")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = SimpleCNN(num_classes=10, widths=(16, 32)).eval()
    images = torch.rand(args.num_images, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    kwargs = {"scope": "image", "max_steps": args.steps, "patience": args.steps + 1}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.num_images} single-image masks, 32 x 32 RGB, SimpleCNN(16, 32), {args.steps} Adam steps each, "
          f"{torch.get_num_threads()} threads, load average {load:.2f}", flush=True)

    t0 = time.perf_counter()
    batched = fit_fourier_masks(model, images, batch_size=args.batch_size, **kwargs)
    batched_s = time.perf_counter() - t0

    n = min(args.sequential_images, args.num_images)
    t0 = time.perf_counter()
    alone = [fit_fourier_masks(model, images[i : i + 1], **kwargs).masks[0] for i in range(n)]
    sequential_s = (time.perf_counter() - t0) * args.num_images / n
    difference = max(float((batched.masks[i] - alone[i]).abs().max()) for i in range(n))

    print(f"batched:         {batched_s:8.1f} s for {args.num_images} masks")
    print(f"one at a time:   {sequential_s:8.1f} s for {args.num_images} masks (timed on {n}, scaled)")
    print(f"speed-up:        {sequential_s / batched_s:8.1f} x")
    print(f"max |mask difference| on the {n} compared images: {difference:.2e}")


if __name__ == "__main__":
    main()
