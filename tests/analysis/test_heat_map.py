"""The Fourier heat map (Yin et al. 2019) against a linear model's closed form and a public implementation's basis.

Oracles: (a) for a linear classifier without active clipping the logit change of a basis image is
``eps * W (r ⊙ U)``, computed here from its own cosines and the documented signs; (b) gatheluck/FourierHeatmap's
conventions (``fhmap/fourier/basis.py``: a one-hot half spectrum through ``irfftn``, L2-normalised;
``fhmap/fourier/heatmap.py``: the (H, H/2 + 1) error matrix, rows low-centred, mirrored about the origin into an
(H - 1) x (H - 1) map without the Nyquist row and column), re-implemented independently below; (c) the map is
symmetric under (fy, fx) -> (-fy, -fx); (d) the Metric equals the function in other batches
(1 vs 2 gloo processes and the edge cases: ``test_metrics_ddp.py``, ``test_metric_edge_cases.py``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from lowfreq.analysis import FourierHeatMapMetric, fourier_basis, fourier_heat_map, heat_map_frequencies
from lowfreq.analysis.heat_map import fourier_heat_map_counts, fourier_heat_map_from_counts, heat_map_signs
from lowfreq.core.seeding import seeded_generator


def _mirror(k: int, n: int) -> int:
    """Signed index of -k on an axis of n points, wrapped into [-(n // 2), (n - 1) // 2]."""
    return (n // 2 - k) % n - n // 2


def _pair_row(frequencies: Tensor, ky: int, kx: int, height: int, width: int) -> int:
    """Row of (ky, kx) or of its mirror in ``heat_map_frequencies``'s list."""
    rows = {tuple(f): i for i, f in enumerate(frequencies.tolist())}
    return rows.get((ky, kx), rows.get((_mirror(ky, height), _mirror(kx, width)), -1))


# ---- (a) a linear classifier: the closed form ----------------------------------------------------------------------


def test_linear_classifier_map_equals_its_closed_form():
    height, width, channels, eps, seed = 6, 5, 3, 0.3, 7  # non-square, one even and one odd axis
    g = torch.Generator().manual_seed(0)
    linear = nn.Linear(channels * height * width, 3).double()
    with torch.no_grad():
        linear.weight.copy_(torch.randn(3, channels * height * width, generator=g, dtype=torch.float64))
        linear.bias.copy_(-0.5 * linear.weight.sum(1))  # mid-grey scores 0: the perturbations decide
    model = nn.Sequential(nn.Flatten(), linear)
    x = 0.5 + 0.02 * (2 * torch.rand(8, channels, height, width, generator=g, dtype=torch.float64) - 1)
    with torch.no_grad():
        clean = model(x)
    y = clean.argmax(1)
    y[::3] = (y[::3] + 1) % 3  # some images start wrong
    indices = torch.tensor([3, 10, 11, 40, 7, 0, 5, 99])
    heat = fourier_heat_map(model, x, y, eps=eps, seed=seed, indices=indices, batch_size=7)

    frequencies = heat_map_frequencies(height, width)
    signs = [2 * torch.randint(0, 2, (len(frequencies), channels), generator=seeded_generator(seed, int(i)),
                               dtype=torch.int8) - 1 for i in indices]
    yy, xx = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    weight = linear.weight.detach().numpy().reshape(3, channels, height, width)
    expected = np.zeros((height, width))
    smallest_margin = math.inf
    for a in range(height):
        for b in range(width):
            ky, kx = a - height // 2, b - width // 2  # centred grid: row a is fy = ky / H, column b is fx = kx / W
            assert heat.fy[a] == pytest.approx(ky / height)
            assert heat.fx[b] == pytest.approx(kx / width)
            u = np.cos(2 * np.pi * (ky * yy / height + kx * xx / width))
            u /= np.linalg.norm(u)
            assert (0.5 + 0.02 + eps * np.abs(u)).max() < 1  # no clipping
            assert (0.5 - 0.02 - eps * np.abs(u)).min() > 0
            row = _pair_row(frequencies, ky, kx, height, width)
            wrong = 0
            for i in range(len(x)):
                r = signs[i][row].double().numpy()  # (C,)
                change = eps * np.einsum("kchw,c,hw->k", weight, r, u)
                logits = clean[i].numpy() + change
                top = np.sort(logits)
                smallest_margin = min(smallest_margin, top[-1] - top[-2])
                wrong += int(logits.argmax() != int(y[i]))
            expected[a, b] = wrong / len(x)
    assert smallest_margin > 1e-9  # no near-tie that rounding could flip
    assert torch.equal(heat.error, torch.from_numpy(expected))
    assert len(np.unique(expected)) >= 3  # the perturbations change decisions, differently per frequency
    assert heat.clean_error == pytest.approx(3 / 8)
    assert heat.num_images == 8


# ---- (b) gatheluck/FourierHeatmap's conventions, re-implemented ----------------------------------------------------


def _reference_basis(i: int, j: int, size: int) -> Tensor:
    """gatheluck/FourierHeatmap fhmap/fourier/basis.py: one-hot (i, j) of the (N, N // 2 + 1) half spectrum, through
    the inverse real FFT, divided by its L2 norm (re-implemented here, not copied)."""
    half = torch.zeros(size, size // 2 + 1, dtype=torch.float64)
    half[i, j] = 1.0
    plane = torch.fft.irfft2(half, s=(size, size))
    return plane / plane.norm()


def test_basis_is_the_public_implementations_unit_norm_cosine():
    size = 8
    frequencies = heat_map_frequencies(size, size)
    ours = fourier_basis(frequencies, size, size)
    assert len(frequencies) == (size * size + 4) / 2  # DC and the three Nyquist bins are their own mirrors
    assert torch.allclose(ours.flatten(1).norm(dim=1), torch.ones(len(frequencies), dtype=torch.float64))
    for (ky, kx), basis in zip(frequencies.tolist(), ours, strict=True):
        if kx % size > size // 2:  # the half spectrum holds the mirror: the same basis image
            ky, kx = _mirror(ky, size), _mirror(kx, size)
        reference = _reference_basis(ky % size, kx % size, size)
        torch.testing.assert_close(basis, reference, rtol=0, atol=1e-12)
    # U(-k) == U(k), and the basis of (ky, kx) varies along the rows with ky: rows are y
    torch.testing.assert_close(fourier_basis(torch.tensor([[1, 3]]), size, size),
                               fourier_basis(torch.tensor([[-1, -3]]), size, size), rtol=0, atol=1e-12)
    column = fourier_basis(torch.tensor([[1, 0]]), size, size)[0]
    assert torch.allclose(column[:, 0], column[:, 5])  # (ky=1, kx=0) is constant along x
    assert not torch.allclose(column[0], column[1])


class PowerDetector(nn.Module):
    """Logits (threshold, P(1, 3), 2 P(2, -1)): P = power of the channel sum at (ky, kx) about mid-grey.

    Whatever the signs r, a basis image at ±(ky, kx) adds ``eps (Σ r_c) U`` to the channel sum, |Σ r_c| >= 1 for
    three channels: it is detected; every other basis image is orthogonal to the detector's."""

    def __init__(self, size: int) -> None:
        super().__init__()
        grid = torch.arange(size, dtype=torch.float64)

        def wave(ky: int, kx: int, fn) -> Tensor:
            return fn(2 * math.pi * (ky * grid[:, None] + kx * grid[None, :]) / size)

        self.register_buffer("detectors", torch.stack([torch.stack([wave(1, 3, torch.cos), wave(1, 3, torch.sin)]),
                                                       torch.stack([wave(2, -1, torch.cos), wave(2, -1, torch.sin)])]))

    def forward(self, x: Tensor) -> Tensor:
        grey = (x.double() - 0.5).sum(dim=1)  # (B, H, W)
        power = torch.einsum("bhw,dphw->bdp", grey, self.detectors).square().sum(dim=2)  # (B, 2)
        return torch.cat([torch.full_like(power[:, :1], 0.05), power[:, :1], 2 * power[:, 1:]], dim=1)


def _reference_heat_map(model: nn.Module, x: Tensor, y: Tensor, eps: float, g: torch.Generator) -> Tensor:
    """gatheluck/FourierHeatmap fhmap/fourier/heatmap.py, re-implemented: the (N, N/2 + 1) error matrix with its rows
    low-centred (row i is ky = i - N/2), then the right half without the Nyquist row and column, mirrored about the
    origin: an (N - 1) x (N - 1) map, row r is ky = r - (N/2 - 1), column c is kx = c - (N/2 - 1)."""
    size = x.shape[-1]
    errors = torch.zeros(size, size // 2 + 1, dtype=torch.float64)
    for i in range(size):
        for j in range(size // 2 + 1):
            basis = eps * _reference_basis((i + size // 2) % size, j, size)  # low-centred rows
            r = 2 * torch.randint(0, 2, (len(x), x.shape[1], 1, 1), generator=g).double() - 1  # a sign per channel
            with torch.no_grad():
                errors[i, j] = (model((x + r * basis).clamp(0, 1)).argmax(1) != y).double().mean()
    right = errors[1:, :-1]
    left = torch.flip(right, (0, 1))
    return torch.cat([left[:, :-1], right], dim=1)


def test_map_layout_matches_the_public_implementations_assembly():
    size, eps = 8, 0.1
    model = PowerDetector(size)
    x, y = torch.full((3, 3, size, size), 0.5, dtype=torch.float64), torch.zeros(3, dtype=torch.long)
    heat = fourier_heat_map(model, x, y, eps=eps, seed=1, batch_size=16)
    reference = _reference_heat_map(model, x, y, eps, torch.Generator().manual_seed(5))
    torch.testing.assert_close(heat.error[1:, 1:], reference, rtol=0, atol=0)  # ours keeps the Nyquist row, column
    detected = {(round(float(heat.fy[a]) * size), round(float(heat.fx[b]) * size))
                for a, b in torch.nonzero(heat.error == 1).tolist()}
    assert detected == {(1, 3), (-1, -3), (2, -1), (-2, 1)}  # (fy, fx) pairs, not (fx, fy), nor (fy, -fx)
    assert float(heat.error.sum()) == 4
    assert heat.clean_error == 0


# ---- (c) symmetry, sub-grids, batching, radial profile -------------------------------------------------------------


def _cnn(height: int = 8, width: int = 8) -> nn.Module:
    """A small float64 CNN (4 classes) whose decisions the basis images change."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * height * width, 4)).double()


@pytest.mark.parametrize(("height", "width"), [(8, 8), (7, 9)])
def test_map_is_symmetric_and_sub_grids_batches_and_profile_agree(height, width):
    model = _cnn(height, width)
    g = torch.Generator().manual_seed(2)
    x = torch.rand(6, 3, height, width, generator=g, dtype=torch.float64)
    with torch.no_grad():
        y = model(x).argmax(1)
    heat = fourier_heat_map(model, x, y, eps=2.0, seed=3, batch_size=5)
    assert heat.error.shape == (height, width)
    assert not bool(heat.error.isnan().any())
    for a in range(height):
        for b in range(width):
            ma, mb = _mirror(a - height // 2, height) + height // 2, _mirror(b - width // 2, width) + width // 2
            assert heat.error[a, b] == heat.error[ma, mb]
    assert 0 < heat.mean_error < 1  # clipping active (eps = 2 on random images): decisions change
    torch.testing.assert_close(heat.error, fourier_heat_map(model, x, y, eps=2.0, seed=3, batch_size=64).error,
                               rtol=0, atol=0)
    # a sub-grid: the same errors where evaluated (the signs belong to the frequency), NaN elsewhere
    sub = fourier_heat_map(model, x, y, eps=2.0, seed=3, stride=2, max_frequency=0.25, batch_size=16)
    ky, kx = (torch.arange(height) - height // 2)[:, None], (torch.arange(width) - width // 2)[None, :]
    keep = (ky % 2 == 0) & (kx % 2 == 0) & (ky.abs() <= 0.25 * height) & (kx.abs() <= 0.25 * width)
    assert torch.equal(sub.error[keep], heat.error[keep])
    assert bool(sub.error[~keep].isnan().all())
    assert len(sub.frequencies) == len(heat_map_frequencies(height, width, stride=2, max_frequency=0.25))
    # the radial profile: mean over the rings round(N |f|) = k of the centred grid
    size = max(height, width)
    fy, fx = heat.fy[:, None], heat.fx[None, :]
    ring = torch.round(torch.sqrt(fy**2 + fx**2) * size).long()
    for k, value in enumerate(heat.radial_error.tolist()):
        assert value == pytest.approx(float(heat.error[ring == k].mean()))
        assert heat.radial_frequency[k] == pytest.approx(k / size)
    radius = torch.sqrt(fy**2 + fx**2)
    assert heat.low_error == pytest.approx(float(heat.error[radius <= 0.125].mean()))
    assert heat.high_error == pytest.approx(float(heat.error[radius > 0.25].mean()))
    # other seeds, other signs
    assert not torch.equal(fourier_heat_map(model, x, y, eps=2.0, seed=4).error, heat.error)


def test_signs_depend_on_seed_and_index_only():
    signs = heat_map_signs(0, torch.tensor([5, 2, 5]), 10, 3)
    assert signs.shape == (3, 10, 3)
    assert set(signs.unique().tolist()) == {-1, 1}
    assert torch.equal(signs[0], signs[2])
    assert not torch.equal(signs[0], signs[1])
    assert torch.equal(heat_map_signs(0, torch.tensor([2]), 10, 3)[0], signs[1])


def test_bad_inputs_name_the_parameter():
    model = _cnn()
    x, y = torch.rand(2, 3, 8, 8, dtype=torch.float64), torch.zeros(2, dtype=torch.long)
    with pytest.raises(ValueError, match=r"eps must be in \[0.0, inf\]"):
        fourier_heat_map(model, x, y, eps=-1.0)
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        fourier_heat_map(model, x, y, stride=0)
    with pytest.raises(ValueError, match=r"max_frequency must be in \[0.0, 0.5\]"):
        fourier_heat_map(model, x, y, max_frequency=0.7)
    with pytest.raises(ValueError, match="images must have shape"):
        fourier_heat_map(model, x[0], y)
    with pytest.raises(ValueError, match="images must hold images in"):
        fourier_heat_map(model, x + 2, y)
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\)"):
        fourier_heat_map(model, x, y[:1])
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 4\)"):
        fourier_heat_map(model, x, y + 7)
    with pytest.raises(ValueError, match=r"indices must be a \(2,\) integer tensor"):
        fourier_heat_map(model, x, y, indices=torch.arange(3))
    with pytest.raises(ValueError, match="frequencies must be an"):
        fourier_basis(torch.zeros(3, 2), 8, 8)
    with pytest.raises(ValueError, match=r"counts must have shape \(36,\)"):
        fourier_heat_map_from_counts(torch.zeros(5), 8)
    with pytest.raises(ValueError, match="image_size must be"):
        FourierHeatMapMetric(image_size=(8, 8, 3))  # type: ignore[arg-type]
    metric = FourierHeatMapMetric(image_size=16)
    with pytest.raises(ValueError, match=r"images must be 16x16 \(image_size\)"):
        metric.update(model, x, y, torch.arange(2))


# ---- (d) function == Metric, 1 vs 2 processes ----------------------------------------------------------------------


def _setup() -> tuple[nn.Module, Tensor, Tensor, Tensor]:
    model = _cnn(6, 6)
    g = torch.Generator().manual_seed(4)
    x = torch.rand(7, 3, 6, 6, generator=g, dtype=torch.float64)  # 7 images: shards of 4 and 3
    y = torch.randint(0, 4, (7,), generator=g)
    return model, x, y, torch.arange(7) * 5 + 1


def _sharded(rank: int, world: int) -> object:
    model, x, y, indices = _setup()
    metric = FourierHeatMapMetric(image_size=6, eps=1.5, seed=2, batch_size=9)
    shard = torch.arange(len(y))[rank::world]
    for pos in shard.split(2):
        metric.update(model, x[pos], y[pos], indices[pos])
    return metric.compute()


def _same(a, b) -> None:
    for name in ("error", "error_half", "radial_error", "frequencies"):
        ta, tb = getattr(a, name), getattr(b, name)
        assert torch.equal(ta.nan_to_num(-1), tb.nan_to_num(-1)), name
    for name in ("clean_error", "mean_error", "low_error", "high_error", "num_images", "eps"):
        assert getattr(a, name) == getattr(b, name), name


def test_metric_equals_function_in_other_batches():
    model, x, y, indices = _setup()
    expected = fourier_heat_map(model, x, y, eps=1.5, seed=2, indices=indices, batch_size=64)
    _same(_sharded(0, 1), expected)
    counts = fourier_heat_map_counts(model, x, y, eps=1.5, seed=2, indices=indices)
    _same(fourier_heat_map_from_counts(counts, 6, eps=1.5), expected)

    # 1 vs 2 processes (gloo): tests/analysis/test_metrics_ddp.py runs FourierHeatMapMetric in its shared pool
