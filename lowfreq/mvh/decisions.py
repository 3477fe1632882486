"""From a model to model-vs-human decisions: batched 16-class decisions, decision tables and front-end sweeps.

* [`model_decisions`][lowfreq.mvh.decisions.model_decisions] runs a model (``[0, 1]`` images -> 16 or 1000 logits,
  mapped with [`lowfreq.mvh.labels.logits_to_16`][lowfreq.mvh.labels.logits_to_16]) over a stimulus dataset and returns
  a decision table in model-vs-human's raw-data format.
* [`alignment_sweep`][lowfreq.mvh.decisions.alignment_sweep] evaluates every benchmark metric for one backbone behind a
  list of front-ends (blur sigmas, down-up resize sizes): the test-time sweeps of paper 000 (Figs 2-4) in one loop.

A *stimulus dataset* is any map-style dataset whose items are ``(x, y)`` (x float (3, H, W) in [0, 1]) and which
has a ``records`` DataFrame with one row per item and the columns ``dataset, imagename, category, condition,
session`` ([`lowfreq.mvh.ModelVsHumanDataset`][lowfreq.mvh.stimuli.ModelVsHumanDataset] is one).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import pandas as pd
import torch
from torch import Tensor, nn
from torchmetrics import Metric
from tqdm.auto import tqdm

from lowfreq.core.device import analysis_mode, image_progress
from lowfreq.mvh.labels import CLASSES_16, logits_to_16
from lowfreq.mvh.metrics import METRICS, benchmark
from lowfreq.mvh.raw_data import decision_table, is_human

__all__ = ["StimulusDecisions", "alignment_sweep", "model_decisions", "predict_16", "records_to_table"]


def predict_16(
    model: nn.Module,
    dataset: Any,
    indices: Sequence[int] | None = None,
    *,
    batch_size: int = 32,
    num_workers: int = 0,
    progress: bool = False,
) -> Tensor:
    """16-class decisions (indices into ``CLASSES_16``) of ``model`` on ``dataset[indices]``.

    The model runs in eval mode on the device of its first parameter or buffer (CPU if it has none) and is put
    back into its previous mode afterwards.

    Returns:
        (N,) int64 tensor on the CPU.
    """
    idx = list(range(len(dataset))) if indices is None else list(indices)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.Subset(dataset, idx), batch_size=batch_size, shuffle=False, num_workers=num_workers
    )
    tensors = [*model.parameters(), *model.buffers()]
    device = tensors[0].device if tensors else torch.device("cpu")
    out = []
    with analysis_mode(model), image_progress(len(idx), "model-vs-human decisions", progress) as bar:
        for x, _ in loader:
            out.append(logits_to_16(model(x.to(device))).argmax(-1).cpu())
            bar.update(len(x))
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long)


def records_to_table(records: pd.DataFrame, decisions: Tensor | Sequence[int], subject: str) -> pd.DataFrame:
    """Decision table for ``subject`` from stimulus ``records`` (one row per decision) and 16-class indices."""
    d = [int(i) for i in (decisions.tolist() if isinstance(decisions, Tensor) else decisions)]
    if len(d) != len(records):
        raise ValueError(f"decisions must have one entry per record ({len(records)}), got {len(d)}")
    return decision_table(
        subject,
        records["dataset"].tolist(),
        records["imagename"].tolist(),
        records["category"].tolist(),
        [CLASSES_16[i] for i in d],
        conditions=records["condition"].tolist(),
        sessions=records["session"].tolist(),
    )


def model_decisions(
    model: nn.Module,
    dataset: Any,
    subject: str,
    indices: Sequence[int] | None = None,
    *,
    batch_size: int = 32,
    num_workers: int = 0,
    progress: bool = False,
) -> pd.DataFrame:
    """Decision table (model-vs-human raw-data format) of ``model`` on a stimulus dataset.

    Args:
        model: ``[0, 1]`` images (B, 3, H, W) -> (B, 16) or (B, 1000) ImageNet logits.
        dataset: stimulus dataset with a ``records`` DataFrame (see module docstring).
        subject: the model's name, written into the ``subj`` column.
        indices: items to evaluate; ``None`` evaluates all.
        batch_size: images per forward pass.
        num_workers: DataLoader workers.
        progress: show a bar counting the images, with the time left.
    """
    idx = list(range(len(dataset))) if indices is None else list(indices)
    pred = predict_16(model, dataset, idx, batch_size=batch_size, num_workers=num_workers, progress=progress)
    return records_to_table(dataset.records.iloc[idx], pred, subject)


def _setting_value(frontend: nn.Module) -> float:
    for attr in ("sigma", "size"):
        if hasattr(frontend, attr):
            return float(getattr(frontend, attr))
    return 0.0 if type(frontend).__name__ == "Identity" else math.nan


def alignment_sweep(
    backbone: nn.Module | Callable[[], nn.Module],
    frontends: Mapping[Any, nn.Module] | Sequence[nn.Module],
    dataset: Any,
    human_table: pd.DataFrame,
    *,
    subject: str = "model",
    batch_size: int = 32,
    num_workers: int = 0,
    exclude: bool = True,
    progress: bool = False,
    decisions_out: dict[Any, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """All benchmark metrics of one backbone behind each front-end, one row per setting.

    Example (paper 000, Fig. 2A/C)::

        sigmas = [0.5, 1, 1.5, 2, 2.5, 3, 4]
        fronts = {0.0: Identity(), **{s: GaussianBlur(s, padding="reflect") for s in sigmas}}
        table = alignment_sweep(OpenCLIPZeroShot("ViT-H-14", "laion2b_s32b_b79k"), fronts, dataset,
                                read_raw_data(raw_dir, dataset.datasets))

    Args:
        backbone: ``[0, 1]`` images -> 16 or 1000 logits, or a zero-argument factory called once.
        frontends: ``{value: front-end}`` (value = sigma, resize size, ...), or a list whose values are read from
            each module's ``sigma``/``size`` attribute (0 for ``Identity``).
        dataset: stimulus dataset with ``records`` (see module docstring).
        human_table: decision table with the human trials ([`read_raw_data`][lowfreq.mvh.raw_data.read_raw_data]).
        subject: base name of the model; setting ``i`` is written as ``f"{subject}-{i}"`` in its table.
        batch_size: images per forward pass.
        num_workers: DataLoader workers.
        exclude: drop the benchmark's excluded conditions.
        progress: tqdm bars over settings and batches.
        decisions_out: if given, filled with ``{key: decision table}`` per setting (key = the mapping's key or the
            list index), e.g. to write CSVs.

    Returns:
        DataFrame with columns ``setting, frontend, value`` and the metrics ``shape_bias, error_consistency,
        observed_consistency, accuracy_difference, ood_accuracy`` (``lowfreq.mvh.METRICS``) plus the same
        metrics of the humans-vs-humans reference as ``human_*`` columns.
    """
    net = backbone if isinstance(backbone, nn.Module) else backbone()
    if isinstance(frontends, Mapping):
        items = [
            (key, fe, float(key) if isinstance(key, (int, float)) else _setting_value(fe))
            for key, fe in frontends.items()
        ]
    else:
        items = [(i, fe, _setting_value(fe)) for i, fe in enumerate(frontends)]
    humans = human_table[human_table["subj"].astype(str).map(is_human)]
    rows = []
    reference: dict[str, Any] | None = None
    for i, (key, frontend, value) in enumerate(tqdm(items, desc="alignment sweep", disable=not progress)):
        tensors = [*net.parameters(), *net.buffers()]
        model = nn.Sequential(frontend, net)
        if tensors:
            frontend.to(tensors[0].device)
        name = f"{subject}-{i}"
        table = model_decisions(
            model, dataset, name, batch_size=batch_size, num_workers=num_workers, progress=progress
        )
        if decisions_out is not None:
            decisions_out[key] = table
        result = benchmark(pd.concat([table, humans]), name, exclude=exclude, humans=reference is None)
        reference = result.get("humans", reference)
        row = {"setting": i, "frontend": type(frontend).__name__, "value": value}
        row.update({m: result[m] for m in METRICS})
        rows.append(row)
    df = pd.DataFrame(rows)
    if reference is not None:
        for m in METRICS:
            df[f"human_{m}"] = reference.get(m, math.nan)
    return cast("pd.DataFrame", df)


class StimulusDecisions(Metric):
    """16-class decisions per stimulus index, batch by batch and across processes (a torchmetrics ``Metric``).

    Each process updates the stimuli of its shard; [`compute`][lowfreq.mvh.decisions.StimulusDecisions.compute] returns
    the (N,) decisions of all processes (indices into ``lowfreq.mvh.labels.CLASSES_16``, -1 for stimuli nobody
    evaluated), which [`records_to_table`][lowfreq.mvh.decisions.records_to_table] turns into a decision table.

    Args:
        num_stimuli: N, the number of stimuli in the dataset.
        kwargs: ``torchmetrics.Metric`` options (e.g. ``process_group``).
    """

    is_differentiable = False
    higher_is_better = None
    full_state_update = False
    decisions: Tensor

    def __init__(self, num_stimuli: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(num_stimuli, int) or isinstance(num_stimuli, bool) or num_stimuli < 0:
            raise ValueError(f"num_stimuli must be a non-negative int, got {num_stimuli!r}")
        # decision + 1 at evaluated stimuli, 0 elsewhere: shards are disjoint, so the sum over processes is exact
        self.add_state("decisions", torch.zeros(num_stimuli, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, logits: Tensor, indices: Tensor) -> None:
        """Record the decisions of (B, 16) or (B, 1000) ``logits`` for the stimuli ``indices`` (B,)."""
        if indices.shape != (logits.shape[0],):
            raise ValueError(f"indices must have shape ({logits.shape[0]},), got {tuple(indices.shape)}")
        self.decisions[indices.to(self.decisions.device)] = logits_to_16(logits).argmax(-1).to(self.decisions) + 1

    def compute(self) -> Tensor:
        """(N,) int64 decisions on the CPU, -1 where no process evaluated the stimulus."""
        return self.decisions.cpu() - 1
