"""The 15 common corruptions x 5 severities and P001's frequency bands (S1 Appendix, Table A), with their validation.

Both the corruption data (``lowfreq.data.corruptions``) and the corruption accuracy
(``lowfreq.analysis.corruptions``) need the names, so they live in this torch-free base module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

__all__ = [
    "BANDS",
    "BAND_OF",
    "CORRUPTIONS",
    "FREQUENCY_BANDS",
    "SEVERITIES",
    "Band",
    "check_corruption",
    "check_corruptions",
    "check_severities",
    "check_severity",
]

CORRUPTIONS: tuple[str, ...] = (
    "gaussian_noise", "shot_noise", "impulse_noise",
    "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
    "snow", "frost", "fog", "brightness",
    "contrast", "elastic_transform", "pixelate", "jpeg_compression",
)  # fmt: skip
"""The 15 standard corruptions of CIFAR-10-C / ImageNet-C, in the releases' order (noise, blur, weather, digital)."""

SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)
"""Severities of every corruption (severity 0 stands for the clean images in per-severity curves)."""

Band = Literal["low", "medium", "high"]

BANDS: tuple[Band, ...] = ("low", "medium", "high")
"""P001's frequency bands, from low to high frequency."""

FREQUENCY_BANDS: dict[Band, tuple[str, ...]] = {
    "low": ("snow", "frost", "fog", "brightness", "contrast"),
    "medium": (
        "motion_blur", "zoom_blur", "defocus_blur", "glass_blur", "elastic_transform", "jpeg_compression", "pixelate",
    ),
    "high": ("gaussian_noise", "shot_noise", "impulse_noise"),
}  # fmt: skip
"""P001 Table A: the corruptions of each frequency band (group accuracy = mean over its corruptions x severities)."""

BAND_OF: dict[str, Band] = {name: band for band, names in FREQUENCY_BANDS.items() for name in names}
"""Corruption name -> its frequency band."""


def check_corruption(name: str, value: object) -> str:
    """Return ``value`` when it is one of ``CORRUPTIONS``, else raise ValueError naming ``name`` and the list."""
    if not isinstance(value, str) or value not in CORRUPTIONS:
        raise ValueError(f"{name} must be one of {list(CORRUPTIONS)}, got {value!r}")
    return value


def check_corruptions(corruptions: Iterable[str] | None, name: str = "corruptions") -> tuple[str, ...]:
    """Validate corruption names (None = all 15); returns them without duplicates, in the order given.

    Raises:
        ValueError: an unknown name (listing the valid ones), a bare string instead of a list, or an empty list.
    """
    if corruptions is None:
        return CORRUPTIONS
    if isinstance(corruptions, str):
        raise ValueError(f"{name} must be a list of corruption names, got the string {corruptions!r}")
    values = list(corruptions)
    if not values:
        raise ValueError(f"{name} must name at least one of {list(CORRUPTIONS)}, got []")
    for value in values:
        check_corruption(name, value)
    return tuple(dict.fromkeys(values))


def check_severity(name: str, value: object) -> int:
    """Return ``value`` when it is an int in 1..5, else raise (TypeError for a non-int, ValueError otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int in {list(SEVERITIES)}, got {type(value).__name__}")
    if value not in SEVERITIES:
        raise ValueError(f"{name} must be one of {list(SEVERITIES)}, got {value}")
    return int(value)


def check_severities(severities: Iterable[int] | None, name: str = "severities") -> tuple[int, ...]:
    """Validate severities in 1..5 (None = all five); returns them without duplicates, sorted.

    Raises:
        ValueError: a severity outside 1..5, or an empty list.
        TypeError: a severity that is not an int.
    """
    if severities is None:
        return SEVERITIES
    values = list(severities)
    if not values:
        raise ValueError(f"{name} must hold at least one of {list(SEVERITIES)}, got []")
    return tuple(sorted({check_severity(name, v) for v in values}))
