"""Resuming after a crash: ``fit --ckpt_path last`` continues the interrupted run, bit-identically on the CPU."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from lightning import Trainer

from lowfreq.backbones import SimpleCNN
from lowfreq.data import SyntheticShapesDataModule, TensorImageDataset
from lowfreq.data.epochs import EpochSampler, EpochSeededDataset
from lowfreq.frontends import GaussianBlur
from lowfreq.training import FrontEndClassifier

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "tests" / "conf" / "tiny_resume.yaml"


def _fit(root: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "lowfreq", "fit", "-c", str(CONF), f"--trainer.default_root_dir={root}", *extra]
    return subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]


@pytest.mark.slow
def test_killed_run_resumes_in_its_directory_bit_identically(tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    straight.mkdir(), killed.mkdir()
    _finish(_fit(straight))

    proc = _fit(killed)
    last = killed / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 300
    while not last.is_file() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)  # let the first checkpoint finish writing; the run is now in its second epoch
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert torch.load(last, weights_only=True)["epoch"] < 3  # interrupted before the end

    _finish(_fit(killed, "--ckpt_path", "last"))
    runs = sorted(p.name for p in (killed / "lightning_logs").iterdir())
    assert runs == ["version_0"]  # the same run directory, no version_1
    a, b = _weights(straight / "lightning_logs" / "version_0"), _weights(killed / "lightning_logs" / "version_0")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    history = [json.loads((run / "lightning_logs" / "version_0" / "analysis" / "frequency_components" /
                           "result.json").read_text())["history"] for run in (straight, killed)]
    assert [h["epoch"] for h in history[1]] == [1, 2, 3, 4]  # continuous across the interruption
    assert history[0] == history[1]


def test_ckpt_path_last_without_a_run_starts_fresh(tmp_path):
    from lowfreq.cli.lightning_cli import main

    main(["fit", "-c", str(CONF), f"--trainer.default_root_dir={tmp_path}", "--trainer.max_epochs=1",
          "--trainer.limit_train_batches=2", "--trainer.limit_val_batches=1", "--ckpt_path", "last"])
    assert (tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt").is_file()


def _model() -> FrontEndClassifier:
    torch.manual_seed(0)
    return FrontEndClassifier(GaussianBlur(1.0), SimpleCNN(widths=(4, 8)),
                              optimizer=lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9))


@pytest.mark.parametrize("device_resident", [True, False], ids=["device_loader", "dataloader"])
def test_resumed_epoch_sees_the_data_of_that_epoch(tmp_path, device_resident):
    """Both data paths draw order and augmentation from (seed, epoch): 1 epoch + resume == 2 epochs, bitwise."""
    def trainer(epochs: int, root: Path) -> Trainer:
        return Trainer(accelerator="cpu", max_epochs=epochs, limit_val_batches=0, default_root_dir=root,
                       logger=False, enable_progress_bar=False, enable_model_summary=False)

    def data() -> SyntheticShapesDataModule:
        return SyntheticShapesDataModule(num_train=96, num_val=10, num_test=10, num_conflict=10, image_size=16,
                                         batch_size=32, device_resident=device_resident)

    straight = _model()
    trainer(2, tmp_path / "a").fit(straight, data())
    first = _model()
    t1 = trainer(1, tmp_path / "b")
    t1.fit(first, data())
    t1.save_checkpoint(tmp_path / "epoch1.ckpt")
    resumed = _model()
    trainer(2, tmp_path / "c").fit(resumed, data(), ckpt_path=tmp_path / "epoch1.ckpt")
    for (key, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), key


def test_epoch_seeded_items_depend_only_on_seed_epoch_and_index():
    images = torch.randint(0, 256, (6, 3, 8, 8), dtype=torch.uint8)
    dataset = EpochSeededDataset(TensorImageDataset(images, torch.arange(6) % 2, augment=True), seed=3)
    torch.manual_seed(123)
    forward = [dataset[k][0] for k in range(12)]  # epochs 0 and 1
    torch.manual_seed(456)
    backward = [dataset[k][0] for k in reversed(range(12))][::-1]
    assert all(torch.equal(a, b) for a, b in zip(forward, backward, strict=True))
    assert not all(torch.equal(forward[i], forward[i + 6]) for i in range(6))  # a new augmentation each epoch
    state = torch.get_rng_state()
    dataset[0]
    assert torch.equal(state, torch.get_rng_state())  # the caller's RNG is left alone


def test_epoch_sampler_tags_keys_with_the_epoch():
    sampler = EpochSampler(range(5), num_replicas=1, rank=0, shuffle=True, seed=0)
    sampler.set_epoch(2)
    keys = list(sampler)
    assert sorted(k - 10 for k in keys) == list(range(5))
    again = EpochSampler(range(5), num_replicas=1, rank=0, shuffle=True, seed=0)
    again.set_epoch(2)
    assert list(again) == keys  # a function of (seed, epoch) only
