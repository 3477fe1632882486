"""Notebooks run top to bottom (code cells executed in order, the parameters cell overridden with tiny values)."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TINY = {"max_epochs": 1, "num_train": 200, "num_images": 60}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notebook = json.loads(path.read_text())
    namespace: dict = {}
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        assert not cell.get("outputs"), f"{path.name}: strip outputs before committing"
        exec(compile("".join(cell["source"]), path.name, "exec"), namespace)  # noqa: S102 - our own notebook
        if "parameters" in cell["metadata"].get("tags", []):
            namespace.update(TINY)
    assert namespace["models"].keys() == {"baseline", "blur 1.5"}
