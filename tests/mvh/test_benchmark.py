"""Model-vs-human metrics: kappa and shape bias on hand-made tables, the benchmark's aggregation, the 1000 -> 16
mapping, and a straightforward recomputation on the example model (BagNet-33) and the human data."""

import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lowfreq.core.io import to_jsonable
from lowfreq.mvh.labels import CLASSES_16, IMAGENET_16_INDICES, imagenet_to_16, logits_to_16
from lowfreq.mvh.metrics import (
    benchmark,
    benchmark_from_raw_data,
    cohens_kappa,
    consistency,
    error_consistency,
    human_reference,
    observed_consistency,
    shape_bias,
    shape_bias_per_class,
)
from lowfreq.mvh.raw_data import (
    BENCHMARK_DATASETS,
    DATASET_CONDITIONS,
    EXCLUDED_CONDITIONS,
    PARAMETRIC_DATASETS,
    TRIAL_COLUMNS,
    _finish_table,
    canonical_condition,
    decision_table,
    image_id,
    is_trial_csv,
    read_raw_data,
    texture_category,
)

# ---- kappa ---------------------------------------------------------------------------------------------------


def test_identical_observers_have_kappa_one():
    a = np.array([True, False, True, True, False])
    assert error_consistency(a, a) == 1.0
    assert observed_consistency(a, a) == 1.0


@pytest.mark.parametrize("value", [True, False])
def test_kappa_defined_as_one_when_observed_consistency_is_one(value):
    # both always right (or always wrong): c_exp = 1 too, so (c_obs - c_exp) / (1 - c_exp) would be 0/0
    a = np.full(10, value)
    r = consistency(a, a)
    assert r["expected_consistency"] == 1.0
    assert r["observed_consistency"] == 1.0
    assert r["error_consistency"] == 1.0
    assert cohens_kappa(1.0, 1.0) == 1.0


def test_independent_observers_have_kappa_near_zero():
    g = np.random.default_rng(0)
    a, b = g.random(200_000) < 0.7, g.random(200_000) < 0.4
    assert abs(error_consistency(a, b)) < 0.01


def test_kappa_hand_computed_values():
    # p1 = .75, p2 = .5 -> c_exp = .5; c_obs = .75 -> kappa = .5
    assert error_consistency([1, 1, 1, 0], [1, 1, 0, 0]) == pytest.approx(0.5)
    # perfectly inconsistent at p = .5 -> -1
    assert error_consistency([1, 0], [0, 1]) == pytest.approx(-1.0)
    assert (
        error_consistency(
            torch.tensor([True, True, False, False]), torch.tensor([True, False, True, False])
        )
        == 0
    )


@given(st.integers(1, 60), st.integers(0, 2**32 - 1))
def test_kappa_is_symmetric_and_at_most_one(n, seed):
    g = np.random.default_rng(seed)
    a, b = g.random(n) < g.random(), g.random(n) < g.random()
    k = error_consistency(a, b)
    assert k <= 1.0 + 1e-12
    assert k == pytest.approx(error_consistency(b, a))


def test_kappa_input_errors():
    with pytest.raises(ValueError, match="same length"):
        error_consistency([True], [True, False])
    with pytest.raises(ValueError, match="at least one trial"):
        error_consistency([], [])
    with pytest.raises(ValueError, match="observed consistency must be in"):
        cohens_kappa(1.5, 0.5)


# ---- shape bias -----------------------------------------------------------------------------------------------


def _cue(responses, names=("cat1-dog2.png", "dog1-cat2.png", "car3-oven1.png", "bird2-bird3.png")):
    shapes = [n.split("-")[0].rstrip("0123456789") for n in names]
    return decision_table("m", "cue-conflict", list(names), shapes, list(responses))


def test_shape_bias_hand_made_tables():
    assert shape_bias(_cue(["cat", "dog", "car", "bird"])) == 1.0  # all shape
    assert shape_bias(_cue(["dog", "cat", "oven", "bird"])) == 0.0  # all texture; bird-bird is dropped
    assert shape_bias(_cue(["cat", "cat", "knife", "bird"])) == 0.5  # knife is neither: ignored
    assert math.isnan(shape_bias(_cue(["knife", "knife", "knife", "bird"])))
    per = shape_bias_per_class(_cue(["cat", "cat", "oven", "bird"]))
    assert per["cat"] == 1.0
    assert per["dog"] == 0.0
    assert per["car"] == 0.0
    assert math.isnan(per["bird"])


def test_shape_bias_reads_texture_from_human_file_names():
    t = decision_table("m", "cue-conflict", ["0001_s5n_s01_0_dog_00_dog10-bird2.png"], ["dog"], ["bird"])
    assert texture_category(t["imagename"].iloc[0]) == "bird"
    assert shape_bias(t) == 0.0


# ---- names and conditions ------------------------------------------------------------------------------------


def test_image_ids_match_model_vs_human():
    assert image_id("0000_cl_s01_bw_boat_40_n02951358_5952.JPEG") == "n02951358_5952.JPEG"
    assert image_id("0001_s5n_s01_0_bird_00_bird3-bird2.png") == "bird3-bird2.png"
    assert image_id("airplane1-bicycle2.png") == "airplane1-bicycle2.png"


@pytest.mark.parametrize(
    ("dataset", "raw", "canonical"),
    [
        ("uniform-noise", "0.00", "0.0"),
        ("uniform-noise", "0.60", "0.6"),
        ("high-pass", "3", "3.0"),
        ("high-pass", "inf", "inf"),
        ("false-colour", "true", "True"),
        ("low-pass", "0", "0"),
        ("low-pass", "0.0", "0"),
        ("contrast", "c05", "c05"),
        ("edge", "NaN", "NaN"),
        ("edge", "0", "0"),
    ],
)
def test_canonical_conditions(dataset, raw, canonical):
    assert canonical_condition(dataset, raw) == canonical


def test_excluded_conditions_are_known_conditions():
    assert set(EXCLUDED_CONDITIONS) == set(PARAMETRIC_DATASETS) == set(DATASET_CONDITIONS)
    for name, excluded in EXCLUDED_CONDITIONS.items():
        assert set(excluded) < set(DATASET_CONDITIONS[name]), name
    assert len(BENCHMARK_DATASETS) == 17
    assert len(CLASSES_16) == 16


# ---- aggregation on a synthetic table --------------------------------------------------------------------------


def _trials(subj, dataset, cond, correct):
    names = [f"{i:04d}_x_s_{cond}_cat_00_n0000_{i}.png" for i in range(len(correct))]
    resp = ["cat" if c else "dog" for c in correct]
    t = pd.DataFrame(
        {
            "subj": subj,
            "session": "1",
            "trial": "1",
            "rt": "NaN",
            "object_response": resp,
            "category": "cat",
            "condition": cond,
            "imagename": names,
        }
    )
    return _finish_table(t, dataset)


def test_benchmark_aggregates_conditions_then_humans_then_datasets():
    # low-pass: condition "1" retained, "0" excluded (its trials would change every number)
    m1, h1, h2 = [1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 0, 1]
    m3, h13, h23 = [1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 1, 1]
    table = pd.concat(
        [
            _trials("net", "low-pass", "1", m1),
            _trials("subject-01", "low-pass", "1", h1),
            _trials("subject-02", "low-pass", "1", h2),
            _trials("net", "low-pass", "3", m3),
            _trials("subject-01", "low-pass", "3", h13),
            _trials("subject-02", "low-pass", "3", h23),
            _trials("net", "low-pass", "0", [0, 0, 0, 0]),
            _trials("subject-01", "low-pass", "0", [1, 1, 1, 1]),
            _trials("subject-02", "low-pass", "0", [1, 1, 1, 1]),
        ]
    )
    r = benchmark(table, "net")
    k = error_consistency
    per_human = [np.mean([k(m1, h1), k(m3, h13)]), np.mean([k(m1, h2), k(m3, h23)])]
    assert r["error_consistency"] == pytest.approx(np.mean(per_human))
    assert r["ood_accuracy"] == pytest.approx(np.mean(m1 + m3))
    acc_diff = [
        np.mean([(np.mean(m1) - np.mean(h1)) ** 2, (np.mean(m3) - np.mean(h13)) ** 2]),
        np.mean([(np.mean(m1) - np.mean(h2)) ** 2, (np.mean(m3) - np.mean(h23)) ** 2]),
    ]
    assert r["accuracy_difference"] == pytest.approx(np.mean(acc_diff))
    assert r["humans"]["error_consistency"] == pytest.approx(np.mean([k(h1, h2), k(h13, h23)]))
    assert r["humans"]["ood_accuracy"] == pytest.approx(np.mean(h1 + h2 + h13 + h23))
    assert math.isnan(r["shape_bias"])  # no cue-conflict trials
    # without exclusion the control condition "0" enters
    assert benchmark(table, "net", exclude=False)["ood_accuracy"] == pytest.approx(
        np.mean(m1 + m3 + [0] * 4)
    )


def test_benchmark_rejects_unknown_model():
    table = _trials("subject-01", "edge", "0", [1, 0])
    with pytest.raises(ValueError, match="model must be one of"):
        benchmark(table, "resnet")


# ---- ImageNet-1000 -> 16 -------------------------------------------------------------------------------------

# verbatim from model-vs-human helper/human_categories.py (commit 79ed7cd)
_MVH_INDICES = {
    "bird": [
        8,
        10,
        11,
        12,
        13,
        14,
        15,
        16,
        18,
        19,
        20,
        22,
        23,
        24,
        80,
        81,
        82,
        83,
        87,
        88,
        89,
        90,
        91,
        92,
        93,
        94,
        95,
        96,
        98,
        99,
        100,
        127,
        128,
        129,
        130,
        131,
        132,
        133,
        135,
        136,
        137,
        138,
        139,
        140,
        141,
        142,
        143,
        144,
        145,
    ],
    "dog": [
        152,
        153,
        154,
        155,
        156,
        157,
        158,
        159,
        160,
        161,
        162,
        163,
        164,
        165,
        166,
        167,
        168,
        169,
        170,
        171,
        172,
        173,
        174,
        175,
        176,
        177,
        178,
        179,
        180,
        181,
        182,
        183,
        184,
        185,
        186,
        187,
        188,
        189,
        190,
        191,
        193,
        194,
        195,
        196,
        197,
        198,
        199,
        200,
        201,
        202,
        203,
        205,
        206,
        207,
        208,
        209,
        210,
        211,
        212,
        213,
        214,
        215,
        216,
        217,
        218,
        219,
        220,
        221,
        222,
        223,
        224,
        225,
        226,
        228,
        229,
        230,
        231,
        232,
        233,
        234,
        235,
        236,
        237,
        238,
        239,
        240,
        241,
        243,
        244,
        245,
        246,
        247,
        248,
        249,
        250,
        252,
        253,
        254,
        255,
        256,
        257,
        259,
        261,
        262,
        263,
        265,
        266,
        267,
        268,
    ],
    "airplane": [404],
    "bear": [294, 295, 296, 297],
    "bicycle": [444, 671],
    "boat": [472, 554, 625, 814, 914],
    "bottle": [440, 720, 737, 898, 899, 901, 907],
    "car": [436, 511, 817],
    "cat": [281, 282, 283, 284, 285, 286],
    "chair": [423, 559, 765, 857],
    "clock": [409, 530, 892],
    "elephant": [385, 386],
    "keyboard": [508, 878],
    "knife": [499],
    "oven": [766],
    "truck": [555, 569, 656, 675, 717, 734, 864, 867],
}


def test_imagenet_indices_match_model_vs_human():
    assert {k: list(v) for k, v in IMAGENET_16_INDICES.items()} == _MVH_INDICES
    assert list(IMAGENET_16_INDICES) == list(CLASSES_16)


def test_imagenet_to_16_is_the_mean_member_probability():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 1000, generator=g, dtype=torch.float64)
    probs = logits.softmax(-1)
    expected = torch.stack([probs[:, list(IMAGENET_16_INDICES[c])].mean(-1) for c in CLASSES_16], -1)
    assert torch.allclose(imagenet_to_16(logits).exp().double(), expected, rtol=1e-5)
    # mean, not sum: a dog member at p slightly below the knife index wins only with "sum"
    x = torch.full((1, 1000), -30.0)
    x[0, 499] = 5.0  # knife
    x[0, 152:192] = 4.9  # 40 dog members
    assert CLASSES_16[int(imagenet_to_16(x).argmax())] == "knife"


def test_logits_to_16_shapes():
    z = torch.randn(2, 16)
    assert logits_to_16(z) is z
    assert logits_to_16(torch.randn(2, 1000)).shape == (2, 16)
    with pytest.raises(ValueError, match="must have shape"):
        logits_to_16(torch.randn(2, 10))


# ---- example model and human data (test data) -----------------------------------------------------------------


def _naive_benchmark(raw: Path, model: str, datasets: list[str]) -> dict:
    """Straightforward recomputation: pandas merges on image name, no shared code with the library."""

    def read(files):
        frames = []
        for f in files:
            df = pd.read_csv(f, dtype=str, keep_default_na=False)
            df.columns = [c.lower() for c in df.columns]
            frames.append(df)
        df = pd.concat(frames)
        df["key"] = [n.split("_", 6)[-1] if n.count("_") >= 6 else n for n in df["imagename"]]
        df["ok"] = df["object_response"] == df["category"]
        return df

    kappas, obs, accd, ood = [], [], [], []
    for ds in datasets:
        m = read(sorted((raw / ds).glob(f"*_{model}_*.csv")))
        hum = read(sorted((raw / ds).glob("*_subject-*.csv")))
        ood.append(m["ok"].mean())
        k_h, o_h, a_h = [], [], []
        for _, h in hum.groupby("subj"):
            j = m.merge(h, on="key", suffixes=("_m", "_h"))
            p1, p2 = j["ok_m"].mean(), j["ok_h"].mean()
            c_obs = (j["ok_m"] == j["ok_h"]).mean()
            c_exp = p1 * p2 + (1 - p1) * (1 - p2)
            k_h.append(1.0 if c_obs == 1 else (c_obs - c_exp) / (1 - c_exp))
            o_h.append(c_obs)
            a_h.append((p1 - p2) ** 2)
        kappas.append(np.mean(k_h))
        obs.append(np.mean(o_h))
        accd.append(np.mean(a_h))
    cc = read(sorted((raw / "cue-conflict").glob(f"*_{model}_*.csv")))
    texture = cc["key"].str.split("-").str[-1].str.split(".").str[0].str.rstrip("0123456789")
    conflict = cc["category"] != texture
    num_shape = (conflict & (cc["object_response"] == cc["category"])).sum()
    num_texture = (conflict & (cc["object_response"] == texture)).sum()
    return {
        "error_consistency": np.mean(kappas),
        "observed_consistency": np.mean(obs),
        "accuracy_difference": np.mean(accd),
        "ood_accuracy": np.mean(ood),
        "shape_bias": num_shape / (num_shape + num_texture),
    }


@pytest.mark.data
def test_example_model_matches_straightforward_recomputation(test_data):
    raw = test_data / "model-vs-human" / "raw-data"
    datasets = ["edge", "silhouette", "cue-conflict"]
    result = benchmark_from_raw_data(raw, "bagnet33")
    assert list(result["datasets"]) == datasets
    naive = _naive_benchmark(raw, "bagnet33", datasets)
    for key, value in naive.items():
        assert result[key] == pytest.approx(value, abs=1e-12), key
    assert 0.0 <= result["shape_bias"] < 0.2  # BagNet-33 is strongly texture-biased


@pytest.mark.data
def test_human_reference_reproduces_p000_table_1(test_data):
    # P000 Table 1, "Humans (avg)": kappa 0.43, shape bias 0.96, OOD accuracy 0.72 (all 17 datasets)
    result = benchmark_from_raw_data(test_data / "model-vs-human" / "raw-data", None)
    assert len(result["datasets"]) == 17
    assert result["error_consistency"] == pytest.approx(0.43, abs=0.005)
    assert result["shape_bias"] == pytest.approx(0.96, abs=0.005)
    assert result["ood_accuracy"] == pytest.approx(0.72, abs=0.005)


@pytest.mark.data
def test_cli_subcommand_prints_the_benchmark_json(test_data, capsys):
    from lowfreq.cli.lightning_cli import main

    raw = test_data / "model-vs-human" / "raw-data"
    main(["alignment", "--raw-data", str(raw), "--model", "bagnet33"])
    printed = json.loads(capsys.readouterr().out)
    assert printed == to_jsonable(benchmark_from_raw_data(raw, "bagnet33"))
    for key in (
        "shape_bias",
        "error_consistency",
        "observed_consistency",
        "accuracy_difference",
        "ood_accuracy",
    ):
        assert isinstance(printed[key], float)
    assert set(printed["datasets"]) == {"edge", "silhouette", "cue-conflict"}


def test_cli_subcommand_reports_a_missing_directory(tmp_path, capsys):
    from lowfreq.cli.lightning_cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["alignment", "--raw-data", str(tmp_path / "nowhere"), "--model", "m"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("lowfreq: error: FileNotFoundError: raw_data_dir must be a directory")
    assert "Traceback" not in err


def test_cli_subcommand_is_built_from_the_signature(tmp_path, capsys):
    """jsonargparse reads the options from alignment()'s signature: --help lists them, a typo is rejected."""
    from lowfreq.cli.lightning_cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["alignment", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--raw_data", "--model", "--datasets", "--exclude", "--humans_on_model_stimuli", "--output"):
        assert option in out
    with pytest.raises(SystemExit) as exit_info:
        main(["alignment", "--raw-data", str(tmp_path), "--modle", "m"])
    assert exit_info.value.code == 2


def test_cli_subcommand_reads_its_environment(tmp_path, monkeypatch, capsys):
    from lowfreq.cli.lightning_cli import main

    monkeypatch.setenv("LOWFREQ_ALIGNMENT_RAW_DATA", str(tmp_path / "from-env"))
    with pytest.raises(SystemExit):
        main(["alignment", "--model", "m"])
    assert "from-env" in capsys.readouterr().err


# ---- model-vs-human's raw-data folder as published (with performances/) ----------------------------------------


def _official_layout(root: Path) -> Path:
    """A tiny raw-data folder in model-vs-human's published layout: two dataset folders of trial CSVs (humans
    ``session_1``, the model ``session-1``), the per-model summary ``performances/net.csv`` and a stray README."""
    raw = root / "raw-data"
    trials = {
        ("low-pass", "1"): {"net": [1, 1, 0, 0], "subject-01": [1, 0, 1, 0], "subject-02": [1, 1, 0, 1]},
        ("low-pass", "3"): {"net": [1, 0, 0, 0], "subject-01": [1, 0, 0, 0], "subject-02": [0, 1, 1, 1]},
        ("edge", "0"): {"net": [0, 1, 1], "subject-01": [1, 1, 1], "subject-02": [0, 1, 0]},
    }
    for dataset in ("low-pass", "edge"):
        for subj in ("net", "subject-01", "subject-02"):
            t = pd.concat(
                [_trials(subj, ds, cond, c[subj]) for (ds, cond), c in trials.items() if ds == dataset]
            )
            session = "session-1" if subj == "net" else "session_1"
            path = raw / dataset / f"{dataset}_{subj}_{session}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            t[list(TRIAL_COLUMNS)].to_csv(path, index=False)
    (raw / "performances").mkdir()
    (raw / "performances" / "net.csv").write_text(
        "subj,dataset_name,metric_name,performance\nnet,edge,accuracy (top-1),0.6667\n"
        "net,low-pass,accuracy (top-1),0.375\n"
    )
    (raw / "README.md").write_text("raw data\n")
    return raw


def test_trial_csv_names():
    assert is_trial_csv("colour_subject-01_session_1.csv", "colour")
    assert is_trial_csv("raw-data/edge/edge_bagnet33_session-1.csv", "edge")
    assert is_trial_csv("cue-conflict_swag-vit-b16-in1k_session-12.csv")
    assert not is_trial_csv("edge_bagnet33_session-1.csv", "low-pass")
    assert not is_trial_csv("performances/bagnet33.csv")
    assert not is_trial_csv("performances/swag_vit_b16_in1k.csv")


def test_official_layout_skips_performances(tmp_path, caplog, capsys):
    from lowfreq.cli.lightning_cli import main

    raw = _official_layout(tmp_path)
    with caplog.at_level(logging.INFO, logger="lowfreq.mvh.raw_data"):
        table = read_raw_data(raw)
    assert "performances/" in caplog.text
    assert "README.md" in caplog.text
    assert list(dict.fromkeys(table["dataset"])) == ["edge", "low-pass"]
    assert set(table["subj"]) == {"net", "subject-01", "subject-02"}
    assert len(table) == 3 * 3 + 3 * 8
    pd.testing.assert_frame_equal(table, read_raw_data(raw, ["edge", "low-pass"]))

    expected = to_jsonable(benchmark(table, "net"))
    assert expected["ood_accuracy"] == pytest.approx(np.mean([2 / 3, 3 / 8]))
    main(["alignment", "--raw-data", str(raw), "--model", "net"])
    assert json.loads(capsys.readouterr().out) == expected
    main(["alignment", "--raw-data", str(raw)])
    humans = json.loads(capsys.readouterr().out)
    assert humans["model"] == "humans"
    assert list(humans["datasets"]) == ["edge", "low-pass"]


def test_malformed_trial_csv_is_an_error(tmp_path, capsys):
    from lowfreq.cli.lightning_cli import main

    raw = _official_layout(tmp_path)
    (raw / "edge" / "edge_subject-03_session_1.csv").write_text("subj,session,trial\nsubject-03,1,1\n")
    with pytest.raises(
        ValueError, match=r"trial CSV .*edge_subject-03_session_1.csv lacks the raw-data columns"
    ):
        read_raw_data(raw)
    with pytest.raises(SystemExit) as exit_info:
        main(["alignment", "--raw-data", str(raw), "--model", "net"])
    assert exit_info.value.code != 0
    assert "edge_subject-03_session_1.csv lacks the raw-data columns" in capsys.readouterr().err
    # asking for the summary folder by name reads it as trial data, which it is not
    with pytest.raises(ValueError, match=r"performances.*net.csv lacks the raw-data columns"):
        read_raw_data(tmp_path / "raw-data", ["performances"])


@pytest.mark.data
def test_shared_raw_data_folder_reads_as_published(test_data, capsys):
    from lowfreq.cli.lightning_cli import main

    raw = test_data / "model-vs-human" / "raw-data"
    if not (raw / "performances").is_dir():
        pytest.skip(f"{raw} has no performances/ folder (older copy of the shared test data)")
    table = read_raw_data(raw)
    assert set(table["dataset"]) == set(BENCHMARK_DATASETS)
    # skipping performances/ changes no number: same result as naming the 17 datasets explicitly
    humans = benchmark_from_raw_data(raw, None)
    assert to_jsonable(humans) == to_jsonable(
        {"model": "humans", **human_reference(read_raw_data(raw, BENCHMARK_DATASETS))}
    )
    assert humans["error_consistency"] == pytest.approx(0.43, abs=0.005)
    assert humans["shape_bias"] == pytest.approx(0.96, abs=0.005)
    assert humans["ood_accuracy"] == pytest.approx(0.72, abs=0.005)
    main(["alignment", "--raw-data", str(raw), "--model", "bagnet33"])
    printed = json.loads(capsys.readouterr().out)
    assert list(printed["datasets"]) == ["edge", "silhouette", "cue-conflict"]
    assert printed == to_jsonable(
        benchmark_from_raw_data(raw, "bagnet33", ["edge", "silhouette", "cue-conflict"])
    )


def test_package_exports_the_functions_not_submodules():
    """``from lowfreq.mvh import benchmark`` is the function (a submodule of the same name would shadow it)."""
    import types

    import lowfreq.mvh as mvh

    for name in mvh.__all__:
        assert not isinstance(getattr(mvh, name), types.ModuleType), name
    from lowfreq.mvh import benchmark

    assert benchmark.__module__ == "lowfreq.mvh.metrics"
