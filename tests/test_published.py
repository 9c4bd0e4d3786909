"""The published run replays to identical numbers (a baseline-regression test).

If a change alters model output on purpose, refresh with `make publish` and record it in
CHANGELOG.md; this test then guards the new numbers.
"""

from pathlib import Path

from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent


def test_published_run_replays_identically(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["replay", "results/published/teaching", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "identical" in result.output
