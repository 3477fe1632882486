"""An analysis defined only in this file reaches the run summary, ``lowfreq compare`` and ``lowfreq report`` through
its declared headlines, without editing any lowfreq module."""

import json
import logging
from pathlib import Path

import lightning as L
import torch
from torch import Tensor
from torchmetrics import Metric

from lowfreq.callbacks.base import AnalysisCallback, stack_images_labels
from lowfreq.cli.lightning_cli import main
from lowfreq.results.columns import Headline
from lowfreq.results.compare import compare, compare_runs
from lowfreq.results.report import report_html

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "tests" / "conf" / "tiny_blur.yaml")
SEEN: list[Tensor] = []  # the images the analysis saw, for the oracle


def mean_brightness_update(images: Tensor) -> tuple[Tensor, Tensor]:
    """Sum of pixel values and number of pixels of one batch."""
    return images.double().sum(), torch.tensor(images.numel(), dtype=torch.float64)


class MeanBrightnessMetric(Metric):
    """Mean pixel value over batches and processes."""

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.add_state("total", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("pixels", torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, images: Tensor) -> None:
        total, pixels = mean_brightness_update(images)
        self.total += total
        self.pixels += pixels

    def compute(self) -> Tensor:
        return self.total / self.pixels


class MeanBrightnessAnalysis(AnalysisCallback):
    """Mean pixel value of the seeded analysis subset (a test analysis, not a lowfreq one)."""

    name = "mean_brightness"
    headlines = (
        Headline(name="mean_brightness", description="mean pixel value of the analysis images", unit="[0, 1]",
                 in_summary=True, value=lambda r: r["mean"], count=lambda r: r["num_images"]),
    )

    def run(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        dataset = self.dataset(trainer)
        local = self.local_indices(trainer, len(dataset))
        metric = self.on_device(MeanBrightnessMetric(), pl_module)
        x, _ = stack_images_labels(dataset, local)
        SEEN.append(x.clone())
        metric.update(x.to(pl_module.device))
        mean = metric.compute()
        out = self.output_dir(trainer)
        self.write(trainer, out, {"mean": mean, "num_images": self.subset_size(trainer)}, {}, {})


def test_an_analysis_declared_in_a_test_file_reaches_summary_compare_and_report(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    main(["fit", "-c", TINY, f"--trainer.default_root_dir={tmp_path}",
          "--trainer.callbacks+=test_headlines.MeanBrightnessAnalysis", "--trainer.callbacks.num_images=12"])
    (run,) = sorted((tmp_path / "lightning_logs").glob("version_*"))
    stored = json.loads((run / "analysis" / "mean_brightness" / "result.json").read_text())
    (entry,) = stored["headlines"]
    (images,) = SEEN
    assert images.shape[0] == 12
    assert entry["name"] == "mean_brightness"
    assert entry["count"] == 12
    assert abs(entry["value"] - images.double().mean().item()) < 1e-12  # oracle: the plain mean of those images

    summary = json.loads((run / "summary.json").read_text())
    (headline,) = [h for h in summary["headlines"] if h["name"] == "mean_brightness"]
    assert headline["value"] == entry["value"]
    printed = "\n".join(r.getMessage() for r in caplog.records)
    assert "mean pixel value of the analysis images" in printed

    result = compare_runs([str(run)], str(tmp_path / "cmp"))
    assert "mean_brightness" in [c.name for c in result["columns"]]
    assert result["runs"]["mean_brightness"].iloc[0] == entry["value"]
    compare([str(run)], str(tmp_path / "cmp2"))
    assert "mean_brightness" in (tmp_path / "cmp2" / "runs.csv").read_text().splitlines()[0]

    html = report_html([run])
    assert "mean pixel value of the analysis images" in html
