"""AnalysisPlan: the passes it plans are the passes the analyses make, and it prints before they run."""

from __future__ import annotations

import lightning as L
import torch

from lowfreq.backbones import CIFARResNet18
from lowfreq.callbacks import CueConflictAnalysis, FrequencyComponentAnalysis, HybridCurveAnalysis
from lowfreq.callbacks.plan import AnalysisPlan, PlannedAnalysis, format_plan
from lowfreq.data import SyntheticShapesDataModule
from lowfreq.frontends import Identity
from lowfreq.training import FrontEndClassifier


def test_planned_passes_equal_the_forwards_each_analysis_makes(tmp_path, monkeypatch):
    dm = SyntheticShapesDataModule(num_train=32, num_val=16, num_test=40, num_conflict=10, image_size=16,
                                   batch_size=16, seed=0)
    torch.manual_seed(0)
    model = FrontEndClassifier(Identity(), CIFARResNet18(num_classes=10, width=4))
    analyses = [HybridCurveAnalysis(num_permutations=2, num_images=20, f_mix_nyquist=[0.0, 0.2, 1.0], batch_size=8),
                FrequencyComponentAnalysis(radii_bins=[2, 4], every_n_epochs=0, num_images=24, batch_size=8),
                CueConflictAnalysis(batch_size=8)]
    printed: list[str] = []
    monkeypatch.setattr("lowfreq.callbacks.plan.rank_zero_info", lambda message, *a, **k: printed.append(message))
    counts = {}
    for analysis in analyses:
        run = type(analysis).run

        def counted(self, trainer, pl_module, run=run):
            seen = []
            handle = pl_module.register_forward_hook(lambda m, args, out: seen.append(args[0].shape[0]))
            try:
                run(self, trainer, pl_module)
            finally:
                handle.remove()
            counts[self.name] = sum(seen)

        monkeypatch.setattr(type(analysis), "run", counted)
    trainer = L.Trainer(accelerator="cpu", max_steps=1, limit_val_batches=1, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, default_root_dir=tmp_path,
                        callbacks=[AnalysisPlan(), *analyses])
    trainer.fit(model, datamodule=dm)
    assert len(printed) == 1
    assert printed[0].startswith("analyses planned (from a timed batch of 8 on cpu")
    rows = {line.split()[0]: line.split() for line in printed[0].splitlines()[1:-1]}  # planned before the runs
    assert {name: int(row[3].replace(",", "")) for name, row in rows.items()} == counts
    assert all(row[4] == "forward" and "gradient" not in row for row in rows.values())
    assert counts == {"hybrid": 20 * 2 * 3, "frequency_components": 24 * 5, "cue_conflict": 10}


def test_format_plan_gives_each_analysis_its_estimate_and_the_total():
    plan = [PlannedAnalysis("hybrid", 100, 7200, 0, 12.0), PlannedAnalysis("adversarial", 50, 800, 10000, 150.0)]
    text = format_plan(plan, 1.5e-3, 1.4e-2, 128, "cpu")
    lines = text.splitlines()
    assert "1.50 ms per image forward, 14.00 ms with the input gradient" in lines[0]
    assert lines[1].split()[:3] == ["hybrid", "100", "images"]
    assert lines[1].endswith("12 s")
    assert "800 forward + 10,000 with gradient" in lines[2]
    assert lines[2].endswith("2.5 min")
    assert lines[3].split()[0] == "total"
    assert "2.7 min" in lines[3]
