"""Writing results: JSON with tensors made plain, figures as PNG + PDF. Knows nothing of ranks or trainers.

Every file is written atomically ([`atomic_write`][lowfreq.core.io.atomic_write]): to a temporary file in the same
folder, then renamed onto its path, so a write that fails half-way (disk full, a crash, an exception) leaves the
previous file as it was instead of a truncated one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch

__all__ = ["atomic_write", "read_json", "save_figure", "to_jsonable", "versions", "write_json"]


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


def _new_file_mode(path: Path) -> int:
    """Permission bits for ``path``: those of the file it replaces, else what ``open`` would give (0o666 - umask)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", *, newline: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path`` for writing; on success rename it onto ``path`` (parents created).

    The temporary file lives in ``path``'s folder (``os.replace`` is atomic within one file system). If the
    ``with`` block raises, the temporary file is removed, the exception propagates and ``path`` keeps its previous
    content (or stays absent). Text mode writes UTF-8.

    Args:
        path: the final file.
        mode: ``"w"`` (text) or ``"wb"`` (binary).
        newline: passed to ``open`` in text mode (``""`` for the ``csv`` module).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     with atomic_write(Path(d) / "a.txt") as f:
        ...         _ = f.write("done")
        ...     (Path(d) / "a.txt").read_text()
        'done'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be one of ['w', 'wb'], got {mode!r}")
    if mode == "wb" and newline is not None:
        raise ValueError(f"newline must be None in binary mode, got {newline!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    file_mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        f: IO[Any]
        with os.fdopen(fd, mode, encoding=None if mode == "wb" else "utf-8", newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, file_mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``to_jsonable(data)`` to ``path`` (parents created), pretty-printed and atomically.

    The file is written with [`atomic_write`][lowfreq.core.io.atomic_write].
    """
    path = Path(path)
    text = json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n"
    with atomic_write(path) as f:
        f.write(text)
    return path


def read_json(path: str | Path) -> Any:
    """The JSON document at ``path`` (e.g. a ``result.json`` written by [`write_json`][lowfreq.core.io.write_json])."""
    return json.loads(Path(path).read_text())


def save_figure(
    fig: Any, stem: str | Path, formats: tuple[str, ...] = ("png", "pdf"), dpi: int = 150
) -> list[Path]:
    """Save a matplotlib Figure as ``stem.png`` and ``stem.pdf``; returns the written paths.

    Each file is written atomically ([`atomic_write`][lowfreq.core.io.atomic_write]): a failing ``savefig`` leaves that
    file's previous version in place.
    """
    stem = Path(stem)
    paths = [stem.with_suffix(f".{fmt}") for fmt in formats]
    for fmt, path in zip(formats, paths, strict=True):
        with atomic_write(path, "wb") as f:
            fig.savefig(f, format=fmt, dpi=dpi, bbox_inches="tight")
    return paths
