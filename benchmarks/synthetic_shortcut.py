"""Shortcut check for SyntheticShapesDataModule: baseline CNN follows the texture, blur CNN follows the shape.

Trains the quickstart's small CNN (``lowfreq.backbones.SimpleCNN``, normalisation inside) twice in plain PyTorch
on the default synthetic data (texture_correlation = 1), once on raw images and once behind the library's fixed
Gaussian blur (``lowfreq.frontends.GaussianBlur``, sigma = 1.5 px, circular padding), then reports clean test
accuracy and, on the cue-conflict split, the fraction of predictions that follow the shape class, the texture
class, or neither. CPU only; about a minute per model on 2 cores.

    python benchmarks/synthetic_shortcut.py [--epochs 3] [--threads 2] [--seed 0]
    python benchmarks/synthetic_shortcut.py --quick                 # 3,000 images, 2 epochs: seconds per model
    python benchmarks/synthetic_shortcut.py --models blur --sigma 2  # one model only
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn

from lowfreq.backbones import SimpleCNN
from lowfreq.data import SyntheticShapesDataModule
from lowfreq.frontends import GaussianBlur, Identity


def train(model: nn.Module, dm: SyntheticShapesDataModule, epochs: int, lr: float) -> float:
    loader = dm.train_dataloader()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, total_steps=epochs * len(loader), pct_start=0.2
    )
    t0 = time.perf_counter()
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    return time.perf_counter() - t0


@torch.no_grad()
def evaluate(model: nn.Module, dm: SyntheticShapesDataModule) -> dict[str, float]:
    model.eval()
    correct = n = 0
    for x, y in torch.utils.data.DataLoader(dm.analysis_dataset("test"), batch_size=500):
        correct += int((model(x).argmax(1) == y).sum())
        n += len(y)
    shape = texture = m = 0
    for x, ys, yt in torch.utils.data.DataLoader(dm.cue_conflict_dataset(), batch_size=500):
        pred = model(x).argmax(1)
        shape += int((pred == ys).sum())
        texture += int((pred == yt).sum())
        m += len(ys)
    return {
        "test_acc": correct / n,
        "conflict_shape": shape / m,
        "conflict_texture": texture / m,
        "shape_bias": shape / max(shape + texture, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sigma", type=float, default=1.5)
    parser.add_argument("--num-train", type=int, default=None)
    parser.add_argument("--texture-amplitude", type=float, default=None)
    parser.add_argument("--texture-correlation", type=float, default=None)
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--models", nargs="+", choices=["baseline", "blur"], default=["baseline", "blur"])
    parser.add_argument("--quick", action="store_true", help="3,000 training images and 2 epochs (smoke run)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.quick:
        args.epochs = min(args.epochs, 2)
        args.num_train = args.num_train or 3000

    kwargs = {"seed": args.seed, "augment": not args.no_augment}
    if args.num_train is not None:
        kwargs["num_train"] = args.num_train
    if args.texture_amplitude is not None:
        kwargs["texture_amplitude"] = args.texture_amplitude
    if args.texture_correlation is not None:
        kwargs["texture_correlation"] = args.texture_correlation
    dm = SyntheticShapesDataModule(**kwargs)
    t0 = time.perf_counter()
    dm.setup("fit")
    dm.cue_conflict_dataset()
    print(
        f"data: {dm.num_train} train / {dm.num_test} test / {dm.num_conflict} conflict images, "
        f"generated in {time.perf_counter() - t0:.2f} s; texture_correlation={dm.texture_correlation}, "
        f"texture_amplitude={dm.texture_amplitude}, augment={dm.augment}"
    )
    print(
        f"{'model':<10} {'train_s':>8} {'test_acc':>9} {'shape':>7} {'texture':>8} {'other':>7} {'shape_bias':>10}"
    )
    frontends = {"baseline": ("baseline", Identity), "blur": (f"blur{args.sigma:g}", lambda: GaussianBlur(args.sigma))}
    for key in args.models:
        name, make_frontend = frontends[key]
        torch.manual_seed(args.seed)
        model = nn.Sequential(make_frontend(), SimpleCNN(dm.num_classes))
        seconds = train(model, dm, args.epochs, args.lr)
        r = evaluate(model, dm)
        other = 1 - r["conflict_shape"] - r["conflict_texture"]
        print(
            f"{name:<10} {seconds:8.1f} {r['test_acc']:9.3f} {r['conflict_shape']:7.3f} "
            f"{r['conflict_texture']:8.3f} {other:7.3f} {r['shape_bias']:10.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
