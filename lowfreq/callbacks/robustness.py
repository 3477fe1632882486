"""RobustnessAnalysis: P003 Table 2 for the fitted model — clean, FGSM and PGD accuracy after kernel smoothing."""

from __future__ import annotations

import lightning as L

from lowfreq.analysis.adversarial import RobustAccuracyMetric, smooth_first_layer
from lowfreq.callbacks.base import AnalysisCallback, stack_images_labels
from lowfreq.core.checks import check_range
from lowfreq.results.columns import Headline

__all__ = ["RobustnessAnalysis"]


class RobustnessAnalysis(AnalysisCallback):
    """Fixed-budget robustness of the model with its first convolution smoothed by each ρ (P003 Table 2, eq. 3).

    After ``fit`` and in ``lightning validate``: for every ρ, a smoothed copy of the model
    ([`smooth_first_layer`][lowfreq.analysis.adversarial.smooth_first_layer]; the trained model is unchanged) is
    evaluated on the seeded subset: clean accuracy and untargeted FGSM and PGD accuracy at ``epsilon``. Each rank
    attacks its shard (PGD's random start is seeded per dataset index) and a
    [`RobustAccuracyMetric`][lowfreq.analysis.adversarial.RobustAccuracyMetric] per ρ and attack sums the counts
    over the processes; rank 0 writes ``<log_dir>/analysis/robustness/
    result.json`` with one row per ρ and logs ``analysis_robust_pgd_acc`` and ``analysis_robust_fgsm_acc`` of ρ = 0.
    Needs ``pip install 'lowfreq[attacks]'``.

    Args:
        rhos: smoothing strengths ρ >= 0 (P003: 0, 0.1, 0.25, 0.5, 1.0).
        epsilon: L-inf budget of both attacks (P003: 8/255 on CIFAR-10).
        num_images: images of the seeded subset.
        batch_size: images per attack call.
        seed: seed of the subset and of PGD's random start.
        split: datamodule split passed to ``analysis_dataset``.
    """

    name = "robustness"
    headlines = (
        Headline(name="robust_clean", description="clean accuracy, first rho of the smoothing table",
                 unit="fraction", direction="higher", paper="P003 Table 2: M_natural 0.856 (ρ = 0)",
                 value=lambda r: r["table"][0]["clean"]),
        Headline(name="robust_fgsm", description="FGSM accuracy, first rho of the smoothing table", unit="fraction",
                 direction="higher", paper="P003 Table 2: M_natural 0.107 at ε = 0.03 (ρ = 0)",
                 value=lambda r: r["table"][0]["fgsm"]),
        Headline(name="robust_pgd", description="PGD accuracy, first rho of the smoothing table", unit="fraction",
                 direction="higher", in_summary=True, paper="P003 Table 2: M_natural 0.003 at ε = 0.03 (ρ = 0)",
                 value=lambda r: r["table"][0]["pgd"], count=lambda r: r["num_images"]),
    )

    def __init__(
        self,
        rhos: list[float] | None = None,
        epsilon: float = 8 / 255,
        num_images: int | None = 1000,
        batch_size: int = 256,
        seed: int = 0,
        split: str = "test",
    ) -> None:
        super().__init__(num_images=num_images, batch_size=batch_size, seed=seed, split=split)
        self.rhos = [0.0, 0.1, 0.25, 0.5, 1.0] if rhos is None else [float(r) for r in rhos]
        for rho in self.rhos:
            check_range("rhos", rho, 0.0, float("inf"))
        check_range("epsilon", epsilon, 0.0, 1.0)
        self.epsilon = epsilon

    def planned_passes(self, num_images: int) -> tuple[int, int]:
        """Per smoothing: clean forwards and re-checks, FGSM (1 gradient step) and PGD (40, Foolbox's default)."""
        return num_images * len(self.rhos) * 4, num_images * len(self.rhos) * 41

    def run(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Attack this rank's shard with every smoothed copy, sum over the ranks, write the table (every rank)."""
        dataset = self.dataset(trainer)
        local = self.local_indices(trainer, len(dataset))  # type: ignore[arg-type]
        rows = []
        with self.progress(trainer, 2 * len(self.rhos) * len(local), "robustness (FGSM, PGD)") as bar:
            x, y = stack_images_labels(dataset, local) if len(local) else (None, None)
            for rho in self.rhos:
                model = smooth_first_layer(pl_module, rho) if rho > 0 else pl_module
                row: dict = {"rho": rho}
                for attack in ("fgsm", "pgd"):
                    metric = self.on_device(RobustAccuracyMetric(attack, (self.epsilon,), batch_size=self.batch_size,
                                                                 seed=self.seed), pl_module)
                    if x is not None and y is not None:
                        metric.update(model, x, y, local)
                    out = metric.compute()  # collective: every rank
                    row["clean"], row[attack] = out["clean"], out["accuracy"][0]
                    bar.update(len(local))
                rows.append(row)
        out_dir = self.output_dir(trainer)
        result = {"epsilon": self.epsilon, "num_images": self.subset_size(trainer), "table": rows,
                  "split": self.split}
        first = rows[0]
        self.write(trainer, out_dir, result, {},
                   {"analysis_robust_pgd_acc": first["pgd"], "analysis_robust_fgsm_acc": first["fgsm"]})
