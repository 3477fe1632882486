"""lowfreq: front-ends, training and analyses for research on the frequency bias of image classifiers.

``import lowfreq`` is cheap: every submodule (also the torch-only front-ends) loads on first attribute access, so the
``lowfreq`` command's top-level help starts without importing torch or Lightning.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and IDEs; at run time these load on first access (``__getattr__``)
    from lowfreq import filters, frontends, spectral
    from lowfreq.frontends import DownUpResize, FourierMask, GaussianBlur, IdealFilter, Identity, PCAProjection

__all__ = [
    "DownUpResize",
    "FourierMask",
    "FrontEndClassifier",
    "GaussianBlur",
    "IdealFilter",
    "Identity",
    "PCAProjection",
    "analysis",
    "backbones",
    "callbacks",
    "core",
    "data",
    "filters",
    "frontends",
    "mvh",
    "plotting",
    "results",
    "spectral",
    "training",
]

_LAZY_MODULES = {
    "analysis", "backbones", "callbacks", "cli", "core", "data", "filters", "frontends", "mvh", "plotting", "results",
    "spectral", "training",
}
_FRONTENDS = ("DownUpResize", "FourierMask", "GaussianBlur", "IdealFilter", "Identity", "PCAProjection")
_LAZY_ATTRIBUTES = {"FrontEndClassifier": "lowfreq.training", **dict.fromkeys(_FRONTENDS, "lowfreq.frontends")}


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        return importlib.import_module(f"lowfreq.{name}")
    if name in _LAZY_ATTRIBUTES:
        return getattr(importlib.import_module(_LAZY_ATTRIBUTES[name]), name)
    raise AttributeError(f"module 'lowfreq' has no attribute {name!r}")
