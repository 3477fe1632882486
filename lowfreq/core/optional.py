"""Optional dependencies: import one when it is first needed, or say what needs it and how to install it."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


def require(module: str, *, extra: str, purpose: str, package: str | None = None, note: str = "") -> ModuleType:
    """Import the optional module ``module``, or raise an ImportError naming what needs it and the extra to install.

    Call it inside the function that needs the module, so that ``import lowfreq`` stays cheap.

    Args:
        module: dotted module name, e.g. "foolbox" or "sklearn.linear_model".
        extra: the lowfreq extra that installs it (``pip install 'lowfreq[<extra>]'``).
        purpose: what needs it, as the subject of "needs", e.g. "the adversarial analyses" or "TimmClassifier".
        package: the distribution's name on PyPI when it differs from the top-level module (e.g. "scikit-learn").
        note: an extra sentence for the message (e.g. a version conflict to know about).

    Returns:
        The imported module.

    Raises:
        ImportError: ``module`` cannot be imported: ``"<purpose> needs <package> (<reason>): pip install
            'lowfreq[<extra>]'"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        name = package or module.split(".")[0]
        message = f"{purpose} needs {name} ({err}): pip install 'lowfreq[{extra}]'"
        raise ImportError(f"{message}; {note}" if note else message) from err
