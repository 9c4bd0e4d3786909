"""General practices (issue 12, point 2) and equity outputs (point 3).

Fixed seeds; tolerances from theory, never tuned."""

import dataclasses
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import bump_first_row
from typer.testing import CliRunner

from sim.cli import app
from sim.flow.inputs import build_inputs, draw_practices
from sim.outputs.equity import equity_table, theil_index
from sim.outputs.practices import readmission_spread
from sim.rng import streams
from sim.run.runner import load_scenario, replication_table

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "configs" / "teaching.yaml"
REFORM = ROOT / "configs" / "teaching-reform.yaml"
NATIONAL = ROOT / "configs" / "denmark" / "current.yaml"
SHORT = ["simulation.end=2026-07-01", "simulation.warmup_days=60"]
FLOW = [  # every counter the kernel writes; costs are derived from them
    "admissions",
    "discharges",
    "readmissions_30d",
    "hospital_bed_days",
    "delayed_discharge_days",
    "deaths",
    "person_days",
    "gp_contacts",
    "home_treatment_episodes",
    "sop_admissions",
]


def test_alike_practices_change_no_number_however_many_there_are():
    """sd 0: every effect is exactly 1 and the practices stream is the only one drawn, so
    splitting municipalities into 1 or ~40 practices leaves every KPI byte-identical."""
    sd0 = [*SHORT, "settings.gp.practices.followup_sd=0"]
    few, _, p_few = replication_table(
        load_scenario(TEACHING, [*sd0, "settings.gp.practices.list_size=1e9"]), 0, seed=4
    )
    many, _, p_many = replication_table(
        load_scenario(TEACHING, [*sd0, "settings.gp.practices.list_size=200"]), 0, seed=4
    )
    assert p_few["practice"].n_unique() == 3  # one per municipality
    assert p_many["practice"].n_unique() > 30
    assert few.equals(many)
    assert (p_many["practice_effect"] == 1.0).all()


def test_alike_practices_are_the_model_without_practices():
    """sd 0 against a scenario with no `settings.gp.practices` at all (one practice per
    municipality, effect 1: the model before practices): the same KPI table."""
    spec = load_scenario(TEACHING, [*SHORT, "settings.gp.practices.followup_sd=0"])
    sc = spec.scenario
    gp = sc.settings.gp.model_copy(update={"practices": None})
    bare = sc.model_copy(update={"settings": sc.settings.model_copy(update={"gp": gp})})
    without = dataclasses.replace(spec, scenario=bare)
    a = replication_table(spec, 0, seed=8).kpis
    b = replication_table(without, 0, seed=8).kpis
    assert a.equals(b)


def test_readmission_spread_reads_observed_annual_rates():
    """Ten practices with 100 discharges in a full year and 0..9 readmissions each (rates
    0 %..9 %): p10, p50, p90 are numpy's linear quantiles of those rates."""
    rows = [
        dict(
            scenario="s",
            draw=0,
            replication=0,
            period=f"2027Q{q}",
            period_days=91.25,
            practice=i,
            municipality="A",
            council="C",
            practice_effect=1.0,
            patients=1.0,
            person_days=91.25,
            admissions=25,
            discharges=25,
            readmissions_30d=i if q == 1 else 0,
            delayed_discharge_days=0.0,
        )
        for i in range(10)
        for q in (1, 2, 3, 4)
    ]
    spread = readmission_spread(pl.DataFrame(rows))
    rates = np.arange(10) / 100.0
    assert spread["p10"][0] == pytest.approx(np.quantile(rates, 0.1))
    assert spread["p90"][0] == pytest.approx(np.quantile(rates, 0.9))
    assert spread["mean"][0] == pytest.approx(rates.mean())


def test_practices_differ_when_their_effect_varies_and_both_scenarios_draw_the_same():
    today = load_scenario(TEACHING, [*SHORT, "settings.gp.practices.list_size=200"])
    reform = load_scenario(REFORM, [*SHORT, "settings.gp.practices.list_size=200"])
    _, _, a = replication_table(today, 0, seed=4)
    _, _, b = replication_table(reform, 0, seed=4)
    assert a["practice_effect"].n_unique() > 30  # sd 0.x in base.yaml: effects differ
    assert a["practice_effect"].equals(b["practice_effect"])  # common random numbers
    assert a["municipality"].equals(b["municipality"])


def test_practice_effect_has_mean_one():
    """Log-normal with mean 1: the sample mean of 20,000 effects lies within 4 standard
    errors of 1 (sd of a log-normal with log-sd s: sqrt(exp(s^2) - 1))."""
    spec = load_scenario(NATIONAL, ["settings.gp.practices.list_size=200"])
    s = spec.scenario.settings.gp.practices.followup_sd.value
    pr = draw_practices(spec.scenario, spec.geography, streams(3, 0)["practices"], 10)
    assert pr.n > 20_000
    se = np.sqrt(np.exp(s * s) - 1.0) / np.sqrt(pr.n)
    assert abs(pr.effect.mean() - 1.0) < 4 * se


def test_patients_and_entrants_stay_in_a_practice_of_their_municipality():
    spec = load_scenario(TEACHING, [*SHORT, "settings.gp.practices.list_size=300"])
    rng = streams(5, 0)
    inputs = build_inputs(spec.scenario, spec.geography, rng["population"], rng["practices"])
    pr = inputs.practices
    assert np.array_equal(pr.muni[inputs.cohort.practice], inputs.cohort.muni)
    assert np.array_equal(np.bincount(pr.muni), pr.count)
    from sim.flow.engine import NumbaEngine
    from sim.regime.levers import build_period_settings  # noqa: F401 (settings via system)
    from sim.run.runner import simulate_system

    system = simulate_system(spec, 0, seed=5)
    arrays = system.engine.arrays
    n = int(arrays["n_patients"][0])
    assert n > inputs.cohort.size  # some entrants
    practices = system.inputs.practices
    assert np.array_equal(practices.muni[arrays["practice"][:n]], arrays["muni"][:n])
    # every practice of a municipality gets patients (uniform slots, hundreds each)
    assert np.all(np.bincount(arrays["practice"][:n], minlength=practices.n) > 0)
    assert isinstance(system.engine, NumbaEngine)


def test_practice_totals_equal_the_kpi_totals_when_everyone_is_65_plus():
    """Without 50-64 year olds every patient counts for their practice, so the practice
    table sums to the national KPI rows, period by period (person-days to rounding)."""
    spec = load_scenario(
        TEACHING,
        [*SHORT, "population.under65_chronic_per_1000=0", "settings.gp.practices.list_size=300"],
    )
    kpis, _, practices = replication_table(spec, 0, seed=6)
    national = kpis.filter((pl.col("area_level") == "national") & (pl.col("group") == "all"))
    sums = practices.group_by("period", maintain_order=True).agg(
        pl.col(c).sum().name.suffix("_p")
        for c in (
            "admissions",
            "discharges",
            "readmissions_30d",
            "delayed_discharge_days",
            "person_days",
        )
    )
    both = national.join(sums, on="period")
    assert both.height == national.height > 0
    for c in ("admissions", "discharges", "readmissions_30d"):
        assert (both[c] == both[f"{c}_p"]).all(), c
    for c in ("delayed_discharge_days", "person_days"):
        assert np.allclose(both[c].to_numpy(), both[f"{c}_p"].to_numpy(), rtol=1e-9, atol=1e-6)


def test_theil_index_is_zero_for_equal_rates_and_matches_a_hand_computation():
    assert theil_index(np.array([0.3, 0.3, 0.3]), np.array([1.0, 5.0, 2.0])) == 0.0
    # rates 1 and 2, equal weights: mu = 1.5, T = 1/2 (2/3 ln 2/3 + 4/3 ln 4/3)
    hand = 0.5 * (2 / 3 * np.log(2 / 3) + 4 / 3 * np.log(4 / 3))
    assert theil_index(np.array([1.0, 2.0]), np.array([1.0, 1.0])) == pytest.approx(hand, 1e-12)
    # weights: rates 1 (weight 3) and 3 (weight 1): mu = 1.5
    s, r = np.array([0.75, 0.25]), np.array([1 / 1.5, 3 / 1.5])
    assert theil_index(np.array([1.0, 3.0]), np.array([3.0, 1.0])) == pytest.approx(
        float((s * r * np.log(r)).sum()), 1e-12
    )


def test_equity_table_counts_councils_better_and_worse():
    rows = []
    for scenario, shift in (("today", 0.0), ("reform", -10.0)):
        for rep in range(3):
            for area, base in (("A", 300.0), ("B", 200.0)):
                for level in ("council", "municipality"):
                    adm = base + (shift if area == "A" else 0.0) + rep  # B: no change
                    rows.append(
                        dict(
                            scenario=scenario,
                            draw=0,
                            replication=rep,
                            period="2026",
                            area_level=level,
                            area=area,
                            group="all",
                            admissions=adm,
                            discharges=100.0,
                            readmissions_30d=15.0,
                            delayed_discharge_days=5.0,
                            person_days=1000.0 * 365.25,
                        )
                    )
    eq = equity_table(pl.DataFrame(rows), None, ["today", "reform"])
    diff = eq.filter(
        (pl.col("kind") == "difference") & (pl.col("measure") == "admissions_per_1000_year")
    )
    a = diff.filter(pl.col("area") == "A")
    assert a["value"][0] == pytest.approx(-10.0)  # per 1,000 a year: 1,000 person-years
    count = eq.filter(
        (pl.col("kind") == "councils") & (pl.col("measure") == "admissions_per_1000_year")
    )
    # A's paired difference is exactly -10 in every replication: a zero-width interval below 0
    assert dict(zip(count["statistic"], count["value"])) == {"better": 1.0, "worse": 0.0}
    theil = eq.filter((pl.col("statistic") == "theil") & (pl.col("area_level") == "council"))
    assert (theil["value"] > 0).all()


@pytest.mark.parametrize(
    "setting, words",
    [
        ("settings.gp.practices.list_size=5", "at least 100"),
        ("settings.gp.practices.followup_sd=7", "at most 3"),
        ("settings.gp.practices.list_size=0", "greater than 0"),
    ],
)
def test_bad_practice_settings_are_bad_input(tmp_path, setting, words):
    args = [
        "run",
        str(TEACHING),
        "--out",
        str(tmp_path / "r"),
        "--quiet",
        "--no-report",
        "--set",
        setting,
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert words in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_run_writes_practices_and_equity_and_replay_verifies_them(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "run"
    sets = [x for s in SHORT for x in ("--set", s)]
    args = [
        "run",
        str(TEACHING),
        str(REFORM),
        "--out",
        str(out),
        "--replications",
        "2",
        "--quiet",
        "--no-report",
        *sets,
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    manifest = (out / "manifest.json").read_text()
    assert "practices.parquet" in manifest and "equity.parquet" in manifest
    result = CliRunner().invoke(app, ["replay", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    bump_first_row(out / "practices.parquet", "admissions")
    result = CliRunner().invoke(app, ["replay", str(out), "--workers", "1"])
    assert result.exit_code == 1
    assert "practices.parquet" in result.output


def test_the_cohorts_practices_follow_the_kernels_rule_exactly():
    """`practice_of` assigns the cohort on whole arrays; entrants are assigned inside the
    kernel by `practice_from`. Both must give every slot the same practice, including
    uniforms at the top edge of a municipality's range."""
    from sim.flow import kernel
    from sim.flow.inputs import Practices, practice_of

    rng = np.random.default_rng(7)
    count = rng.integers(1, 40, size=30)
    first = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    slot_u = rng.random(5_000)
    slot_u[:50] = np.nextafter(1.0, 0.0)
    slot_u[50:100] = 0.0
    practices = Practices(np.repeat(np.arange(30), count), first, count, np.ones(count.sum()),
                          slot_u)  # fmt: skip
    muni = rng.integers(0, 30, size=slot_u.size)
    slots = np.arange(slot_u.size)
    expected = [kernel.practice_from(first, count, m, slot_u[s]) for m, s in zip(muni, slots)]
    assert practice_of(practices, muni, slots).tolist() == expected
