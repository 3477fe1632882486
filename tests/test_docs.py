"""The documentation: every test the reproduction table names exists; the API reference renders its cross-references."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_reproduction_table_names_existing_tests():
    rows = [line for line in (ROOT / "docs" / "reproduction.md").read_text().splitlines() if line.startswith("| ")]
    body = rows[1:]  # header first (the separator row starts with "|-")
    assert len(body) >= 10
    for row in body:
        last = row.rstrip(" |").rsplit("|", 1)[-1]
        refs = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", last)
        assert refs or "needs" in last, f"row names no test and no missing requirement: {row[:80]}"
        for path, name in refs:
            assert (ROOT / path).is_file(), path
            if name:
                assert name in _test_names(ROOT / path), f"{path}::{name} does not exist"


# ---- the API reference: cross-references, no Sphinx markup ---------------------------------------------------------

# mkdocstrings renders Markdown: a Sphinx role such as :func:`x` shows up literally on the site. Cross-references are
# written [`x`][lowfreq.module.x] (autorefs); objects the reference does not render are plain ``code``.
SPHINX_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|data|mod|attr|exc|obj|const|ref|doc|term):`")
# ... and as it looks once Markdown made the backticks <code>.
SPHINX_ROLE_HTML = re.compile(r":(?:py:)?(?:func|class|meth|data|mod|attr|exc|obj|const|ref|doc|term):(?:`|<code>)")
# The methods notes the package was built from are not shipped: cite the papers, their code or a docs page instead.
METHODS_NOTES = re.compile(r"methods\.md|methods doc", re.IGNORECASE)
REFERENCE_PAGES = sorted(p.stem for p in (ROOT / "docs" / "reference").glob("*.md"))


def _doc_sources() -> list[Path]:
    return [*sorted((ROOT / "lowfreq").rglob("*.py")), *sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]


def test_no_sphinx_roles_in_docstrings_or_docs():
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}"
        for path in _doc_sources()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SPHINX_ROLE.search(line)
    ]
    assert not hits, "Sphinx roles render literally in mkdocs; write [`name`][lowfreq.path.name]:\n" + "\n".join(hits)


def test_no_references_to_the_unshipped_methods_notes():
    paths = [*_doc_sources(), *sorted((ROOT / "recipes").glob("*.yaml")), *sorted((ROOT / "benchmarks").glob("*.py"))]
    paths += sorted((ROOT / "notebooks").glob("*.ipynb"))
    hits = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in paths
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if METHODS_NOTES.search(line)
    ]
    assert not hits, "methods.md is not in the repository; cite the paper, its code or a docs page:\n" + "\n".join(hits)


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    """The documentation site built with ``mkdocs build --strict`` (unresolved cross-references fail it).

    Not ``--quiet``: it silences the warnings that strict mode turns into errors, so a quiet build passes anyway.
    """
    pytest.importorskip("mkdocstrings_handlers.python", reason="needs the docs extra (mkdocs, mkdocstrings[python])")
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    return site


def _page(site: Path, name: str) -> str:
    return (site / "reference" / name / "index.html").read_text()


def test_api_reference_renders_cross_references(built_site):
    assert len(REFERENCE_PAGES) == 13  # one per top-level module or subpackage (not cli: its reference is --help)
    for name in REFERENCE_PAGES:
        html = _page(built_site, name)
        role = SPHINX_ROLE_HTML.search(html)
        assert not role, f"raw Sphinx role on the {name} page: {html[role.start() : role.end() + 40]}"
        assert "][lowfreq." not in html, f"unresolved cross-reference on the {name} page"
    # A link to hybrid_curve on its own page, and one from another page to it.
    link = re.compile(r'<a class="autorefs autorefs-internal"[^>]*href="([^"]*#lowfreq\.analysis\.hybrid_curve)"')
    assert link.search(_page(built_site, "analysis"))
    callbacks = re.findall(r'<a class="autorefs autorefs-internal"[^>]*href="([^"]+)"', _page(built_site, "callbacks"))
    assert any(href.startswith("../analysis/#lowfreq.analysis.") for href in callbacks), callbacks[:10]
    # lowfreq.mvh loads its names lazily; its page renders the submodules, so links into them resolve.
    mvh = _page(built_site, "mvh")
    assert 'id="lowfreq.mvh.metrics.benchmark"' in mvh
    assert re.search(r'href="[^"]*#lowfreq\.mvh\.metrics\.shape_bias"', mvh)
