"""Procedural shapes-with-texture data: the embedded default data of lowfreq (no files, no download).

The label is carried by a **low-frequency cue**, a shape; an optional class-correlated **high-frequency cue**, a
fine grating texture, offers a shortcut. A network that takes the shortcut follows the texture on the
cue-conflict split; a network behind a Gaussian blur (sigma = 1.5 px) cannot see it and must follow the shape.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from lowfreq.core.checks import check_positive_int, check_range
from lowfreq.core.seeding import seeded_generator
from lowfreq.data.base import ImageDataModule
from lowfreq.data.datasets import CueConflictDataset, TensorImageDataset

__all__ = [
    "SHAPE_NAMES",
    "TEXTURE_NAMES",
    "ShapesBatch",
    "SyntheticShapesDataModule",
    "render_texture",
    "synthetic_shapes",
    "texture_frequencies",
]

SHAPE_NAMES: list[str] = [
    "disc",
    "square",
    "triangle",
    "plus",
    "ring",
    "bar",
    "diamond",
    "ell",
    "cross",
    "frame",
]
"""Class names, index = label: the shape drawn in the image."""

# Texture class k: grating family k % 5 at radial frequency _TEXTURE_BANDS[k // 5] cycles/pixel. Each family is a
# set of frequency-vector directions (degrees from the x axis) closed under a horizontal flip, so flip
# augmentation never changes the texture class. Plaids split the amplitude equally between two gratings.
_TEXTURE_BANDS: tuple[float, float] = (0.30, 0.43)
_TEXTURE_FAMILIES: tuple[tuple[str, tuple[float, ...]], ...] = (
    ("vertical stripes", (0.0,)),
    ("horizontal stripes", (90.0,)),
    ("plaid 45", (45.0, -45.0)),
    ("plaid 30", (30.0, -30.0)),
    ("plaid 60", (60.0, -60.0)),
)
TEXTURE_NAMES: list[str] = [
    f"{name} @ {band:.2f}" for band in _TEXTURE_BANDS for name, _ in _TEXTURE_FAMILIES
]
"""Texture class names, index = texture class (same index as the shape class it is correlated with)."""

_NUM_CLASSES = len(SHAPE_NAMES)
_SPLIT_KEYS = {"train": 0, "val": 1, "test": 2, "conflict": 3}  # split -> key of its seed stream


class ShapesBatch(NamedTuple):
    """Generated images and both cue labels.

    Attributes:
        x: (N, 3, H, W) float32 images in [0, 1].
        y_shape: (N,) int64 shape class (the label).
        y_texture: (N,) int64 texture class.
    """

    x: Tensor
    y_shape: Tensor
    y_texture: Tensor


def texture_frequencies(image_size: int = 32) -> Tensor:
    """Frequency vectors of every texture class, rounded to the FFT grid of ``image_size``.

    Args:
        image_size: side length H = W in pixels.

    Returns:
        (K, 2, 2) float64 tensor: ``[k, j] = (fy, fx)`` in cycles/pixel, the j-th grating of texture class k
        (classes with a single grating repeat it). ``|f|`` is ≈ 0.30 for classes 0–4 and ≈ 0.43 for 5–9;
        rounding to multiples of ``1 / image_size`` makes every grating periodic over the image.
    """
    check_positive_int("image_size", image_size, minimum=8)
    out = torch.empty(_NUM_CLASSES, 2, 2, dtype=torch.float64)
    for k in range(_NUM_CLASSES):
        band = _TEXTURE_BANDS[k // len(_TEXTURE_FAMILIES)]
        angles = _TEXTURE_FAMILIES[k % len(_TEXTURE_FAMILIES)][1]
        for j in range(2):
            a = math.radians(angles[j % len(angles)])
            fy = round(band * math.sin(a) * image_size) / image_size
            fx = round(band * math.cos(a) * image_size) / image_size
            out[k, j] = torch.tensor([fy, fx])
    return out


def render_texture(
    y_texture: Tensor,
    image_size: int = 32,
    amplitude: float = 1.0,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The high-frequency cue alone: zero-mean gratings of each texture class with random phases.

    Args:
        y_texture: (N,) int64 texture classes in [0, 10).
        image_size: side length H = W in pixels.
        amplitude: peak amplitude of a single grating; plaids use ``amplitude / sqrt(2)`` per grating, so every
            class has the same power ``amplitude**2 / 2`` per pixel.
        generator: random source of the phases.

    Returns:
        (N, 1, H, W) float32 tensor, added identically to the three colour channels.
    """
    n = y_texture.shape[0]
    freqs = texture_frequencies(image_size).float()[y_texture]  # (N, 2, 2)
    single = torch.tensor(
        [len(_TEXTURE_FAMILIES[k % len(_TEXTURE_FAMILIES)][1]) == 1 for k in range(_NUM_CLASSES)]
    )
    single = single[y_texture]  # (N,)
    phase = 2 * math.pi * torch.rand(n, 2, generator=generator)  # (N, 2)
    coord = torch.arange(image_size, dtype=torch.float32)
    arg = (
        freqs[:, :, 0, None, None] * coord[None, None, :, None]
        + freqs[:, :, 1, None, None] * coord[None, None, None, :]
    )  # (N, 2, H, W)
    waves = torch.cos(2 * math.pi * arg + phase[:, :, None, None])
    tex = torch.where(
        single[:, None, None], waves[:, 0], (waves[:, 0] + waves[:, 1]) / math.sqrt(2)
    )  # (N, H, W)
    return (amplitude * tex)[:, None]


def _shape_sdf(k: int, u: Tensor, v: Tensor) -> Tensor:
    """Approximate signed distance (negative inside) of shape k, in units of the shape radius; v points down."""
    au, av = u.abs(), v.abs()
    if k == 0:  # disc
        return torch.hypot(u, v) - 0.9
    if k == 1:  # square
        return torch.maximum(au, av) - 0.75
    if k == 2:  # triangle pointing up, inradius 0.55
        c, s = 0.5, math.sqrt(3) / 2
        return torch.maximum(torch.maximum(v, s * u - c * v), -s * u - c * v) - 0.55
    if k in (3, 8):  # plus; cross = plus turned by 45 degrees
        if k == 8:
            au, av = ((u + v) / math.sqrt(2)).abs(), ((v - u) / math.sqrt(2)).abs()
        return torch.minimum(torch.maximum(au - 1.0, av - 0.3), torch.maximum(au - 0.3, av - 1.0))
    if k == 4:  # ring
        return (torch.hypot(u, v) - 0.72).abs() - 0.25
    if k == 5:  # horizontal bar
        return torch.maximum(au - 1.0, av - 0.36)
    if k == 6:  # diamond
        return (au + av - 1.05) / math.sqrt(2)
    if k == 7:  # ell: vertical stroke on the left, horizontal stroke at the bottom
        left = torch.maximum((u + 0.65).abs() - 0.32, av - 0.97)
        bottom = torch.maximum(au - 0.97, (v - 0.65).abs() - 0.32)
        return torch.minimum(left, bottom)
    if k == 9:  # frame (hollow square)
        return (torch.maximum(au, av) - 0.7).abs() - 0.2
    raise ValueError(f"shape class must be in [0, {_NUM_CLASSES}), got {k}")


def _lowfreq_field(n: int, channels: int, size: int, grid: int, generator: torch.Generator | None) -> Tensor:
    """Smooth random field in [-1, 1]: uniform noise on a ``grid x grid`` lattice, bicubically upsampled."""
    coarse = 2 * torch.rand(n, channels, grid, grid, generator=generator) - 1
    return F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False).clamp(-1, 1)


def _check_shapes_options(
    image_size: int, texture_correlation: float, texture_amplitude: float, shape_contrast: float, num_distractors: int
) -> None:
    check_positive_int("image_size", image_size, minimum=16)
    check_range("texture_correlation", texture_correlation, 0.0, 1.0)
    check_range("texture_amplitude", texture_amplitude, 0.0, 0.5)
    check_range("shape_contrast", shape_contrast, 0.0, 0.5, low_open=True)
    check_positive_int("num_distractors", num_distractors, minimum=0)


def synthetic_shapes(
    num_images: int,
    *,
    image_size: int = 32,
    texture_correlation: float = 1.0,
    texture_amplitude: float = 0.1,
    shape_contrast: float = 0.3,
    num_distractors: int = 2,
    conflict: bool = False,
    generator: torch.Generator | None = None,
) -> ShapesBatch:
    """Generate shape images with an optional class-correlated grating texture, vectorised in torch.

    Each image, back to front:

    * **background** (low frequency): a random base colour in [0.3, 0.7]^3 plus a smooth
      colour field (4 x 4 lattice bicubically upsampled, ±0.12) and ``num_distractors`` Gaussian colour blobs
      (sigma 2–4 px, ±0.25): low-frequency clutter that no single pixel statistic separates from the shape;
    * **shape** (the label; low frequency: ≈ 80 % of its zero-mean power lies below 0.1 cycles/pixel and ≈ 90 %
      below 0.16, the rest in its edges): one of ``SHAPE_NAMES`` with
      radius 6–11 px (for 32 px images; scaled with ``image_size``), random position, rotation ±15°, 1 px
      anti-aliased edge, and a colour that differs from the base colour by ±``shape_contrast`` (×[0.6, 1.4],
      plus ±0.1 per channel);
    * **texture** (the shortcut; high frequency): ``render_texture`` of the texture class, a grating or plaid at
      |f| ≈ 0.30 (classes 0–4) or ≈ 0.43 (classes 5–9) cycles/pixel, added to every channel with peak amplitude
      ``texture_amplitude``. A Gaussian blur of sigma px multiplies it by exp(-2 π² σ² |f|²): for σ = 1.5 that is
      ≈ 0.02 at 0.30 and ≈ 3e-4 at 0.43, i.e. it removes > 99.9 % of the texture power, while keeping ≈ 2/3 of
      the zero-mean power of the texture-free image.

    The result is clamped to [0, 1].

    Args:
        num_images: number of images N, >= 0. Shape classes are balanced (``N // 10`` or one more per class).
        image_size: side length H = W in pixels, >= 16.
        texture_correlation: probability that the texture class equals the shape class; otherwise the texture
            class is drawn uniformly from the 9 other classes. 0.1 makes texture independent of the shape.
        texture_amplitude: peak amplitude of the texture, in [0, 0.5]; 0 removes the high-frequency cue.
        shape_contrast: mean colour difference between shape and background, in (0, 0.5].
        num_distractors: Gaussian blobs in the background, >= 0.
        conflict: if True the texture class always differs from the shape class (cue-conflict images);
            ``texture_correlation`` is then ignored.
        generator: random source; fix its seed for reproducible data.

    Returns:
        ``ShapesBatch(x, y_shape, y_texture)``: x (N, 3, H, W) float32 in [0, 1], labels (N,) int64.
    """
    check_positive_int("num_images", num_images, minimum=0)
    _check_shapes_options(image_size, texture_correlation, texture_amplitude, shape_contrast, num_distractors)
    n, s, k = num_images, image_size, _NUM_CLASSES
    g = generator

    # labels ------------------------------------------------------------------------------------------------
    y_shape = torch.randperm(n, generator=g) % k  # (N,) balanced
    other = (y_shape + torch.randint(1, k, (n,), generator=g)) % k  # uniformly one of the other classes
    keep = torch.rand(n, generator=g) < (0.0 if conflict else texture_correlation)
    y_texture = torch.where(keep, y_shape, other)

    # background --------------------------------------------------------------------------------------------
    base = 0.3 + 0.4 * torch.rand(n, 3, 1, 1, generator=g)  # (N, 3, 1, 1)
    bg = base + 0.12 * _lowfreq_field(n, 3, s, 4, g)  # (N, 3, H, W)
    coord = torch.arange(s, dtype=torch.float32) + 0.5
    for _ in range(num_distractors):
        centre = s * torch.rand(n, 2, 1, 1, generator=g)
        sigma = (2.0 + 2.0 * torch.rand(n, 1, 1, generator=g)) * s / 32
        d2 = (coord[None, :, None] - centre[:, 0]) ** 2 + (
            coord[None, None, :] - centre[:, 1]
        ) ** 2  # (N, H, W)
        blob = torch.exp(-d2 / (2 * sigma**2))[:, None]  # (N, 1, H, W)
        bg = bg + blob * 0.25 * (2 * torch.rand(n, 3, 1, 1, generator=g) - 1)

    # shape -------------------------------------------------------------------------------------------------
    radius = (6.0 + 5.0 * torch.rand(n, generator=g)) * s / 32  # (N,) px
    margin = radius + 1.0
    cy = margin + (s - 2 * margin) * torch.rand(n, generator=g)
    cx = margin + (s - 2 * margin) * torch.rand(n, generator=g)
    angle = math.radians(15.0) * (2 * torch.rand(n, generator=g) - 1)
    cos, sin = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    dy = (coord[None, :, None] - cy[:, None, None]) / radius[:, None, None]  # (N, H, 1)
    dx = (coord[None, None, :] - cx[:, None, None]) / radius[:, None, None]  # (N, 1, W)
    u, v = cos * dx + sin * dy, -sin * dx + cos * dy  # (N, H, W) shape frame, units of radius
    sdf = torch.empty(n, s, s)
    for c in range(k):
        idx = (y_shape == c).nonzero().squeeze(1)
        if idx.numel():
            sdf[idx] = _shape_sdf(c, u[idx], v[idx])
    mask = (0.5 - sdf * radius[:, None, None]).clamp(0, 1)[:, None]  # (N, 1, H, W), 1 px anti-aliased edge
    sign = torch.where(torch.rand(n, 1, 1, 1, generator=g) < 0.5, -1.0, 1.0)
    contrast = shape_contrast * (0.6 + 0.8 * torch.rand(n, 1, 1, 1, generator=g))
    colour = base + sign * contrast + 0.1 * (2 * torch.rand(n, 3, 1, 1, generator=g) - 1)
    x = bg * (1 - mask) + colour * mask

    # texture -----------------------------------------------------------------------------------------------
    x = x + render_texture(y_texture, s, texture_amplitude, generator=g)
    return ShapesBatch(x.clamp_(0, 1), y_shape, y_texture)


def _to_uint8(x: Tensor) -> Tensor:
    return x.mul(255.0).round_().to(torch.uint8)


class SyntheticShapesDataModule(ImageDataModule):
    """Procedural shapes (the label, low-frequency cue) with a class-correlated grating (high-frequency shortcut).

    The embedded default data of lowfreq: deterministic for a seed, generated in memory in about a second, no
    files. Ten shape classes (``SHAPE_NAMES``) on a cluttered low-frequency background carry the label with ≈ 80 %
    of their power below 0.1 cycles/pixel; a texture grating or plaid at ≈ 0.30 or ≈ 0.43 cycles/pixel (see
    ``synthetic_shapes``) agrees with the label with probability ``texture_correlation``. A Gaussian blur of
    sigma = 1.5 px keeps the shapes but removes > 99.9 % of the texture power, so a blur front-end cannot take
    the shortcut. ``cue_conflict_dataset()`` holds images whose texture class always differs from the shape class.

    Args:
        num_train: training images, >= 10.
        num_val: validation images, >= 10 (same distribution as train).
        num_test: test images, >= 10 (same distribution as train).
        num_conflict: cue-conflict images, >= 10.
        image_size: side length H = W in pixels, >= 16; shapes and blobs scale with it.
        texture_correlation: probability in [0, 1] that the texture class equals the shape class (train, val and
            test); 1 makes the texture a perfect shortcut, 0.1 makes it independent of the label.
        texture_amplitude: peak amplitude of the texture in [0, 0.5]; 0 removes the high-frequency cue.
        shape_contrast: mean shape/background colour difference, in (0, 0.5].
        num_distractors: Gaussian colour blobs cluttering each background, >= 0.
        batch_size: images per batch, >= 1.
        num_workers: DataLoader worker processes, >= 0.
        seed: seed of the generated images, >= 0; each split uses its own derived generator, so changing one
            split's size leaves the others unchanged.
        augment: augment the train split (random crop with 4 px reflect padding + horizontal flip; every texture
            class is invariant under the flip).
        device_resident: hold the uint8 images on the trainer's device and shuffle, crop and flip them there
            ([`DeviceLoader`][lowfreq.data.device.DeviceLoader]; ``num_workers`` is then unused): True always (also on
            CPU), False never, None (default) on the CPU and on CUDA when the data fit in a quarter of its memory.
        train_transform: batched module applied to training batches on the device after augmentation (e.g.
            ``lowfreq.data.ComponentTransform``: train on low/high-frequency components, P003 Table 1).
    """

    def __init__(
        self,
        num_train: int = 10000,
        num_val: int = 1000,
        num_test: int = 2000,
        num_conflict: int = 2000,
        image_size: int = 32,
        texture_correlation: float = 1.0,
        texture_amplitude: float = 0.1,
        shape_contrast: float = 0.3,
        num_distractors: int = 2,
        batch_size: int = 128,
        num_workers: int = 0,
        seed: int = 0,
        augment: bool = True,
        device_resident: bool | None = None,
        train_transform: nn.Module | None = None,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed, augment=augment,
                         device_resident=device_resident, train_transform=train_transform)
        for split, value in zip(_SPLIT_KEYS, (num_train, num_val, num_test, num_conflict), strict=True):
            check_positive_int(f"num_{split}", value, minimum=10)
        _check_shapes_options(image_size, texture_correlation, texture_amplitude, shape_contrast, num_distractors)
        self.num_train, self.num_val, self.num_test, self.num_conflict = num_train, num_val, num_test, num_conflict
        self.image_size = image_size
        self.texture_correlation, self.texture_amplitude = texture_correlation, texture_amplitude
        self.shape_contrast, self.num_distractors = shape_contrast, num_distractors
        self._conflict: CueConflictDataset | None = None

    @property
    def class_names(self) -> list[str]:
        """Shape names, index = label."""
        return list(SHAPE_NAMES)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(3, image_size, image_size)."""
        return (3, self.image_size, self.image_size)

    def generate(self, split: Literal["train", "val", "test", "conflict"]) -> ShapesBatch:
        """Generate one split as float tensors (deterministic for ``seed`` and the split).

        Args:
            split: "train", "val", "test" or "conflict".

        Returns:
            ``ShapesBatch(x, y_shape, y_texture)`` with x (N, 3, H, W) float32 in [0, 1].
        """
        if split not in _SPLIT_KEYS:
            raise ValueError(f"split must be one of {list(_SPLIT_KEYS)}, got {split!r}")
        return synthetic_shapes(
            getattr(self, f"num_{split}"),
            image_size=self.image_size,
            texture_correlation=self.texture_correlation,
            texture_amplitude=self.texture_amplitude,
            shape_contrast=self.shape_contrast,
            num_distractors=self.num_distractors,
            conflict=split == "conflict",
            generator=seeded_generator(self.seed, _SPLIT_KEYS[split]),
        )

    def _build(self) -> dict[str, Dataset]:
        out: dict[str, Dataset] = {}
        for split in ("train", "val", "test"):
            batch = self.generate(split)
            images = _to_uint8(batch.x)
            out[split] = TensorImageDataset(images, batch.y_shape, augment=self.augment and split == "train")
            if split == "train":  # the same images without augmentation
                out["train_eval"] = TensorImageDataset(images, batch.y_shape)
        return out

    def cue_conflict_dataset(self) -> CueConflictDataset:
        """Cue-conflict split: items ``(x, y_shape, y_texture)`` with ``y_texture != y_shape`` always.

        Returns:
            Dataset of ``num_conflict`` images, x float32 (3, H, W) in [0, 1], labels int64 scalars.
        """
        if self._conflict is None:
            batch = self.generate("conflict")
            self._conflict = CueConflictDataset(_to_uint8(batch.x), batch.y_shape, batch.y_texture)
        return self._conflict
