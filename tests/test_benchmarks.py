"""The speed benchmarks run end to end on the CPU (tiny settings: they check the scripts, not the speed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], check=False,
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_train_throughput_reports_both_paths(tmp_path):
    out = tmp_path / "throughput.json"
    stdout = _run("train_throughput.py", "--device", "cpu", "--backbone", "linear", "--batch-size", "8",
                  "--num-train", "64", "--steps", "6", "--warmup", "2", "--rounds", "1", "--threads", "1",
                  "--device-resident", "true", "--progress-bar-refresh", "0", "--json", str(out))
    result = json.loads(out.read_text())
    assert "ratio lowfreq / plain" in stdout
    assert "time per step (best)" in stdout
    for side in ("plain", "lowfreq"):
        (run,) = result[side]
        assert run["images"] == 6 * 8
        assert run["seconds"] > 0
        assert run["ms_per_step"] == pytest.approx(1e3 * run["seconds"] / 6)
    assert result["lowfreq"][0]["data_path"] == "device-resident"
    assert result["ratio"] == pytest.approx(result["best_lowfreq_images_per_s"] / result["best_plain_images_per_s"])
    assert result["train_flops"] > result["forward_flops"] > 0


def test_time_to_accuracy_on_a_small_npz(tmp_path):
    rng = np.random.default_rng(0)
    npz = tmp_path / "tiny.npz"
    np.savez(npz, x_train=rng.integers(0, 256, (64, 32, 32, 3), dtype=np.uint8), y_train=rng.integers(0, 10, 64),
             x_test=rng.integers(0, 256, (32, 32, 32, 3), dtype=np.uint8), y_test=rng.integers(0, 10, 32))
    out = tmp_path / "tta.json"
    stdout = _run("time_to_accuracy.py", "--npz", str(npz), "--width", "4", "--max-epochs", "2", "--batch-size", "16",
                  "--target", "0.0", "--threads", "1", "--accelerator", "cpu", "--json", str(out))
    result = json.loads(out.read_text())
    assert "time to 0.00% test accuracy" in stdout
    assert result["reached"]["epoch"] == 1
    assert result["train_images"] == 64
    assert result["test_images"] == 32
    assert result["history"][0]["seconds"] > 0
    assert 0 <= result["history"][0]["acc"] <= 1


def test_masks_benchmark_compares_batched_and_sequential():
    stdout = _run("masks.py", "--num-images", "6", "--sequential-images", "2", "--steps", "3", "--threads", "1")
    assert "batched:" in stdout
    assert "one at a time:" in stdout
    assert "speed-up:" in stdout
    difference = float(stdout.rsplit(":", 1)[1])
    assert difference < 1e-4  # the batched masks are the one-at-a-time masks


def test_adversarial_benchmark_compares_both_protocols(monkeypatch, capsys):
    pytest.importorskip("foolbox")
    pytest.importorskip("numba")
    # in this process: Brendel-Bethge's numba kernels compile once per process, and the attack tests did it already
    import runpy

    monkeypatch.setattr(sys, "argv", ["adversarial.py", "--num-images", "4", "--seeds", "1", "--bb-steps", "5",
                                      "--train-images", "200", "--pool-images", "100"])
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # leave the suite's thread count alone
    runpy.run_path(str(ROOT / "benchmarks" / "adversarial.py"), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith(("(a)", "(b)"))]
    assert [row.split()[0] for row in rows] == ["(a)", "(b)", "(b)", "(b)"]
    assert rows[0].startswith("(a) BB from 1 target-class starts, 5 steps")
    assert [row.split()[1] for row in rows[1:]] == ["default:", "every-attack:", "smoke:"]
    assert all("time x" in row and "median x" in row and "failed" in row for row in rows)


def test_analysis_cost_prints_every_analysis_against_its_floor(monkeypatch, capsys):
    import runpy

    monkeypatch.setattr(sys, "argv", ["analysis_cost.py", "--num-images", "20", "--batch-size", "10", "--width", "4",
                                      "--analyses", "hybrid,components,cue_conflict,mask_fit,heat_map"])
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)
    runpy.run_path(str(ROOT / "benchmarks" / "analysis_cost.py"), run_name="__main__")
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[2:]}
    assert set(rows) == {"hybrid", "components", "cue_conflict", "mask_fit", "heat_map"}
    assert rows["hybrid"][1:4] == ["144", "1440", "0"]  # 2 batches x 4 permutations x 18 f_mix; 20 x 4 x 18 images
    assert rows["components"][2:4] == ["180", "0"]
    assert rows["cue_conflict"][2:4] == ["20", "0"]
    assert rows["heat_map"][2:4] == ["700", "0"]  # 20 images x (34 basis images of the stride-4 grid + clean)
    assert int(rows["mask_fit"][3]) > 0  # the mask fit needs gradients
    assert all(float(row[-1]) > 0 for row in rows.values())  # time / floor
