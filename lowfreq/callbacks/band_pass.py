"""BandPassAnalysis: accuracy with one radial band kept (band-pass) and with it removed (band-stop), after fit."""

from __future__ import annotations

import math
from typing import Literal

import lightning as L

from lowfreq.analysis.band_pass import BandPassAccuracyMetric, Spacing, resolve_edges
from lowfreq.callbacks.base import AnalysisCallback, stack_images_labels
from lowfreq.core.checks import check_choice
from lowfreq.core.describe import run_label
from lowfreq.plotting.band_pass import plot_band_pass
from lowfreq.results.columns import Headline

__all__ = ["BandPassAnalysis"]


class BandPassAnalysis(AnalysisCallback):
    """Accuracy on images filtered to each of K radial bands (DC to Nyquist) and with each band removed.

    Runs after ``fit`` and at the end of ``lightning validate -c ... --ckpt_path ...``. Each rank evaluates its shard
    (by index) of the seeded subset into a
    [`BandPassAccuracyMetric`][lowfreq.analysis.band_pass.BandPassAccuracyMetric], whose ``compute()`` sums the
    counts across ranks (a collective on every rank), so any number of processes gives the same numbers. Band k is
    ``edges[k] <= |f| < edges[k + 1]`` cycles/pixel (the last band keeps the corners above Nyquist, DC is in band 0,
    no mean is re-added, nothing is clipped; see
    [`band_pass_accuracy`][lowfreq.analysis.band_pass.band_pass_accuracy]). Rank 0
    writes ``<log_dir>/analysis/band_pass/result.json`` and ``figure.{png,pdf}`` (accuracy kept / removed vs band
    centre, the clean accuracy as a line) and logs ``analysis_band_pass_acc`` (originals),
    ``analysis_band_pass_acc_b<k>``, ``analysis_band_stop_acc_b<k>`` and the two peak frequencies.

    Headlines: ``band_pass_peak_freq``, the centre (cycles/pixel) of the band whose band-pass images are classified
    best (the most informative band on its own; the lowest band of ties), and ``band_stop_peak_freq``, the centre of
    the band whose removal lowers accuracy most (the band the model needs most). Both compare across models at the
    same edges: lower values mean a model that relies on lower frequencies.

    Args:
        num_bands: K >= 1 bands (None: 8, or ``len(edges) - 1`` when ``edges`` are given; with both they must match).
        edges: K + 1 band edges in cycles/pixel, strictly ascending from 0 to 0.5; None: spaced by ``spacing``.
        spacing: "linear" (equal widths in radius) or "octave" (each band an octave, band 0 from DC), when ``edges``
            is None.
        num_images: images of the seeded subset (None = the whole split).
        batch_size: images per forward pass; each batch is Fourier-transformed once.
        seed: seed of the subset.
        split: datamodule split passed to ``analysis_dataset``.
    """

    name = "band_pass"
    headlines = (
        Headline(name="band_pass_peak_freq",
                 description="centre of the band whose band-pass images are classified best (cycles/pixel)",
                 unit="cycles/pixel", in_summary=True,
                 value=lambda r: r["band_pass"].peak_pass_freq, count=lambda r: r["band_pass"].num_images),
        Headline(name="band_stop_peak_freq",
                 description="centre of the band whose removal costs the most accuracy (cycles/pixel)",
                 unit="cycles/pixel",
                 value=lambda r: r["band_pass"].peak_stop_freq, count=lambda r: r["band_pass"].num_images),
    )
    SMOKE_BANDS = 4
    """Largest ``num_bands`` of ``--analyses.preset smoke`` for spaced bands (given ``edges`` are kept)."""

    def __init__(
        self,
        num_bands: int | None = None,
        edges: list[float] | None = None,
        spacing: Literal["linear", "octave"] = "linear",
        num_images: int | None = 1000,
        batch_size: int = 256,
        seed: int = 0,
        split: Literal["val", "test"] = "test",
    ) -> None:
        super().__init__(num_images=num_images, batch_size=batch_size, seed=seed, split=split)
        check_choice("split", split, ("val", "test"))
        grid = resolve_edges(num_bands, edges, spacing)
        self.spacing: Spacing = spacing
        self.edges = grid.tolist() if edges is not None else None
        self.num_bands = grid.numel() - 1

    def planned_passes(self, num_images: int) -> tuple[int, int]:
        """The image, and its band-pass and band-stop image for every band."""
        return num_images * (2 * self.num_bands + 1), 0

    def use_smoke_budget(self) -> None:
        """At most ``SMOKE_IMAGES`` images and, for spaced bands, at most ``SMOKE_BANDS`` bands."""
        super().use_smoke_budget()
        if self.edges is None and self.num_bands > self.SMOKE_BANDS:
            self.num_bands = self.SMOKE_BANDS

    def run(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Evaluate this rank's shard, sync, write (every rank)."""
        dataset = self.dataset(trainer)
        local = self.local_indices(trainer, len(dataset))  # type: ignore[arg-type]
        metric = BandPassAccuracyMetric(self.num_bands, edges=self.edges, spacing=self.spacing,
                                        batch_size=self.batch_size)
        metric = self.on_device(metric, pl_module)
        per_image = 2 * self.num_bands + 1
        with self.progress(trainer, local.numel() * per_image, "band-pass images") as bar:
            for batch in local.split(self.batch_size):
                metric.update(pl_module, *stack_images_labels(dataset, batch))
                bar.update(batch.numel() * per_image)
        result = metric.compute()  # collective: every rank
        out = self.output_dir(trainer)  # broadcasts: every rank
        figures = {}
        scalars = {"analysis_band_pass_acc": result.acc, "analysis_band_pass_peak_freq": result.peak_pass_freq,
                   "analysis_band_stop_peak_freq": result.peak_stop_freq}
        for k, (kept, removed) in enumerate(zip(result.acc_pass.tolist(), result.acc_stop.tolist(), strict=True)):
            scalars[f"analysis_band_pass_acc_b{k}"] = kept
            scalars[f"analysis_band_stop_acc_b{k}"] = removed
        scalars = {k: v for k, v in scalars.items() if math.isfinite(v)}
        if trainer.is_global_zero:
            figures = {"figure": plot_band_pass(result, label=run_label(pl_module))[0]}
        self.write(trainer, out, {"band_pass": result, "split": self.split}, figures, scalars)
