"""A configuration mistake ends the command with one line naming the key, where it was given and a did-you-mean.

Before, jsonargparse printed its usage and the whole nested error (50-70 lines) for a one-character typo. The full
parser report is shown with LOWFREQ_DEBUG=1 only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from jsonargparse import ArgumentError

from lowfreq.cli.commands import DEBUG_ENV
from lowfreq.cli.config_errors import ConfigProblem, describe, find_origin, one_line
from lowfreq.cli.lightning_cli import main

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "tests" / "conf" / "tiny_blur.yaml")
FLAG = "--model.init_args.frontend.init_args.sigmaa=2.0"


@pytest.fixture
def typo_recipe(tmp_path) -> str:
    """The tiny recipe with ``max_epoch:`` instead of ``max_epochs:``."""
    text = Path(TINY).read_text()
    assert "  max_epochs: 1\n" in text
    path = tmp_path / "typo.yaml"
    path.write_text(text.replace("  max_epochs: 1\n", "  max_epoch: 1\n"))
    return str(path)


def _stderr(capsys, monkeypatch, args: list[str], debug: bool) -> list[str]:
    if debug:
        monkeypatch.setenv(DEBUG_ENV, "1")
    else:
        monkeypatch.delenv(DEBUG_ENV, raising=False)
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2  # as argparse
    return capsys.readouterr().err.splitlines()


# the three examples of the issue: a flag typo in a nested init_args, a typo key in a recipe, a bad int
CASES = {
    "nested flag typo": (
        ["fit", "-c", TINY, FLAG],
        f"lowfreq fit: error: unknown key 'sigmaa' in model.init_args.frontend.init_args (from {FLAG}): "
        "did you mean 'sigma'?",
    ),
    "recipe typo": (
        ["fit", "-c", "{typo}"],
        "lowfreq fit: error: unknown key 'max_epoch' in trainer (from {typo}): did you mean 'max_epochs'?",
    ),
    "bad int": (
        ["fit", "-c", TINY, "--trainer.max_epochs=two"],
        "lowfreq fit: error: trainer.max_epochs: expected an int or null, got 'two' (from --trainer.max_epochs=two)",
    ),
}


@pytest.mark.parametrize("debug", [False, True], ids=["short", "debug"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_configuration_mistake_is_one_line_naming_key_origin_and_closest_key(
    case, debug, typo_recipe, capsys, monkeypatch
):
    args, first = CASES[case]
    args = [a.format(typo=typo_recipe) for a in args]
    err = _stderr(capsys, monkeypatch, args, debug)
    assert err[0] == first.format(typo=typo_recipe)
    if debug:
        assert len(err) > 20
        assert any(line.startswith("usage:") for line in err)
        assert any(line.startswith("error: ") for line in err)
    else:
        assert len(err) <= 3, err
        assert err[1] == f"(`lowfreq fit --help` lists the options; set {DEBUG_ENV}=1 for the parser's full report)"


@pytest.mark.parametrize(("arg", "first"), [
    ("--trainer.max_epochz=2", "unknown option --trainer.max_epochz=2: did you mean --trainer.max_epochs?"),
    ("--analyses.preset=smok",
     "analyses.preset: expected one of 'smoke', 'paper' or null, got 'smok' (from --analyses.preset=smok): "
     "did you mean 'smoke'?"),
    ("--model.init_args.frontend=lowfreq.frontends.GausianBlur",
     "model.init_args.frontend: module lowfreq.frontends has no class 'GausianBlur' "
     "(from --model.init_args.frontend=lowfreq.frontends.GausianBlur): did you mean lowfreq.frontends.GaussianBlur?"),
    ("--model.init_args.optimizer.init_args.lrr=0.1",
     "unknown key 'lrr' in model.init_args.optimizer.init_args (from --model.init_args.optimizer.init_args.lrr=0.1): "
     "did you mean 'lr'?"),
])
def test_other_mistakes(arg, first, capsys, monkeypatch):
    err = _stderr(capsys, monkeypatch, ["fit", "-c", TINY, arg], debug=False)
    assert err[0] == f"lowfreq fit: error: {first}"
    assert len(err) == 2


def test_the_console_script_prints_two_lines(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(DEBUG_ENV, None)
    proc = subprocess.run([sys.executable, "-m", "lowfreq", "fit", "-c", TINY, FLAG], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=300, check=False)
    assert proc.returncode == 2
    err = proc.stderr.splitlines()
    assert len(err) == 2, proc.stderr
    assert err[0].startswith("lowfreq fit: error: unknown key 'sigmaa'"), proc.stderr


def _error(message: str, *causes: BaseException) -> ArgumentError:
    """An ArgumentError whose chain of causes is ``causes`` (outermost first), as jsonargparse raises them."""
    err = ArgumentError(None, message)
    current: BaseException = err
    for cause in causes:
        current.__cause__ = cause
        current = cause
    return err


def test_describe_reads_the_chain_of_nested_errors():
    err = _error(
        'Parser key "data":\n  Does not validate ...',
        ValueError("Does not validate against any of the Union subtypes\nSubtypes: [<class 'x.D'>, <class "
                   "'NoneType'>]"),
        ValueError("Problem with given class_path 'lowfreq.data.SyntheticShapesDataModule':\n  ..."),
        ValueError("Option 'num_trian' is not accepted"),
    )
    problem = describe(err)
    assert problem is not None
    assert problem.kind == "unknown"
    assert problem.dotted == "data.init_args.num_trian"
    assert problem.class_path == "lowfreq.data.SyntheticShapesDataModule"
    line = one_line(problem, str(err), ["fit", "--data.init_args.num_trian=5"])
    assert line == ("unknown key 'num_trian' in data.init_args (from --data.init_args.num_trian=5): "
                    "did you mean 'num_train'?")


def test_an_unreadable_message_is_itself_on_one_line():
    err = _error("Problems parsing config: while parsing a flow sequence\n  in <unicode string>, line 1, column 10")
    assert describe(err) is None
    assert one_line(describe(err), str(err)) == ("Problems parsing config: while parsing a flow sequence in "
                                                 "<unicode string>, line 1, column 10")
    assert len(one_line(None, "x\n" * 1000)) == 300


def test_origin_is_the_last_argument_or_file_giving_the_key(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("trainer:\n  callbacks:\n    - class_path: X\n      init_args: {num_image: 3}\n")
    problem = ConfigProblem("unknown", ("trainer", "callbacks", "init_args"), "num_image")
    assert find_origin(problem, ["fit", "-c", str(recipe)]) == str(recipe)
    assert find_origin(problem, ["fit", "-c", str(recipe), "--trainer.callbacks.num_image", "4"]) == (
        "--trainer.callbacks.num_image 4")
    assert find_origin(problem, ["fit", "--config=other.yaml"]) is None
