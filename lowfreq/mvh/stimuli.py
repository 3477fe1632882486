"""model-vs-human stimuli as a map-style dataset and an evaluation-only DataModule.

Where the files live and how to fetch them: [`lowfreq.mvh.download`][lowfreq.mvh.download].
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from lowfreq.core.checks import check_choice, check_positive_int
from lowfreq.core.seeding import seeded_subset
from lowfreq.data.base import ImageDataModule
from lowfreq.mvh.download import IMAGE_SUFFIXES, download_datasets, download_raw_data, find_dataset_dir
from lowfreq.mvh.labels import CLASSES_16
from lowfreq.mvh.raw_data import BENCHMARK_DATASETS, IMAGE_DATASETS

__all__ = ["ModelVsHumanDataModule", "ModelVsHumanDataset", "stimulus_records"]

log = logging.getLogger(__name__)


def stimulus_records(data_dir: str | Path, name: str) -> pd.DataFrame:
    """One row per image of dataset ``name``, in the order model-vs-human's ImageFolder loader uses.

    Returns:
        DataFrame with columns ``dataset, path, imagename, category, condition, session, label`` where
        ``imagename``, ``condition`` and ``session`` are what model-vs-human writes into a model's CSV: for the
        ``<category>/<file>`` layout the bare file name, condition ``NaN`` and session ``1``; for the
        ``dnn/session-N/<file>`` layout the full file name, whose 4th and 5th ``_``-fields are condition and
        category.
    """
    folder = find_dataset_dir(data_dir, name)
    rows = []
    if (folder / "dnn").is_dir():
        for session_dir in sorted(p for p in (folder / "dnn").iterdir() if p.is_dir()):
            session = session_dir.name.split("-")[-1]
            for f in sorted(p for p in session_dir.iterdir() if p.suffix in IMAGE_SUFFIXES):
                parts = f.name.split("_")
                if len(parts) < 6:
                    raise ValueError(
                        f"{f} does not follow model-vs-human's <trial>_<exp>_<obs>_<cond>_<cat>_... naming"
                    )
                rows.append((name, str(f), f.name, parts[4], parts[3], session))
    else:
        for cat_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            for f in sorted(p for p in cat_dir.iterdir() if p.suffix in IMAGE_SUFFIXES):
                rows.append((name, str(f), f.name, cat_dir.name, "NaN", "1"))
    df = pd.DataFrame(rows, columns=["dataset", "path", "imagename", "category", "condition", "session"])
    unknown = sorted(set(df["category"]) - set(CLASSES_16))
    if unknown:
        raise ValueError(
            f"categories of {name!r} must be among the 16 classes {list(CLASSES_16)}, got {unknown}"
        )
    df["label"] = [CLASSES_16.index(c) for c in df["category"]]
    return cast("pd.DataFrame", df)


def _load_image(path: str) -> Tensor:
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"), dtype=np.float32)  # (H, W, 3) in [0, 255]
    # conversion in numpy: torch's strided uint8 -> float copy is slow on busy CPUs
    return torch.from_numpy(
        np.ascontiguousarray(rgb.transpose(2, 0, 1)) / np.float32(255.0)
    )  # (3, H, W) in [0, 1]


class ModelVsHumanDataset(Dataset):
    """Stimuli of one or more model-vs-human datasets: items ``(x, y)``, with per-item metadata in ``records``.

    ``x`` is float32 (3, H, W) in [0, 1] (the images are 224 x 224; nothing is resized or normalised), ``y`` the
    int64 index of the correct class in ``lowfreq.mvh.labels.CLASSES_16`` (the shape class for
    cue-conflict). ``records`` (a DataFrame, row i = item i) holds ``dataset, path, imagename, category,
    condition, session, label``, which is what the decision CSVs need.

    Args:
        data_dir: model-vs-human directory (layouts in [`lowfreq.mvh.download`][lowfreq.mvh.download]).
        datasets: dataset names, a subset of the 17 benchmark datasets.
        images_per_dataset: keep a seeded random subset of this many images per dataset (None keeps all).
        seed: seed of that subset.
    """

    def __init__(
        self,
        data_dir: str | Path,
        datasets: Sequence[str] = IMAGE_DATASETS,
        images_per_dataset: int | None = None,
        seed: int = 0,
    ) -> None:
        if isinstance(datasets, str):
            raise TypeError(f"datasets must be a list of dataset names, got the string {datasets!r}")
        for name in datasets:
            check_choice("datasets", name, BENCHMARK_DATASETS)
        if images_per_dataset is not None:
            check_positive_int("images_per_dataset", images_per_dataset)
        self.data_dir, self.datasets = Path(data_dir), list(datasets)
        frames = []
        for name in self.datasets:
            rec = stimulus_records(self.data_dir, name)
            rec = rec.iloc[seeded_subset(len(rec), images_per_dataset, seed).tolist()]
            frames.append(rec)
        self.records = pd.concat(frames, ignore_index=True)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        row = self.records.iloc[index]
        return _load_image(row["path"]), torch.tensor(int(row["label"]), dtype=torch.long)


class ModelVsHumanDataModule(ImageDataModule):
    """The model-vs-human stimuli for ``lightning validate``/``test`` and the alignment analyses.

    Evaluation only: ``val``, ``test`` and ``predict`` loaders all yield the same stimuli (unshuffled) and there is
    no train split. Labels are 16-way (``lowfreq.mvh.labels.CLASSES_16``): a backbone with 16 outputs
    (e.g. [`OpenCLIPZeroShot`][lowfreq.backbones.openclip.OpenCLIPZeroShot]) is scored as is, and ``FrontEndClassifier``
    scores a 1000-way ImageNet backbone after model-vs-human's 1000 -> 16 mapping, so ``val_acc`` is the 16-class
    accuracy in both cases (as in [`ModelVsHumanAnalysis`][lowfreq.callbacks.mvh.ModelVsHumanAnalysis]).

    Args:
        data_dir: model-vs-human directory (layouts in [`lowfreq.mvh.download`][lowfreq.mvh.download]).
        datasets: which of the 17 datasets to load; default the three with freely available images.
        download: in ``prepare_data``, fetch missing image archives and human CSVs (needs internet).
        images_per_dataset: seeded random subset per dataset (None keeps all), for quick runs.
        batch_size: images per batch.
        num_workers: DataLoader workers.
        seed: seed of the subset.
    """

    def __init__(
        self,
        data_dir: str = "data/model-vs-human",
        datasets: list[str] | None = None,
        download: bool = False,
        images_per_dataset: int | None = None,
        batch_size: int = 32,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed, augment=False)
        names = list(IMAGE_DATASETS) if datasets is None else list(datasets)
        for name in names:
            check_choice("datasets", name, BENCHMARK_DATASETS)
        if images_per_dataset is not None:
            check_positive_int("images_per_dataset", images_per_dataset)
        self.data_dir, self.datasets, self.download = data_dir, names, download
        self.images_per_dataset = images_per_dataset

    @property
    def class_names(self) -> list[str]:
        """The 16 classes, ``CLASSES_16``."""
        return list(CLASSES_16)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(3, 224, 224), the size of every model-vs-human stimulus."""
        return (3, 224, 224)

    @property
    def raw_data_dir(self) -> Path:
        """``<data_dir>/raw-data``: human CSVs, and where model CSVs are written."""
        return Path(self.data_dir) / "raw-data"

    def prepare_data(self) -> None:
        """With ``download``: fetch missing image archives and human CSVs (rank 0 only)."""
        if self.download:
            download_datasets(self.data_dir, self.datasets)
            download_raw_data(self.data_dir, self.datasets)

    def _build(self) -> dict[str, Dataset]:
        ds = ModelVsHumanDataset(self.data_dir, self.datasets, self.images_per_dataset, self.seed)
        return {"val": ds, "test": ds}

    def train_dataloader(self) -> DataLoader:
        """No training split: a clear error."""
        raise RuntimeError(
            "ModelVsHumanDataModule is evaluation-only: use `validate`, `test` or `predict`, not `fit`"
        )
