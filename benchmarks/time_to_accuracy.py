"""Wall-clock time to a target test accuracy for a CIFAR-10 recipe (default: recipes/blur_resnet18.yaml).

Builds the recipe through the CLI (``LowFreqCLI(run=False)``, so the model, optimiser and data settings are the
recipe's), overrides only what the measurement needs, and stops as soon as the test accuracy reaches the target:

* ``data.val_fraction = 0``: the whole training set is trained on and validation runs on the test set, so the
  per-epoch ``val_acc`` is the test accuracy;
* ``trainer.max_epochs = lr_scheduler.T_max = --max-epochs`` (cosine schedule over the budget);
* no checkpointing, logging or analysis callbacks (their cost is not training time).

Prints, per epoch, the elapsed time and test accuracy, then the time to target (from the ``fit`` call, so data
loading, device copies, compilation and the per-epoch test evaluation are included), epochs and accuracy.

    python benchmarks/time_to_accuracy.py --npz /path/to/cifar10_subset.npz        # the 8k-image subset
    python benchmarks/time_to_accuracy.py --data-dir data/cifar10 --target 0.85    # full CIFAR-10 (downloads)
    python benchmarks/time_to_accuracy.py --npz ... --batch-size 512 --lr 0.2 --compile --json $OUT/tta.json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import lightning as L
import torch

from lowfreq.cli.lightning_cli import LowFreqCLI
from lowfreq.data import ImageDataModule
from lowfreq.training import FrontEndClassifier

ROOT = Path(__file__).resolve().parents[1]


class StopAtAccuracy(L.Callback):
    """Records (epoch, seconds since ``t_start``, val_acc) after every validation and stops at ``target``."""

    def __init__(self, target: float, t_start: float) -> None:
        self.target, self.t_start = target, t_start
        self.history: list[dict] = []
        self.reached: dict | None = None

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # the fit loop validates before on_train_epoch_end, so val_acc is this epoch's test accuracy
        acc = trainer.callback_metrics.get("val_acc")
        if acc is None:
            return
        entry = {"epoch": trainer.current_epoch + 1, "seconds": time.perf_counter() - self.t_start, "acc": float(acc)}
        self.history.append(entry)
        if trainer.is_global_zero:
            print(f"epoch {entry['epoch']:3d}  {entry['seconds']:8.1f} s  test acc {entry['acc']:.4f}", flush=True)
        if self.reached is None and entry["acc"] >= self.target:
            self.reached = entry
            trainer.should_stop = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=str(ROOT / "recipes" / "blur_resnet18.yaml"))
    parser.add_argument("--npz", default=None, help="CIFAR-10 .npz (x_train, y_train, x_test, y_test)")
    parser.add_argument("--data-dir", default=None, help="torchvision CIFAR-10 folder (downloaded when online)")
    parser.add_argument("--target", type=float, default=None,
                        help="test accuracy to reach (default 0.85 for full CIFAR-10, 0.65 for a subset .npz)")
    parser.add_argument("--max-epochs", type=int, default=30, help="budget; also the cosine schedule's T_max")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the recipe's")
    parser.add_argument("--lr", type=float, default=None, help="default: the recipe's")
    parser.add_argument("--width", type=int, default=None, help="ResNet-18 width (default: the recipe's, 64)")
    parser.add_argument("--precision", default=None, help="default: the recipe's (bf16-mixed); 32-true on CPU")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--accelerator", default="auto")
    parser.add_argument("--device-resident", choices=["auto", "true", "false"], default="auto")
    parser.add_argument("--num-workers", type=int, default=None, help="DataLoader workers (DataLoader path only)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    subset = args.npz is not None
    target = args.target if args.target is not None else (0.65 if subset else 0.85)
    on_gpu = torch.cuda.is_available() and args.accelerator in ("auto", "gpu", "cuda")

    m, d = "--model.init_args.", "--data.init_args."
    resident = {"auto": "null", "true": "true", "false": "false"}[args.device_resident]
    cli_args = [
        "-c", args.recipe, f"--seed_everything={args.seed}",
        f"--trainer.max_epochs={args.max_epochs}", "--trainer.max_steps=-1",
        f"--trainer.accelerator={args.accelerator}", "--trainer.devices=1", "--trainer.callbacks=[]",
        "--trainer.logger=false", "--trainer.enable_checkpointing=false",
        f"--trainer.default_root_dir={tempfile.mkdtemp(prefix='time_to_accuracy-')}",  # the run summary goes there
        "--trainer.num_sanity_val_steps=0", f"{m}lr_scheduler.init_args.T_max={args.max_epochs}",
        f"{d}val_fraction=0.0", f"{d}device_resident={resident}",
    ]
    optional = [
        (args.npz, f"{d}npz_path={args.npz}"),
        (args.data_dir, f"{d}data_dir={args.data_dir}"),
        (args.batch_size, f"{d}batch_size={args.batch_size}"),
        (args.num_workers is not None, f"{d}num_workers={args.num_workers}"),
        (args.lr, f"{m}optimizer.init_args.lr={args.lr}"),
        (args.width, f"{m}backbone.init_args.width={args.width}"),
        (args.compile, f"{m}compile=true"),
    ]
    cli_args += [flag for given, flag in optional if given]
    precision = args.precision or (None if on_gpu else "32-true")
    if precision:
        cli_args.append(f"--trainer.precision={precision}")

    cli = LowFreqCLI(
        FrontEndClassifier, ImageDataModule, subclass_mode_model=True, subclass_mode_data=True,
        seed_everything_default=0, auto_configure_optimizers=False, save_config_callback=None, run=False,
        args=cli_args,
    )
    trainer, model, data = cli.trainer, cli.model, cli.datamodule
    t_start = time.perf_counter()
    stop = StopAtAccuracy(target, t_start)
    trainer.callbacks.append(stop)
    trainer.fit(model, data)
    total = time.perf_counter() - t_start

    device = torch.cuda.get_device_name() if trainer.strategy.root_device.type == "cuda" else "cpu"
    loader = trainer.train_dataloader
    load = os.getloadavg()
    summary = {
        "recipe": args.recipe, "device": device, "precision": str(trainer.precision),
        "batch_size": data.batch_size, "lr": args.lr, "compile": args.compile,
        "train_images": len(data.analysis_dataset("train")), "test_images": len(data.analysis_dataset("test")),
        "data_path": type(loader).__name__, "target": target, "max_epochs": args.max_epochs,
        "reached": stop.reached, "history": stop.history, "fit_seconds": total,
        "threads": torch.get_num_threads(), "load_average": load,
    }
    best = max(stop.history, key=lambda e: e["acc"]) if stop.history else None
    print(f"device {device} | precision {summary['precision']} | batch {data.batch_size} | "
          f"{summary['train_images']} train / {summary['test_images']} test images | data path {summary['data_path']}"
          + ("" if on_gpu else f" | threads {torch.get_num_threads()} | load average {load[0]:.2f}"))
    if stop.reached:
        r = stop.reached
        print(f"time to {target:.2%} test accuracy: {r['seconds']:.1f} s, {r['epoch']} epochs "
              f"(accuracy {r['acc']:.4f})")
    else:
        print(f"target {target:.2%} not reached in {args.max_epochs} epochs ({total:.1f} s); best test accuracy "
              f"{best['acc']:.4f} at epoch {best['epoch']}" if best else "no validation ran")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
