"""Figures a researcher can show: legends name the run, every rate shows its n, axes agree with their labels."""

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

import lowfreq.callbacks.base
from lowfreq.backbones import CIFARResNet18, SimpleCNN, TorchvisionClassifier
from lowfreq.cli.lightning_cli import main
from lowfreq.core.describe import module_label, run_label
from lowfreq.frontends import FourierMask, GaussianBlur, Identity, PCAProjection
from lowfreq.plotting import (
    plot_band_pass,
    plot_component_accuracy,
    plot_component_curves,
    plot_cue_conflict,
    plot_fourier_heat_map,
    plot_heat_map_profile,
    plot_hybrid_curve,
    plot_hybrid_probabilities,
    plot_perturbation_profile,
    plot_perturbation_spectrum,
    plot_success_rate,
)
from lowfreq.training import FourierMaskProbe, FrontEndClassifier

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "tests" / "conf" / "tiny_blur.yaml")
RUN = "GaussianBlur(σ=1.5) + CIFARResNet18(width=4)"


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


# ---- run labels -----------------------------------------------------------------------------------------------
def test_run_labels_name_front_end_parameter_and_backbone():
    assert run_label(FrontEndClassifier(GaussianBlur(1.5), CIFARResNet18(width=4))) == RUN
    assert run_label(FrontEndClassifier(GaussianBlur(2.0, padding="reflect"), CIFARResNet18())) == (
        "GaussianBlur(σ=2, padding=reflect) + CIFARResNet18")
    assert run_label(FrontEndClassifier(Identity(), SimpleCNN())) == "SimpleCNN, no front-end"
    assert module_label(PCAProjection(8, image_shape=(3, 16, 16))) == "PCAProjection(k=8, image_shape=3x16x16)"
    assert module_label(FourierMask((16, 16))) == "FourierMask(image_size=16x16)"
    assert module_label(TorchvisionClassifier("resnet18", num_classes=10)) == "TorchvisionClassifier(resnet18)"
    probe = FourierMaskProbe(classifier=SimpleCNN(widths=(4, 8)), image_size=(16, 16))
    assert run_label(probe) == "FourierMaskProbe on SimpleCNN(widths=(4, 8))"
    assert run_label(nn.Linear(2, 2)) == "Linear"
    assert module_label(nn.Conv2d(1, 1, 1)) == "Conv2d"


# ---- each plot ------------------------------------------------------------------------------------------------
def _curve():
    f_mix = torch.tensor([0.0, 0.1, 0.2, 0.5, 1.0], dtype=torch.float64)
    p_low = torch.stack([torch.linspace(0.9, 0.1, 5), torch.linspace(0.8, 0.2, 5)]).double()
    p_high = 0.95 - p_low
    return SimpleNamespace(f_mix=f_mix, p_low=p_low.mean(0), p_high=p_high.mean(0), p_other=torch.full((5,), 0.05),
                           confidence=torch.full((5,), 0.7), p_low_per_permutation=p_low,
                           p_high_per_permutation=p_high, f_rev=0.3, f_rev_std=0.01, num_pairs=500)


def test_hybrid_figures_name_the_run_and_the_number_of_hybrids():
    _, ax = plot_hybrid_curve(_curve(), label=RUN)
    assert f"{RUN}\nn = 500 pairs x 2 pairings" in _legend(ax)
    assert "%" in ax.get_ylabel()
    assert ax.get_ylim() == (-100, 100)
    assert "Nyquist" in ax.get_xlabel()
    _, ax = plot_hybrid_probabilities(_curve(), label=RUN)
    assert ax.get_title() == f"{RUN}\nn = 500 pairs x 2 pairings"
    assert "%" in ax.get_ylabel()
    assert max(ax.get_lines()[0].get_ydata()) == pytest.approx(85)


def test_component_figures_keep_the_legend_off_the_data_and_state_cycles():
    history = [{"epoch": e, "acc_low": [0.2, 0.9], "acc_high": [0.7, 0.1], "acc": 0.9} for e in (1, 2, 3)]
    result = {"radii": [4, 8], "radii_cycles": [0.125, 0.25], "history": history, "last": {"num_images": 300}}
    fig, ax = plot_component_curves(result, label=RUN)
    assert "LFC r=8 (0.25 c/px)" in _legend(ax)
    assert "HFC r=4 (0.125 c/px)" in _legend(ax)
    assert ax.get_title() == f"{RUN}\nn = 300 images"
    fig.canvas.draw()
    legend_box, axes_box = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert legend_box.x0 >= axes_box.x1  # right of the axes: covers no curve
    accuracy = SimpleNamespace(radii=torch.tensor([4.0, 8.0]), acc_low=torch.tensor([0.2, 0.9]),
                               acc_high=torch.tensor([0.7, 0.1]), acc=0.9, image_size=32, num_images=300)
    fig, ax = plot_component_accuracy(accuracy, label=RUN)
    assert f"{RUN}, n = 300 images: LFC" in _legend(ax)
    (top,) = ax.child_axes
    assert top.get_xlabel() == "radius (cycles/pixel)"
    fig.canvas.draw()
    assert ax.get_legend().get_window_extent().y1 <= ax.get_window_extent().y0  # under the axes
    assert top.xaxis.get_transform().transform([0.25]) == pytest.approx([8.0])  # 0.25 cycles/pixel = r 8 / N 32


def test_band_pass_figure_names_the_run_and_n_and_states_cycles():
    result = SimpleNamespace(edges=torch.tensor([0.0, 0.125, 0.25, 0.5]), centres=torch.tensor([0.0625, 0.1875, 0.375]),
                             acc_pass=torch.tensor([0.8, 0.3, 0.1]), acc_stop=torch.tensor([0.2, 0.7, 0.9]), acc=0.9,
                             num_images=300)
    fig, ax = plot_band_pass(result, label=RUN)
    assert _legend(ax) == [f"{RUN}, n = 300 images: band kept (band-pass)",
                           f"{RUN}, n = 300 images: band removed (band-stop)", f"{RUN}, n = 300 images: original"]
    assert ax.get_xlabel() == "band centre (cycles/pixel)"
    assert ax.get_ylabel() == "accuracy (%)"
    assert ax.get_xlim() == (0.0, 0.5)  # DC to Nyquist
    assert ax.get_lines()[0].get_ydata().tolist() == pytest.approx([80, 30, 10])
    fig.canvas.draw()
    assert ax.get_legend().get_window_extent().y1 <= ax.get_window_extent().y0  # under the axes


def test_cue_conflict_axis_is_in_percent_with_n():
    result = SimpleNamespace(shape_fraction=0.8, texture_fraction=0.15, other_fraction=0.05, shape_bias=0.842,
                             num_images=2000)
    _, ax = plot_cue_conflict(result, label=RUN)
    assert [b.get_height() for b in ax.patches] == pytest.approx([80, 15, 5])
    assert ax.get_ylabel() == "decisions (%)"
    assert ax.get_ylim()[1] > 100
    assert ax.get_title() == f"{RUN}\nshape bias 0.84, n = 2000 images"


def test_adversarial_figures_show_n_and_percent():
    eps = torch.tensor([1, 2, 3, 4, float("inf")], dtype=torch.float64) / 255
    result = SimpleNamespace(power=torch.rand(8, 8, dtype=torch.float64), f_half=0.2, f_half_low=0.18,
                             f_half_high=0.22, epsilons=eps, summary={"median": 3 / 255})
    _, ax = plot_success_rate(result, label=RUN)
    assert _legend(ax) == [f"{RUN}\nn = 5 images, median 3.00/255"]
    assert ax.get_ylabel() == "images fooled (%)"
    assert max(ax.get_lines()[0].get_ydata()) == pytest.approx(80)
    _, ax = plot_perturbation_profile(result, label=RUN)
    assert f"{RUN}\nn = 5 images" in _legend(ax)
    _, ax = plot_perturbation_spectrum(result, label=RUN)
    assert ax.get_title().startswith(f"{RUN}\nn = 5 images")


def test_heat_map_figures_place_each_frequency_and_show_n():
    fy = fx = torch.fft.fftshift(torch.fft.fftfreq(8, dtype=torch.float64))
    error = torch.full((8, 8), 0.1, dtype=torch.float64)
    error[5, 7] = error[3, 1] = 0.9  # (fy, fx) = (1/8, 3/8) and its mirror (-1/8, -3/8)
    error[0] = float("nan")  # a row not evaluated
    result = SimpleNamespace(fy=fy, fx=fx, error=error, num_images=300, eps=4.0, clean_error=0.05,
                             radial_frequency=torch.arange(6) / 8, radial_error=torch.linspace(0.1, 0.6, 6))
    fig, ax = plot_fourier_heat_map(result, label=RUN)
    assert ax.get_title() == f"{RUN}\nn = 300 images, ε = 4\nFourier heat map"
    assert ax.get_xlabel() == "$f_x$ (cycles/pixel)"
    assert ax.get_ylabel() == "$f_y$ (cycles/pixel)"
    (colorbar,) = [a for a in fig.axes if a is not ax]
    assert colorbar.get_ylabel() == "error rate (%)"
    (image,) = ax.get_images()
    fig.canvas.draw()
    assert image.get_cursor_data(_event(ax, 3 / 8, 1 / 8)) == pytest.approx(90)  # the cell at (fx, fy) = (3/8, 1/8)
    assert image.get_cursor_data(_event(ax, 1 / 8, 3 / 8)) == pytest.approx(10)  # not at (fx, fy) = (1/8, 3/8)
    assert bool(image.get_array().mask[0].all())  # not evaluated: blank
    _, ax = plot_heat_map_profile(result, label=RUN)
    assert f"{RUN}\nn = 300 images, ε = 4" in _legend(ax)
    assert ax.get_ylabel() == "error rate (%)"
    assert max(ax.get_lines()[0].get_ydata()) == pytest.approx(60)
    assert ax.get_xlabel() == "radial frequency (cycles/pixel)"


def _event(ax, x: float, y: float) -> SimpleNamespace:
    """A mouse event at data coordinates (x, y) of ``ax``, for ``get_cursor_data``."""
    px, py = ax.transData.transform((x, y))
    return SimpleNamespace(x=px, y=py, xdata=x, ydata=y, inaxes=ax)


# ---- the callbacks pass the run label -------------------------------------------------------------------------
def test_callback_figures_name_the_run(tmp_path, monkeypatch):
    figures = {}
    monkeypatch.setattr(lowfreq.callbacks.base, "save_figure", lambda fig, path: figures.update({str(path): fig}))
    main(["fit", "-c", TINY, f"--trainer.default_root_dir={tmp_path}",
          "--trainer.callbacks+=lowfreq.callbacks.HybridCurveAnalysis", "--trainer.callbacks.num_images=8",
          "--trainer.callbacks+=lowfreq.callbacks.CueConflictAnalysis", "--trainer.callbacks.num_images=16",
          "--trainer.callbacks+=lowfreq.callbacks.FrequencyComponentAnalysis", "--trainer.callbacks.num_images=16",
          "--trainer.callbacks.radii_bins=[4, 8]"])
    by_stem = {Path(p).parent.name + "/" + Path(p).name: fig for p, fig in figures.items()}
    assert set(by_stem) == {"hybrid/figure", "hybrid/probabilities", "hybrid/examples", "cue_conflict/figure",
                            "frequency_components/figure", "frequency_components/radius"}
    assert by_stem["hybrid/examples"].get_suptitle().startswith(f"{RUN}\nhybrids")
    hybrid = by_stem["hybrid/figure"].axes[0]
    assert f"{RUN}\nn = 8 pairs x 4 pairings" in _legend(hybrid)
    assert by_stem["hybrid/probabilities"].axes[0].get_title().startswith(RUN)
    assert by_stem["cue_conflict/figure"].axes[0].get_title().startswith(f"{RUN}\n")
    assert "n = 16 images" in by_stem["cue_conflict/figure"].axes[0].get_title()
    curves = by_stem["frequency_components/figure"].axes[0]
    assert curves.get_title() == f"{RUN}\nn = 16 images"
    assert "LFC r=8 (0.5 c/px)" in _legend(curves)
    assert any(t.startswith(f"{RUN}, n = 16 images: ") for t in _legend(by_stem["frequency_components/radius"].axes[0]))
