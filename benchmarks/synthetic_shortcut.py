"""Shortcut check for SyntheticShapesDataModule: baseline CNN follows the texture, blur CNN follows the shape.

Trains the same small CNN twice in plain PyTorch on the default synthetic data (texture_correlation = 1), once
on raw images and once behind a fixed Gaussian blur (sigma = 1.5 px, circular padding), then reports clean test
accuracy and, on the cue-conflict split, the fraction of predictions that follow the shape class, the texture
class, or neither. CPU only; about a minute per model on 2 cores.

    python benchmarks/synthetic_shortcut.py [--epochs 3] [--threads 2] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

from lowfreq.data import SyntheticShapesDataModule


class GaussianBlur(nn.Module):
    """Separable Gaussian blur with circular padding (kernel radius ceil(3 sigma))."""

    def __init__(self, sigma: float) -> None:
        super().__init__()
        radius = math.ceil(3 * sigma)
        t = torch.arange(-radius, radius + 1, dtype=torch.float32)
        k = torch.exp(-(t**2) / (2 * sigma**2))
        self.register_buffer("kernel", k / k.sum(), persistent=False)
        self.radius = radius

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c, r = x.shape[1], self.radius
        x = F.pad(x, (r, r, r, r), mode="circular")
        x = F.conv2d(x, self.kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
        return F.conv2d(x, self.kernel.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def small_cnn(num_classes: int, widths: tuple[int, ...] = (16, 32, 64, 128)) -> nn.Sequential:
    layers: list[nn.Module] = []
    c_in = 3
    for i, c in enumerate(widths):
        layers += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
        if i < len(widths) - 1:
            layers.append(nn.MaxPool2d(2))
        c_in = c
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes)]
    return nn.Sequential(*layers)


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
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

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
    for name, frontend in (("baseline", nn.Identity()), (f"blur{args.sigma:g}", GaussianBlur(args.sigma))):
        torch.manual_seed(args.seed)
        model = nn.Sequential(frontend, small_cnn(dm.num_classes))
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
