"""Two CPU processes (gloo) give the single-process result: same weights after training, same metrics."""

import pytest
import torch
from lightning import Trainer, seed_everything
from torch.utils.data import Subset

from lowfreq.data import SyntheticShapesDataModule
from lowfreq.frontends import GaussianBlur
from lowfreq.training import FrontEndClassifier

from tiny_backbone import TinyBackbone


class InOrderShapes(SyntheticShapesDataModule):
    """Unshuffled training order, strided over ranks: rank r's k-th batch holds the images at positions
    r, r + W, ... of the single-process k-th batch. (Lightning's DistributedSampler always shuffles training
    data, with an order that depends on the world size, so the test shards by hand.)"""

    def train_dataloader(self):
        rank, world = self.trainer.global_rank, self.trainer.world_size
        dataset = self._split("train")
        return self._loader(Subset(dataset, range(rank, len(dataset), world)), shuffle=False)


def sgd(params):
    return torch.optim.SGD(params, lr=0.05)


def _fit(tmp_path, devices: int, per_rank_batch: int):
    data = InOrderShapes(num_train=64, num_val=32, num_test=32, num_conflict=16, image_size=16,
                         batch_size=per_rank_batch, augment=False)
    seed_everything(0)  # identical initial weights in both runs
    model = FrontEndClassifier(GaussianBlur(1.0), TinyBackbone(),
                               optimizer=sgd)
    strategy = "ddp_spawn" if devices > 1 else "auto"
    trainer = Trainer(accelerator="cpu", devices=devices, strategy=strategy, max_epochs=2,
                      default_root_dir=tmp_path, enable_progress_bar=False, enable_model_summary=False,
                      logger=False, deterministic=True,
                      use_distributed_sampler=False)
    trainer.fit(model, data)
    path = tmp_path / "final.ckpt"
    trainer.save_checkpoint(path)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    return torch.load(path, weights_only=True)["state_dict"], metrics


@pytest.mark.ddp
@pytest.mark.slow
def test_two_process_fit_matches_single_process(tmp_path):
    single, single_metrics = _fit(tmp_path / "one", devices=1, per_rank_batch=16)
    double, double_metrics = _fit(tmp_path / "two", devices=2, per_rank_batch=8)
    assert single.keys() == double.keys()
    for key in single:
        assert torch.allclose(single[key], double[key], atol=1e-5), key
    assert set(single_metrics) >= {"val_acc", "val_loss", "train_acc", "train_loss_epoch"}
    for key, value in single_metrics.items():  # synced epoch metrics agree too
        assert double_metrics[key] == pytest.approx(value, abs=1e-5), key
