import os
from pathlib import Path

import matplotlib
import pytest
import torch
from hypothesis import settings

matplotlib.use("Agg")
# at most 2 torch threads per test process, and the cores shared among pytest-xdist's workers
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
torch.set_num_threads(max(1, min(2, torch.get_num_threads() // _WORKERS)))

settings.register_profile("ci", max_examples=50, deadline=None)
settings.register_profile("dev", max_examples=20, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _offline_hub(tmp_path, monkeypatch):
    """Keep torch.hub downloads (weights) inside tmp_path."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    torch.hub.set_dir(str(tmp_path / "torch_hub"))


@pytest.fixture
def test_data() -> Path:
    """The shared test data directory ($LOWFREQ_TEST_DATA); skips when unset."""
    root = os.environ.get("LOWFREQ_TEST_DATA")
    if not root:
        pytest.skip("LOWFREQ_TEST_DATA is not set (point it at the shared data directory, e.g. ../shared)")
    path = Path(root)
    if not path.is_dir():
        pytest.skip(f"LOWFREQ_TEST_DATA={root} is not a directory")
    return path


@pytest.fixture
def tiny_images() -> torch.Tensor:
    """(2, 3, 16, 16) float64 images in [0, 1]."""
    return torch.rand(2, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
