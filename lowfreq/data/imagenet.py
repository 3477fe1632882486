"""ImageNet (ILSVRC-2012) from an ImageFolder tree; images in [0, 1], never normalised."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import cast

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset, Subset

from lowfreq.core.checks import check_positive_int, check_range
from lowfreq.data.base import ImageDataModule
from lowfreq.data.datasets import train_val_indices

__all__ = ["ImageNetDataModule"]


def _as_long(target: int) -> Tensor:
    """ImageFolder target -> int64 scalar tensor (module level so DataLoader workers can pickle it)."""
    return torch.tensor(target, dtype=torch.long)


class ImageNetDataModule(ImageDataModule):
    """ImageNet in ImageFolder layout: train minus a seeded held-out part, val = that part, test = the val folder.

    Expects ``data_dir/train/<wnid>/*.JPEG`` and ``data_dir/val/<wnid>/*.JPEG`` (the 50,000 validation images
    sorted into class folders). Train images: ``RandomResizedCrop(image_size)`` + horizontal flip (+ optional
    ``ColorJitter``); eval images: ``Resize(int(image_size * 256 / 224))`` + ``CenterCrop(image_size)``. Output is
    ``ToTensor()`` in [0, 1]; normalisation happens inside the backbone.

    Args:
        data_dir: root holding ``train/`` and ``val/``. ImageNet cannot be downloaded automatically.
        image_size: side of the square crops in pixels, >= 8.
        val_fraction: fraction of the train folder held out for model selection, in [0, 0.5] (0.05 in the
            blur-net ImageNet recipe); 0 holds nothing out and validates on the val folder.
        augment: random-resized-crop + flip for the train split; False uses the eval transform for training.
        color_jitter: brightness/contrast/saturation jitter strength for the train split (0.1 in the blur-net
            recipe), in [0, 1]; 0 disables it. Only used when ``augment``.
        batch_size: images per batch, >= 1.
        num_workers: DataLoader worker processes (JPEG decoding), >= 0.
        seed: seed of the train/val split and of the shuffling, >= 0.
        train_transform: batched module applied to training batches on the device after augmentation (e.g.
            ``lowfreq.data.ComponentTransform``: train on low/high-frequency components, P003 Table 1).
    """

    def __init__(
        self,
        data_dir: str = "data/imagenet",
        image_size: int = 224,
        val_fraction: float = 0.05,
        augment: bool = True,
        color_jitter: float = 0.0,
        batch_size: int = 128,
        num_workers: int = 8,
        seed: int = 0,
        train_transform: nn.Module | None = None,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed, augment=augment,
                         train_transform=train_transform)
        if not isinstance(data_dir, (str, Path)):
            raise TypeError(f"data_dir must be a path string, got {type(data_dir).__name__}")
        check_positive_int("image_size", image_size, minimum=8)
        check_range("val_fraction", val_fraction, 0.0, 0.5)
        check_range("color_jitter", color_jitter, 0.0, 1.0)
        self.data_dir, self.image_size = data_dir, image_size
        self.val_fraction, self.color_jitter = val_fraction, color_jitter

    def _folder(self, split: str) -> Path:
        return Path(self.data_dir).expanduser() / split

    def _check_folders(self) -> None:
        missing = [str(self._folder(s)) for s in ("train", "val") if not self._folder(s).is_dir()]
        if missing:
            raise FileNotFoundError(
                f"ImageNet not found: missing {missing}. ImageNet cannot be downloaded automatically; put the "
                f"ILSVRC-2012 images in ImageFolder layout into data_dir={str(self.data_dir)!r}: "
                "<data_dir>/train/<wnid>/*.JPEG and <data_dir>/val/<wnid>/*.JPEG (validation images sorted into "
                "class folders)."
            )

    @property
    def class_names(self) -> list[str]:
        """WordNet ids (folder names of ``data_dir/train``), index = label."""
        from torchvision.datasets.folder import find_classes

        self._check_folders()
        return cast("list[str]", find_classes(str(self._folder("train")))[0])

    @property
    def num_classes(self) -> int:
        """Number of class folders in ``data_dir/train``; 1000 while the folder does not exist yet."""
        return len(self.class_names) if self._folder("train").is_dir() else 1000

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(3, image_size, image_size)."""
        return (3, self.image_size, self.image_size)

    def prepare_data(self) -> None:
        """Check that ``data_dir/train`` and ``data_dir/val`` exist (nothing can be downloaded)."""
        self._check_folders()

    def _transforms(self) -> tuple[object, object]:
        from torchvision import transforms as T

        eval_tf = T.Compose(
            [T.Resize(int(self.image_size * 256 / 224)), T.CenterCrop(self.image_size), T.ToTensor()]
        )
        if not self.augment:
            return eval_tf, eval_tf
        train = [T.RandomResizedCrop(self.image_size), T.RandomHorizontalFlip()]
        if self.color_jitter > 0:
            train.append(T.ColorJitter(self.color_jitter, self.color_jitter, self.color_jitter))
        return T.Compose([*train, T.ToTensor()]), eval_tf

    def _build(self) -> dict[str, Dataset]:
        from torchvision.datasets import ImageFolder

        self._check_folders()
        train_tf, eval_tf = self._transforms()
        full_train = ImageFolder(str(self._folder("train")), transform=train_tf, target_transform=_as_long)
        test = ImageFolder(str(self._folder("val")), transform=eval_tf, target_transform=_as_long)
        if test.classes != full_train.classes:
            only_train = sorted(set(full_train.classes) - set(test.classes))[:5]
            only_val = sorted(set(test.classes) - set(full_train.classes))[:5]
            raise ValueError(
                f"class folders of {self._folder('train')} and {self._folder('val')} differ "
                f"(only in train: {only_train}, only in val: {only_val}, first 5 shown)"
            )
        full_eval = copy.copy(full_train)  # shares the scanned sample list; only the transform differs
        full_eval.transform = eval_tf
        full_eval.transforms = type(full_train.transforms)(eval_tf, _as_long)
        train_idx, val_idx = train_val_indices(len(full_train), self.val_fraction, self.seed)
        train = Subset(full_train, train_idx.tolist())
        val = Subset(full_eval, val_idx.tolist()) if len(val_idx) else test
        train_eval = Subset(full_eval, train_idx.tolist())
        return {"train": train, "train_eval": train_eval, "val": val, "test": test}
