"""Corruption data: CIFAR-10-C / ImageNet-C readers on files written here, offline download, the generator."""

from __future__ import annotations

import hashlib
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import lowfreq.data.corruptions.download as corruptions_module
import lowfreq.data.corruptions.generator as generator_module
from lowfreq.data import CIFAR10CDataset, corrupt_images, download_cifar10_c, imagenet_c_dataset, to_grayscale
from lowfreq.data.corruptions import (
    CIFAR10C_MD5,
    CIFAR10C_URL,
    RANDOM_CORRUPTIONS,
    corrupted_batches,
    corruption_cache_file,
    corruption_release,
    find_cifar10_c,
    official_layout,
)
from lowfreq.data.corruptions.names import (
    BAND_OF,
    CORRUPTIONS,
    FREQUENCY_BANDS,
    SEVERITIES,
    check_corruptions,
    check_severities,
)

N = 4  # images per severity in the small CIFAR-10-C files


def _write_cifar_c(folder: Path, names: tuple[str, ...] = ("fog", "gaussian_noise")) -> dict[str, np.ndarray]:
    """Official layout: <name>.npy uint8 (5 N, 32, 32, 3), labels.npy (5 N,); every row is distinguishable."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {}
    for k, name in enumerate(names):
        images = rng.integers(0, 256, (5 * N, 32, 32, 3), dtype=np.uint8)
        images[:, 0, 0, 0] = np.arange(5 * N) + 100 * k  # row id in the first pixel
        np.save(folder / f"{name}.npy", images)
        arrays[name] = images
    labels = np.concatenate([np.array([3, 1, 4, 1]), np.full(4 * N, 9)])  # only the first N are the labels
    np.save(folder / "labels.npy", labels)
    arrays["labels"] = labels
    return arrays


# ---- names and bands --------------------------------------------------------------------------------------------
def test_the_15_corruptions_and_paper_001_bands():
    assert len(CORRUPTIONS) == 15
    assert SEVERITIES == (1, 2, 3, 4, 5)
    assert FREQUENCY_BANDS["low"] == ("snow", "frost", "fog", "brightness", "contrast")
    assert set(FREQUENCY_BANDS["medium"]) == {"motion_blur", "zoom_blur", "defocus_blur", "glass_blur",
                                              "elastic_transform", "jpeg_compression", "pixelate"}
    assert FREQUENCY_BANDS["high"] == ("gaussian_noise", "shot_noise", "impulse_noise")
    assert sorted(BAND_OF) == sorted(CORRUPTIONS)  # every corruption in exactly one band
    from imagecorruptions import get_corruption_names

    assert tuple(get_corruption_names("common")) == CORRUPTIONS


def test_names_and_severities_are_validated():
    with pytest.raises(ValueError, match=r"corruptions must be one of \['gaussian_noise', .*got 'fogg'"):
        check_corruptions(["fogg"])
    with pytest.raises(ValueError, match="corruptions must be a list"):
        check_corruptions("fog")
    with pytest.raises(ValueError, match=r"severities must be one of \[1, 2, 3, 4, 5\], got 6"):
        check_severities([1, 6])
    with pytest.raises(ValueError, match="severities must be one of"):
        check_severities([0])
    with pytest.raises(TypeError, match="severities must be an int"):
        check_severities([1.0])  # type: ignore[list-item]
    assert check_severities([3, 1, 3]) == (1, 3)


# ---- CIFAR-10-C -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("nested", [False, True])
def test_cifar10_c_reader_returns_the_rows_of_each_severity(tmp_path, nested):
    folder = tmp_path / "CIFAR-10-C" if nested else tmp_path
    arrays = _write_cifar_c(folder)
    assert find_cifar10_c(tmp_path) == folder
    assert official_layout(tmp_path) == "cifar10-c"
    for severity in SEVERITIES:
        ds = CIFAR10CDataset(tmp_path, "fog", severity)
        assert len(ds) == N
        rows = np.arange((severity - 1) * N, severity * N)
        for i, row in enumerate(rows):
            x, y = ds[i]
            assert x.dtype == torch.float32
            assert x.shape == (3, 32, 32)
            expected = torch.from_numpy(arrays["fog"][row]).permute(2, 0, 1).float() / 255
            assert torch.equal(x, expected)
            assert round(float(x[0, 0, 0]) * 255) == row
            assert y.dtype == torch.int64
            assert int(y) == [3, 1, 4, 1][i]
        batch = ds.__getitems__([3, 0])
        assert torch.equal(batch[0][0], ds[3][0])
        assert torch.equal(batch[1][1], ds[0][1])
    assert round(float(CIFAR10CDataset(tmp_path, "gaussian_noise", 2)[0][0][0, 0, 0]) * 255) == 100 + N


def test_cifar10_c_reader_rejects_bad_files(tmp_path):
    _write_cifar_c(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"snow.npy is missing"):
        CIFAR10CDataset(tmp_path, "snow", 1)
    with pytest.raises(ValueError, match="corruption must be one of"):
        CIFAR10CDataset(tmp_path, "fogg", 1)
    with pytest.raises(ValueError, match="severity must be one of"):
        CIFAR10CDataset(tmp_path, "fog", 6)
    np.save(tmp_path / "frost.npy", np.zeros((7, 32, 32, 3), dtype=np.uint8))  # not 5 severities
    with pytest.raises(ValueError, match="5 severities stacked"):
        CIFAR10CDataset(tmp_path, "frost", 1)


def test_missing_cifar10_c_says_what_to_put_where(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"CIFAR-10-C.tar") as info:
        find_cifar10_c(tmp_path)
    assert str(tmp_path) in str(info.value)
    assert CIFAR10C_URL in str(info.value)
    assert official_layout(tmp_path) is None
    assert official_layout(tmp_path / "absent") is None
    assert official_layout(None) is None


def test_download_fails_fast_offline_and_names_the_file(tmp_path, monkeypatch):
    calls = []

    def offline(url, timeout=None):
        calls.append(url)
        return "URLError: <urlopen error [Errno -3] Temporary failure in name resolution>"

    monkeypatch.setattr(corruptions_module, "probe", offline)
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="CIFAR-10-C not found") as info:
        download_cifar10_c(tmp_path / "data")
    assert time.perf_counter() - start < 5
    assert calls == [CIFAR10C_URL]
    message = str(info.value)
    assert "CIFAR-10-C.tar" in message
    assert CIFAR10C_MD5 in message
    assert str(tmp_path / "data") in message
    assert "labels.npy" in message
    assert "name resolution" in message
    assert not (tmp_path / "data").exists()  # nothing written


def test_download_extracts_a_local_archive_after_checking_its_md5(tmp_path, monkeypatch):
    source = tmp_path / "src"
    _write_cifar_c(source / "CIFAR-10-C", ("fog",))
    root = tmp_path / "data"
    root.mkdir()
    archive = root / "CIFAR-10-C.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(source / "CIFAR-10-C", arcname="CIFAR-10-C")
    monkeypatch.setattr(corruptions_module, "probe", lambda *a, **k: pytest.fail("no network needed"))
    with pytest.raises(RuntimeError, match="is corrupt"):
        download_cifar10_c(root)  # its md5 is not the official one
    monkeypatch.setattr(corruptions_module, "CIFAR10C_MD5", hashlib.md5(archive.read_bytes()).hexdigest())
    assert download_cifar10_c(root) == root / "CIFAR-10-C"
    assert len(CIFAR10CDataset(root, "fog", 5)) == N
    assert download_cifar10_c(root) == root / "CIFAR-10-C"  # present: nothing to do


# ---- ImageNet-C -------------------------------------------------------------------------------------------------
def test_imagenet_c_reader_uses_the_folder_layout(tmp_path):
    rng = np.random.default_rng(1)
    pixels = {}
    for wnid in ("n01440764", "n01443537"):
        folder = tmp_path / "contrast" / "2" / wnid
        folder.mkdir(parents=True)
        for j in range(2):
            array = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
            Image.fromarray(array).save(folder / f"img{j}.png")
            pixels[(wnid, j)] = array
    assert official_layout(tmp_path) == "imagenet-c"
    ds = imagenet_c_dataset(tmp_path, "contrast", 2)
    assert len(ds) == 4
    x, y = ds[2]  # sorted: second class, first image
    assert x.shape == (3, 40, 48)
    assert x.dtype == torch.float32
    assert int(y) == 1
    assert y.dtype == torch.int64
    assert torch.equal(x, torch.from_numpy(pixels[("n01443537", 0)]).permute(2, 0, 1).float() / 255)
    assert imagenet_c_dataset(tmp_path, "contrast", 2, resize_crop=True)[0][0].shape == (3, 224, 224)
    with pytest.raises(FileNotFoundError, match=r"contrast/3.*zenodo.*<corruption>/<severity>/<wnid>"):
        imagenet_c_dataset(tmp_path, "contrast", 3)


# ---- generator --------------------------------------------------------------------------------------------------
def _images(n: int = 2, channels: int = 3, size: int = 32, dtype=torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, channels, size, size, generator=g, dtype=dtype)


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_generator_makes_every_corruption_and_severity(corruption):
    x = _images()
    for severity in SEVERITIES:
        out = corrupt_images(x, corruption, severity, seed=1)
        assert out.shape == x.shape
        assert out.dtype == x.dtype
        assert out.device == x.device
        assert float(out.min()) >= 0
        assert float(out.max()) <= 1
        assert torch.equal(out, (out * 255).round() / 255)  # uint8 levels
        assert not torch.equal(out, x)
    out32 = corrupt_images(x[:1].float(), corruption, 3)
    assert out32.dtype == torch.float32
    assert out32.shape == (1, 3, 32, 32)


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_generator_is_deterministic_for_a_seed(corruption):
    x = _images(3)
    state = np.random.get_state()
    a = corrupt_images(x, corruption, 4, seed=7)
    assert torch.equal(a, corrupt_images(x, corruption, 4, seed=7))
    other = corrupt_images(x, corruption, 4, seed=8)
    assert torch.equal(a, other) == (corruption not in RANDOM_CORRUPTIONS)
    # an image's corruption depends on its index, not on the batch it comes in
    alone = corrupt_images(x[2:], corruption, 4, seed=7, indices=[2])
    assert torch.equal(alone, a[2:])
    # numpy's global RNG is left as it was
    assert all(np.array_equal(u, v) if isinstance(u, np.ndarray) else u == v
               for u, v in zip(state, np.random.get_state(), strict=True))


def test_grayscale_paths():
    x = _images(2)
    pixel = torch.tensor([0.2, 0.6, 1.0], dtype=torch.float64).view(1, 3, 1, 1)
    assert float(to_grayscale(pixel, 1)) == pytest.approx(0.2989 * 0.2 + 0.587 * 0.6 + 0.114 * 1.0)
    rgb = corrupt_images(x, "fog", 3, seed=2)
    gray3 = corrupt_images(x, "fog", 3, seed=2, grayscale=True)
    assert gray3.shape == x.shape
    assert torch.equal(gray3, to_grayscale(rgb))
    assert torch.equal(gray3[:, 0], gray3[:, 1])
    assert torch.equal(gray3[:, 1], gray3[:, 2])
    # 1-channel input: replicated to RGB for the library, the luma taken back
    g = x[:, :1]
    out = corrupt_images(g, "gaussian_noise", 2, seed=2)
    assert out.shape == g.shape
    assert out.dtype == g.dtype
    assert 0 <= float(out.min()) <= float(out.max()) <= 1
    assert torch.equal(out, to_grayscale(corrupt_images(g.expand(-1, 3, -1, -1), "gaussian_noise", 2, seed=2), 1))


def test_cache_hit_returns_identical_tensors_without_the_library(tmp_path, monkeypatch):
    x = _images(3)
    first = corrupt_images(x, "snow", 2, seed=5, indices=[10, 11, 12], cache_dir=tmp_path)
    path = corruption_cache_file(tmp_path, x, "snow", 2, seed=5, indices=torch.tensor([10, 11, 12]))
    assert path.is_file()
    assert path.parent.parent == tmp_path
    assert path.name == "snow-s2-seed5.npy"

    def boom(*args, **kwargs):
        raise AssertionError("the library was called on a cache hit")

    monkeypatch.setattr(generator_module, "_corrupt_one", boom)
    again = corrupt_images(x, "snow", 2, seed=5, indices=[10, 11, 12], cache_dir=tmp_path)
    assert torch.equal(first, again)
    assert torch.equal(corrupt_images(x, "snow", 2, seed=5, indices=[10, 11, 12], cache_dir=tmp_path,
                                      grayscale=True), to_grayscale(first))
    for changed in ({"seed": 6}, {"indices": [10, 11, 13]}):  # a different key misses the cache
        with pytest.raises(AssertionError, match="library was called"):
            corrupt_images(x, "snow", 2, **{"seed": 5, "indices": [10, 11, 12], "cache_dir": tmp_path, **changed})
    with pytest.raises(AssertionError, match="library was called"):
        corrupt_images(x.flip(0), "snow", 2, seed=5, indices=[10, 11, 12], cache_dir=tmp_path)


def test_generator_rejects_bad_input():
    x = _images(1)
    with pytest.raises(ValueError, match=r"corruption must be one of \['gaussian_noise'.*got 'speckle_noise'"):
        corrupt_images(x, "speckle_noise", 1)
    with pytest.raises(ValueError, match=r"severity must be one of \[1, 2, 3, 4, 5\], got 0"):
        corrupt_images(x, "fog", 0)
    with pytest.raises(ValueError, match=r"x must hold images in \[0, 1\]"):
        corrupt_images(x * 255, "fog", 1)
    with pytest.raises(ValueError, match="at least 32 x 32 pixels"):
        corrupt_images(_images(1, size=16), "fog", 1)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        corrupt_images(_images(1, channels=2), "fog", 1)
    with pytest.raises(ValueError, match=r"indices must be a \(1,\) integer"):
        corrupt_images(x, "fog", 1, indices=[0, 1])
    with pytest.raises(TypeError, match=r"x must be a torch.Tensor"):
        corrupt_images(x.numpy(), "fog", 1)  # type: ignore[arg-type]


# ---- ImageNet-C download ------------------------------------------------------------------------------------------
def _imagenet_c_archive(server: Path, name: str, members: tuple[str, ...], images: int, nested: bool) -> Path:
    """A small ImageNet-C archive: <corruption>/<severity>/<wnid>/*.JPEG with ``images`` images per severity."""
    src = server / f"src_{name}"
    for corruption in members:
        for severity in range(1, 6):
            for i in range(images):
                folder = src / (name if nested else "") / corruption / str(severity) / f"n0{i % 2}"
                folder.mkdir(parents=True, exist_ok=True)
                Image.new("RGB", (8, 8), (i, severity, 0)).save(folder / f"{i}.JPEG")
    archive = server / f"{name}.tar"
    with tarfile.open(archive, "w") as tar:
        for child in src.iterdir():
            tar.add(child, arcname=child.name)
    return archive


def test_download_imagenet_c_fetches_only_the_archives_needed_and_checks_the_folders(tmp_path, monkeypatch):
    server = tmp_path / "server"
    server.mkdir()
    _imagenet_c_archive(server, "noise", corruptions_module.IMAGENETC_ARCHIVES["noise"], 3, nested=False)
    _imagenet_c_archive(server, "weather", corruptions_module.IMAGENETC_ARCHIVES["weather"], 3, nested=True)
    monkeypatch.setattr(corruptions_module, "IMAGENETC_ARCHIVE_URL", server.as_uri() + "/{name}.tar")
    monkeypatch.setattr(corruptions_module, "IMAGENETC_IMAGES_PER_CONDITION", 3)
    root = tmp_path / "ImageNet-C"
    root.mkdir()
    assert corruptions_module.download_imagenet_c(root, ["gaussian_noise", "fog"], progress=False) == root
    assert sorted(p.name for p in root.iterdir()) == sorted([*corruptions_module.IMAGENETC_ARCHIVES["noise"],
                                                              *corruptions_module.IMAGENETC_ARCHIVES["weather"]])
    data = imagenet_c_dataset(root, "fog", 4)
    assert len(data) == 3
    assert data[0][0].shape == (3, 8, 8)
    assert not list(root.glob("*.tar"))  # archives removed after unpacking
    (server / "noise.tar").unlink()  # present and complete: nothing is fetched again
    corruptions_module.download_imagenet_c(root, ["shot_noise"], progress=False)

    _imagenet_c_archive(server, "blur", corruptions_module.IMAGENETC_ARCHIVES["blur"], 2, nested=False)
    with pytest.raises(RuntimeError, match=r"holds 2 images in defocus_blur/1/, expected 3"):
        corruptions_module.download_imagenet_c(root, ["zoom_blur"], progress=False)


def test_download_imagenet_c_offline_names_the_archive_and_the_folder(tmp_path, monkeypatch):
    import lowfreq.core.download as download_module

    monkeypatch.setattr(download_module, "probe", lambda url, timeout=None: "URLError: no route to host")
    with pytest.raises(RuntimeError) as info:
        corruptions_module.download_imagenet_c(tmp_path / "inc", ["pixelate"], progress=False)
    message = str(info.value)
    assert "digital.tar" in message
    assert str(tmp_path / "inc") in message
    assert "no route to host" in message
    with pytest.raises(ValueError, match="corruptions"):
        corruptions_module.download_imagenet_c(tmp_path / "inc", ["blurry"])


# ---- the source of corrupted batches: a release folder or the generator -----------------------------------------
def _clean_set(n: int = N) -> torch.utils.data.TensorDataset:
    return torch.utils.data.TensorDataset(_images(n).float(), torch.arange(n))


def test_corrupted_batches_read_a_cifar10_c_folder_and_name_the_missing_conditions(tmp_path):
    arrays = _write_cifar_c(tmp_path / "CIFAR-10-C")
    clean = _clean_set()
    messages: list[str] = []
    assert corruption_release(tmp_path) == "cifar10-c"
    batches = list(corrupted_batches(clean, ["fog", "snow"], [2, 5], data_dir=tmp_path, batch_size=3,
                                     warn=messages.append))
    assert [(c, s, len(x)) for c, s, x, _ in batches] == [
        (None, None, 3), (None, None, 1), ("fog", 2, 3), ("fog", 2, 1), ("fog", 5, 3), ("fog", 5, 1)
    ]
    assert torch.equal(torch.cat([x for c, _, x, _ in batches if c is None]), clean.tensors[0])
    for severity in (2, 5):
        x = torch.cat([x for c, s, x, _ in batches if (c, s) == ("fog", severity)])
        y = torch.cat([y for c, s, _, y in batches if (c, s) == ("fog", severity)])
        rows = arrays["fog"][(severity - 1) * N : severity * N]
        assert torch.equal(x, torch.from_numpy(rows).permute(0, 3, 1, 2).float() / 255)
        assert y.dtype == torch.int64
        assert y.tolist() == [3, 1, 4, 1]
    assert messages == ["2 conditions are missing in " + repr(str(tmp_path)) + ": snow/2, snow/5"]


def test_corrupted_batches_shard_the_seeded_subset_by_rank(tmp_path):
    _write_cifar_c(tmp_path)
    kwargs = {"data_dir": tmp_path, "num_images": 3, "seed": 1, "batch_size": 2}
    whole = list(corrupted_batches(_clean_set(), ["fog"], [1], **kwargs))
    shards = [list(corrupted_batches(_clean_set(), ["fog"], [1], rank=r, world_size=2, **kwargs)) for r in (0, 1)]
    for corruption in (None, "fog"):
        ids = sorted(round(float(v) * 255) for x in [b[2] for b in whole if b[0] == corruption] for v in x[:, 0, 0, 0])
        ids_shards = sorted(round(float(v) * 255) for shard in shards for b in shard if b[0] == corruption
                            for v in b[2][:, 0, 0, 0])
        assert len(ids) == 3
        assert ids == ids_shards
    with pytest.raises(ValueError, match=r"rank must be in \[0, world_size = 2\), got 2"):
        next(corrupted_batches(_clean_set(), data_dir=tmp_path, rank=2, world_size=2))


def test_corrupted_batches_generate_when_the_folder_is_absent(tmp_path):
    clean = _clean_set(3)
    messages: list[str] = []
    cache = tmp_path / "cache"
    batches = list(corrupted_batches(clean, ["contrast", "fog"], [1], data_dir=tmp_path / "absent", batch_size=2,
                                     seed=4, cache_dir=cache, warn=messages.append))
    assert messages == [f"data_dir={str(tmp_path / 'absent')!r} does not exist; generating the corruptions instead"]
    assert [(c, s, len(x)) for c, s, x, _ in batches] == [
        (None, None, 2), ("contrast", 1, 2), ("fog", 1, 2), (None, None, 1), ("contrast", 1, 1), ("fog", 1, 1)
    ]
    x, y = clean.tensors
    for corruption in ("contrast", "fog"):
        got = torch.cat([b[2] for b in batches if b[0] == corruption])
        assert torch.equal(got, corrupt_images(x, corruption, 1, seed=4))  # each image's corruption: its index
    assert torch.equal(torch.cat([b[3] for b in batches if b[0] == "fog"]), y)
    assert any(cache.iterdir())


def test_a_folder_holding_no_release_is_an_error(tmp_path):
    (tmp_path / "other").mkdir()
    with pytest.raises(FileNotFoundError, match="holds neither CIFAR-10-C"):
        corruption_release(tmp_path / "other")
    with pytest.raises(FileNotFoundError, match="holds neither CIFAR-10-C"):
        next(corrupted_batches(_clean_set(), data_dir=tmp_path / "other"))
    assert corruption_release(None) is None
    assert corruption_release(tmp_path / "absent") is None
