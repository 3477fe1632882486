"""The quantities of a run: the [`Headline`][lowfreq.results.columns.Headline]s each analysis declares, and the metrics.

An analysis callback declares its headline quantities next to its result (``headlines``, a tuple of
[`Headline`][lowfreq.results.columns.Headline]); its ``write`` evaluates them on the result and stores them, with their
meaning, in ``analysis/<name>/result.json`` under ``"headlines"``. The end-of-run summary
([`lowfreq.callbacks.RunSummary`][lowfreq.callbacks.summary.RunSummary]), ``lowfreq compare`` and ``lowfreq report``
([`lowfreq.results.compare`][lowfreq.results.compare]) read them back with
[`headlines_in`][lowfreq.results.columns.headlines_in]: a new analysis reaches all three by declaring its headlines,
and nothing here lists analyses. Result files written before headlines were declared (no ``"headlines"`` key) show
no quantities. The logged accuracies are [`METRIC_COLUMNS`][lowfreq.results.columns.METRIC_COLUMNS].
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

__all__ = ["METRIC_COLUMNS", "Column", "Direction", "Headline", "HeadlineValue", "as_number", "headlines_in"]

Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class Column:
    """What one quantity means and how tables print it.

    Args:
        name: column name in the tables (unique over the analyses of a run).
        description: what the value is, as the summary, the tables and the report name it.
        unit: its unit (``"fraction"``, ``"cycles/pixel"``, ``"Nyquist units"``, ``"L-inf"``, ``"images"``, ...;
            empty for a pure number such as kappa).
        direction: which way is better (``"higher"`` or ``"lower"``), None where neither is.
        paper: the paper value it reproduces (naming the paper), None if none.
        per_255: an L-inf budget on the [0, 1] scale, shown in units of 1/255 (the tables keep the raw value).
        integer: a count, printed without decimals.
        in_summary: shown in the summary printed at the end of a run.
        analysis: the analysis it comes from (``"metrics"`` for logged accuracies); set when read from a run.
    """

    name: str
    description: str
    unit: str = ""
    direction: Direction | None = None
    paper: str | None = None
    per_255: bool = False
    integer: bool = False
    in_summary: bool = False
    analysis: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"name must be an identifier (a column name such as 'f_rev'), got {self.name!r}")
        if self.direction not in (None, "higher", "lower"):
            raise ValueError(f"direction must be 'higher', 'lower' or None, got {self.direction!r}")

    def format(self, value: float) -> str:
        """The value as tables print it.

        ``-`` when missing, ``3.12/255`` for budgets, counts as integers, any other value with 4 significant digits
        kept (``1.000``, ``0.000``, ``0.8330``), so that 1 and 0 read as the fractions they are.
        """
        if not math.isfinite(value):
            return "-"
        if self.integer:
            return str(round(value))
        return f"{value * 255:.3g}/255" if self.per_255 else f"{value:#.4g}"

    def to_json(self) -> dict[str, Any]:
        """The declaration as written into ``result.json`` (every field but ``analysis``)."""
        return {f.name: getattr(self, f.name) for f in fields(Column) if f.name != "analysis"}

    @staticmethod
    def from_json(entry: Mapping[str, Any], analysis: str = "") -> Column:
        """The column of one ``"headlines"`` entry of a ``result.json`` (unknown keys ignored)."""
        known = {f.name for f in fields(Column)} - {"analysis"}
        return Column(**{k: v for k, v in entry.items() if k in known}, analysis=analysis)


@dataclass(frozen=True, kw_only=True)
class Headline(Column):
    """A headline quantity an analysis declares, with how to read it from the result its callback writes.

    Args:
        value: the value from the callback's result (the dict passed to ``write``; tensors, dataclasses and numbers
            as they are before JSON): a real number, a one-element tensor, or None (NaN).
        count: the number of images (or items) behind the value from the same result, None if none.

    Example:
        ``Headline(name="shape_bias", description="cue-conflict shape bias", unit="fraction", in_summary=True,
        value=lambda r: r["result"].shape_bias, count=lambda r: r["result"].num_images)``
    """

    value: Callable[[Any], Any] = field(compare=False)
    count: Callable[[Any], Any] | None = field(default=None, compare=False)

    def evaluate(self, result: Any) -> dict[str, Any]:
        """The ``"headlines"`` entry of ``result``: the declaration with ``value`` (None for NaN) and ``count``."""
        number = _real(self.name, self.value(result))
        count = None if self.count is None else self.count(result)
        return {**self.to_json(), "value": number if math.isfinite(number) else None,
                "count": None if count is None else int(count)}


def _real(name: str, value: Any) -> float:
    """``value`` as float (NaN for None); a headline that gives anything but a real number is a bug."""
    if value is None:
        return math.nan
    if isinstance(value, (bool, str, bytes)):
        raise TypeError(f"headline {name!r} must give a real number or None, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError) as err:  # RuntimeError: a tensor of more than one element
        raise TypeError(f"headline {name!r} must give a real number or None, got {type(value).__name__}") from err


@dataclass(frozen=True)
class HeadlineValue:
    """One headline read from a ``result.json``: its column, value (NaN when missing) and count (None if none)."""

    column: Column
    value: float
    count: int | None


def headlines_in(result: Any, analysis: str) -> list[HeadlineValue]:
    """The headlines stored in one ``result.json`` payload, in declaration order (none in a file without them).

    Entries that are no valid declaration (a hand-edited file) are left out.

    Args:
        result: the parsed ``analysis/<analysis>/result.json``.
        analysis: its analysis name (the folder), recorded in each column.
    """
    entries = result.get("headlines") if isinstance(result, Mapping) else None
    if not isinstance(entries, list):
        return []
    found = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        try:
            column = Column.from_json(entry, analysis)
        except (TypeError, ValueError):
            continue
        count = entry.get("count")
        found.append(HeadlineValue(column, as_number(entry.get("value")),
                                   count if isinstance(count, int) and not isinstance(count, bool) else None))
    return found


METRIC_COLUMNS: tuple[Column, ...] = (
    Column("test_acc", "last logged test accuracy (fraction)", unit="fraction", direction="higher",
           paper="P001: blur σ = 1.5 and PCA K = 512 ResNet-18 ≈ 0.90 on CIFAR-10; P002: blur σ = 3 ResNet-50 ≈ 0.71 "
           "top-1 on ImageNet", analysis="metrics"),
    Column("val_acc", "last logged validation accuracy (fraction)", unit="fraction", direction="higher",
           analysis="metrics"),
)
"""The logged accuracies that ``lowfreq compare`` and ``lowfreq report`` read from a run's logger files (last
value), before the analyses' headlines."""


def as_number(value: Any) -> float:
    """A real number as float; NaN for None, booleans and anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)

