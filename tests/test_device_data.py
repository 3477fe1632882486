"""Device-resident data path: exact epoch semantics under sharding, determinism, augmentation, Lightning, DDP."""

from __future__ import annotations

import collections
import csv
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from lightning import Callback, Trainer, seed_everything
from lightning.pytorch.loggers import CSVLogger
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.data import DataLoader

from lowfreq.backbones import Backbone, CIFARResNet18, Normalize
from lowfreq.data import ImageDataModule, SyntheticShapesDataModule, TensorImageDataset, random_crop_flip
from lowfreq.data.base import apply_color_jitter, crop_flip
from lowfreq.data.device import DeviceLoader, ShardedEpochSampler
from lowfreq.frontends import GaussianBlur, Identity
from lowfreq.models import FrontEndClassifier


def _images(n: int, size: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def _reference_crop_flip(x: torch.Tensor, oy, ox, flip, padding: int) -> torch.Tensor:
    """Pad, slice and mirror image by image: the definition crop_flip must match."""
    h, w = x.shape[-2:]
    padded = F.pad(x, (padding,) * 4, mode="reflect") if padding else x
    out = torch.stack([padded[i, :, int(a) : int(a) + h, int(b) : int(b) + w] for i, (a, b) in enumerate(zip(oy, ox))])
    return torch.where(flip[:, None, None, None], out.flip(-1), out)


def _rank_batches(n, batch_size, world, epoch=0, seed=0, shuffle=True, drop_last=False):
    out = []
    for rank in range(world):
        s = ShardedEpochSampler(n, batch_size, shuffle=shuffle, seed=seed, rank=rank, world_size=world,
                                drop_last=drop_last)
        s.set_epoch(epoch)
        out.append([b.tolist() for b in s.batches(s.order())])
        assert len(s) == sum(len(b) for b in out[-1])
        assert list(s) == [i for b in out[-1] for i in b]
    return out


# ---- sharding and epochs -----------------------------------------------------------------------------------
@pytest.mark.parametrize("world", [1, 2, 3])
@pytest.mark.parametrize("n", [3, 7, 13, 25, 64, 101])
@pytest.mark.parametrize("batch_size", [1, 4, 5])
def test_every_sample_once_per_epoch_on_equal_steps(world, n, batch_size):
    if n < world:
        pytest.skip("n < world_size is rejected")
    for epoch in (0, 1):
        per_rank = _rank_batches(n, batch_size, world, epoch=epoch)
        seen = [i for batches in per_rank for b in batches for i in b]
        assert sorted(seen) == list(range(n))  # every sample exactly once
        steps = {len(batches) for batches in per_rank}
        assert len(steps) == 1  # all ranks run the same number of steps
        for k in range(steps.pop()):
            sizes = [len(batches[k]) for batches in per_rank]
            assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
            assert max(sizes) <= batch_size + 1


@pytest.mark.parametrize("world", [2, 3])
def test_steps_equal_single_process_with_global_batch(world):
    n, b = 53, 4
    sharded = _rank_batches(n, b, world, epoch=3, seed=7)
    (single,) = _rank_batches(n, b * world, 1, epoch=3, seed=7)
    assert len(single) == len(sharded[0])
    for k, batch in enumerate(single):
        assert sorted(i for ranks in sharded for i in ranks[k]) == sorted(batch)


def test_remainder_rule_and_drop_last():
    s = ShardedEpochSampler(17, 4, world_size=2)  # G = 8: remainder 1 < W is merged into the last step
    assert s.bounds == [0, 8, 17] and s.num_steps == 2
    s = ShardedEpochSampler(18, 4, world_size=2)
    assert s.bounds == [0, 8, 16, 18]
    s = ShardedEpochSampler(18, 4, world_size=2, drop_last=True)
    assert s.bounds == [0, 8, 16]
    per_rank = _rank_batches(18, 4, 2, drop_last=True)
    assert all(len(b) == 4 for batches in per_rank for b in batches)


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="rank must be in"):
        ShardedEpochSampler(10, 2, rank=2, world_size=2)
    with pytest.raises(ValueError, match="n must be >= 3"):
        ShardedEpochSampler(2, 2, world_size=3)
    with pytest.raises(ValueError, match="batch_size"):
        ShardedEpochSampler(10, 0)
    with pytest.raises(ValueError, match="images must be a uint8"):
        DeviceLoader(torch.rand(4, 3, 8, 8), torch.zeros(4), 2)
    with pytest.raises(ValueError, match="padding must be in"):
        DeviceLoader(_images(4), torch.zeros(4), 2, augment=True, padding=8)


def test_order_deterministic_per_seed_and_epoch():
    s = ShardedEpochSampler(1000, 10, seed=3)
    assert torch.equal(s.order(5), ShardedEpochSampler(1000, 10, seed=3).order(5))
    assert not torch.equal(s.order(5), s.order(6))
    assert not torch.equal(s.order(5), ShardedEpochSampler(1000, 10, seed=4).order(5))
    assert torch.equal(ShardedEpochSampler(10, 3, shuffle=False).order(9), torch.arange(10))


def test_loader_batches_deterministic_and_new_each_epoch():
    images, labels = _images(40), torch.arange(40) % 10

    def epoch(loader, e):
        loader.set_epoch(e)
        return [(x.clone(), y.clone()) for x, y in loader]

    a = DeviceLoader(images, labels, 8, shuffle=True, augment=True, seed=1)
    b = DeviceLoader(images, labels, 8, shuffle=True, augment=True, seed=1)
    for (xa, ya), (xb, yb) in zip(epoch(a, 2), epoch(b, 2)):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    e2, e3 = epoch(a, 2), epoch(a, 3)
    assert not torch.equal(torch.cat([x for x, _ in e2]), torch.cat([x for x, _ in e3]))
    # without set_epoch, each pass advances the epoch (a plain loop reshuffles)
    c = DeviceLoader(images, labels, 8, shuffle=True, augment=True, seed=1)
    first, second = [x for x, _ in c], [x for x, _ in c]
    assert torch.equal(torch.cat(second), torch.cat([x for x, _ in epoch(b, 1)]))
    assert not torch.equal(torch.cat(first), torch.cat(second))


# ---- augmentation ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("padding", [0, 1, 4])
def test_crop_flip_matches_pad_slice_mirror(padding):
    x = torch.rand(12, 3, 9, 11, dtype=torch.float64)
    g = torch.Generator().manual_seed(padding)
    oy = torch.randint(0, 2 * padding + 1, (12,), generator=g)
    ox = torch.randint(0, 2 * padding + 1, (12,), generator=g)
    flip = torch.rand(12, generator=g) < 0.5
    assert torch.equal(crop_flip(x, oy, ox, flip, padding), _reference_crop_flip(x, oy, ox, flip, padding))
    # random_crop_flip is crop_flip with its own draws, in this order
    g = torch.Generator().manual_seed(5)
    oy, ox = (torch.randint(0, 2 * padding + 1, (12,), generator=g) for _ in range(2)) if padding else (
        torch.zeros(12, dtype=torch.long), torch.zeros(12, dtype=torch.long))
    flip = torch.rand(12, generator=g) < 0.5
    expected = _reference_crop_flip(x, oy, ox, flip, padding)
    assert torch.equal(random_crop_flip(x, padding, generator=torch.Generator().manual_seed(5)), expected)


def test_loader_augmentation_is_random_crop_flip():
    n = 2000
    images, labels = _images(n, size=12), torch.arange(n) % 10
    loader = DeviceLoader(images, labels, 500, shuffle=True, augment=True, seed=0)
    loader.set_epoch(4)
    order, crop, jitter = loader.epoch_params(4)
    assert jitter is None
    oy, ox, flip = crop
    batches = list(loader)
    assert [len(x) for x, _ in batches] == [500] * 4
    x = torch.cat([b[0] for b in batches])
    y = torch.cat([b[1] for b in batches])
    assert x.shape == (n, 3, 12, 12) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert torch.equal(y, labels[order])
    reference = _reference_crop_flip(images[order].float() / 255.0, oy[order], ox[order], flip[order].bool(), 4)
    assert torch.equal(x, reference)  # bit-identical to the DataLoader path's conversion and crop
    # the parameters follow random_crop_flip's distribution: offsets uniform on 0..8, flips fair
    counts = torch.bincount(torch.cat([oy, ox]), minlength=9).double() / (2 * n)
    assert counts.numel() == 9 and torch.all((counts - 1 / 9).abs() < 0.03)
    assert abs(flip.double().mean().item() - 0.5) < 0.05
    # un-augmented loaders return the images themselves, in order
    plain = DeviceLoader(images, labels, 300)
    assert torch.equal(torch.cat([x for x, _ in plain]), images.float() / 255.0)


def test_loader_color_jitter_uses_drawn_factors():
    images, labels = _images(64), torch.zeros(64, dtype=torch.long)
    loader = DeviceLoader(images, labels, 64, shuffle=True, augment=True, color_jitter=0.4, seed=2)
    order, _, jitter = loader.epoch_params(0)
    assert jitter is not None and jitter.shape == (3, 64)
    assert float(jitter.min()) >= 0.6 and float(jitter.max()) <= 1.4
    (x, _), = list(loader)
    no_jitter = DeviceLoader(images, labels, 64, shuffle=True, augment=True, seed=2)
    (x0, _), = list(no_jitter)
    assert not torch.equal(x, x0) and float(x.min()) >= 0 and float(x.max()) <= 1

    assert torch.allclose(x, apply_color_jitter(x0, jitter[:, order]))


# ---- DataModule and Lightning ------------------------------------------------------------------------------
class _TinyBackbone(Backbone):
    """Flatten + linear: keeps the Lightning tests fast on a busy 2-core machine."""

    def __init__(self, size: int = 8) -> None:
        super().__init__()
        self.num_classes = 10
        self.normalize = Normalize()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * size * size, 10))


def _shapes(**kwargs) -> SyntheticShapesDataModule:
    return SyntheticShapesDataModule(num_train=40, num_val=12, num_test=12, num_conflict=10, image_size=16,
                                     batch_size=8, **kwargs)


def test_device_resident_switch_without_trainer():
    assert isinstance(_shapes().train_dataloader(), DeviceLoader)  # auto: no trainer -> CPU -> in-memory loader
    assert isinstance(_shapes(device_resident=False).train_dataloader(), DataLoader)
    dm = _shapes(device_resident=True)
    train, val = dm.train_dataloader(), dm.val_dataloader()
    assert isinstance(train, DeviceLoader) and isinstance(val, DeviceLoader)
    assert len(train) == 5 and len(val) == 2 and train.augment and not val.augment
    with pytest.raises(TypeError, match="device_resident must be a bool or None"):
        _shapes(device_resident="yes")


class _EpochProbe(Callback):
    def __init__(self) -> None:
        self.epochs: list[tuple[int, int]] = []

    def on_train_epoch_start(self, trainer, pl_module):
        self.epochs.append((trainer.current_epoch, trainer.train_dataloader.sampler.epoch))


def test_trainer_fit_with_device_resident_data(tmp_path):
    dm = _shapes(device_resident=True)
    model = FrontEndClassifier(GaussianBlur(1.5), _TinyBackbone(16))
    probe = _EpochProbe()
    trainer = Trainer(accelerator="cpu", max_epochs=2, default_root_dir=tmp_path, logger=False,
                      enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                      callbacks=[probe])
    trainer.fit(model, dm)
    assert isinstance(trainer.train_dataloader, DeviceLoader)
    assert trainer.num_training_batches == 5 and trainer.global_step == 10
    assert probe.epochs == [(0, 0), (1, 1)]  # Lightning sets each epoch through loader.sampler.set_epoch
    assert {"train_acc", "val_acc", "train_loss_epoch"} <= set(trainer.callback_metrics)
    assert not dm._device_tensors  # released in teardown


@pytest.mark.slow
def test_compiled_channels_last_backbone_trains_and_matches_eager(tmp_path):
    """compile=True: in-place torch.compile (checkpoint keys unchanged), same function as the eager network."""
    dm = _shapes(device_resident=True)
    model = FrontEndClassifier(GaussianBlur(1.5), CIFARResNet18(width=4), compile=True, channels_last=True)
    trainer = Trainer(accelerator="cpu", max_steps=2, limit_val_batches=0, default_root_dir=tmp_path, logger=False,
                      enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, dm)
    state = model.state_dict()
    assert not any("_orig_mod" in k for k in state) and model.backbone._compiled_call_impl is not None
    eager = FrontEndClassifier(GaussianBlur(1.5), CIFARResNet18(width=4))
    eager.load_state_dict(state)
    x = torch.rand(8, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), eager.eval()(x), atol=1e-4, rtol=1e-4)


# ATen ops whose CUDA kernels make the host wait for the GPU: a scalar read, or an output size that depends on
# the data (boolean indexing goes through nonzero).
_SYNCING_OPS = {"_local_scalar_dense", "is_nonzero", "nonzero", "nonzero_static", "_unique2", "unique_dim",
                "unique_consecutive", "bincount", "masked_select", "repeat_interleave", "equal", "allclose"}


class _SyncCounter(TorchDispatchMode):
    """Counts the ATen calls that synchronise the host with a CUDA device, while ``on`` (any device)."""

    def __init__(self) -> None:
        super().__init__()
        self.on, self.calls, self.ops = False, collections.Counter(), 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if self.on:
            self.ops += 1
            name = func.overloadpacket.__name__
            if name in _SYNCING_OPS or (name.startswith("index") and _has_bool_index(args)):
                self.calls[str(func)] += 1
        return func(*args, **(kwargs or {}))


def _has_bool_index(args) -> bool:
    indices = args[1] if len(args) > 1 and isinstance(args[1], (list, tuple)) else ()
    return any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in indices)


def test_sync_counter_sees_host_reads():
    counter, x = _SyncCounter(), torch.arange(4.0)
    counter.on = True
    with counter:
        x.sum().item(), bool(x[0] > 0), x[x > 1], torch.unique(x), x.nonzero()
    assert counter.calls["aten._local_scalar_dense.default"] == 2 and counter.calls["aten.index.Tensor"] == 1
    assert counter.calls["aten._unique2.default"] == 1 and counter.calls["aten.nonzero.default"] == 1


class _Window(Callback):
    def __init__(self, counter: _SyncCounter, start: int, stop: int) -> None:
        self.counter, self.start, self.stop = counter, start, stop

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.counter.on = self.start <= batch_idx < self.stop

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.counter.on = self.start <= batch_idx + 1 < self.stop


def test_training_steps_do_not_read_tensors_on_the_host(tmp_path):
    """No scalar reads or data-dependent shapes between logging steps: on CUDA each would stall the GPU."""
    dm = SyntheticShapesDataModule(num_train=96, num_val=10, num_test=10, num_conflict=10, image_size=16,
                                   batch_size=8, device_resident=True)
    model = FrontEndClassifier(GaussianBlur(1.5), _TinyBackbone(16))
    counter = _SyncCounter()
    trainer = Trainer(accelerator="cpu", max_epochs=1, limit_val_batches=0, default_root_dir=tmp_path,
                      enable_checkpointing=False, enable_model_summary=False,  # progress bar and logger on
                      callbacks=[_Window(counter, 2, 10)], log_every_n_steps=50)
    with counter:
        trainer.fit(model, dm)
    assert trainer.global_step == 12
    assert counter.ops > 8 * 20, "the counter saw no training work"
    assert not counter.calls, f"host syncs during training steps: {dict(counter.calls)}"


class _BatchRecorder(Callback):
    """Per batch: stage, epoch, loss, batch size and correct predictions of the model (constant: lr = 0)."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, int, float, int, int]] = []

    def _record(self, stage, trainer, pl_module, batch) -> None:
        with torch.no_grad():
            logits = pl_module(batch[0])
        loss, correct = float(F.cross_entropy(logits, batch[1])), int((logits.argmax(1) == batch[1]).sum())
        self.batches.append((stage, trainer.current_epoch, loss, len(batch[1]), correct))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        assert float(outputs["loss"]) == pytest.approx(F.cross_entropy(pl_module(batch[0]), batch[1]).item())
        self._record("train", trainer, pl_module, batch)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._record("sanity" if trainer.sanity_checking else "val", trainer, pl_module, batch)

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._record("test", trainer, pl_module, batch)

    def means(self, stage: str, epoch: int | None = None) -> tuple[float, float]:
        """Batch-size-weighted mean loss and accuracy of a stage's batches (of one epoch)."""
        rows = [b for b in self.batches if b[0] == stage and epoch in (None, b[1])]
        n = sum(b[3] for b in rows)
        return sum(b[2] * b[3] for b in rows) / n, sum(b[4] for b in rows) / n


def test_epoch_and_step_values_are_logged_exactly(tmp_path):
    """Epoch values: weighted means over that epoch's batches only (sanity-check batches excluded);
    train_loss_step: the loss of every log_every_n_steps-th step, and only those rows."""
    dm = SyntheticShapesDataModule(num_train=76, num_val=10, num_test=10, num_conflict=10, image_size=16,
                                   batch_size=8, device_resident=True)  # 10 steps per epoch, the last of 4
    model = FrontEndClassifier(GaussianBlur(1.5), _TinyBackbone(16), optimizer=lambda p: torch.optim.SGD(p, lr=0.0))
    recorder = _BatchRecorder()
    logger = CSVLogger(tmp_path)
    trainer = Trainer(accelerator="cpu", max_epochs=2, num_sanity_val_steps=1, logger=logger, log_every_n_steps=3,
                      enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                      callbacks=[recorder])
    trainer.fit(model, dm)
    trainer.test(model, dm)
    with open(Path(logger.log_dir) / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert recorder.means("sanity") != pytest.approx(recorder.means("val", 0))  # a leak would show
    for stage, loss_key, acc_key, epochs in [("train", "train_loss_epoch", "train_acc", [0, 1]),
                                             ("val", "val_loss", "val_acc", [0, 1]), ("test", "test_loss", "test_acc", [2])]:
        logged = [r for r in rows if r[loss_key]]
        assert [int(r["epoch"]) for r in logged] == epochs, stage
        for row in logged:
            loss, acc = recorder.means(stage, None if stage == "test" else int(row["epoch"]))
            assert float(row[loss_key]) == pytest.approx(loss, rel=1e-5), (stage, row["epoch"])
            assert float(row[acc_key]) == pytest.approx(acc, abs=1e-6), (stage, row["epoch"])
    step_rows = [r for r in rows if r["train_loss_step"]]
    assert [int(r["step"]) for r in step_rows] == [2, 5, 8, 11, 14, 17]
    train_losses = [b[2] for b in recorder.batches if b[0] == "train"]
    for row in step_rows:
        assert float(row["train_loss_step"]) == pytest.approx(train_losses[int(row["step"])], rel=1e-6)


# ---- DDP: each rank its own shard, every sample once -------------------------------------------------------
class _IdData(ImageDataModule):
    """Constant images whose first two channels encode the sample id (invariant under crop and flip)."""

    def __init__(self, n: int = 37, batch_size: int = 4) -> None:
        super().__init__(batch_size=batch_size, device_resident=True)
        self.n = n

    @property
    def class_names(self) -> list[str]:
        return [str(k) for k in range(10)]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (3, 8, 8)

    def _build(self):
        ids = torch.arange(self.n)
        images = torch.zeros(self.n, 3, 8, 8, dtype=torch.uint8)
        images[:, 0] = (ids % 256)[:, None, None].to(torch.uint8)
        images[:, 1] = (ids // 256)[:, None, None].to(torch.uint8)
        train = TensorImageDataset(images, ids % 10, augment=True)
        val = TensorImageDataset(images[:11], ids[:11] % 10)
        return {"train": train, "train_eval": TensorImageDataset(images, ids % 10), "val": val, "test": val}


class _IdRecorder(FrontEndClassifier):
    def __init__(self, out_dir: str) -> None:
        super().__init__(Identity(), _TinyBackbone())
        self.out_dir = out_dir
        self.seen: list[torch.Tensor] = []

    def training_step(self, batch, batch_idx):
        x = batch[0]
        self.seen.append((x[:, 0, 0, 0] * 255).round().long() + 256 * (x[:, 1, 0, 0] * 255).round().long())
        return super().training_step(batch, batch_idx)

    def on_train_epoch_end(self) -> None:
        rank, epoch = self.trainer.global_rank, self.trainer.current_epoch
        torch.save([s.clone() for s in self.seen], f"{self.out_dir}/rank{rank}_epoch{epoch}.pt")
        self.seen = []


@pytest.mark.ddp
@pytest.mark.slow
def test_ddp_ranks_get_disjoint_shards_covering_every_sample(tmp_path):
    seed_everything(0)
    trainer = Trainer(accelerator="cpu", devices=2, strategy="ddp_spawn", max_epochs=2, default_root_dir=tmp_path,
                      logger=False, enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(_IdRecorder(str(tmp_path)), _IdData(n=37, batch_size=4))
    orders = []
    for epoch in range(2):
        ranks = [torch.load(tmp_path / f"rank{r}_epoch{epoch}.pt") for r in range(2)]
        assert len(ranks[0]) == len(ranks[1]) == 5  # G = 8: steps of 8, 8, 8, 8, 5
        ids = [torch.cat(batches) for batches in ranks]
        assert not set(ids[0].tolist()) & set(ids[1].tolist())
        assert sorted(torch.cat(ids).tolist()) == list(range(37))
        # rank r's step-k batch is the strided share of the epoch order, as ShardedEpochSampler defines
        for r in range(2):
            expected = ShardedEpochSampler(37, 4, seed=0, rank=r, world_size=2)
            assert [b.tolist() for b in ranks[r]] == [b.tolist() for b in expected.batches(expected.order(epoch))]
        orders.append(ids[0])
    assert not torch.equal(orders[0], orders[1])


# ---- GPU ---------------------------------------------------------------------------------------------------
@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_blur_on_cuda_equals_cpu_float32():
    x = torch.rand(16, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    blur = GaussianBlur(1.5)
    expected = blur(x)
    cuda_blur = GaussianBlur(1.5).cuda()
    assert (cuda_blur(x.cuda()).cpu() - expected).abs().max() <= 1e-5
    with torch.autocast("cuda", dtype=torch.bfloat16):
        out = cuda_blur(x.cuda())
    assert out.dtype == torch.float32 and (out.cpu() - expected).abs().max() <= 1e-5
    # with TF32 allowed globally and under bf16 autocast, the front-end (alone and inside the model) stays exact
    model = FrontEndClassifier(GaussianBlur(1.5), CIFARResNet18(width=4), channels_last=True).cuda()
    conv = getattr(torch.backends.cudnn, "conv", None)
    new_api = conv is not None and hasattr(conv, "fp32_precision")
    flags = (conv, "fp32_precision", "tf32") if new_api else (torch.backends.cudnn, "allow_tf32", True)
    saved = getattr(flags[0], flags[1])
    setattr(flags[0], flags[1], flags[2])  # TF32 convolutions allowed globally
    try:
        with torch.autocast("cuda", dtype=torch.bfloat16):
            out = model.frontend(x.cuda())
            logits = model(x.cuda())
        assert getattr(flags[0], flags[1]) == flags[2]  # restored after the front-end
    finally:
        setattr(flags[0], flags[1], saved)
    assert out.dtype == torch.float32 and (out.cpu() - expected).abs().max() <= 1e-5
    assert logits.shape == (16, 10)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_loader_batches_equal_cpu_batches():
    images, labels = _images(100, size=32), torch.arange(100) % 10
    cpu = DeviceLoader(images, labels, 32, shuffle=True, augment=True, color_jitter=0.25, seed=1)
    gpu = DeviceLoader(images, labels, 32, shuffle=True, augment=True, color_jitter=0.25, seed=1, device="cuda")
    assert gpu.images.is_cuda
    for (xc, yc), (xg, yg) in zip(cpu, gpu):
        assert xg.is_cuda and torch.equal(yc, yg.cpu())
        assert (xc - xg.cpu()).abs().max() <= 1e-6
