"""RobustBench model-zoo classifiers (adversarially robust CIFAR-10/100 and ImageNet models) as lowfreq backbones."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from lowfreq.backbones.base import Backbone, Normalize
from lowfreq.core.checks import check_choice
from lowfreq.core.download import probe
from lowfreq.core.optional import require

__all__ = ["RobustBenchClassifier"]

Dataset = Literal["cifar10", "cifar100", "imagenet"]
ThreatModel = Literal["Linf", "L2", "corruptions"]

_NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "imagenet": 1000}
_GDRIVE = "https://docs.google.com"


def _import_robustbench() -> Any:
    utils = require(
        "robustbench.utils", extra="robustbench", purpose="RobustBenchClassifier",
        note="robustbench 1.1.1 pins timm==1.0.9 and gdown==5.1.0, so a separate environment keeps your timm",
    )
    return utils.load_model


class RobustBenchClassifier(Backbone):
    """A model of the RobustBench model zoo, loaded with ``robustbench.utils.load_model``.

    RobustBench models take [0, 1] images and normalise inside, so ``normalize`` is the identity. The
    checkpoint is read from ``<model_dir>/<dataset>/<threat_model>/<model_name>.pt`` (RobustBench's own layout;
    ensembles: ``<model_name>.pt_m0.pt``, ``_m1.pt``, ...), which ``load_model`` fills from Google Drive when the
    file is missing. Offline, a missing file fails at once, naming the path to put it at.

    Args:
        model_name: RobustBench model id, e.g. "Carmon2019Unlabeled", "Salman2020Do_R50" (the leaderboard's ids).
        dataset: "cifar10", "cifar100" or "imagenet".
        threat_model: "Linf", "L2" or "corruptions".
        model_dir: RobustBench's model folder (its default is ``./models``).
    """

    def __init__(
        self,
        model_name: str = "Standard",
        dataset: Dataset = "cifar10",
        threat_model: ThreatModel = "Linf",
        model_dir: str = "models",
    ) -> None:
        super().__init__()
        if not isinstance(model_name, str) or not model_name:
            raise TypeError(f"model_name must be a RobustBench model id (str), got {model_name!r}")
        check_choice("dataset", dataset, tuple(_NUM_CLASSES))
        check_choice("threat_model", threat_model, ("Linf", "L2", "corruptions"))
        checkpoint = Path(model_dir).expanduser() / dataset / threat_model / f"{model_name}.pt"
        local = checkpoint.is_file() or checkpoint.with_name(f"{checkpoint.name}_m0.pt").is_file()
        if not local:
            reason = probe(_GDRIVE)
            if reason is not None:
                raise RuntimeError(
                    f"cannot download the RobustBench model {model_name} ({reason}). Offline, put its checkpoint "
                    f"at {checkpoint} (from a machine with internet access: robustbench.utils.load_model("
                    f"{model_name!r}, model_dir={str(model_dir)!r}, dataset={dataset!r}, "
                    f"threat_model={threat_model!r}) writes it there), or point model_dir at the folder holding "
                    f"{dataset}/{threat_model}/{model_name}.pt"
                )
        load_model = _import_robustbench()
        self.net = load_model(model_name, model_dir=str(model_dir), dataset=dataset, threat_model=threat_model)
        self.net.eval()
        self.model_name, self.dataset, self.threat_model = model_name, dataset, threat_model
        self.num_classes = _NUM_CLASSES[dataset]
        self.is_pretrained = True  # RobustBench's trained weights
        self.normalize = Normalize((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))  # RobustBench models normalise inside
