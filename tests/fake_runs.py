"""Run directories written by hand in the layout a fit leaves (config.yaml, analysis/*/result.json, metrics.csv)."""

import csv
import json
from pathlib import Path

import yaml


def run_config(frontend: str, seed: int, **frontend_args) -> dict:
    """A saved config.yaml of a FrontEndClassifier run with this front-end and a CIFAR ResNet-18."""
    return {
        "seed_everything": seed,
        "model": {"class_path": "lowfreq.training.FrontEndClassifier", "init_args": {
            "frontend": {"class_path": f"lowfreq.frontends.{frontend}", "init_args": frontend_args},
            "backbone": {"class_path": "lowfreq.backbones.CIFARResNet18", "init_args": {"num_classes": 10}},
        }},
    }


def write_run(path: Path, config: dict, results: dict[str, dict], metrics: dict[str, float] | None = None,
              figures: dict[str, bytes] | None = None) -> Path:
    """Write a run: ``results`` {analysis: result.json payload}, last ``metrics`` rows, ``figures`` {analysis: PNG}."""
    path.mkdir(parents=True)
    (path / "config.yaml").write_text(yaml.safe_dump(config))
    for name, payload in results.items():
        (path / "analysis" / name).mkdir(parents=True)
        (path / "analysis" / name / "result.json").write_text(json.dumps(payload))
    for name, png in (figures or {}).items():
        (path / "analysis" / name).mkdir(parents=True, exist_ok=True)
        (path / "analysis" / name / "figure.png").write_bytes(png)
    if metrics:
        with (path / "metrics.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["epoch", "step", *metrics])
            writer.writeheader()
            writer.writerow({"epoch": 0, "step": 10, **dict.fromkeys(metrics, 0.0)})  # an earlier, worse row
            writer.writerow({"epoch": 1, "step": 20, **metrics})
    return path


def headlines(callback: type, counts: dict[str, int] | None = None, **values: float | None) -> list[dict]:
    """The ``"headlines"`` a ``callback`` class writes into its result.json: ``values`` by name, None for the rest."""
    unknown = set(values) | set(counts or {})
    unknown -= {h.name for h in callback.headlines}
    assert not unknown, f"{callback.__name__} declares no headline {sorted(unknown)}"
    return [{**h.to_json(), "value": values.get(h.name), "count": (counts or {}).get(h.name)}
            for h in callback.headlines]
