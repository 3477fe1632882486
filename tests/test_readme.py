"""The README's notebook snippet runs as printed and gives a meaningful f_0.5 (not 0, which DC would force)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_notebook_snippet_runs():
    text = README.read_text()
    block = re.search(r"Every piece works without a Trainer:\n```python\n(.*?)```", text, re.S)
    assert block, "the README's notebook snippet moved"
    namespace: dict = {}
    exec(compile(block.group(1), "README.md", "exec"), namespace)  # our own README
    assert namespace["f_half"] == pytest.approx(0.09, abs=0.02)  # blurred white noise: well below 0.399
    assert namespace["hybrid"].shape == (4, 3, 32, 32)
