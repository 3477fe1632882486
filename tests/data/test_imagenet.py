"""ImageNetDataModule on a tiny ImageFolder tree: splits, transforms, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from lowfreq.data import ImageNetDataModule


def _write_image_folder(root: Path, classes: list[str], num_train: int = 4, num_val: int = 2) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in (("train", num_train), ("val", num_val)):
        for c in classes:
            (root / split / c).mkdir(parents=True)
            for i in range(n):
                h, w = rng.integers(20, 48, 2)
                arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
                Image.fromarray(arr).save(root / split / c / f"{c}_{i}.png")


def test_imagenet_tiny_folder(tmp_path, check_batch):
    classes = ["n01440764", "n01443537", "n01484850"]
    _write_image_folder(tmp_path, classes)
    dm = ImageNetDataModule(
        data_dir=str(tmp_path), image_size=16, val_fraction=0.25, batch_size=4, num_workers=0
    )
    dm.prepare_data()
    dm.setup("fit")
    assert dm.class_names == classes
    assert dm.num_classes == 3
    assert dm.image_shape == (3, 16, 16)
    assert len(dm._split("train")) == 9
    assert len(dm.analysis_dataset("val")) == 3
    assert len(dm.analysis_dataset("test")) == 6
    x, y = dm.analysis_dataset("test")[0]
    assert x.shape == (3, 16, 16)
    assert x.dtype == torch.float32
    assert float(x.min()) >= 0
    assert float(x.max()) <= 1
    assert y.dtype == torch.int64
    assert y.ndim == 0
    assert torch.equal(
        dm.analysis_dataset("val")[1][0], dm.analysis_dataset("val")[1][0]
    )  # eval: deterministic
    for loader in (dm.train_dataloader(), dm.val_dataloader(), dm.test_dataloader()):
        xb, yb = next(iter(loader))
        check_batch(xb, yb, (xb.shape[0], 3, 16, 16))
    # the held-out images are train-folder images, under the eval transform
    val = dm.analysis_dataset("val")
    assert (
        all("/train/" in val.dataset.samples[i][0] for i in val.indices)
    )
    assert (
        val.dataset.transform is not None
    )
    assert dm._split("train").dataset.transform is not val.dataset.transform


def test_imagenet_workers_pickle(tmp_path):
    _write_image_folder(tmp_path, ["a", "b"], num_train=2, num_val=1)
    dm = ImageNetDataModule(
        data_dir=str(tmp_path), image_size=8, val_fraction=0.0, batch_size=2, num_workers=1
    )
    assert dm.analysis_dataset("val") is dm.analysis_dataset("test")
    loader = dm.train_dataloader()
    assert loader.persistent_workers
    assert sum(len(y) for _, y in loader) == 4


def test_imagenet_missing_dir(tmp_path):
    dm = ImageNetDataModule(data_dir=str(tmp_path / "imagenet"))
    assert dm.num_classes == 1000
    with pytest.raises(FileNotFoundError, match="cannot be downloaded automatically") as info:
        dm.prepare_data()
    assert "data_dir=" in str(info.value)
    assert "train/<wnid>" in str(info.value)
    with pytest.raises(FileNotFoundError, match="cannot be downloaded automatically"):
        dm.setup()


def test_imagenet_class_mismatch(tmp_path):
    _write_image_folder(tmp_path, ["a", "b"], num_train=1, num_val=1)
    (tmp_path / "val" / "b").rename(tmp_path / "val" / "c")
    with pytest.raises(ValueError, match="class folders"):
        ImageNetDataModule(data_dir=str(tmp_path)).setup()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"image_size": 4}, "image_size must be an int >= 8, got 4"),
        ({"val_fraction": -0.1}, r"val_fraction must be in \[0.0, 0.5\]"),
        ({"color_jitter": 2.0}, r"color_jitter must be in \[0.0, 1.0\], got 2.0"),
        ({"num_workers": -2}, "num_workers must be an int >= 0"),
    ],
)
def test_imagenet_bad_params(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ImageNetDataModule(**kwargs)
