"""The notebooks run top to bottom in a real Jupyter kernel, with tiny values in their parameters cell.

Every notebook in ``notebooks/`` is executed with nbclient on a copy whose parameters cell (the first code cell,
tagged ``parameters``) gets override lines appended (``TINY`` and ``TINY_PER_NOTEBOOK``); the kernel runs in a
temporary directory and is this interpreter's own ipykernel (a kernelspec written for ``sys.executable``, so a
``python3`` kernelspec elsewhere on the machine cannot pick another environment). Each run must raise nothing and
show at least one figure inline (an ``image/png`` output). Committed notebooks carry no outputs.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

TINY = {"max_epochs": 1, "num_train": 200, "num_images": 60}
"""Overrides for every notebook that has the parameter."""

TINY_PER_NOTEBOOK: dict[str, dict[str, object]] = {
    "01_quickstart.ipynb": {"num_permutations": 1},
    "02_hybrid_images_and_components.ipynb": {"num_permutations": 1, "heat_map_images": 20},
    "03_adversarial_spectra.ipynb": {
        "num_images": 20, "fmn_steps": 10, "pgd_steps": 5, "num_bootstrap": 20, "rhos": (0.0, 0.5),
    },
    "04_fourier_masks.ipynb": {"num_single": 3, "max_steps": 60},
    "05_model_vs_human.ipynb": {"images_per_dataset": 3},
    "06_corruptions_and_compare.ipynb": {"num_images": 40, "severities": (3,)},
}
"""Further overrides by notebook (applied after ``TINY``; only names the parameters cell defines)."""

NEEDS_DATA = {"05_model_vs_human.ipynb"}
"""Notebooks that read ``$LOWFREQ_TEST_DATA/model-vs-human``: skipped when the variable is unset."""

CELL_TIMEOUT_S = 300


def _parameters_cell(notebook) -> tuple[int, dict]:
    code = [(i, c) for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    tagged = [(i, c) for i, c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one code cell must be tagged 'parameters'"
    assert tagged[0][0] == code[0][0], "the parameters cell must be the first code cell"
    return tagged[0]


def _assigned_names(source: str) -> set[str]:
    return {t.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name)}


def _overrides(path: Path, defined: set[str]) -> dict[str, object]:
    values = {k: v for k, v in TINY.items() if k in defined}
    values.update(TINY_PER_NOTEBOOK.get(path.name, {}))
    return values


def test_notebooks_exist():
    assert [p.name for p in NOTEBOOKS][:1] == ["01_quickstart.ipynb"]
    assert len(NOTEBOOKS) >= 6


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean(path):
    """Committed notebooks: valid nbformat 4, python3 kernel, no outputs, one parameters cell first."""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            strip = f"{path.name}: strip outputs before committing (e.g. jupyter nbconvert --clear-output --inplace)"
            assert not cell.get("outputs"), strip
            assert cell.get("execution_count") is None, strip
    assert notebook.cells[0].cell_type == "markdown", f"{path.name}: start with a markdown introduction"
    _, cell = _parameters_cell(notebook)
    defined = _assigned_names(cell.source)
    unknown = set(TINY_PER_NOTEBOOK.get(path.name, {})) - defined
    assert not unknown, f"{path.name}: the tiny overrides {sorted(unknown)} are not parameters of the notebook"


@pytest.fixture(scope="session")
def kernel_name(tmp_path_factory):
    """A kernelspec for this interpreter, found first on JUPYTER_PATH, so the notebooks run in this environment."""
    from ipykernel.kernelspec import write_kernel_spec

    jupyter_dir = tmp_path_factory.mktemp("jupyter")
    name = "lowfreq-test-python"
    write_kernel_spec(str(jupyter_dir / "kernels" / name), overrides={"display_name": "lowfreq tests"})
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(jupyter_dir), *([old] if old else [])])
    yield name
    if old is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = old


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path, kernel_name, monkeypatch):
    from nbclient import NotebookClient

    if path.name in NEEDS_DATA and not os.environ.get("LOWFREQ_TEST_DATA"):
        pytest.skip("needs the model-vs-human test data: set LOWFREQ_TEST_DATA (the folder holding model-vs-human/)")
    notebook = nbformat.read(path, as_version=4)
    index, cell = _parameters_cell(notebook)
    overrides = _overrides(path, _assigned_names(cell.source))
    lines = "".join(f"{k} = {v!r}\n" for k, v in overrides.items())
    cell.source += "\n# tiny values (tests/test_notebooks.py)\n" + lines
    # the kernel must be this environment's interpreter (checked inside the kernel, before the notebook's cells)
    check = nbformat.v4.new_code_cell(f"import sys\nassert sys.prefix == {sys.prefix!r}, sys.executable")
    notebook.cells.insert(index, check)
    # one intra-op thread in the kernel: the tiny batches gain nothing from two, and on a busy CI machine two threads
    # spin against each other (10x slower attacks measured on 2 shared cores)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name=kernel_name,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name}: no figure shown inline (end a cell with the figure; %matplotlib inline)"
    assert not [o for o in outputs if "<Figure size" in o.get("data", {}).get("text/plain", "")
                and "image/png" not in o.get("data", {})], f"{path.name}: a figure was shown as text, not as an image"
