"""What lowfreq's own runs print that says nothing to the user is left out (Lightning's callback-state warning)."""

import warnings
from pathlib import Path

from lowfreq.cli.lightning_cli import main

TINY = str(Path(__file__).resolve().parents[1] / "conf" / "tiny_blur.yaml")
COMPONENTS = ["--trainer.callbacks+=lowfreq.callbacks.FrequencyComponentAnalysis",
              "--trainer.callbacks.num_images=8", "--trainer.callbacks.radii_bins=[4]"]


def test_validate_of_a_checkpoint_without_its_stateful_callback_prints_no_lightning_warning(tmp_path):
    main(["fit", "-c", TINY, f"--trainer.default_root_dir={tmp_path}", "--trainer.max_epochs=1", *COMPONENTS])
    ckpt = next(tmp_path.rglob("last.ckpt"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        main(["validate", "-c", TINY, f"--trainer.default_root_dir={tmp_path}", f"--ckpt_path={ckpt}"])
    assert not [w for w in caught if "Please add the following callbacks" in str(w.message)]
