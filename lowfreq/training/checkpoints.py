"""Checkpoint I/O of lowfreq's models.

Weights-only reading with clear errors, plain hyper-parameters, initial backbone weights, and the record of the
training data.
"""

from __future__ import annotations

import logging
import pickle
import sys
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any, cast

import lightning as L
import torch
from torch import nn

from lowfreq.core.spec import module_spec
from lowfreq.mvh.labels import CLASSES_16

__all__ = [
    "DATA_KEY",
    "check_fits_data",
    "check_label_map",
    "data_signature",
    "function_from_path",
    "function_path",
    "load_backbone_weights",
    "make_hparams_plain",
    "read_checkpoint",
    "record_data",
]

log = logging.getLogger(__name__)

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


def load_backbone_weights(backbone: nn.Module, path: str) -> None:
    """Load the ``backbone.*`` weights of a Lightning checkpoint, or a plain state dict, into ``backbone``.

    Raises:
        ValueError: the file's weights do not fit ``backbone`` (naming ``init_checkpoint``, its parameter).
    """
    state = read_checkpoint("init_checkpoint", Path(path))
    state = state.get("state_dict", state)
    backbone_state = {k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")}
    try:
        backbone.load_state_dict(backbone_state or state)
    except RuntimeError as err:
        summary = str(err).splitlines()[0]
        raise ValueError(
            f"init_checkpoint={path!r} does not fit the backbone {type(backbone).__name__} ({summary}); "
            "pass a checkpoint of the same architecture"
        ) from None
    log.info("initialised the backbone from %s", path)


def function_path(function: Callable[..., Any]) -> str:
    """``"module.name"`` of a module-level function, the form that LightningCLI and checkpoints record."""
    return f"{function.__module__}.{function.__qualname__}"


def function_from_path(name: str, path: str) -> Callable[..., Any]:
    """The function ``path`` (``"module.name"``) of an already imported module, as ``function_path`` wrote it.

    Raises:
        ValueError: ``path`` names no function of an imported module (naming the parameter ``name``).
    """
    module, _, attr = path.rpartition(".")
    function = getattr(sys.modules.get(module), attr, None)
    if not callable(function):
        raise ValueError(
            f"{name} must be a function or the import path of one in an imported module (e.g. "
            f"lowfreq.mvh.labels.imagenet_to_16), got {path!r}"
        )
    return cast("Callable[..., Any]", function)


def make_hparams_plain(hparams: MutableMapping[str, Any]) -> None:
    """Keep only plain data in a model's hyper-parameters, so its checkpoints load with ``weights_only=True``.

    Under LightningCLI they already are ({class_path, init_args} dicts, import paths). Modules become such dicts
    (``lowfreq.core.spec.module_spec``), a function ``label_map`` its import path (``function_path``), and the
    optimiser and scheduler factories are dropped: only training needs them (pass them again to resume from Python).
    """
    for key, value in list(hparams.items()):
        if isinstance(value, nn.Module):
            hparams[key] = module_spec(value)
        elif key in ("optimizer", "lr_scheduler") and callable(value):
            del hparams[key]
        elif key == "label_map" and callable(value):
            hparams[key] = function_path(value)


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


def check_label_map(source: str, datamodule: Any, num_classes: int | None) -> None:
    """Raise ValueError when a 1000-way (ImageNet) model meets the 16 model-vs-human classes without a label map.

    The message names the argument and the value to give: ``label_map: lowfreq.mvh.labels.imagenet_to_16``.

    Args:
        source: what is checked, for the message.
        datamodule: the data (anything with ``class_names``).
        num_classes: the number of classes the model scores (its outputs after its label map), None when unknown.
    """
    data = data_signature(datamodule)
    if num_classes == 1000 and data.get("class_names") == list(CLASSES_16):
        name = data.get("datamodule", type(datamodule).__name__).rsplit(".", 1)[-1]
        raise ValueError(
            f"{source} predicts 1000 (ImageNet) classes, but the data ({name}) have the 16 model-vs-human classes: "
            "set label_map: lowfreq.mvh.labels.imagenet_to_16 (--model.init_args.label_map="
            "lowfreq.mvh.labels.imagenet_to_16; in Python FrontEndClassifier(..., label_map=imagenet_to_16))"
        )


def check_fits_data(
    source: str,
    datamodule: Any,
    num_classes: int | None,
    recorded: dict[str, Any] | None = None,
    label_map: bool = False,
) -> None:
    """Raise ValueError, naming both values, when a model or checkpoint does not fit the data it is to be run on.

    Compared: the number of classes the model scores ``num_classes`` with the data's number of classes and, from
    the checkpoint's record of its training data (``recorded``, ``DATA_KEY``), the class names (unless the model
    has a ``label_map``, which maps its outputs to other classes) and the image shape (channels, height and width)
    with the data's. A 1000-way model on the 16 model-vs-human classes is told to set
    ``label_map: lowfreq.mvh.labels.imagenet_to_16`` (``check_label_map``).

    Args:
        source: what is checked, for the message (``"--ckpt_path run/last.ckpt"``).
        datamodule: the data (anything with ``num_classes`` / ``class_names`` / ``image_shape``).
        num_classes: the number of classes the model scores (its outputs after its label map), None when unknown.
        recorded: ``data_signature`` of the training data, as stored in the checkpoint.
        label_map: the model maps its outputs to the data's classes (``FrontEndClassifier(label_map=...)``).
    """
    data, recorded = data_signature(datamodule), recorded or {}
    name = data.get("datamodule", type(datamodule).__name__).rsplit(".", 1)[-1]
    trained_on = str(recorded.get("datamodule", "its training data")).rsplit(".", 1)[-1]
    classes, names = data.get("num_classes"), data.get("class_names")
    check_label_map(source, datamodule, num_classes)
    if num_classes is not None and classes is not None and num_classes != classes:
        raise ValueError(
            f"{source} predicts {num_classes} classes, but the data ({name}) have {classes}: evaluate it on "
            f"{trained_on if 'datamodule' in recorded else f'{num_classes}-class data'}, or pass a model or "
            f"checkpoint with {classes} classes"
        )
    old_names = recorded.get("class_names")
    if old_names and names and old_names != names and not label_map:
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
