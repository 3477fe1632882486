"""``lowfreq alignment --output``: the JSON, the table (CSV and Markdown) and the model-vs-human figures (shape bias
per category, error consistency vs OOD accuracy), on a small synthetic raw-data folder and on the real human data."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection

from lowfreq.core.io import to_jsonable
from lowfreq.mvh.cli import alignment_paths, markdown_table
from lowfreq.mvh.labels import CLASSES_16
from lowfreq.mvh.metrics import TABLE_COLUMNS, benchmark_from_raw_data, benchmark_table, shape_bias_table
from lowfreq.mvh.plotting import plot_benchmark_consistency, plot_shape_bias_per_class
from lowfreq.mvh.raw_data import TRIAL_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ["edge", "cue-conflict", "low-pass"]
FILES = ("alignment.json", "alignment.csv", "shape_bias.csv", "shape_bias.png", "shape_bias.pdf",
         "consistency_vs_ood.png", "consistency_vs_ood.pdf")


def _write(raw: Path, subj: str, dataset: str, rows: list[tuple[str, str, str, str]]) -> None:
    """One trial CSV in model-vs-human's naming; rows are (imagename, category, response, condition)."""
    session = "session_1" if subj.startswith("subject-") else "session-1"
    table = pd.DataFrame({
        "subj": subj, "session": "1", "trial": [str(i + 1) for i in range(len(rows))], "rt": "NaN",
        "object_response": [r[2] for r in rows], "category": [r[1] for r in rows],
        "condition": [r[3] for r in rows], "imagename": [r[0] for r in rows],
    })
    path = raw / dataset / f"{dataset}_{subj}_{session}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table[list(TRIAL_COLUMNS)].to_csv(path, index=False)


def _responses(rng: np.random.Generator, right: list[str], wrong: list[str], p: float) -> list[str]:
    return [r if rng.random() < p else w for r, w in zip(right, wrong, strict=True)]


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    """A raw-data folder: a texture-biased model ``net`` and three shape-biased humans on edge (16 images),
    cue-conflict (32 images, 2 per category, shape != texture) and low-pass (conditions 0 (excluded), 1, 3)."""
    raw = tmp_path_factory.mktemp("synthetic") / "raw-data"
    rng = np.random.default_rng(0)
    n = len(CLASSES_16)
    cue = [(f"{c}{k}-{CLASSES_16[(i + k) % n]}{k}.png", c, CLASSES_16[(i + k) % n])
           for i, c in enumerate(CLASSES_16) for k in (1, 2)]
    edge = [(f"{i:04d}_e_s01_0_{c}_00_{c}{i}.png", c) for i, c in enumerate(CLASSES_16)]
    low = [(f"{i:04d}_lp_s01_{cond}_{c}_00_n0000_{i}.png", c, cond)
           for cond in ("0", "1", "3") for i, c in enumerate(CLASSES_16)]
    observers = {"net": (0.2, 0.4), "subject-01": (0.9, 0.8), "subject-02": (0.85, 0.7), "subject-03": (0.95, 0.75)}
    for subj, (shape_rate, accuracy) in observers.items():
        shape = _responses(rng, [s for _, s, _ in cue], [t for _, _, t in cue], shape_rate)
        _write(raw, subj, "cue-conflict", [(name, s, r, "0") for (name, s, _), r in zip(cue, shape, strict=True)])
        wrong = [CLASSES_16[(CLASSES_16.index(c) + 1) % n] for _, c in edge]
        answers = _responses(rng, [c for _, c in edge], wrong, accuracy)
        _write(raw, subj, "edge", [(name, c, r, "0") for (name, c), r in zip(edge, answers, strict=True)])
        wrong = [CLASSES_16[(CLASSES_16.index(c) + 3) % n] for _, c, _ in low]
        answers = _responses(rng, [c for _, c, _ in low], wrong, accuracy)
        _write(raw, subj, "low-pass", [(nm, c, r, cond) for (nm, c, cond), r in zip(low, answers, strict=True)])
    return raw


@pytest.fixture(scope="module")
def result(raw) -> dict:
    return benchmark_from_raw_data(raw, "net")


def _lowfreq(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    environment.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "lowfreq", *args], capture_output=True, text=True, cwd=cwd,
                          env=environment, timeout=300, check=False)


def _check_files(folder: Path, names: tuple[str, ...]) -> None:
    for name in names:
        path = folder / name
        assert path.is_file(), path
        assert path.stat().st_size > 0, path
        head = path.read_bytes()[:8]
        if name.endswith(".png"):
            assert head.startswith(b"\x89PNG"), path
        elif name.endswith(".pdf"):
            assert head.startswith(b"%PDF"), path


def test_output_folder_gets_json_table_and_both_figures(raw, result, tmp_path):
    out = tmp_path / "alignment"
    # a GUI backend in the environment and no display: the figures are Figure objects rendered by Agg
    proc = _lowfreq("alignment", "--raw-data", str(raw), "--model", "net", "--output", str(out), MPLBACKEND="qtagg")
    assert proc.returncode == 0, proc.stderr
    _check_files(out, FILES)
    assert json.loads((out / "alignment.json").read_text()) == to_jsonable(result)

    table = pd.read_csv(out / "alignment.csv")
    assert tuple(table.columns) == TABLE_COLUMNS
    assert list(zip(table["observer"], table["dataset"], strict=True)) == [
        (observer, ds) for observer in ("net", "humans") for ds in ("all", *DATASETS)]
    first = table.iloc[0]
    for metric in ("shape_bias", "error_consistency", "ood_accuracy"):
        assert first[metric] == pytest.approx(result[metric])
    assert table.set_index(["observer", "dataset"]).loc[("humans", "edge"), "num_humans"] == 3
    assert first["num_trials"] == 16 + 32 + 32  # low-pass condition 0 is excluded
    per_class = pd.read_csv(out / "shape_bias.csv")
    assert list(per_class.columns) == ["category", "net", "humans"]
    assert list(per_class["category"]) == list(CLASSES_16)

    lines = proc.stdout.splitlines()
    assert lines[0].startswith("| observer | dataset | shape bias | κ |")
    assert len([line for line in lines if line.startswith("| net |")]) == 1 + len(DATASETS)
    assert f"shape_bias: {out / 'shape_bias.png'}, {out / 'shape_bias.pdf'}" in lines
    assert "{" not in proc.stdout  # the JSON went to the file


def test_json_path_puts_the_rest_next_to_it_named_after_it(raw, tmp_path, capsys):
    from lowfreq.cli.lightning_cli import main

    main(["alignment", "--raw-data", str(raw), "--model", "net", "--output", str(tmp_path / "runs" / "net.json")])
    _check_files(tmp_path / "runs", ("net.json", "net.csv", "net_shape_bias.csv", "net_shape_bias.png",
                                     "net_shape_bias.pdf", "net_consistency_vs_ood.png", "net_consistency_vs_ood.pdf"))
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == sorted(
        ["net.json", "net.csv", "net_shape_bias.csv", "net_shape_bias.png", "net_shape_bias.pdf",
         "net_consistency_vs_ood.png", "net_consistency_vs_ood.pdf"])
    assert "| net | all |" in capsys.readouterr().out
    assert alignment_paths("out") == {
        "json": Path("out/alignment.json"), "table": Path("out/alignment.csv"),
        "shape_bias_table": Path("out/shape_bias.csv"), "shape_bias": Path("out/shape_bias"),
        "consistency_vs_ood": Path("out/consistency_vs_ood")}


def test_without_cue_conflict_no_shape_bias_figure_and_humans_only_works(raw, tmp_path, capsys):
    from lowfreq.cli.lightning_cli import main

    main(["alignment", "--raw-data", str(raw), "--model", "net", "--datasets", "[edge]", "--output", str(tmp_path)])
    assert not (tmp_path / "shape_bias.png").exists()
    assert not (tmp_path / "shape_bias.csv").exists()
    _check_files(tmp_path, ("alignment.json", "alignment.csv", "consistency_vs_ood.png", "consistency_vs_ood.pdf"))
    assert "shape_bias: not drawn (no cue-conflict trials were evaluated)" in capsys.readouterr().out

    main(["alignment", "--raw-data", str(raw), "--output", str(tmp_path / "humans")])
    _check_files(tmp_path / "humans", FILES)
    table = pd.read_csv(tmp_path / "humans" / "alignment.csv")
    assert set(table["observer"]) == {"humans"}
    assert len(table) == 1 + len(DATASETS)


def test_without_output_stdout_stays_the_json(raw, result, capsys):
    from lowfreq.cli.lightning_cli import main

    main(["alignment", "--raw-data", str(raw), "--model", "net"])
    assert json.loads(capsys.readouterr().out) == to_jsonable(result)


def test_table_rows_and_markdown(result):
    table = benchmark_table(result)
    assert len(table) == 2 * (1 + len(DATASETS))
    rows = table.set_index(["observer", "dataset"])
    assert rows.loc[("net", "edge"), "error_consistency"] == pytest.approx(
        result["datasets"]["edge"]["error_consistency"])
    assert rows.loc[("humans", "cue-conflict"), "shape_bias"] == pytest.approx(result["humans"]["shape_bias"])
    assert np.isnan(rows.loc[("net", "edge"), "shape_bias"])  # shape bias exists for cue-conflict only
    text = markdown_table(table).splitlines()
    assert len(text) == 2 + len(table)
    assert text[1] == "|---|---|---|---|---|---|---|---|---|"
    assert text[2].startswith(f"| net | all | {result['shape_bias']:.3f} | {result['error_consistency']:.3f} |")
    assert text[2].endswith("| 80 |  |")  # trials summed, humans empty in the "all" row
    per_class = shape_bias_table(result)
    assert per_class.set_index("category").loc["cat", "net"] == pytest.approx(result["shape_bias_per_class"]["cat"])


def _points(ax, label: str) -> int:
    (line,) = [line for line in ax.get_lines() if line.get_label() == label]
    return len(line.get_xdata())


def test_figures_have_their_labels_and_one_point_per_observer_and_dataset(result):
    _, ax = plot_shape_bias_per_class(result)
    assert ax.get_xlabel() == "fraction of 'shape' decisions"
    top = [child for child in ax.child_axes if child.get_xlabel()]
    assert [t.get_xlabel() for t in top] == ["fraction of 'texture' decisions"]
    markers = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [len(c.get_offsets()) for c in markers] == [16, 16]  # one per category, model and humans
    assert [t.get_text() for t in ax.get_yticklabels()] == sorted(
        CLASSES_16, key=lambda c: -np.nan_to_num(result["humans"]["shape_bias_per_class"][c], nan=-1.0))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["net (n = 32 trials)", "humans (n = 96 trials)"]

    _, ax = plot_benchmark_consistency(result)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("OOD accuracy", "error consistency (κ)")
    assert ax.get_title() == "n = 3 datasets"
    assert (_points(ax, "net"), _points(ax, "humans")) == (1, 1)
    assert (_points(ax, "net, per dataset"), _points(ax, "humans, per dataset")) == (3, 3)
    (star,) = [line for line in ax.get_lines() if line.get_label() == "humans"]
    assert star.get_xydata()[0] == pytest.approx([result["humans"]["ood_accuracy"],
                                                  result["humans"]["error_consistency"]])
    _fig, ax = plot_benchmark_consistency(result, per_dataset=False)
    assert {line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")} == {"net", "humans"}


def test_figures_of_several_models_draw_the_humans_once(result):
    other = {**result, "model": "net2", "ood_accuracy": 0.5, "error_consistency": 0.2,
             "shape_bias_per_class": dict.fromkeys(CLASSES_16, 0.5)}
    _, ax = plot_shape_bias_per_class([result, other])
    assert len([c for c in ax.collections if isinstance(c, PathCollection)]) == 3
    _, ax = plot_benchmark_consistency([result, other])
    assert (_points(ax, "net"), _points(ax, "net2"), _points(ax, "humans")) == (1, 1, 1)
    assert len([line for line in ax.get_lines() if line.get_label() == "humans, per dataset"]) == 1


@pytest.mark.data
def test_real_human_data_with_the_example_model(test_data, tmp_path, capsys):
    from lowfreq.cli.lightning_cli import main

    raw = test_data / "model-vs-human" / "raw-data"
    main(["alignment", "--raw-data", str(raw), "--model", "bagnet33", "--output", str(tmp_path)])
    _check_files(tmp_path, FILES)
    table = pd.read_csv(tmp_path / "alignment.csv")
    assert list(table["dataset"][:4]) == ["all", "edge", "silhouette", "cue-conflict"]
    assert table["shape_bias"].iloc[0] == pytest.approx(0.051, abs=0.001)  # BagNet-33, docs/alignment.md
    assert table.set_index(["observer", "dataset"]).loc[("humans", "all"), "shape_bias"] == pytest.approx(
        0.959, abs=0.001)
    result = json.loads((tmp_path / "alignment.json").read_text())
    _, ax = plot_shape_bias_per_class(result)
    assert [len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection)] == [16, 16]
    _, ax = plot_benchmark_consistency(result)
    assert (_points(ax, "bagnet33, per dataset"), _points(ax, "humans, per dataset")) == (3, 3)
    assert "| bagnet33 | cue-conflict |" in capsys.readouterr().out


def test_shape_bias_table_reads_results_reloaded_from_json():
    """NaN is stored as null in JSON: the table shows NaN, not a TypeError."""
    from lowfreq.mvh import shape_bias_table

    table = shape_bias_table({"shape_bias_per_class": {"knife": None, "car": 0.5}})
    knife = table.loc[table["category"] == "knife"].iloc[0, 1]
    assert knife != knife
    assert table.loc[table["category"] == "car"].iloc[0, 1] == 0.5
