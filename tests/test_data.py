"""CIFAR10DataModule, ImageNetDataModule and the shared base: local data, offline errors, tensor contracts."""

from __future__ import annotations

import hashlib
import os
import pickle
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from lowfreq.data import (
    CIFAR10_CLASSES,
    CIFAR10DataModule,
    ImageDataModule,
    ImageNetDataModule,
    SyntheticShapesDataModule,
    TensorImageDataset,
    color_jitter,
    random_crop_flip,
)

TEST_DATA = os.environ.get("LOWFREQ_TEST_DATA")


def _check_batch(x: torch.Tensor, y: torch.Tensor, shape: tuple[int, ...]) -> None:
    assert x.shape == shape and x.dtype == torch.float32
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert y.shape == shape[:1] and y.dtype == torch.int64


# ---- base / tensor augmentation ----------------------------------------------------------------------------
def test_random_crop_flip_is_a_shifted_crop():
    x = torch.rand(16, 3, 12, 12, dtype=torch.float64)
    out = random_crop_flip(x, 4, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == x.dtype
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4), mode="reflect")
    for i in range(16):  # every output is some 12 x 12 window of the padded image, possibly mirrored
        windows = padded[i].unfold(1, 12, 1).unfold(2, 12, 1)  # (C, 9, 9, 12, 12)
        hits = [
            (windows[:, a, b] == o).all()
            for o in (out[i], out[i].flip(-1))
            for a in range(9)
            for b in range(9)
        ]
        assert any(hits)
    assert not torch.equal(out, x)
    assert torch.equal(
        random_crop_flip(x, 0, generator=torch.Generator().manual_seed(1)).flip(-1).flip(-1),
        random_crop_flip(x, 0, generator=torch.Generator().manual_seed(1)),
    )


def test_color_jitter_range_and_identity():
    x = torch.rand(8, 3, 10, 10)
    assert torch.equal(color_jitter(x, 0.0), x)
    out = color_jitter(x, 0.4, generator=torch.Generator().manual_seed(0))
    assert (
        out.shape == x.shape and float(out.min()) >= 0 and float(out.max()) <= 1 and not torch.equal(out, x)
    )
    with pytest.raises(ValueError, match="strength must be in"):
        color_jitter(x, -0.1)


def test_tensor_dataset_batched_equals_itemwise():
    images = torch.randint(0, 256, (10, 3, 8, 8), dtype=torch.uint8)
    ds = TensorImageDataset(images, torch.arange(10))
    items = ds.__getitems__([3, 1])
    x, y = ds[3]
    assert torch.equal(items[0][0], x) and torch.equal(x, images[3].float() / 255) and y.dtype == torch.int64
    with pytest.raises(ValueError, match="uint8"):
        TensorImageDataset(images.float(), torch.arange(10))


def test_base_is_abstract_about_data():
    dm = ImageDataModule()
    with pytest.raises(NotImplementedError):
        dm.setup()


# ---- CIFAR-10 ----------------------------------------------------------------------------------------------
def _write_npz(path: Path, n_train: int = 50, n_test: int = 20, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    np.savez(path, **arrays)
    return arrays


def _write_batches(folder: Path, n_per_batch: int = 6, seed: int = 0) -> dict[str, np.ndarray]:
    """A tiny fake cifar-10-batches-py in torchvision's pickle format (rows = R, G, B planes of 32 x 32)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    out = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, n_per_batch).tolist()
        with open(folder / name, "wb") as f:
            pickle.dump({"batch_label": name, "data": data, "labels": labels, "filenames": []}, f)
        out[name] = data
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": CIFAR10_CLASSES, "num_cases_per_batch": n_per_batch}, f)
    return out


@pytest.fixture
def offline(monkeypatch):
    """Any CIFAR download attempt hits a closed local port (connection refused) instead of the internet."""
    from torchvision.datasets import CIFAR10

    monkeypatch.setattr(CIFAR10, "url", "http://127.0.0.1:9/cifar-10-python.tar.gz")


def test_cifar_tiny_npz(tmp_path):
    arrays = _write_npz(tmp_path / "tiny.npz")
    dm = CIFAR10DataModule(npz_path=str(tmp_path / "tiny.npz"), val_fraction=0.2, batch_size=8, seed=1)
    dm.prepare_data()
    dm.setup("fit")
    assert dm.num_classes == 10 and dm.class_names == CIFAR10_CLASSES and dm.image_shape == (3, 32, 32)
    assert len(dm._split("train")) == 40 and len(dm.analysis_dataset("val")) == 10
    assert len(dm.analysis_dataset("test")) == 20
    x, y = dm.analysis_dataset("test")[3]  # HWC uint8 -> CHW float [0, 1], un-augmented
    assert torch.equal(x, torch.from_numpy(arrays["x_test"][3]).permute(2, 0, 1).float() / 255)
    assert y.dtype == torch.int64 and y.ndim == 0 and int(y) == arrays["y_test"][3]
    xb, yb = next(iter(dm.train_dataloader()))
    _check_batch(xb, yb, (8, 3, 32, 32))
    _check_batch(*next(iter(dm.val_dataloader())), (8, 3, 32, 32))
    _check_batch(*next(iter(dm.test_dataloader())), (8, 3, 32, 32))
    _check_batch(*next(iter(dm.predict_dataloader())), (8, 3, 32, 32))


def test_cifar_split_seeded_and_disjoint(tmp_path):
    _write_npz(tmp_path / "tiny.npz", n_train=100)

    def val_images(seed: int) -> torch.Tensor:
        dm = CIFAR10DataModule(npz_path=str(tmp_path / "tiny.npz"), val_fraction=0.1, seed=seed)
        dm.setup()
        return dm._split("val").images, dm._split("train").images

    (v0, t0), (v0b, _), (v1, _) = val_images(0), val_images(0), val_images(1)
    assert torch.equal(v0, v0b) and not torch.equal(v0, v1)
    flat_t = {bytes(img.numpy()) for img in t0}
    assert len(v0) == 10 and len(t0) == 90 and not any(bytes(img.numpy()) in flat_t for img in v0)


def test_cifar_val_fraction_zero_validates_on_test(tmp_path):
    _write_npz(tmp_path / "tiny.npz")
    dm = CIFAR10DataModule(npz_path=str(tmp_path / "tiny.npz"), val_fraction=0.0)
    assert dm.analysis_dataset("val") is dm.analysis_dataset("test") and len(dm._split("train")) == 50


def test_cifar_augment_and_jitter_train_only(tmp_path):
    _write_npz(tmp_path / "tiny.npz")
    dm = CIFAR10DataModule(npz_path=str(tmp_path / "tiny.npz"), color_jitter=0.25, batch_size=50)
    train = dm._split("train")
    assert train.augment and train.color_jitter == 0.25 and not dm.analysis_dataset("test").augment
    assert not dm.analysis_dataset("val").augment
    xb, yb = next(iter(dm.train_dataloader()))
    _check_batch(xb, yb, (45, 3, 32, 32))
    off = CIFAR10DataModule(npz_path=str(tmp_path / "tiny.npz"), augment=False)
    assert not off._split("train").augment


def test_cifar_workers(tmp_path):
    _write_npz(tmp_path / "tiny.npz")
    dm = CIFAR10DataModule(npz_path=str(tmp_path / "tiny.npz"), batch_size=10, num_workers=1)
    batches = list(dm.train_dataloader())
    assert sum(len(b[1]) for b in batches) == 45


@pytest.mark.skipif(TEST_DATA is None, reason="LOWFREQ_TEST_DATA is unset (point it at the shared test data)")
def test_cifar_real_subset_npz():
    path = Path(TEST_DATA) / "data" / "cifar10-subset" / "cifar10_subset.npz"
    if not path.is_file():
        pytest.skip(f"{path} not found under LOWFREQ_TEST_DATA")
    dm = CIFAR10DataModule(npz_path=str(path), batch_size=64)
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm._split("train")) + len(dm.analysis_dataset("val")) == 8068
    assert len(dm.analysis_dataset("val")) == round(0.1 * 8068) and len(dm.analysis_dataset("test")) == 1017
    xb, yb = next(iter(dm.train_dataloader()))
    _check_batch(xb, yb, (64, 3, 32, 32))
    x, y = next(iter(dm.test_dataloader()))
    assert (
        set(yb.tolist()) <= set(range(10)) and 0.2 < float(x.mean()) < 0.7
    )  # natural images, not noise/0-255
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
    assert "data_dir=" in msg and "cifar-10-python.tar.gz" in msg and "cifar-10-batches-py" in msg
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
        with pytest.raises(RuntimeError, match="cifar-10-python.tar.gz") as info:
            dm.prepare_data()
        assert time.perf_counter() - t < 5.0
        assert "npz_path=" in str(info.value) and "cannot download" in str(info.value)


def test_cifar_extracted_batches_load_without_network(tmp_path, offline):
    batches = _write_batches(tmp_path / "cifar" / "cifar-10-batches-py")
    dm = CIFAR10DataModule(data_dir=str(tmp_path / "cifar"), download=True, val_fraction=0.1, batch_size=4)
    dm.prepare_data()  # would raise if it tried the (refused) network
    dm.setup("fit")
    assert len(dm._split("train")) == 27 and len(dm.analysis_dataset("val")) == 3
    x, _ = dm.analysis_dataset("test")[2]
    assert torch.equal(x, torch.from_numpy(batches["test_batch"][2].reshape(3, 32, 32)).float() / 255)
    _check_batch(*next(iter(dm.train_dataloader())), (4, 3, 32, 32))


def test_cifar_local_archive_is_extracted(tmp_path, offline, monkeypatch):
    from torchvision.datasets import CIFAR10

    src = tmp_path / "src"
    _write_batches(src / "cifar-10-batches-py")
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
    assert dm._datasets is None and not (tmp_path / "never").exists()


# ---- ImageNet ----------------------------------------------------------------------------------------------
def _write_image_folder(root: Path, classes: list[str], n_train: int = 4, n_val: int = 2) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("val", n_val)):
        for c in classes:
            (root / split / c).mkdir(parents=True)
            for i in range(n):
                h, w = rng.integers(20, 48, 2)
                arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
                Image.fromarray(arr).save(root / split / c / f"{c}_{i}.png")


def test_imagenet_tiny_folder(tmp_path):
    classes = ["n01440764", "n01443537", "n01484850"]
    _write_image_folder(tmp_path, classes)
    dm = ImageNetDataModule(
        data_dir=str(tmp_path), image_size=16, val_fraction=0.25, batch_size=4, num_workers=0
    )
    dm.prepare_data()
    dm.setup("fit")
    assert dm.class_names == classes and dm.num_classes == 3 and dm.image_shape == (3, 16, 16)
    assert len(dm._split("train")) == 9 and len(dm.analysis_dataset("val")) == 3
    assert len(dm.analysis_dataset("test")) == 6
    x, y = dm.analysis_dataset("test")[0]
    assert x.shape == (3, 16, 16) and x.dtype == torch.float32 and 0 <= float(x.min()) and float(x.max()) <= 1
    assert y.dtype == torch.int64 and y.ndim == 0
    assert torch.equal(
        dm.analysis_dataset("val")[1][0], dm.analysis_dataset("val")[1][0]
    )  # eval: deterministic
    for loader in (dm.train_dataloader(), dm.val_dataloader(), dm.test_dataloader()):
        xb, yb = next(iter(loader))
        _check_batch(xb, yb, (xb.shape[0], 3, 16, 16))
    # the held-out images are train-folder images, under the eval transform
    val = dm.analysis_dataset("val")
    assert (
        all("/train/" in val.dataset.samples[i][0] for i in val.indices) and val.dataset.transform is not None
    )
    assert dm._split("train").dataset.transform is not val.dataset.transform


def test_imagenet_workers_pickle(tmp_path):
    _write_image_folder(tmp_path, ["a", "b"], n_train=2, n_val=1)
    dm = ImageNetDataModule(
        data_dir=str(tmp_path), image_size=8, val_fraction=0.0, batch_size=2, num_workers=1
    )
    assert dm.analysis_dataset("val") is dm.analysis_dataset("test")
    loader = dm.train_dataloader()
    assert loader.persistent_workers
    assert sum(len(y) for _, y in loader) == 4


def test_imagenet_missing_dir(tmp_path):
    dm = ImageNetDataModule(data_dir=str(tmp_path / "imagenet"))
    assert dm.num_classes == 1000
    with pytest.raises(FileNotFoundError, match="cannot be downloaded automatically") as info:
        dm.prepare_data()
    assert "data_dir=" in str(info.value) and "train/<wnid>" in str(info.value)
    with pytest.raises(FileNotFoundError, match="cannot be downloaded automatically"):
        dm.setup()


def test_imagenet_class_mismatch(tmp_path):
    _write_image_folder(tmp_path, ["a", "b"], n_train=1, n_val=1)
    (tmp_path / "val" / "b").rename(tmp_path / "val" / "c")
    with pytest.raises(ValueError, match="class folders"):
        ImageNetDataModule(data_dir=str(tmp_path)).setup()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"image_size": 4}, "image_size must be an int >= 8, got 4"),
        ({"val_fraction": -0.1}, r"val_fraction must be in \[0.0, 0.5\]"),
        ({"color_jitter": 2.0}, r"color_jitter must be in \[0.0, 1.0\], got 2.0"),
        ({"num_workers": -2}, "num_workers must be an int >= 0"),
    ],
)
def test_imagenet_bad_params(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ImageNetDataModule(**kwargs)


# ---- Lightning integration ---------------------------------------------------------------------------------
class _Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 4, 3),
            torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Flatten(),
            torch.nn.Linear(4, 10),
        )


def test_synthetic_datamodule_drives_a_trainer(tmp_path):
    import lightning as L

    class Module(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = _Tiny().net

        def training_step(self, batch, batch_idx):
            x, y = batch
            return torch.nn.functional.cross_entropy(self.net(x), y)

        def validation_step(self, batch, batch_idx):
            x, y = batch
            self.log("val_loss", torch.nn.functional.cross_entropy(self.net(x), y))

        def test_step(self, batch, batch_idx):
            self.validation_step(batch, batch_idx)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    dm = SyntheticShapesDataModule(num_train=64, num_val=32, num_test=32, num_conflict=10, batch_size=16)
    trainer = L.Trainer(
        accelerator="cpu",
        max_steps=2,
        limit_val_batches=1,
        limit_test_batches=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(Module(), datamodule=dm)
    trainer.test(datamodule=dm, ckpt_path=None, model=trainer.lightning_module)
    assert len(dm.analysis_dataset()) == 32


def test_train_transform_applies_to_training_batches_only(tmp_path):
    import lightning as L

    from lowfreq.analysis import ComponentTransform
    from lowfreq.backbones import SimpleCNN
    from lowfreq.frontends import Identity
    from lowfreq.models import FrontEndClassifier

    seen: dict[str, list[torch.Tensor]] = {"train": [], "val": []}

    class Spy(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            seen["train"].append(batch[0].detach().clone())

        def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
            seen["val"].append(batch[0].detach().clone())

    transform = ComponentTransform(radius=4, component="high")
    dm = SyntheticShapesDataModule(num_train=32, num_val=16, num_test=16, num_conflict=10, image_size=16,
                                   batch_size=16, augment=False, train_transform=transform)
    model = FrontEndClassifier(Identity(), SimpleCNN(widths=(4,)))
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, limit_train_batches=1, limit_val_batches=1,
                        num_sanity_val_steps=0, callbacks=[Spy()],
                        default_root_dir=tmp_path, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, dm)
    train_batch, val_batch = seen["train"][0], seen["val"][0]
    assert train_batch.min() < 0  # high-frequency components oscillate around 0
    assert torch.allclose(train_batch.mean((-2, -1)), torch.zeros(16, 3), atol=1e-5)  # no DC in x_h
    assert val_batch.min() >= 0 and val_batch.max() <= 1  # validation images untouched
