"""``lowfreq profile MODEL... [--data FOLDER]``: the frequency analyses of several models, one leaderboard.

[`profile`][lowfreq.profile.run.profile] builds every model
([`build_model`][lowfreq.profile.models.build_model]), loads the images at each model's size
([`lowfreq.profile.images`][lowfreq.profile.images]), prints an estimate of the time from one timed batch per model
(the timing and table of ``lowfreq.callbacks.plan.AnalysisPlan``), then runs each analysis of
[`ANALYSES`][lowfreq.profile.analyses.ANALYSES] through its pure function, without a Trainer. Each model's results
are written like a run directory, ``<out>/<model>/{config.yaml, summary.json, analysis/<name>/result.json,
figure.png}``, so the leaderboard is ``lowfreq compare``'s table over those directories (``<out>/runs.csv``, one row
per model, with the overlaid curves ``<out>/overlay_*.png``) and ``lowfreq report``'s page (``<out>/report.html``);
both commands read the directories again unchanged.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import re
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
import yaml

from lowfreq.analysis.adversarial import PROTOCOLS, compile_brendel_bethge_in_background
from lowfreq.callbacks.plan import AnalysisPlan, PlannedAnalysis, format_plan
from lowfreq.core.checks import check_choice, check_positive_int
from lowfreq.core.io import save_figure, to_jsonable, write_json
from lowfreq.core.seeding import seeded_subset
from lowfreq.profile.analyses import ANALYSES, PRESETS, Budget, Context, ProfileAnalysis
from lowfreq.profile.images import DataHead, Sample, data_head, embedded_sample, folder_sample
from lowfreq.profile.models import ProfiledModel, build_model
from lowfreq.results.columns import Column

__all__ = ["PLAN_BATCH", "ProfileResult", "profile"]

log = logging.getLogger(__name__)

PLAN_BATCH = 16
"""Images of the timed batch behind the printed estimate (per model)."""


@dataclass
class ProfileResult:
    """What [`profile`][lowfreq.profile.run.profile] wrote.

    Attributes:
        run_dirs: one run directory per model, in the order given.
        labels: the models' names in the leaderboard (``(random weights)`` where they are).
        leaderboard: ``lowfreq compare``'s per-run table (a pandas DataFrame), one row per model.
        csv: the leaderboard as CSV (``<out>/runs.csv``).
        html: the report (``<out>/report.html``).
        figures: the overlaid figures by stem (PNG and PDF paths).
        seconds: wall time of each model's analyses.
    """

    run_dirs: list[Path]
    labels: list[str]
    leaderboard: Any
    csv: Path
    html: Path
    figures: dict[str, list[Path]] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def _slug(spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", spec).strip("_.") or "model"


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _budget(preset: str, num_images: int | None, num_adversarial: int | None, batch_size: int | None,
            seed: int) -> Budget:
    check_choice("preset", preset, tuple(PRESETS))
    changes: dict[str, Any] = {"seed": seed}
    for name, value in (("num_images", num_images), ("num_adversarial", num_adversarial),
                        ("batch_size", batch_size)):
        if value is not None:
            check_positive_int(name, value, minimum=2 if name == "num_images" else 1)
            changes[name] = value
    check_positive_int("seed", seed, minimum=0)
    return replace(PRESETS[preset], **changes)


def _chosen(analyses: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """The analyses to run and lines about those left out (the adversarial one without Foolbox, by default)."""
    if analyses is not None:
        if not analyses:
            raise ValueError(f"analyses must name at least one of {list(ANALYSES)}, got []")
        for name in analyses:
            check_choice("analyses", name, tuple(ANALYSES))
        return [n for n in ANALYSES if n in analyses], []
    names, notes = list(ANALYSES), []
    if importlib.util.find_spec("foolbox") is None:
        names.remove("adversarial")
        notes.append("adversarial: left out, it needs foolbox: pip install 'lowfreq[attacks]'")
    return names, notes


def _inputs(name: str, entry: ProfileAnalysis, sample: Sample, budget: Budget) -> tuple[torch.Tensor, torch.Tensor]:
    """The images and labels of one analysis: a seeded subset of its budget (conflict images: (N, 2) labels)."""
    if entry.conflict:
        assert sample.conflict is not None
        x, y_shape, y_texture = sample.conflict
        keep = seeded_subset(len(x), budget.num_images, budget.seed)
        return x[keep], torch.stack([y_shape[keep], y_texture[keep]], dim=1)
    wanted = {"adversarial": budget.num_adversarial, "fourier_heat_map": budget.num_heat_map}.get(name,
                                                                                               budget.num_images)
    keep = seeded_subset(len(sample.x), wanted, budget.seed)
    return sample.x[keep], sample.y[keep]


def _values(entries: list[dict[str, Any]]) -> str:
    parts = []
    for entry in entries:
        value = entry.get("value")
        parts.append(f"{entry['name']} {Column.from_json(entry).format(math.nan if value is None else value)}")
    return ", ".join(parts)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


@dataclass
class _Prepared:
    model: ProfiledModel
    sample: Sample
    head: DataHead
    run_dir: Path
    analyses: list[str]
    plan: list[PlannedAnalysis]


def _prepare(
    models: list[ProfiledModel], data: str | None, budget: Budget, names: list[str], out: Path, device: torch.device,
    progress: bool,
) -> list[_Prepared]:
    samples: dict[int, Sample] = {}
    pool = max(budget.num_images, budget.num_adversarial, budget.num_heat_map)
    prepared, dirs = [], set()
    for model in models:
        size = model.image_size
        if size not in samples:
            samples[size] = (embedded_sample(max(size, 16), pool, budget.num_images, budget.seed) if data is None
                             else folder_sample(data, size, pool, budget.seed, progress=progress))
        sample = samples[size]
        head, how = data_head(model.module, model.num_classes, sample.class_names, spec=model.spec,
                              embedded=data is None, model_classes=model.class_names)
        if how:
            _say(f"{model.spec}: {how}")
        slug, k = _slug(model.spec), 2
        while slug in dirs:
            slug, k = f"{_slug(model.spec)}-{k}", k + 1
        dirs.add(slug)
        chosen = []
        for name in names:
            if ANALYSES[name].conflict and sample.conflict is None:
                _say(f"{model.spec}: {name} skipped, the data hold no cue-conflict images (shape of one class, "
                     "texture of another: the embedded data or model-vs-human's cue-conflict stimuli)")
                continue
            chosen.append(name)
        head = head.to(device).eval()
        plan = []
        for name in chosen:
            callback = ANALYSES[name].declare(budget, model.image_size)
            n = len(_inputs(name, ANALYSES[name], sample, budget)[0])
            forward, gradient = callback.planned_passes(n)
            plan.append(PlannedAnalysis(name, n, forward, gradient, 0.0, callback.planned_note()))
        prepared.append(_Prepared(model, sample, head, out / slug, chosen, plan))
    return prepared


def _print_plan(prepared: list[_Prepared], device: torch.device) -> float:
    total = 0.0
    for item in prepared:
        x = item.sample.x[:PLAN_BATCH].to(device)
        forward_s, gradient_s = AnalysisPlan.time_per_image(item.head, x)
        for planned in item.plan:
            planned.seconds = planned.forward_images * forward_s + planned.gradient_images * gradient_s
        _say(f"{item.model.label} at {item.model.image_size} px:")
        _say(format_plan(item.plan, forward_s, gradient_s, len(x), str(device)))
        total += sum(p.seconds for p in item.plan)
    _say(f"estimated total for {len(prepared)} model(s): {_duration(total)} of model passes")
    return total


def _write_run(item: _Prepared, budget: Budget, preset: str, data: str | None) -> None:
    run_dir = item.run_dir
    if (run_dir / "summary.json").is_file() or (run_dir / "analysis").is_dir():
        shutil.rmtree(run_dir)  # an earlier profile of this model: its analyses would mix with these
    run_dir.mkdir(parents=True, exist_ok=True)
    model = item.model
    config = {**model.config, "seed_everything": budget.seed, "profile": {
        "model": model.spec, "weights": model.weights, "weights_note": model.note, "image_size": model.image_size,
        "data": item.sample.source, "preset": preset, "budget": asdict(budget), "analyses": item.analyses,
        "data_dir": data}}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(to_jsonable(config), sort_keys=False))


def _run_model(item: _Prepared, budget: Budget, progress: bool) -> float:
    started = time.perf_counter()
    for name in item.analyses:
        entry = ANALYSES[name]
        callback = entry.declare(budget, item.model.image_size)
        x, y = _inputs(name, entry, item.sample, budget)
        context = Context(callback, budget, item.model.label, progress, item.sample.conflict_kind)
        begun = time.perf_counter()
        outcome = entry.run(item.head, x, y, context)
        payload = callback.payload(outcome.result, None, outcome.headlines)
        payload["seconds"] = round(time.perf_counter() - begun, 3)
        out = item.run_dir / "analysis" / callback.name
        write_json(out / "result.json", payload)
        for stem, figure in outcome.figures.items():
            save_figure(figure, out / stem)
        _say(f"  {name}: {_values(payload['headlines'])}  ({_duration(payload['seconds'])})")
    return time.perf_counter() - started


def profile(
    models: Sequence[str],
    data: str | None = None,
    out: str = "profile",
    preset: str = "default",
    num_images: int | None = None,
    num_adversarial: int | None = None,
    analyses: Sequence[str] | None = None,
    random_weights: bool = False,
    batch_size: int | None = None,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
) -> ProfileResult:
    """Profile the frequency bias of several models on one image folder and write one leaderboard.

    Args:
        models: model specs ([`lowfreq.profile.models`][lowfreq.profile.models]: ``torchvision:resnet50``,
            ``timm:NAME``, ``openclip:ARCH/TAG``, ``robustbench:DATASET/THREAT/MODEL``, ``lowfreq:BACKBONE``, or a
            lowfreq ``.ckpt`` file).
        data: an image folder in ImageNet val layout (``<folder>/<class>/<image>``) or of model-vs-human stimuli;
            None = the embedded synthetic shapes.
        out: output folder: one run directory per model, ``runs.csv`` (the leaderboard), ``report.html`` and the
            overlaid figures.
        preset: the budget, "smoke", "default" or "paper" ([`PRESETS`][lowfreq.profile.analyses.PRESETS]).
        num_images: images of the hybrid, component and cue-conflict analyses (overrides the preset's).
        num_adversarial: images of the minimal-perturbation spectrum (overrides the preset's).
        analyses: names of [`ANALYSES`][lowfreq.profile.analyses.ANALYSES] to run; None = all (the adversarial
            one only where Foolbox is installed).
        random_weights: build every model with random weights (offline, or for a baseline).
        batch_size: images per forward pass (overrides the preset's 64).
        seed: seed of the image subsets, the pairings, the attack targets and random weights.
        device: "auto" (CUDA when available), "cpu", "cuda", "cuda:1", ...
        progress: progress bars counting images (stderr); the other lines go to stdout.

    Returns:
        A [`ProfileResult`][lowfreq.profile.run.ProfileResult].
    """
    return _profile(list(models), data, Path(out), preset, num_images, num_adversarial, analyses, random_weights,
                    batch_size, seed, device, progress)


def _profile(
    models: list[str], data: str | None, out: Path, preset: str, num_images: int | None,
    num_adversarial: int | None, analyses: Sequence[str] | None, random_weights: bool, batch_size: int | None,
    seed: int, device_name: str, progress: bool,
) -> ProfileResult:
    from lowfreq.results.compare import compare_runs
    from lowfreq.results.report import write_report

    if not models:
        raise ValueError("MODEL must name at least one model, got none")
    budget = _budget(preset, num_images, num_adversarial, batch_size, seed)
    names, notes = _chosen(analyses)
    device = _device(device_name)
    if data is None:
        _say("data: the embedded synthetic shapes (no --data given): 10 shape classes with a class-correlated "
             "grating, generated at each model's image size")
    for note in notes:
        _say(note)
    built = []
    for spec in models:
        model = build_model(spec, random_weights=random_weights, seed=seed)
        if model.weights == "random":
            why = "--random-weights" if random_weights else model.note
            _say(f"{spec}: RANDOM weights ({why}); the leaderboard names it {model.label!r}")
        built.append(model)
    labels, seen = [], set()
    for model in built:
        label, k = model.label, 2
        while label in seen:
            label, k = f"{model.label} #{k}", k + 1
        seen.add(label)
        labels.append(label)
    prepared = _prepare(built, data, budget, names, out, device, progress)
    if data is not None:
        _say(f"data: {prepared[0].sample.source}")
    _print_plan(prepared, device)
    if "adversarial" in names and "bb" in PROTOCOLS[budget.protocol]["attacks"]:
        compile_brendel_bethge_in_background()  # beside the other analyses, after the timed batch
    seconds = []
    for item, label in zip(prepared, labels, strict=True):
        item.model.label = label
        _say(f"profiling {label} at {item.model.image_size} px into {item.run_dir}")
        _write_run(item, budget, preset, data)
        took = _run_model(item, budget, progress)
        write_json(item.run_dir / "summary.json", {"stage": "profile", "model": item.model.spec, "label": label,
                                                   "weights": item.model.weights, "seconds": round(took, 3)})
        seconds.append(took)
        _say(f"  {label}: {_duration(took)}")
    run_dirs = [item.run_dir for item in prepared]
    compared = compare_runs(run_dirs, out, labels)
    html = write_report(run_dirs, out / "report.html", labels)
    table, columns = compared["runs"], compared["columns"]
    shown = [c for c in columns if table[c.name].notna().any()]
    printed = table[["run", *(c.name for c in shown)]].copy()
    for column in shown:
        printed[column.name] = table[column.name].map(column.format)
    _say("leaderboard:\n" + printed.to_string(index=False))
    _say(f"wrote {out / 'runs.csv'} (one row per model), {html}")
    for stem, paths in compared["figures"].items():
        _say(f"figure {stem}: {paths[0]}")
    return ProfileResult(run_dirs, labels, table, out / "runs.csv", html, compared["figures"], seconds)
