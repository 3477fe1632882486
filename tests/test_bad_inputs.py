"""Bad input to a public entry point raises at once, naming the parameter, what is allowed and what was
received.

One table: (id, call, exception type, regex). Every regex starts with the parameter's name. Before these
checks were added, the rows in ``SILENT_BEFORE`` returned a wrong answer without an error (or, for callbacks,
accepted an argument that fails only at the end of fit), and those in ``UNCLEAR_BEFORE`` raised an error that
did not name the parameter (IndexError, AttributeError, a tuple-unpacking or broadcasting error).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from lowfreq import filters
from lowfreq.analysis.components import component_accuracy, frequency_components
from lowfreq.analysis.cue_conflict import cue_conflict_decisions
from lowfreq.analysis.hybrid import check_f_mix, hybrid_counts, hybrid_curve
from lowfreq.backbones.base import Normalize
from lowfreq.backbones.simple import SimpleCNN
from lowfreq.callbacks import (
    CueConflictAnalysis,
    FrequencyComponentAnalysis,
    HybridCurveAnalysis,
    ModelVsHumanAnalysis,
)
from lowfreq.core.checks import ImageTypeError
from lowfreq.data import TensorImageDataset, random_crop_flip
from lowfreq.data.cifar import CIFAR10DataModule
from lowfreq.frontends import DownUpResize, FourierMask, GaussianBlur, IdealFilter, PCAProjection
from lowfreq.mvh.labels import imagenet_to_16
from lowfreq.mvh.metrics import error_consistency, shape_bias
from lowfreq.mvh.raw_data import decision_table

K = 4  # outputs of the tiny model


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, K))


def _x(n: int = 4, c: int = 3, size: int = 8) -> torch.Tensor:
    return torch.rand(n, c, size, size, generator=torch.Generator().manual_seed(0))


def _nan(n: int = 4) -> torch.Tensor:
    x = _x(n)
    x[0, 0, 0, 0] = float("nan")
    return x


def _uint8(n: int = 2) -> torch.Tensor:
    return (_x(n) * 255).to(torch.uint8)


def _y(*values: int) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.long)


def _cifar(**arrays: np.ndarray) -> None:
    """Set up a CIFAR10DataModule on a tiny npz (4 train, 2 test images) with ``arrays`` replaced."""
    data = {
        "x_train": np.zeros((4, 32, 32, 3), np.uint8),
        "y_train": np.array([0, 1, 2, 3]),
        "x_test": np.zeros((2, 32, 32, 3), np.uint8),
        "y_test": np.array([0, 1]),
        **arrays,
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cifar.npz"
        np.savez(path, **data)
        CIFAR10DataModule(npz_path=str(path), val_fraction=0.0).setup()


def _cue(responses: list[str]) -> object:
    names = ["cat1-dog2.png", "dog1-cat2.png", "car3-oven1.png", "bird2-bird3.png"]
    return shape_bias(
        decision_table("m", "cue-conflict", names, ["cat", "dog", "car", "bird"], responses)
    )


# (id, call, expected exception, regex naming the parameter)
ROWS: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    # ---- filters and front-ends ----------------------------------------------------------------------------
    (
        "down_up_resize-uint8",
        lambda: filters.down_up_resize(_uint8(), 4),
        ImageTypeError,
        r"x must be a floating-point tensor with values in \[0, 1\], got dtype torch.uint8",
    ),
    (
        "down_up_resize-0..255",
        lambda: filters.down_up_resize(_x() * 255, 4),
        ValueError,
        r"x must hold images in \[0, 1\], got values in \[.*, 25\d",
    ),
    ("down_up_resize-nan", lambda: filters.down_up_resize(_nan(), 4), ValueError, r"x must be finite"),
    (
        "down_up_resize-size",
        lambda: filters.down_up_resize(_x(), 0),
        ValueError,
        r"size must be an int >= 1, got 0",
    ),
    (
        "DownUpResize-uint8",
        lambda: DownUpResize(4)(_uint8()),
        ImageTypeError,
        r"x must be a floating-point tensor .*got dtype torch.uint8",
    ),
    (
        "pca_fit-iterable-nan",
        lambda: filters.pca_fit([(_nan(), _y(0, 1, 0, 1))], 2),
        ValueError,
        r"data batch must be finite",
    ),
    (
        "pca_fit-iterable-0..255",
        lambda: filters.pca_fit([_x() * 255], 2),
        ValueError,
        r"data batch must hold images in \[0, 1\]",
    ),
    ("pca_fit-tensor-nan", lambda: filters.pca_fit(_nan(), 2), ValueError, r"data must be finite"),
    (
        "pca_fit-num_components",
        lambda: filters.pca_fit(_x(), 0),
        ValueError,
        r"num_components must be an int >= 1, got 0",
    ),
    (
        "pca_project-nan",
        lambda: filters.pca_project(_nan(2), torch.eye(192)[:3]),
        ValueError,
        r"x must be finite",
    ),
    (
        "pca_project-0..255",
        lambda: filters.pca_project(_x(2) * 255, torch.eye(192)[:3]),
        ValueError,
        r"x must hold images in \[0, 1\]",
    ),
    (
        "pca_project-components-1d",
        lambda: filters.pca_project(_x(2), torch.ones(192)),
        ValueError,
        r"components must have shape \(K, D\), got \(192,\)",
    ),
    (
        "pca_project-mean-shape",
        lambda: filters.pca_project(_x(2), torch.eye(192)[:3], torch.zeros(5)),
        ValueError,
        r"mean must have shape \(192,\).*got \(5,\)",
    ),
    (
        "separable_filter-even-kernel",
        lambda: filters.separable_filter(_x(1, 1, 16), torch.ones(4) / 4),
        ValueError,
        r"kernel1d must be a 1-D tensor of odd length, got shape \(4,\)",
    ),
    (
        "separable_filter-2d-kernel",
        lambda: filters.separable_filter(_x(1, 1, 16), torch.ones(3, 3) / 9),
        ValueError,
        r"kernel1d must be a 1-D tensor of odd length, got shape \(3, 3\)",
    ),
    (
        "separable_filter-int-kernel",
        lambda: filters.separable_filter(_x(1), torch.tensor([1, 2, 1])),
        TypeError,
        r"kernel1d must be a floating-point tensor, got dtype torch.int64",
    ),
    (
        "separable_filter-x-3d",
        lambda: filters.separable_filter(_x(1)[0], torch.ones(3) / 3),
        ValueError,
        r"x must have shape \(B, C, H, W\), got \(3, 8, 8\)",
    ),
    (
        "separable_filter-padding",
        lambda: filters.separable_filter(_x(1), torch.ones(3) / 3, "wrap"),
        ValueError,
        r"padding must be one of \['circular', 'reflect', 'zeros'\], got 'wrap'",
    ),
    ("gaussian_blur-nan", lambda: filters.gaussian_blur(_nan(), 1.0), ValueError, r"x must be finite"),
    (
        "gaussian_kernel1d-sigma",
        lambda: filters.gaussian_kernel1d(-1.0),
        ValueError,
        r"sigma must be in \(0.0, 64.0\], got -1.0",
    ),
    (
        "GaussianBlur-padding",
        lambda: GaussianBlur(1.0, padding="edge"),
        ValueError,
        r"padding must be one of",
    ),
    ("IdealFilter-cutoff", lambda: IdealFilter(cutoff=1.0), ValueError, r"cutoff must be in \[0.0, 0.707"),
    (
        "FourierMask-per_channel-1ch",
        lambda: FourierMask((8, 8), per_channel=True)(_x(2, 1)),
        ValueError,
        r"x must have 3 channels .*got shape \(2, 1, 8, 8\)",
    ),
    (
        "FourierMask-init",
        lambda: FourierMask((8, 8), init=2.0),
        ValueError,
        r"init must be in \[0.0, 1.0\], got 2.0",
    ),
    (
        "PCAProjection-num_components",
        lambda: PCAProjection(49, (3, 4, 4)),
        ValueError,
        r"num_components must be in \[1, C\*H\*W = 48\], got 49",
    ),
    # ---- backbones -----------------------------------------------------------------------------------------
    (
        "Normalize-1ch",
        lambda: Normalize()(_x(2, 1)),
        ValueError,
        r"x must have 3 channels .*got shape \(2, 1, 8, 8\)",
    ),
    ("Normalize-uint8", lambda: Normalize()(_uint8()), ImageTypeError, r"x must be a floating-point tensor"),
    (
        "Normalize-std",
        lambda: Normalize((0.5,), (0.0,)),
        ValueError,
        r"std must be > 0 in every channel, got \[0.0\]",
    ),
    (
        "SimpleCNN-in_channels",
        lambda: SimpleCNN(in_channels=1),
        ValueError,
        r"mean must have in_channels=1 entries, got 3",
    ),
    # ---- analyses ------------------------------------------------------------------------------------------
    (
        "hybrid_counts-y_low>=K",
        lambda: hybrid_counts(_model(), _x(2), _x(2), _y(5, 6), _y(0, 1), [0.0, 0.5]),
        ValueError,
        r"y_low must be class indices in \[0, 4\) .*got values in \[5, 6\]",
    ),
    (
        "hybrid_counts-y_high>=K",
        lambda: hybrid_counts(_model(), _x(2), _x(2), _y(0, 1), _y(2, 4), [0.0, 0.5]),
        ValueError,
        r"y_high must be class indices in \[0, 4\) .*got values in \[2, 4\]",
    ),
    (
        "hybrid_counts-float-labels",
        lambda: hybrid_counts(_model(), _x(2), _x(2), torch.tensor([0.0, 1.0]), _y(2, 3), [0.0, 0.5]),
        TypeError,
        r"y_low must be an integer tensor of class indices, got dtype torch.float32",
    ),
    (
        "hybrid_curve-labels>=K",
        lambda: hybrid_curve(_model(), _x(), _y(4, 5, 4, 5), f_mix_nyquist=[0.0, 0.5]),
        ValueError,
        r"labels must be class indices in \[0, 4\) .*got values in \[4, 5\]",
    ),
    (
        "hybrid_curve-float-labels",
        lambda: hybrid_curve(_model(), _x(), torch.tensor([0.0, 1, 0, 1])),
        ValueError,
        r"labels must be a 1-D integer tensor",
    ),
    (
        "hybrid_curve-one-class",
        lambda: hybrid_curve(_model(), _x(), _y(1, 1, 1, 1)),
        ValueError,
        r"labels must contain at least 2 classes",
    ),
    (
        "hybrid_curve-range",
        lambda: hybrid_curve(_model(), _x() * 2, _y(0, 1, 0, 1)),
        ValueError,
        r"images must hold images in \[0, 1\]",
    ),
    ("check_f_mix-order", lambda: check_f_mix([0.5, 0.1]), ValueError, r"f_mix_nyquist must be strictly increasing"),
    (
        "component_accuracy-labels>=K",
        lambda: component_accuracy(_model(), _x(), _y(0, 1, 2, 7), radii_bins=[2.0]),
        ValueError,
        r"labels must be class indices in \[0, 4\) .*got values in \[0, 7\]",
    ),
    (
        "component_accuracy-negative",
        lambda: component_accuracy(_model(), _x(), _y(0, 1, 2, -100), radii_bins=[2.0]),
        ValueError,
        r"labels must be class indices (>= 0|in \[0, 4\)).*got values in \[-100, 2\]",
    ),
    (
        "component_accuracy-float-labels",
        lambda: component_accuracy(_model(), _x(), torch.tensor([0.0, 1, 2, 3]), radii_bins=[2.0]),
        TypeError,
        r"labels must be an integer tensor of class indices, got dtype torch.float32",
    ),
    (
        "component_accuracy-radii",
        lambda: component_accuracy(_model(), _x(), _y(0, 1, 2, 3), radii_bins=[-1.0]),
        ValueError,
        r"radii_bins must be in \(0.0, inf\], got -1.0",
    ),
    (
        "frequency_components-square",
        lambda: frequency_components(torch.rand(1, 3, 8, 4), 2.0),
        ValueError,
        r"x must hold square images",
    ),
    (
        "cue_conflict-y_shape>=K",
        lambda: cue_conflict_decisions(_model(), _x(2), _y(9, 1), _y(0, 2)),
        ValueError,
        r"y_shape must be class indices in \[0, 4\) .*got values in \[1, 9\]",
    ),
    (
        "cue_conflict-float-labels",
        lambda: cue_conflict_decisions(_model(), _x(2), _y(0, 1), torch.tensor([2.0, 3.0])),
        TypeError,
        r"y_texture must be an integer tensor of class indices, got dtype torch.float32",
    ),
    (
        "error_consistency-probabilities",
        lambda: error_consistency(np.array([0.9, 0.2]), np.array([0.8, 0.1])),
        TypeError,
        r"correct_a must hold booleans .*got dtype float64",
    ),
    (
        "error_consistency-class-indices",
        lambda: error_consistency([3, 0, 7], [3, 1, 7]),
        ValueError,
        r"correct_a must hold booleans .*got integer values \[0, 3, 7\]",
    ),
    (
        "error_consistency-nan",
        lambda: error_consistency([True, False], [float("nan"), 1.0]),
        TypeError,
        r"correct_b must hold booleans .*got dtype float64",
    ),
    (
        "error_consistency-strings",
        lambda: error_consistency(["False", "True"], ["False", "True"]),
        TypeError,
        r"correct_a must hold booleans .*got dtype <U5",
    ),
    (
        "error_consistency-float-tensor",
        lambda: error_consistency(torch.rand(3), torch.rand(3)),
        TypeError,
        r"correct_a must hold booleans .*got dtype float32",
    ),
    (
        "shape_bias-unknown-response",
        lambda: _cue(["Cat", "dog", "foo", "bird"]),
        ValueError,
        r"object_response must hold class names of CLASSES_16 or 'na', got \['Cat', 'foo'\]",
    ),
    (
        "imagenet_to_16-shape",
        lambda: imagenet_to_16(torch.zeros(2, 10)),
        ValueError,
        r"logits must have shape \(B, 1000\), got \(2, 10\)",
    ),
    # ---- data ----------------------------------------------------------------------------------------------
    (
        "TensorImageDataset-float-labels",
        lambda: TensorImageDataset(_uint8(), torch.tensor([0.7, 1.2])),
        TypeError,
        r"labels must be an integer tensor of class indices, got dtype torch.float32",
    ),
    (
        "TensorImageDataset-bool-labels",
        lambda: TensorImageDataset(_uint8(), torch.tensor([True, False])),
        TypeError,
        r"labels must be an integer tensor of class indices, got dtype torch.bool",
    ),
    (
        "TensorImageDataset-negative",
        lambda: TensorImageDataset(_uint8(), _y(0, -100)),
        ValueError,
        r"labels must be class indices >= 0, got values in \[-100, 0\]",
    ),
    (
        "TensorImageDataset-num_classes",
        lambda: TensorImageDataset(_uint8(), _y(0, 10), num_classes=10),
        ValueError,
        r"labels must be class indices in \[0, 10\), got values in \[0, 10\]",
    ),
    (
        "TensorImageDataset-length",
        lambda: TensorImageDataset(_uint8(), _y(0, 1, 2)),
        ValueError,
        r"labels must have shape \(2,\), got \(3,\)",
    ),
    (
        "CIFAR-npz-fewer-labels",
        lambda: _cifar(y_train=np.array([0, 1, 2])),
        ValueError,
        r"y_train in npz_path must have one label per image, shape \(4,\), got \(3,\)",
    ),
    (
        "CIFAR-npz-float-labels",
        lambda: _cifar(y_train=np.array([0.0, 1.5, 2.0, 3.0])),
        TypeError,
        r"y_train in npz_path must hold integer class indices, got dtype float64",
    ),
    (
        "CIFAR-npz-labels>=10",
        lambda: _cifar(y_test=np.array([0, 10])),
        ValueError,
        r"y_test in npz_path must be class indices in \[0, 10\), got values in \[0, 10\]",
    ),
    (
        "CIFAR-npz-x-float",
        lambda: _cifar(x_train=np.zeros((4, 32, 32, 3), np.float32)),
        ValueError,
        r"x_train in npz_path must be uint8 \(N, H, W, 3\), got float32",
    ),
    (
        "CIFAR-val_fraction",
        lambda: CIFAR10DataModule(val_fraction=0.9),
        ValueError,
        r"val_fraction must be in \[0.0, 0.5\], got 0.9",
    ),
    (
        "random_crop_flip-padding",
        lambda: random_crop_flip(_x(), 8),
        ValueError,
        r"padding must be in \[0, 7\]",
    ),
    # ---- callbacks: checked in __init__, not at the end of fit ---------------------------------------------
    (
        "HybridCurveAnalysis-num_images=1",
        lambda: HybridCurveAnalysis(num_images=1),
        ValueError,
        r"num_images must be an int >= 2, got 1",
    ),
    (
        "HybridCurveAnalysis-split",
        lambda: HybridCurveAnalysis(split="train"),
        ValueError,
        r"split must be one of \['val', 'test'\], got 'train'",
    ),
    (
        "FrequencyComponentAnalysis-rescale",
        lambda: FrequencyComponentAnalysis(rescale="no"),
        TypeError,
        r"rescale must be a bool, got str",
    ),
    (
        "FrequencyComponentAnalysis-every_n_epochs",
        lambda: FrequencyComponentAnalysis(every_n_epochs=-1),
        ValueError,
        r"every_n_epochs must be an int >= 0, got -1",
    ),
    (
        "ModelVsHumanAnalysis-datasets-str",
        lambda: ModelVsHumanAnalysis(datasets="edge"),
        TypeError,
        r"datasets must be a list of dataset names or None, got str",
    ),
    (
        "ModelVsHumanAnalysis-datasets-empty",
        lambda: ModelVsHumanAnalysis(datasets=[]),
        ValueError,
        r"datasets must name at least one dataset .*got \[\]",
    ),
    (
        "ModelVsHumanAnalysis-model_name",
        lambda: ModelVsHumanAnalysis(model_name=3),
        TypeError,
        r"model_name must be a str, got int",
    ),
    (
        "ModelVsHumanAnalysis-exclude",
        lambda: ModelVsHumanAnalysis(exclude="no"),
        TypeError,
        r"exclude must be a bool, got str",
    ),
    (
        "CueConflictAnalysis-batch_size",
        lambda: CueConflictAnalysis(batch_size=0),
        ValueError,
        r"batch_size must be an int >= 1, got 0",
    ),
]


SILENT_BEFORE = frozenset(
    {
        "down_up_resize-uint8",
        "down_up_resize-0..255",
        "down_up_resize-nan",
        "pca_fit-iterable-nan",
        "pca_fit-iterable-0..255",
        "pca_project-nan",
        "pca_project-0..255",
        "separable_filter-even-kernel",
        "separable_filter-2d-kernel",
        "separable_filter-int-kernel",
        "FourierMask-per_channel-1ch",
        "Normalize-1ch",
        "Normalize-uint8",
        "SimpleCNN-in_channels",
        "hybrid_counts-y_low>=K",
        "hybrid_counts-y_high>=K",
        "hybrid_counts-float-labels",
        "hybrid_curve-labels>=K",
        "component_accuracy-labels>=K",
        "component_accuracy-negative",
        "component_accuracy-float-labels",
        "cue_conflict-y_shape>=K",
        "cue_conflict-float-labels",
        "error_consistency-probabilities",
        "error_consistency-class-indices",
        "error_consistency-nan",
        "error_consistency-strings",
        "error_consistency-float-tensor",
        "shape_bias-unknown-response",
        "TensorImageDataset-float-labels",
        "TensorImageDataset-bool-labels",
        "TensorImageDataset-negative",
        "CIFAR-npz-fewer-labels",
        "CIFAR-npz-float-labels",
        "CIFAR-npz-labels>=10",
        "HybridCurveAnalysis-num_images=1",
        "FrequencyComponentAnalysis-rescale",
        "ModelVsHumanAnalysis-datasets-empty",
        "ModelVsHumanAnalysis-exclude",
    }
)
UNCLEAR_BEFORE = frozenset(
    {
        "pca_project-components-1d",
        "pca_project-mean-shape",
        "separable_filter-x-3d",
        "TensorImageDataset-num_classes",
        "ModelVsHumanAnalysis-datasets-str",
        "ModelVsHumanAnalysis-model_name",
    }
)


@pytest.mark.parametrize(
    ("call", "error", "pattern"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS]
)
def test_bad_input_raises_naming_the_parameter(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_table_ids_are_unique():
    ids = [row[0] for row in ROWS]
    assert len(ids) == len(set(ids))
    assert set(ids) >= (SILENT_BEFORE | UNCLEAR_BEFORE)


def test_documented_degenerate_cases_stay_nan():
    # no decision picked the shape or the texture class (knife is one of the 16 classes): NaN, not an error
    assert np.isnan(_cue(["knife", "knife", "knife", "bird"]))
    # a human "na" answer is a valid response (counted as neither shape nor texture)
    assert _cue(["cat", "na", "car", "bird"]) == 1.0
    # integer 0/1 correctness is accepted as well as bools
    assert error_consistency([1, 1, 1, 0], [1, 1, 0, 0]) == pytest.approx(0.5)
