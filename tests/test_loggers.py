"""Analysis scalars reach every logger, and figures reach the loggers that take images (TensorBoard)."""

from pathlib import Path

import pandas as pd
import yaml
from tensorboard.backend.event_processing.event_accumulator import IMAGES, EventAccumulator

from lowfreq.cli.lightning_cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "tests" / "conf" / "tiny_blur.yaml")


def test_tensorboard_and_csv_both_get_the_analysis(tmp_path):
    overlay = tmp_path / "loggers.yaml"
    overlay.write_text(yaml.safe_dump({"trainer": {
        "logger": [
            {"class_path": "lightning.pytorch.loggers.TensorBoardLogger",
             "init_args": {"save_dir": str(tmp_path / "tb"), "name": "run"}},
            {"class_path": "lightning.pytorch.loggers.CSVLogger",
             "init_args": {"save_dir": str(tmp_path / "csv"), "name": "run"}},
        ],
        "callbacks": [{"class_path": "lowfreq.callbacks.CueConflictAnalysis", "init_args": {"num_images": 16}}],
    }}))
    main(["fit", "-c", TINY, "-c", str(overlay), f"--trainer.default_root_dir={tmp_path}"])

    (metrics,) = (tmp_path / "csv" / "run").glob("version_*/metrics.csv")  # the second logger
    table = pd.read_csv(metrics)
    assert {"analysis_shape_bias", "analysis_texture_fraction", "val_acc"} <= set(table.columns)
    assert table["analysis_shape_bias"].notna().sum() == 1

    (events,) = (tmp_path / "tb" / "run").glob("version_*/events.out.tfevents.*")
    accumulator = EventAccumulator(str(events), size_guidance={IMAGES: 0}).Reload()
    assert "analysis/cue_conflict/figure" in accumulator.Tags()["images"]
    (image,) = accumulator.Images("analysis/cue_conflict/figure")
    assert image.step == 3
    assert image.width > 100
    assert image.encoded_image_string.startswith(b"\x89PNG")
    assert "analysis_shape_bias" in accumulator.Tags()["scalars"]
    assert (events.parent / "analysis" / "cue_conflict" / "result.json").is_file()  # files: first logger's dir
