"""Every default parameter names its source or is an assumption with a range."""

from pathlib import Path

from typer.testing import CliRunner

from sim.cli import app
from sim.config.evidence import rows
from sim.run.runner import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def test_national_configs_have_evidence_for_every_parameter():
    for name in ("current", "reform"):
        found = rows(load_scenario(ROOT / "configs" / "denmark" / f"{name}.yaml").scenario)
        assert len(found) > 60
        assert [r["parameter"] for r in found if not r["documented"]] == []


def test_params_flags_an_undocumented_value(tmp_path):
    cfg = tmp_path / "x.yaml"
    cfg.write_text(
        f"extends: {ROOT / 'configs' / 'teaching.yaml'}\n"
        "settings:\n  sop:\n    beds_per_1000:\n      value: 2.0\n      source: null\n      "
        "assumption: a guess\n      range: null\n"
    )
    result = CliRunner().invoke(app, ["params", str(cfg), "--missing"])
    assert result.exit_code == 1
    assert "settings.sop.beds_per_1000" in result.output


def test_params_flags_a_value_outside_its_own_range():
    result = CliRunner().invoke(
        app,
        [
            "params",
            str(ROOT / "configs" / "teaching.yaml"),
            "--missing",
            "--json",
            "--set",
            "settings.hospital.beds_per_1000.value=9.0",
        ],
    )
    assert result.exit_code == 1
    assert (
        "settings.hospital.beds_per_1000" in result.output and "outside its range" in result.output
    )
