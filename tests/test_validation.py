"""The validation report builds in quick mode, is self-contained and its checks pass."""

import json

import pytest

from sim.validation.report import SECTIONS, write_validation_report


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("validation")
    path = write_validation_report(out, quick=True)
    return path.read_text(encoding="utf-8"), json.loads(
        (out / "validation.json").read_text(encoding="utf-8")
    )


def test_report_is_self_contained_with_every_section(report):
    text, _ = report
    assert "data:image/png;base64," in text
    assert "http://" not in text and "https://" not in text
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in text


def test_queueing_checks_pass(report):
    _, data = report
    assert len(data["queueing"]) >= 8
    for row in data["queueing"]:
        assert abs(row["z"]) < 4, row


def test_cross_validation_entries(report):
    _, data = report
    xv = data["cross_validation"]
    assert {r["kpi"] for r in xv["kpis"]} >= {"admissions", "readmissions_30d", "hospital_bed_days"}
    for row in xv["kpis"]:
        assert {
            "numba_mean",
            "simpy_mean",
            "diff_mean",
            "diff_low",
            "diff_high",
            "p_value",
            "passed",
        } <= set(row)
    assert xv["speed_ratio"] > 0


def test_oat_entry_for_each_sensitivity_parameter(report):
    _, data = report
    sens = data["sensitivity"]
    names = {p["name"] for p in sens["parameters"]}
    assert names and names == {r["parameter"] for r in sens["oat"]}
    assert names == {r["parameter"] for r in sens["morris"]}


def test_sensitivity_runs_national_with_the_shipped_rule(report):
    _, data = report
    sens = data["sensitivity"]
    assert sens["kpi"] == "readmission_rate_30d" and sens["unit"] == "percentage points"
    assert any(o.startswith("geography.municipalities=") for o in sens["overrides"])


def test_the_morris_ranking_check_sees_a_clear_ranking():
    """Elementary effects of a noise-free linear model rank exactly alike in both halves."""
    import numpy as np
    from SALib.sample import morris as ms

    from sim.studies.sensitivity import ranking_agreement

    names = [f"p{i}" for i in range(8)]
    problem = {"num_vars": 8, "names": names, "bounds": [[0.0, 1.0]] * 8}
    x = ms.sample(problem, N=10, num_levels=4, seed=1)
    y = x @ np.arange(1.0, 9.0)
    agreement = ranking_agreement(problem, x, y, 10)
    assert agreement["rho"] > 0.99 and agreement["top5_shared"] == 5


def test_calibration_table_and_figure_from_fit_csv(tmp_path):
    from sim.validation.report import calibration

    fit = tmp_path / "results" / "calibration"
    fit.mkdir(parents=True)
    (fit / "fit.csv").write_text(
        "target,measure,group,model_mean,model_low,model_high,target_value,target_low,target_high,inside\n"
        "readmission_rate,rate,all,0.18,0.17,0.19,0.185,0.16,0.2,true\n"
        "bed_days,count,copd,1100,1000,1200,1500,1400,1600,false\n"
    )
    data, image = calibration(tmp_path)
    assert data["found"] and data["targets"] == 2 and data["inside"] == 1
    assert image
    assert calibration(tmp_path / "missing")[0] == {"found": False, "rows": []}


def test_equivalence_needs_evidence_not_just_no_difference():
    import numpy as np

    from sim.validation.equivalence import tost

    rng = np.random.default_rng(0)
    tight = rng.normal(0.0, 0.5, 30)
    assert tost(tight, 1.0)["equivalent"]
    # few, noisy replications: a difference test would "pass"; equivalence must not
    noisy = rng.normal(0.0, 20.0, 4)
    assert not tost(noisy, 1.0)["equivalent"]
    # a real difference larger than the margin fails however many replications
    assert not tost(rng.normal(5.0, 0.5, 100), 1.0)["equivalent"]
    result = tost(tight, 1.0)
    assert -1.0 < result["ci90_low"] <= result["ci90_high"] < 1.0


def test_pathway_flows_balance_by_construction():
    from sim.validation.pathways import SINKS, SOURCES, balance, pathway_flows

    counts = {
        "episodes": 5198.0,
        "window_resolved": 20.0,
        "gp_resolved": 1400.0,
        "home_treatment_episodes": 230.0,
        "ht_escalations": 30.0,
        "sop_admissions": 520.0,
        "sop_stepdowns": 300.0,
        "sop_escalations": 50.0,
        "admissions": 3300.0,
        "discharges": 3100.0,
        "deaths_in_hospital": 210.0,
        "home_followups": 70.0,
        "readmissions_30d": 600.0,
    }
    for tweak in ({}, {"discharges": 3600.0}, {"discharges": 2000.0}, {"sop_stepdowns": 600.0}):
        flows = pathway_flows({**counts, **tweak})
        assert all(fl.count >= 0 for fl in flows)
        for node, (inflow, outflow) in balance(flows).items():
            assert inflow == outflow, (tweak, node, inflow, outflow)
        out_of_episodes = sum(fl.count for fl in flows if fl.source == "episodes")
        assert out_of_episodes == counts["episodes"]
        assert {fl.source for fl in flows} - SINKS and not {fl.target for fl in flows} & SOURCES


def test_cross_validation_is_an_equivalence_test(report):
    _, data = report
    xv = data["cross_validation"]
    assert xv["alpha"] == 0.05 and xv["margin_relative"] > 0
    for row in xv["kpis"]:
        assert (
            row["passed"] == (row["ci90_low"] > -row["margin"] and row["ci90_high"] < row["margin"])
            or row["ci90_low"] == row["ci90_high"]
        )


def test_the_change_in_deaths_is_split_by_cause_and_adds_up(report):
    _, data = report
    rows = {r["mechanism"]: r for r in data["robustness"]["deaths"]}
    parts = [r for name, r in rows.items() if name not in ("all deaths",) and "drive" not in name]
    assert len(parts) == 4
    for key in ("today", "reform", "change"):
        assert sum(r[key] for r in parts) == pytest.approx(rows["all deaths"][key], abs=1e-6)
    assert set(data["robustness"]["setting_rr"]) == {"hospital", "home_treatment", "stepup"}
