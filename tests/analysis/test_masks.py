"""P004's learned Fourier masks: the mask layer, fitting on a classifier that reads known frequencies, energies of
masks with known geometry (brute-force counting as the oracle), batched vs one-at-a-time single-image masks."""

from __future__ import annotations

import io
import math

import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from lowfreq import spectral
from lowfreq.analysis.masks import (
    angular_energy,
    apply_masks,
    complementary_mask,
    filtered_accuracy,
    fit_fourier_masks,
    linear_separability,
    mask_differences,
    radial_energy,
    symmetrised_mask,
)
from lowfreq.plotting.masks import plot_filtered_images, plot_fourier_mask, plot_mask_energies, plot_mask_energy

SIZE = 16
# (row, col) FFT bins that class k's detector reads (and their mirror bins -k mod N)
READ_BINS = [(0, 3), (4, 0)]


class RingReader(nn.Module):
    """Reads only the Fourier coefficients at READ_BINS (and their mirrors): logit_k = 0.05 |X(bin_k)|²."""

    def __init__(self) -> None:
        super().__init__()
        n = torch.arange(SIZE, dtype=torch.float64)
        waves = [torch.exp(-2j * math.pi * (r * n[:, None] + c * n[None, :]) / SIZE) for r, c in READ_BINS]
        self.register_buffer("waves", torch.stack(waves))  # (K, H, W) complex
        self.scale = nn.Parameter(torch.tensor(0.05, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        coeff = torch.einsum("bhw,khw->bk", x.double().mean(1).to(torch.complex128), self.waves)
        return self.scale * coeff.abs().square()


def _grating_data(n: int = 120, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Grayscale images: class k is a grating at READ_BINS[k] (random phase) plus noise, in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % len(READ_BINS)
    rows, cols = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    phase = 2 * math.pi * torch.rand(n, generator=g)
    freq = torch.tensor(READ_BINS, dtype=torch.float64)[y] / SIZE
    arg = 2 * math.pi * (freq[:, 0, None, None] * rows + freq[:, 1, None, None] * cols) + phase[:, None, None]
    x = 0.5 + 0.3 * torch.cos(arg) + 0.05 * torch.randn(n, SIZE, SIZE, generator=g, dtype=torch.float64)
    return x.clamp(0, 1)[:, None].float(), y


def _read_bin_mask() -> torch.Tensor:
    keep = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    for r, c in READ_BINS:
        keep[r, c] = keep[(-r) % SIZE, (-c) % SIZE] = True
    return keep


# ---- the mask layer ------------------------------------------------------------------------------------------------


def test_mask_layer_against_spectral_oracles():
    x = torch.rand(3, 2, SIZE, SIZE, dtype=torch.float64)
    torch.testing.assert_close(apply_masks(x, torch.ones(SIZE, SIZE)), x)
    disc = (spectral.radial_frequency(SIZE, SIZE) <= 0.2).double()  # ideal low-pass on the unshifted grid
    torch.testing.assert_close(apply_masks(x, disc), spectral.ideal_lowpass(x, 0.2, inclusive=True))
    m = torch.rand(SIZE, SIZE, dtype=torch.float64)
    torch.testing.assert_close(apply_masks(x, m), apply_masks(x, symmetrised_mask(m)))  # real part = symmetrised
    per_image = torch.rand(3, SIZE, SIZE, dtype=torch.float64)
    torch.testing.assert_close(apply_masks(x, per_image)[1], apply_masks(x[1:2], per_image[1])[0])
    sym = symmetrised_mask(m)
    assert torch.equal(sym, sym[(-torch.arange(SIZE)) % SIZE][:, (-torch.arange(SIZE)) % SIZE])


def test_complement_and_differences():
    m = torch.tensor([[0.0, 1e-9, 0.5], [1.0, 0.0, 0.2]])
    assert torch.equal(complementary_mask(m), torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0]]))
    diff, display = mask_differences(torch.stack([m, 1 - m]), m)
    torch.testing.assert_close(diff[1], 1 - 2 * m)
    assert float(display.min()) == -0.5
    assert float(display.max()) == 0.5


# ---- fitting ------------------------------------------------------------------------------------------------------


def test_dataset_mask_keeps_the_read_frequencies_and_drops_the_rest():
    x, y = _grating_data()
    model = RingReader()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = fit_fourier_masks(model, x, y, scope="dataset", max_steps=600, batch_size=60, seed=0)
    mask = result.masks[0]
    assert result.masks.shape == (1, SIZE, SIZE)
    assert float(mask.min()) >= 0.0
    assert float(mask.max()) <= 1.0
    energy = mask.square()
    assert float(energy[_read_bin_mask()].sum() / energy.sum()) > 0.9
    assert float(mask[~_read_bin_mask()].max()) < 0.05  # everything the model does not read is switched off
    assert result.accuracy == 1.0
    assert result.masked_accuracy >= result.accuracy - 0.02
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # frozen: bit-identical
    assert model.scale.requires_grad
    assert model.training
    assert result.l1_history[-1] < 0.1
    assert len(result.loss_history) == result.num_steps


def test_class_masks_and_model_predictions_as_labels():
    x, y = _grating_data(n=60)
    result = fit_fourier_masks(RingReader(), x, scope="class", max_steps=300, batch_size=30)
    assert result.masks.shape == (2, SIZE, SIZE)
    assert torch.equal(result.keys, torch.arange(2))
    assert torch.equal(result.labels, y)
    assert result.accuracy == 1.0
    for k, (r, c) in enumerate(READ_BINS):  # each class's mask keeps only its own grating's bins
        own = torch.zeros(SIZE, SIZE, dtype=torch.bool)
        own[r, c] = own[(-r) % SIZE, (-c) % SIZE] = True
        energy = result.masks[k].square()
        assert float(energy[own].sum() / energy.sum()) > 0.9


def test_batched_single_image_masks_equal_one_at_a_time():
    x, y = _grating_data(n=6)
    model = RingReader()
    kwargs = {"scope": "image", "max_steps": 120, "patience": 1000, "lr": 0.02}
    batched = fit_fourier_masks(model, x, y, batch_size=4, **kwargs)
    assert batched.masks.shape == (6, SIZE, SIZE)
    assert torch.equal(batched.keys, torch.arange(6))
    for i in range(6):
        alone = fit_fourier_masks(model, x[i : i + 1], y[i : i + 1], **kwargs)
        torch.testing.assert_close(batched.masks[i], alone.masks[0], atol=1e-5, rtol=0)


def test_single_image_masks_stop_when_converged():
    x, y = _grating_data(n=4)
    result = fit_fourier_masks(RingReader(), x, y, scope="image", max_steps=3000, patience=30)
    assert bool(result.converged.all())
    assert result.num_steps < 3000
    assert result.agreement == 1.0


def test_bad_input():
    x, y = _grating_data(n=4)
    model = RingReader()
    with pytest.raises(ValueError, match=r"scope must be one of \['dataset', 'class', 'image'\], got 'pixel'"):
        fit_fourier_masks(model, x, y, scope="pixel")
    with pytest.raises(ValueError, match="lambda_l1 must be"):
        fit_fourier_masks(model, x, y, lambda_l1=-0.1)
    with pytest.raises(ValueError, match=r"images must hold images in \[0, 1\]"):
        fit_fourier_masks(model, x * 3, y)
    with pytest.raises(ValueError, match="labels"):
        fit_fourier_masks(model, x, y[:2])
    with pytest.raises(ValueError, match=r"masks must hold values in \[0, 1\]"):
        complementary_mask(torch.full((4, 4), 1.5))
    with pytest.raises(ValueError, match=r"masks must have shape \(H, W\) or \(B, H, W\)"):
        apply_masks(x, torch.ones(SIZE, SIZE + 1))
    with pytest.raises(ValueError, match="num_bands must be"):
        radial_energy(torch.ones(4, 4), num_bands=0)


def test_filtered_accuracy_of_the_read_bins_and_their_complement():
    x, y = _grating_data(n=40)
    keep = _read_bin_mask().float()
    acc = filtered_accuracy(RingReader(), x, y, keep)
    assert acc == {"clean": 1.0, "masked": 1.0, "complement": pytest.approx(acc["complement"])}
    assert acc["complement"] <= 0.6  # without the read bins the reader is at chance


# ---- energies: brute-force counting is the oracle -----------------------------------------------------------------


def _brute_force_bands(mask: torch.Tensor, num_bands: int, radial: bool) -> list[float]:
    """Loop over the pixels of the shifted mask: band membership by hand, energy = sqrt(sum of squares)."""
    shifted = torch.fft.fftshift(mask.double())
    shifted = shifted / shifted.square().sum().sqrt()
    n = mask.shape[0]
    sums = [0.0] * num_bands
    for i in range(n):
        for j in range(n):
            up, right = -(i - n // 2), j - n // 2
            if radial:  # the largest b with edge_b = b (n / 2) √2 / B <= ρ, in exact integers
                rho2 = up * up + right * right
                b = max(b for b in range(num_bands + 1) if b * b * n * n <= 2 * rho2 * num_bands**2)
                b = min(b, num_bands - 1)
            else:
                angle = math.atan2(up, right) % (2 * math.pi)
                b = min(int(angle / (2 * math.pi / num_bands)), num_bands - 1)
            sums[b] += float(shifted[i, j]) ** 2
    return [math.sqrt(s) for s in sums]


def test_radial_energy_of_an_ideal_low_pass_disc():
    n, bands = 32, 8
    disc = (spectral.radial_frequency(n, n) * n <= 6).float()  # index radius 6 on the unshifted grid
    energy, edges = radial_energy(disc, num_bands=bands)
    torch.testing.assert_close(energy, torch.tensor(_brute_force_bands(disc, bands, True), dtype=torch.float64))
    assert float(energy.square().sum()) == pytest.approx(1.0)
    assert edges[-1] == pytest.approx(16 * math.sqrt(2))
    inside = edges[1:] <= 6  # bands entirely inside the disc: energy² = share of the disc's bins in the band
    assert float(energy[~(edges[:-1] <= 6)].abs().max()) == 0.0
    assert bool(energy[inside].gt(0).all())


def test_angular_energy_of_a_wedge():
    n, bands = 32, 8
    shifted = torch.zeros(n, n)
    rows, cols = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    up, right = -(rows - n // 2), cols - n // 2
    shifted[(up > 0) & (right > 0)] = 1.0  # the open first quadrant: 0 to 90 degrees
    wedge = torch.fft.ifftshift(shifted)
    energy, edges = angular_energy(wedge, num_bands=bands)
    torch.testing.assert_close(energy, torch.tensor(_brute_force_bands(wedge, bands, False), dtype=torch.float64))
    assert float(energy[2:].abs().max()) == 0.0
    assert float(energy[:2].square().sum()) == pytest.approx(1.0)
    # 16 x 15 bins (up 1..16, right 1..15); below 45°: up < right, sum_{r=1}^{15} (r - 1) = 105 of 240 bins
    assert float(energy[0].square()) == pytest.approx(105 / 240)
    assert edges.tolist() == pytest.approx([45.0 * b for b in range(9)])


def test_energies_of_a_batch_equal_those_of_each_mask():
    masks = torch.rand(3, 16, 16)
    batch, _ = radial_energy(masks, num_bands=5)
    torch.testing.assert_close(batch[2], radial_energy(masks[2], num_bands=5)[0])


# ---- class specificity --------------------------------------------------------------------------------------------


def test_linear_separability_of_class_specific_masks():
    pytest.importorskip("sklearn")
    g = torch.Generator().manual_seed(0)
    prototypes = torch.rand(3, 8, 8, generator=g)
    labels = torch.arange(150) % 3
    masks = (prototypes[labels] + 0.3 * torch.randn(150, 8, 8, generator=g)).clamp(0, 1)
    out = linear_separability(masks, labels, seed=0)
    assert out["accuracy"] > 0.9
    assert out["shuffled_accuracy"] < 0.6
    assert 0.2 < out["chance"] < 0.6


def test_mask_figures():
    x, y = _grating_data(n=20)
    result = fit_fourier_masks(RingReader(), x, y, scope="class", max_steps=50, batch_size=20)
    fig, ax = plot_fourier_mask(result, index=1)
    assert isinstance(fig, Figure)
    assert "class mask 1" in ax.get_title()
    assert ax.get_xlim()[0] == pytest.approx(-0.5 - 0.5 / SIZE)  # cycles/pixel, DC in the centre
    fig, ax = plot_mask_energy(result, kind="radial", num_bands=8, label="class 0")
    line = ax.get_lines()[0]
    assert len(line.get_xdata()) == 8
    assert line.get_xdata()[-1] == pytest.approx((7.5 / 8) * math.sqrt(2) / 2)
    plot_mask_energy(result.masks[0], kind="angular", num_bands=8, ax=ax)
    fig.savefig(io.BytesIO(), format="png")
    fig, axes = plot_mask_energies(result, num_bands=8)
    assert len(axes) == 2
    assert "radial" in axes[0].get_xlabel()
    assert "orientation" in axes[1].get_xlabel()
    fig, grid = plot_filtered_images(x, result, index=0, num_images=4)
    assert grid.shape == (3, 4)
    assert [a.get_ylabel() for a in grid[:, 0]] == ["original", "masked", "complement"]
    fig.savefig(io.BytesIO(), format="png")
    with pytest.raises(ValueError, match="kind must be one of"):
        plot_mask_energy(result, kind="spiral")
    with pytest.raises(ValueError, match=r"index must be in \[0, 2\), got 5"):
        plot_fourier_mask(result, index=5)


def test_paper_code_schedule_stays_in_warm_up_for_single_images():
    x, y = _grating_data(n=2)
    result = fit_fourier_masks(RingReader(), x, y, scope="image", lr=0.2, lr_schedule="paper_code", max_steps=50,
                               patience=1000)
    # at lr ~ 0.2 / 25 = 0.008 a mask entry moves by at most ~0.008 per Adam step: 50 steps cannot empty it
    assert float(result.masks.min()) > 1.0 - 50 * 0.0095
    constant = fit_fourier_masks(RingReader(), x, y, scope="image", lr=0.2, max_steps=50, patience=1000)
    assert float(constant.masks.min()) == 0.0
    with pytest.raises(ValueError, match=r"lr_schedule must be one of \['constant', 'paper_code'\]"):
        fit_fourier_masks(RingReader(), x, y, lr_schedule="cosine")
