"""Regimes, levers, money flows and decision rules (issue: organisation layer)."""

import dataclasses
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.config.schema import Levers
from sim.flow.inputs import build_periods
from sim.measures import COUNTERS
from sim.regime.costs import PAYERS, money_flows
from sim.regime.levers import neutral_reform, with_reform
from sim.run.runner import load_scenario, replication_table, simulate_system

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "configs" / "teaching.yaml"
ALL_LEVERS = list(Levers.model_fields)
FLOW_COLUMNS = [c for c in COUNTERS]


def _levers_on():
    return [f"regime.levers.{lever}=true" for lever in ALL_LEVERS]


def test_null_case_reform_configured_as_today_is_identical(tmp_path):
    # every lever on with today's values (sim.regime.levers.neutral_reform); every rule and
    # the money: tests/test_null_reform.py
    base = ["simulation.end=2027-07-01", "regime.reform_date=2026-07-01"]
    today = load_scenario(TEACHING, base)
    on = load_scenario(TEACHING, base + _levers_on())
    neutral = dataclasses.replace(
        on, scenario=with_reform(on.scenario, neutral_reform(on.scenario))
    )
    for rep in range(2):
        a, agents_a, _ = replication_table(today, rep, seed=3)
        b, agents_b, _ = replication_table(neutral, rep, seed=3)
        assert a.select(FLOW_COLUMNS).equals(b.select(FLOW_COLUMNS))
    # ... and the reform's real values do change outcomes, so the test above can fail
    c, _, _ = replication_table(on, 0, seed=3)
    a, _, _ = replication_table(today, 0, seed=3)
    assert not a.select(FLOW_COLUMNS).equals(c.select(FLOW_COLUMNS))


@pytest.mark.parametrize(
    "levers", [[], ["regional_beds"], ["no_kmf", "investment_engine"], ALL_LEVERS]
)
def test_money_is_conserved_per_period(levers):
    spec = load_scenario(
        TEACHING, ["regime.reform_date=2026-01-01"] + [f"regime.levers.{x}=true" for x in levers]
    )
    kpis, _, _ = replication_table(spec, 0, seed=5)
    paid = sum(kpis[f"cost_{p}_dkk"] for p in PAYERS)
    # net payments of all payers = resource costs paid to providers, row by row
    np.testing.assert_allclose(
        paid.to_numpy(), kpis["cost_total_dkk"].to_numpy(), rtol=1e-9, atol=1e-3
    )


def test_money_moves_between_the_right_payers():
    today = load_scenario(TEACHING)
    reform = load_scenario(TEACHING, ["regime.reform_date=2026-01-01"] + _levers_on())
    period = next(p for p in build_periods(today.scenario) if p.reported)
    names = lambda spec: {(f.name, f.payer, f.payee) for f in money_flows(spec.scenario, period)}  # noqa: E731
    assert ("kmf", "municipality", "region") in names(today)
    assert ("delayed_discharge_payment", "municipality", "region") in names(today)
    assert ("sop_bed_days", "municipality", "provider") in names(today)
    assert ("sop_user_payment", "citizen", "municipality") in names(today)
    r = names(reform)
    assert ("sop_bed_days", "region", "provider") in r and (
        "home_treatment_days",
        "region",
        "provider",
    ) in r
    assert not any(n == "delayed_discharge_payment" for n, _, _ in r)  # the region would pay itself
    assert ("investment_engine", "state", "region") in r
    kpis, _, _ = replication_table(reform, 0, seed=5)
    assert (
        kpis.filter(pl.col("area_level") == "national")["cost_citizen_dkk"].sum() == 0
    )  # no user payment
    kmf_flow = next(f for f in money_flows(reform.scenario, period) if f.name == "kmf")
    assert pl.DataFrame({"admissions": [10.0]}).select(kmf_flow.amount).item() == 0  # KMF abolished


def _stepdown_capacity(delayed_payment: float) -> tuple[float, float]:
    spec = load_scenario(
        TEACHING,
        [
            "organisations.decision_rule=incentive",
            f"costs.delayed_discharge_day_dkk={delayed_payment}",
            f"costs.delayed_discharge_late_day_dkk={delayed_payment}",
            "costs.kmf_per_admission_dkk=0",
            "settings.sop.beds_per_1000=0.8",
            "simulation.end=2027-07-01",
        ],
    )
    system = simulate_system(spec, 0, seed=9)
    agents = system.agent_table("x", 0, 0).filter(pl.col("agent_type") == "municipality")
    rate = lambda period: agents.filter(pl.col("period") == period)["sop_beds_per_1000"].mean()  # noqa: E731
    return rate("2026Q1"), rate("2027Q2")


def test_incentive_rule_responds_to_the_costs_the_decider_bears():
    # A municipality that pays for delayed discharges invests in beds; one that pays
    # nothing for them (and no KMF) has no saving to weigh against the cost.
    (start, paying), (_, free) = _stepdown_capacity(5600.0), _stepdown_capacity(0.0)
    assert paying > start  # it invested
    assert free <= start  # it did not
    assert paying > free


@pytest.mark.parametrize(
    "override,fragment",
    [
        ("regime.levers.regional_bedz=true", "did you mean 'regional_beds'"),
        ("organisations.decision_rule=greedy", "unknown decision rule 'greedy'"),
        (
            "organisations.decision_rule=no_such_module_xyz:rule",
            "cannot import module 'no_such_module_xyz'",
        ),
        (
            "organisations.decision_rule=sim.org.rules:no_such_rule",
            "has no function 'no_such_rule'",
        ),
    ],
)
def test_unknown_lever_rule_or_callable_is_a_clear_error(tmp_path, override, fragment):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(TEACHING), "--set", override, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert fragment in result.output
    assert not out.exists()


def test_a_user_rule_named_in_the_yaml_is_called(tmp_path, monkeypatch):
    (tmp_path / "my_rules.py").write_text(
        "from sim.org.rules import Decision\n"
        "def double(agent, obs, scenario):\n"
        "    return Decision(sop_beds_per_1000=2 * obs.sop_beds_per_1000)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = load_scenario(
        TEACHING, ["organisations.decision_rule=my_rules:double", "simulation.end=2026-07-01"]
    )
    agents = simulate_system(spec, 0, seed=1).agent_table("x", 0, 0)
    municipal = agents.filter(
        (pl.col("agent_type") == "municipality") & (pl.col("period") == "2026Q2")
    )
    first = agents.filter((pl.col("agent_type") == "municipality") & (pl.col("period") == "2026Q1"))
    assert (municipal["sop_beds_per_1000"] > 1.5 * first["sop_beds_per_1000"]).all()
    assert set(municipal["decision"]) == {"invest"}
