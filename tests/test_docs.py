"""The documentation: every test the reproduction table names exists."""

import ast
import re
from pathlib import Path

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
