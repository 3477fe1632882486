"""Speed of the corruption generator and of a CIFAR-10-C-style evaluation (15 x 5, generated), with its cache.

1. Generator throughput: images/s of ``lowfreq.data.corrupt_images`` (``imagecorruptions``) per corruption at one
   severity, on 32 x 32 and 224 x 224 images (after a warm-up image, so numba's one-off compilation of glass_blur
   is reported separately).
2. Whole evaluation: SimpleCNN (random weights: the speed does not depend on them) on N synthetic 32 x 32 test
   images, clean + 15 corruptions x 5 severities, generated in batches into a fresh cache directory, through
   ``CorruptionAccuracyMetric``; then the same evaluation again, reading the cache. Prints both times and the ratio
   second / first, measured in the same run.

Examples::

    python benchmarks/corruptions.py                       # defaults: ~1-2 min on 2 CPU cores
    python benchmarks/corruptions.py --images 32 --eval-images 1000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from lowfreq.analysis import CorruptionAccuracyMetric
from lowfreq.backbones import SimpleCNN
from lowfreq.data import SyntheticShapesDataModule, corrupt_images
from lowfreq.data.corruptions.names import CORRUPTIONS, SEVERITIES


def generator_throughput(size: int, num_images: int, severity: int) -> dict[str, dict[str, float]]:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(num_images, 3, size, size, generator=g)
    out = {}
    for name in CORRUPTIONS:
        t0 = time.perf_counter()
        corrupt_images(x[:1], name, severity, seed=1)  # warm-up (numba compiles glass_blur here)
        warmup = time.perf_counter() - t0
        t0 = time.perf_counter()
        corrupt_images(x, name, severity, seed=0, indices=torch.arange(1, num_images + 1))
        seconds = time.perf_counter() - t0
        out[name] = {"images_per_s": num_images / seconds, "seconds": seconds, "warmup_s": warmup}
    return out


def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, cache: Path, batch_size: int) -> tuple:
    metric = CorruptionAccuracyMetric(batch_size=batch_size)
    t0 = time.perf_counter()
    for start in range(0, len(y), batch_size):
        index = torch.arange(start, min(start + batch_size, len(y)))
        xb, yb = x[index], y[index]
        metric.update(model, xb, yb)
        for name in CORRUPTIONS:
            for severity in SEVERITIES:
                corrupted = corrupt_images(xb, name, severity, seed=0, indices=index, cache_dir=cache)
                metric.update(model, corrupted, yb, corruption=name, severity=severity)
    result = metric.compute()
    return time.perf_counter() - t0, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 224], help="image sides for part 1")
    parser.add_argument("--images", type=int, default=8, help="images per corruption and size in part 1")
    parser.add_argument("--severity", type=int, default=3, help="severity of part 1")
    parser.add_argument("--eval-images", type=int, default=64, help="test images of the 15 x 5 evaluation")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the library itself is numpy)")
    parser.add_argument("--cache-dir", default=None, help="cache folder (default: a temporary one, removed after)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    report: dict = {"load_average": list(os.getloadavg()), "cpus": os.cpu_count()}

    print(f"1. generator throughput (severity {args.severity}, {args.images} images per corruption and size)")
    report["throughput"] = {}
    for size in args.sizes:
        rows = generator_throughput(size, args.images, args.severity)
        report["throughput"][str(size)] = rows
        total = sum(r["seconds"] for r in rows.values())
        print(f"  {size} x {size}: all 15 in sequence {15 * args.images / total:8.1f} images/s")
        for name, r in rows.items():
            compile_note = f"  (first image {r['warmup_s']:.1f} s)" if r["warmup_s"] > 1 else ""
            print(f"    {name:<18} {r['images_per_s']:8.1f} images/s{compile_note}")

    dm = SyntheticShapesDataModule(num_train=10, num_val=10, num_test=max(args.eval_images, 10), num_conflict=10,
                                   image_size=32, seed=0)
    dm.setup()
    test = dm.analysis_dataset("test")
    x, y = (torch.stack(t) for t in zip(*(test[i] for i in range(args.eval_images)), strict=True))
    torch.manual_seed(0)
    model = SimpleCNN(10).eval()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(args.cache_dir) if args.cache_dir else Path(tmp)
        first, result = evaluate(model, x, y, cache, args.batch_size)
        second, again = evaluate(model, x, y, cache, args.batch_size)
    assert torch.equal(result.acc, again.acc)
    conditions = 1 + len(CORRUPTIONS) * len(SEVERITIES)
    report["evaluation"] = {
        "images": args.eval_images, "conditions": conditions, "first_s": first, "second_s": second,
        "ratio_second_over_first": second / first, "first_images_per_s": args.eval_images * conditions / first,
        "second_images_per_s": args.eval_images * conditions / second, "mean_acc": result.mean_acc,
    }
    e = report["evaluation"]
    print(f"2. CIFAR-10-C-style evaluation of SimpleCNN, {args.eval_images} images x {conditions} conditions "
          f"(clean + 15 x 5)")
    print(f"  first run (generate + cache): {first:7.2f} s  ({e['first_images_per_s']:8.1f} images/s)")
    print(f"  second run (from the cache):  {second:7.2f} s  ({e['second_images_per_s']:8.1f} images/s)")
    print(f"  ratio second / first: {e['ratio_second_over_first']:.3f} (the cache saves "
          f"{100 * (1 - e['ratio_second_over_first']):.1f} % of the time)")
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
