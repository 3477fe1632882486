"""model-vs-human data end to end: stimuli -> decisions of a random model -> CSVs in the toolbox's format ->
read back -> metrics; the DataModule, the callback, sweeps, figures and the download code (offline)."""

import io
import json
import math
import shutil
import tarfile
import urllib.error
from pathlib import Path

import pandas as pd
import pytest
import torch
from lightning import Trainer
from matplotlib.figure import Figure

import lowfreq.core.download
import lowfreq.mvh.download
from lowfreq.callbacks import ModelVsHumanAnalysis
from lowfreq.frontends import GaussianBlur, Identity
from lowfreq.mvh.decisions import alignment_sweep, model_decisions
from lowfreq.mvh.download import HUMAN_RAW_DATA_SHA256, download_datasets, download_raw_data, find_dataset_dir
from lowfreq.mvh.labels import CLASSES_16, imagenet_to_16
from lowfreq.mvh.metrics import METRICS, benchmark, benchmark_from_raw_data
from lowfreq.mvh.plotting import (
    plot_alignment_sweep,
    plot_benchmark,
    plot_benchmark_summary,
    plot_consistency_vs_accuracy,
    plot_shape_bias_per_class,
    plot_sweep_panels,
)
from lowfreq.mvh.raw_data import IMAGE_DATASETS, TRIAL_COLUMNS, read_raw_data, write_decisions_csv
from lowfreq.mvh.stimuli import ModelVsHumanDataModule, ModelVsHumanDataset, stimulus_records
from lowfreq.training import FrontEndClassifier

from tiny_backbone import TinyBackbone

pytestmark = pytest.mark.data


@pytest.fixture
def mvh(test_data) -> Path:
    return test_data / "model-vs-human"


@pytest.fixture
def human_raw(mvh, tmp_path) -> Path:
    """A writable raw-data folder holding the human CSVs of the three datasets with images."""
    raw = tmp_path / "raw-data"
    for d in IMAGE_DATASETS:
        (raw / d).mkdir(parents=True)
        for f in (mvh / "raw-data" / d).glob("*_subject-*.csv"):
            shutil.copy(f, raw / d / f.name)
    return raw


def test_stimulus_records_of_the_image_datasets(mvh):
    ds = ModelVsHumanDataset(mvh, ["cue-conflict", "edge", "silhouette"])
    assert len(ds) == 480
    assert ds.records.groupby("dataset").size().to_dict() == {
        "cue-conflict": 160,
        "edge": 160,
        "silhouette": 160,
    }
    x, y = ds[0]
    assert x.shape == (3, 224, 224)
    assert x.dtype == torch.float32
    assert x.min() >= 0
    assert x.max() <= 1
    assert y.dtype == torch.int64
    assert CLASSES_16[int(y)] == ds.records["category"].iloc[0]
    row = ds.records.iloc[0]
    assert (
        row["imagename"] == "airplane1-bicycle2.png"
    )
    assert (
        row["condition"] == "NaN"
    )
    assert (
        row["session"] == "1"
    )
    sub = ModelVsHumanDataset(mvh, ["edge"], images_per_dataset=5, seed=1)
    assert len(sub) == 5
    assert sub.records.equals(ModelVsHumanDataset(mvh, ["edge"], 5, seed=1).records)


def test_missing_dataset_explains_how_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="download_datasets"):
        ModelVsHumanDataset(tmp_path, ["sketch"])
    with pytest.raises(ValueError, match="dataset must be one of"):
        find_dataset_dir(tmp_path, "imagenet")


@pytest.mark.parametrize(("num_classes", "per_dataset"), [(16, None), (1000, 40)])
def test_end_to_end_decisions_csv_round_trip_and_metrics(mvh, human_raw, num_classes, per_dataset):
    torch.manual_seed(0)
    ds = ModelVsHumanDataset(mvh, list(IMAGE_DATASETS), images_per_dataset=per_dataset)
    n = len(ds) // 3
    table = model_decisions(TinyBackbone(num_classes), ds, "tiny_net", batch_size=96)
    assert len(table) == 3 * n
    assert set(table["object_response"]) <= set(CLASSES_16)

    paths = write_decisions_csv(table, human_raw)
    assert sorted(p.name for p in paths) == [f"{d}_tiny-net_session-1.csv" for d in sorted(IMAGE_DATASETS)]
    text = paths[0].read_bytes()
    assert text.startswith(b"subj,session,trial,rt,object_response,category,condition,imagename\r\n")
    first = text.split(b"\r\n")[1].split(b",")
    assert first[0] == b"tiny_net"
    assert first[1:4] == [b"1", b"1", b"NaN"]
    assert first[6] == b"NaN"

    back = read_raw_data(human_raw, subjects=["tiny_net"])
    cols = [*TRIAL_COLUMNS, "dataset", "image_id"]
    key = ["dataset", "imagename"]
    pd.testing.assert_frame_equal(
        back[cols].sort_values(key).reset_index(drop=True),
        table[cols].sort_values(key).reset_index(drop=True),
    )

    result = benchmark_from_raw_data(human_raw, "tiny_net")
    direct = benchmark(
        pd.concat([table, read_raw_data(human_raw, subjects=[f"subject-{i:02d}" for i in range(1, 11)])]),
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
    dm = ModelVsHumanDataModule(str(mvh), ["edge"], images_per_dataset=6, batch_size=4)
    assert dm.num_classes == 16
    assert dm.class_names == list(CLASSES_16)
    assert dm.image_shape == (3, 224, 224)
    x, y = next(iter(dm.val_dataloader()))
    assert x.shape == (4, 3, 224, 224)
    assert y.shape == (4,)
    assert len(dm.analysis_dataset("test")) == 6
    with pytest.raises(RuntimeError, match="evaluation-only"):
        dm.train_dataloader()
    with pytest.raises(ValueError, match="datasets must be one of"):
        ModelVsHumanDataModule(str(mvh), ["imagenet"])


def test_callback_after_validate_writes_json_csvs_and_figure(mvh, human_raw, tmp_path):
    torch.manual_seed(0)
    model = FrontEndClassifier(GaussianBlur(1.0), TinyBackbone(1000), label_map=imagenet_to_16)  # 1000 -> 16
    dm = ModelVsHumanDataModule(str(mvh), ["cue-conflict", "edge"], images_per_dataset=10, batch_size=8)
    callback = ModelVsHumanAnalysis(raw_data_dir=str(human_raw), model_name="tiny-blur", num_images=15)
    _quiet_trainer(tmp_path, callback).validate(model, dm)
    out = tmp_path / "analysis" / "model_vs_human"
    result = json.loads((out / "result.json").read_text())
    assert result["model"] == "tiny-blur"
    assert result["num_stimuli"] == 15
    assert result["callback"] == "ModelVsHumanAnalysis"
    assert result["init_args"]["num_images"] == 15
    assert set(result["datasets"]) <= {"cue-conflict", "edge"}
    assert result["ood_accuracy"] is not None
    assert result["humans"]["shape_bias"] == pytest.approx(0.9587, abs=1e-3)
    assert (out / "figure.png").is_file()
    assert (out / "figure.pdf").is_file()
    written = read_raw_data(out / "raw-data")
    assert len(written) == 15
    assert set(written["subj"]) == {"tiny-blur"}


def test_callback_needs_a_model_vs_human_source():
    callback = ModelVsHumanAnalysis()
    trainer = Trainer(accelerator="cpu", logger=False, enable_progress_bar=False)
    with pytest.raises(RuntimeError, match="needs data_dir"):
        callback._stimuli(trainer)
    with pytest.raises(ValueError, match="model_name"):
        ModelVsHumanAnalysis(model_name="subject-01")


def test_sweep_and_figures(mvh, human_raw):
    torch.manual_seed(0)
    ds = ModelVsHumanDataset(mvh, list(IMAGE_DATASETS), images_per_dataset=12)
    humans = read_raw_data(human_raw)
    tables: dict = {}
    sweep = alignment_sweep(
        TinyBackbone(16),
        {0.0: Identity(), 2.0: GaussianBlur(2.0)},
        ds,
        humans,
        batch_size=36,
        decisions_out=tables,
    )
    assert list(sweep["value"]) == [0.0, 2.0]
    assert set(tables) == {0.0, 2.0}
    assert set(METRICS) <= set(sweep.columns)
    assert sweep["human_error_consistency"].notna().all()
    as_list = alignment_sweep(lambda: TinyBackbone(16), [GaussianBlur(1.5)], ds, humans, batch_size=36)
    assert as_list["value"].tolist() == [1.5]

    result = benchmark(pd.concat([tables[0.0], humans]), "model-0")
    for fig, _ in (
        plot_alignment_sweep(sweep, "shape_bias", label="tiny"),
        plot_sweep_panels(sweep, xlabel="resize R1 (px)", invert_x=True),
        plot_consistency_vs_accuracy({"tiny": sweep, "point": (0.5, 0.1)}, human=(0.72, 0.43)),
        plot_shape_bias_per_class(result),
        plot_benchmark_summary(result),
        plot_benchmark(result),
        plot_benchmark({k: v for k, v in result.items() if k != "shape_bias_per_class"} | {"humans": {}}),
    ):
        assert isinstance(fig, Figure)
        fig.savefig(io.BytesIO(), format="png")
    ax = plot_shape_bias_per_class(result)[1]  # classes sorted by the humans' shape bias, highest first
    human = result["humans"]["shape_bias_per_class"]
    human_order = sorted(CLASSES_16, key=lambda c: -(human[c] if math.isfinite(human[c]) else -1.0))
    assert [t.get_text() for t in ax.get_yticklabels()] == human_order
    with pytest.raises(ValueError, match="no shape_bias_per_class"):
        plot_shape_bias_per_class({"model": "m", "humans": {}})
    with pytest.raises(ValueError, match="metric must be one of"):
        plot_alignment_sweep(sweep, "accuracy")


# ---- downloads (offline) -----------------------------------------------------------------------------------


def test_download_offline_gives_a_clear_message(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(lowfreq.core.download.urllib.request, "urlopen", offline)
    with pytest.raises(
        RuntimeError, match=r"cannot download https://github.com/bethgelab/model-vs-human/releases"
    ):
        download_datasets(tmp_path, ["sketch"], progress=False)
    with pytest.raises(RuntimeError, match="Without internet access"):
        download_raw_data(tmp_path, ["edge"])
    assert not list(tmp_path.rglob("*.part"))


def _fake_fetch(sources: dict[str, Path]):
    def fetch(url: str, dest: Path, progress: bool, **checks) -> None:
        name = url.rsplit("/", 1)[-1]
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sources[name], dest)

    return fetch


def test_raw_data_download_verifies_checksums(mvh, tmp_path, monkeypatch):
    assert len(HUMAN_RAW_DATA_SHA256) == 90
    sources = {p.name: p for p in (mvh / "raw-data").rglob("*_subject-*.csv")}
    monkeypatch.setattr(lowfreq.mvh.download, "_fetch", _fake_fetch(sources))
    paths = download_raw_data(tmp_path, ["edge", "low-pass"])
    assert len(paths) == 14
    assert all(p.is_file() for p in paths)
    paths[0].write_text("tampered")
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        download_raw_data(tmp_path, ["edge"])


def test_dataset_archive_is_unpacked_and_checked(mvh, tmp_path, monkeypatch):
    archive = tmp_path / "src" / "edge.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(mvh / "images" / "edge", arcname="edge")
    monkeypatch.setattr(lowfreq.mvh.download, "_fetch", _fake_fetch({"edge.tar.gz": archive}))
    root = tmp_path / "mvh"
    (folder,) = download_datasets(root, ["edge"], progress=False)
    assert folder == root / "datasets" / "edge"
    assert len(stimulus_records(root, "edge")) == 160
    assert not (root / "datasets" / "edge.tar.gz").exists()
    # a wrong image count is refused
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(mvh / "images" / "edge" / "airplane", arcname="edge/airplane")
    with pytest.raises(RuntimeError, match="expected 160"):
        download_datasets(root, ["edge"], force=True, progress=False)


def _validate_with_callback(tmp_path, mvh, human_raw, devices: int) -> dict:
    torch.manual_seed(0)
    model = FrontEndClassifier(Identity(), TinyBackbone(16))
    dm = ModelVsHumanDataModule(str(mvh), ["edge"], images_per_dataset=12, batch_size=4)
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
    model = FrontEndClassifier(Identity(), TinyBackbone(16))
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
    )
    assert (
        result["num_stimuli"] == 6
    )
    assert (
        list(result["datasets"]) == ["silhouette"]
    )
    assert result["global_step"] == 1
