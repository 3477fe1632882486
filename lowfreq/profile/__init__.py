"""``lowfreq profile``: the frequency analyses of several models on one image folder, as one leaderboard.

* [`models`][lowfreq.profile.models]: model specs (``torchvision:``, ``timm:``, ``openclip:``, ``robustbench:``,
  ``lowfreq:``, a ``.ckpt`` file) -> models, with random weights on request or when the weights cannot be had.
* [`images`][lowfreq.profile.images]: an image folder (ImageNet val layout, model-vs-human stimuli) or the embedded
  synthetic shapes at a model's image size, and the map of a model's outputs onto the data's classes.
* [`analyses`][lowfreq.profile.analyses]: the table of analyses (callback declaration + pure function) and budgets.
* [`run`][lowfreq.profile.run]: [`profile`][lowfreq.profile.run.profile], which writes one run directory per model
  and the leaderboard (``lowfreq compare``'s table and ``lowfreq report``'s page over them).

No Trainer is involved: the analyses run as in a notebook. The command line is ``lowfreq.cli.profile``.
"""

from lowfreq.profile.analyses import ANALYSES, PRESETS, Budget, ProfileAnalysis
from lowfreq.profile.images import Sample, data_head, embedded_sample, folder_sample
from lowfreq.profile.models import ProfiledModel, build_model
from lowfreq.profile.run import ProfileResult, profile

__all__ = [
    "ANALYSES",
    "PRESETS",
    "Budget",
    "ProfileAnalysis",
    "ProfileResult",
    "ProfiledModel",
    "Sample",
    "build_model",
    "data_head",
    "embedded_sample",
    "folder_sample",
    "profile",
]
