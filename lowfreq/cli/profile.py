"""``lowfreq profile MODEL... [--data FOLDER] [--out DIR] [--preset smoke|default|paper] ...``: the command line.

The work is [`lowfreq.profile.profile`][lowfreq.profile.run.profile]; this module only parses the words (jsonargparse;
``--random-weights`` and ``--random_weights`` both work) and imports torch only once the options are read, so
``lowfreq profile --help`` starts in about a second.
"""

from __future__ import annotations

import sys

from jsonargparse import ArgumentParser

__all__ = ["profile_main"]

_DESCRIPTION = (
    "Run the frequency analyses (hybrid f_rev, LFC/HFC accuracy, band-pass/band-stop accuracy, Fourier heat map, "
    "shape bias on cue-conflict images, minimal-epsilon adversarial spectrum f_0.5) on several models and one image "
    "folder, and write one leaderboard: "
    "OUT/runs.csv (one row per model), OUT/report.html and the overlaid curves OUT/overlay_*.png, over one run "
    "directory per model (lowfreq compare and lowfreq report read them too). Offline, --random-weights (or weights "
    "that cannot be had) and no --data (the embedded synthetic shapes) still run."
)

_MODELS_HELP = (
    "model specs: torchvision:<model>[.<weights>] (e.g. torchvision:resnet50), timm:<name> (e.g. "
    "timm:resnet18.a1_in1k), "
    "openclip:<architecture>/<tag> (e.g. openclip:ViT-B-32/laion2b_s34b_b79k), "
    "robustbench:<dataset>/<threat>/<model>, lowfreq:<Backbone>[/<arg>=<value>,...] (e.g. lowfreq:SimpleCNN, random "
    "weights) or a lowfreq .ckpt file"
)


def _underscored(arg: str) -> str:
    """``--random-weights`` -> ``--random_weights`` (both spellings are accepted; values are left alone)."""
    if not arg.startswith("--"):
        return arg
    name, eq, value = arg[2:].partition("=")
    return "--" + name.replace("-", "_") + eq + value


def _parser() -> ArgumentParser:
    parser = ArgumentParser(prog="lowfreq profile", description=_DESCRIPTION)
    parser.add_argument("models", nargs="+", help=_MODELS_HELP)
    parser.add_argument("--data", default=None, help="image folder: ImageNet val layout (<folder>/<class>/<image>) "
                        "or model-vs-human stimuli (e.g. data/model-vs-human/datasets/cue-conflict); null: the "
                        "embedded synthetic shapes")
    parser.add_argument("--out", default="profile", help="output folder")
    parser.add_argument("--preset", default="default", choices=["smoke", "default", "paper"],
                        help="budget: smoke (20 images, 4 attacked), default (200 images, 2 hybrid pairings, 16 "
                        "attacked), paper (1000 images, 4 pairings, 1000 attacked)")
    parser.add_argument("--num_images", type=int, default=None,
                        help="images of the hybrid, component and cue-conflict analyses (overrides the preset)")
    parser.add_argument("--num_adversarial", type=int, default=None,
                        help="images of the minimal-perturbation spectrum (overrides the preset)")
    parser.add_argument("--analyses", nargs="+", default=None,
                        help="run only these of hybrid frequency_components band_pass fourier_heat_map cue_conflict "
                        "adversarial (null: all)")
    parser.add_argument("--random_weights", action="store_true",
                        help="random weights for every model (also used, and said, when weights cannot be had)")
    parser.add_argument("--batch_size", type=int, default=None, help="images per forward pass (null: the preset's 64)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the subsets, pairings, attack targets and random weights")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:1, ...")
    parser.add_argument("--no_progress", action="store_true", help="no progress bars")
    return parser


def profile_main(args: list[str] | None = None) -> None:
    """Run ``lowfreq profile ...`` on ``args`` (default: the words after ``lowfreq profile``)."""
    argv = sys.argv[2:] if args is None else list(args)
    parsed = _parser().parse_args([_underscored(a) for a in argv])
    from lowfreq.profile.run import profile  # torch and the analyses only once the words are read

    profile(list(parsed.models), data=parsed.data, out=parsed.out, preset=parsed.preset,
            num_images=parsed.num_images, num_adversarial=parsed.num_adversarial, analyses=parsed.analyses,
            random_weights=parsed.random_weights, batch_size=parsed.batch_size, seed=parsed.seed,
            device=parsed.device, progress=not parsed.no_progress)
