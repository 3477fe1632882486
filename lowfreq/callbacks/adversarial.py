"""AdversarialSpectrumAnalysis: P001's minimal adversarial perturbations and their Fourier spectrum after fit."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import lightning as L
import torch

from lowfreq.analysis.adversarial import (
    ATTACKS,
    PROTOCOLS,
    AdversarialSpectrumMetric,
    compile_brendel_bethge_in_background,
    derangement_targets,
    minimal_perturbations,
)
from lowfreq.callbacks.base import AnalysisCallback, shard_indices, stack_images_labels
from lowfreq.core.checks import check_choice
from lowfreq.core.describe import run_label
from lowfreq.core.seeding import seeded_subset
from lowfreq.plotting.adversarial import plot_perturbation_profile, plot_perturbation_spectrum, plot_success_rate
from lowfreq.results.columns import Headline

__all__ = ["AdversarialSpectrumAnalysis"]


class AdversarialSpectrumAnalysis(AnalysisCallback):
    """Targeted minimal L-inf perturbations (Foolbox) of a seeded test subset, their spectrum and f_0.5 (P001).

    After ``fit`` and at the end of ``lightning validate --ckpt_path ...``: targets are the seeded derangement of the
    subset's labels (the same on every rank, so runs compare image by image); every rank attacks its shard with
    gradients enabled; an ``lowfreq.analysis.adversarial.AdversarialSpectrumMetric`` gathers the results.
    Rank 0 writes ``<log_dir>/analysis/adversarial/result.json`` (per-image indices, targets, epsilons and winning
    attacks; f_0.5 grid / exact with its bootstrap interval; success rate on k/255 budgets, median, mean, std,
    failures) and ``spectrum``, ``profile``, ``success`` figures, and logs ``analysis_adv_f_half``,
    ``analysis_adv_median_eps`` and ``analysis_adv_mean_eps``. Needs ``pip install 'lowfreq[attacks]'``.

    Args:
        protocol: a named keyword set of ``lowfreq.analysis.adversarial.PROTOCOLS``: "default" (FMN, PGD
            where FMN failed, Brendel-Bethge refinement), "every-attack" (the PGD search on every image too, the
            former default, 2-5x the time) or "smoke" (no Brendel-Bethge).
        attacks: candidate attacks, overriding the protocol's (see
            [`minimal_perturbations`][lowfreq.analysis.adversarial.minimal_perturbations]).
        num_bootstrap: bootstrap replicates of f_0.5 over images.
        num_images: images of the seeded subset (P001: 1000).
        batch_size: images per attack call.
        seed: seed of the subset, the targets and the bootstrap.
        split: datamodule split passed to ``analysis_dataset``.
    """

    name = "adversarial"
    headlines = (
        Headline(name="f_half", description="half-power frequency of minimal perturbations (cycles/pixel)",
                 unit="cycles/pixel", in_summary=True,
                 paper="P001 (grayscale CIFAR-10 ResNet-18): baseline 0.442 ± 0.009, mouse-regularised 0.316 ± 0.015",
                 value=lambda r: r["f_half"], count=lambda r: len(r["indices"])),
        Headline(name="f_half_boot_std", description="bootstrap std of f_half (cycles/pixel)", unit="cycles/pixel",
                 value=lambda r: r["f_half_std"]),
        Headline(name="eps_median", description="epsilon at 50 % attack success (L-inf)", unit="L-inf",
                 direction="higher", per_255=True, in_summary=True,
                 paper="P001 (grayscale CIFAR-10 ResNet-18): baseline 1.25/255, mouse-regularised 2.89/255",
                 value=lambda r: r["summary"]["median"], count=lambda r: len(r["indices"])),
        Headline(name="eps_mean", description="mean minimal L-inf epsilon of successful attacks", unit="L-inf",
                 direction="higher", per_255=True,
                 paper="P001 (grayscale CIFAR-10 ResNet-18): baseline (1.34 ± 0.70)/255, mouse-regularised "
                 "(3.09 ± 1.61)/255",
                 value=lambda r: r["summary"]["mean"], count=lambda r: len(r["indices"])),
        Headline(name="eps_std", description="std of the minimal L-inf epsilons", unit="L-inf", per_255=True,
                 value=lambda r: r["summary"]["std"]),
        Headline(name="adv_failed", description="images where every attack failed", unit="images", integer=True,
                 value=lambda r: r["summary"]["num_failed"]),
    )

    def __init__(
        self,
        protocol: Literal["default", "every-attack", "smoke"] = "default",
        attacks: list[str] | None = None,
        num_bootstrap: int = 1000,
        num_images: int | None = 1000,
        batch_size: int = 128,
        seed: int = 0,
        split: str = "test",
    ) -> None:
        super().__init__(num_images=num_images, batch_size=batch_size, seed=seed, split=split)
        check_choice("protocol", protocol, tuple(PROTOCOLS))
        self.protocol = protocol
        self.attacks = None if attacks is None else list(attacks)
        for name in self.attacks or []:
            check_choice("attacks", name, ATTACKS)
        self.num_bootstrap = num_bootstrap

    PASSES_PER_IMAGE: ClassVar[dict[str, tuple[int, int]]] = {
        "default": (16, 200), "every-attack": (33, 822), "smoke": (2, 100),
    }
    """(forwards without, with gradient) per image of each protocol, counted on the model of
    ``benchmarks/adversarial.py`` (``benchmarks/analysis_cost.py`` counts them for any model)."""

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Compile the Brendel-Bethge solver in a thread while the model trains (when the attacks include "bb")."""
        if "bb" in self.attack_options()["attacks"]:
            self._warm_up = compile_brendel_bethge_in_background()

    def planned_passes(self, num_images: int) -> tuple[int, int]:
        """About [`PASSES_PER_IMAGE`][lowfreq.callbacks.AdversarialSpectrumAnalysis.PASSES_PER_IMAGE] per image.

        The protocol's passes per image depend on how fast the attacks succeed.
        """
        forward, grad = self.PASSES_PER_IMAGE[self.protocol]
        return num_images * forward, num_images * grad

    def planned_note(self) -> str:
        """Brendel-Bethge's CPU solver and numba's compilation are not model passes."""
        if "bb" not in self.attack_options()["attacks"]:
            return ""
        return ("+ Brendel-Bethge: numba compiles once per process (about 25-35 s on 2 CPU cores, in a thread "
                "from the start of fit or profile), then its solver takes about 0.1-0.2 s per image on the CPU")

    def use_smoke_budget(self) -> None:
        """The smoke budget: the "smoke" protocol (FMN, PGD where FMN failed), 100 bootstraps.

        At most [`SMOKE_IMAGES`][lowfreq.callbacks.base.AnalysisCallback.SMOKE_IMAGES] images.
        """
        super().use_smoke_budget()
        self.protocol, self.attacks, self.num_bootstrap = "smoke", None, min(self.num_bootstrap, 100)

    def attack_options(self) -> dict[str, Any]:
        """Keyword arguments of ``minimal_perturbations``: the protocol's, with ``attacks`` if given."""
        options = dict(PROTOCOLS[self.protocol])
        if self.attacks is not None:
            options["attacks"] = tuple(self.attacks)
        return options

    def run(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Attack this rank's shard, gather the results, write (every rank)."""
        warm_up = getattr(self, "_warm_up", None)
        if warm_up is not None:
            warm_up.join()  # the solver compiled during training (or now, if training was shorter)
        dataset = self.dataset(trainer)
        subset = seeded_subset(len(dataset), self.num_images, self.seed)  # type: ignore[arg-type]
        labels = stack_images_labels(dataset, subset)[1]
        targets = derangement_targets(labels, self.seed)  # on the whole subset: the same on every rank
        local = shard_indices(torch.arange(len(subset)), trainer.global_rank, trainer.world_size)
        height, width = stack_images_labels(dataset, subset[:1])[0].shape[-2:]
        options = self.attack_options()
        metric = AdversarialSpectrumMetric(
            (height, width), options["attacks"], num_bootstrap=self.num_bootstrap, seed=self.seed
        ).to(pl_module.device)
        with self.progress(trainer, local.numel(), "adversarial") as bar:
            for pos in local.split(self.batch_size):
                x, y = stack_images_labels(dataset, subset[pos])
                result = minimal_perturbations(pl_module, x, y, targets=targets[pos], seed=self.seed,
                                               batch_size=self.batch_size, **options)
                metric.update(result, subset[pos])
                bar.update(pos.numel())
        spectrum = metric.compute()  # collective: every rank
        out = self.output_dir(trainer)  # broadcasts: every rank
        figures = {}
        if trainer.is_global_zero:
            figures = {
                "spectrum": plot_perturbation_spectrum(spectrum, label=run_label(pl_module))[0],
                "profile": plot_perturbation_profile(spectrum, label=run_label(pl_module))[0],
                "success": plot_success_rate(spectrum, label=run_label(pl_module))[0],
            }
        summary = spectrum.summary
        payload = {
            "f_half": spectrum.f_half,
            "f_half_exact": spectrum.f_half_exact,
            "f_half_std": spectrum.f_half_std,
            "f_half_interval": [spectrum.f_half_low, spectrum.f_half_high],
            "frequency_unit": "cycles/pixel",
            "profile": spectrum.profile,
            "summary": summary,
            "indices": spectrum.indices,
            "targets": spectrum.targets,
            "epsilons": spectrum.epsilons,
            "attack": [spectrum.attacks[k] if k >= 0 else "" for k in spectrum.attack.tolist()],
            "split": self.split,
        }
        scalars = {"analysis_adv_f_half": spectrum.f_half, "analysis_adv_median_eps": summary["median"],
                   "analysis_adv_mean_eps": summary["mean"]}
        self.write(trainer, out, payload, figures, {k: v for k, v in scalars.items() if math.isfinite(v)})
