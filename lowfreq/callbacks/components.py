"""FrequencyComponentAnalysis: P003's accuracy on low- / high-frequency components along training (Figs 3–6)."""

from __future__ import annotations

import logging
import math
import time
from typing import Any, Literal

import lightning as L
from lightning.pytorch.trainer.states import TrainerFn

from lowfreq.analysis.components import DEFAULT_RADII, ComponentAccuracy, ComponentAccuracyMetric, check_radii
from lowfreq.callbacks.base import AnalysisCallback, stack_images_labels
from lowfreq.core.checks import check_bool, check_choice, check_positive_int
from lowfreq.core.describe import run_label
from lowfreq.core.device import eval_mode
from lowfreq.plotting.components import plot_component_accuracy, plot_component_curves
from lowfreq.results.columns import Headline

__all__ = ["FrequencyComponentAnalysis"]

log = logging.getLogger(__name__)


def _radius_key(radius: float) -> str:
    return f"r{radius:g}".replace(".", "p")


class FrequencyComponentAnalysis(AnalysisCallback):
    """Accuracy on the LFC and HFC of P003 (radius in index units, strict disc) every N epochs and after fit.

    Every ``every_n_epochs`` training epochs (``on_train_epoch_end``), after ``fit`` (unless the last epoch was just
    evaluated) and at the end of ``lightning validate``, each rank evaluates its shard (by index) of the seeded
    subset into a [`ComponentAccuracyMetric`][lowfreq.analysis.components.ComponentAccuracyMetric], whose ``compute()``
    sums the correct counts across ranks (a collective on every rank), and the results are appended to the curve along
    training. Scalars ``analysis_lfc_acc_r<r>``, ``analysis_hfc_acc_r<r>`` and ``analysis_component_acc`` are logged
    (``pl_module.log`` at epoch ends, so ModelCheckpoint can monitor them; the logger otherwise). Rank 0 writes
    ``<log_dir>/analysis/frequency_components/result.json`` (the whole curve) and ``figure.{png,pdf}`` (LFC / HFC
    accuracy vs epoch) plus ``radius.{png,pdf}`` (the last evaluation vs radius) after every evaluation. The curve is
    saved in checkpoints, so a resumed run continues it.

    Args:
        radii_bins: radii r in index units on the N x N centred spectrum (cutoff r / N cycles/pixel); None = (4, 8,
            12, 16), P003's values for 32 x 32 images.
        every_n_epochs: evaluate after every N-th training epoch; 0 evaluates only after fit / in validate.
        inclusive: ``|f| <= r / N`` (P003's paper) instead of ``<`` (P003's code, default).
        rescale: rescale every image by its maximum (P003's "standard pixel scale" for component training).
        num_images: images of the seeded subset (None = the whole split).
        batch_size: images per forward pass.
        seed: seed of the subset.
        split: datamodule split passed to ``analysis_dataset`` (P003's curves use the training images: "train"
            needs a datamodule whose ``analysis_dataset`` serves the un-augmented training split).
    """

    name = "frequency_components"
    headlines = (
        Headline(name="component_acc", description="accuracy on the component-analysis subset", unit="fraction",
                 direction="higher", in_summary=True,
                 value=lambda r: r["last"].acc, count=lambda r: r["last"].num_images),
    )

    def __init__(
        self,
        radii_bins: list[float] | None = None,
        every_n_epochs: int = 1,
        inclusive: bool = False,
        rescale: bool = False,
        num_images: int | None = 1000,
        batch_size: int = 256,
        seed: int = 0,
        split: Literal["train", "val", "test"] = "test",
    ) -> None:
        super().__init__(num_images=num_images, batch_size=batch_size, seed=seed, split=split)
        check_choice("split", split, ("train", "val", "test"))
        check_positive_int("every_n_epochs", every_n_epochs, minimum=0)
        check_bool("inclusive", inclusive)
        check_bool("rescale", rescale)
        self.radii_bins = check_radii(DEFAULT_RADII if radii_bins is None else radii_bins).tolist()
        self.every_n_epochs, self.inclusive, self.rescale = every_n_epochs, inclusive, rescale
        self._history: list[dict[str, Any]] = []

    # ---- hooks ---------------------------------------------------------------------------------------------------
    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Evaluate after every ``every_n_epochs``-th training epoch."""
        if trainer.sanity_checking or self.every_n_epochs == 0:
            return
        epoch = trainer.current_epoch + 1  # completed epochs
        if epoch % self.every_n_epochs == 0:
            with eval_mode(pl_module):
                self._evaluate_and_write(trainer, pl_module, epoch, in_epoch_hook=True)

    def run(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """After fit (skipped when the last epoch end already evaluated this step) and in validate."""
        if self._already_evaluated(trainer):
            return
        self._evaluate_and_write(trainer, pl_module, trainer.current_epoch, in_epoch_hook=False)

    def state_dict(self) -> dict[str, Any]:
        """The curve along training, saved in checkpoints."""
        return {"history": list(self._history)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the curve of a resumed run."""
        self._history = list(state_dict.get("history", []))

    def _already_evaluated(self, trainer: L.Trainer) -> bool:
        """After a fit whose last epoch end evaluated this step (the same answer on every rank)."""
        validating = trainer.state.fn == TrainerFn.VALIDATING
        return not validating and bool(self._history) and self._history[-1]["global_step"] == trainer.global_step

    def planned_images(self, trainer: L.Trainer) -> int:
        """This rank's images; 0 when this step was already evaluated.

        [`run`][lowfreq.callbacks.components.FrequencyComponentAnalysis.run] then skips.
        """
        return 0 if self._already_evaluated(trainer) else super().planned_images(trainer)

    def planned_passes(self, num_images: int) -> tuple[int, int]:
        """The image, its LFC and its HFC at every radius (one evaluation; more along training)."""
        return num_images * (1 + 2 * len(self.radii_bins)), 0

    # ---- work ----------------------------------------------------------------------------------------------------
    def _evaluate(self, trainer: L.Trainer, pl_module: L.LightningModule) -> ComponentAccuracy:
        dataset = self.dataset(trainer)
        local = self.local_indices(trainer, len(dataset))  # type: ignore[arg-type]
        metric = self.on_device(
            ComponentAccuracyMetric(
                self.radii_bins, inclusive=self.inclusive, rescale=self.rescale, batch_size=self.batch_size
            ),
            pl_module,
        )
        per_image = 1 + 2 * len(self.radii_bins)  # the image, its LFC and HFC at every radius
        with self.progress(trainer, local.numel() * per_image, "frequency components") as bar:
            for batch in local.split(self.batch_size):
                metric.update(pl_module, *stack_images_labels(dataset, batch))
                bar.update(batch.numel() * per_image)
        return metric.compute()  # collective: every rank

    def _evaluate_and_write(
        self, trainer: L.Trainer, pl_module: L.LightningModule, epoch: int, *, in_epoch_hook: bool
    ) -> None:
        self._started = time.perf_counter()
        result = self._evaluate(trainer, pl_module)
        self._history.append(
            {
                "epoch": int(epoch),
                "global_step": int(trainer.global_step),
                "acc_low": result.acc_low.tolist(),
                "acc_high": result.acc_high.tolist(),
                "acc": result.acc,
            }
        )
        scalars = {"analysis_component_acc": result.acc}
        for r, lo, hi in zip(self.radii_bins, result.acc_low.tolist(), result.acc_high.tolist(), strict=True):
            scalars[f"analysis_lfc_acc_{_radius_key(r)}"] = lo
            scalars[f"analysis_hfc_acc_{_radius_key(r)}"] = hi
        scalars = {k: v for k, v in scalars.items() if math.isfinite(v)}
        if in_epoch_hook:
            for key, value in scalars.items():
                pl_module.log(key, value, on_step=False, on_epoch=True, sync_dist=True)
        out = self.output_dir(trainer)  # broadcasts: every rank
        figures = {}
        if trainer.is_global_zero:
            figures = {
                "figure": plot_component_curves(
                    {"radii": self.radii_bins, "radii_cycles": result.radii_cycles, "history": self._history,
                     "last": {"num_images": result.num_images}},
                    label=run_label(pl_module),
                )[0],
                "radius": plot_component_accuracy(result, label=run_label(pl_module))[0],
            }
        payload = {
            "radii": self.radii_bins,
            "radii_cycles": result.radii_cycles,
            "image_size": result.image_size,
            "split": self.split,
            "history": self._history,
            "last": result,
        }
        self.write(trainer, out, payload, figures, {} if in_epoch_hook else scalars)
