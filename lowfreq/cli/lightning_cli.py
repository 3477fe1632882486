"""Command line: ``lowfreq fit -c recipe.yaml`` / ``lightning fit -c recipe.yaml`` (LightningCLI, subclass mode).

The one dispatcher, ``lowfreq.cli.commands.dispatch`` (behind the console scripts and ``main``), prints the top-level
help and runs the light subcommands (``alignment``, ``download``, ``compare``, ``report``, ``list``) without importing
Lightning; ``fit``, ``validate``, ``test`` and ``predict`` come to ``run``, which turns Lightning's advertising tips
off (a logging filter on its rank-zero loggers). ``main`` accepts every subcommand too (notebooks and tests call it
with a list).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, get_type_hints

import lightning as L
from jsonargparse import ArgumentError, Namespace
from lightning import Trainer
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, ProgressBar, TQDMProgressBar
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

import lowfreq.training  # noqa: F401  (registers the lowfreq modules for short class names)
from lowfreq.cli.commands import DEBUG_ENV, LIGHTNING_COMMANDS, _reported, dispatch, guarded
from lowfreq.cli.config_errors import describe, one_line
from lowfreq.data import ImageDataModule
from lowfreq.training.checkpoints import DATA_KEY, check_fits_data, read_checkpoint

__all__ = ["DEBUG_ENV", "PROGRESS_BAR_REFRESH_STEPS", "LowFreqCLI", "main", "run"]

PROGRESS_BAR_REFRESH_STEPS = 10  # a redraw every step costs 0.2-0.8 ms of host time per step (benchmarks/)

_DEFAULT_LOGGER = "lightning.pytorch.loggers.TensorBoardLogger"
_LOGGERS_WITH_VERSION = {_DEFAULT_LOGGER, "lightning.pytorch.loggers.CSVLogger"}
_EVALUATING = ("validate", "test", "predict")
_LIGHTNING_CKPT_NAMES = ("best", "last", "hpc", "registry")  # ckpt_path values Lightning resolves itself


def _runs_folder(trainer: Namespace) -> Path | None:
    """Where the runs' ``version_N`` folders of ``trainer``'s (first) logger are; None: no logger or another kind."""
    root = Path(trainer.get("default_root_dir") or os.getcwd())
    logger = trainer.get("logger")
    first = logger[0] if isinstance(logger, list) and logger else logger
    if first is False:
        return None
    if first in (None, True):
        return root / "lightning_logs"
    if not (isinstance(first, Namespace) and first.get("class_path") in _LOGGERS_WITH_VERSION):
        return None
    init_args = first.get("init_args") or Namespace()
    return Path(init_args.get("save_dir") or root) / (init_args.get("name") or "lightning_logs")


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
      ``PROGRESS_BAR_REFRESH_STEPS`` steps instead of every step;
    * ``trainer.precision: auto`` picks ``bf16-mixed`` on a CUDA device with bfloat16 support and ``32-true``
      elsewhere (CPU, MPS, ...), says so in one line, and is written resolved into the run's ``config.yaml``;
      an explicit ``--trainer.precision`` wins;
    * ``--analyses.num_images N`` caps every analysis callback's ``num_images``, ``--analyses.skip NAME,...``
      drops some analyses and ``--analyses.skip all`` every one (``fit``, ``validate`` and ``test``);
      ``analyses.full_at_epochs: E`` (a recipe setting) scales the analyses of a fit shorter than E epochs down
      in proportion (at least ``MIN_SCALED_IMAGES`` images), so a smoke run is not spent in its analyses;
    * a [`RunSummary`][lowfreq.callbacks.summary.RunSummary] prints the headline results and writes ``summary.json`` at
      the end of ``fit``, ``validate`` and ``test``;
    * a configuration mistake (unknown key, wrong value type, unknown class) is one line naming the key, where it
      was given and the closest accepted key (``parse_arguments``; the parser's report with ``LOWFREQ_DEBUG=1``);
    * ``validate`` / ``test`` / ``predict`` evaluate trained weights: a model that ``fit`` trains needs
      ``--ckpt_path`` (``last``: the latest run's ``last.ckpt``), and a checkpoint whose classes or image shape
      differ from the data's stops the command before any analysis (``_check_model``).
    """

    PRECISION_AUTO = "auto"
    MIN_SCALED_IMAGES = 50
    """Smallest ``num_images`` that ``analyses.full_at_epochs`` scales an analysis down to."""

    def init_parser(self, **kwargs: Any) -> LightningArgumentParser:
        """Lightning's parser, raising its errors (``exit_on_error=False``) for ``parse_arguments`` to report."""
        kwargs.setdefault("exit_on_error", False)
        return super().init_parser(**kwargs)

    def parse_arguments(self, parser: LightningArgumentParser, args: ArgsType) -> None:
        """Parse; a configuration mistake ends the command with one line (``lowfreq.cli.config_errors``).

        The line names the key, the argument or ``-c`` file that gave it, and the closest accepted key (or value);
        ``LOWFREQ_DEBUG=1`` adds jsonargparse's own report (usage and the full message). Exit status 2. Then
        ``--ckpt_path``: ``last`` in validate/test/predict becomes the latest run's ``last.ckpt``, and a file is
        read (weights-only) before Lightning does (``_prepare_ckpt_path``).
        """
        try:
            super().parse_arguments(parser, args)
        except ArgumentError as err:
            if _reported(err) is not None:
                raise  # a lowfreq check inside a class: guarded() reports it
            argv = list(sys.argv[1:] if args is None else args) if isinstance(args, (list, tuple, type(None))) else []
            self._report_config_error(err, argv)
        self._prepare_ckpt_path()

    def _parsers_by_subcommand(self) -> dict[str, LightningArgumentParser]:
        """The parsers ``add_arguments_to_parser`` saw, by subcommand (Lightning builds them in this order)."""
        seen = self.__dict__.get("_seen_parsers", [])
        return dict(zip(self.subcommands(), seen, strict=True)) if len(seen) == len(self.subcommands()) else {}

    def _report_config_error(self, err: ArgumentError, argv: Sequence[str]) -> None:
        subcommand = next((a for a in argv if a in LIGHTNING_COMMANDS), None)
        parser = self._parsers_by_subcommand().get(subcommand or "", self.parser)
        try:
            keys = list(parser.get_defaults().keys())
        except Exception:  # only the did-you-mean needs the keys
            keys = []
        line = one_line(describe(err), str(err), argv, keys)
        prog = f"lowfreq {subcommand}" if subcommand else "lowfreq"
        print(f"{prog}: error: {line}", file=sys.stderr)
        if os.environ.get(DEBUG_ENV):
            print(f"\n{DEBUG_ENV}=1, the parser's report:\n{parser.format_usage()}error: {err}", file=sys.stderr)
        else:
            print(f"(`{prog} --help` lists the options; set {DEBUG_ENV}=1 for the parser's full report)",
                  file=sys.stderr)
        raise SystemExit(2)

    def _prepare_ckpt_path(self) -> None:
        """Resolve ``--ckpt_path last`` of validate/test/predict and read a checkpoint file's record of its data.

        ``last`` becomes the latest run's ``last.ckpt``; a path must be a readable checkpoint (read weights-only),
        whose record of its training data ``_check_model`` compares with the data.
        """
        self._ckpt_data: dict[str, Any] = {}
        subcommand = self.config.get("subcommand")
        config = self.config.get(subcommand) if subcommand else None
        if not isinstance(config, Namespace) or config.get("ckpt_path") is None:
            return
        ckpt = config["ckpt_path"]
        if ckpt == "last" and subcommand in _EVALUATING:
            config["ckpt_path"] = ckpt = str(self._last_checkpoint(config["trainer"], subcommand))
            rank_zero_info(f"--ckpt_path last: {ckpt}")
        if ckpt in _LIGHTNING_CKPT_NAMES or "://" in ckpt or ckpt.startswith("registry:"):
            return  # Lightning resolves these
        if not Path(ckpt).is_file():
            raise FileNotFoundError(f"--ckpt_path must be an existing checkpoint file or 'last', got {ckpt!r}")
        if subcommand not in _EVALUATING:
            return  # a resumed fit: Lightning reads the file; the data record matters only when evaluating
        checkpoint = read_checkpoint("--ckpt_path", Path(ckpt))
        recorded = checkpoint.get(DATA_KEY)
        self._ckpt_data = recorded if isinstance(recorded, dict) else {}

    @staticmethod
    def _last_checkpoint(trainer: Namespace, subcommand: str) -> Path:
        """The ``last.ckpt`` of the latest run of ``trainer``'s logger (or of ``default_root_dir/checkpoints``)."""
        runs = _runs_folder(trainer)
        root = Path(trainer.get("default_root_dir") or os.getcwd())
        if runs is not None:
            latest = _latest_run(runs)
            if latest is not None:
                return latest[1]
            where = f"no run in {runs} has checkpoints/last.ckpt"
        elif trainer.get("logger") is False:  # no logger: Lightning's checkpoints are in default_root_dir
            if (root / "checkpoints" / "last.ckpt").is_file():
                return root / "checkpoints" / "last.ckpt"
            where = f"no {root / 'checkpoints' / 'last.ckpt'}"
        else:
            where = "lowfreq finds the runs of a TensorBoardLogger or CSVLogger only, not of this logger"
        raise FileNotFoundError(
            f"--ckpt_path last: {where} (a `lowfreq fit` with the same --trainer.default_root_dir and logger writes "
            f"one); pass the checkpoint's path instead: lowfreq {subcommand} -c RECIPE --ckpt_path PATH/last.ckpt"
        )

    def before_validate(self) -> None:
        """Fail before any analysis when the model is untrained or does not fit the data (``_check_model``).

        Analysing a checkpoint restores no callback state, so Lightning's warning about absent callbacks is dropped.
        """
        self._check_model()
        _ignore_absent_callback_states()

    def before_test(self) -> None:
        """As ``before_validate``."""
        self._check_model()
        _ignore_absent_callback_states()

    def before_predict(self) -> None:
        """As ``before_validate``."""
        self._check_model()
        _ignore_absent_callback_states()

    def _check_model(self) -> None:
        """Stop a command that would evaluate untrained weights, or weights that do not fit the data.

        Without ``--ckpt_path``, a model whose ``untrained_reason`` is set (a backbone without pretrained weights, a
        Fourier mask not yet fitted) stops the command; the model's classes, and a checkpoint's record of its
        classes and image shape, must be the data's (``lowfreq.training.checkpoints.check_fits_data``).
        """
        subcommand = self.subcommand
        ckpt = self.config_init[subcommand].get("ckpt_path") if subcommand else None
        if ckpt is None:
            reason = getattr(self.model, "untrained_reason", None)
            if reason:
                raise ValueError(
                    f"`lowfreq {subcommand}` without --ckpt_path would evaluate {type(self.model).__name__} with "
                    f"untrained weights ({reason}): pass --ckpt_path PATH/last.ckpt (a checkpoint of `lowfreq fit` "
                    f"with this recipe) or --ckpt_path last (the latest run's last.ckpt)"
                )
        source = f"--ckpt_path {ckpt}" if ckpt is not None else f"the model {type(self.model).__name__}"
        check_fits_data(source, self.datamodule, getattr(self.model, "num_classes", None),
                        getattr(self, "_ckpt_data", None), label_map=getattr(self.model, "label_map", None) is not None)

    def add_core_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        """Lightning's trainer, model and data arguments; ``trainer.precision`` also takes "auto".

        The other precision values are those of the public ``Trainer.__init__`` signature (its type hint).
        """
        from jsonargparse import class_from_function

        trainer_class = (
            self.trainer_class if isinstance(self.trainer_class, type) else class_from_function(self.trainer_class)
        )
        parser.add_class_arguments(
            trainer_class, "trainer", fail_untyped=False, instantiate=False, sub_configs=True, skip={"precision"}
        )
        parser.add_argument(
            "--trainer.precision",
            type=Literal["auto"] | get_type_hints(Trainer.__init__)["precision"],  # Lightning's values and None
            default=None,
            help='Lightning\'s precision ("32-true", "bf16-mixed", ...; null = "32-true"), or "auto" (lowfreq): '
            '"bf16-mixed" on a CUDA device with bfloat16 support, else "32-true".',
        )
        parser.set_defaults({"trainer." + k: v for k, v in self.trainer_defaults.items() if k != "callbacks"})
        parser.add_lightning_class_args(self._model_class, "model", subclass_mode=self.subclass_mode_model)
        parser.add_lightning_class_args(
            self._datamodule_class, "data", subclass_mode=self.subclass_mode_data,
            required=self.datamodule_class is not None,
        )

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        """The ``analyses`` options: size or switch off the analysis callbacks of a recipe."""
        self.__dict__.setdefault("_seen_parsers", []).append(parser)  # for the did-you-mean of parse errors
        parser.add_argument(
            "--analyses.num_images", type=int | None, default=None,
            help="Cap every analysis callback's num_images at this many images (>= 2; null: no cap).",
        )
        parser.add_argument(
            "--analyses.skip", type=list[str] | str | None, default=None,
            help="Analyses to drop, by name or class name ('adversarial,hybrid' or [adversarial, hybrid]); 'all' drops "
            "every analysis callback.",
        )
        parser.add_argument(
            "--analyses.preset", type=Literal["smoke", "paper"] | None, default=None,
            help="smoke: every analysis on at most 50 images with small budgets (adversarial: FMN + PGD, no "
            "Brendel-Bethge; corruptions: severity 3 only); paper: the recipe's sizes (the papers'), never scaled "
            "down by analyses.full_at_epochs. null: the recipe's sizes, scaled by full_at_epochs.",
        )
        parser.add_argument(
            "--analyses.full_at_epochs", type=int | None, default=None,
            help="The analyses' num_images are meant for a fit of this many epochs; a shorter fit scales them down "
            f"in proportion (at least {self.MIN_SCALED_IMAGES} images). null: no scaling.",
        )

    def before_instantiate_classes(self) -> None:
        """Resolve ``trainer.precision: auto``; ``fit --ckpt_path last``: resume the latest run in its own directory."""
        config = self.config[self.subcommand] if self.subcommand else self.config
        trainer = config.get("trainer")
        if trainer is not None and trainer.get("precision") == self.PRECISION_AUTO:
            precision, reason = self.auto_precision(trainer.get("accelerator"))
            trainer["precision"] = precision
            rank_zero_info(f"trainer.precision=auto: {precision} ({reason}); set --trainer.precision to choose")
        if self.subcommand == "fit" and self.config["fit"].get("ckpt_path") == "last":
            self._resume_in_place(self.config["fit"])

    @staticmethod
    def auto_precision(accelerator: Any) -> tuple[str, str]:
        """``(precision, reason)`` for ``trainer.precision: auto`` on the given ``trainer.accelerator``.

        "bf16-mixed" when the accelerator resolves to CUDA (``cuda``, or ``auto`` / ``gpu`` with CUDA available and
        no MPS, which Lightning would pick first) and the device supports bfloat16; "32-true" otherwise.

        Args:
            accelerator: the ``trainer.accelerator`` value: a name ("auto", "cpu", "gpu", "cuda", ...), None (auto),
                a ``{class_path: ...}`` namespace or an Accelerator instance.
        """
        import torch

        if accelerator is None:
            name = "auto"
        elif isinstance(accelerator, str):
            name = accelerator.lower()
        else:
            path = accelerator.get("class_path") if isinstance(accelerator, Namespace) else None
            name = str(path or type(accelerator).__name__).lower()
        mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
        if name in ("auto", "gpu"):
            on_cuda = torch.cuda.is_available() and not mps
        else:
            on_cuda = "cuda" in name and torch.cuda.is_available()
        if not on_cuda:
            return "32-true", f"accelerator {name!r} does not resolve to a CUDA device"
        if not torch.cuda.is_bf16_supported():
            return "32-true", "the CUDA device has no bfloat16 support"
        return "bf16-mixed", "CUDA device with bfloat16 support"

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
        runs = _runs_folder(trainer) or root / "lightning_logs"
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
        """The Trainer, with the recipe's callbacks (analyses sized by ``analyses.*``) and a run summary."""
        from lowfreq.callbacks.plan import AnalysisPlan
        from lowfreq.callbacks.summary import RunSummary

        init = self.config_init[self.subcommand] if self.subcommand else self.config_init
        trainer = init.get("trainer") or {}
        given = trainer.get("callbacks")
        callbacks = [] if given is None else list(given) if isinstance(given, list) else [given]
        callbacks = self._size_analyses(callbacks, init.get("analyses") or Namespace(), trainer.get("max_epochs"))
        extra: list[Callback] = []
        if trainer.get("enable_progress_bar") is not False and not any(isinstance(c, ProgressBar) for c in callbacks):
            extra.append(TQDMProgressBar(refresh_rate=PROGRESS_BAR_REFRESH_STEPS))
        if trainer.get("enable_checkpointing") is not False:
            checkpoints = [c for c in callbacks if isinstance(c, ModelCheckpoint)]
            for callback in checkpoints:
                callback.save_last = callback.save_last or True  # needed by --ckpt_path last
            if not checkpoints:
                extra.append(ModelCheckpoint(save_last=True))
        if not any(isinstance(c, RunSummary) for c in callbacks):
            extra.append(RunSummary())  # after the analyses: their on_fit_end / on_validation_end run first
        plan = [] if any(isinstance(c, AnalysisPlan) for c in callbacks) else [AnalysisPlan()]  # before the analyses
        kwargs.setdefault("callbacks", [*plan, *callbacks, *extra])
        return super().instantiate_trainer(**kwargs)

    def _size_analyses(self, callbacks: list[Callback], options: Namespace, max_epochs: int | None) -> list[Callback]:
        """Apply ``analyses.skip`` / ``full_at_epochs`` / ``num_images`` to the analysis callbacks."""
        import math

        from lowfreq.callbacks.base import AnalysisCallback

        analyses = [c for c in callbacks if isinstance(c, AnalysisCallback)]
        if not analyses:
            return callbacks
        names = sorted({c.name for c in analyses} | {type(c).__name__ for c in analyses})
        skip = options.get("skip")
        skip = [] if skip is None else skip.split(",") if isinstance(skip, str) else list(skip)
        skip = {s.strip() for s in skip if s.strip()}
        unknown = sorted(skip - set(names) - {"all"})
        if unknown:
            raise ValueError(f"analyses.skip must name analyses of this run, one of {['all', *names]}, got {unknown}")
        cap = options.get("num_images")
        if cap is not None and (isinstance(cap, bool) or cap < 2):
            raise ValueError(f"analyses.num_images must be an integer >= 2 or null, got {cap!r}")
        full_at = options.get("full_at_epochs")
        if full_at is not None and (isinstance(full_at, bool) or full_at < 1):
            raise ValueError(f"analyses.full_at_epochs must be a positive integer or null, got {full_at!r}")
        preset = options.get("preset")
        if preset not in (None, "smoke", "paper"):
            raise ValueError(f"analyses.preset must be smoke, paper or null, got {preset!r}")
        dropped = [c for c in analyses if "all" in skip or c.name in skip or type(c).__name__ in skip]
        if dropped:
            rank_zero_info(f"analyses off: {', '.join(c.name for c in dropped)}")
        if preset == "smoke":
            for callback in analyses:
                callback.use_smoke_budget()
            rank_zero_info(f"analyses.preset=smoke: at most {AnalysisCallback.SMOKE_IMAGES} images per analysis, "
                           "small budgets (adversarial: FMN + PGD; corruptions: severity 3)")
        fraction = None
        scaled = self.subcommand == "fit" and full_at is not None and max_epochs is not None
        if scaled and preset != "paper" and 0 < max_epochs < full_at:  # type: ignore[operator]
            fraction = max_epochs / full_at  # type: ignore[operator]
        resized = []
        for callback in analyses:
            if callback in dropped:
                continue
            before = n = callback.num_images
            if fraction is not None and n is not None:
                n = min(n, max(self.MIN_SCALED_IMAGES, math.ceil(n * fraction)))
            if cap is not None:
                n = cap if n is None else min(n, cap)
            if n != before:
                callback.num_images = n
                resized.append(f"{callback.name} {'all' if before is None else before} -> {n}")
        if resized:
            why = [f"fit of {max_epochs} of analyses.full_at_epochs={full_at} epochs"] if fraction is not None else []
            why += [f"analyses.num_images={cap}"] if cap is not None else []
            rank_zero_info(f"analysis images ({'; '.join(why)}): {', '.join(resized)}")
        return [c for c in callbacks if c not in dropped]


class _NoAdvertisingTips(logging.Filter):
    """Drop Lightning's "💡 Tip: ... try installing litlogger / litmodels" messages (rank-zero info records)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("💡 Tip:")


_TIP_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")


def _ignore_absent_callback_states() -> None:
    """Drop Lightning's "Please add the following callbacks" warning.

    It names a fit's stateful callbacks (e.g. analysis histories) that a validate / test / predict run leaves out;
    their states would only matter to training on.
    """
    warnings.filterwarnings("ignore", message=r"(?s).*Please add the following callbacks")


def _silence_tips() -> None:
    """Install ``_NoAdvertisingTips`` on Lightning's rank-zero loggers (once), and ignore one warning.

    The warning is Lightning's own use of a torch API deprecated in torch 2.10+ (``LeafSpec``), printed on every
    run; nothing a user (or lowfreq) can change. Other warnings are left alone.
    """
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated",
                            module=r"lightning\.pytorch\.utilities\._pytree")
    for name in _TIP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoAdvertisingTips) for f in logger.filters):
            logger.addFilter(_NoAdvertisingTips())


def main(args: ArgsType = None) -> None:
    """Entry point of every subcommand; ``args`` (default ``sys.argv[1:]``) lets notebooks and tests drive it.

    A list (or None) goes through the one dispatcher, [`dispatch`][lowfreq.cli.commands.dispatch]: ``main([])`` /
    ``main(["--help"])`` print the top-level help (every subcommand), ``alignment``, ``download``, ``compare``,
    ``report`` and ``list`` go to their modules, ``fit``/``validate``/``test``/``predict`` to ``run``. A dict or
    Namespace is a LightningCLI configuration, given to ``run``. A bad input (a value a lowfreq class rejects, a
    missing file, also when jsonargparse wraps it into parser errors) ends the command with one line,
    ``lowfreq: error: ...``, and exit status 2; set ``LOWFREQ_DEBUG=1`` for the full traceback.
    """
    if args is None or isinstance(args, (list, tuple)):
        dispatch(None if args is None else list(args))
    else:
        guarded(run, args)


def run(args: ArgsType) -> None:
    """Run ``LowFreqCLI`` on ``args`` (a Lightning subcommand and its options, or a configuration), unguarded."""
    _silence_tips()
    try:
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
    except ArgumentError as err:  # after parse_arguments: Lightning parsing a checkpoint's hyper-parameters
        if _reported(err) is not None:
            raise
        line = one_line(describe(err), str(err))
        raise ValueError(f"the model's hyper-parameters stored in --ckpt_path do not parse: {line}") from None
