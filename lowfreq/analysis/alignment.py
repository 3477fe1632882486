"""Model-vs-human alignment metrics over decision tables, aggregated as the model-vs-human benchmark does.

A *decision table* is a :class:`pandas.DataFrame` with one row per trial and the columns of model-vs-human's
raw-data CSVs (``subj, session, trial, rt, object_response, category, condition, imagename``) plus ``dataset``
and ``image_id`` (the stimulus file name without the trial prefix, which pairs trials across observers).
:func:`read_raw_data` reads a ``raw-data/<dataset>/*.csv`` directory into one; :func:`decision_table` builds one
from model decisions.

Metrics (Geirhos et al. 2021, "Partial success in closing the gap between human and machine vision"):

* :func:`shape_bias` on cue-conflict: ``n(shape) / (n(shape) + n(texture))`` over images whose shape and texture
  classes differ.
* :func:`error_consistency`: Cohen's kappa of trial-wise correctness, ``(c_obs - c_exp) / (1 - c_exp)`` with
  ``c_exp = p1 p2 + (1 - p1)(1 - p2)``; defined as 1 when ``c_obs == 1``.
* :func:`observed_consistency`, :func:`accuracy_difference` (squared, as the benchmark's ``np.square`` norm),
  :func:`accuracy` (16-class accuracy; a human "na" counts as wrong).

:func:`benchmark` aggregates like model-vs-human's ``plotting/plot.py``: excluded conditions removed
(:data:`EXCLUDED_CONDITIONS`); consistency metrics per (model, human subject, condition), averaged over
conditions, then human subjects, then datasets; OOD accuracy pooled per dataset then averaged over datasets; the
humans-vs-humans reference averages every unordered pair of distinct subjects over conditions, then pairs, then
datasets, and pools all subjects into one decision maker for OOD accuracy and shape bias.

Only numpy, pandas and torch are used here (no Lightning), so everything runs in a notebook.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

__all__ = [
    "BENCHMARK_DATASETS",
    "CLASSES_16",
    "DATASET_CONDITIONS",
    "EXCLUDED_CONDITIONS",
    "IMAGE_DATASETS",
    "METRICS",
    "PARAMETRIC_DATASETS",
    "TRIAL_COLUMNS",
    "accuracy",
    "accuracy_difference",
    "benchmark",
    "benchmark_from_raw_data",
    "benchmark_rows",
    "canonical_condition",
    "cohens_kappa",
    "consistency",
    "decision_table",
    "error_consistency",
    "expected_consistency",
    "human_reference",
    "image_id",
    "is_human",
    "is_trial_csv",
    "observed_consistency",
    "ood_accuracy",
    "paired_correctness",
    "read_raw_data",
    "retained_conditions",
    "select_subject",
    "shape_bias",
    "shape_bias_per_class",
    "texture_category",
]

log = logging.getLogger(__name__)

# ---- constants (model-vs-human commit 79ed7cd) ---------------------------------------------------------------

#: The 16 entry-level classes, sorted; index = 16-way label used everywhere in lowfreq.
CLASSES_16: tuple[str, ...] = (
    "airplane",
    "bear",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "car",
    "cat",
    "chair",
    "clock",
    "dog",
    "elephant",
    "keyboard",
    "knife",
    "oven",
    "truck",
)

#: The 12 parametric distortion datasets (one experiment with several conditions each).
PARAMETRIC_DATASETS: tuple[str, ...] = (
    "colour",
    "contrast",
    "high-pass",
    "low-pass",
    "phase-scrambling",
    "power-equalisation",
    "false-colour",
    "rotation",
    "eidolonI",
    "eidolonII",
    "eidolonIII",
    "uniform-noise",
)

#: The 17 OOD datasets of the benchmark, in model-vs-human's default order.
BENCHMARK_DATASETS: tuple[str, ...] = (
    "edge",
    "silhouette",
    "cue-conflict",
    *PARAMETRIC_DATASETS,
    "sketch",
    "stylized",
)

#: Datasets whose stimuli are freely redistributable images (texture-vs-shape, CC BY 4.0).
IMAGE_DATASETS: tuple[str, ...] = ("cue-conflict", "edge", "silhouette")

#: Canonical condition strings of the parametric datasets (model-vs-human ``datasets/experiments.py``).
DATASET_CONDITIONS: dict[str, tuple[str, ...]] = {
    "colour": ("cr", "bw"),
    "contrast": ("c100", "c50", "c30", "c15", "c10", "c05", "c03", "c01"),
    "high-pass": ("inf", "3.0", "1.5", "1.0", "0.7", "0.55", "0.45", "0.4"),
    "low-pass": ("0", "1", "3", "5", "7", "10", "15", "40"),
    "phase-scrambling": ("0", "30", "60", "90", "120", "150", "180"),
    "power-equalisation": ("0", "pow"),
    "false-colour": ("True", "False"),
    "rotation": ("0", "90", "180", "270"),
    "eidolonI": tuple(f"{2**i}-10-10" for i in range(8)),
    "eidolonII": tuple(f"{2**i}-3-10" for i in range(8)),
    "eidolonIII": tuple(f"{2**i}-0-10" for i in range(8)),
    "uniform-noise": ("0.0", "0.03", "0.05", "0.1", "0.2", "0.35", "0.6", "0.9"),
}

#: Conditions removed before every benchmark metric (model-vs-human ``plotting/plot.py``): non-OOD controls and
#: conditions where mean human accuracy < 0.2.
EXCLUDED_CONDITIONS: dict[str, tuple[str, ...]] = {
    "colour": ("cr",),
    "contrast": ("c100", "c03", "c01"),
    "high-pass": ("inf", "0.55", "0.45", "0.4"),
    "low-pass": ("0", "15", "40"),
    "phase-scrambling": ("0", "150", "180"),
    "power-equalisation": ("0",),
    "false-colour": ("True",),
    "rotation": ("0",),
    "eidolonI": ("1-10-10", "64-10-10", "128-10-10"),
    "eidolonII": ("1-3-10", "32-3-10", "64-3-10", "128-3-10"),
    "eidolonIII": ("1-0-10", "16-0-10", "32-0-10", "64-0-10", "128-0-10"),
    "uniform-noise": ("0.0", "0.6", "0.9"),
}

#: Columns of a model-vs-human raw-data CSV, in file order.
TRIAL_COLUMNS: tuple[str, ...] = (
    "subj",
    "session",
    "trial",
    "rt",
    "object_response",
    "category",
    "condition",
    "imagename",
)

#: The benchmark metrics, in the order they are reported.
METRICS: tuple[str, ...] = (
    "shape_bias",
    "error_consistency",
    "observed_consistency",
    "accuracy_difference",
    "ood_accuracy",
)
_PAIR_METRICS = ("error_consistency", "observed_consistency", "accuracy_difference")


# ---- names and conditions ------------------------------------------------------------------------------------


def image_id(imagename: str) -> str:
    """Stimulus key of a trial: the file name without model-vs-human's trial prefix.

    Same rule as model-vs-human's ``get_short_imagename``: ``0001_cl_s01_cr_oven_40_n04111531_14126.png`` ->
    ``n04111531_14126.png``; ``0001_s5n_s01_0_bird_00_bird3-bird2.png`` -> ``bird3-bird2.png``; a name without
    underscores (``airplane1-bicycle2.png``) is returned unchanged.
    """
    parts = str(imagename).split("_")
    if len(parts) == 1:
        return parts[0]
    first, last = parts[-2:]
    return f"{first}_{last}" if first.startswith("n0") else last


def texture_category(imagename: str) -> str:
    """Texture class of a cue-conflict stimulus: ``..._dog10-bird2.png`` -> ``bird`` (digits removed)."""
    stem = str(imagename).split("_")[-1].split(".")[0]
    return "".join(ch for ch in stem.split("-")[-1] if not ch.isdigit())


def _as_float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def canonical_condition(dataset: str, value: Any) -> str:
    """Map a raw ``condition`` value to the canonical string of :data:`DATASET_CONDITIONS`.

    The CSVs hold e.g. ``0.00``, ``3``, ``true`` where model-vs-human compares against ``0.0``, ``3.0``, ``True``
    (it relies on pandas' type coercion). Here a value matches a canonical condition exactly, case-insensitively
    or numerically. Values of non-parametric datasets, and values that match nothing, are returned as stripped
    strings (non-parametric datasets have no condition split in the benchmark).
    """
    raw = "NaN" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()
    choices = DATASET_CONDITIONS.get(dataset)
    if not choices:
        return raw
    if raw in choices:
        return raw
    lowered = {c.lower(): c for c in choices}
    if raw.lower() in lowered:
        return lowered[raw.lower()]
    number = _as_float(raw)
    if number is not None:
        for c in choices:
            if _as_float(c) == number:
                return c
    return raw


def is_human(subject: str) -> bool:
    """model-vs-human's rule: human observers are named ``subject-XX``."""
    return str(subject).startswith("subject-")


# ---- tables --------------------------------------------------------------------------------------------------


def _finish_table(df: pd.DataFrame, dataset: str) -> pd.DataFrame:
    df = df.copy()
    df["dataset"] = dataset
    df["condition"] = [canonical_condition(dataset, v) for v in df["condition"]]
    df["object_response"] = df["object_response"].astype(str).str.strip()
    df["category"] = df["category"].astype(str).str.strip()
    df["image_id"] = [image_id(n) for n in df["imagename"]]
    return df


#: model-vs-human's trial-CSV file name: ``<dataset>_<subj>_session-<n>.csv`` (humans: ``session_<n>``).
_TRIAL_CSV = re.compile(r"[^_]+_.+_session[-_]\d+\.csv")


def is_trial_csv(path: str | Path, dataset: str | None = None) -> bool:
    """Whether a file name follows model-vs-human's trial-CSV naming ``<dataset>_<subj>_session-<n>.csv``.

    Humans' files write ``session_<n>`` (``colour_subject-01_session_1.csv``), models' ``session-<n>``
    (``edge_bagnet33_session-1.csv``). With ``dataset`` given the name must also start with ``<dataset>_``.
    Summary files such as ``performances/bagnet33.csv`` do not match.
    """
    name = Path(path).name
    return _TRIAL_CSV.fullmatch(name) is not None and (dataset is None or name.startswith(f"{dataset}_"))


def _dataset_folders(root: Path) -> list[str]:
    """Sub-folders of a raw-data folder that hold trial data: benchmark dataset names, or any folder with a
    trial-named CSV (:func:`is_trial_csv`). Everything else (``performances/``, stray files) is skipped and logged."""
    names, skipped = [], []
    for p in sorted(root.iterdir()):
        if (
            p.is_dir()
            and any(p.glob("*.csv"))
            and (p.name in BENCHMARK_DATASETS or any(is_trial_csv(f, p.name) for f in p.glob("*.csv")))
        ):
            names.append(p.name)
        else:
            skipped.append(p.name + ("/" if p.is_dir() else ""))
    if skipped:
        log.info("raw data %s: skipped %s (not dataset folders with trial CSVs)", root, skipped)
    return names


def read_raw_data(
    raw_data_dir: str | Path,
    datasets: Iterable[str] | None = None,
    subjects: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Read model-vs-human raw-data CSVs (``<raw_data_dir>/<dataset>/*.csv``) into one decision table.

    ``raw_data_dir`` may be model-vs-human's own ``raw-data`` folder as published: with ``datasets=None`` only
    dataset folders are read (a benchmark dataset name, or a folder holding CSVs named
    ``<dataset>_<subj>_session-<n>.csv``); other entries, such as the per-model summary files in
    ``performances/``, are skipped (logged at INFO level). Every CSV inside a dataset folder is a trial file and
    must have the :data:`TRIAL_COLUMNS`.

    Column names are read case-insensitively (``Session`` in some human files); every value is read as a string
    (no pandas coercion), conditions are mapped by :func:`canonical_condition`, and ``dataset`` and
    ``image_id`` columns are added.

    Args:
        raw_data_dir: folder holding one sub-folder per dataset.
        datasets: dataset names to read; ``None`` reads every dataset folder (see above).
        subjects: keep only these ``subj`` values (humans ``subject-XX``, models by name); ``None`` keeps all.

    Returns:
        DataFrame with the :data:`TRIAL_COLUMNS` plus ``dataset`` and ``image_id``, all strings.
    """
    root = Path(raw_data_dir)
    if not root.is_dir():
        raise FileNotFoundError(
            f"raw_data_dir must be a directory with one folder per dataset, got {str(root)!r}"
        )
    names = _dataset_folders(root) if datasets is None else list(datasets)
    keep = None if subjects is None else {str(s) for s in subjects}
    frames = []
    for name in names:
        folder = root / name
        files = sorted(folder.glob("*.csv"))
        if not files:
            raise FileNotFoundError(f"no CSV files for dataset {name!r} in {str(folder)!r}")
        for f in files:
            df = pd.read_csv(f, dtype=str, keep_default_na=False)
            df.columns = [c.strip().lower() for c in df.columns]
            missing = [c for c in TRIAL_COLUMNS if c not in df.columns]
            if missing:
                raise ValueError(
                    f"trial CSV {f} lacks the raw-data columns {missing} "
                    f"(has {list(df.columns)}, needs {list(TRIAL_COLUMNS)})"
                )
            df = df[list(TRIAL_COLUMNS)]
            if keep is not None:
                df = df[df["subj"].isin(keep)]
            if len(df):
                frames.append(_finish_table(df, name))
    if not frames:
        return pd.DataFrame(columns=[*TRIAL_COLUMNS, "dataset", "image_id"], dtype=str)
    return pd.concat(frames, ignore_index=True)


def decision_table(
    subject: str,
    dataset: str | Sequence[str],
    imagenames: Sequence[str],
    categories: Sequence[str],
    responses: Sequence[str],
    conditions: Sequence[str] | None = None,
    sessions: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Build a decision table for one observer (a model) in the raw-data format.

    Args:
        subject: the observer's name, written into ``subj`` (must not start with ``subject-``, reserved for humans).
        dataset: dataset name, or one per trial.
        imagenames: stimulus file names as model-vs-human writes them (see :func:`image_id`).
        categories: correct classes (the shape class for cue-conflict).
        responses: the observer's decisions, one of :data:`CLASSES_16` each.
        conditions: raw condition per trial; ``None`` writes ``NaN`` (as model-vs-human does without sessions).
        sessions: session number per trial; ``None`` writes ``1``.

    Returns:
        Decision table; ``trial`` counts 1..N within each dataset, ``rt`` is ``NaN``.
    """
    n = len(imagenames)
    if not (len(categories) == len(responses) == n):
        raise ValueError(
            f"imagenames, categories and responses must have equal lengths, got {n}, {len(categories)}, {len(responses)}"
        )
    if is_human(subject):
        raise ValueError(
            f"subject must not start with 'subject-' (reserved for human observers), got {subject!r}"
        )
    ds = [dataset] * n if isinstance(dataset, str) else list(dataset)
    df = pd.DataFrame(
        {
            "subj": [str(subject)] * n,
            "session": ["1"] * n if sessions is None else [str(s) for s in sessions],
            "trial": "",
            "rt": ["NaN"] * n,
            "object_response": [str(r) for r in responses],
            "category": [str(c) for c in categories],
            "condition": ["NaN"] * n if conditions is None else [str(c) for c in conditions],
            "imagename": [str(i) for i in imagenames],
            "dataset": ds,
        }
    )
    df["trial"] = (df.groupby("dataset").cumcount() + 1).astype(str)
    parts = [_finish_table(g.drop(columns="dataset"), name) for name, g in df.groupby("dataset", sort=False)]
    if not parts:
        return pd.DataFrame(columns=[*TRIAL_COLUMNS, "dataset", "image_id"], dtype=str)
    return pd.concat(parts).sort_index()


def select_subject(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """Rows of observer ``name``; also matches with ``_`` and ``-`` exchanged (model-vs-human file-name rule)."""
    subj = table["subj"].astype(str)
    rows = table[subj == name]
    if rows.empty:
        rows = table[subj.str.replace("_", "-") == name.replace("_", "-")]
    return rows


# ---- single-table metrics ------------------------------------------------------------------------------------


def _correct(table: pd.DataFrame) -> np.ndarray:
    return (table["object_response"].to_numpy() == table["category"].to_numpy()).astype(bool)


def accuracy(table: pd.DataFrame) -> float:
    """16-class accuracy: fraction of trials with ``object_response == category`` (NaN for an empty table)."""
    return float(_correct(table).mean()) if len(table) else math.nan


def _shape_texture_counts(table: pd.DataFrame) -> tuple[int, int, int]:
    texture = np.array([texture_category(n) for n in table["imagename"]], dtype=object)
    shape = table["category"].to_numpy()
    response = table["object_response"].to_numpy()
    conflict = shape != texture
    n_shape = int(np.sum(conflict & (response == shape)))
    n_texture = int(np.sum(conflict & (response == texture)))
    return n_shape, n_texture, len(table)


def shape_bias(table: pd.DataFrame) -> float:
    """Shape bias on cue-conflict trials: ``n(shape) / (n(shape) + n(texture))``.

    Trials whose shape class (``category``) equals the texture class parsed from the file name are removed
    (no cue conflict). Responses that are neither shape nor texture class (or "na") are ignored.

    Returns:
        Shape bias in [0, 1]; NaN when no decision picked the shape or the texture class.

    Raises:
        ValueError: a response or category that is not one of :data:`CLASSES_16` (responses may also be
            "na"), e.g. a misspelt or capitalised class name, which would silently count as neither shape nor
            texture.

    Example:
        >>> t = decision_table("m", "cue-conflict", ["cat1-dog2.png", "dog1-cat2.png"], ["cat", "dog"], ["cat", "cat"])
        >>> shape_bias(t)
        0.5
    """
    _check_class_names(table, "object_response", allowed=(*CLASSES_16, "na"))
    _check_class_names(table, "category", allowed=CLASSES_16)
    n_shape, n_texture, _ = _shape_texture_counts(table)
    return n_shape / (n_shape + n_texture) if n_shape + n_texture else math.nan


def _check_class_names(table: pd.DataFrame, column: str, allowed: Sequence[str]) -> None:
    if column not in table.columns:
        raise ValueError(
            f"table must have a {column!r} column (a decision table), got columns {list(table.columns)}"
        )
    values = pd.unique(table[column].astype(str))
    bad = sorted(v for v in values if v not in set(allowed))
    if bad:
        extra = " or 'na'" if "na" in allowed else ""
        shown = bad[:10] + (["..."] if len(bad) > 10 else [])
        raise ValueError(f"{column} must hold class names of CLASSES_16{extra}, got {shown}")


def shape_bias_per_class(table: pd.DataFrame, classes: Sequence[str] = CLASSES_16) -> dict[str, float]:
    """:func:`shape_bias` per shape class (``category``); NaN for classes without shape/texture decisions."""
    return {c: shape_bias(table[table["category"] == c]) for c in classes}


# ---- two-observer metrics ------------------------------------------------------------------------------------


def expected_consistency(p1: float, p2: float) -> float:
    """Consistency of two independent observers with accuracies ``p1``, ``p2``: ``p1 p2 + (1-p1)(1-p2)``."""
    return p1 * p2 + (1.0 - p1) * (1.0 - p2)


def cohens_kappa(observed: float, expected: float) -> float:
    """Cohen's kappa ``(observed - expected) / (1 - expected)``; 1 when ``observed == 1`` (as model-vs-human).

    Raises:
        ValueError: when a consistency lies outside [0, 1].
    """
    for name, v in (("observed", observed), ("expected", expected)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} consistency must be in [0.0, 1.0], got {v}")
    if observed == 1.0:
        return 1.0
    return (observed - expected) / (1.0 - expected)


def _as_bool_array(x: Any, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of per-trial correctness, got shape {arr.shape}")
    allowed = f"{name} must hold booleans (or integers 0/1) of per-trial correctness"
    if arr.size == 0 or arr.dtype == np.bool_:
        return arr.astype(bool)
    if arr.dtype == object and all(isinstance(v, (bool, np.bool_)) for v in arr):
        return arr.astype(bool)
    if np.issubdtype(arr.dtype, np.integer):
        values = np.unique(arr)
        if not np.isin(values, (0, 1)).all():
            raise ValueError(f"{allowed}, got integer values {values[:10].tolist()}")
        return arr.astype(bool)
    raise TypeError(f"{allowed}, got dtype {arr.dtype} (probabilities, NaN or strings are not correctness)")


def consistency(correct_a: Any, correct_b: Any) -> dict[str, float]:
    """Observed and expected consistency and kappa of two observers' trial-wise correctness.

    Args:
        correct_a: (N,) bool (array, list or tensor; integers 0/1 also accepted): observer A correct on
            trial i.
        correct_b: (N,) bool, the same N trials in the same order.

    Raises:
        TypeError: float (probabilities, NaN) or string entries.
        ValueError: integers other than 0 and 1 (class indices are decisions, not correctness).

    Returns:
        ``{"observed_consistency", "expected_consistency", "error_consistency", "accuracy_a", "accuracy_b"}``.
    """
    a, b = _as_bool_array(correct_a, "correct_a"), _as_bool_array(correct_b, "correct_b")
    if a.shape != b.shape:
        raise ValueError(
            f"correct_a and correct_b must have the same length, got {a.shape[0]} and {b.shape[0]}"
        )
    if a.size == 0:
        raise ValueError("correct_a and correct_b must hold at least one trial, got 0")
    p1, p2 = float(a.mean()), float(b.mean())
    c_obs = float((a == b).mean())
    c_exp = expected_consistency(p1, p2)
    return {
        "observed_consistency": c_obs,
        "expected_consistency": c_exp,
        "error_consistency": cohens_kappa(c_obs, c_exp),
        "accuracy_a": p1,
        "accuracy_b": p2,
    }


def observed_consistency(correct_a: Any, correct_b: Any) -> float:
    """Fraction of trials on which both observers are right or both are wrong."""
    return consistency(correct_a, correct_b)["observed_consistency"]


def error_consistency(correct_a: Any, correct_b: Any) -> float:
    """Error consistency (Cohen's kappa on trial-wise correctness), in [-1, 1]; 1 for identical correctness.

    ``correct_a`` and ``correct_b`` are (N,) bools (or integers 0/1), as in :func:`consistency`, which says
    what is rejected.

    Example:
        >>> error_consistency([True, False, True, False], [True, False, True, False])
        1.0
    """
    return consistency(correct_a, correct_b)["error_consistency"]


def paired_correctness(table_a: pd.DataFrame, table_b: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Trial-wise correctness of two observers on the stimuli both saw, paired by (condition, image_id).

    model-vs-human requires identical stimulus sets; here the pairing uses their intersection, which is what a
    subset of the stimuli (e.g. 160 of the 1,280 cue-conflict images) needs. Conditions are ignored for the
    non-parametric datasets (models write ``NaN`` where humans have ``0``).

    Returns:
        Two (N,) bool arrays in the same trial order (sorted by key).
    """

    def keyed(t: pd.DataFrame) -> pd.Series:
        parametric = t["dataset"].isin(PARAMETRIC_DATASETS).to_numpy()
        cond = np.where(parametric, t["condition"].to_numpy(dtype=object), "")
        key = pd.MultiIndex.from_arrays(
            [t["dataset"].to_numpy(dtype=object), cond, t["image_id"].to_numpy(dtype=object)]
        )
        s = pd.Series(_correct(t), index=key)
        if s.index.has_duplicates:
            dup = s.index[s.index.duplicated()][0]
            raise ValueError(f"observer {t['subj'].iloc[0]!r} has more than one trial for stimulus {dup}")
        return s

    sa, sb = keyed(table_a), keyed(table_b)
    common = sa.index.intersection(sb.index).sort_values()
    return sa.loc[common].to_numpy(bool), sb.loc[common].to_numpy(bool)


def accuracy_difference(table_a: pd.DataFrame, table_b: pd.DataFrame) -> float:
    """Squared difference of the two observers' accuracies on their shared trials (benchmark's ``np.square``)."""
    a, b = paired_correctness(table_a, table_b)
    if a.size == 0:
        return math.nan
    return float((a.mean() - b.mean()) ** 2)


# ---- benchmark aggregation ------------------------------------------------------------------------------------


def retained_conditions(dataset: str, exclude: bool = True) -> tuple[str, ...] | None:
    """Conditions of ``dataset`` the benchmark evaluates; ``None`` for non-parametric datasets (no split)."""
    if dataset not in DATASET_CONDITIONS:
        return None
    dropped = set(EXCLUDED_CONDITIONS.get(dataset, ())) if exclude else set()
    return tuple(c for c in DATASET_CONDITIONS[dataset] if c not in dropped)


def _pair_values(a: pd.DataFrame, b: pd.DataFrame) -> dict[str, float] | None:
    ca, cb = paired_correctness(a, b)
    if ca.size == 0:
        return None
    r = consistency(ca, cb)
    return {
        "error_consistency": r["error_consistency"],
        "observed_consistency": r["observed_consistency"],
        "accuracy_difference": (r["accuracy_a"] - r["accuracy_b"]) ** 2,
    }


def benchmark_rows(
    table: pd.DataFrame,
    observers: Sequence[str],
    humans: Sequence[str] | None = None,
    datasets: Sequence[str] | None = None,
    *,
    exclude: bool = True,
    pairs_within: bool = False,
) -> pd.DataFrame:
    """Long table of the pairwise metrics, one row per (observer, human, dataset, condition, metric).

    Mirrors model-vs-human's ``get_raw_benchmark_df``. With ``pairs_within=True`` the observers are the humans
    themselves and each unordered pair of distinct subjects appears once.

    Args:
        table: decision table holding the observers and the human subjects.
        observers: ``subj`` names compared against humans.
        humans: human ``subj`` names; ``None`` takes every ``subject-XX`` in the dataset.
        datasets: datasets to evaluate; ``None`` takes those present in ``table``.
        exclude: drop :data:`EXCLUDED_CONDITIONS` first.
        pairs_within: compare humans with each other (``observers`` ignored).

    Returns:
        DataFrame with columns ``model, human, dataset, condition, metric, value``; ``condition`` is None for
        non-parametric datasets. Conditions without shared trials are skipped.
    """
    names = list(dict.fromkeys(table["dataset"])) if datasets is None else list(datasets)
    rows = []
    for ds in names:
        tds = table[table["dataset"] == ds]
        hs = sorted(tds.loc[tds["subj"].map(is_human), "subj"].unique()) if humans is None else list(humans)
        if pairs_within:
            pairs = [(a, b) for i, a in enumerate(hs) for b in hs[i + 1 :]]
        else:
            pairs = [(m, h) for m in observers for h in hs if m != h]
        by_subj = {s: g for s, g in tds.groupby("subj")}
        retained = retained_conditions(ds, exclude)
        conditions: Sequence[str | None] = [None] if retained is None else retained
        for cond in conditions:
            for m, h in pairs:
                if m not in by_subj or h not in by_subj:
                    continue
                a, b = by_subj[m], by_subj[h]
                if cond is not None:
                    a, b = a[a["condition"] == cond], b[b["condition"] == cond]
                values = _pair_values(a, b)
                if values is None:
                    continue
                for metric, v in values.items():
                    rows.append(
                        {
                            "model": m,
                            "human": h,
                            "dataset": ds,
                            "condition": cond,
                            "metric": metric,
                            "value": v,
                        }
                    )
    return pd.DataFrame(rows, columns=["model", "human", "dataset", "condition", "metric", "value"])


def _aggregate_rows(rows: pd.DataFrame) -> dict[str, Any]:
    """Mean over conditions -> mean over human subjects (or pairs) -> mean over datasets, per metric."""
    out: dict[str, Any] = {m: math.nan for m in _PAIR_METRICS}
    per_dataset: dict[str, dict[str, float]] = {}
    if rows.empty:
        return {**out, "datasets": per_dataset}
    per_pair = rows.groupby(["model", "human", "dataset", "metric"], as_index=False, sort=False)[
        "value"
    ].mean()
    per_ds = per_pair.groupby(["dataset", "metric"], as_index=False, sort=False)["value"].mean()
    for ds, g in per_ds.groupby("dataset", sort=False):
        per_dataset[str(ds)] = {str(m): float(v) for m, v in zip(g["metric"], g["value"])}
    overall = per_ds.groupby("metric")["value"].mean()
    out.update({str(m): float(v) for m, v in overall.items()})
    return {**out, "datasets": per_dataset}


def _retained(table: pd.DataFrame, dataset: str, exclude: bool) -> pd.DataFrame:
    t = table[table["dataset"] == dataset]
    conds = retained_conditions(dataset, exclude)
    return t if conds is None else t[t["condition"].isin(conds)]


def ood_accuracy(
    table: pd.DataFrame,
    subjects: Sequence[str],
    datasets: Sequence[str] | None = None,
    *,
    exclude: bool = True,
) -> dict[str, Any]:
    """OOD accuracy of one decision maker (``subjects`` pooled, e.g. all humans): per dataset, then the mean.

    Returns:
        ``{"ood_accuracy": mean over datasets, "datasets": {name: accuracy}}`` (datasets without trials skipped).
    """
    names = list(dict.fromkeys(table["dataset"])) if datasets is None else list(datasets)
    pooled = table[table["subj"].isin(list(subjects))]
    per = {}
    for ds in names:
        t = _retained(pooled, ds, exclude)
        if len(t):
            per[ds] = accuracy(t)
    mean = float(np.mean(list(per.values()))) if per else math.nan
    return {"ood_accuracy": mean, "datasets": per}


def _shape_bias_block(table: pd.DataFrame) -> dict[str, Any]:
    cc = table[table["dataset"] == "cue-conflict"]
    if cc.empty:
        return {"shape_bias": math.nan, "shape_bias_per_class": {}}
    return {"shape_bias": shape_bias(cc), "shape_bias_per_class": shape_bias_per_class(cc)}


def _merge(
    pair: dict[str, Any], ood: dict[str, Any], sb: dict[str, Any], counts: dict[str, int]
) -> dict[str, Any]:
    names = list(dict.fromkeys([*ood["datasets"], *pair["datasets"]]))
    per_dataset = {}
    for ds in names:
        entry = {m: pair["datasets"].get(ds, {}).get(m, math.nan) for m in _PAIR_METRICS}
        entry["ood_accuracy"] = ood["datasets"].get(ds, math.nan)
        entry["num_trials"] = counts.get(ds, 0)
        per_dataset[ds] = entry
    return {
        "shape_bias": sb["shape_bias"],
        "error_consistency": pair["error_consistency"],
        "observed_consistency": pair["observed_consistency"],
        "accuracy_difference": pair["accuracy_difference"],
        "ood_accuracy": ood["ood_accuracy"],
        "shape_bias_per_class": sb["shape_bias_per_class"],
        "datasets": per_dataset,
    }


def human_reference(
    table: pd.DataFrame, datasets: Sequence[str] | None = None, *, exclude: bool = True
) -> dict[str, Any]:
    """The "Humans (avg)" row: humans vs humans, aggregated as :func:`benchmark` aggregates a model.

    Consistency metrics: every unordered pair of distinct subjects, mean over conditions, then over pairs, then
    datasets. OOD accuracy and shape bias pool all human subjects into one decision maker.
    """
    names = list(dict.fromkeys(table["dataset"])) if datasets is None else list(datasets)
    humans_t = table[table["subj"].map(is_human) & table["dataset"].isin(names)]
    rows = benchmark_rows(humans_t, [], datasets=names, exclude=exclude, pairs_within=True)
    ood = ood_accuracy(humans_t, sorted(humans_t["subj"].unique()), names, exclude=exclude)
    counts = {ds: len(_retained(humans_t, ds, exclude)) for ds in names}
    out = _merge(_aggregate_rows(rows), ood, _shape_bias_block(humans_t), counts)
    for ds, entry in out["datasets"].items():
        entry["num_humans"] = int(humans_t.loc[humans_t["dataset"] == ds, "subj"].nunique())
    return out


def _restrict_to(table: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``table`` whose (dataset, condition, image_id) stimulus also occurs in ``reference``."""

    def keys(t: pd.DataFrame) -> pd.Series:
        parametric = t["dataset"].isin(PARAMETRIC_DATASETS)
        return t["dataset"] + "\x00" + t["condition"].where(parametric, "") + "\x00" + t["image_id"]

    return table[keys(table).isin(set(keys(reference)))]


def benchmark(
    table: pd.DataFrame,
    model: str,
    datasets: Sequence[str] | None = None,
    *,
    exclude: bool = True,
    humans: bool = True,
    humans_on_model_stimuli: bool = False,
) -> dict[str, Any]:
    """All benchmark metrics of one model against the human observers in ``table``.

    Args:
        table: decision table with the model's trials and the human trials (e.g. from :func:`read_raw_data`).
        model: the model's ``subj`` name (see :func:`select_subject`).
        datasets: datasets to evaluate; ``None`` takes those where the model has trials, in benchmark order.
        exclude: drop :data:`EXCLUDED_CONDITIONS` (benchmark default).
        humans: also compute the humans-vs-humans reference (key ``"humans"``).
        humans_on_model_stimuli: compute the human reference only on the stimuli the model saw (useful when the
            model ran on a subset, e.g. 160 cue-conflict images); by default it uses all human trials.

    Returns:
        ``{"model", "shape_bias", "error_consistency", "observed_consistency", "accuracy_difference",
        "ood_accuracy", "shape_bias_per_class", "datasets": {name: {...}}, "humans": {...}, "exclude_conditions"}``;
        metrics without data are NaN.
    """
    model_t = select_subject(table, model)
    if model_t.empty:
        subjects = sorted(s for s in table["subj"].unique() if not is_human(s))
        raise ValueError(f"model must be one of the non-human observers {subjects}, got {model!r}")
    model_name = str(model_t["subj"].iloc[0])
    present = set(model_t["dataset"])
    if datasets is None:
        order = [d for d in BENCHMARK_DATASETS if d in present]
        names = order + sorted(present - set(order))
    else:
        names = list(datasets)
    human_t = table[table["subj"].map(is_human) & table["dataset"].isin(names)]
    # humans are compared on the stimuli the model saw (pairing uses the intersection anyway)
    paired_humans = _restrict_to(human_t, model_t)
    rows = benchmark_rows(pd.concat([model_t, paired_humans]), [model_name], datasets=names, exclude=exclude)
    ood = ood_accuracy(model_t, [model_name], names, exclude=exclude)
    counts = {ds: len(_retained(model_t, ds, exclude)) for ds in names}
    result: dict[str, Any] = {"model": model_name}
    result.update(_merge(_aggregate_rows(rows), ood, _shape_bias_block(model_t), counts))
    for ds, entry in result["datasets"].items():
        entry["num_humans"] = int(paired_humans.loc[paired_humans["dataset"] == ds, "subj"].nunique())
    if humans:
        reference_t = paired_humans if humans_on_model_stimuli else human_t
        result["humans"] = human_reference(reference_t, names, exclude=exclude)
    result["exclude_conditions"] = {
        d: list(EXCLUDED_CONDITIONS[d]) for d in names if d in EXCLUDED_CONDITIONS and exclude
    }
    return result


def benchmark_from_raw_data(
    raw_data_dir: str | Path,
    model: str | None,
    datasets: Sequence[str] | None = None,
    *,
    exclude: bool = True,
    humans: bool = True,
    humans_on_model_stimuli: bool = False,
) -> dict[str, Any]:
    """Read ``raw_data_dir`` (model-vs-human raw-data layout) and run :func:`benchmark` for ``model``.

    With ``model=None`` only the humans-vs-humans reference is computed, on ``datasets`` (default: every dataset
    folder present), and returned in the same layout as a model's result (``"model": "humans"``).
    """
    table = read_raw_data(raw_data_dir, datasets)
    if model is None:
        names = (
            list(datasets)
            if datasets is not None
            else [d for d in BENCHMARK_DATASETS if d in set(table["dataset"])]
        )
        return {"model": "humans", **human_reference(table, names, exclude=exclude)}
    return benchmark(
        table,
        model,
        datasets,
        exclude=exclude,
        humans=humans,
        humans_on_model_stimuli=humans_on_model_stimuli,
    )
