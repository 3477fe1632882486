"""Downloads: checksummed, into the recipes' paths, fast and clear offline (``lowfreq download ...``)."""

from __future__ import annotations

import hashlib
import pickle
import tarfile
import time
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

import lowfreq.core.download
import lowfreq.mvh.download
from lowfreq.cli.entry import main
from lowfreq.core.download import download_file, file_sha256
from lowfreq.data.corruptions import official_layout


def _offline(monkeypatch):
    """Every http(s) request fails as without network (DNS error)."""

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(lowfreq.core.download.urllib.request, "urlopen", refuse)


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert err[0].startswith("lowfreq: error: ")
    assert err[1].startswith("(set LOWFREQ_DEBUG=1")
    return err[0]


# ---- download_file ----------------------------------------------------------------------------------------------
def test_download_file_checks_the_sha256(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"lowfreq" * 1000)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    dest = download_file(src.as_uri(), tmp_path / "out" / "file.bin", sha256=digest)
    assert dest.read_bytes() == src.read_bytes()
    assert file_sha256(dest) == digest
    with pytest.raises(RuntimeError, match=r"is corrupt .*place it at"):
        download_file(src.as_uri(), tmp_path / "bad.bin", sha256="0" * 64)
    assert not (tmp_path / "bad.bin").exists()


def test_download_file_offline_fails_fast_with_what_to_put_where(tmp_path, monkeypatch):
    _offline(monkeypatch)
    dest = tmp_path / "weights" / "w.pth"
    t = time.perf_counter()
    with pytest.raises(RuntimeError) as info:
        download_file("https://example.org/w.pth", dest, hint="or pass weights_path=<that file>")
    assert time.perf_counter() - t < 2.0
    msg = str(info.value)
    assert "https://example.org/w.pth" in msg
    assert f"place it at {dest}" in msg
    assert "weights_path=" in msg
    assert not dest.parent.exists()


# ---- lowfreq download cifar10 -----------------------------------------------------------------------------------
def _cifar_archive(root: Path, monkeypatch) -> Path:
    """A tiny cifar-10-python.tar.gz, with torchvision's URL and md5 lists pointed at it."""
    from torchvision.datasets import CIFAR10

    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), "labels": [1, 2, 3, 4]}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list("abcdefghij")}))
    archive = root / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")

    def md5(path: Path) -> str:
        return hashlib.md5(path.read_bytes()).hexdigest()

    monkeypatch.setattr(CIFAR10, "url", archive.as_uri())
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5(archive))
    monkeypatch.setattr(CIFAR10, "train_list", [[n, md5(folder / n)] for n, _ in CIFAR10.train_list])
    monkeypatch.setattr(CIFAR10, "test_list", [[n, md5(folder / n)] for n, _ in CIFAR10.test_list])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": md5(folder / "batches.meta")})
    return archive


def test_download_cifar10_into_the_recipe_path(tmp_path, monkeypatch, capsys):
    from lowfreq.data import CIFAR10DataModule

    _cifar_archive(tmp_path / "server", monkeypatch)
    data_dir = tmp_path / "data" / "cifar10"
    main(["download", "cifar10", "--data_dir", str(data_dir)])
    assert (data_dir / "cifar-10-batches-py" / "test_batch").is_file()
    assert "CIFAR-10 in" in capsys.readouterr().out
    dm = CIFAR10DataModule(data_dir=str(data_dir), download=False, val_fraction=0.0)
    dm.setup("fit")
    assert len(dm.analysis_dataset("test")) == 4
    assert len(dm.analysis_dataset("train")) == 20


def test_download_cifar10_offline_is_one_line(tmp_path, monkeypatch, capsys):
    from torchvision.datasets import CIFAR10

    monkeypatch.setattr(CIFAR10, "url", "http://127.0.0.1:9/cifar-10-python.tar.gz")  # connection refused
    t = time.perf_counter()
    with pytest.raises(SystemExit) as info:
        main(["download", "cifar10", "--data_dir", str(tmp_path / "cifar")])
    assert info.value.code == 2
    assert time.perf_counter() - t < 10.0
    line = _one_error_line(capsys)
    assert "cifar-10-python.tar.gz" in line
    assert str(tmp_path / "cifar") in line


# ---- lowfreq download mvh ---------------------------------------------------------------------------------------
def _mvh_server(root: Path, monkeypatch) -> bytes:
    """file:// copies of an 'edge' archive (3 images) and one human CSV, with the tables pointed at them."""
    images = root / "edge"
    for category in ("cat", "dog"):
        (images / category).mkdir(parents=True)
    for name in ("cat/a.png", "cat/b.png", "dog/c.png"):
        (images / name).write_bytes(b"png")
    with tarfile.open(root / "edge.tar.gz", "w:gz") as tar:
        tar.add(images, arcname="edge")
    csv = b"subj,session,trial,rt,object_response,category,condition,imagename\n"
    (root / "raw" / "edge").mkdir(parents=True)
    (root / "raw" / "edge" / "edge_subject-01_session_1.csv").write_bytes(csv)
    monkeypatch.setattr(lowfreq.mvh.download, "RELEASE_URL", root.as_uri() + "/{name}.tar.gz")
    monkeypatch.setattr(lowfreq.mvh.download, "RAW_DATA_URL", root.as_uri() + "/raw/{path}")
    monkeypatch.setattr(lowfreq.mvh.download, "EXPECTED_IMAGE_COUNTS", {"edge": 3})
    monkeypatch.setattr(lowfreq.mvh.download, "HUMAN_RAW_DATA_SHA256",
                        {"edge/edge_subject-01_session_1.csv": hashlib.sha256(csv).hexdigest()})
    return csv


def test_download_mvh_into_the_recipe_layout(tmp_path, monkeypatch, capsys):
    csv = _mvh_server(tmp_path / "server", monkeypatch)
    root = tmp_path / "data" / "model-vs-human"
    main(["download", "mvh", "--data_dir", str(root), "--datasets", "[edge]"])
    assert sorted(p.name for p in (root / "datasets" / "edge").rglob("*.png")) == ["a.png", "b.png", "c.png"]
    assert (root / "raw-data" / "edge" / "edge_subject-01_session_1.csv").read_bytes() == csv
    assert not list(root.rglob("*.tar.gz"))
    assert "1 CSVs" in capsys.readouterr().out


def test_download_mvh_refuses_a_tampered_csv(tmp_path, monkeypatch, capsys):
    _mvh_server(tmp_path / "server", monkeypatch)
    (tmp_path / "server" / "raw" / "edge" / "edge_subject-01_session_1.csv").write_bytes(b"tampered")
    with pytest.raises(SystemExit):
        main(["download", "mvh", "--data_dir", str(tmp_path / "mvh"), "--datasets", "[edge]", "--images", "false"])
    assert "is corrupt" in _one_error_line(capsys)
    assert not (tmp_path / "mvh" / "raw-data" / "edge" / "edge_subject-01_session_1.csv").exists()


def test_download_mvh_offline_is_one_line(tmp_path, monkeypatch, capsys):
    _offline(monkeypatch)
    t = time.perf_counter()
    with pytest.raises(SystemExit) as info:
        main(["download", "mvh", "--data_dir", str(tmp_path / "mvh"), "--datasets", "[edge]"])
    assert info.value.code == 2
    assert time.perf_counter() - t < 5.0
    line = _one_error_line(capsys)
    assert "releases/download/v0.1/edge.tar.gz" in line
    assert f"place it at {tmp_path / 'mvh' / 'datasets' / 'edge.tar.gz'}" in line


# ---- lowfreq download weights -----------------------------------------------------------------------------------
def test_download_torchvision_weights_go_where_torchvision_looks(tmp_path, monkeypatch, capsys):
    calls = []

    def fake(url, dest, *, sha256=None, progress=False, hint=""):
        calls.append((url, Path(dest), sha256))
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        Path(dest).write_bytes(b"weights")
        return Path(dest)

    monkeypatch.setattr("lowfreq.cli.download.download_file", fake)
    main(["download", "weights", "torchvision:resnet18.IMAGENET1K_V1"])
    ((url, dest, sha256),) = calls
    assert url == "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    assert sha256 == "f37072fd"
    assert dest == Path(torch.hub.get_dir()) / "checkpoints" / "resnet18-f37072fd.pth"  # torchvision's cache
    assert str(dest) in capsys.readouterr().out
    main(["download", "weights", "torchvision:resnet18.IMAGENET1K_V1"])  # present: nothing downloaded again
    assert len(calls) == 1


def test_download_torchvision_weights_offline_is_one_line(monkeypatch, capsys):
    _offline(monkeypatch)
    with pytest.raises(SystemExit):
        main(["download", "weights", "torchvision:resnet18"])
    line = _one_error_line(capsys)
    assert "resnet18-f37072fd.pth" in line
    assert "weights_path=" in line


@pytest.mark.parametrize(("name", "match"), [
    ("resnet18", r"name must be <source>:<model> with source one of \['torchvision', 'timm'"),
    ("torchvision:resnet1800", "NAME must be torchvision:<model>"),
    ("torchvision:resnet18.V9", r"weights of resnet18 must be one of \['IMAGENET1K_V1', 'DEFAULT'\]"),
    ("openclip:ViT-B-32", "NAME must be openclip:<architecture>/<tag>"),
    ("robustbench:cifar10/Carmon2019Unlabeled", "NAME must be robustbench:<dataset>/<threat_model>/<model>"),
])
def test_download_weights_bad_names(name, match, capsys):
    with pytest.raises(SystemExit):
        main(["download", "weights", name])
    assert pytest.importorskip("re").search(match, _one_error_line(capsys))


# ---- lowfreq download cifar10c ----------------------------------------------------------------------------------
def test_download_cifar10c_offline_is_one_line(tmp_path, monkeypatch, capsys):
    import lowfreq.data.corruptions.download as corruptions

    monkeypatch.setattr(corruptions, "probe", lambda url, timeout=None: "URLError: no route to host")
    with pytest.raises(SystemExit) as info:
        main(["download", "cifar10c", "--data_dir", str(tmp_path / "data")])
    assert info.value.code == 2
    line = _one_error_line(capsys)
    assert "CIFAR-10-C.tar" in line
    assert str(tmp_path / "data") in line
    assert corruptions.CIFAR10C_MD5 in line


def test_download_cifar10c_unpacks_a_checked_archive_where_the_recipes_read_it(tmp_path, monkeypatch, capsys):
    import numpy as np

    import lowfreq.data.corruptions.download as corruptions

    folder = tmp_path / "src" / "CIFAR-10-C"
    folder.mkdir(parents=True)
    np.save(folder / "labels.npy", np.zeros(10, dtype=np.uint8))
    np.save(folder / "fog.npy", np.zeros((10, 32, 32, 3), dtype=np.uint8))
    (tmp_path / "data").mkdir()
    archive = tmp_path / "data" / "CIFAR-10-C.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(folder, arcname="CIFAR-10-C")
    monkeypatch.setattr(corruptions, "CIFAR10C_MD5", hashlib.md5(archive.read_bytes()).hexdigest())
    monkeypatch.setattr(corruptions, "probe", lambda *a, **k: pytest.fail("no network needed"))
    main(["download", "cifar10c", "--data_dir", str(tmp_path / "data")])
    assert f"CIFAR-10-C in {tmp_path / 'data' / 'CIFAR-10-C'}" in capsys.readouterr().out
    assert official_layout(str(tmp_path / "data" / "CIFAR-10-C")) is not None
