"""Training throughput: a hand-written PyTorch loop versus lowfreq's ``Trainer.fit`` path, same GPU, same run.

Both train blur-ResNet-18 (CIFAR stem, Gaussian blur sigma = 1.5 px in front) with SGD (lr 0.1, momentum 0.9,
Nesterov, weight decay 5e-4) on CIFAR-shaped uint8 data held on the device, with random crop (4 px reflect
padding) + flip done on the device, the same batch size, precision and memory format, and exact epochs (the last
batch of an epoch is partial). The plain loop has its own minimal on-device data code; the lowfreq path is what a
recipe runs: ``CIFAR10DataModule`` (device-resident, auto) + ``FrontEndClassifier`` + ``Trainer`` with a CSV
logger and the progress bar of ``lowfreq fit``. Warm-up steps (cuDNN autotuning, ``torch.compile``) are excluded; the
clock runs between two device synchronisations. Also prints FLOPs per image (``FlopCounterMode``: forward, and
forward + backward) and the fraction of the device's dense peak.

    python benchmarks/train_throughput.py                       # GPU defaults: batch 512, bf16-mixed, channels_last
    python benchmarks/train_throughput.py --compile --json $OUT/throughput_compile.json
    python benchmarks/train_throughput.py --device cpu --batch-size 64 --width 16 --steps 10 --warmup 3 \\
        --num-train 2048                                        # CPU smoke run
    python benchmarks/train_throughput.py --backbone linear --device cpu --batch-size 8 --steps 1000 --rounds 3
                                                                # host time per step that Lightning + lowfreq add

``--backbone linear`` swaps ResNet-18 for a linear classifier whose compute is negligible: the per-step times
are then host time (Python, Lightning, dispatch), and their difference is what the fit path adds per step on
any device. On a GPU that cost is hidden as long as the host stays ahead of the device, i.e. as long as the
plain loop's host time plus this overhead stays below the GPU's time per step.

Data: ``--npz`` uses ``x_train``/``y_train`` of a CIFAR-10 .npz; by default 50,000 random CIFAR-shaped images
(throughput does not depend on pixel values).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lowfreq.backbones import Backbone, CIFARResNet18, Normalize
from lowfreq.cli.lightning_cli import PROGRESS_BAR_REFRESH_STEPS
from lowfreq.frontends import GaussianBlur

# Dense (no sparsity) peak tensor throughput in FLOP/s, from the vendor data sheets, by precision.
# Matched against torch.cuda.get_device_name() in this order.
PEAK_FLOPS: list[tuple[str, dict[str, float]]] = [
    ("H100 PCIe", {"bf16": 756e12, "fp32": 51e12, "tf32": 378e12}),
    ("H100 NVL", {"bf16": 835e12, "fp32": 60e12, "tf32": 418e12}),
    ("H100", {"bf16": 989e12, "fp32": 67e12, "tf32": 495e12}),  # SXM ("H100 80GB HBM3")
    ("H200", {"bf16": 989e12, "fp32": 67e12, "tf32": 495e12}),
    ("A100", {"bf16": 312e12, "fp32": 19.5e12, "tf32": 156e12}),
]


def _peak(device: torch.device, precision: str) -> tuple[str, float | None]:
    if device.type != "cuda":
        return "cpu", None
    name = torch.cuda.get_device_name(device)
    kind = "bf16" if "bf16" in precision else ("fp32" if precision.startswith("32") else "fp16")
    for key, peaks in PEAK_FLOPS:
        if key in name:
            return name, peaks.get(kind if kind != "fp16" else "bf16")
    return name, None


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _sgd(params, lr: float = 0.1) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=5e-4, nesterov=True)


def _data(args: argparse.Namespace) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 3, 32, 32) uint8 images and (N,) int64 labels on the CPU."""
    if args.npz:
        with np.load(args.npz) as f:
            x, y = f["x_train"], f["y_train"]
        images = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        return images[: args.num_train], torch.from_numpy(y.astype(np.int64))[: args.num_train]
    g = torch.Generator().manual_seed(0)
    n = args.num_train or 50_000
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    return images, torch.randint(0, 10, (n,), generator=g)


class LinearClassifier(Backbone):
    """Flatten + linear: negligible compute, so that a step's time is the framework's host time."""

    def __init__(self, num_classes: int = 10, image_size: int = 32) -> None:
        super().__init__()
        self.num_classes, self.normalize = num_classes, Normalize()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * image_size * image_size, num_classes))


def _model_parts(args: argparse.Namespace) -> tuple[GaussianBlur, Backbone]:
    torch.manual_seed(0)
    if args.backbone == "linear":
        return GaussianBlur(args.sigma), LinearClassifier()
    return GaussianBlur(args.sigma), CIFARResNet18(num_classes=10, width=args.width)


# ---- plain loop --------------------------------------------------------------------------------------------
def plain_loop(args: argparse.Namespace, images: torch.Tensor, labels: torch.Tensor, device: torch.device) -> dict:
    """A hand-written eager loop: uint8 data on the device, crop + flip on the device, autocast, channels_last."""
    frontend, backbone = _model_parts(args)
    frontend, backbone = frontend.to(device), backbone.to(device)
    if args.channels_last:
        backbone = backbone.to(memory_format=torch.channels_last)
    if args.compile:
        backbone.compile(dynamic=False)
    opt = _sgd(backbone.parameters())
    bf16 = "bf16" in args.precision
    n, b, p = images.shape[0], args.batch_size, 4
    padded = F.pad(images.to(device).float(), (p, p, p, p), mode="reflect").to(torch.uint8)  # (N, 3, 40, 40)
    y_all = labels.to(device)
    ar = torch.arange(32, device=device)
    ch = torch.arange(3, device=device)[None, :, None, None]

    def batches():
        while True:
            perm = torch.randperm(n, device=device)
            for start in range(0, n, b):
                idx = perm[start : start + b]
                k = idx.numel()
                rows = torch.randint(0, 2 * p + 1, (k, 1), device=device) + ar  # (k, 32)
                cols = torch.randint(0, 2 * p + 1, (k, 1), device=device) + ar
                cols = torch.where(torch.rand(k, 1, device=device) < 0.5, cols.flip(-1), cols)
                x = padded[idx[:, None, None, None], ch, rows[:, None, :, None], cols[:, None, None, :]]
                yield x.float().div_(255.0), y_all[idx]

    it = batches()
    backbone.train()
    seen = 0
    t0 = None
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            _sync(device)
            t0 = time.perf_counter()
        x, y = next(it)
        x = frontend(x)  # float32 (autocast is disabled inside the front-end)
        if args.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(backbone(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step >= args.warmup:
            seen += y.shape[0]
    _sync(device)
    seconds = time.perf_counter() - t0
    return {"images": seen, "seconds": seconds, "images_per_s": seen / seconds,
            "ms_per_step": 1e3 * seconds / args.steps, "final_loss": float(loss.detach())}


# ---- lowfreq fit path --------------------------------------------------------------------------------------
def _write_npz(path: Path, images: torch.Tensor, labels: torch.Tensor) -> None:
    hwc = images.permute(0, 2, 3, 1).numpy()
    np.savez(path, x_train=hwc, y_train=labels.numpy(), x_test=hwc[:1000], y_test=labels[:1000].numpy())


def lowfreq_fit(
    args: argparse.Namespace, npz: Path, device: torch.device, root: Path, sync_check: bool = False
) -> dict:
    """``Trainer.fit`` on CIFAR10DataModule + FrontEndClassifier, timed from step ``warmup`` to the last step."""
    import lightning as L

    from lowfreq.data import CIFAR10DataModule, DeviceLoader
    from lowfreq.training.classifier import FrontEndClassifier

    class Clock(L.Callback):
        def __init__(self) -> None:
            self.t0 = self.t1 = None
            self.seen = 0
            self.sync_warnings: list[str] = []
            self._catcher = None

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if trainer.global_step == args.warmup:
                _sync(device)
                self.t0 = time.perf_counter()
                if sync_check and device.type == "cuda":
                    self._catcher = warnings.catch_warnings(record=True)
                    self.records = self._catcher.__enter__()
                    warnings.simplefilter("always")
                    torch.cuda.set_sync_debug_mode("warn")

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if self.t0 is not None:
                self.seen += batch[1].shape[0]
            if trainer.global_step == args.warmup + args.steps:
                if self._catcher is not None:
                    torch.cuda.set_sync_debug_mode("default")
                    self.sync_warnings = [str(w.message).splitlines()[0] for w in self.records]
                    self._catcher.__exit__(None, None, None)
                    self._catcher = None
                _sync(device)
                self.t1 = time.perf_counter()

    frontend, backbone = _model_parts(args)
    model = FrontEndClassifier(
        frontend, backbone, optimizer=functools.partial(_sgd, lr=0.1),
        channels_last=args.channels_last, compile=args.compile,
    )
    resident = {"auto": None, "true": True, "false": False}[args.device_resident]
    data = CIFAR10DataModule(
        npz_path=str(npz), val_fraction=0.0, batch_size=args.batch_size, seed=0, device_resident=resident
    )
    clock = Clock()
    refresh = args.progress_bar_refresh
    bar = [L.pytorch.callbacks.TQDMProgressBar(refresh_rate=refresh)] if refresh else []
    trainer = L.Trainer(
        accelerator=device.type, devices=1, precision=args.precision, max_steps=args.warmup + args.steps,
        limit_val_batches=0, num_sanity_val_steps=0, enable_checkpointing=False, enable_model_summary=False,
        enable_progress_bar=bool(bar), benchmark=args.cudnn_benchmark if device.type == "cuda" else None,
        logger=L.pytorch.loggers.CSVLogger(root), default_root_dir=root, callbacks=[clock, *bar],
    )
    trainer.fit(model, data)
    if clock.t1 is None:
        raise RuntimeError("the timed window did not complete; raise --steps or lower --warmup")
    seconds = clock.t1 - clock.t0
    loader = trainer.train_dataloader
    out = {
        "images": clock.seen, "seconds": seconds, "images_per_s": clock.seen / seconds,
        "ms_per_step": 1e3 * seconds / args.steps,
        "resident_device": str(getattr(loader, "device", "n/a")),
    }
    out["data_path"] = "device-resident" if isinstance(loader, DeviceLoader) else "DataLoader"
    if sync_check:
        out["sync_warnings"] = clock.sync_warnings
    return out


# ---- FLOPs -------------------------------------------------------------------------------------------------
def flops_per_image(args: argparse.Namespace) -> dict:
    """Forward and forward + backward FLOPs per 32 x 32 image (blur + backbone), counted on a CPU batch of 2."""
    from torch.utils.flop_counter import FlopCounterMode

    frontend, backbone = _model_parts(args)
    x = torch.rand(2, 3, 32, 32)
    with FlopCounterMode(display=False) as fwd:
        logits = backbone(frontend(x))
    with FlopCounterMode(display=False) as bwd:
        F.cross_entropy(logits, torch.zeros(2, dtype=torch.long)).backward()
    forward = fwd.get_total_flops() / 2
    train = forward + bwd.get_total_flops() / 2
    return {"forward_flops": forward, "train_flops": train}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (cuda when available), cuda, cuda:1, cpu")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=300, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=30, help="untimed steps first (autotuning, compile)")
    parser.add_argument("--precision", default=None,
                        help="Lightning precision; default bf16-mixed on GPU, 32-true on CPU")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                        help="default: on for GPU, off for CPU")
    parser.add_argument("--compile", action="store_true", help="torch.compile the backbone in both paths")
    parser.add_argument("--cudnn-benchmark", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--progress-bar-refresh", type=int, default=PROGRESS_BAR_REFRESH_STEPS,
                        help="lowfreq path: redraw the progress bar every N steps (default: as `lowfreq fit` does; "
                             "1: Lightning's own default; 0: no bar)")
    parser.add_argument("--device-resident", choices=["auto", "true", "false"], default="auto",
                        help="lowfreq data path: auto = device-resident on CUDA, DataLoader on CPU (as recipes)")
    parser.add_argument("--backbone", choices=["resnet18", "linear"], default="resnet18",
                        help="linear: negligible compute, to measure the host time per step of each path")
    parser.add_argument("--width", type=int, default=64, help="ResNet-18 first-stage width (64 = standard)")
    parser.add_argument("--sigma", type=float, default=1.5)
    parser.add_argument("--num-train", type=int, default=None, help="training images (default 50,000 or all)")
    parser.add_argument("--npz", default=None, help="CIFAR-10 .npz to take x_train/y_train from")
    parser.add_argument("--rounds", type=int, default=2, help="alternating plain/lowfreq rounds; best of each")
    parser.add_argument("--sync-check", action="store_true",
                        help="CUDA: one more lowfreq run with torch.cuda.set_sync_debug_mode('warn') in the window")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args()

    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    if device.type == "cuda" and device.index is not None:
        torch.cuda.set_device(device)
    args.precision = args.precision or ("bf16-mixed" if device.type == "cuda" else "32-true")
    if args.channels_last is None:
        args.channels_last = device.type == "cuda"
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = args.cudnn_benchmark

    images, labels = _data(args)
    flops = flops_per_image(args)
    name, peak = _peak(device, args.precision)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"device: {name} | torch {torch.__version__} | batch {args.batch_size} | precision {args.precision} | "
          f"channels_last {args.channels_last} | compile {args.compile} | cudnn.benchmark "
          f"{args.cudnn_benchmark if device.type == 'cuda' else 'n/a'} | {images.shape[0]} train images | "
          f"{args.backbone} width {args.width} | sigma {args.sigma} | bar every {args.progress_bar_refresh} | "
          f"timed {args.steps} steps after {args.warmup}"
          + (f" | threads {torch.get_num_threads()} | load average {load[0]:.2f}"
             if device.type == "cpu" and load else ""),
          flush=True)
    print(f"FLOPs per image: forward {flops['forward_flops'] / 1e9:.3f} G, training step (fwd + bwd) "
          f"{flops['train_flops'] / 1e9:.3f} G", flush=True)

    plain, fit = [], []
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "data.npz"
        _write_npz(npz, images, labels)
        for r in range(args.rounds):
            plain.append(plain_loop(args, images, labels, device))
            print(f"round {r}: plain loop   {plain[-1]['images_per_s']:10.0f} images/s "
                  f"{plain[-1]['ms_per_step']:7.3f} ms/step", flush=True)
            fit.append(lowfreq_fit(args, npz, device, Path(tmp) / f"fit{r}"))
            print(f"round {r}: lowfreq fit  {fit[-1]['images_per_s']:10.0f} images/s "
                  f"{fit[-1]['ms_per_step']:7.3f} ms/step ({fit[-1]['data_path']})", flush=True)
        sync = lowfreq_fit(args, npz, device, Path(tmp) / "sync", sync_check=True) if args.sync_check else None

    best_plain = max(p["images_per_s"] for p in plain)
    best_fit = max(f["images_per_s"] for f in fit)
    ratio = best_fit / best_plain
    achieved = best_fit * flops["train_flops"]
    print(f"plain loop:   {best_plain:10.0f} images/s (best of {args.rounds}; median "
          f"{statistics.median(p['images_per_s'] for p in plain):.0f})")
    print(f"lowfreq fit:  {best_fit:10.0f} images/s (best of {args.rounds}; median "
          f"{statistics.median(f['images_per_s'] for f in fit):.0f})")
    print(f"ratio lowfreq / plain: {ratio:.3f}")
    step_plain, step_fit = (min(r["ms_per_step"] for r in rs) for rs in (plain, fit))
    print(f"time per step (best): plain {step_plain:.3f} ms, lowfreq {step_fit:.3f} ms, "
          f"difference {step_fit - step_plain:+.3f} ms")
    line = f"lowfreq achieves {achieved / 1e12:.2f} TFLOP/s of model FLOPs"
    if peak:
        line += f" = {100 * achieved / peak:.1f} % of the {name} dense peak ({peak / 1e12:.0f} TFLOP/s)"
    print(line)
    if sync is not None:
        msgs = sync.get("sync_warnings", [])
        print(f"sync check: {len(msgs)} synchronizing CUDA calls in {args.steps} lowfreq steps"
              + (f"; first: {sorted(set(msgs))[:3]}" if msgs else ""))
    if args.json:
        result = {
            "device": name, "torch": torch.__version__, "batch_size": args.batch_size, "precision": args.precision,
            "channels_last": args.channels_last, "compile": args.compile, "cudnn_benchmark": args.cudnn_benchmark,
            "backbone": args.backbone, "progress_bar_refresh": args.progress_bar_refresh,
            "width": args.width, "sigma": args.sigma, "num_train": int(images.shape[0]), "steps": args.steps,
            "warmup": args.warmup, "plain": plain, "lowfreq": fit, "best_plain_images_per_s": best_plain,
            "best_lowfreq_images_per_s": best_fit, "ratio": ratio,
            "best_plain_ms_per_step": step_plain, "best_lowfreq_ms_per_step": step_fit, **flops,
            "achieved_flops": achieved,
            "peak_flops": peak, "fraction_of_peak": achieved / peak if peak else None,
            "load_average": load, "threads": torch.get_num_threads(), "sync_check": sync,
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
