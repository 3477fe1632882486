import math

import pytest
import torch
from torch import nn

from lowfreq.analysis.cue_conflict import (
    CueConflictMetric,
    cue_conflict_counts,
    cue_conflict_decisions,
    cue_conflict_result,
    shape_bias_from_counts,
)
from lowfreq.plotting.cue_conflict import plot_cue_conflict


class FixedLogits(nn.Module):
    """Predicts class ``labels[i]`` for the i-th image it sees (images carry their index in pixel [0, 0, 0])."""

    def __init__(self, labels: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("labels", labels)

    def forward(self, x):
        idx = (x[:, 0, 0, 0] * 100).round().long()
        return nn.functional.one_hot(self.labels[idx], 10).float()


def test_counts_and_bias_on_hand_made_decisions():
    y_shape = torch.tensor([0, 1, 2, 3])
    y_texture = torch.tensor([1, 2, 3, 4])
    pred = torch.tensor([0, 2, 3, 9])  # shape, texture, texture, other
    counts = cue_conflict_counts(nn.functional.one_hot(pred, 10).float(), y_shape, y_texture)
    assert counts.tolist() == [1, 2, 1]
    result = cue_conflict_result(counts)
    assert result.shape_bias == pytest.approx(1 / 3)
    assert result.other_fraction == 0.25
    assert math.isnan(cue_conflict_result(torch.tensor([0, 0, 3])).shape_bias)
    assert shape_bias_from_counts(3, 1) == 0.75
    assert math.isnan(shape_bias_from_counts(0, 0))


def test_decisions_batched_equal_to_counts():
    n = 40
    x = torch.zeros(n, 3, 4, 4)
    x[:, 0, 0, 0] = torch.arange(n) / 100
    y_shape = torch.arange(n) % 10
    y_texture = (y_shape + 1) % 10
    labels = torch.where(torch.arange(n) < 30, y_shape, y_texture)
    result = cue_conflict_decisions(FixedLogits(labels), x, y_shape, y_texture, batch_size=7)
    assert result.num_images == n
    assert result.shape_fraction == 0.75
    assert result.shape_bias == 0.75


def _conflict_set(n: int = 40):
    x = torch.zeros(n, 3, 4, 4)
    x[:, 0, 0, 0] = torch.arange(n) / 100
    y_shape = torch.arange(n) % 10
    y_texture = (y_shape + 1) % 10
    i = torch.arange(n)
    labels = torch.where(i % 4 == 0, y_texture, torch.where(i % 7 == 0, 9 - y_shape, y_shape))  # some "other"
    return FixedLogits(labels), x, y_shape, y_texture


def test_metric_matches_the_function_and_the_plot_reads_the_result():
    model, x, y_shape, y_texture = _conflict_set()
    expected = cue_conflict_decisions(model, x, y_shape, y_texture, batch_size=9)
    metric = CueConflictMetric()
    for start in range(0, len(x), 9):
        sl = slice(start, start + 9)
        metric.update(model(x[sl]), y_shape[sl], y_texture[sl])
    result = metric.compute()
    assert result == expected
    assert result.num_images == 40
    assert 0 < result.other_fraction < result.texture_fraction
    _fig, ax = plot_cue_conflict(result)
    assert [b.get_height() for b in ax.patches] == pytest.approx(  # in %, as the y axis says
        [100 * result.shape_fraction, 100 * result.texture_fraction, 100 * result.other_fraction])
    assert "%" in ax.get_ylabel()
    assert f"{result.shape_bias:.2f}" in ax.get_title()
    assert "n = 40 images" in ax.get_title()


def test_bad_input():
    x = torch.rand(4, 3, 4, 4)
    with pytest.raises(ValueError, match="y_texture must differ from y_shape"):
        cue_conflict_counts(torch.zeros(2, 10), torch.tensor([1, 2]), torch.tensor([1, 3]))
    with pytest.raises(ValueError, match=r"x must hold images in \[0, 1\]"):
        cue_conflict_decisions(nn.Identity(), x + 2, torch.zeros(4), torch.ones(4))
    with pytest.raises(ValueError, match=r"y_shape must be class indices in \[0, 10\)"):
        cue_conflict_counts(torch.zeros(2, 10), torch.tensor([1, 12]), torch.tensor([2, 3]))
    with pytest.raises(ValueError, match="counts must be 3"):
        cue_conflict_result(torch.zeros(3, dtype=torch.long))
