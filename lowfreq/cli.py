"""Command line: ``lowfreq fit -c recipe.yaml`` / ``lightning fit -c recipe.yaml`` (LightningCLI, subclass mode)."""

from __future__ import annotations

import sys
from typing import Any

from lightning import Trainer
from lightning.pytorch.callbacks import ProgressBar, TQDMProgressBar
from lightning.pytorch.cli import ArgsType, LightningCLI

from lowfreq.data import ImageDataModule
from lowfreq.models import FrontEndClassifier

__all__ = ["PROGRESS_BAR_REFRESH_STEPS", "LowFreqCLI", "main"]

PROGRESS_BAR_REFRESH_STEPS = 10  # a redraw every step costs 0.2-0.8 ms of host time per step (benchmarks/)


class LowFreqCLI(LightningCLI):
    """LightningCLI in subclass mode: any LightningModule / LightningDataModule given by ``class_path`` works.

    Unless the recipe disables the progress bar or brings its own, the bar is redrawn every
    ``PROGRESS_BAR_REFRESH_STEPS`` steps instead of every step.
    """

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        init = self.config_init[self.subcommand] if self.subcommand else self.config_init
        trainer = init.get("trainer") or {}
        given = trainer.get("callbacks")
        callbacks = [] if given is None else list(given) if isinstance(given, list) else [given]
        if trainer.get("enable_progress_bar") is not False and not any(isinstance(c, ProgressBar) for c in callbacks):
            kwargs.setdefault("callbacks", [*callbacks, TQDMProgressBar(refresh_rate=PROGRESS_BAR_REFRESH_STEPS)])
        return super().instantiate_trainer(**kwargs)


def main(args: ArgsType = None) -> None:
    """Entry point of the ``lowfreq`` and ``lightning`` scripts; ``args`` lets notebooks and tests drive it."""
    argv = list(sys.argv[1:] if args is None else args) if not isinstance(args, dict) else None
    if argv and argv[0] == "alignment":
        from lowfreq.analysis.alignment_cli import alignment_main

        alignment_main(argv[1:])
        return
    LowFreqCLI(
        FrontEndClassifier,
        ImageDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        seed_everything_default=0,
        save_config_kwargs={"overwrite": True},
        auto_configure_optimizers=False,
        args=args,
    )
