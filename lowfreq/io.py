"""Writing results: JSON with tensors made plain, figures as PNG + PDF. Knows nothing of ranks or trainers."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["read_json", "save_figure", "to_jsonable", "versions", "write_json"]


def to_jsonable(value: Any) -> Any:
    """Turn tensors, arrays, dataclasses, paths and non-finite floats into plain JSON values (NaN -> None)."""
    if isinstance(value, torch.Tensor):
        return to_jsonable(value.detach().cpu().tolist())
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return repr(value)


def versions() -> dict[str, str]:
    """Versions of lowfreq and torch, recorded in every result file."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        lowfreq_version = version("lowfreq")
    except PackageNotFoundError:
        lowfreq_version = "unknown"
    return {"lowfreq": lowfreq_version, "torch": torch.__version__}


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``to_jsonable(data)`` to ``path`` (parents created), pretty-printed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n")
    return path


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())


def save_figure(fig: Any, stem: str | Path, formats: tuple[str, ...] = ("png", "pdf"), dpi: int = 150) -> list[Path]:
    """Save a matplotlib Figure as ``stem.png`` and ``stem.pdf``; returns the written paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(f".{fmt}") for fmt in formats]
    for path in paths:
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return paths
