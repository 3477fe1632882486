"""Model-vs-human alignment metrics over decision tables, aggregated as the model-vs-human benchmark does.

Inputs are decision tables ([`lowfreq.mvh.raw_data`][lowfreq.mvh.raw_data]): one row per trial in model-vs-human's
raw-data format.

Metrics (Geirhos et al. 2021, "Partial success in closing the gap between human and machine vision"):

* [`shape_bias`][lowfreq.mvh.metrics.shape_bias] on cue-conflict: ``n(shape) / (n(shape) + n(texture))`` over images
  whose shape and texture classes differ.
* [`error_consistency`][lowfreq.mvh.metrics.error_consistency]: Cohen's kappa of trial-wise correctness,
  ``(c_obs - c_exp) / (1 - c_exp)`` with ``c_exp = p1 p2 + (1 - p1)(1 - p2)``; defined as 1 when ``c_obs == 1``.
* [`observed_consistency`][lowfreq.mvh.metrics.observed_consistency],
  [`accuracy_difference`][lowfreq.mvh.metrics.accuracy_difference] (squared, as the benchmark's ``np.square`` norm),
  [`accuracy`][lowfreq.mvh.metrics.accuracy] (16-class accuracy; a human "na" counts as wrong).

[`benchmark`][lowfreq.mvh.metrics.benchmark] aggregates like model-vs-human's ``plotting/plot.py``: excluded conditions
removed (``EXCLUDED_CONDITIONS``); consistency metrics per (model, human subject, condition), averaged over conditions,
then human subjects, then datasets; OOD accuracy pooled per dataset then averaged over datasets; the humans-vs-humans
reference averages every unordered pair of distinct subjects over conditions, then pairs, then datasets, and pools all
subjects into one decision maker for OOD accuracy and shape bias.

Only numpy, pandas and torch are used here (no Lightning), so everything runs in a notebook.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import torch

from lowfreq.analysis.cue_conflict import shape_bias_from_counts
from lowfreq.mvh.labels import CLASSES_16
from lowfreq.mvh.raw_data import (
    BENCHMARK_DATASETS,
    DATASET_CONDITIONS,
    EXCLUDED_CONDITIONS,
    PARAMETRIC_DATASETS,
    is_human,
    read_raw_data,
    texture_category,
)

__all__ = [
    "METRICS",
    "TABLE_COLUMNS",
    "accuracy",
    "accuracy_difference",
    "benchmark",
    "benchmark_from_raw_data",
    "benchmark_rows",
    "benchmark_table",
    "cohens_kappa",
    "consistency",
    "error_consistency",
    "expected_consistency",
    "human_reference",
    "observed_consistency",
    "ood_accuracy",
    "paired_correctness",
    "retained_conditions",
    "select_subject",
    "shape_bias",
    "shape_bias_per_class",
    "shape_bias_table",
]

log = logging.getLogger(__name__)

#: The benchmark metrics, in the order they are reported.
METRICS: tuple[str, ...] = (
    "shape_bias",
    "error_consistency",
    "observed_consistency",
    "accuracy_difference",
    "ood_accuracy",
)
_PAIR_METRICS = ("error_consistency", "observed_consistency", "accuracy_difference")



def select_subject(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """Rows of observer ``name``; also matches with ``_`` and ``-`` exchanged (model-vs-human file-name rule)."""
    subj = table["subj"].astype(str)
    rows = table[subj == name]
    if rows.empty:
        rows = table[subj.str.replace("_", "-") == name.replace("_", "-")]
    return cast("pd.DataFrame", rows)


# ---- single-table metrics ------------------------------------------------------------------------------------


def _correct(table: pd.DataFrame) -> np.ndarray:
    return cast("np.ndarray", (table["object_response"].to_numpy() == table["category"].to_numpy()).astype(bool))


def accuracy(table: pd.DataFrame) -> float:
    """16-class accuracy: fraction of trials with ``object_response == category`` (NaN for an empty table)."""
    return float(_correct(table).mean()) if len(table) else math.nan


def _shape_texture_counts(table: pd.DataFrame) -> tuple[int, int, int]:
    texture = np.array([texture_category(n) for n in table["imagename"]], dtype=object)
    shape = table["category"].to_numpy()
    response = table["object_response"].to_numpy()
    conflict = shape != texture
    num_shape = int(np.sum(conflict & (response == shape)))
    num_texture = int(np.sum(conflict & (response == texture)))
    return num_shape, num_texture, len(table)


def shape_bias(table: pd.DataFrame) -> float:
    """Shape bias on cue-conflict trials: ``n(shape) / (n(shape) + n(texture))``.

    Trials whose shape class (``category``) equals the texture class parsed from the file name are removed
    (no cue conflict). Responses that are neither shape nor texture class (or "na") are ignored.

    Returns:
        Shape bias in [0, 1]; NaN when no decision picked the shape or the texture class.

    Raises:
        ValueError: a response or category that is not one of ``CLASSES_16`` (responses may also be
            "na"), e.g. a misspelt or capitalised class name, which would silently count as neither shape nor
            texture.

    Example:
        >>> from lowfreq.mvh import decision_table
        >>> t = decision_table("m", "cue-conflict", ["cat1-dog2.png", "dog1-cat2.png"], ["cat", "dog"], ["cat", "cat"])
        >>> shape_bias(t)
        0.5
    """
    _check_class_names(table, "object_response", allowed=(*CLASSES_16, "na"))
    _check_class_names(table, "category", allowed=CLASSES_16)
    num_shape, num_texture, _ = _shape_texture_counts(table)
    return shape_bias_from_counts(num_shape, num_texture)


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
    """[`shape_bias`][lowfreq.mvh.metrics.shape_bias] per shape class (``category``).

    NaN for classes without shape/texture decisions.
    """
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

    ``correct_a`` and ``correct_b`` are (N,) bools (or integers 0/1), as in
    [`consistency`][lowfreq.mvh.metrics.consistency], which says what is rejected.

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
        return cast("pd.Series", s)

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
        exclude: drop ``EXCLUDED_CONDITIONS`` first.
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
        by_subj = {s: g for s, g in tds.groupby("subj")}  # noqa: C416  (dict() would take GroupBy.keys for a mapping)
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
    columns = ["model", "human", "dataset", "condition", "metric", "value"]
    return cast("pd.DataFrame", pd.DataFrame(rows, columns=columns))


def _aggregate_rows(rows: pd.DataFrame) -> dict[str, Any]:
    """Mean over conditions -> mean over human subjects (or pairs) -> mean over datasets, per metric."""
    out: dict[str, Any] = dict.fromkeys(_PAIR_METRICS, math.nan)
    per_dataset: dict[str, dict[str, float]] = {}
    if rows.empty:
        return {**out, "datasets": per_dataset}
    per_pair = rows.groupby(["model", "human", "dataset", "metric"], as_index=False, sort=False)[
        "value"
    ].mean()
    per_ds = per_pair.groupby(["dataset", "metric"], as_index=False, sort=False)["value"].mean()
    for ds, g in per_ds.groupby("dataset", sort=False):
        per_dataset[str(ds)] = {str(m): float(v) for m, v in zip(g["metric"], g["value"], strict=True)}
    overall = per_ds.groupby("metric")["value"].mean()
    out.update({str(m): float(v) for m, v in overall.items()})
    return {**out, "datasets": per_dataset}


def _retained(table: pd.DataFrame, dataset: str, exclude: bool) -> pd.DataFrame:
    t = table[table["dataset"] == dataset]
    conds = retained_conditions(dataset, exclude)
    return cast("pd.DataFrame", t if conds is None else t[t["condition"].isin(conds)])


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
    """The "Humans (avg)" row: humans vs humans aggregated as [`benchmark`][lowfreq.mvh.metrics.benchmark] does a model.

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
        return cast("pd.Series", t["dataset"] + "\x00" + t["condition"].where(parametric, "") + "\x00" + t["image_id"])

    return cast("pd.DataFrame", table[keys(table).isin(set(keys(reference)))])


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
        table: decision table with the model's trials and the human trials (e.g. from
            [`read_raw_data`][lowfreq.mvh.raw_data.read_raw_data]).
        model: the model's ``subj`` name (see [`select_subject`][lowfreq.mvh.metrics.select_subject]).
        datasets: datasets to evaluate; ``None`` takes those where the model has trials, in benchmark order.
        exclude: drop ``EXCLUDED_CONDITIONS`` (benchmark default).
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
    """Read ``raw_data_dir`` and run [`benchmark`][lowfreq.mvh.metrics.benchmark] for ``model``.

    ``raw_data_dir`` has model-vs-human's raw-data layout. With ``model=None`` only the humans-vs-humans reference is
    computed, on ``datasets`` (default: every dataset folder present), and returned in the same layout as a model's
    result (``"model": "humans"``).
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


# ---- tables of a result ---------------------------------------------------------------------------------------

#: Columns of ``benchmark_table``.
TABLE_COLUMNS: tuple[str, ...] = ("observer", "dataset", *METRICS, "num_trials", "num_humans")


def _observer_blocks(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, block) of the model and of its humans reference (a humans-only result is one block)."""
    blocks = [(str(result.get("model", "model")), result)]
    if result.get("humans"):
        blocks.append(("humans", result["humans"]))
    return blocks


def benchmark_table(result: dict[str, Any]) -> pd.DataFrame:
    """A ``benchmark`` result as one table, one row per observer and dataset.

    Per observer (the model, then the humans) a row ``dataset="all"`` with the benchmark values comes first, then
    one row per dataset. Shape bias exists only for cue-conflict (and "all"); ``num_trials`` counts the retained
    trials (summed in "all"), ``num_humans`` the human subjects of the dataset (empty in "all").

    Returns:
        DataFrame with the columns ``TABLE_COLUMNS`` (missing values NaN / NA).
    """
    rows = []
    for observer, block in _observer_blocks(result):
        per_dataset = block.get("datasets") or {}
        trials = [e.get("num_trials") for e in per_dataset.values() if e.get("num_trials") is not None]
        rows.append({
            "observer": observer,
            "dataset": "all",
            **{m: block.get(m, math.nan) for m in METRICS},
            "num_trials": sum(trials) if trials else None,
            "num_humans": None,
        })
        for ds, entry in per_dataset.items():
            values = {m: entry.get(m, math.nan) for m in METRICS}
            values["shape_bias"] = block.get("shape_bias", math.nan) if ds == "cue-conflict" else math.nan
            rows.append({
                "observer": observer,
                "dataset": ds,
                **values,
                "num_trials": entry.get("num_trials"),
                "num_humans": entry.get("num_humans"),
            })
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    for column in METRICS:
        table[column] = table[column].astype(float)
    for column in ("num_trials", "num_humans"):
        table[column] = table[column].astype("Int64")
    return cast("pd.DataFrame", table)


def shape_bias_table(result: dict[str, Any]) -> pd.DataFrame:
    """Per-category shape bias of a ``benchmark`` result.

    One row per category of ``CLASSES_16``, one column per observer (the model, then the humans); no rows
    when no cue-conflict trials were evaluated.
    """
    columns = {
        observer: [math.nan if (v := block["shape_bias_per_class"].get(c)) is None else float(v) for c in CLASSES_16]
        for observer, block in _observer_blocks(result)
        if block.get("shape_bias_per_class")
    }
    if not columns:
        return cast("pd.DataFrame", pd.DataFrame(columns=["category"]))
    return cast("pd.DataFrame", pd.DataFrame({"category": list(CLASSES_16), **columns}))
