"""RunSummary: the headline table printed at the end of fit / validate / test, and summary.json."""

import json
import logging
import math
import re
from pathlib import Path

from lowfreq.callbacks import AdversarialSpectrumAnalysis, CorruptionAnalysis, HybridCurveAnalysis
from lowfreq.callbacks.summary import format_summary, read_headlines
from lowfreq.cli.lightning_cli import main
from lowfreq.results.columns import METRIC_COLUMNS

from fake_runs import headlines as _headlines

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "tests" / "conf" / "tiny_blur.yaml")
RUN = "GaussianBlur(σ=1.5) + CIFARResNet18(width=4)"


def _runs(root: Path) -> list[Path]:
    return sorted((root / "lightning_logs").glob("version_*"))


def test_tiny_fit_and_validate_write_summary_json_and_print_the_table(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    main(["fit", "-c", TINY, f"--trainer.default_root_dir={tmp_path}",
          "--trainer.callbacks+=lowfreq.callbacks.CueConflictAnalysis", "--trainer.callbacks.num_images=16",
          "--trainer.callbacks+=lowfreq.callbacks.HybridCurveAnalysis", "--trainer.callbacks.num_images=8"])
    (run,) = _runs(tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    assert set(summary) == {"run", "stage", "global_step", "run_dir", "metrics", "headlines", "result_files"}
    assert summary["run"] == RUN
    assert summary["stage"] == "fit"
    assert summary["global_step"] == 3
    assert Path(summary["run_dir"]) == run.resolve()
    assert set(summary["metrics"]) == {"val_acc"}
    assert 0 <= summary["metrics"]["val_acc"] <= 1
    assert set(summary["result_files"]) == {"cue_conflict", "hybrid"}
    cue = json.loads((run / "analysis" / "cue_conflict" / "result.json").read_text())["result"]
    (shape,) = [h for h in summary["headlines"] if h["name"] == "shape_bias"]
    assert shape["value"] == cue["shape_bias"]
    assert shape["count"] == 16
    assert Path(shape["file"]) == run / "analysis" / "cue_conflict" / "result.json"
    hybrid = json.loads((run / "analysis" / "hybrid" / "result.json").read_text())["hybrid"]
    f_rev, crossing = [h for h in summary["headlines"] if h["analysis"] == "hybrid"]
    assert f_rev["count"] == 8
    assert (f_rev["value"] is None or 0 <= f_rev["value"] <= math.sqrt(2))
    assert crossing["value"] == hybrid["num_crossing"]
    assert crossing["count"] == 4
    assert (f_rev["value"] is None) == (hybrid["num_crossing"] == 0)  # one crossing permutation gives a headline
    printed = "\n".join(r.getMessage() for r in caplog.records if RUN in r.getMessage())
    assert "fit finished at step 3" in printed
    assert "cue-conflict shape bias (synthetic shapes)" in printed
    assert "n=16" in printed
    assert "val accuracy" in printed
    assert "analysis/cue_conflict/result.json" in printed
    assert str(run / "summary.json") in printed
    assert f"run directory: {run}" in printed

    caplog.clear()
    main(["validate", "-c", TINY, f"--trainer.default_root_dir={tmp_path}",
          f"--ckpt_path={run / 'checkpoints' / 'last.ckpt'}",
          "--trainer.callbacks+=lowfreq.callbacks.CueConflictAnalysis", "--trainer.callbacks.num_images=8"])
    validated = json.loads((_runs(tmp_path)[1] / "summary.json").read_text())
    assert validated["stage"] == "validate"
    assert set(validated["metrics"]) == {"val_acc"}
    assert [h["count"] for h in validated["headlines"]] == [8]
    assert any("validate finished (model at step 3)" in r.getMessage() for r in caplog.records)  # the checkpoint's
    assert validated["global_step"] == 3


def test_headlines_of_analyses_that_exist_only_sometimes(tmp_path, caplog):
    def write(name: str, result: object) -> None:
        (tmp_path / "analysis" / name).mkdir(parents=True)
        (tmp_path / "analysis" / name / "result.json").write_text(json.dumps(result))

    write("corruptions", {"result": {"mean_acc": 0.61, "num_clean": 500}, "headlines": _headlines(
        CorruptionAnalysis, corruption_acc=0.61, counts={"corruption_acc": 500})})
    write("hybrid", {"hybrid": {"f_rev": None, "num_pairs": 10}, "headlines": [  # NaN f_rev is stored as null
        h for h in _headlines(HybridCurveAnalysis, f_rev=None, counts={"f_rev": 10}) if h["name"] == "f_rev"]})
    write("adversarial", {"f_half": 0.21, "summary": {"median": 0.03}, "indices": [4, 7, 9], "headlines": _headlines(
        AdversarialSpectrumAnalysis, f_half=0.21, eps_median=0.03, counts={"f_half": 3, "eps_median": 3})})
    write("brand_new", {"something": 1.0})                                     # no headlines (an older file)
    (tmp_path / "analysis" / "broken").mkdir()
    (tmp_path / "analysis" / "broken" / "result.json").write_text("{not json")
    headlines, files = read_headlines(tmp_path)
    assert set(files) == {"corruptions", "hybrid", "adversarial", "brand_new", "broken"}
    found = {(h["analysis"], h["name"]): (h["value"], h["count"]) for h in headlines}
    assert found == {("corruptions", "corruption_acc"): (0.61, 500), ("hybrid", "f_rev"): (None, 10),
                     ("adversarial", "f_half"): (0.21, 3), ("adversarial", "eps_median"): (0.03, 3)}
    assert any("broken" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert list(found) == [("adversarial", "f_half"), ("adversarial", "eps_median"),  # analyses by name, each
                           ("corruptions", "corruption_acc"), ("hybrid", "f_rev")]    # in its declared order
    summary = {"run": "m", "stage": "test", "global_step": 0, "run_dir": str(tmp_path), "metrics": {"test_acc": 0.5},
               "headlines": headlines, "result_files": files}
    text = format_summary(summary, tmp_path / "summary.json")
    assert "mean accuracy over corruptions x severities" in text
    assert "0.61" in text
    assert "n=500" in text
    assert "7.65/255" in text
    assert "0.03 " not in text
    assert "n/a" in text
    assert "brand_new: " in text
    assert "test accuracy" in text


def test_fractions_keep_their_decimals_and_counts_print_as_integers():
    """A perfect baseline's 1 and a shape bias of 0 read as fractions, like 0.8330 beside them; counts stay integers."""
    declared = (*METRIC_COLUMNS, *HybridCurveAnalysis.headlines, *AdversarialSpectrumAnalysis.headlines)
    by_name = {c.name: c for c in declared}
    assert [by_name["val_acc"].format(v) for v in (1.0, 0.0, 0.833)] == ["1.000", "0.000", "0.8330"]
    assert by_name["f_rev_crossing"].format(4.0) == "4"
    assert by_name["adv_failed"].format(0.0) == "0"
    assert by_name["eps_median"].format(3 / 255) == "3/255"
    summary = {"run": "m", "stage": "fit", "global_step": 7, "run_dir": "/r", "metrics": {"val_acc": 1.0},
               "headlines": [{"analysis": "hybrid", **by_name["f_rev_crossing"].to_json(), "description": "crossing",
                              "value": 4, "count": 4, "file": "/r/analysis/hybrid/result.json"}], "result_files": {}}
    text = format_summary(summary, "/r/summary.json")
    assert "val accuracy     1.000" in text
    assert re.search(r"crossing +4  n=4", text)


def test_a_validate_without_checkpoint_says_pretrained_weights_not_step_0():
    summary = {"run": "m", "stage": "validate", "global_step": None, "run_dir": "/r", "metrics": {},
               "headlines": [], "result_files": {}}
    assert "m — validate finished (pretrained weights, no checkpoint)" in format_summary(summary, "/r/s.json")
