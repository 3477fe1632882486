"""In-memory tensor datasets and the seeded train/val split."""

from __future__ import annotations

import pytest
import torch

from lowfreq.data import CueConflictDataset, TensorImageDataset
from lowfreq.data.datasets import train_val_indices


def test_tensor_dataset_batched_equals_itemwise():
    images = torch.randint(0, 256, (10, 3, 8, 8), dtype=torch.uint8)
    ds = TensorImageDataset(images, torch.arange(10))
    items = ds.__getitems__([3, 1])
    x, y = ds[3]
    assert torch.equal(items[0][0], x)
    assert torch.equal(x, images[3].float() / 255)
    assert y.dtype == torch.int64
    with pytest.raises(ValueError, match="uint8"):
        TensorImageDataset(images.float(), torch.arange(10))


@pytest.mark.parametrize("num_items", [0, 1, 10, 101])
@pytest.mark.parametrize("val_fraction", [0.0, 0.1, 0.5])
def test_train_val_indices_partition_and_match_a_seeded_permutation(num_items, val_fraction):
    train, val = train_val_indices(num_items, val_fraction, seed=7)
    num_val = round(val_fraction * num_items)
    # oracle: the first num_val items of a permutation drawn from manual_seed(seed) are held out
    perm = torch.randperm(num_items, generator=torch.Generator().manual_seed(7))
    assert torch.equal(val, perm[:num_val].sort().values)
    assert torch.equal(train, perm[num_val:].sort().values)
    assert train.dtype == val.dtype == torch.int64
    assert torch.equal(train_val_indices(num_items, val_fraction, seed=7)[1], val)


def test_train_val_indices_bad_arguments():
    with pytest.raises(ValueError, match=r"val_fraction must be in \[0.0, 1.0\], got 1.5"):
        train_val_indices(10, 1.5, 0)
    with pytest.raises(ValueError, match="num_items must be an int >= 0, got -1"):
        train_val_indices(-1, 0.1, 0)


def test_cue_conflict_dataset_items_and_validation():
    images = torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    ds = CueConflictDataset(images, torch.tensor([0, 1, 2, 3]), torch.tensor([1, 2, 3, 0], dtype=torch.int32))
    x, y_shape, y_texture = ds[2]
    assert len(ds) == 4
    assert torch.equal(x, images[2].float() / 255)
    assert (int(y_shape), int(y_texture)) == (2, 3)
    assert y_texture.dtype == torch.int64
    with pytest.raises(ValueError, match="images must be a uint8"):
        CueConflictDataset(images.float(), torch.zeros(4, dtype=torch.long), torch.ones(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"y_texture must have shape \(4,\)"):
        CueConflictDataset(images, torch.zeros(4, dtype=torch.long), torch.ones(3, dtype=torch.long))
