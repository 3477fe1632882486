"""The FrontEnd hooks (penalty, after_optimizer_step, requires_fit/fit) drive FrontEndClassifier."""

import pytest
import torch
from lightning import Callback, Trainer, seed_everything
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lowfreq.backbones import SimpleCNN
from lowfreq.data import SyntheticShapesDataModule
from lowfreq.frontends import FrontEnd, GaussianBlur, PCAProjection
from lowfreq.training import FrontEndClassifier
from lowfreq.training.fitting import FrontEndFitting

LR, LAMBDA, SLOPE, INIT = 0.1, 0.5, 3.0, 2.0


class PenalisedFrontEnd(FrontEnd):
    """Identity on images; only the penalty SLOPE * w reads its parameter, so only the penalty moves it."""

    def __init__(self, init: float = INIT) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.tensor(init))
        self.after_step: list[float] = []

    def forward(self, x):
        return x

    def penalty(self):
        return SLOPE * self.weight

    def after_optimizer_step(self):
        self.after_step.append(float(self.weight.detach()))


class MeanImageFrontEnd(FrontEnd):
    """Averages each image with the mean training image, which ``fit`` stores in persistent buffers."""

    def __init__(self, image_shape: tuple[int, int, int] = (3, 16, 16)) -> None:
        super().__init__()
        self.register_buffer("mean_image", torch.zeros(image_shape))
        self.register_buffer("num_images", torch.tensor(0))
        self.seen: list[torch.Tensor] = []

    @property
    def requires_fit(self):
        return int(self.num_images) == 0

    def fit(self, batches):
        first, second = torch.cat(list(batches)), torch.cat(list(batches))
        assert torch.equal(first, second), "a second pass must see the same batches"
        self.seen.append(first)
        self.mean_image.copy_(first.mean(0))
        self.num_images.fill_(first.shape[0])
        return self

    def forward(self, x):
        return (x + self.mean_image) / 2


def _data(**kwargs) -> SyntheticShapesDataModule:
    options = {"num_train": 40, "num_val": 10, "num_test": 10, "num_conflict": 10, "image_size": 16, "batch_size": 8}
    return SyntheticShapesDataModule(**(options | kwargs))


def _trainer(tmp_path, **kwargs) -> Trainer:
    options = {"accelerator": "cpu", "max_epochs": 1, "limit_val_batches": 0, "default_root_dir": tmp_path,
                   "logger": False, "enable_checkpointing": False, "enable_progress_bar": False,
                   "enable_model_summary": False}
    return Trainer(**(options | kwargs))


def _train_images(data: SyntheticShapesDataModule) -> torch.Tensor:
    data.prepare_data()
    data.setup("fit")
    return torch.stack([x for x, _ in data.analysis_dataset("train")])


def _sgd(params):
    return torch.optim.SGD(params, lr=LR)


def test_a_front_end_defined_here_trains_with_its_penalty_and_post_step_hook(tmp_path):
    seed_everything(0)
    frontend = PenalisedFrontEnd()
    model = FrontEndClassifier(frontend, SimpleCNN(widths=(4, 8)), optimizer=_sgd, lambda_l1=LAMBDA)
    trainer = _trainer(tmp_path, limit_train_batches=4)
    trainer.fit(model, _data())
    steps = trainer.global_step
    assert steps == 4
    # d loss / d w = LAMBDA * SLOPE from the penalty alone; the hook sees the value after each step.
    expected = [INIT - k * LR * LAMBDA * SLOPE for k in range(1, steps + 1)]
    assert frontend.after_step == pytest.approx(expected, abs=1e-6)
    penalties = [SLOPE * (INIT - k * LR * LAMBDA * SLOPE) for k in range(steps)]  # before each step
    assert float(trainer.callback_metrics["train_l1"]) == pytest.approx(sum(penalties) / steps, abs=1e-5)


def test_without_weight_the_penalty_stays_out_of_the_loss(tmp_path):
    frontend = PenalisedFrontEnd()
    trainer = _trainer(tmp_path, limit_train_batches=3)
    trainer.fit(FrontEndClassifier(frontend, SimpleCNN(widths=(4, 8)), optimizer=_sgd), _data())
    assert frontend.after_step == [INIT] * 3
    assert "train_l1" not in trainer.callback_metrics


def test_a_fitted_front_end_defined_here_is_fitted_on_the_unaugmented_training_images(tmp_path):
    data, frontend = _data(), MeanImageFrontEnd()
    model = FrontEndClassifier(frontend, SimpleCNN(widths=(4, 8)))
    assert [type(c) for c in model.configure_callbacks()] == [FrontEndFitting]
    _trainer(tmp_path, max_steps=1).fit(model, data)
    images = _train_images(data)
    (seen,) = frontend.seen
    assert torch.equal(seen, images)  # every training image once, in order, without augmentation
    torch.testing.assert_close(frontend.mean_image, images.mean(0))
    assert not frontend.requires_fit
    assert model.configure_callbacks() == []


def test_pca_is_fitted_on_its_first_max_images(tmp_path):
    data = _data()
    pca = PCAProjection(5, image_shape=(3, 16, 16), max_images=24)
    model = FrontEndClassifier(pca, SimpleCNN(widths=(4, 8)))
    _trainer(tmp_path, max_steps=1).fit(model, data)
    oracle = PCAProjection(5, image_shape=(3, 16, 16)).fit(_train_images(data)[:24])
    assert not model.frontend.requires_fit
    for name in ("mean", "components", "explained_variance"):
        torch.testing.assert_close(getattr(model.frontend, name), getattr(oracle, name), atol=1e-6, rtol=1e-5)


def test_fitting_without_an_analysis_dataset_fails_clearly(tmp_path):
    loader = DataLoader(TensorDataset(torch.rand(8, 3, 16, 16), torch.arange(8) % 10), batch_size=4)
    model = FrontEndClassifier(MeanImageFrontEnd(), SimpleCNN(widths=(4, 8)))
    with pytest.raises(RuntimeError, match=r"MeanImageFrontEnd must be fitted before training: pass a"):
        _trainer(tmp_path, max_steps=1).fit(model, train_dataloaders=loader)


def test_front_ends_without_fit_add_no_callback():
    assert FrontEndClassifier(GaussianBlur(1.0), SimpleCNN(widths=(4, 8))).configure_callbacks() == []


def test_a_configured_fitting_callback_is_not_added_twice():
    model = FrontEndClassifier(MeanImageFrontEnd(), SimpleCNN(widths=(4, 8)))
    model.trainer = Trainer(logger=False, enable_checkpointing=False)
    assert [type(c) for c in model.configure_callbacks()] == [FrontEndFitting]
    model.trainer = Trainer(logger=False, enable_checkpointing=False, callbacks=[FrontEndFitting(batch_size=7)])
    assert model.configure_callbacks() == []


class _SaveFrontEnd(Callback):
    """Every rank writes its front-end's state dict when training starts (after the fit)."""

    def __init__(self, directory) -> None:
        self.directory = directory

    def on_train_start(self, trainer, pl_module):
        state = {k: v.detach().cpu() for k, v in pl_module.frontend.state_dict().items()}
        torch.save(state, self.directory / f"rank{trainer.global_rank}.pt")


@pytest.mark.ddp
def test_two_processes_hold_the_single_process_pca_fit(tmp_path):
    data = _data()
    model = FrontEndClassifier(PCAProjection(6, image_shape=(3, 16, 16)), SimpleCNN(widths=(4, 8)))
    trainer = _trainer(tmp_path, devices=2, strategy="ddp_spawn", max_steps=1,
                       callbacks=[_SaveFrontEnd(tmp_path)])
    trainer.fit(model, data)
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    oracle = PCAProjection(6, image_shape=(3, 16, 16)).fit(_train_images(data)).state_dict()
    assert rank0.keys() == rank1.keys() == oracle.keys()
    assert bool(rank1["fitted"])
    for key in oracle:
        assert torch.equal(rank0[key], rank1[key]), key
        torch.testing.assert_close(rank0[key], oracle[key], atol=1e-6, rtol=1e-5, msg=key)
