"""Short human-readable labels of front-ends, backbones and runs, for figure legends and run summaries.

``run_label(model)`` gives e.g. ``"GaussianBlur(σ=1.5) + CIFARResNet18"``, read from the ``init_args`` that
front-ends and backbones record (``lowfreq.core.spec.RecordsInitArgs``). Duck-typed: any module with
``frontend`` and ``backbone`` attributes (``FrontEndClassifier``), or with a ``classifier`` (``FourierMaskProbe``).
``lowfreq compare`` names runs from their saved configs with the same pieces
([`argument_text`][lowfreq.core.describe.argument_text], [`pair_label`][lowfreq.core.describe.pair_label]).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from torch import nn

__all__ = ["argument_text", "module_label", "pair_label", "run_label"]

_SYMBOLS = {"sigma": "σ", "num_components": "k"}
"""Parameter names written as their usual symbols."""

_NAME_PARAMETERS = {"name", "model_name"}
"""Parameters whose value names the architecture: written without ``name=``."""

_HIDDEN = {"num_classes", "mean", "std", "in_channels", "class_names", "cache_dir", "templates"}
"""Parameters that never describe the run (set by the data, or normalisation constants)."""

_MAX_VALUE_CHARS = 24


def _format_value(name: str, value: Any) -> str | None:
    """Short text of one argument value; None when it is too long to be useful in a legend."""
    if isinstance(value, (bool, str)):
        text = str(value)
    elif isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, Sequence) and all(isinstance(v, (int, float)) for v in value):
        joined = [f"{v:g}" if isinstance(v, float) else str(v) for v in value]
        text = "x".join(joined) if ("size" in name or "shape" in name) else f"({', '.join(joined)})"
    else:
        return None
    return text if len(text) <= _MAX_VALUE_CHARS else None


def module_label(module: nn.Module) -> str:
    """``ClassName(arg=value, ...)``: the first argument and every argument that differs from its default.

    Arguments that never describe the run (``num_classes``, normalisation constants, paths, None values, long
    values) are left out; ``sigma`` is written ``σ`` and ``num_components`` ``k``; a ``name`` / ``model_name`` shows
    only its value. A module that records no ``init_args`` gives its class name.

    Args:
        module: a front-end, backbone or any module with an ``init_args`` dict.

    Returns:
        e.g. ``"GaussianBlur(σ=1.5)"``, ``"TorchvisionClassifier(resnet50, weights=IMAGENET1K_V1)"``,
        ``"CIFARResNet18(width=4)"``.
    """
    cls = type(module)
    init_args = getattr(module, "init_args", None)
    if not isinstance(init_args, Mapping) or not init_args:
        return cls.__name__
    try:
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]  # without self
    except (TypeError, ValueError):
        parameters = []
    defaults = {p.name: p.default for p in parameters}
    first = parameters[0].name if parameters else None
    parts = []
    for name, value in init_args.items():
        if name in _HIDDEN or name.endswith(("_path", "_dir")) or value is None:
            continue
        if name != first and name in defaults and _equal(value, defaults[name]):
            continue
        text = argument_text(name, value)
        if text is not None:
            parts.append(text)
    return f"{cls.__name__}({', '.join(parts)})" if parts else cls.__name__


def argument_text(name: str, value: Any) -> str | None:
    """One argument as labels write it: ``σ=1.5``, ``k=512``, ``width=16``, ``resnet50`` for a ``name``.

    ``sigma`` is written ``σ`` and ``num_components`` ``k``; a ``name`` / ``model_name`` shows only its value.

    Returns:
        The text, or None when the value is too long or not a number, string or sequence of numbers.
    """
    text = _format_value(name, value)
    if text is None or name in _NAME_PARAMETERS:
        return text
    return f"{_SYMBOLS.get(name, name)}={text}"


def pair_label(frontend: str, backbone: str) -> str:
    """``"<front-end> + <backbone>"`` of their labels; ``"<backbone>, no front-end"`` for an ``Identity`` front-end."""
    return f"{backbone}, no front-end" if frontend == "Identity" else f"{frontend} + {backbone}"


def _equal(value: Any, default: Any) -> bool:
    """``value == default``, with tuples and lists alike and never raising."""
    if default is inspect.Parameter.empty:
        return False
    if isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)):
        return list(value) == list(default)
    try:
        return bool(value == default)
    except Exception:  # e.g. tensors: not equal for labelling purposes
        return False


def run_label(model: nn.Module) -> str:
    """The run in a few words: ``"<front-end> + <backbone>"``, e.g. ``"GaussianBlur(σ=1.5) + CIFARResNet18"``.

    An ``Identity`` front-end gives ``"<backbone>, no front-end"``; a module with a ``classifier`` instead (the
    Fourier-mask probe) gives ``"<ClassName> on <classifier>"``; any other module its class name.

    Args:
        model: a ``FrontEndClassifier``-like module (``frontend`` and ``backbone`` attributes) or any module.
    """
    frontend, backbone = getattr(model, "frontend", None), getattr(model, "backbone", None)
    if isinstance(frontend, nn.Module) and isinstance(backbone, nn.Module):
        return pair_label(module_label(frontend), module_label(backbone))
    classifier = getattr(model, "classifier", None)
    if isinstance(classifier, nn.Module):
        return f"{type(model).__name__} on {module_label(classifier)}"
    return type(model).__name__
