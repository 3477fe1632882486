"""Constructor specs of modules: record ``__init__`` arguments, write them as ``{class_path, init_args}``, rebuild.

Checkpoints of models built in Python then hold plain data (loadable with ``torch.load(weights_only=True)``)
instead of pickled module objects, in the same form LightningCLI uses.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Mapping
from typing import Any, TypeVar

from torch import nn

__all__ = ["RecordsInitArgs", "build_from_spec", "module_spec"]

ModuleT = TypeVar("ModuleT", bound=nn.Module)


class RecordsInitArgs:
    """Mixin: every subclass instance keeps the arguments of its outermost ``__init__`` call in ``init_args``."""

    init_args: dict[str, Any] = {}  # noqa: RUF012 - classes without an __init__ of their own take no arguments

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" not in cls.__dict__:
            return
        original = cls.__dict__["__init__"]
        signature = inspect.signature(original)

        @functools.wraps(original)
        def __init__(self: Any, *args: Any, **kw: Any) -> None:
            original(self, *args, **kw)
            bound = signature.bind(self, *args, **kw)
            bound.apply_defaults()
            params = dict(bound.arguments)
            params.pop(next(iter(signature.parameters)))  # self
            object.__setattr__(self, "init_args", params)  # the outermost __init__ finishes last and wins

        cls.__init__ = __init__  # type: ignore[method-assign]


def _plain(value: Any) -> Any:
    """JSON-plain copy of ``value`` (tuples become lists); raises TypeError for anything else."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: _plain(v) for k, v in value.items()}
    raise TypeError(type(value).__name__)


def module_spec(module: nn.Module) -> dict[str, Any] | str:
    """``{"class_path": ..., "init_args": ...}`` rebuilding ``module``'s architecture, or a string saying why not.

    The spec holds plain data only; learned or fitted tensors travel in the state dict.
    """
    cls = type(module)
    init_args = getattr(module, "init_args", None)
    if not isinstance(init_args, dict):
        return f"unrecorded {cls.__module__}.{cls.__qualname__} (its __init__ arguments are not recorded)"
    try:
        plain = _plain(init_args)
    except TypeError as err:
        return f"unrecorded {cls.__module__}.{cls.__qualname__} (an __init__ argument is a {err})"
    return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": plain}


def build_from_spec(name: str, spec: Any, base: type[ModuleT]) -> ModuleT:
    """Instantiate a ``module_spec`` dict. Only classes of already imported modules, subclasses of ``base``.

    Args:
        name: parameter name for error messages (e.g. "frontend").
        spec: a module (returned as is), a spec dict, or the "unrecorded ..." string of ``module_spec``.
        base: the required base class.
    """
    if isinstance(spec, base):
        return spec
    if isinstance(spec, str):
        raise TypeError(
            f"{name} must be a {base.__name__} instance or a {{class_path, init_args}} spec, got the checkpoint note "
            f"{spec!r}: pass {name}=<the module> to load_from_checkpoint"
        )
    if not isinstance(spec, Mapping) or not isinstance(spec.get("class_path"), str):
        raise TypeError(
            f"{name} must be a {base.__name__} or a {{class_path, init_args}} dict, got {type(spec).__name__}"
        )
    module_name, _, class_name = spec["class_path"].rpartition(".")
    cls = getattr(sys.modules.get(module_name), class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise TypeError(
            f"{name}.class_path must name a {base.__name__} subclass of an imported module, got "
            f"{spec['class_path']!r} (import its module before loading)"
        )
    return cls(**dict(spec.get("init_args") or {}))
