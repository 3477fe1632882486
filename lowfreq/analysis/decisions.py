"""From logits to model-vs-human decisions: the ImageNet-1000 -> 16 mapping, batched decisions and sweeps.

* :func:`imagenet_to_16` turns ImageNet logits into 16-class scores exactly as model-vs-human's
  ``ImageNetProbabilitiesTo16ClassesMapping``: softmax over the 1000 classes, then the **mean** probability of each
  class's member indices (:data:`IMAGENET_16_INDICES`); we return its log, so argmax and softmax keep their meaning.
* :func:`model_decisions` runs a model (``[0, 1]`` images -> 16 or 1000 logits) over a stimulus dataset and
  returns a decision table in model-vs-human's raw-data format.
* :func:`alignment_sweep` evaluates every benchmark metric for one backbone behind a list of front-ends (blur
  sigmas, down-up resize sizes): the test-time sweeps of paper 000 (Figs 2-4) in one loop.

A *stimulus dataset* is any map-style dataset whose items are ``(x, y)`` (x float (3, H, W) in [0, 1]) and which
has a ``records`` DataFrame with one row per item and the columns ``dataset, imagename, category, condition,
session`` (:class:`lowfreq.data.modelvshuman.ModelVsHumanDataset` is one).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from lowfreq.analysis.alignment import CLASSES_16, benchmark, decision_table

__all__ = [
    "IMAGENET_16_INDICES",
    "alignment_sweep",
    "imagenet_to_16",
    "logits_to_16",
    "model_decisions",
    "predict_16",
    "records_to_table",
]


def _r(a: int, b: int) -> range:
    return range(a, b + 1)


#: 0-based ImageNet-1k indices of each of the 16 classes (model-vs-human ``helper/human_categories.py``).
IMAGENET_16_INDICES: dict[str, tuple[int, ...]] = {
    "airplane": (404,),
    "bear": (294, 295, 296, 297),
    "bicycle": (444, 671),
    "bird": (
        8,
        *_r(10, 16),
        *_r(18, 20),
        *_r(22, 24),
        *_r(80, 83),
        *_r(87, 96),
        *_r(98, 100),
        *_r(127, 133),
        *_r(135, 145),
    ),
    "boat": (472, 554, 625, 814, 914),
    "bottle": (440, 720, 737, 898, 899, 901, 907),
    "car": (436, 511, 817),
    "cat": (281, 282, 283, 284, 285, 286),
    "chair": (423, 559, 765, 857),
    "clock": (409, 530, 892),
    "dog": (
        *_r(152, 191),
        *_r(193, 203),
        *_r(205, 226),
        *_r(228, 241),
        *_r(243, 250),
        *_r(252, 257),
        259,
        *_r(261, 263),
        *_r(265, 268),
    ),
    "elephant": (385, 386),
    "keyboard": (508, 878),
    "knife": (499,),
    "oven": (766,),
    "truck": (555, 569, 656, 675, 717, 734, 864, 867),
}


def _averaging_matrix(like: Tensor) -> Tensor:
    """(1000, 16) matrix whose column k averages the member probabilities of class k."""
    m = torch.zeros(1000, len(CLASSES_16), dtype=like.dtype, device=like.device)
    for k, name in enumerate(CLASSES_16):
        idx = torch.tensor(IMAGENET_16_INDICES[name], device=like.device)
        m[idx, k] = 1.0 / len(idx)
    return m


def imagenet_to_16(logits: Tensor) -> Tensor:
    """ImageNet-1000 logits -> 16-class log scores (log of the mean member probability).

    Args:
        logits: (B, 1000) ImageNet logits.

    Returns:
        (B, 16) float32 ``log(mean_{i in S_k} softmax(logits)_i)``, classes in :data:`CLASSES_16` order. These are
        not normalised log-probabilities (the 16 means do not sum to 1), but argmax gives model-vs-human's decision.
    """
    if logits.ndim != 2 or logits.shape[1] != 1000:
        raise ValueError(f"logits must have shape (B, 1000), got {tuple(logits.shape)}")
    probs = torch.softmax(logits.float(), dim=-1)
    agg = probs @ _averaging_matrix(probs)  # (B, 16)
    return agg.clamp_min(torch.finfo(agg.dtype).tiny).log()


def logits_to_16(logits: Tensor) -> Tensor:
    """(B, 16) logits pass through; (B, 1000) ImageNet logits go through :func:`imagenet_to_16`."""
    if logits.ndim == 2 and logits.shape[1] == len(CLASSES_16):
        return logits
    if logits.ndim == 2 and logits.shape[1] == 1000:
        return imagenet_to_16(logits)
    raise ValueError(f"logits must have shape (B, 16) or (B, 1000) (ImageNet), got {tuple(logits.shape)}")


@torch.no_grad()
def predict_16(
    model: nn.Module,
    dataset: Any,
    indices: Sequence[int] | None = None,
    *,
    batch_size: int = 32,
    num_workers: int = 0,
    progress: bool = False,
) -> Tensor:
    """16-class decisions (indices into :data:`CLASSES_16`) of ``model`` on ``dataset[indices]``.

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
    was_training = model.training
    model.eval()
    out = []
    try:
        for x, _ in tqdm(loader, desc="model-vs-human decisions", disable=not progress, leave=False):
            out.append(logits_to_16(model(x.to(device))).argmax(-1).cpu())
    finally:
        model.train(was_training)
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
        human_table: decision table with the human trials (:func:`~lowfreq.analysis.alignment.read_raw_data`).
        subject: base name of the model; setting ``i`` is written as ``f"{subject}-{i}"`` in its table.
        exclude: drop the benchmark's excluded conditions.
        progress: tqdm bars over settings and batches.
        decisions_out: if given, filled with ``{key: decision table}`` per setting (key = the mapping's key or the
            list index), e.g. to write CSVs.

    Returns:
        DataFrame with columns ``setting, frontend, value`` and the metrics ``shape_bias, error_consistency,
        observed_consistency, accuracy_difference, ood_accuracy`` plus ``human_*`` columns of the reference.
    """
    net = backbone if isinstance(backbone, nn.Module) else backbone()
    if isinstance(frontends, Mapping):
        items = [
            (key, fe, float(key) if isinstance(key, (int, float)) else _setting_value(fe))
            for key, fe in frontends.items()
        ]
    else:
        items = [(i, fe, _setting_value(fe)) for i, fe in enumerate(frontends)]
    humans = human_table[human_table["subj"].astype(str).str.startswith("subject-")]
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
        row.update(
            {
                m: result[m]
                for m in (
                    "shape_bias",
                    "error_consistency",
                    "observed_consistency",
                    "accuracy_difference",
                    "ood_accuracy",
                )
            }
        )
        rows.append(row)
    df = pd.DataFrame(rows)
    if reference is not None:
        for m in ("shape_bias", "error_consistency", "observed_consistency", "ood_accuracy"):
            df[f"human_{m}"] = reference[m]
    return df
