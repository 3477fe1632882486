"""Minimal adversarial perturbations: the authors' 2021 figure protocol against ``minimal_perturbations`` defaults.

One process, one model (a small CNN trained for one epoch on the embedded synthetic shapes, 32 x 32 RGB), the same
``--num-images`` test images with the same seeded targets:

(a) P001's 2021 protocol (the authors' early-2021 code): Foolbox Brendel-Bethge L-inf from ``--seeds`` random
    starting images the model assigns to the target class (drawn from a pool of test images), minimum over the seeds;
(b) ``lowfreq.analysis.minimal_perturbations`` with each of ``--protocols`` (keyword sets of
    ``lowfreq.analysis.adversarial.PROTOCOLS``; default: "default", the former default "every-attack", "smoke").
    A name ending in "@former" runs that protocol as lowfreq ran it before the attacks took input gradients only:
    every backward pass also computes the weight gradients (the model's parameters are hidden from
    ``minimal_perturbations``, which otherwise switches their gradients off).

Prints seconds, median and mean minimal epsilon (in 1/255) and failures of each, and the ratios to (a) and to the
first protocol. Numba's compilation of Brendel-Bethge runs once before the clocks (2 images).

    python benchmarks/adversarial.py [--num-images 100] [--seeds 4] [--bb-steps 1000] [--threads N]
        [--protocols default,every-attack,every-attack@former,smoke] [--skip-authors]
        [--model simplecnn|resnet18] [--npz PATH]
"""

from __future__ import annotations

import argparse
import os
import time

import foolbox as fb
import lightning as L
import numpy as np
import torch

from lowfreq.analysis.adversarial import PROTOCOLS, derangement_targets, minimal_perturbations
from lowfreq.backbones import CIFARResNet18, SimpleCNN
from lowfreq.data import CIFAR10DataModule, SyntheticShapesDataModule
from lowfreq.frontends import GaussianBlur, Identity
from lowfreq.training import FrontEndClassifier


def _train(args: argparse.Namespace) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    if args.npz:
        data = CIFAR10DataModule(npz_path=args.npz, download=False, batch_size=128)
    else:
        data = SyntheticShapesDataModule(num_train=args.train_images, num_val=100, num_test=args.pool_images,
                                         num_conflict=10, image_size=32, batch_size=64, seed=0)
    torch.manual_seed(0)
    if args.model == "resnet18":
        model = FrontEndClassifier(GaussianBlur(sigma=1.5), CIFARResNet18(num_classes=10, width=16))
    else:
        model = FrontEndClassifier(Identity(), SimpleCNN(num_classes=10, widths=(16, 32)))
    L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
              enable_model_summary=False).fit(model, datamodule=data)
    data.setup("test")
    x, y = zip(*(data.analysis_dataset("test")[i] for i in range(args.pool_images)), strict=True)
    return model.eval(), torch.stack(x), torch.stack(y).long()


def _authors_protocol(model, x, targets, pool_x, pool_pred, seeds: int, steps: int) -> torch.Tensor:
    """BB L-inf from random pool images classified as the target, min L-inf distance over the seeds."""
    fmodel = fb.PyTorchModel(model, bounds=(0, 1))
    attack = fb.attacks.LinfinityBrendelBethgeAttack(steps=steps)
    best = torch.full((len(x),), float("inf"), dtype=torch.float64)
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        starts, usable = x.clone(), torch.zeros(len(x), dtype=torch.bool)
        for i, t in enumerate(targets.tolist()):
            donors = torch.nonzero(pool_pred == t).flatten()
            if donors.numel():
                starts[i], usable[i] = pool_x[donors[int(rng.integers(donors.numel()))]], True
        sub = torch.nonzero(usable).flatten()
        criterion = fb.criteria.TargetedMisclassification(targets[sub])
        _, adv, _ = attack(fmodel, x[sub], criterion, epsilons=None, starting_points=starts[sub])
        with torch.no_grad():
            ok = model(adv).argmax(-1) == targets[sub]
        eps = (adv - x[sub]).flatten(1).abs().amax(1).double()
        best[sub[ok]] = torch.minimum(best[sub[ok]], eps[ok])
    return best


class _WithWeightGradients(torch.nn.Module):
    """``model`` with its parameters out of ``minimal_perturbations``' reach: they keep ``requires_grad``."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        object.__setattr__(self, "hidden", model)  # not a submodule: .parameters() is empty

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-images", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--bb-steps", type=int, default=1000)
    parser.add_argument("--train-images", type=int, default=4000)
    parser.add_argument("--pool-images", type=int, default=500)
    parser.add_argument("--protocols", default="default,every-attack,smoke", help="PROTOCOLS names, comma-separated")
    parser.add_argument("--skip-authors", action="store_true", help="leave out (a), the authors' protocol")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--npz", default=None, help="train and attack on this CIFAR-10 .npz (e.g. the shared subset) "
                        "instead of the synthetic shapes")
    parser.add_argument("--model", choices=("simplecnn", "resnet18"), default="simplecnn",
                        help="SimpleCNN(16, 32), or blur (sigma 1.5) + CIFARResNet18(width=16) as in the CIFAR recipes")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model, pool_x, pool_y = _train(args)
    x, y = pool_x[: args.num_images], pool_y[: args.num_images]
    targets = derangement_targets(y, seed=0)
    with torch.no_grad():
        pool_pred = model(pool_x).argmax(-1)
        accuracy = float((pool_pred == pool_y).float().mean())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    name = "blur + CIFARResNet18(width=16)" if args.model == "resnet18" else "SimpleCNN(16, 32)"
    print(f"{args.num_images} images, {name} after 1 epoch (test accuracy {accuracy:.3f}), "
          f"{torch.get_num_threads()} threads, load average {load:.2f}", flush=True)

    minimal_perturbations(model, x[:2], y[:2], targets=targets[:2], bb_steps=2)  # numba compiles here, once

    def stats(eps: torch.Tensor) -> tuple[float, float, int]:
        finite = eps[torch.isfinite(eps)]
        return float(eps.median()) * 255, float(finite.mean()) * 255, int((~torch.isfinite(eps)).sum())

    rows: dict[str, tuple[float, torch.Tensor]] = {}
    if not args.skip_authors:
        t0 = time.perf_counter()
        authors = _authors_protocol(model, x, targets, pool_x, pool_pred, args.seeds, args.bb_steps)
        rows[f"(a) BB from {args.seeds} target-class starts, {args.bb_steps} steps"] = (time.perf_counter() - t0,
                                                                                      authors)
    for spec in args.protocols.split(","):
        name, _, former = spec.partition("@")
        if former not in ("", "former") or name not in PROTOCOLS:
            parser.error(f"--protocols: each must be one of {sorted(PROTOCOLS)}, optionally with @former; got {spec}")
        attacked = _WithWeightGradients(model) if former else model
        t0 = time.perf_counter()
        eps = minimal_perturbations(attacked, x, y, targets=targets, **PROTOCOLS[name]).epsilons
        label = f"(b) {spec}: {'+'.join(PROTOCOLS[name]['attacks'])}, pgd on {PROTOCOLS[name]['pgd_images']}"
        rows[label] = (time.perf_counter() - t0, eps)
    first_s, first = next(iter(rows.values()))
    first_median = stats(first)[0]
    for label, (seconds, eps) in rows.items():
        median, mean, failed = stats(eps)
        print(f"{label:<48} {seconds:8.1f} s  median {median:7.3f}/255  mean {mean:7.3f}/255  failed {failed}  "
              f"time x{seconds / first_s:.3f}  median x{median / first_median:.4f}  "
              f"per image <= first: {float((eps <= first * 1.0001).double().mean()):.2f}", flush=True)


if __name__ == "__main__":
    main()
