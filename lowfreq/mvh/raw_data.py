"""model-vs-human raw data: constants, the decision-table format, its CSV reader and writer.

A *decision table* is a ``pandas.DataFrame`` with one row per trial and the columns of model-vs-human's
raw-data CSVs (``subj, session, trial, rt, object_response, category, condition, imagename``) plus ``dataset``
and ``image_id`` (the stimulus file name without the trial prefix, which pairs trials across observers).
[`read_raw_data`][lowfreq.mvh.raw_data.read_raw_data] reads a ``raw-data/<dataset>/*.csv`` directory into one;
[`decision_table`][lowfreq.mvh.raw_data.decision_table] builds one from model decisions;
[`write_decisions_csv`][lowfreq.mvh.raw_data.write_decisions_csv] writes one back in model-vs-human's own format, so its
toolbox reads it. Constants follow model-vs-human commit 79ed7cd.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

import pandas as pd

from lowfreq.core.io import atomic_write

__all__ = [
    "BENCHMARK_DATASETS",
    "DATASET_CONDITIONS",
    "EXCLUDED_CONDITIONS",
    "IMAGE_DATASETS",
    "PARAMETRIC_DATASETS",
    "TRIAL_COLUMNS",
    "canonical_condition",
    "decision_table",
    "image_id",
    "is_human",
    "is_trial_csv",
    "read_raw_data",
    "texture_category",
    "write_decisions_csv",
]

log = logging.getLogger(__name__)

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
    """Map a raw ``condition`` value to the canonical string of ``DATASET_CONDITIONS``.

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
    """Sub-folders of a raw-data folder that hold trial data.

    Those are benchmark dataset names, or any folder with a trial-named CSV
    ([`is_trial_csv`][lowfreq.mvh.raw_data.is_trial_csv]). Everything else (``performances/``, stray files) is skipped
    and logged.
    """
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
    must have the ``TRIAL_COLUMNS``.

    Column names are read case-insensitively (``Session`` in some human files); every value is read as a string
    (no pandas coercion), conditions are mapped by [`canonical_condition`][lowfreq.mvh.raw_data.canonical_condition],
    and ``dataset`` and ``image_id`` columns are added.

    Args:
        raw_data_dir: folder holding one sub-folder per dataset.
        datasets: dataset names to read; ``None`` reads every dataset folder (see above).
        subjects: keep only these ``subj`` values (humans ``subject-XX``, models by name); ``None`` keeps all.

    Returns:
        DataFrame with the ``TRIAL_COLUMNS`` plus ``dataset`` and ``image_id``, all strings.
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
        return cast("pd.DataFrame", pd.DataFrame(columns=[*TRIAL_COLUMNS, "dataset", "image_id"], dtype=str))
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
        imagenames: stimulus file names as model-vs-human writes them (see [`image_id`][lowfreq.mvh.raw_data.image_id]).
        categories: correct classes (the shape class for cue-conflict).
        responses: the observer's decisions, one of ``CLASSES_16`` each.
        conditions: raw condition per trial; ``None`` writes ``NaN`` (as model-vs-human does without sessions).
        sessions: session number per trial; ``None`` writes ``1``.

    Returns:
        Decision table; ``trial`` counts 1..N within each dataset, ``rt`` is ``NaN``.
    """
    n = len(imagenames)
    if not (len(categories) == len(responses) == n):
        raise ValueError(
            "imagenames, categories and responses must have equal lengths, "
            f"got {n}, {len(categories)}, {len(responses)}"
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
        return cast("pd.DataFrame", pd.DataFrame(columns=[*TRIAL_COLUMNS, "dataset", "image_id"], dtype=str))
    return cast("pd.DataFrame", pd.concat(parts).sort_index())


def write_decisions_csv(table: pd.DataFrame, raw_data_dir: str | Path) -> list[Path]:
    """Write a model's decision table as model-vs-human raw-data CSVs, one file per (dataset, observer, session).

    File names and format follow model-vs-human's ``ResultPrinter``:
    ``<raw_data_dir>/<dataset>/<dataset>_<subj with "_" -> "-">_session-<n>.csv``, header
    ``subj,session,trial,rt,object_response,category,condition,imagename``, ``csv`` module dialect (CRLF line
    ends), ``rt`` = ``NaN``. Existing files of the same name are overwritten, each atomically
    ([`atomic_write`][lowfreq.core.io.atomic_write]: a write that fails leaves the previous file as it was).

    Args:
        table: decision table (e.g. from [`model_decisions`][lowfreq.mvh.decisions.model_decisions]).
        raw_data_dir: the ``raw-data`` folder (may be the one holding the human CSVs).

    Returns:
        The written paths.
    """
    missing = [c for c in (*TRIAL_COLUMNS, "dataset") if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks the decision-table columns {missing}")
    root = Path(raw_data_dir)
    paths = []
    for (dataset, subj, session), g in table.groupby(["dataset", "subj", "session"], sort=True):
        path = root / str(dataset) / f"{dataset}_{str(subj).replace('_', '-')}_session-{session}.csv"
        with atomic_write(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(TRIAL_COLUMNS)
            for row in g[list(TRIAL_COLUMNS)].itertuples(index=False):
                writer.writerow([str(v) for v in row])
        paths.append(path)
    return paths
