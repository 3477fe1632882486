"""Device-resident data under a Trainer: epochs, no host syncs per step, exact logging, DDP shards, GPU."""

from __future__ import annotations

import collections
import csv
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from lightning import Callback, Trainer, seed_everything
from lightning.pytorch.loggers import CSVLogger
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.data import DataLoader

from lowfreq.backbones import CIFARResNet18, SimpleCNN
from lowfreq.data import (
    DeviceLoader,
    ImageDataModule,
    ShardedEpochSampler,
    SyntheticShapesDataModule,
    TensorImageDataset,
)
from lowfreq.frontends import GaussianBlur, Identity
from lowfreq.training import FrontEndClassifier

from tiny_backbone import TinyBackbone


def _shapes(**kwargs) -> SyntheticShapesDataModule:
    return SyntheticShapesDataModule(num_train=40, num_val=12, num_test=12, num_conflict=10, image_size=16,
                                     batch_size=8, **kwargs)


def test_device_resident_switch_without_trainer():
    assert isinstance(_shapes().train_dataloader(), DeviceLoader)  # auto: no trainer -> CPU -> in-memory loader
    assert isinstance(_shapes(device_resident=False).train_dataloader(), DataLoader)
    dm = _shapes(device_resident=True)
    train, val = dm.train_dataloader(), dm.val_dataloader()
    assert isinstance(train, DeviceLoader)
    assert isinstance(val, DeviceLoader)
    assert len(train) == 5
    assert len(val) == 2
    assert train.augment
    assert not val.augment
    with pytest.raises(TypeError, match="device_resident must be a bool or None"):
        _shapes(device_resident="yes")


class _EpochProbe(Callback):
    def __init__(self) -> None:
        self.epochs: list[tuple[int, int]] = []

    def on_train_epoch_start(self, trainer, pl_module):
        self.epochs.append((trainer.current_epoch, trainer.train_dataloader.sampler.epoch))


def test_trainer_fit_with_device_resident_data(tmp_path):
    dm = _shapes(device_resident=True)
    model = FrontEndClassifier(GaussianBlur(1.5), TinyBackbone())
    probe = _EpochProbe()
    trainer = Trainer(accelerator="cpu", max_epochs=2, default_root_dir=tmp_path, logger=False,
                      enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                      callbacks=[probe])
    trainer.fit(model, dm)
    assert isinstance(trainer.train_dataloader, DeviceLoader)
    assert trainer.num_training_batches == 5
    assert trainer.global_step == 10
    assert probe.epochs == [(0, 0), (1, 1)]  # Lightning sets each epoch through loader.sampler.set_epoch
    assert {"train_acc", "val_acc", "train_loss_epoch"} <= set(trainer.callback_metrics)
    assert not dm._device_tensors  # released in teardown


@pytest.mark.slow
def test_compiled_channels_last_backbone_trains_and_matches_eager(tmp_path):
    """compile=True: in-place torch.compile (checkpoint keys unchanged), same function as the eager network."""
    dm = _shapes(device_resident=True)
    # a small graph: inductor's compile time grows with the layer count, and the property does not depend on it
    model = FrontEndClassifier(GaussianBlur(1.5), SimpleCNN(widths=(4, 8)), compile=True, channels_last=True)
    trainer = Trainer(accelerator="cpu", max_steps=2, limit_val_batches=0, default_root_dir=tmp_path, logger=False,
                      enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, dm)
    state = model.state_dict()
    assert not any("_orig_mod" in k for k in state)
    assert model.backbone._compiled_call_impl is not None
    eager = FrontEndClassifier(GaussianBlur(1.5), SimpleCNN(widths=(4, 8)))
    eager.load_state_dict(state)
    x = torch.rand(8, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), eager.eval()(x), atol=1e-4, rtol=1e-4)


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
    assert counter.calls["aten._local_scalar_dense.default"] == 2
    assert counter.calls["aten.index.Tensor"] == 1
    assert counter.calls["aten._unique2.default"] == 1
    assert counter.calls["aten.nonzero.default"] == 1


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
    model = FrontEndClassifier(GaussianBlur(1.5), TinyBackbone())
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
    model = FrontEndClassifier(GaussianBlur(1.5), TinyBackbone(), optimizer=lambda p: torch.optim.SGD(p, lr=0.0))
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
    expected_rows = [("train", "train_loss_epoch", "train_acc", [0, 1]), ("val", "val_loss", "val_acc", [0, 1]),
                     ("test", "test_loss", "test_acc", [2])]
    for stage, loss_key, acc_key, epochs in expected_rows:
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
        super().__init__(Identity(), TinyBackbone())
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
    assert out.dtype == torch.float32
    assert (out.cpu() - expected).abs().max() <= 1e-5
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
    assert out.dtype == torch.float32
    assert (out.cpu() - expected).abs().max() <= 1e-5
    assert logits.shape == (16, 10)
