"""AnalysisPlan: before the analyses run, an estimate of their time from one timed batch of the model."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_info

from lowfreq.callbacks.base import AfterFitOrValidate, AnalysisCallback, stack_items
from lowfreq.core.device import analysis_mode, model_device_dtype

__all__ = ["AnalysisPlan", "PlannedAnalysis", "format_plan"]

log = logging.getLogger(__name__)


@dataclass
class PlannedAnalysis:
    """One analysis of the plan: images of its subset, passes through the model, estimated seconds."""

    name: str
    num_images: int
    forward_images: int
    gradient_images: int
    seconds: float
    note: str = ""


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "<1 s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def format_plan(plan: list[PlannedAnalysis], forward_s: float, gradient_s: float, batch: int, device: str) -> str:
    """The plan as printed: one line per analysis and the total."""
    lines = [f"analyses planned (from a timed batch of {batch} on {device}: {forward_s * 1e3:.2f} ms per image "
             f"forward, {gradient_s * 1e3:.2f} ms with the input gradient):"]
    for item in plan:
        passes = f"{item.forward_images:,} forward" + (f" + {item.gradient_images:,} with gradient"
                                                       if item.gradient_images else "")
        lines.append(f"  {item.name:<22} {item.num_images:>7,} images  {passes:<38} {_duration(item.seconds)}"
                     + (f"  {item.note}" if item.note else ""))
    total = sum(item.seconds for item in plan)
    lines.append(f"  {'total':<22} {'':>14}  {'':<38} {_duration(total)}  (model passes only: attack solvers, "
                 "generated corruptions and figures come on top)")
    return "\n".join(lines)


class AnalysisPlan(AfterFitOrValidate):
    """Print, before the ``*Analysis`` callbacks run, what each will cost, from one timed batch (rank 0).

    The CLI puts it before the recipe's callbacks. It times one no-grad forward and one forward with the input
    gradient of the first analysis's batch of images (after one warm-up pass each), multiplies by the passes each
    analysis declares (``planned_passes``) for its share of images, and prints the table; nothing else changes.
    """

    def after(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Print the plan (rank 0), before the analyses that follow this callback."""
        analyses = [c for c in trainer.callbacks if isinstance(c, AnalysisCallback)]  # type: ignore[attr-defined]
        if not analyses or not trainer.is_global_zero:
            return
        plan = [item for item in (self._plan(c, trainer) for c in analyses) if item is not None]
        try:
            device, dtype = model_device_dtype(pl_module, torch.zeros(0))
            x = self._timing_batch(analyses, trainer).to(device, dtype)
            forward_s, gradient_s = self.time_per_image(pl_module, x)
        except Exception as err:  # a plan is advice: the analyses report their own errors
            log.info("no analysis plan: %s", err)
            return
        batch = len(x)
        for item in plan:
            item.seconds = item.forward_images * forward_s + item.gradient_images * gradient_s
        rank_zero_info(format_plan(plan, forward_s, gradient_s, batch, str(pl_module.device)))

    @staticmethod
    def _timing_batch(analyses: list[AnalysisCallback], trainer: L.Trainer) -> torch.Tensor:
        """The first batch of images of the first analysis that reads the datamodule's analysis split."""
        errors = []
        for callback in analyses:
            try:
                dataset = callback.dataset(trainer)
            except (RuntimeError, ValueError, KeyError) as err:
                errors.append(str(err))
                continue
            batch = min(callback.batch_size, len(dataset))  # type: ignore[arg-type]
            return stack_items(dataset, torch.arange(batch))[0].float()
        raise RuntimeError("; ".join(errors))

    @staticmethod
    def _plan(callback: AnalysisCallback, trainer: L.Trainer) -> PlannedAnalysis | None:
        try:
            n = callback.planned_images(trainer)
        except Exception as err:  # left out of the plan; the analysis reports its own error
            log.info("%s left out of the analysis plan: %s", callback.name, err)
            return None
        forward, gradient = callback.planned_passes(n)
        return PlannedAnalysis(callback.name, n, forward, gradient, 0.0, callback.planned_note())

    @staticmethod
    def time_per_image(model: torch.nn.Module, x: torch.Tensor) -> tuple[float, float]:
        """Seconds per image of a no-grad forward and of a forward with the input gradient (second of two runs)."""

        def forward() -> None:
            with analysis_mode(model):
                model(x)

        def gradient() -> None:
            with torch.inference_mode(False), torch.enable_grad():
                inputs = x.clone().requires_grad_(True)
                was_training = model.training
                model.eval()
                try:
                    torch.autograd.grad(model(inputs).float().sum(), inputs)
                finally:
                    model.train(was_training)

        seconds = []
        for run in (forward, gradient):
            run()
            if x.device.type == "cuda":
                torch.cuda.synchronize(x.device)
            start = time.perf_counter()
            run()
            if x.device.type == "cuda":
                torch.cuda.synchronize(x.device)
            seconds.append((time.perf_counter() - start) / len(x))
        return seconds[0], seconds[1]
