"""One self-contained HTML file per run or set of runs: ``lowfreq report RUN_DIR... [--out FILE]``.

The page holds, per run, its label, seed and run directory, the headline quantities of every analysis it has (value,
unit, which way is better, meaning and the paper value each reproduces, as the analysis declares them:
[`Headline`][lowfreq.results.columns.Headline]), the metrics along training, every analysis figure, the saved
``config.yaml`` and the library versions; for several runs, the table and scatter plots of
[`lowfreq.results.compare`][lowfreq.results.compare] come first. Figures are embedded as ``data:`` PNGs and a
Content-Security-Policy forbids every other source, so the file opens offline and sends no request.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
import math
import sys
import tempfile
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from lowfreq.core.io import atomic_write, read_json
from lowfreq.results.columns import Column
from lowfreq.results.compare import collect_table, compare_runs, find_runs, logged_scalars

__all__ = ["report_html", "report_main", "write_report"]

_PACKAGES = ("lowfreq", "torch", "torchvision", "lightning", "torchmetrics", "numpy", "foolbox", "open_clip_torch")
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; } h3 { margin-bottom: .3em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: .9em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { display: inline-block; margin: .4em; vertical-align: top; }
figure img { max-width: 32em; border: 1px solid #eee; } figcaption { font-size: .8em; color: #555; }
pre { background: #f8f8f8; padding: .6em; overflow-x: auto; font-size: .8em; max-height: 30em; }
.muted { color: #777; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _number(value: Any) -> str:
    if isinstance(value, float):
        return "–" if not math.isfinite(value) else f"{value:.4g}"
    return _e(value)


def _png(path_or_bytes: Path | bytes) -> str:
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _figure(src: Path | bytes, caption: str) -> str:
    return f'<figure><img src="{_png(src)}" alt="{_e(caption)}"><figcaption>{_e(caption)}</figcaption></figure>'


def _numbers(columns: Sequence[Column], row: dict[str, Any]) -> str:
    """Table of the columns the row has: quantity, value, unit, which way is better, meaning, paper value."""
    shown = [c for c in columns if math.isfinite(row[c.name])]
    if not shown:
        return ""
    return _table(["quantity", "value", "unit", "better", "meaning", "paper"],
                  [(c.name, c.format(row[c.name]), c.unit, c.direction or "", c.description, c.paper or "")
                   for c in shown])


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{_number(v)}</td>' if isinstance(v, (int, float)) and not
                         isinstance(v, bool) else f"<td>{_e(v)}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _training_figure(run: Path) -> bytes | None:
    from lowfreq.plotting.compare import plot_training_curves

    series = {tag: s for tag, s in logged_scalars(run).items() if s[0] and not tag.startswith("analysis_")}
    if not series:
        return None
    fig, _ = plot_training_curves(series)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def _recorded_versions(run: Path) -> dict[str, str]:
    """The package versions the run's result files recorded."""
    recorded: dict[str, str] = {}
    for path in sorted(run.glob("analysis/*/result.json")):
        recorded.update(read_json(path).get("versions") or {})
    return recorded


def _versions_now() -> list[tuple[str, str]]:
    rows = []
    for package in _PACKAGES:
        try:
            now = version(package)
        except PackageNotFoundError:
            now = "not installed"
        rows.append((package, now))
    return rows


def _run_section(run: Path, row: dict[str, Any], columns: Sequence[Column]) -> str:
    parts = [f'<h2 id="run-{_e(run.name)}">{_e(row["run"])}</h2>',
             f'<p class="muted">{_e(run)} · front-end {_e(row["frontend"] or "–")} · backbone '
             f'{_e(row["backbone"] or "–")} · seed {_e(row["seed"])}</p>']
    parts.append(_numbers([c for c in columns if c.analysis == "metrics"], row))
    training = _training_figure(run)
    parts.append("<h3>Along training</h3>" + (_figure(training, "logged scalars vs step") if training else
                                               '<p class="muted">no logged metrics in this run directory</p>'))
    for analysis_dir in sorted(p for p in (run / "analysis").glob("*") if p.is_dir()):
        name = analysis_dir.name
        parts.append(f"<h3>Analysis: {_e(name)}</h3>")
        parts.append(_numbers([c for c in columns if c.analysis == name], row))
        result_path = analysis_dir / "result.json"
        result = read_json(result_path) if result_path.is_file() else {}
        if "callback" in result:
            parts.append(f'<p class="muted">{_e(result.get("callback", ""))}, global step '
                         f'{_e(result.get("global_step", "–"))}, arguments {_e(result.get("init_args", {}))}</p>')
        parts.extend(_figure(png, f"{name}: {png.stem}") for png in sorted(analysis_dir.glob("*.png")))
    config = run / "config.yaml"
    if config.is_file():
        parts.append(f"<details><summary>config.yaml</summary><pre>{_e(config.read_text())}</pre></details>")
    recorded = _recorded_versions(run)
    if recorded:
        text = ", ".join(f"{package} {number}" for package, number in recorded.items())
        parts.append(f'<p class="muted">versions recorded by the run: {_e(text)}</p>')
    return "\n".join(parts)


def _comparison_section(run_dirs: Sequence[Path], names: Sequence[str] | None) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        result = compare_runs(run_dirs, tmp, names)
        table = result["runs"]
        shown = [c for c in result["columns"] if table[c.name].notna().any()]
        rows = [[r["run"], *(c.format(r[c.name]) for c in shown)] for r in table.to_dict(orient="records")]
        parts = ["<h2>Comparison</h2>", _table(["run", *(c.name for c in shown)], rows)]
        parts += [f"<p class='muted'>{_e(run)} lacks: {_e(', '.join(lacks))}</p>"
                  for run, lacks in result["missing"].items()]
        parts += [f"<p class='muted'>{_e(note)}</p>" for note in result["notes"]]
        parts += [_figure(paths[0], stem) for stem, paths in result["figures"].items()]
    return "\n".join(parts)


def report_html(run_dirs: Sequence[str | Path], names: Sequence[str] | None = None) -> str:
    """The report of ``run_dirs`` as HTML (runs or their folders, [`find_runs`][lowfreq.results.compare.find_runs])."""
    runs = find_runs(run_dirs)
    table, columns = collect_table(runs, names, [])
    rows: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in table.to_dict(orient="records")]
    title = rows[0]["run"] if len(rows) == 1 else f"{len(rows)} runs"
    sections = [_comparison_section(runs, names)] if len(runs) > 1 else []
    sections += [_run_section(run, row, columns) for run, row in zip(runs, rows, strict=True)]
    sections.append("<h2>Versions at report time</h2>" + _table(["package", "version"], _versions_now()))
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\">"
        f"<title>lowfreq report: {_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>lowfreq report: {_e(title)}</h1><p class='muted'>made {stamp}</p>\n"
        + "\n".join(sections) + "\n</body></html>\n"
    )


def write_report(
    run_dirs: Sequence[str | Path], out: str | Path | None = None, names: Sequence[str] | None = None
) -> Path:
    """Write [`report_html`][lowfreq.results.report.report_html] to ``out``.

    By default ``out`` is ``<run>/report.html`` for one run, ``report.html`` else.
    """
    runs = find_runs(run_dirs)
    path = Path(out) if out is not None else runs[0] / "report.html" if len(runs) == 1 else Path("report.html")
    text = report_html(runs, names)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as f:
        f.write(text)
    return path


def report(run_dirs: list[str], out: str | None = None, names: list[str] | None = None) -> None:
    """Write one self-contained HTML report of one or several runs and print its path.

    Args:
        run_dirs: run directories (``lightning_logs/version_N``) or folders holding them.
        out: the HTML file (default: ``<run>/report.html`` for one run, ``./report.html`` for several).
        names: one label per run (default: front-end, its parameter and backbone from each run's config.yaml).
    """
    sys.stdout.write(f"wrote {write_report(run_dirs, out, names)}\n")


def report_main(args: list[str] | None = None) -> None:
    """Run [`report`][lowfreq.results.report.report] on ``args`` (default ``sys.argv[2:]``)."""
    from jsonargparse import ArgumentParser

    parser = ArgumentParser(prog="lowfreq report", description=(report.__doc__ or "").splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", help="run directories (lightning_logs/version_N) or lightning_logs")
    parser.add_argument("--out", default=None, help="HTML file (default: <run>/report.html, or ./report.html)")
    parser.add_argument("--names", nargs="+", default=None, help="one label per run (default: from config.yaml)")
    parsed = parser.parse_args(sys.argv[2:] if args is None else list(args))
    report(list(parsed.run_dirs), parsed.out, parsed.names)
