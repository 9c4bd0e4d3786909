"""Fixtures several test modules share."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def teaching_run_dir(tmp_path_factory) -> Path:
    """A small teaching run (today vs reform, 2 replications, three quarters) with its
    report; tests only read it (rebuilding its report must not change it)."""
    out = tmp_path_factory.mktemp("teaching-run") / "run"
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(ROOT / "configs" / "teaching.yaml"),
            str(ROOT / "configs" / "teaching-reform.yaml"),
            "--out",
            str(out),
            "--replications",
            "2",
            "--quiet",
            "--set",
            "simulation.end=2026-10-01",
        ],
    )
    assert result.exit_code == 0, result.output
    return out
