"""Checkpoint I/O of lowfreq's models: weights-only reading with clear errors, and the record of the training data."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import lightning as L
import torch

from lowfreq.mvh.labels import CLASSES_16

__all__ = ["DATA_KEY", "check_fits_data", "data_signature", "read_checkpoint", "record_data"]

DATA_KEY = "lowfreq_data"
"""Checkpoint entry in which lowfreq's models record the data they were trained on (``data_signature``)."""


def read_checkpoint(name: str, path: Path) -> dict[str, Any]:
    """``torch.load(path, weights_only=True)`` with errors that name the parameter and the file."""
    if not path.is_file():
        raise FileNotFoundError(f"{name} must be an existing checkpoint file, got {str(path)!r}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "Unsupported global" in str(err):
            raise ValueError(
                f"{name}={str(path)!r} holds Python objects besides tensors and plain data, so lowfreq does not load "
                "it (unpickling them could run code); lowfreq's own checkpoints never do"
            ) from None
        raise ValueError(f"{name}={str(path)!r} is not a readable PyTorch checkpoint (corrupt or truncated)") from None
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"{name}={str(path)!r} is not a readable PyTorch checkpoint ({reason})") from None
    if not isinstance(state, dict):
        raise TypeError(f"{name}={str(path)!r} must hold a checkpoint or state dict, got {type(state).__name__}")
    return state


def data_signature(datamodule: Any) -> dict[str, Any]:
    """What a checkpoint records about its data, as plain data.

    The datamodule's class, ``num_classes``, ``class_names`` and ``image_shape`` (C, H, W); the entries the
    datamodule cannot tell (yet) are left out.
    """
    if datamodule is None:
        return {}
    cls = type(datamodule)
    signature: dict[str, Any] = {"datamodule": f"{cls.__module__}.{cls.__qualname__}"}
    for name in ("num_classes", "class_names", "image_shape"):
        try:
            value = getattr(datamodule, name)
        except (AttributeError, NotImplementedError, OSError, RuntimeError, ValueError):
            continue  # e.g. ImageNet's class names before its folders exist
        if name == "num_classes" and isinstance(value, int):
            signature[name] = int(value)
        elif name == "class_names" and isinstance(value, (list, tuple)):
            signature[name] = [str(v) for v in value]
        elif name == "image_shape" and isinstance(value, (list, tuple)) and len(value) == 3:
            signature[name] = [int(v) for v in value]
    return signature


def _few(names: list[str], limit: int = 4) -> str:
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")


def check_fits_data(
    source: str, datamodule: Any, num_classes: int | None, recorded: dict[str, Any] | None = None
) -> None:
    """Raise ValueError, naming both values, when a model or checkpoint does not fit the data it is to be run on.

    Compared: the model's number of outputs ``num_classes`` with the data's number of classes (a 1000-way ImageNet
    model on the 16 model-vs-human classes is fine: it is scored through the ImageNet -> 16 mapping) and, from
    the checkpoint's record of its training data (``recorded``, ``DATA_KEY``), the class names and the image
    shape (channels, height and width) with the data's.

    Args:
        source: what is checked, for the message (``"--ckpt_path run/last.ckpt"``).
        datamodule: the data (anything with ``num_classes`` / ``class_names`` / ``image_shape``).
        num_classes: the model's number of outputs, None when unknown.
        recorded: ``data_signature`` of the training data, as stored in the checkpoint.
    """
    data, recorded = data_signature(datamodule), recorded or {}
    name = data.get("datamodule", type(datamodule).__name__).rsplit(".", 1)[-1]
    trained_on = str(recorded.get("datamodule", "its training data")).rsplit(".", 1)[-1]
    classes, names = data.get("num_classes"), data.get("class_names")
    to_16 = num_classes == 1000 and names == list(CLASSES_16)
    if num_classes is not None and classes is not None and num_classes != classes and not to_16:
        raise ValueError(
            f"{source} predicts {num_classes} classes, but the data ({name}) have {classes}: evaluate it on "
            f"{trained_on if 'datamodule' in recorded else f'{num_classes}-class data'}, or pass a model or "
            f"checkpoint with {classes} classes"
        )
    old_names = recorded.get("class_names")
    if old_names and names and old_names != names and not to_16:
        raise ValueError(
            f"{source} was trained on other classes ({trained_on}: {_few(old_names)}) than those of the data "
            f"({name}: {_few(names)}): evaluate it on {trained_on}, or pass a checkpoint trained on {name}"
        )
    old_shape, shape = recorded.get("image_shape"), data.get("image_shape")
    if old_shape and shape and list(old_shape) != list(shape):
        what = "number of channels" if old_shape[0] != shape[0] else "image size"
        raise ValueError(
            f"{source} was trained on {old_shape[0]}x{old_shape[1]}x{old_shape[2]} (CxHxW) images ({trained_on}), "
            f"but the data ({name}) have {shape[0]}x{shape[1]}x{shape[2]}: the {what} differs; set the data's "
            "options to match (e.g. --data.init_args.image_size), or pass a checkpoint trained on these images"
        )


def record_data(module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
    """Store ``data_signature`` of the module's datamodule in ``checkpoint[DATA_KEY]`` (nothing without a Trainer)."""
    try:
        datamodule = getattr(module.trainer, "datamodule", None)
    except RuntimeError:  # not attached to a Trainer
        return
    signature = data_signature(datamodule)
    if signature:
        checkpoint[DATA_KEY] = signature
