"""`sektorsim replay` reruns a run from its manifest and notices any change."""

from pathlib import Path

from conftest import bump_first_row
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def test_replay_is_identical_and_names_a_changed_column(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "run"
    args = [
        "run",
        "configs/teaching.yaml",
        "--out",
        str(out),
        "--replications",
        "2",
        "--quiet",
        "--no-report",
        "--set",
        "simulation.end=2026-07-01",
    ]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, ["replay", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "identical" in result.output
    bump_first_row(out / "kpis.parquet", "deaths")
    result = runner.invoke(app, ["replay", str(out), "--workers", "1"])
    assert result.exit_code == 1
    assert "column deaths" in result.output


def test_replay_of_a_directory_without_manifest_is_bad_input(tmp_path):
    result = runner.invoke(app, ["replay", str(tmp_path)])
    assert result.exit_code == 2
    assert "manifest.json" in result.output
