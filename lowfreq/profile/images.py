"""The images of ``lowfreq profile``: an image folder or the embedded synthetic shapes, at a model's image size.

* A folder in ImageNet val layout, ``<folder>/<class>/<image>`` (any classes: ImageNet's wnids, CIFAR-10's names,
  the 16 model-vs-human categories, ...), or a model-vs-human stimulus folder in its ``dnn/session-N/`` layout. Each
  image is converted to RGB and, unless it already has the model's size, resized (shorter side to
  ``size * 256 / 224``, bilinear, antialiased) and centre-cropped to ``size`` (torchvision's ImageNet evaluation
  transform); values stay in [0, 1], never normalised.
* No folder: the test split of [`SyntheticShapesDataModule`][lowfreq.data.synthetic.SyntheticShapesDataModule]
  generated at the model's size (the same scenes at every size), with its cue-conflict split.

Cue-conflict images (a shape of one class with the texture of another) give the shape bias: the embedded data's
conflict split, or a folder of model-vs-human cue-conflict stimuli (``<shape>/<shape>N-<texture>M.png``), whose
images with the same shape and texture class are left out of it.

[`data_head`][lowfreq.profile.images.data_head] maps a model's logits onto the data's classes (the identity, the
model-vs-human 1000 -> 16 mapping, or the ImageNet outputs of a folder's wnids).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import torch
from torch import Tensor, nn

from lowfreq.core.device import image_progress
from lowfreq.core.seeding import seeded_subset
from lowfreq.mvh.labels import CLASSES_16, logits_to_16

__all__ = ["MIN_IMAGES", "DataHead", "Sample", "data_head", "embedded_sample", "folder_sample", "list_folder"]

log = logging.getLogger(__name__)

MIN_IMAGES = 4
"""Fewest images a profile runs on (hybrid pairs need two classes, none holding more than half of the images)."""

ConflictKind = Literal["synthetic", "model-vs-human"]


@dataclass
class Sample:
    """The images the analyses of one model see.

    Attributes:
        x: (N, 3, S, S) float32 images in [0, 1].
        y: (N,) int64 labels, indices into ``class_names`` (the shape class of a cue-conflict stimulus).
        class_names: the data's classes.
        source: where the images come from, in words.
        conflict: ``(x, y_shape, y_texture)`` cue-conflict images (texture class != shape class), or None.
        conflict_kind: "synthetic" (the embedded data) or "model-vs-human" (stimuli), None without conflict images.
    """

    x: Tensor
    y: Tensor
    class_names: list[str]
    source: str
    conflict: tuple[Tensor, Tensor, Tensor] | None = None
    conflict_kind: ConflictKind | None = None


def embedded_sample(image_size: int, num_images: int, num_conflict: int, seed: int = 0) -> Sample:
    """The embedded synthetic shapes: ``num_images`` test images and ``num_conflict`` cue-conflict images.

    Generated at ``image_size`` (>= 16): the same scenes (labels, layouts, colours) at every size, with the shapes
    scaled and the texture gratings at the same frequencies in cycles/pixel.
    """
    from lowfreq.data.synthetic import SyntheticShapesDataModule

    data = SyntheticShapesDataModule(num_test=max(num_images, 10), num_conflict=max(num_conflict, 10),
                                     image_size=image_size, seed=seed)
    test, conflict = data.generate("test"), data.generate("conflict")
    k = num_conflict
    return Sample(test.x[:num_images], test.y_shape[:num_images], data.class_names,
                  f"embedded synthetic shapes (SyntheticShapesDataModule test split, seed {seed}, {image_size} px)",
                  (conflict.x[:k], conflict.y_shape[:k], conflict.y_texture[:k]), "synthetic")


def list_folder(folder: str | Path) -> tuple[list[str], list[tuple[str, int]]]:
    """The classes of an image folder and its ``(path, class index)`` items, checked.

    Raises:
        FileNotFoundError: no such folder.
        ValueError: no class sub-folders, fewer than two classes with images, or fewer than ``MIN_IMAGES`` images;
            the message names ``--data``, the layout expected and what the folder holds.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"--data must be an existing folder of images in class sub-folders "
                                f"(<folder>/<class>/<image>), got {str(folder)!r}, which does not exist")
    if (root / "dnn").is_dir():
        return _stimulus_folder(root)
    from torchvision.datasets.folder import IMG_EXTENSIONS, make_dataset

    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    layout = "one sub-folder of images per class (ImageNet val layout: <folder>/<class>/<image>)"
    if not classes:
        loose = sum(1 for p in root.iterdir() if p.suffix.lower() in IMG_EXTENSIONS)
        raise ValueError(f"--data must hold {layout}, got {str(folder)!r} with no sub-folders"
                         + (f" ({loose} images lying directly in it)" if loose else ""))
    items = make_dataset(str(root), {c: i for i, c in enumerate(classes)}, extensions=IMG_EXTENSIONS,
                         allow_empty=True)
    used = sorted({label for _, label in items})
    if len(used) < 2 or len(items) < MIN_IMAGES:
        raise ValueError(f"--data must hold {layout} with at least 2 classes and {MIN_IMAGES} images "
                         f"({', '.join(IMG_EXTENSIONS)}), got {str(folder)!r} with {len(items)} images in "
                         f"{len(used)} of its {len(classes)} sub-folders")
    if len(used) < len(classes):  # empty class folders: drop them, keep the labels consecutive
        kept = [classes[i] for i in used]
        remap = {old: new for new, old in enumerate(used)}
        log.info("--data: %d empty class folders left out", len(classes) - len(used))
        return kept, [(path, remap[label]) for path, label in items]
    return classes, items


def _stimulus_folder(root: Path) -> tuple[list[str], list[tuple[str, int]]]:
    """A model-vs-human stimulus folder in its ``dnn/session-N/`` layout (categories from the file names)."""
    from lowfreq.mvh.raw_data import BENCHMARK_DATASETS
    from lowfreq.mvh.stimuli import stimulus_records

    if root.name not in BENCHMARK_DATASETS:
        raise ValueError(f"--data with a dnn/ folder must be a model-vs-human dataset folder named as one of "
                         f"{list(BENCHMARK_DATASETS)}, got {str(root)!r}")
    records = stimulus_records(root.parent, root.name)
    classes = sorted(set(records["category"]))
    index = {c: i for i, c in enumerate(classes)}
    items = [(str(p), index[c]) for p, c in zip(records["path"], records["category"], strict=True)]
    if len(items) < MIN_IMAGES or len(classes) < 2:
        raise ValueError(f"--data must hold at least {MIN_IMAGES} images of 2 classes, got {len(items)} images of "
                         f"{len(classes)} classes in {str(root)!r}")
    return classes, items


def _load(path: str, size: int) -> Tensor:
    """One image as (3, size, size) float32 in [0, 1]: as is at that size, else resized and centre-cropped."""
    import numpy as np
    from PIL import Image
    from torchvision.transforms import functional as TF

    with Image.open(path) as image:
        rgb = image.convert("RGB")
    if rgb.size != (size, size):
        rgb = TF.center_crop(TF.resize(rgb, int(size * 256 / 224), antialias=True), [size, size])
    array = np.asarray(rgb, dtype=np.float32) / np.float32(255.0)  # (H, W, 3)
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


def _texture_class(path: str, class_names: Sequence[str]) -> int:
    """Index of a cue-conflict stimulus' texture class (``..._dog10-bird2.png`` -> bird), -1 if it names none."""
    from lowfreq.mvh.raw_data import texture_category

    name = Path(path).name
    texture = texture_category(name) if "-" in name else ""
    return list(class_names).index(texture) if texture in class_names else -1


def folder_sample(
    folder: str | Path, image_size: int, num_images: int, seed: int = 0, *, progress: bool = False
) -> Sample:
    """A seeded subset of ``num_images`` images of ``folder`` at ``image_size``, with its cue-conflict images.

    When the class names are model-vs-human categories and the file names give a texture class
    (``<shape>N-<texture>M.png``), the images whose texture class differs from their shape class are the
    cue-conflict images.
    """
    classes, items = list_folder(folder)
    chosen = seeded_subset(len(items), num_images, seed).tolist()
    images = []
    with image_progress(len(chosen), "loading images", progress) as bar:
        for i in chosen:
            images.append(_load(items[i][0], image_size))
            bar.update(1)
    x = torch.stack(images)
    y = torch.tensor([items[i][1] for i in chosen], dtype=torch.long)
    sample = Sample(x, y, classes, f"{folder} ({len(items)} images in {len(classes)} classes; {image_size} px)")
    if set(classes) <= set(CLASSES_16):
        texture = torch.tensor([_texture_class(items[i][0], classes) for i in chosen], dtype=torch.long)
        conflict = (texture >= 0) & (texture != y)
        if bool(conflict.any()):
            sample.conflict = (x[conflict], y[conflict], texture[conflict])
            sample.conflict_kind = "model-vs-human"
    return sample


class DataHead(nn.Module):
    """A model's logits on the data's classes: ``model(x)`` mapped to (B, C), C = the data's number of classes.

    Args:
        model: [0, 1] images -> (B, K) logits.
        index: (C,) output (or 16-class) index of each data class, None = all K outputs as they are.
        to_16: map the logits to the 16 model-vs-human classes first (``logits_to_16``: 1000 -> 16 mean
            probabilities, 16 as they are).
    """

    index: Tensor | None

    def __init__(self, model: nn.Module, index: Sequence[int] | None = None, to_16: bool = False) -> None:
        super().__init__()
        self.model, self.to_16 = model, to_16
        self.register_buffer("index", None if index is None else torch.tensor(list(index)), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) in [0, 1] -> (B, num data classes) scores."""
        logits = self.model(x)
        if self.to_16:
            logits = logits_to_16(logits)
        return cast("Tensor", logits if self.index is None else logits[:, self.index])


def _imagenet_wnids() -> list[str] | None:
    """The 1000 ImageNet wnids in class-index order (from timm's tables), None without timm."""
    try:
        from timm.data import ImageNetInfo
    except ImportError:
        return None
    return [str(n) for n in ImageNetInfo().label_names()]


def data_head(
    model: nn.Module, num_outputs: int, class_names: Sequence[str], *, spec: str, embedded: bool,
    model_classes: Sequence[str] | None = None,
) -> tuple[DataHead, str]:
    """``model`` scored on the data's classes, and a line saying how (empty when the outputs are the classes).

    In this order: the model's recorded training classes equal the data's, or it has one output per data class
    (outputs in the data's class order); the data's classes are model-vs-human categories and the model has 16 or
    1000 outputs (model-vs-human's mapping); the folder's classes are ImageNet wnids and the model has 1000 outputs
    (those outputs); the embedded data's 10 classes are read as a larger model's first 10 outputs.

    Raises:
        ValueError: the data's classes do not fit the model's outputs (naming ``--data``, MODEL and both counts).
    """
    names, count = list(class_names), len(class_names)
    if (model_classes is not None and list(model_classes) == names) or num_outputs == count:
        differ = model_classes is not None and list(model_classes) != names
        return DataHead(model), (f"trained on other classes ({', '.join(list(model_classes or [])[:3])}, ...) than "
                                 f"the data's ({', '.join(names[:3])}, ...): outputs read in the data's class order"
                                 if differ else "")
    if set(names) <= set(CLASSES_16) and num_outputs in (len(CLASSES_16), 1000):
        via = "" if num_outputs == len(CLASSES_16) else " through model-vs-human's 1000 -> 16 mapping"
        return (DataHead(model, [CLASSES_16.index(n) for n in names], to_16=True),
                f"scored on the {count} model-vs-human classes of the data{via}")
    wnids = _imagenet_wnids() if num_outputs == 1000 else None
    if wnids is not None and set(names) <= set(wnids):
        return (DataHead(model, [wnids.index(n) for n in names]),
                f"scored on the ImageNet outputs of the folder's {count} wnids")
    if embedded and num_outputs > count:
        return (DataHead(model, list(range(count))),
                f"the embedded data's {count} classes are read as its first {count} of {num_outputs} outputs "
                "(meaningful only for a model trained on them)")
    raise ValueError(
        f"--data classes must fit MODEL {spec}'s {num_outputs} outputs: a folder with {num_outputs} class "
        "sub-folders, ImageNet wnids (n01440764, ...) for a 1000-class model, or model-vs-human categories for a "
        f"16- or 1000-class model; got {count} classes ({', '.join(names[:4])}{', ...' if count > 4 else ''})"
    )
