"""Batched augmentation ops (crop, flip, colour jitter) and ComponentTransform, against independent oracles."""

from __future__ import annotations

import math

import pytest
import torch

from lowfreq.data import ComponentTransform, color_jitter, random_crop_flip
from lowfreq.data.transforms import apply_color_jitter, color_jitter_factors, crop_flip, crop_flip_params
from lowfreq.spectral import split_frequencies


def test_random_crop_flip_is_a_shifted_crop():
    x = torch.rand(16, 3, 12, 12, dtype=torch.float64)
    out = random_crop_flip(x, 4, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    assert out.dtype == x.dtype
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4), mode="reflect")
    for i in range(16):  # every output is some 12 x 12 window of the padded image, possibly mirrored
        windows = padded[i].unfold(1, 12, 1).unfold(2, 12, 1)  # (C, 9, 9, 12, 12)
        hits = [
            (windows[:, a, b] == o).all()
            for o in (out[i], out[i].flip(-1))
            for a in range(9)
            for b in range(9)
        ]
        assert any(hits)
    assert not torch.equal(out, x)
    assert torch.equal(
        random_crop_flip(x, 0, generator=torch.Generator().manual_seed(1)).flip(-1).flip(-1),
        random_crop_flip(x, 0, generator=torch.Generator().manual_seed(1)),
    )


def test_color_jitter_range_and_identity():
    x = torch.rand(8, 3, 10, 10)
    assert torch.equal(color_jitter(x, 0.0), x)
    out = color_jitter(x, 0.4, generator=torch.Generator().manual_seed(0))
    assert (
        out.shape == x.shape
    )
    assert (
        float(out.min()) >= 0
    )
    assert (
        float(out.max()) <= 1
    )
    assert (
        not torch.equal(out, x)
    )
    with pytest.raises(ValueError, match="strength must be in"):
        color_jitter(x, -0.1)



@pytest.mark.parametrize("padding", [0, 1, 4])
def test_crop_flip_matches_pad_slice_mirror(padding, reference_crop_flip):
    x = torch.rand(12, 3, 9, 11, dtype=torch.float64)
    g = torch.Generator().manual_seed(padding)
    oy = torch.randint(0, 2 * padding + 1, (12,), generator=g)
    ox = torch.randint(0, 2 * padding + 1, (12,), generator=g)
    flip = torch.rand(12, generator=g) < 0.5
    assert torch.equal(crop_flip(x, oy, ox, flip, padding), reference_crop_flip(x, oy, ox, flip, padding))
    # random_crop_flip is crop_flip with its own draws, in this order
    g = torch.Generator().manual_seed(5)
    oy, ox = (torch.randint(0, 2 * padding + 1, (12,), generator=g) for _ in range(2)) if padding else (
        torch.zeros(12, dtype=torch.long), torch.zeros(12, dtype=torch.long))
    flip = torch.rand(12, generator=g) < 0.5
    expected = reference_crop_flip(x, oy, ox, flip, padding)
    assert torch.equal(random_crop_flip(x, padding, generator=torch.Generator().manual_seed(5)), expected)


def test_crop_flip_params_and_jitter_factors_draw_in_the_documented_order():
    g = torch.Generator().manual_seed(3)
    oy, ox = torch.randint(0, 7, (5,), generator=g), torch.randint(0, 7, (5,), generator=g)
    flip = torch.rand(5, generator=g) < 0.5
    factors = 0.6 + 0.8 * torch.rand(3, 5, generator=g)
    g = torch.Generator().manual_seed(3)
    drawn = crop_flip_params(5, 3, generator=g)
    assert all(torch.equal(a, b) for a, b in zip(drawn, (oy, ox, flip), strict=True))
    assert torch.equal(color_jitter_factors(5, 0.4, generator=g), factors)
    no_crop = crop_flip_params(4, 0, generator=torch.Generator().manual_seed(0))
    assert not no_crop[0].any()
    assert not no_crop[1].any()
    assert torch.equal(no_crop[2], torch.rand(4, generator=torch.Generator().manual_seed(0)) < 0.5)


def test_apply_color_jitter_unit_factors_are_identity_and_brightness_scales():
    x = torch.rand(4, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(apply_color_jitter(x, torch.ones(3, 4)), x)
    half = torch.tensor([[0.5] * 4, [1.0] * 4, [1.0] * 4])
    torch.testing.assert_close(apply_color_jitter(x, half), x * 0.5)


# ---- ComponentTransform ------------------------------------------------------------------------------------------
def _cosine(index: int, size: int = 32) -> torch.Tensor:
    """(1, 3, N, N) image 0.5 + 0.25 cos(2 pi index x / N): one horizontal frequency, |f| = index / N."""
    j = torch.arange(size, dtype=torch.float64)
    wave = 0.5 + 0.25 * torch.cos(2 * math.pi * index * j / size)
    return wave.expand(1, 3, size, size).clone()


@pytest.mark.parametrize("index", [3, 12])
def test_component_transform_cosine_oracle(index):
    """A cosine below the radius is all low-frequency; above it, all but the mean (DC) is high-frequency."""
    x, radius = _cosine(index), 8
    dc = torch.full_like(x, 0.5)
    low, high = ComponentTransform(radius, "low")(x), ComponentTransform(radius, "high")(x)
    expected_low = x if index < radius else dc
    torch.testing.assert_close(low, expected_low, atol=1e-12, rtol=0)
    torch.testing.assert_close(high, x - expected_low, atol=1e-12, rtol=0)


def test_component_transform_boundary_strict_by_default_inclusive_on_request():
    x = _cosine(4)  # exactly on the radius r = 4
    torch.testing.assert_close(ComponentTransform(4, "low")(x), torch.full_like(x, 0.5), atol=1e-12, rtol=0)
    torch.testing.assert_close(ComponentTransform(4, "low", inclusive=True)(x), x, atol=1e-12, rtol=0)


@pytest.mark.parametrize("inclusive", [False, True])
@pytest.mark.parametrize("component", ["low", "high"])
def test_component_transform_equals_split_frequencies(component, inclusive):
    x = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    low, high = split_frequencies(x, 5 / 16, inclusive=inclusive)
    expected = low if component == "low" else high
    transform = ComponentTransform(radius_bins=5, component=component, inclusive=inclusive)
    assert torch.equal(transform(x), expected)
    assert torch.equal(transform(x[1]), expected[1])  # a single (C, N, N) image: the dataset-transform form
    assert torch.equal(ComponentTransform(5, "original")(x), x)


def test_component_transform_rescale_by_max():
    x = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    out = ComponentTransform(4, "high", rescale=True)(x)
    high = split_frequencies(x, 4 / 16, inclusive=False)[1]
    peak = high.amax(dim=(1, 2, 3), keepdim=True)
    torch.testing.assert_close(out, high / peak)
    assert out.amax(dim=(1, 2, 3)).allclose(torch.ones(4))
    assert out.min() < 0
    zero = torch.zeros(2, 3, 16, 16)
    assert torch.equal(ComponentTransform(4, "original", rescale=True)(zero), zero)  # max <= 0: unchanged
    assert "component='high'" in repr(ComponentTransform(4, "high"))


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: ComponentTransform(0.0), ValueError, r"radius_bins must be in \(0.0, inf\], got 0.0"),
        (lambda: ComponentTransform(4, "middle"), ValueError, r"component must be one of \['low', 'high', 'origi"),
        (lambda: ComponentTransform(4)(torch.rand(1, 3, 16, 8)), ValueError, "square images"),
        (lambda: ComponentTransform(4)(torch.rand(3, 16)), ValueError, r"shape \(B, C, H, W\)"),
        (lambda: ComponentTransform(4)(torch.zeros(1, 3, 8, 8, dtype=torch.uint8)), TypeError, "floating-point"),
    ],
)
def test_component_transform_bad_inputs(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_lfc_recipe_builds_the_component_transform():
    import importlib
    from pathlib import Path

    import yaml

    recipe = yaml.safe_load((Path(__file__).parents[2] / "recipes" / "lfc_resnet18.yaml").read_text())
    spec = recipe["data"]["init_args"]["train_transform"]
    module, _, name = spec["class_path"].rpartition(".")
    transform = getattr(importlib.import_module(module), name)(**spec["init_args"])
    assert isinstance(transform, ComponentTransform)
    assert (transform.radius_bins, transform.component) == (8, "low")
