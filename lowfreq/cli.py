"""Command line: ``lowfreq fit -c recipe.yaml`` / ``lightning fit -c recipe.yaml`` (LightningCLI, subclass mode)."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Any

import lightning as L
from jsonargparse import Namespace
from lightning import Trainer
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, ProgressBar, TQDMProgressBar
from lightning.pytorch.cli import ArgsType, LightningCLI
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

import lowfreq.models  # noqa: F401  (registers the lowfreq modules for short class names)
from lowfreq.data import ImageDataModule

__all__ = ["DEBUG_ENV", "PROGRESS_BAR_REFRESH_STEPS", "LowFreqCLI", "main"]

PROGRESS_BAR_REFRESH_STEPS = 10  # a redraw every step costs 0.2-0.8 ms of host time per step (benchmarks/)
DEBUG_ENV = "LOWFREQ_DEBUG"
"""Set to 1 to see full tracebacks instead of lowfreq's one-line error message."""

_DEFAULT_LOGGER = "lightning.pytorch.loggers.TensorBoardLogger"
_LOGGERS_WITH_VERSION = {_DEFAULT_LOGGER, "lightning.pytorch.loggers.CSVLogger"}


def _latest_run(runs: Path) -> tuple[int, Path] | None:
    """(N, path of last.ckpt) of the highest ``version_N`` under ``runs`` that holds ``checkpoints/last.ckpt``."""
    found = []
    for run in runs.glob("version_*"):
        last = run / "checkpoints" / "last.ckpt"
        if run.name.removeprefix("version_").isdigit() and last.is_file():
            found.append((int(run.name.removeprefix("version_")), last))
    return max(found) if found else None


class LowFreqCLI(LightningCLI):
    """LightningCLI in subclass mode: any LightningModule / LightningDataModule given by ``class_path`` works.

    On top of Lightning's CLI:

    * checkpoints keep ``last.ckpt`` (``ModelCheckpoint(save_last=True)``), and ``fit --ckpt_path last`` resumes
      the latest interrupted run **in its own run directory** (``lightning_logs/version_N``, the same logger
      version), so metrics, checkpoints and analysis histories continue where they stopped;
    * unless the recipe disables the progress bar or brings its own, the bar is redrawn every
      ``PROGRESS_BAR_REFRESH_STEPS`` steps instead of every step.
    """

    def before_instantiate_classes(self) -> None:
        """``fit --ckpt_path last``: resume the latest run in its own directory."""
        if self.subcommand == "fit" and self.config["fit"].get("ckpt_path") == "last":
            self._resume_in_place(self.config["fit"])

    def _resume_in_place(self, config: Namespace) -> None:
        """Point ``ckpt_path`` at the latest ``version_N/checkpoints/last.ckpt`` and the logger at version N."""
        trainer = config["trainer"]
        root = Path(trainer.get("default_root_dir") or os.getcwd())
        logger = trainer.get("logger")
        if logger is False:
            return  # no logger: checkpoints live in <default_root_dir>/checkpoints, Lightning finds last.ckpt
        first = logger[0] if isinstance(logger, list) else logger
        if first in (None, True):
            first = Namespace(class_path=_DEFAULT_LOGGER, init_args=Namespace(save_dir=str(root)))
            trainer["logger"] = first
        elif not (isinstance(first, Namespace) and first.get("class_path") in _LOGGERS_WITH_VERSION):
            return  # another logger: Lightning's own search for last.ckpt
        init_args = first.get("init_args") or Namespace()
        first["init_args"] = init_args
        runs = Path(init_args.get("save_dir") or root) / (init_args.get("name") or "lightning_logs")
        latest = _latest_run(runs)
        if latest is None:
            rank_zero_warn(f"--ckpt_path last: no interrupted run (version_N/checkpoints/last.ckpt) in {runs}; "
                           "starting a new run")
            config["ckpt_path"] = None
            return
        version, last = latest
        init_args["version"] = version
        config["ckpt_path"] = str(last)
        rank_zero_info(f"resuming {runs / f'version_{version}'} from {last}")

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """The Trainer, with the recipe's callbacks."""
        init = self.config_init[self.subcommand] if self.subcommand else self.config_init
        trainer = init.get("trainer") or {}
        given = trainer.get("callbacks")
        callbacks = [] if given is None else list(given) if isinstance(given, list) else [given]
        extra: list[Callback] = []
        if trainer.get("enable_progress_bar") is not False and not any(isinstance(c, ProgressBar) for c in callbacks):
            extra.append(TQDMProgressBar(refresh_rate=PROGRESS_BAR_REFRESH_STEPS))
        if trainer.get("enable_checkpointing") is not False:
            checkpoints = [c for c in callbacks if isinstance(c, ModelCheckpoint)]
            for callback in checkpoints:
                callback.save_last = callback.save_last or True  # needed by --ckpt_path last
            if not checkpoints:
                extra.append(ModelCheckpoint(save_last=True))
        if extra:
            kwargs.setdefault("callbacks", [*callbacks, *extra])
        return super().instantiate_trainer(**kwargs)


def _root_cause(err: BaseException) -> BaseException:
    while err.__cause__ is not None or (err.__context__ is not None and not err.__suppress_context__):
        err = err.__cause__ or err.__context__  # type: ignore[assignment]
    return err


def _is_user_error(err: BaseException) -> bool:
    """A lowfreq input check (or a missing file / package), not a bug: worth one line, not a traceback."""
    if isinstance(err, (FileNotFoundError, ImportError, PermissionError)):
        return True
    frames = traceback.extract_tb(err.__traceback__)
    package = str(Path(__file__).parent)
    raised_here = bool(frames) and frames[-1].filename.startswith(package)
    return isinstance(err, (ValueError, TypeError, RuntimeError)) and raised_here


def main(args: ArgsType = None) -> None:
    """Entry point of the ``lowfreq`` and ``lightning`` scripts; ``args`` lets notebooks and tests drive it.

    A bad input (a value a lowfreq class rejects, a missing file) ends the command with one line,
    ``lowfreq: error: ...``, and exit status 2; set ``LOWFREQ_DEBUG=1`` for the full traceback.
    """
    try:
        _main(args)
    except Exception as err:
        cause = _root_cause(err)
        if os.environ.get(DEBUG_ENV) or not _is_user_error(cause):
            raise
        print(f"lowfreq: error: {type(cause).__name__}: {cause}", file=sys.stderr)
        print(f"(set {DEBUG_ENV}=1 for the full traceback)", file=sys.stderr)
        raise SystemExit(2) from None


def _main(args: ArgsType) -> None:
    argv = list(sys.argv[1:] if args is None else args) if not isinstance(args, dict) else None
    if argv and argv[0] == "alignment":
        from lowfreq.mvh.cli import alignment_main

        alignment_main(argv[1:])
        return
    LowFreqCLI(
        L.LightningModule,  # any LightningModule by class_path (FrontEndClassifier, FourierMaskProbe, ...)
        ImageDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        seed_everything_default=0,
        save_config_kwargs={"overwrite": True},
        auto_configure_optimizers=False,
        args=args,
    )
