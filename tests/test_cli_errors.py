"""Bad input: a one-paragraph message naming file, line and field; exit code 2; nothing written."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "configs" / "teaching.yaml"
runner = CliRunner()


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {TEACHING}\n{body}", encoding="utf-8")
    return path


CASES = {
    "wrong type": (
        "settings:\n  sop:\n    beds_per_1000:\n      value: lots\n",
        ["bad.yaml:5", "settings.sop.beds_per_1000.value", "valid number"],
    ),
    "negative capacity": (
        "settings:\n  hospital:\n    beds_per_1000:\n      value: -3\n",
        ["bad.yaml:5", "settings.hospital.beds_per_1000.value", "greater than or equal to 0"],
    ),
    "unknown key": (
        "settings:\n  sop:\n    bedz_per_1000: 3\n",
        ["bad.yaml:4", "settings.sop.bedz_per_1000", "did you mean 'beds_per_1000'"],
    ),
    "probabilities over one": (
        "population:\n  frailty:\n    high:\n      value: {u65: 0.9, 65-74: 0.9, 75-84: 0.1, "
        "85plus: 0.3}\n",
        ["population.frailty", "exceeds 1"],
    ),
    "probability above one": (
        "triage:\n  gp_resolve:\n    value: {copd: 1.3, diabetes: 0.4, heart: 0.25, back: 0.55, "
        "multimorbid: 0.2, other: 0.35}\n",
        ["bad.yaml:4", "triage.gp_resolve.value", "<= 1"],
    ),
    # group tables merge key by key over the base, so a partial table is fine; a wrong key is not
    "unknown group": (
        "triage:\n  gp_resolve:\n    value: {flu: 0.3}\n",
        ["bad.yaml:4", "triage.gp_resolve.value", "unknown flu"],
    ),
    "routing over one": (
        "settings:\n  hospital:\n    stepdown:\n      value: {copd: 0.98}\n",
        ["settings.hospital", "stepdown + home_followup", "must not exceed 1"],
    ),
    "malformed yaml": ("settings: [unclosed\n", ["bad.yaml:", "malformed YAML"]),
    "missing geography file": ("geography:\n  file: nowhere.csv\n", ["nowhere.csv", "not found"]),
    "end before start": ("simulation:\n  end: 2025-01-01\n", ["simulation", "must be after start"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_is_a_clear_error(tmp_path, case):
    body, expected = CASES[case]
    cfg = _config(tmp_path, body)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(cfg), "--out", str(out), "--replications", "1"])
    assert result.exit_code == 2, result.output
    text = result.output
    for fragment in expected:
        assert fragment in text, f"{fragment!r} not in:\n{text}"
    assert "Traceback" not in text
    assert not out.exists()


def test_missing_config_file_suggests_a_close_name(tmp_path):
    result = runner.invoke(app, ["validate", str(ROOT / "configs" / "teachng.yaml")])
    assert result.exit_code == 2
    assert "not found" in result.output and "teaching.yaml" in result.output


def test_malformed_override_is_named():
    result = runner.invoke(app, ["validate", str(TEACHING), "--set", "settings.sop.beds_per_1000"])
    assert result.exit_code == 2
    assert "settings.sop.beds_per_1000" in result.output and "FIELD=VALUE" in result.output


def test_validate_accepts_the_shipped_configs():
    for cfg in ("configs/teaching.yaml", "configs/denmark/current.yaml"):
        result = runner.invoke(app, ["validate", str(ROOT / cfg)])
        assert result.exit_code == 0, result.output


def test_yaml_1_2_no_is_a_string_and_1e5_a_number(tmp_path):
    cfg = _config(tmp_path, "name: no\ndescription: 1e5 patients\n")
    from sim.run.runner import load_scenario

    spec = load_scenario(cfg, ["settings.sop.user_payment_dkk_per_day=1e2"])
    assert spec.name == "no"
    assert spec.scenario.settings.sop.user_payment_dkk_per_day.value == 100.0
