"""Command line: ``lowfreq fit -c recipe.yaml`` / ``lightning fit -c recipe.yaml`` (LightningCLI, subclass mode)."""

from __future__ import annotations

import sys

from lightning.pytorch.cli import ArgsType, LightningCLI

from lowfreq.data import ImageDataModule
from lowfreq.models import FrontEndClassifier

__all__ = ["LowFreqCLI", "main"]


class LowFreqCLI(LightningCLI):
    """LightningCLI in subclass mode: any LightningModule / LightningDataModule given by ``class_path`` works."""


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
