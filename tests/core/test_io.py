"""Result files are written atomically: a write that fails half-way leaves the previous file intact."""

import errno
import io
import math
import os
from pathlib import Path

import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

from lowfreq.core.io import atomic_write, read_json, save_figure, write_json


class _DiskFull:
    """File proxy that accepts ``limit`` characters, writes part of the next chunk, then fails like a full disk."""

    def __init__(self, f, limit: int) -> None:
        self._f, self._left = f, limit

    def write(self, data):
        if len(data) > self._left:
            self._f.write(data[: self._left])
            self._f.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
        self._left -= len(data)
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


@pytest.fixture
def disk_full(monkeypatch):
    """Call it to make every file then opened for writing through ``io.open`` (pathlib, os.fdopen, tempfile)
    fail after 10 characters."""
    real_open = io.open

    def fake_open(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        return _DiskFull(f, 10) if "w" in mode else f

    return lambda: monkeypatch.setattr(io, "open", fake_open)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_write_json_round_trip(tmp_path):
    path = write_json(
        tmp_path / "sub" / "result.json", {"x": torch.tensor([1.0, 2.0]), "nan": math.nan, "p": tmp_path}
    )
    assert path == tmp_path / "sub" / "result.json"
    assert read_json(path) == {"x": [1.0, 2.0], "nan": None, "p": str(tmp_path)}
    assert path.read_text().endswith("}\n")
    assert sorted(p.name for p in path.parent.iterdir()) == ["result.json"]
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()  # as open() would create it, not mkstemp's 0o600


def test_write_json_failing_half_way_keeps_the_previous_file(tmp_path, disk_full):
    path = tmp_path / "result.json"
    path.write_text('{"epoch": 1}\n')
    disk_full()
    with pytest.raises(OSError, match="No space left"):
        write_json(path, {"epoch": 2, "values": list(range(100))})
    assert path.read_text() == '{"epoch": 1}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]  # no temporary file left behind


def test_write_json_failing_on_a_new_path_leaves_nothing(tmp_path, disk_full):
    disk_full()
    with pytest.raises(OSError, match="No space left"):
        write_json(tmp_path / "result.json", {"values": list(range(100))})
    assert list(tmp_path.iterdir()) == []


def _figure() -> Figure:
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    return fig


def test_save_figure_round_trip(tmp_path):
    paths = save_figure(_figure(), tmp_path / "figs" / "figure")
    assert paths == [tmp_path / "figs" / "figure.png", tmp_path / "figs" / "figure.pdf"]
    assert paths[0].read_bytes().startswith(b"\x89PNG")
    assert paths[1].read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["figure.pdf", "figure.png"]


def test_save_figure_failing_half_way_keeps_the_previous_files(tmp_path, monkeypatch):
    fig = _figure()
    save_figure(fig, tmp_path / "figure")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken_savefig(fname, **kwargs):
        if hasattr(fname, "write"):
            fname.write(b"\x89PNG partial")
        else:
            Path(fname).write_bytes(b"\x89PNG partial")
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(fig, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        save_figure(fig, tmp_path / "figure")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_atomic_write_removes_the_temporary_file_on_error(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("a,b\n1,2\n")
    def interrupted_write() -> None:
        with atomic_write(path, newline="") as f:
            pd.DataFrame({"a": [3], "b": [4]}).to_csv(f, index=False)
            raise KeyError("interrupted")

    with pytest.raises(KeyError):
        interrupted_write()
    assert path.read_text() == "a,b\n1,2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]
    with atomic_write(path, newline="") as f:
        pd.DataFrame({"a": [3], "b": [4]}).to_csv(f, index=False)
    assert pd.read_csv(path).to_dict("list") == {"a": [3], "b": [4]}
    with atomic_write(tmp_path / "blob.bin", "wb") as f:
        f.write(b"\x00\x01")
    assert (tmp_path / "blob.bin").read_bytes() == b"\x00\x01"


def test_atomic_write_rejects_read_modes(tmp_path):
    with (
        pytest.raises(ValueError, match=r"mode must be one of \['w', 'wb'\], got 'a'"),
        atomic_write(tmp_path / "x", "a"),
    ):
        pass
    assert list(tmp_path.iterdir()) == []


def test_write_decisions_csv_failing_half_way_keeps_the_previous_file(tmp_path, monkeypatch):
    import lowfreq.mvh.raw_data as M
    from lowfreq.mvh.raw_data import decision_table

    table = decision_table(
        "net", "edge", ["a1.png", "b2.png", "c3.png"], ["bear", "bird", "cat"], ["bear", "cat", "cat"]
    )
    (path,) = M.write_decisions_csv(table, tmp_path)
    before = path.read_bytes()
    assert before.startswith(b"subj,session,trial,rt,object_response,category,condition,imagename\r\n")

    real_writer = M.csv.writer

    class BrokenWriter:
        def __init__(self, f):
            self._w, self._rows = real_writer(f), 0

        def writerow(self, row):
            if self._rows == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            self._rows += 1
            return self._w.writerow(row)

    monkeypatch.setattr(M.csv, "writer", BrokenWriter)
    with pytest.raises(OSError, match="No space left"):
        M.write_decisions_csv(table.assign(object_response="dog"), tmp_path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]
