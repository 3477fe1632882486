import sys

import pytest

from lowfreq.core.optional import require


def test_require_returns_the_module():
    import math

    assert require("math", extra="x", purpose="this test") is math


def test_missing_module_names_what_needs_it_and_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "foolbox", None)  # as if not installed
    expected = r"^the adversarial analysis needs foolbox \(.*\): pip install 'lowfreq\[attacks\]'$"
    with pytest.raises(ImportError, match=expected):
        require("foolbox", extra="attacks", purpose="the adversarial analysis")


def test_message_names_the_distribution_and_the_note(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.linear_model", None)  # also when an earlier test imported it
    expected = r"^f needs scikit-learn \(.*\): pip install 'lowfreq\[masks\]'; see X$"
    with pytest.raises(ImportError, match=expected) as info:
        require("sklearn.linear_model", extra="masks", purpose="f", package="scikit-learn", note="see X")
    assert isinstance(info.value.__cause__, ImportError)
