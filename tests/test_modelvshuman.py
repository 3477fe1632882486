"""model-vs-human data end to end: stimuli -> decisions of a random model -> CSVs in the toolbox's format ->
read back -> metrics; the DataModule, the callback, sweeps, figures and the download code (offline)."""

import io
import json
import shutil
import tarfile
import urllib.error
from pathlib import Path

import pandas as pd
import pytest
import torch
from lightning import Trainer
from matplotlib.figure import Figure
from torch import nn

from lowfreq.analysis import alignment as A
from lowfreq.analysis.decisions import alignment_sweep, model_decisions
from lowfreq.backbones import Backbone, Normalize
from lowfreq.callbacks.alignment import ModelVsHumanAnalysis
from lowfreq.data import modelvshuman as M
from lowfreq.frontends import GaussianBlur, Identity
from lowfreq.models import FrontEndClassifier
from lowfreq.plotting import alignment as P

pytestmark = pytest.mark.data


class TinyNet(Backbone):
    """Random conv net: [0, 1] images -> ``num_classes`` logits (16, or 1000 for the ImageNet mapping)."""

    def __init__(self, num_classes: int = 16) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.normalize = Normalize()
        self.net = nn.Sequential(
            nn.Conv2d(3, 4, 8, stride=8),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
            nn.Linear(16, num_classes),
        )


@pytest.fixture
def mvh(test_data) -> Path:
    return test_data / "model-vs-human"


@pytest.fixture
def human_raw(mvh, tmp_path) -> Path:
    """A writable raw-data folder holding the human CSVs of the three datasets with images."""
    raw = tmp_path / "raw-data"
    for d in A.IMAGE_DATASETS:
        (raw / d).mkdir(parents=True)
        for f in (mvh / "raw-data" / d).glob("*_subject-*.csv"):
            shutil.copy(f, raw / d / f.name)
    return raw


def test_stimulus_records_of_the_image_datasets(mvh):
    ds = M.ModelVsHumanDataset(mvh, ["cue-conflict", "edge", "silhouette"])
    assert len(ds) == 480
    assert ds.records.groupby("dataset").size().to_dict() == {
        "cue-conflict": 160,
        "edge": 160,
        "silhouette": 160,
    }
    x, y = ds[0]
    assert x.shape == (3, 224, 224) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert y.dtype == torch.int64 and A.CLASSES_16[int(y)] == ds.records["category"].iloc[0]
    row = ds.records.iloc[0]
    assert (
        row["imagename"] == "airplane1-bicycle2.png" and row["condition"] == "NaN" and row["session"] == "1"
    )
    sub = M.ModelVsHumanDataset(mvh, ["edge"], images_per_dataset=5, seed=1)
    assert len(sub) == 5 and sub.records.equals(M.ModelVsHumanDataset(mvh, ["edge"], 5, seed=1).records)


def test_missing_dataset_explains_how_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="download_datasets"):
        M.ModelVsHumanDataset(tmp_path, ["sketch"])
    with pytest.raises(ValueError, match="dataset must be one of"):
        M.find_dataset_dir(tmp_path, "imagenet")


@pytest.mark.parametrize(("num_classes", "per_dataset"), [(16, None), (1000, 40)])
def test_end_to_end_decisions_csv_round_trip_and_metrics(mvh, human_raw, num_classes, per_dataset):
    torch.manual_seed(0)
    ds = M.ModelVsHumanDataset(mvh, list(A.IMAGE_DATASETS), images_per_dataset=per_dataset)
    n = len(ds) // 3
    table = model_decisions(TinyNet(num_classes), ds, "tiny_net", batch_size=96)
    assert len(table) == 3 * n and set(table["object_response"]) <= set(A.CLASSES_16)

    paths = M.write_decisions_csv(table, human_raw)
    assert sorted(p.name for p in paths) == [f"{d}_tiny-net_session-1.csv" for d in sorted(A.IMAGE_DATASETS)]
    text = paths[0].read_bytes()
    assert text.startswith(b"subj,session,trial,rt,object_response,category,condition,imagename\r\n")
    first = text.split(b"\r\n")[1].split(b",")
    assert first[0] == b"tiny_net" and first[1:4] == [b"1", b"1", b"NaN"] and first[6] == b"NaN"

    back = A.read_raw_data(human_raw, subjects=["tiny_net"])
    cols = [*A.TRIAL_COLUMNS, "dataset", "image_id"]
    key = ["dataset", "imagename"]
    pd.testing.assert_frame_equal(
        back[cols].sort_values(key).reset_index(drop=True),
        table[cols].sort_values(key).reset_index(drop=True),
    )

    result = A.benchmark_from_raw_data(human_raw, "tiny_net")
    direct = A.benchmark(
        pd.concat([table, A.read_raw_data(human_raw, subjects=[f"subject-{i:02d}" for i in range(1, 11)])]),
        "tiny_net",
    )
    assert json.dumps(result, sort_keys=True, default=str) == json.dumps(direct, sort_keys=True, default=str)
    for key in ("shape_bias", "observed_consistency", "ood_accuracy", "accuracy_difference"):
        assert 0.0 <= result[key] <= 1.0, key
    assert -1.0 <= result["error_consistency"] <= 1.0
    # humans are paired on the cue-conflict images the model saw
    assert result["datasets"]["cue-conflict"]["num_trials"] == n
    assert result["datasets"]["cue-conflict"]["num_humans"] == 10


def _quiet_trainer(tmp_path, callback, devices: int = 1) -> Trainer:
    """CPU trainer (ddp_spawn for several processes) with the callback and no logger, bar or summary."""
    return Trainer(
        accelerator="cpu",
        devices=devices,
        strategy="ddp_spawn" if devices > 1 else "auto",
        default_root_dir=tmp_path,
        callbacks=[callback],
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
    )


def test_datamodule_is_evaluation_only(mvh):
    dm = M.ModelVsHumanDataModule(str(mvh), ["edge"], images_per_dataset=6, batch_size=4)
    assert dm.num_classes == 16 and dm.class_names == list(A.CLASSES_16) and dm.image_shape == (3, 224, 224)
    x, y = next(iter(dm.val_dataloader()))
    assert x.shape == (4, 3, 224, 224) and y.shape == (4,)
    assert len(dm.analysis_dataset("test")) == 6
    with pytest.raises(RuntimeError, match="evaluation-only"):
        dm.train_dataloader()
    with pytest.raises(ValueError, match="datasets must be one of"):
        M.ModelVsHumanDataModule(str(mvh), ["imagenet"])


def test_callback_after_validate_writes_json_csvs_and_figure(mvh, human_raw, tmp_path):
    torch.manual_seed(0)
    model = FrontEndClassifier(GaussianBlur(1.0), TinyNet(1000))  # ImageNet logits: mapped 1000 -> 16
    dm = M.ModelVsHumanDataModule(str(mvh), ["cue-conflict", "edge"], images_per_dataset=10, batch_size=8)
    callback = ModelVsHumanAnalysis(raw_data_dir=str(human_raw), model_name="tiny-blur", num_images=15)
    _quiet_trainer(tmp_path, callback).validate(model, dm)
    out = tmp_path / "analysis" / "model_vs_human"
    result = json.loads((out / "result.json").read_text())
    assert result["model"] == "tiny-blur" and result["num_stimuli"] == 15
    assert result["callback"] == "ModelVsHumanAnalysis" and result["init_args"]["num_images"] == 15
    assert set(result["datasets"]) <= {"cue-conflict", "edge"} and result["ood_accuracy"] is not None
    assert result["humans"]["shape_bias"] == pytest.approx(0.9587, abs=1e-3)
    assert (out / "figure.png").is_file() and (out / "figure.pdf").is_file()
    written = A.read_raw_data(out / "raw-data")
    assert len(written) == 15 and set(written["subj"]) == {"tiny-blur"}


def test_callback_needs_a_model_vs_human_source():
    callback = ModelVsHumanAnalysis()
    trainer = Trainer(accelerator="cpu", logger=False, enable_progress_bar=False)
    with pytest.raises(RuntimeError, match="needs data_dir"):
        callback._stimuli(trainer)
    with pytest.raises(ValueError, match="model_name"):
        ModelVsHumanAnalysis(model_name="subject-01")


def test_sweep_and_figures(mvh, human_raw):
    torch.manual_seed(0)
    ds = M.ModelVsHumanDataset(mvh, list(A.IMAGE_DATASETS), images_per_dataset=12)
    humans = A.read_raw_data(human_raw)
    tables: dict = {}
    sweep = alignment_sweep(
        TinyNet(16),
        {0.0: Identity(), 2.0: GaussianBlur(2.0)},
        ds,
        humans,
        batch_size=36,
        decisions_out=tables,
    )
    assert list(sweep["value"]) == [0.0, 2.0] and set(tables) == {0.0, 2.0}
    assert set(A.METRICS) <= set(sweep.columns) and sweep["human_error_consistency"].notna().all()
    as_list = alignment_sweep(lambda: TinyNet(16), [GaussianBlur(1.5)], ds, humans, batch_size=36)
    assert as_list["value"].tolist() == [1.5]

    for fig, _ in (
        P.plot_alignment_sweep(sweep, "shape_bias", label="tiny"),
        P.plot_sweep_panels(sweep, xlabel="resize R1 (px)", invert_x=True),
        P.plot_consistency_vs_accuracy({"tiny": sweep, "point": (0.5, 0.1)}, human=(0.72, 0.43)),
        P.plot_shape_bias_per_class(
            {"humans": {"cat": 0.9, "dog": 0.8}, "tiny": {"cat": 0.1, "dog": 0.2}},
            overall={"humans": 0.85, "tiny": 0.15},
        ),
        P.plot_benchmark_summary(
            {
                "model": "m",
                "shape_bias": 0.2,
                "error_consistency": 0.1,
                "observed_consistency": 0.5,
                "ood_accuracy": 0.4,
                "humans": {"shape_bias": 0.96},
            }
        ),
    ):
        assert isinstance(fig, Figure)
        fig.savefig(io.BytesIO(), format="png")
    with pytest.raises(ValueError, match="metric must be one of"):
        P.plot_alignment_sweep(sweep, "accuracy")


# ---- downloads (offline) -----------------------------------------------------------------------------------


def test_download_offline_gives_a_clear_message(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(M.urllib.request, "urlopen", offline)
    with pytest.raises(
        RuntimeError, match="could not download https://github.com/bethgelab/model-vs-human/releases"
    ):
        M.download_datasets(tmp_path, ["sketch"], progress=False)
    with pytest.raises(RuntimeError, match="Without internet access"):
        M.download_raw_data(tmp_path, ["edge"])
    assert not list(tmp_path.rglob("*.part"))


def _fake_fetch(sources: dict[str, Path]):
    def fetch(url: str, dest: Path, progress: bool) -> None:
        name = url.rsplit("/", 1)[-1]
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sources[name], dest)

    return fetch


def test_raw_data_download_verifies_checksums(mvh, tmp_path, monkeypatch):
    assert len(M.HUMAN_RAW_DATA_SHA256) == 90
    sources = {p.name: p for p in (mvh / "raw-data").rglob("*_subject-*.csv")}
    monkeypatch.setattr(M, "_fetch", _fake_fetch(sources))
    paths = M.download_raw_data(tmp_path, ["edge", "low-pass"])
    assert len(paths) == 14 and all(p.is_file() for p in paths)
    paths[0].write_text("tampered")
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        M.download_raw_data(tmp_path, ["edge"])


def test_dataset_archive_is_unpacked_and_checked(mvh, tmp_path, monkeypatch):
    archive = tmp_path / "src" / "edge.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(mvh / "images" / "edge", arcname="edge")
    monkeypatch.setattr(M, "_fetch", _fake_fetch({"edge.tar.gz": archive}))
    root = tmp_path / "mvh"
    (folder,) = M.download_datasets(root, ["edge"], progress=False)
    assert folder == root / "datasets" / "edge" and len(M.stimulus_records(root, "edge")) == 160
    assert not (root / "datasets" / "edge.tar.gz").exists()
    # a wrong image count is refused
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(mvh / "images" / "edge" / "airplane", arcname="edge/airplane")
    with pytest.raises(RuntimeError, match="expected 160"):
        M.download_datasets(root, ["edge"], force=True, progress=False)


def _validate_with_callback(tmp_path, mvh, human_raw, devices: int) -> dict:
    torch.manual_seed(0)
    model = FrontEndClassifier(Identity(), TinyNet(16))
    dm = M.ModelVsHumanDataModule(str(mvh), ["edge"], images_per_dataset=12, batch_size=4)
    callback = ModelVsHumanAnalysis(
        raw_data_dir=str(human_raw), model_name="tiny", num_images=9, batch_size=2
    )
    _quiet_trainer(tmp_path, callback, devices).validate(model, dm)
    return json.loads((tmp_path / "analysis" / "model_vs_human" / "result.json").read_text())


@pytest.mark.ddp
@pytest.mark.slow
def test_callback_two_processes_match_one(mvh, human_raw, tmp_path):
    one = _validate_with_callback(tmp_path / "one", mvh, human_raw, devices=1)
    two = _validate_with_callback(tmp_path / "two", mvh, human_raw, devices=2)
    for key in (
        "num_stimuli",
        "error_consistency",
        "observed_consistency",
        "accuracy_difference",
        "ood_accuracy",
    ):
        assert one[key] == two[key], key


def test_callback_after_fit_on_other_data(mvh, human_raw, tmp_path):
    from lowfreq.data import SyntheticShapesDataModule

    torch.manual_seed(0)
    data = SyntheticShapesDataModule(
        num_train=16, num_val=10, num_test=10, num_conflict=10, image_size=16, batch_size=8
    )
    model = FrontEndClassifier(Identity(), TinyNet(16))
    callback = ModelVsHumanAnalysis(
        data_dir=str(mvh),
        datasets=["silhouette"],
        raw_data_dir=str(human_raw),
        model_name="fitted",
        num_images=6,
    )
    trainer = Trainer(
        accelerator="cpu",
        max_epochs=1,
        limit_train_batches=1,
        limit_val_batches=1,
        default_root_dir=tmp_path,
        callbacks=[callback],
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        logger=False,
    )
    trainer.fit(model, data)
    result = json.loads((tmp_path / "analysis" / "model_vs_human" / "result.json").read_text())
    assert (
        result["model"] == "fitted"
        and result["num_stimuli"] == 6
        and list(result["datasets"]) == ["silhouette"]
    )
    assert result["global_step"] == 1
