"""The console scripts' entry: top-level help without Lightning, light subcommands, one-line errors, no tips."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from lowfreq.cli import commands as _commands
from lowfreq.cli.commands import COMMANDS
from lowfreq.cli.entry import main

EXPECTED = ("fit", "validate", "test", "predict", "alignment", "download", "compare", "report", "profile", "list")


def _help_lines(text: str) -> dict[str, str]:
    """{command: description} from the 'commands:' block of the top-level help."""
    block = text.split("commands:\n", 1)[1].split("\n\n", 1)[0]
    return dict(line.strip().split(None, 1) for line in block.splitlines())


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h"]])
def test_top_level_help_lists_every_subcommand_with_one_line(argv, capsys):
    main(argv)
    lines = _help_lines(capsys.readouterr().out)
    assert tuple(lines) == EXPECTED == tuple(COMMANDS)
    assert all(len(text) > 10 for text in lines.values())


def test_help_and_light_commands_do_not_import_lightning():
    """In a fresh interpreter: the help (via the script's module) leaves Lightning and torch unloaded."""
    code = (
        "import sys; from lowfreq.cli.entry import main; main(['--help']); "
        "print('RESULT', 'lightning' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "alignment" in out
    assert "compare" in out
    assert out.strip().splitlines()[-1] == "RESULT False False"


@pytest.mark.parametrize("command", ["alignment", "download", "profile", "list"])
def test_light_subcommand_help_does_not_import_lightning_or_torch(command):
    code = (
        f"import sys\nfrom lowfreq.cli.entry import main\ntry:\n    main([{command!r}, '--help'])\nexcept SystemExit:\n"
        "    pass\nprint('RESULT', 'lightning' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert f"usage: lowfreq {command}" in out
    assert out.strip().splitlines()[-1] == "RESULT False False"


def test_python_dash_m_prints_the_same_help():
    out = subprocess.run([sys.executable, "-m", "lowfreq"], capture_output=True, text=True, check=True).stdout
    assert tuple(_help_lines(out)) == EXPECTED


def test_cli_main_prints_the_top_level_help_too(capsys):
    from lowfreq.cli.lightning_cli import main as cli_main

    cli_main([])
    assert tuple(_help_lines(capsys.readouterr().out)) == EXPECTED


def test_unknown_command_names_the_valid_ones(capsys):
    with pytest.raises(SystemExit) as info:
        main(["fitt"])
    assert info.value.code == 2
    assert "command must be one of ['fit', 'validate'" in capsys.readouterr().err


def test_compare_is_dispatched_lazily(monkeypatch):
    seen = []
    fake = types.ModuleType("lowfreq.results.compare")
    fake.compare_main = seen.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "lowfreq.results.compare", fake)
    main(["compare", "runs/a", "runs/b"])
    assert seen == [["runs/a", "runs/b"]]


def test_missing_subcommand_module_is_one_clear_line(monkeypatch, capsys):
    missing = _commands.TABLE["compare"]._replace(module="lowfreq.no_such_module")
    monkeypatch.setitem(_commands.TABLE, "compare", missing)
    with pytest.raises(SystemExit) as info:
        main(["compare", "x"])
    assert info.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        "lowfreq: error: ImportError: `lowfreq compare` needs the module lowfreq.no_such_module, "
        "which this installation of lowfreq lacks"
    )


def test_a_user_error_deep_in_a_chain_is_reported_in_one_line(capsys):
    """jsonargparse wraps an ``__init__``'s error in parser errors: the lowfreq error at the bottom is shown."""

    def parse() -> None:
        try:
            from lowfreq.core.checks import check_range

            check_range("sigma", -1.0, 0.0, 64.0, low_open=True)
        except ValueError as err:
            raise ValueError("Does not validate against any of the Union subtypes\n" + "x" * 5000) from err

    with pytest.raises(SystemExit) as info:
        _commands.guarded(parse)
    assert info.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("lowfreq: error: ValueError: sigma must be in (0.0, 64.0]")
    assert len(err) == 2


def test_lightning_tips_are_filtered():
    """A handler on Lightning's rank-zero logger sees ordinary messages, not the advertising tips."""
    import logging

    from lightning.pytorch.utilities import rank_zero_info

    from lowfreq.cli.lightning_cli import _silence_tips

    _silence_tips()
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        rank_zero_info("💡 Tip: For seamless cloud logging and experiment tracking, try installing [litlogger]")
        rank_zero_info("an ordinary message")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert seen == ["an ordinary message"]


def test_one_table_drives_the_help_and_both_entry_points(monkeypatch, capsys):
    """The console script and ``lightning_cli.main`` dispatch through ``TABLE``; help lines come from it too."""
    from lowfreq.cli.lightning_cli import main as cli_main

    assert {name: command.description for name, command in _commands.TABLE.items()} == COMMANDS
    assert _commands.LIGHTNING_COMMANDS == ("fit", "validate", "test", "predict")
    seen = []
    fake = types.ModuleType("lowfreq.fake_runner")
    fake.run = seen.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "lowfreq.fake_runner", fake)
    monkeypatch.setitem(_commands.TABLE, "fit", _commands.TABLE["fit"]._replace(module="lowfreq.fake_runner"))
    main(["fit", "-c", "r.yaml"])
    cli_main(["fit", "-c", "r.yaml"])
    assert seen == [["fit", "-c", "r.yaml"], ["fit", "-c", "r.yaml"]]  # Lightning commands get the whole list
    with pytest.raises(SystemExit) as info:
        cli_main(["fitt"])
    assert info.value.code == 2
    assert "command must be one of ['fit', 'validate'" in capsys.readouterr().err
