"""The command line as users meet it: examples in every --help, starter files, the list of
shipped configs, JSON for scripts, no colour codes when output is not a terminal."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = sorted(typer.main.get_command(app).commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_shows_an_example(command):
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example" in result.output and f"sektorsim {command}" in result.output


def test_the_command_set_is_complete():
    assert set(COMMANDS) >= {
        "init",
        "list",
        "validate",
        "run",
        "trace",
        "params",
        "decompose",
        "batch",
        "report",
        "replay",
    }


def test_no_colour_codes_when_piped():
    result = subprocess.run(
        [sys.executable, "-m", "sim", "params", str(ROOT / "configs" / "teaching.yaml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "TERM": "xterm"},
    )
    assert result.returncode == 0, result.stderr
    assert "parameters" in result.stdout and "\x1b[" not in result.stdout


def test_init_writes_a_starter_that_validates(tmp_path):
    target = tmp_path / "study"
    result = CliRunner().invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in target.iterdir()) == [
        "base.yaml",
        "reform.yaml",
        "scenario.yaml",
        "teaching.csv",
        "teaching_coordinates.csv",
    ]
    check = CliRunner().invoke(
        app, ["validate", str(target / "scenario.yaml"), str(target / "reform.yaml")]
    )
    assert check.exit_code == 0, check.output
    documented = CliRunner().invoke(
        app, ["params", str(target / "scenario.yaml"), "--missing", "--json"]
    )
    assert documented.exit_code == 0 and json.loads(documented.stdout) == []


def test_init_never_overwrites(tmp_path):
    (tmp_path / "mine.yaml").write_text("name: keep\n")
    result = CliRunner().invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert "not empty" in result.output
    assert (tmp_path / "mine.yaml").read_text() == "name: keep\n"


def test_list_names_the_shipped_configs_and_experiments():
    result = CliRunner().invoke(app, ["list", "--json"])
    assert result.exit_code == 0
    found = json.loads(result.stdout)
    assert {"configs/teaching.yaml", "configs/denmark/current.yaml"} <= {
        r["file"] for r in found["configs"]
    }
    assert "experiments/sensitivity.yaml" in {r["file"] for r in found["experiments"]}
    assert all(r["description"] for r in found["configs"] + found["experiments"])


def test_params_json_is_machine_readable():
    result = CliRunner().invoke(app, ["params", str(ROOT / "configs" / "teaching.yaml"), "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert {"parameter", "value", "range", "evidence", "documented"} <= set(rows[0])


def test_version():
    from sim import __version__

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"sektorsim {__version__}"


@pytest.mark.parametrize(
    ("command", "choices"),
    [("run", "numba|simpy"), ("batch", "local|dask"), ("calibrate", "local|dask")],
)
def test_engine_and_backend_show_their_choices(command, choices):
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert choices in result.output
    bad = CliRunner().invoke(
        app, [command, "x.yaml", f"--{'engine' if command == 'run' else 'backend'}", "nope"]
    )
    assert bad.exit_code == 2


def test_piped_tables_are_not_wrapped(tmp_path):
    """Output into a pipe: one line per KPI row, CIs never split across lines."""
    import os

    out = tmp_path / "piped"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "run",
            "configs/teaching.yaml",
            "configs/teaching-reform.yaml",
            "--replications",
            "2",
            "--set",
            "simulation.end=2026-04-01",
            "--out",
            str(out),
            "--no-report",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "COLUMNS"},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in result.stdout.splitlines() if "Cost, municipalities" in line]
    assert len(rows) == 1 and rows[0].count("[") == 3 and rows[0].count("]") == 3
