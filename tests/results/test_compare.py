"""``lowfreq compare``: tables over runs, seeds as mean ± std, the papers' scatter plots, missing analyses."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lowfreq.callbacks import (
    AdversarialSpectrumAnalysis,
    CorruptionAnalysis,
    CueConflictAnalysis,
    HybridCurveAnalysis,
    RobustnessAnalysis,
)
from lowfreq.plotting.compare import plot_corruption_vs_f_rev, quadratic_fit
from lowfreq.results.compare import aggregate_seeds, collect_runs, compare_main, compare_runs, run_label

from fake_runs import headlines
from fake_runs import run_config as _config
from fake_runs import write_run as _write_run

ROOT = Path(__file__).resolve().parents[2]


def _hybrid(f_rev: float, **curve) -> dict:
    return {"hybrid": {"f_rev": f_rev, **curve},
            "headlines": headlines(HybridCurveAnalysis, f_rev=f_rev, f_rev_perm_std=curve.get("f_rev_std"))}


def _adversarial(f_half: float, mean: float) -> dict:
    return {"f_half": f_half, "f_half_std": 0.01, "summary": {"median": mean, "mean": mean, "std": 0.1 * mean,
                                                              "num_failed": 0},
            "headlines": headlines(AdversarialSpectrumAnalysis, f_half=f_half, f_half_boot_std=0.01, eps_median=mean,
                                   eps_mean=mean, eps_std=0.1 * mean, adv_failed=0)}


def _corruptions(acc: float) -> dict:
    return {"source": "generated", "result": {"mean_acc": acc, "clean_acc": acc + 0.2,
                                              "band_acc": {"low": acc + 0.1, "medium": acc, "high": acc - 0.1}},
            "headlines": headlines(CorruptionAnalysis, corruption_acc=acc, corruption_clean=acc + 0.2,
                                   corruption_low=acc + 0.1, corruption_medium=acc, corruption_high=acc - 0.1)}


def _cue_conflict(shape_bias: float) -> dict:
    return {"result": {"shape_bias": shape_bias}, "headlines": headlines(CueConflictAnalysis, shape_bias=shape_bias)}


def test_run_label_names_front_end_parameter_and_backbone():
    assert run_label(_config("GaussianBlur", 0, sigma=1.5)) == "GaussianBlur(σ=1.5) + CIFARResNet18"
    assert run_label(_config("PCAProjection", 0, num_components=512)) == "PCAProjection(k=512) + CIFARResNet18"
    assert run_label(_config("Identity", 0)) == "CIFARResNet18, no front-end"
    assert run_label({"model": {"class_path": "lowfreq.training.FourierMaskProbe"}}) == "FourierMaskProbe"


def test_collect_reads_every_value_and_says_what_each_run_lacks(tmp_path):
    full = _write_run(tmp_path / "a", _config("GaussianBlur", 3, sigma=1.0), {
        "hybrid": _hybrid(0.3, f_rev_std=0.01),
        "adversarial": _adversarial(0.35, 2 / 255),
        "corruptions": _corruptions(0.6),
        "cue_conflict": _cue_conflict(0.9),
        "robustness": {"table": [{"rho": 0.0, "clean": 0.9, "fgsm": 0.2, "pgd": 0.1}, {"rho": 0.5}],
                       "headlines": headlines(RobustnessAnalysis, robust_clean=0.9, robust_fgsm=0.2, robust_pgd=0.1)},
    }, metrics={"test_acc": 0.91, "val_acc": 0.9})
    bare = _write_run(tmp_path / "b", _config("Identity", 0), {"hybrid": _hybrid(0.5)})
    table = collect_runs([full, bare])
    a, b = table.iloc[0], table.iloc[1]
    assert (a["f_rev"], a["f_half"], a["eps_mean"], a["corruption_high"]) == (0.3, 0.35, 2 / 255, 0.5)
    assert (a["test_acc"], a["val_acc"], a["shape_bias"], a["robust_pgd"]) == (0.91, 0.9, 0.9, 0.1)
    assert a["seed"] == 3
    assert a["frontend"] == "GaussianBlur"
    assert a["frontend_param"] == 1.0
    assert a["missing"] == ""
    assert b["f_rev"] == 0.5
    assert math.isnan(b["f_half"])
    assert math.isnan(b["f_rev_perm_std"])
    assert b["missing"].split() == ["adversarial", "corruptions", "cue_conflict", "metrics", "robustness"]


def test_folder_of_versions_expands_and_bad_paths_say_what_is_wrong(tmp_path):
    for i in range(2):
        _write_run(tmp_path / "lightning_logs" / f"version_{i}", _config("Identity", i), {})
    assert len(collect_runs([tmp_path / "lightning_logs"])) == 2
    assert len(collect_runs([tmp_path])) == 2  # <dir>/*/version_*
    with pytest.raises(FileNotFoundError, match="does not exist"):
        collect_runs([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        collect_runs([tmp_path / "empty"])
    with pytest.raises(ValueError, match="names must give one name per run: 2 runs, got 1"):
        collect_runs([tmp_path / "lightning_logs"], names=["x"])


def test_seeds_of_one_setting_become_mean_and_sample_std(tmp_path):
    values = [0.30, 0.34, 0.29]
    runs = [_write_run(tmp_path / f"s{i}", _config("GaussianBlur", i, sigma=1.5), {"hybrid": _hybrid(v)})
            for i, v in enumerate(values)]
    runs.append(_write_run(tmp_path / "base", _config("Identity", 0), {"hybrid": _hybrid(0.5)}))
    settings = aggregate_seeds(collect_runs(runs)).set_index("setting")
    blur = settings.loc["GaussianBlur(σ=1.5) + CIFARResNet18"]
    assert blur["num_runs"] == 3
    assert blur["seeds"] == "0 1 2"
    assert blur["f_rev_mean"] == pytest.approx(np.mean(values), abs=1e-12)
    assert blur["f_rev_seed_std"] == pytest.approx(np.std(values, ddof=1), abs=1e-12)
    base = settings.loc["CIFARResNet18, no front-end"]
    assert base["f_rev_seed_std"] == 0.0
    assert base["f_rev_n"] == 1
    assert "f_half_mean" not in settings  # no run has the adversarial analysis: its quantities get no column


def test_quadratic_fit_recovers_an_exact_parabola_and_refuses_two_points():
    x = np.array([0.1, 0.2, 0.3, 0.45])
    assert quadratic_fit(x, -2.0 * x**2 + 0.5 * x + 0.7) == pytest.approx([-2.0, 0.5, 0.7], abs=1e-9)
    assert quadratic_fit(np.array([0.1, 0.1, 0.2]), np.array([1.0, 2.0, 3.0])) is None


def test_compare_writes_tables_figures_and_draws_the_blur_fit(tmp_path, capsys):
    runs = []
    for sigma, f_rev in ((0.5, 0.45), (1.0, 0.35), (1.5, 0.25), (2.0, 0.2)):
        for seed in (0, 1):
            acc = 0.8 - (f_rev - 0.3) ** 2 + 0.01 * seed
            runs.append(_write_run(tmp_path / f"blur{sigma}_{seed}", _config("GaussianBlur", seed, sigma=sigma), {
                "hybrid": _hybrid(f_rev), "corruptions": _corruptions(acc),
                "adversarial": _adversarial(0.5 - f_rev / 2, (1 + sigma) / 255)}))
    runs.append(_write_run(tmp_path / "base", _config("Identity", 0), {"hybrid": _hybrid(0.6)}))
    result = compare_runs(runs, tmp_path / "out")
    assert set(result["figures"]) == {"eps_vs_f_half", "corruption_vs_f_rev", "overlay_corruption_bands"}  # no mvh
    for stem in result["figures"]:
        assert (tmp_path / "out" / f"{stem}.png").stat().st_size > 1000
    assert len(pd.read_csv(tmp_path / "out" / "runs.csv")) == 9
    assert len(pd.read_csv(tmp_path / "out" / "settings.csv")) == 5
    saved = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert saved["missing"] == {"CIFARResNet18, no front-end seed 0": ["adversarial", "corruptions"]}

    _fig, ax = plot_corruption_vs_f_rev(result["settings"])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "GaussianBlur(σ=1.5) + CIFARResNet18 (n=2 runs)" in legend
    assert "quadratic fit over 4 blur settings" in legend
    (fit,) = [line for line in ax.get_lines() if line.get_label().startswith("quadratic fit")]
    grid_x, grid_y = fit.get_data()
    blur = result["settings"][result["settings"]["frontend"] == "GaussianBlur"]
    expected = np.polyfit(blur["f_rev_mean"], blur["corruption_acc_mean"] * 100, 2)
    assert grid_y == pytest.approx(np.polyval(expected, grid_x))
    assert "%" in ax.get_ylabel()
    assert "Nyquist" in ax.get_xlabel()

    compare_main([str(p) for p in runs[:2]] + ["--out", str(tmp_path / "cli"), "--names", "blur", "blur"])
    printed = capsys.readouterr().out
    assert "blur seed 0" in printed
    assert "blur seed 1" in printed
    assert "f_rev" in printed
    assert (tmp_path / "cli" / "eps_vs_f_half.png").is_file()


@pytest.mark.slow
def test_compare_on_runs_made_by_fit(tmp_path, capsys):
    from lowfreq.cli.lightning_cli import main

    analyses = json.dumps([
        {"class_path": "lowfreq.callbacks.HybridCurveAnalysis",
         "init_args": {"num_images": 16, "num_permutations": 1}},
        {"class_path": "lowfreq.callbacks.AdversarialSpectrumAnalysis",
         "init_args": {"num_images": 4, "attacks": ["fmn", "pgd"], "num_bootstrap": 20}},
        {"class_path": "lowfreq.callbacks.CorruptionAnalysis",
         "init_args": {"num_images": 8, "corruptions": ["gaussian_noise"], "severities": [5],
                       "cache_dir": str(tmp_path / "cache")}},
    ])
    for frontend in ("lowfreq.frontends.GaussianBlur", "lowfreq.frontends.Identity"):
        main(["fit", "-c", str(ROOT / "tests" / "conf" / "tiny_blur.yaml"), f"--trainer.default_root_dir={tmp_path}",
              f"--model.init_args.frontend={frontend}", f"--trainer.callbacks={analyses}",
              "--data.init_args.image_size=32"])  # the corruption library needs at least 32 x 32
    capsys.readouterr()
    main(["compare", str(tmp_path / "lightning_logs"), "--out", str(tmp_path / "cmp")])
    printed = capsys.readouterr().out
    assert "GaussianBlur(σ=1.5) + CIFARResNet18(width=4) seed 0" in printed
    assert "CIFARResNet18(width=4), no front-end seed 0" in printed
    table = pd.read_csv(tmp_path / "cmp" / "runs.csv")
    assert table[["f_half", "eps_mean", "val_acc", "corruption_acc", "corruption_high"]].notna().all().all()
    assert table["f_rev"].notna().any()  # after 3 steps a model may have no crossing yet (NaN, stored as null)
    for row in table.itertuples():
        saved = json.loads((Path(row.run_dir) / "analysis" / "corruptions" / "result.json").read_text())
        assert row.corruption_acc == saved["result"]["mean_acc"]
        assert saved["source"] == "generated"
    assert (tmp_path / "cmp" / "eps_vs_f_half.png").is_file()
    assert (tmp_path / "cmp" / "corruption_vs_f_rev.png").is_file()


def _resnet_run(tmp_path: Path, name: str, seed: int, *, epochs: int, width: int = 16, images: int = 100,
                stage: str | None = None, f_rev: float = 0.3) -> Path:
    config = _config("GaussianBlur", seed, sigma=1.5)
    config["model"]["init_args"]["backbone"]["init_args"]["width"] = width
    config["trainer"] = {"max_epochs": epochs, "default_root_dir": str(tmp_path / name), "callbacks": [
        {"class_path": "lowfreq.callbacks.HybridCurveAnalysis", "init_args": {"num_images": images, "seed": 0}}]}
    if stage:
        config.update(ckpt_path=str(tmp_path / "fit1" / "checkpoints" / "last.ckpt"), verbose=True)
    run = _write_run(tmp_path / name, config, {"hybrid": _hybrid(f_rev)})
    if stage:
        (run / "summary.json").write_text(json.dumps({"stage": stage}))
    return run


def test_unlike_runs_are_not_pooled_and_labels_say_what_differs(tmp_path, capsys):
    """The issue's case: a 1-epoch fit, a validate of its checkpoint with 10 images, a 3-epoch fit (all seed 0)."""
    runs = [_resnet_run(tmp_path, "fit1", 0, epochs=1), _resnet_run(tmp_path, "val", 0, epochs=1, images=10,
                                                                      stage="validate"),
            _resnet_run(tmp_path, "fit3", 0, epochs=3)]
    table = collect_runs(runs)
    assert table["setting"].nunique() == 3
    fit1, val, fit3 = table["setting"].tolist()
    assert "width=16" in fit1
    assert "max_epochs=1" in fit1
    assert "max_epochs=3" in fit3
    assert "validate" in val
    assert "checkpoint fit1/checkpoints/last.ckpt" in val
    assert "validate" not in fit1
    settings = aggregate_seeds(table)
    assert settings["num_runs"].tolist() == [1, 1, 1]
    assert settings["run_dirs"].tolist() == [str(r) for r in runs]  # which runs went where
    compare_main([*map(str, runs), "--out", str(tmp_path / "cmp")])
    printed = capsys.readouterr().out
    assert f"{fit3}: 1 run(s), seed(s) 0: {runs[2]}" in printed


def test_seeds_pool_across_analysis_sizes_but_a_repeated_seed_stays_apart(tmp_path, caplog):
    runs = [_resnet_run(tmp_path, "s0", 0, epochs=3, images=100, f_rev=0.30),
            _resnet_run(tmp_path, "s1", 1, epochs=3, images=500, f_rev=0.34),
            _resnet_run(tmp_path, "s0again", 0, epochs=3, images=100, f_rev=0.31)]
    settings = aggregate_seeds(collect_runs(runs)).set_index("setting")
    pooled = settings.loc["GaussianBlur(σ=1.5) + CIFARResNet18(width=16)"]
    assert pooled["num_runs"] == 2
    assert pooled["seeds"] == "0 1"
    assert pooled["f_rev_mean"] == pytest.approx(0.32)
    repeat = settings.loc["GaussianBlur(σ=1.5) + CIFARResNet18(width=16) (repeat 2)"]
    assert repeat["num_runs"] == 1
    assert repeat["run_dirs"] == str(runs[2])
    assert any("repeats seed 0" in r.getMessage() for r in caplog.records)


def _curves(shift: float) -> dict[str, dict]:
    """Result payloads with every overlaid curve, shaped as the callbacks write them."""
    f_mix = [0.0, 0.1, 0.3, 1.0]
    return {
        "hybrid": _hybrid(0.2 + shift, f_mix=f_mix, p_low=[0.0, 0.2 + shift, 0.7, 0.9], p_high=[0.9, 0.6, 0.2, 0.0],
                          num_pairs=50),
        "frequency_components": {"radii": [4.0, 8.0], "history": [
            {"epoch": e, "global_step": 10 * e, "acc_low": [0.3 + shift, 0.5], "acc_high": [0.2, 0.1]}
            for e in range(3)],
            "last": {"radii_cycles": [0.125, 0.25], "acc_low": [0.3 + shift, 0.5], "acc_high": [0.2, 0.1],
                     "num_images": 20}},
        "band_pass": {"band_pass": {"centres": [0.1, 0.3], "acc_pass": [0.6 + shift, 0.2],
                                    "acc_stop": [0.3, 0.5], "num_images": 20}},
        "fourier_heat_map": {"heat_map": {"radial_frequency": [0.0, 0.25, 0.5],
                                          "radial_error": [0.1, None, 0.5 + shift], "clean_error": 0.1,
                                          "num_images": 20}},
        "cue_conflict": {"result": {"num_images": 20, "shape_fraction": 0.5 + shift, "texture_fraction": 0.3,
                                    "other_fraction": 0.2 - shift, "shape_bias": (0.5 + shift) / (0.8 + shift)}},
        "adversarial": {"f_half": 0.2 + shift, "indices": [1, 2, 3], "summary": {"median": 0.01},
                        "profile": {"frequency": [0.0, 0.25, 0.5], "fraction_below": [0.1, 0.6 - shift, 1.0]},
                        "headlines": headlines(AdversarialSpectrumAnalysis, f_half=0.2 + shift, eps_median=0.01,
                                               counts={"f_half": 3, "eps_median": 3})},
        "corruptions": _corruptions(0.5 + shift),
        "fourier_mask": {"radial_energy": [1.0, 0.5 + shift, 0.1], "radial_centres_cycles": [0.1, 0.25, 0.4]},
    }


def test_every_analysis_curve_gets_an_overlay_and_missing_scatters_are_named(tmp_path, capsys):
    from lowfreq.plotting.overlays import OVERLAYS

    runs = [_write_run(tmp_path / "blur", _config("GaussianBlur", 0, sigma=1.5), _curves(0.0)),
            _write_run(tmp_path / "base", _config("Identity", 0), _curves(0.1))]
    result = compare_runs(runs, tmp_path / "cmp")
    assert set(OVERLAYS) <= set(result["figures"])  # hybrid, components, profile, corruption bands, mask energy
    for stem in OVERLAYS:
        assert (tmp_path / "cmp" / f"{stem}.png").stat().st_size > 0
        payloads = [(label, json.loads((run / "analysis" / OVERLAYS[stem].analysis / "result.json").read_text()))
                    for label, run in (("blur", runs[0]), ("base", runs[1]))]
        fig, _ax = OVERLAYS[stem].plot(payloads)
        labels = [t.get_text() for a in fig.axes for legend in [a.get_legend()] if legend for t in legend.get_texts()]
        assert any(t.startswith("blur") for t in labels), stem
        assert any(t.startswith("base") for t in labels), stem
    notes = " ".join(result["notes"])
    assert "consistency_vs_ood not drawn" in notes
    assert "model-vs-human" in notes
    assert "corruption_vs_f_rev drawn from 2 settings" in notes
    assert "3 Gaussian-blur settings" in notes
    compare_main([*map(str, runs), "--out", str(tmp_path / "cmp2")])
    assert "note: consistency_vs_ood not drawn" in capsys.readouterr().out


def test_an_overlay_of_one_run_is_not_drawn_and_says_so(tmp_path):
    runs = [_write_run(tmp_path / "a", _config("GaussianBlur", 0, sigma=1.5), {"hybrid": _curves(0.0)["hybrid"]}),
            _write_run(tmp_path / "b", _config("Identity", 0), {"cue_conflict": _cue_conflict(0.2)})]
    result = compare_runs(runs, tmp_path / "cmp")
    assert "overlay_hybrid" not in result["figures"]
    assert any(n.startswith("overlay_hybrid not drawn: only GaussianBlur") for n in result["notes"])


def test_setting_config_edge_cases_and_a_broken_curve_becomes_a_note(tmp_path):
    from lowfreq.results.compare import setting_config

    config = {"seed_everything": 3, "trainer": {"callbacks": [
        {"class_path": "lowfreq.callbacks.CueConflictAnalysis", "init_args": {"num_images": 10}}]},
        "data": {"init_args": {"data_dir": "/scratch/cifar", "batch_size": 128}}}
    flat = setting_config(config, "validate")  # a pretrained model validated without a checkpoint
    assert flat["trainer.callbacks.CueConflictAnalysis"] == "on"
    assert "checkpoint" not in flat
    assert "data.init_args.data_dir" not in flat
    assert flat["data.init_args.batch_size"] == "128"
    broken = {"hybrid": {"hybrid": {"p_low": [0.1], "p_high": [0.9]}}}  # no f_mix: an older or edited file
    runs = [_write_run(tmp_path / n, _config("GaussianBlur", i, sigma=i + 1.0), broken) for i, n in enumerate("ab")]
    result = compare_runs(runs, tmp_path / "cmp")
    assert "overlay_hybrid" not in result["figures"]
    assert any(n.startswith("overlay_hybrid not drawn: a result file lacks") for n in result["notes"])
