"""SyntheticShapesDataModule and the synthetic_shapes generator: determinism, labels, cue frequencies."""

from __future__ import annotations

import math
import time

import pytest
import torch

from lowfreq.core.seeding import seeded_generator
from lowfreq.data import (
    SHAPE_NAMES,
    TEXTURE_NAMES,
    SyntheticShapesDataModule,
    render_texture,
    synthetic_shapes,
    texture_frequencies,
)

SMALL = {"num_train": 200, "num_val": 50, "num_test": 100, "num_conflict": 100}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _power(x: torch.Tensor) -> torch.Tensor:
    """(..., H, W) -> |FFT|^2, ortho norm, DC at [0, 0]."""
    return torch.fft.fft2(x.double(), norm="ortho").abs().square()


def _fft_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Exact circular Gaussian blur: multiply the spectrum by exp(-2 pi^2 sigma^2 |f|^2)."""
    h, w = x.shape[-2:]
    fy, fx = torch.fft.fftfreq(h, dtype=torch.float64), torch.fft.fftfreq(w, dtype=torch.float64)
    transfer = torch.exp(-2 * math.pi**2 * sigma**2 * (fy[:, None] ** 2 + fx[None, :] ** 2))
    return torch.fft.ifft2(torch.fft.fft2(x.double()) * transfer).real


def _train_tensors(dm: SyntheticShapesDataModule) -> tuple[torch.Tensor, torch.Tensor]:
    dm.setup("fit")
    ds = dm._datasets["train"]  # TensorImageDataset: uint8 images, labels
    return ds.images, ds.labels


def test_deterministic_for_a_seed():
    a, b = SyntheticShapesDataModule(**SMALL, seed=3), SyntheticShapesDataModule(**SMALL, seed=3)
    xa, ya = _train_tensors(a)
    xb, yb = _train_tensors(b)
    assert torch.equal(xa, xb)
    assert torch.equal(ya, yb)
    ca, cb = a.cue_conflict_dataset(), b.cue_conflict_dataset()
    assert torch.equal(ca.images, cb.images)
    assert torch.equal(ca.y_texture, cb.y_texture)
    assert torch.equal(a.analysis_dataset("test")[7][0], b.analysis_dataset("test")[7][0])


def test_different_seeds_and_splits_differ():
    xa, _ = _train_tensors(SyntheticShapesDataModule(**SMALL, seed=0))
    xb, _ = _train_tensors(SyntheticShapesDataModule(**SMALL, seed=1))
    assert not torch.equal(xa, xb)
    dm = SyntheticShapesDataModule(**SMALL, seed=0)
    assert not torch.equal(dm.generate("val").x[:50], dm.generate("test").x[:50])


def test_each_split_is_its_own_seeded_stream():
    """Split k of seed s is synthetic_shapes drawn from seeded_generator(s, k): train 0, val 1, test 2, conflict 3."""
    dm = SyntheticShapesDataModule(**SMALL, image_size=16, texture_correlation=0.5, seed=3)
    for key, (split, num) in enumerate([("train", 200), ("val", 50), ("test", 100), ("conflict", 100)]):
        expected = synthetic_shapes(num, image_size=16, texture_correlation=0.5, conflict=split == "conflict",
                                    generator=seeded_generator(3, key))
        got = dm.generate(split)
        assert all(torch.equal(a, b) for a, b in zip(got, expected, strict=True)), split


def test_split_independent_of_other_split_sizes():
    small = SyntheticShapesDataModule(**SMALL, seed=0)
    big = SyntheticShapesDataModule(**{**SMALL, "num_train": 300}, seed=0)
    assert torch.equal(small.generate("test").x, big.generate("test").x)


def test_items_shapes_dtype_range():
    dm = SyntheticShapesDataModule(**SMALL, image_size=24, batch_size=16)
    assert dm.image_shape == (3, 24, 24)
    assert dm.num_classes == 10
    assert dm.class_names == SHAPE_NAMES
    x, y = dm.analysis_dataset("test")[0]
    assert x.shape == (3, 24, 24)
    assert x.dtype == torch.float32
    assert x.min() >= 0
    assert x.max() <= 1
    assert y.dtype == torch.int64
    assert y.ndim == 0
    xb, yb = next(iter(dm.train_dataloader()))
    assert (
        xb.shape == (16, 3, 24, 24)
    )
    assert (
        xb.dtype == torch.float32
    )
    assert (
        yb.shape == (16,)
    )
    assert (
        yb.dtype == torch.int64
    )
    assert xb.min() >= 0
    assert xb.max() <= 1
    x, ys, yt = dm.cue_conflict_dataset()[0]
    assert x.shape == (3, 24, 24)
    assert ys.dtype == yt.dtype == torch.int64
    assert len(dm.analysis_dataset("val")) == 50
    assert len(dm.cue_conflict_dataset()) == 100


def test_augmentation_only_on_train():
    dm = SyntheticShapesDataModule(**SMALL, seed=0)
    train, test = dm._split("train"), dm.analysis_dataset("test")
    assert train.augment
    assert not test.augment
    torch.manual_seed(0)
    draws = torch.stack([train[0][0] for _ in range(8)])
    assert not all(torch.equal(draws[0], d) for d in draws[1:])
    assert torch.equal(test[0][0], test[0][0])
    off = SyntheticShapesDataModule(**SMALL, seed=0, augment=False)
    assert torch.equal(off._split("train")[0][0], off._split("train")[0][0])


def test_labels_balanced():
    b = synthetic_shapes(1003, image_size=16, generator=_gen(0))
    counts = torch.bincount(b.y_shape, minlength=10)
    assert counts.min() >= 100
    assert counts.max() <= 101
    assert b.y_shape.dtype == b.y_texture.dtype == torch.int64


def test_cue_conflict_split_always_conflicts():
    dm = SyntheticShapesDataModule(**{**SMALL, "num_conflict": 2000}, image_size=16)
    ds = dm.cue_conflict_dataset()
    assert bool((ds.y_shape != ds.y_texture).all())
    # the texture is spread over the other nine classes, not a fixed permutation
    pairs = torch.zeros(10, 10)
    pairs.index_put_((ds.y_shape, ds.y_texture), torch.ones(len(ds)), accumulate=True)
    assert ((pairs > 0).sum(1) == 9).all()


def test_texture_correlation_one_zero_and_chance():
    assert torch.equal(*synthetic_shapes(500, image_size=16, texture_correlation=1.0, generator=_gen(0))[1:])
    b = synthetic_shapes(500, image_size=16, texture_correlation=0.0, generator=_gen(0))
    assert bool((b.y_shape != b.y_texture).all())  # 0 = never equal (anti-correlated, like cue conflict)
    # 1/K = 0.1 makes the texture independent of the shape: chi-square test of the 10 x 10 contingency table
    n = 10000
    b = synthetic_shapes(n, image_size=16, texture_correlation=0.1, generator=_gen(1))
    table = torch.zeros(10, 10, dtype=torch.float64)
    table.index_put_((b.y_shape, b.y_texture), torch.ones(n, dtype=torch.float64), accumulate=True)
    expected = table.sum(1, keepdim=True) * table.sum(0, keepdim=True) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    assert chi2 < 130  # df = 81; P(chi2 > 130) ~ 5e-4 under independence
    # while correlation 0.5 is clearly detected by the same statistic
    b = synthetic_shapes(n, image_size=16, texture_correlation=0.5, generator=_gen(1))
    assert float((b.y_shape == b.y_texture).double().mean()) == pytest.approx(0.5, abs=0.02)


def test_texture_frequencies_documented_bands():
    f = texture_frequencies(32)
    radial = f.norm(dim=-1)  # (K, 2)
    assert f.shape == (10, 2, 2)
    assert len(TEXTURE_NAMES) == 10
    assert ((radial[:5] - 0.30).abs() < 0.02).all()
    assert ((radial[5:] - 0.43).abs() < 0.02).all()
    assert (f.abs() <= 0.5).all()
    assert torch.allclose(f * 32, (f * 32).round())  # on the FFT grid: periodic over the image


@pytest.mark.parametrize("k", range(10))
def test_texture_power_at_documented_frequency_and_removed_by_blur(k):
    s = 32
    tex = render_texture(torch.full((4,), k), s, 0.1, generator=_gen(k))[:, 0]  # (4, H, W)
    assert float(tex.mean().abs()) < 1e-5
    power = _power(tex)
    total = power.sum()
    assert float(total / (4 * s * s)) == pytest.approx(0.1**2 / 2, rel=1e-4)  # amplitude**2 / 2 per pixel
    # all power sits in the bins +-(fy, fx) of the class's gratings
    mask = torch.zeros(s, s, dtype=torch.bool)
    for fy, fx in texture_frequencies(s)[k].tolist():
        for sgn in (1, -1):
            mask[round(sgn * fy * s) % s, round(sgn * fx * s) % s] = True
    assert float(power[:, mask].sum() / total) > 0.9999
    # sigma = 1.5 px Gaussian blur removes > 99 % of it (> 99.9 % in fact)
    kept = _power(_fft_blur(tex, 1.5)).sum() / total
    assert float(kept) < 1e-3


def test_texture_flip_invariant_class():
    """Horizontal flips (train augmentation) keep the texture's frequency support, hence its class."""
    tex = render_texture(torch.arange(10), 32, 1.0, generator=_gen(0))[:, 0]
    p, pf = _power(tex), _power(tex.flip(-1))
    support, support_f = p > 1e-6 * p.amax((1, 2), keepdim=True), pf > 1e-6 * pf.amax((1, 2), keepdim=True)
    # flipping x maps (fy, fx) -> (fy, -fx): the support of every class is closed under that map
    assert support.sum() > 0
    assert torch.equal(support, support_f)
    # whereas a single oblique grating would change class under the flip
    j = torch.arange(32, dtype=torch.float64)
    oblique = torch.cos(2 * math.pi * (8 * j[:, None] + 4 * j[None, :]) / 32)
    assert not torch.equal(_power(oblique) > 1e-6, _power(oblique.flip(-1)) > 1e-6)


def test_image_texture_is_high_frequency_and_shape_survives_blur():
    n, sigma = 200, 1.5
    with_tex = synthetic_shapes(n, texture_amplitude=0.1, generator=_gen(5))
    without = synthetic_shapes(n, texture_amplitude=0.0, generator=_gen(5))
    assert torch.equal(with_tex.y_shape, without.y_shape)
    cue = with_tex.x - without.x  # the texture (up to clamping at 0 and 1)
    assert float(_power(_fft_blur(cue, sigma)).sum() / _power(cue).sum()) < 0.01
    # the shape (and the background) lives at low frequencies: blur keeps most of its (zero-mean) power
    x0 = without.x - without.x.mean((-2, -1), keepdim=True)
    kept = float(_power(_fft_blur(x0, sigma)).sum() / _power(x0).sum())
    assert kept > 0.6


def test_shape_power_below_documented_frequency():
    """Changing only shape_contrast changes only the shape's colour: the difference is the shape layer."""
    a = synthetic_shapes(300, texture_amplitude=0.0, shape_contrast=0.3, generator=_gen(2))
    b = synthetic_shapes(300, texture_amplitude=0.0, shape_contrast=0.2, generator=_gen(2))
    shape = a.x - b.x
    shape = shape - shape.mean((-2, -1), keepdim=True)
    power = _power(shape).sum((0, 1))
    f = torch.fft.fftfreq(32, dtype=torch.float64)
    radial = (f[:, None] ** 2 + f[None, :] ** 2).sqrt()
    assert float(power[radial < 0.1].sum() / power.sum()) > 0.75  # documented: ~80 % below 0.1 cycles/pixel
    assert float(power[radial < 0.16].sum() / power.sum()) > 0.85  # ~90 % below 0.16


def test_generation_fast():
    synthetic_shapes(100, generator=_gen(0))  # warm-up
    t = time.perf_counter()
    synthetic_shapes(2000, generator=_gen(0))
    assert time.perf_counter() - t < 5.0  # ~0.1 s on 2 idle cores; generous for busy shared machines


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"texture_correlation": 1.5}, r"texture_correlation must be in \[0.0, 1.0\], got 1.5"),
        ({"texture_correlation": -0.1}, "texture_correlation must be in"),
        ({"texture_amplitude": 0.8}, r"texture_amplitude must be in \[0.0, 0.5\], got 0.8"),
        ({"shape_contrast": 0.0}, r"shape_contrast must be in \(0.0, 0.5\], got 0.0"),
        ({"num_train": 0}, "num_train must be an int >= 10, got 0"),
        ({"num_conflict": 5}, "num_conflict must be an int >= 10"),
        ({"image_size": 8}, "image_size must be an int >= 16, got 8"),
        ({"num_distractors": -1}, "num_distractors must be an int >= 0"),
        ({"batch_size": 0}, "batch_size must be an int >= 1, got 0"),
        ({"num_workers": -1}, "num_workers must be an int >= 0"),
        ({"seed": -1}, "seed must be an int >= 0"),
    ],
)
def test_bad_params_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SyntheticShapesDataModule(**kwargs)


def test_bad_param_types_and_splits_raise():
    with pytest.raises(TypeError, match="num_train"):
        SyntheticShapesDataModule(num_train=100.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="augment"):
        SyntheticShapesDataModule(augment="yes")  # type: ignore[arg-type]
    dm = SyntheticShapesDataModule(**SMALL)
    with pytest.raises(ValueError, match=r"split must be one of \['train', 'val', 'test'\], got 'conflict'"):
        dm.analysis_dataset("conflict")  # type: ignore[arg-type]
    train = dm.analysis_dataset("train")  # the training images without augmentation
    assert torch.equal(train[3][0], train[3][0])
    assert not train.augment
    with pytest.raises(ValueError, match="split must be one of"):
        dm.generate("bogus")


def test_nothing_generated_in_init():
    dm = SyntheticShapesDataModule()
    assert dm._datasets is None
    assert dm._conflict is None
