"""CIFAR10DataModule: local data (npz, batches, archive), offline errors, tensor contracts."""

from __future__ import annotations

import hashlib
import pickle
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from lowfreq.data import CIFAR10_CLASSES, CIFAR10DataModule


def _write_npz(path: Path, num_train: int = 50, num_test: int = 20, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (num_train, 32, 32, 3), dtype=np.uint8),
        "y_train": rng.integers(0, 10, num_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, (num_test, 32, 32, 3), dtype=np.uint8),
        "y_test": rng.integers(0, 10, num_test).astype(np.uint8),
    }
    np.savez(path, **arrays)
    return arrays


def _write_batches(folder: Path, num_per_batch: int = 6, seed: int = 0, monkeypatch=None) -> dict[str, np.ndarray]:
    """A tiny fake cifar-10-batches-py in torchvision's pickle format (rows = R, G, B planes of 32 x 32).

    With ``monkeypatch``, torchvision's md5 list is pointed at the fake files, so its reader accepts them.
    """
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    out = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (num_per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, num_per_batch).tolist()
        with open(folder / name, "wb") as f:
            pickle.dump({"batch_label": name, "data": data, "labels": labels, "filenames": []}, f)
        out[name] = data
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": CIFAR10_CLASSES, "num_cases_per_batch": num_per_batch}, f)
    if monkeypatch is not None:
        from torchvision.datasets import CIFAR10

        def md5s(files):
            return [[name, hashlib.md5((folder / name).read_bytes()).hexdigest()] for name, _ in files]

        monkeypatch.setattr(CIFAR10, "train_list", md5s(CIFAR10.train_list))
        monkeypatch.setattr(CIFAR10, "test_list", md5s(CIFAR10.test_list))
        meta_md5 = hashlib.md5((folder / "batches.meta").read_bytes()).hexdigest()
        monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": meta_md5})
    return out


@pytest.fixture
def offline(monkeypatch):
    """Any CIFAR download attempt hits a closed local port (connection refused) instead of the internet."""
    from torchvision.datasets import CIFAR10

    monkeypatch.setattr(CIFAR10, "url", "http://127.0.0.1:9/cifar-10-python.tar.gz")


def test_cifar_tiny_npz(tmp_path, check_batch):
    arrays = _write_npz(tmp_path / "tiny.npz")
    dm = CIFAR10DataModule(npz_path=str(tmp_path / "tiny.npz"), val_fraction=0.2, batch_size=8, seed=1)
    dm.prepare_data()
    dm.setup("fit")
    assert dm.num_classes == 10
    assert dm.class_names == CIFAR10_CLASSES
    assert dm.image_shape == (3, 32, 32)
    assert len(dm._split("train")) == 40
    assert len(dm.analysis_dataset("val")) == 10
    assert len(dm.analysis_dataset("test")) == 20
    x, y = dm.analysis_dataset("test")[3]  # HWC uint8 -> CHW float [0, 1], un-augmented
    assert torch.equal(x, torch.from_numpy(arrays["x_test"][3]).permute(2, 0, 1).float() / 255)
    assert y.dtype == torch.int64
    assert y.ndim == 0
    assert int(y) == arrays["y_test"][3]
    xb, yb = next(iter(dm.train_dataloader()))
    check_batch(xb, yb, (8, 3, 32, 32))
    check_batch(*next(iter(dm.val_dataloader())), (8, 3, 32, 32))
    check_batch(*next(iter(dm.test_dataloader())), (8, 3, 32, 32))
    check_batch(*next(iter(dm.predict_dataloader())), (8, 3, 32, 32))


def test_cifar_split_seeded_and_disjoint(tmp_path):
    _write_npz(tmp_path / "tiny.npz", num_train=100)

    def val_images(seed: int) -> torch.Tensor:
        dm = CIFAR10DataModule(npz_path=str(tmp_path / "tiny.npz"), val_fraction=0.1, seed=seed)
        dm.setup()
        return dm._split("val").images, dm._split("train").images

    (v0, t0), (v0b, _), (v1, _) = val_images(0), val_images(0), val_images(1)
    assert torch.equal(v0, v0b)
    assert not torch.equal(v0, v1)
    flat_t = {bytes(img.numpy()) for img in t0}
    assert len(v0) == 10
    assert len(t0) == 90
    assert not any(bytes(img.numpy()) in flat_t for img in v0)


def test_cifar_val_fraction_zero_validates_on_test(tmp_path):
    _write_npz(tmp_path / "tiny.npz")
    dm = CIFAR10DataModule(npz_path=str(tmp_path / "tiny.npz"), val_fraction=0.0)
    assert dm.analysis_dataset("val") is dm.analysis_dataset("test")
    assert len(dm._split("train")) == 50


def test_cifar_augment_and_jitter_train_only(tmp_path, check_batch):
    _write_npz(tmp_path / "tiny.npz")
    dm = CIFAR10DataModule(npz_path=str(tmp_path / "tiny.npz"), color_jitter=0.25, batch_size=50)
    train = dm._split("train")
    assert train.augment
    assert train.color_jitter == 0.25
    assert not dm.analysis_dataset("test").augment
    assert not dm.analysis_dataset("val").augment
    xb, yb = next(iter(dm.train_dataloader()))
    check_batch(xb, yb, (45, 3, 32, 32))
    off = CIFAR10DataModule(npz_path=str(tmp_path / "tiny.npz"), augment=False)
    assert not off._split("train").augment


def test_cifar_workers(tmp_path):
    _write_npz(tmp_path / "tiny.npz")
    dm = CIFAR10DataModule(npz_path=str(tmp_path / "tiny.npz"), batch_size=10, num_workers=1)
    batches = list(dm.train_dataloader())
    assert sum(len(b[1]) for b in batches) == 45


def test_cifar_real_subset_npz(test_data, check_batch):
    path = test_data / "data" / "cifar10-subset" / "cifar10_subset.npz"
    if not path.is_file():
        pytest.skip(f"{path} not found under LOWFREQ_TEST_DATA")
    dm = CIFAR10DataModule(npz_path=str(path), batch_size=64)
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm._split("train")) + len(dm.analysis_dataset("val")) == 8068
    assert len(dm.analysis_dataset("val")) == round(0.1 * 8068)
    assert len(dm.analysis_dataset("test")) == 1017
    xb, yb = next(iter(dm.train_dataloader()))
    check_batch(xb, yb, (64, 3, 32, 32))
    x, y = next(iter(dm.test_dataloader()))
    assert (
        set(yb.tolist()) <= set(range(10))
    )
    assert (
        0.2 < float(x.mean()) < 0.7
    )
    assert int(y[0]) == 3  # official test image 0 is a cat


def test_cifar_missing_npz_names_parameter(tmp_path):
    dm = CIFAR10DataModule(npz_path=str(tmp_path / "nope.npz"))
    with pytest.raises(FileNotFoundError, match="npz_path="):
        dm.prepare_data()
    with pytest.raises(FileNotFoundError, match="npz_path="):
        dm.setup()


def test_cifar_missing_without_download(tmp_path, offline):
    dm = CIFAR10DataModule(data_dir=str(tmp_path / "cifar"), download=False)
    with pytest.raises(FileNotFoundError, match="download=False") as info:
        dm.prepare_data()
    msg = str(info.value)
    assert "data_dir=" in msg
    assert "cifar-10-python.tar.gz" in msg
    assert "cifar-10-batches-py" in msg
    with pytest.raises(FileNotFoundError, match="data_dir="):
        dm.setup()


def test_cifar_offline_download_fails_fast_and_clearly(tmp_path, offline):
    data_dir = tmp_path / "cifar"
    dm = CIFAR10DataModule(data_dir=str(data_dir), download=True)
    t = time.perf_counter()
    with pytest.raises(RuntimeError) as info:
        dm.prepare_data()
    assert time.perf_counter() - t < 10.0
    msg = str(info.value)
    for part in (
        str(data_dir),
        "cifar-10-python.tar.gz",
        "cifar-10-batches-py",
        "https://www.cs.toronto.edu/~kriz/cifar.html",
        "npz_path=",
        "127.0.0.1:9",
    ):
        assert part in msg, part


def test_cifar_download_that_hangs_times_out(tmp_path, monkeypatch):
    """A server that accepts the connection but never answers (captive network) must not hang prepare_data."""
    import socket

    from torchvision.datasets import CIFAR10

    from lowfreq.data import cifar

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)  # the kernel completes the handshake; nobody ever reads or replies
        monkeypatch.setattr(
            CIFAR10, "url", f"http://127.0.0.1:{server.getsockname()[1]}/cifar-10-python.tar.gz"
        )
        monkeypatch.setattr(cifar, "_PROBE_TIMEOUT_S", 1.0)
        dm = CIFAR10DataModule(data_dir=str(tmp_path / "cifar"))
        t = time.perf_counter()
        with pytest.raises(RuntimeError, match=r"cifar-10-python.tar.gz") as info:
            dm.prepare_data()
        assert time.perf_counter() - t < 5.0
        assert "npz_path=" in str(info.value)
        assert "cannot download" in str(info.value)
        assert "lowfreq download cifar10" not in str(info.value)  # the download just failed: do not suggest it


def test_cifar_extracted_batches_load_without_network(tmp_path, offline, check_batch, monkeypatch):
    batches = _write_batches(tmp_path / "cifar" / "cifar-10-batches-py", monkeypatch=monkeypatch)
    dm = CIFAR10DataModule(data_dir=str(tmp_path / "cifar"), download=True, val_fraction=0.1, batch_size=4)
    dm.prepare_data()  # would raise if it tried the (refused) network
    dm.setup("fit")
    assert len(dm._split("train")) == 27
    assert len(dm.analysis_dataset("val")) == 3
    x, _ = dm.analysis_dataset("test")[2]
    assert torch.equal(x, torch.from_numpy(batches["test_batch"][2].reshape(3, 32, 32)).float() / 255)
    check_batch(*next(iter(dm.train_dataloader())), (4, 3, 32, 32))


def test_cifar_local_archive_is_extracted(tmp_path, offline, monkeypatch):
    from torchvision.datasets import CIFAR10

    src = tmp_path / "src"
    _write_batches(src / "cifar-10-batches-py", monkeypatch=monkeypatch)
    data_dir = tmp_path / "cifar"
    data_dir.mkdir()
    archive = data_dir / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    dm = CIFAR10DataModule(data_dir=str(data_dir))
    with pytest.raises(RuntimeError, match="corrupt"):  # md5 differs from the official archive
        dm.prepare_data()
    monkeypatch.setattr(CIFAR10, "tgz_md5", hashlib.md5(archive.read_bytes()).hexdigest())
    dm.prepare_data()
    assert (data_dir / "cifar-10-batches-py" / "test_batch").is_file()
    assert len(dm.analysis_dataset("test")) == 6


def test_cifar_corrupt_batch_file_is_reported(tmp_path, offline, monkeypatch):
    """torchvision's reader checks every batch file's md5: a damaged file is named, not silently loaded."""
    folder = tmp_path / "cifar" / "cifar-10-batches-py"
    _write_batches(folder, monkeypatch=monkeypatch)
    (folder / "data_batch_3").write_bytes(b"damaged")
    dm = CIFAR10DataModule(data_dir=str(tmp_path / "cifar"))
    dm.prepare_data()  # the files are all there
    with pytest.raises(RuntimeError, match=r"incomplete or corrupt.*lowfreq download cifar10"):
        dm.setup("fit")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"val_fraction": 0.7}, ValueError, r"val_fraction must be in \[0.0, 0.5\], got 0.7"),
        ({"color_jitter": -0.5}, ValueError, r"color_jitter must be in \[0.0, 1.0\], got -0.5"),
        ({"batch_size": 0}, ValueError, "batch_size must be an int >= 1, got 0"),
        ({"download": "yes"}, TypeError, "download must be a bool"),
        ({"data_dir": 3}, TypeError, "data_dir must be"),
    ],
)
def test_cifar_bad_params(kwargs, error, match):
    with pytest.raises(error, match=match):
        CIFAR10DataModule(**kwargs)


def test_cifar_init_touches_nothing(tmp_path, offline):
    dm = CIFAR10DataModule(data_dir=str(tmp_path / "never"))
    assert dm._datasets is None
    assert not (tmp_path / "never").exists()
