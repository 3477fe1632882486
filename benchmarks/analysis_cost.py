"""Every analysis against its floor: the model passes it must make, timed as plain PyTorch in the same run.

Each analysis runs on one model with a recorder around it that notes every forward pass (batch size, and whether
autograd was on). The floor replays exactly those passes on random inputs of the same shapes, as a bare loop:
``model(x)`` under ``torch.no_grad()``, or forward + the input gradient for the analyses whose method is gradients
(``GRADIENT_METHODS``: the attacks, the mask fitting). A counting analysis that ran with autograd on is still held
to no-grad forwards; the ``grad`` column shows it. ``ratio = analysis time / floor``: what lowfreq adds on top of
the network (FFT mixing and filtering, label checks, attack bookkeeping, the Brendel-Bethge solver, ...). Inputs
of the corruption row are made before the clock starts (noise and contrast in plain torch), so its ratio is that
of the evaluation, not of generating corruptions. The heat-map row (Yin et al.'s Fourier heat map on the stride-4
sub-grid of 32 x 32: 34 basis images, each added to every image) is held to plain forwards of as many images: its
floor leaves out building the basis images and the signs.

    python benchmarks/analysis_cost.py [--num-images 200] [--width 16] [--device cpu|cuda] [--threads N]
        [--analyses hybrid,components,...] [--json out.json]

The model is blur + CIFAR ResNet-18 (32 x 32 RGB, random weights; the cost of the counting analyses does not depend
on the weights, the attacks' does: the adversarial row is the same model, untrained).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from lowfreq import analysis
from lowfreq.backbones import CIFARResNet18
from lowfreq.frontends import GaussianBlur
from lowfreq.training import FrontEndClassifier


class Recorder(nn.Module):
    """The model, noting (batch size, grad enabled) of every forward pass."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.calls: list[tuple[int, bool]] = []

    def forward(self, x: Tensor) -> Tensor:
        self.calls.append((int(x.shape[0]), torch.is_grad_enabled()))
        return self.model(x)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


GRADIENT_METHODS = {"mask_fit", "adversarial"}
"""Analyses whose method is gradients (their floor keeps the gradient passes); every other floor is no-grad."""


def floor_seconds(model: nn.Module, calls: list[tuple[int, bool]], shape: tuple[int, ...],
                  device: torch.device) -> float:
    """Replay ``calls`` on random inputs: no-grad forwards, or forward + input gradient where marked."""
    inputs = {b: torch.rand(b, *shape, device=device) for b in {b for b, _ in calls}}
    model.eval()
    _sync(device)
    start = time.perf_counter()
    for batch, grad in calls:
        x = inputs[batch]
        if grad:
            x = x.detach().requires_grad_(True)
            torch.autograd.grad(model(x).sum(), x)  # the input gradient, as the attacks and mask fits take it
        else:
            with torch.no_grad():
                model(x)
    _sync(device)
    return time.perf_counter() - start


def _analyses(x: Tensor, y: Tensor, batch: int) -> dict[str, Callable[[nn.Module], Any]]:
    g = torch.Generator(device=x.device).manual_seed(0)
    noisy = (x + 0.08 * torch.randn(x.shape, generator=g, device=x.device)).clamp(0, 1)
    corrupted = {("gaussian_noise", 1): (noisy, y), ("contrast", 1): (0.5 + 0.4 * (x - 0.5), y)}
    num_adversarial = min(len(x), 32)
    return {
        "hybrid": lambda m: analysis.hybrid_curve(m, x, y, num_permutations=4, batch_size=batch),
        "components": lambda m: analysis.component_accuracy(m, x, y, batch_size=batch),
        "band_pass": lambda m: analysis.band_pass_accuracy(m, x, y, num_bands=8, batch_size=batch),
        "cue_conflict": lambda m: analysis.cue_conflict_decisions(m, x, y, (y + 1) % 10, batch_size=batch),
        "corruptions": lambda m: analysis.corruption_accuracy(m, corrupted, clean=(x, y), batch_size=batch),
        "heat_map": lambda m: analysis.fourier_heat_map(m, x, y, eps=4.0, stride=4, batch_size=batch),  # 34 bases
        "masks_filtered": lambda m: analysis.filtered_accuracy(m, x, y, torch.rand(x.shape[-2:], generator=g,
                                                                                   device=x.device),
                                                               batch_size=batch),
        "mask_fit": lambda m: analysis.fit_fourier_masks(m, x[:batch], y[:batch], scope="dataset", max_steps=20,
                                                         batch_size=batch),
        "adversarial": lambda m: analysis.minimal_perturbations(m, x[:num_adversarial], y[:num_adversarial],
                                                                batch_size=batch),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-images", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--width", type=int, default=16, help="ResNet-18 width (64 = the standard one)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--analyses", default=None, help="comma-separated subset (default: all)")
    parser.add_argument("--json", default=None, help="also write the table here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    net = FrontEndClassifier(GaussianBlur(sigma=1.5), CIFARResNet18(num_classes=10, width=args.width)).to(device)
    net.eval()
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.num_images, 3, 32, 32, generator=g).to(device)
    y = (torch.arange(args.num_images) % 10).to(device)
    runs = _analyses(x, y, args.batch_size)
    names = list(runs) if args.analyses is None else args.analyses.split(",")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    threads = f"cpu, {torch.get_num_threads()} threads"
    name_of_device = torch.cuda.get_device_name(device) if device.type == "cuda" else threads
    print(f"blur + CIFARResNet18(width={args.width}), {args.num_images} images 32x32, batch {args.batch_size}, "
          f"{name_of_device}, float32, torch {torch.__version__}, load average {load:.2f}")
    floor_seconds(net, [(args.batch_size, False), (args.batch_size, True)], (3, 32, 32), device)  # warm-up
    rows = []
    print(f"{'analysis':<16}{'passes':>8}{'images':>10}{'grad':>7}{'time s':>10}{'floor s':>10}{'ratio':>8}")
    for name in names:
        recorder = Recorder(net)
        _sync(device)
        start = time.perf_counter()
        runs[name](recorder)
        _sync(device)
        seconds = time.perf_counter() - start
        needed = recorder.calls if name in GRADIENT_METHODS else [(b, False) for b, _ in recorder.calls]
        floor = floor_seconds(net, needed, (3, 32, 32), device)
        images = sum(b for b, _ in recorder.calls)
        grad = sum(b for b, g_ in recorder.calls if g_)
        row = {"analysis": name, "passes": len(recorder.calls), "images": images, "grad_images": grad,
               "seconds": seconds, "floor_seconds": floor, "ratio": seconds / floor}
        rows.append(row)
        print(f"{name:<16}{row['passes']:>8}{images:>10}{grad:>7}{seconds:>10.2f}{floor:>10.2f}{row['ratio']:>8.2f}",
              flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": name_of_device, "load": load, "args": vars(args), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
