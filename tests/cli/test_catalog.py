"""``lowfreq list backbones|frontends|analyses|recipes``: read from the code (``__all__``, base classes,
docstrings) without importing torch, recipes with their first comment line, one-line errors."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lowfreq.cli import catalog

ROOT = Path(__file__).resolve().parents[2]


def _lowfreq(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "lowfreq", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120, check=False)


@pytest.mark.parametrize(("kind", "known", "absent"), [
    ("backbones", ["lowfreq.backbones.CIFARResNet18", "lowfreq.backbones.OpenCLIPZeroShot",
                   "lowfreq.backbones.TorchvisionClassifier"], ["Backbone ", "Normalize", "IMAGENET_MEAN"]),
    ("frontends", ["lowfreq.frontends.GaussianBlur", "lowfreq.frontends.DownUpResize", "lowfreq.frontends.Identity"],
     ["FrontEnd "]),
    ("analyses", ["lowfreq.callbacks.HybridCurveAnalysis", "hybrid", "lowfreq.callbacks.ModelVsHumanAnalysis",
                  "model_vs_human"], ["AnalysisCallback", "FrontEndFitting", "RunSummary"]),
    ("recipes", ["recipes/quickstart.yaml", "recipes/clip_alignment.yaml", "Quickstart on the embedded synthetic data"],
     []),
])
def test_each_kind_lists_known_names_one_line_each(kind, known, absent):
    proc = _lowfreq("list", kind)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(kind)
    assert lines[0].endswith(":")
    for name in known:
        assert name in proc.stdout, name
    for name in absent:
        assert f".{name}" not in proc.stdout, name
    assert len(lines) == 1 + len(catalog.entries(kind))


def test_docstring_first_lines_and_class_paths():
    proc = _lowfreq("list", "frontends")
    assert "  lowfreq.frontends.Identity" in proc.stdout
    assert "No filtering: the baseline." in proc.stdout
    (line,) = [x for x in _lowfreq("list", "analyses").stdout.splitlines() if "FourierMaskAnalysis" in x]
    assert "fourier_mask" in line
    assert "learned by a FourierMaskProbe" in line


@pytest.mark.parametrize(("package", "base"), [
    ("lowfreq.backbones", "Backbone"), ("lowfreq.frontends", "FrontEnd"), ("lowfreq.callbacks", "AnalysisCallback"),
])
def test_lists_equal_what_importing_the_package_finds(package, base):
    """The source reading agrees with the imported classes: every subclass in __all__, in order, its docstring."""
    import importlib

    module = importlib.import_module(package)
    base_class = getattr(module, base)
    classes = {name: getattr(module, name) for name in module.__all__}
    expected = [name for name, obj in classes.items()
                if inspect.isclass(obj) and issubclass(obj, base_class) and obj is not base_class]
    kind = {"Backbone": "backbones", "FrontEnd": "frontends", "AnalysisCallback": "analyses"}[base]
    found = catalog.entries(kind)
    assert [e.name for e in found] == expected
    assert len(expected) >= 6
    for entry in found:
        cls = getattr(module, entry.name)
        assert entry.path == f"{package}.{entry.name}"
        assert entry.description == catalog._plain(inspect.getdoc(cls).splitlines()[0])
        if kind == "analyses":
            assert entry.analysis == cls.name


def test_listing_imports_neither_torch_nor_lightning():
    code = ("import sys\nfrom lowfreq.cli.entry import main\nfor kind in ('backbones', 'frontends', 'analyses'):\n"
            "    main(['list', kind])\nprint('RESULT', 'torch' in sys.modules, 'lightning' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    assert "lowfreq.backbones.SimpleCNN" in out
    assert out.strip().splitlines()[-1] == "RESULT False False"


@pytest.mark.parametrize("args", [[], ["models"], ["backbones", "frontends"]])
def test_a_missing_or_wrong_kind_is_one_line_naming_the_choices(args):
    proc = _lowfreq("list", *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    got = "nothing" if not args else repr(" ".join(args))
    assert proc.stderr == f"lowfreq list: error: expected one of backbones, frontends, analyses, recipes; got {got}\n"


def test_help_names_the_choices():
    proc = _lowfreq("list", "--help")
    assert proc.returncode == 0
    assert "usage: lowfreq list {backbones,frontends,analyses,recipes}" in proc.stdout


def test_recipes_of_the_current_folder_first_then_the_checkout(tmp_path):
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "mine.yaml").write_text("\n# my own recipe: blur 2 px\n# second line\nmodel: {}\n")
    (tmp_path / "recipes" / "bare.yaml").write_text("model: {}\n")
    proc = _lowfreq("list", "recipes", cwd=tmp_path)
    assert proc.stdout.splitlines() == [
        "recipes in ./recipes; run one with lowfreq fit -c PATH (validate for the pretrained ones):",
        "  recipes/bare.yaml  (no comment line)",
        "  recipes/mine.yaml  my own recipe: blur 2 px",
    ]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = _lowfreq("list", "recipes", cwd=elsewhere)
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"recipes in {ROOT / 'recipes'} (the lowfreq checkout; ./recipes has none)")
    assert f"{ROOT / 'recipes' / 'quickstart.yaml'}" in proc.stdout


def test_no_recipes_anywhere_says_where_it_looked(tmp_path, monkeypatch, capsys):
    from lowfreq.cli.entry import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(catalog, "_PACKAGE", tmp_path / "site-packages" / "lowfreq")
    with pytest.raises(SystemExit) as info:
        main(["list", "recipes"])
    assert info.value.code == 2
    err = capsys.readouterr().err.splitlines()[0]
    assert err.startswith(f"lowfreq: error: FileNotFoundError: no recipes/*.yaml in {tmp_path / 'recipes'} and "
                          f"{tmp_path / 'site-packages' / 'recipes'}")
    assert "not installed with the package" in err
