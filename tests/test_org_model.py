"""The organisations in the coupled model: prices move capacity, counts are exact, regions act.

Stochastic comparisons are paired: the runs share the seed, so until the first decision
they see the same patients, and the first decision differs only by the prices it weighs
(theory: the optimal count rises with the price of a shortage, tests/test_org_rules.py).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from sim.errors import ConfigError
from sim.org.model import HealthCouncil, Region
from sim.run.runner import load_scenario, simulate_system

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "configs" / "teaching.yaml"
NATIONAL = ROOT / "configs" / "denmark" / "current.yaml"
TODAY = (4650.0, 7000.0)  # costs.delayed_discharge_day_dkk, _late_day_dkk in base.yaml


def _beds(overrides: list[str], seed: int, config: Path = TEACHING) -> pl.DataFrame:
    """Beds each decider's area had, period by period (summed over deciders)."""
    system = simulate_system(load_scenario(config, overrides), 0, seed=seed)
    agents = system.agent_table("x", 0, 0).filter(pl.col("decides"))
    return agents.group_by("period", maintain_order=True).agg(pl.col("sop_beds").sum())


def _run_with_prices(early: float, late: float, seed: int) -> list[int]:
    return _beds(
        [
            "organisations.decision_rule=incentive",
            f"costs.delayed_discharge_day_dkk={early}",
            f"costs.delayed_discharge_late_day_dkk={late}",
            "costs.kmf_per_admission_dkk=0",  # only the delayed days are priced
            "settings.sop.beds_per_1000=0.8",
            "simulation.end=2027-07-01",
        ],
        seed,
    )["sop_beds"].to_list()


@pytest.mark.parametrize(
    "levels",
    [
        [(0.0, TODAY[1]), TODAY, (4 * TODAY[0], TODAY[1])],
        [(TODAY[0], 0.0), TODAY, (TODAY[0], 4 * TODAY[1])],
        [(0.0, 0.0), TODAY, (4 * TODAY[0], 4 * TODAY[1])],
    ],
    ids=["early-days", "late-days", "both"],
)
def test_beds_rise_with_the_price_of_a_delayed_day(levels):
    for seed in (9, 10):
        runs = [_run_with_prices(early, late, seed) for early, late in levels]
        first = [run[1] for run in runs]  # decided on the same observation, paired
        assert first == sorted(first), (levels, first)
        if levels[0] == (0.0, 0.0):
            assert first[0] < first[-1]
            means = [sum(run[1:]) / len(run[1:]) for run in runs]
            assert means == sorted(means) and means[0] < means[-1], means


LAESOE = [
    "geography.municipalities=[Læsø]",  # the smallest municipality of the country
    "simulation.warmup_days=365",
    "simulation.end=2027-01-01",
]


@pytest.mark.parametrize(
    "rule,changes",
    [
        ("incentive", ["costs.delayed_discharge_late_day_dkk=30000"]),
        ("budget", ["organisations.budget.budget_dkk_per_1000_year=8000000"]),  # 5 × today
    ],
)
def test_the_smallest_municipality_can_change_its_capacity(rule, changes):
    run = [*LAESOE, f"organisations.decision_rule={rule}"]
    before = _beds(run, seed=1, config=NATIONAL)["sop_beds"].to_list()
    after = _beds(run + changes, seed=1, config=NATIONAL)["sop_beds"].to_list()
    assert len(set(before) | set(after)) > 1, (before, after)
    assert sum(after) > sum(before)


def test_a_user_rule_may_return_counts(tmp_path, monkeypatch):
    (tmp_path / "count_rules.py").write_text(
        "from sim.org.rules import Decision\n"
        "def one_more(agent, obs, scenario):\n"
        "    return Decision(sop_beds=obs.sop_beds + 1)\n"
        "def broken(agent, obs, scenario):\n"
        "    return 3\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    beds = _beds(
        [*LAESOE, "organisations.decision_rule=count_rules:one_more"], seed=1, config=NATIONAL
    )["sop_beds"].to_list()
    assert beds == list(range(beds[0], beds[0] + len(beds)))  # exactly one bed a period
    with pytest.raises(ConfigError, match="must return a sim.org.rules.Decision"):
        _beds([*LAESOE, "organisations.decision_rule=count_rules:broken"], 1, NATIONAL)


def _reform(investment: float) -> list[str]:
    return [
        "organisations.decision_rule=incentive",
        "regime.reform_date=2026-01-01",
        "regime.levers.regional_beds=true",
        "regime.levers.investment_engine=true",
        f"regime.reform.investment_dkk_per_1000_year={investment}",
        # a budget below today's capacity: the councils cannot invest without the engine
        "organisations.budget.budget_dkk_per_1000_year=1000000",
        "simulation.end=2027-07-01",
    ]


def test_regions_allocate_the_councils_budgets_and_the_budget_caps_investment():
    system = simulate_system(load_scenario(TEACHING, _reform(2_000_000)), 0, seed=4)
    table = system.agent_table("x", 0, 0)
    reported = pl.col("period").str.starts_with("2026") | pl.col("period").str.starts_with("2027")
    regions = table.filter((pl.col("agent_type") == "region_reform") & reported)
    assert set(regions["decision"]) == {"allocate"}
    councils = table.filter((pl.col("agent_type") == "council") & reported)
    assert councils["decides"].all()
    # the region passed on the state's money: the council's budget is more than its own
    own = 1_000_000 * next(iter(system.agents_by_type[HealthCouncil])).patients / 1000 / 4
    assert (councils["budget_dkk"] > 1.5 * own).all()
    assert (regions["budget_dkk"] == councils["budget_dkk"]).all()  # one council, one region
    assert len(system.agents_by_type[Region]) == 2  # today's region and the reform's
    # an investment never takes the capacity cost above the budget it was decided on
    sc = system.scenario.costs
    for row, nxt in zip(councils.iter_rows(named=True), councils[1:].iter_rows(named=True)):
        if row["decision"] == "invest" or row["ht_decision"] == "invest":
            days = 92.0
            cost = days * (
                nxt["sop_beds"] * sc.sop_bed_day_dkk.value
                + nxt["ht_slots"] * sc.home_treatment_day_dkk.value
            )
            assert cost <= row["budget_dkk"] * days / 90.0 + 1e-6


def test_investment_engine_money_changes_what_a_council_decides():
    without = _beds(_reform(0.0), seed=4)["sop_beds"].to_list()
    with_money = _beds(_reform(2_000_000.0), seed=4)["sop_beds"].to_list()
    assert without[:2] == with_money[:2]  # same patients until the reform's money arrives
    assert sum(with_money) > sum(without)


def test_a_lever_that_changes_configured_capacity_moves_the_counts_by_as_much():
    # teams_24_7 adds places from the reform date; the counts in force move by the
    # configured difference, so under `fixed` they are the configured ones, period by period
    from sim.regime.levers import build_period_settings

    spec = load_scenario(
        TEACHING.parent / "teaching-reform.yaml", ["organisations.decision_rule=fixed"]
    )
    system = simulate_system(spec, 0, seed=2)
    configured = [
        build_period_settings(spec.scenario, system.inputs, p) for p in system.inputs.periods
    ]
    for ran, want in zip(system.applied, configured, strict=True):
        assert (ran.ht_slots == want.ht_slots).all() and (ran.sop_beds == want.sop_beds).all()
    assert configured[-1].ht_slots.sum() > configured[0].ht_slots.sum()  # the lever acted


def test_the_agent_table_holds_the_rows_mesa_collected():
    """agent_table reads the DataCollector's records into polars itself; Mesa's own
    DataFrame of the same records gives the same rows."""
    system = simulate_system(load_scenario(TEACHING, ["simulation.end=2026-07-01"]), 0, seed=2)
    ours = system.agent_table("x", 0, 0)
    mesa = pl.from_pandas(system.datacollector.get_agent_vars_dataframe().reset_index())
    labels = ours["period"].unique(maintain_order=True).to_list()
    assert ours.height == mesa.height > 0
    assert ours["period"].to_list() == [labels[s - 1] for s in mesa["Step"]]
    for column in ("agent", "agent_type", "decides", "sop_beds", "net_cost_dkk", "decision"):
        assert ours[column].to_list() == mesa[column].to_list(), column
