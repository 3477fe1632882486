"""Import direction: the pure layers never pull in Lightning, and `import lowfreq` stays light."""

import subprocess
import sys

import pytest


def _loaded_after(statement: str, modules: list[str]) -> dict[str, bool]:
    code = f"import sys; {statement}; print([m in sys.modules for m in {modules!r}])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return dict(zip(modules, eval(out.strip().splitlines()[-1])))


@pytest.mark.parametrize("statement", [
    "import lowfreq",
    "import lowfreq.spectral, lowfreq.filters, lowfreq.frontends, lowfreq.backbones",
    "import lowfreq.analysis, lowfreq.plotting, lowfreq.io",
])
def test_pure_layers_do_not_import_lightning(statement):
    loaded = _loaded_after(statement, ["lightning", "open_clip", "foolbox", "matplotlib.pyplot"])
    assert loaded == {"lightning": False, "open_clip": False, "foolbox": False, "matplotlib.pyplot": False}


def test_lazy_attributes_resolve():
    import lowfreq

    assert lowfreq.FrontEndClassifier.__name__ == "FrontEndClassifier"
    assert lowfreq.data.SyntheticShapesDataModule.__name__ == "SyntheticShapesDataModule"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = lowfreq.nope
