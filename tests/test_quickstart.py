"""The quickstart recipe end to end, as the README runs it (slow: about a minute or two on 2 cores)."""

import json
from pathlib import Path

import pytest

from lowfreq.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quickstart_runs_and_blur_model_follows_shape(tmp_path):
    main(["fit", "-c", str(ROOT / "recipes" / "quickstart.yaml"), f"--trainer.default_root_dir={tmp_path}",
          "--trainer.enable_progress_bar=false"])
    (run,) = sorted((tmp_path / "lightning_logs").glob("version_*"))
    assert (run / "config.yaml").is_file()
    assert list((run / "checkpoints").glob("*.ckpt"))
    cue = json.loads((run / "analysis" / "cue_conflict" / "result.json").read_text())["result"]
    assert cue["shape_bias"] > 0.8  # the blur model cannot see the grating shortcut
    for name in ("cue_conflict",):
        assert (run / "analysis" / name / "figure.png").is_file()
        assert (run / "analysis" / name / "figure.pdf").is_file()
