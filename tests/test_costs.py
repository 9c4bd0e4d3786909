"""The full cost of a scenario (issue 12, point 4): capacity is paid per place provided,
packages per enrolled patient, the investment engine's spending is in the total, money
is conserved per KPI row, and the organisations price one more bed with the same flows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from sim.config.schema import GROUPS
from sim.flow.counters import N_COUNTERS, C
from sim.flow.inputs import build_inputs, build_periods
from sim.flow.provided import add_provided, provided
from sim.measures import COSTS, COUNTERS
from sim.regime.costs import PAYERS, cost_to, money_flows
from sim.regime.levers import build_period_settings
from sim.rng import streams
from sim.run.runner import load_scenario, replication_table, simulate, simulate_system

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "configs" / "teaching.yaml"
SEED = 11
RUN = ["simulation.end=2026-10-01", "regime.reform_date=2026-04-01"]
NEW = ("sop_bed_days_provided", "ht_place_days_provided", "ht_duty_place_days", "package_days")
ZERO = "{copd: 0, diabetes: 0, heart: 0, back: 0, multimorbid: 0, other: 0}"
#: Nobody is treated or followed up at home: teams are provided but never used.
NO_TEAM_USE = [
    f"triage.home_treatment_suitable.value={ZERO}",
    f"settings.hospital.home_followup.value={ZERO}",
]
REFORM = [f"regime.levers.{lever}=true" for lever in ("regional_beds", "teams_24_7",
    "chronic_packages", "no_kmf", "investment_engine", "no_user_payment")] + [
    "regime.reform.packages.start={copd: 2026-04-01, diabetes: 2026-07-01}"]  # fmt: skip


def national(kpis: pl.DataFrame) -> pl.DataFrame:
    return kpis.filter(pl.col("area_level") == "national", pl.col("group") == "all").sort("period")


def test_idle_24_7_team_places_cost_the_region_places_times_price_times_days():
    base = [*RUN, *NO_TEAM_USE, "regime.levers.regional_beds=true"]  # the region runs teams
    off_spec = load_scenario(TEACHING, base)
    on_spec = load_scenario(TEACHING, [*base, "regime.levers.teams_24_7=true"])
    off = replication_table(off_spec, 0, SEED).kpis
    on = replication_table(on_spec, 0, SEED).kpis
    off, on = national(off), national(on)
    assert off["ht_days"].sum() == 0 and on["ht_days"].sum() == 0  # nobody uses a team
    used = [c for c in COUNTERS if c not in NEW]
    assert on.select(used).equals(off.select(used))  # the same patients, the same care
    # the places and duty hours in force, from the regime's settings (not the cost code)
    sc_on, sc_off = on_spec.scenario, off_spec.scenario
    rng = streams(SEED, 0)
    inputs = build_inputs(sc_on, on_spec.geography, rng["population"], rng["practices"])
    price = sc_on.costs.home_treatment_place_day_dkk.value
    reported = [p for p in inputs.periods if p.reported]
    assert [p.label for p in reported] == on["period"].to_list()
    changed = 0
    for p, row_on, row_off in zip(reported, on.iter_rows(named=True), off.iter_rows(named=True)):
        days = p.end - p.start
        s_on = build_period_settings(sc_on, inputs, p)
        s_off = build_period_settings(sc_off, inputs, p)
        places = float((s_on.ht_slots * s_on.ht_duty_hours / 24.0).sum()) - float(
            (s_off.ht_slots * s_off.ht_duty_hours / 24.0).sum()
        )
        extra = places * price * days  # round-the-clock place equivalents × price × days
        assert row_on["cost_region_dkk"] - row_off["cost_region_dkk"] == pytest.approx(
            extra, rel=1e-9, abs=1e-3
        )
        assert row_on["cost_total_dkk"] - row_off["cost_total_dkk"] == pytest.approx(
            extra, rel=1e-9, abs=1e-3
        )
        assert row_on["cost_municipality_dkk"] == row_off["cost_municipality_dkk"]
        changed += extra > 0
    assert changed == 2  # the two quarters from the reform date; none before


def test_more_places_at_todays_duty_hours_cost_exactly_places_times_price_times_days():
    base = [*RUN, *NO_TEAM_USE, "regime.levers.regional_beds=true"]
    same_hours = "regime.reform.team_duty_hours.value=15.0"  # today's hours: places only
    off = replication_table(load_scenario(TEACHING, base), 0, SEED).kpis
    spec = load_scenario(TEACHING, [*base, "regime.levers.teams_24_7=true", same_hours])
    on = replication_table(spec, 0, SEED).kpis
    off, on = national(off), national(on)
    c = spec.scenario.costs
    hours = spec.scenario.settings.home_treatment.on_duty_hours.value / 24.0
    for row_on, row_off in zip(on.iter_rows(named=True), off.iter_rows(named=True)):
        places = (row_on["ht_place_days_provided"] - row_off["ht_place_days_provided"]) / (
            row_on["period_days"]
        )
        assert places == pytest.approx(round(places), abs=1e-9)  # whole places
        extra = places * hours * c.home_treatment_place_day_dkk.value * row_on["period_days"]
        assert row_on["cost_region_dkk"] - row_off["cost_region_dkk"] == pytest.approx(
            extra, rel=1e-9, abs=1e-3
        )


@pytest.fixture(scope="module")
def reform_kpis() -> dict[str, pl.DataFrame]:
    out = {}
    for rule in ("incentive", "budget"):
        run = [*RUN, *REFORM, f"organisations.decision_rule={rule}"]
        out[rule] = replication_table(load_scenario(TEACHING, run), 0, SEED).kpis
    return out


@pytest.mark.parametrize("rule", ["incentive", "budget"])
def test_money_is_conserved_in_every_row(reform_kpis, rule):
    kpis = reform_kpis[rule]
    payers = sum(kpis[f"cost_{payer}_dkk"] for payer in PAYERS)
    assert np.allclose(payers.to_numpy(), kpis["cost_total_dkk"].to_numpy(), rtol=1e-9, atol=1e-3)
    assert kpis.select(COSTS).null_count().sum_horizontal().item() == 0


@pytest.mark.parametrize("rule", ["incentive", "budget"])
def test_the_total_includes_places_packages_and_the_investment_engine_once(reform_kpis, rule):
    spec = load_scenario(TEACHING, [*RUN, *REFORM, f"organisations.decision_rule={rule}"])
    c = spec.scenario.costs
    rows = national(reform_kpis[rule]).filter(pl.col("period_start") >= pl.date(2026, 4, 1))
    assert (rows["package_days"] > 0).all() and (rows["cost_state_dkk"] > 0).all()
    resources = (
        rows["hospital_bed_days"] * c.hospital_bed_day_dkk.value
        + rows["gp_contacts"] * c.gp_contact_dkk.value
        + rows["sop_bed_days"] * c.sop_bed_day_dkk.value
        + rows["ht_days"] * c.home_treatment_day_dkk.value
        + rows["sop_bed_days_provided"] * c.sop_bed_place_day_dkk.value
        + rows["ht_duty_place_days"] * c.home_treatment_place_day_dkk.value
        + rows["package_days"] * c.package_patient_day_dkk.value
    )
    # the state's grant is spent on care near home once; under `budget` the operators
    # spend it on beds and places, which are already in the place-days
    grant = rows["cost_state_dkk"] if rule != "budget" else 0.0
    assert np.allclose((resources + grant).to_numpy(), rows["cost_total_dkk"].to_numpy(), rtol=1e-9)


@pytest.mark.parametrize("operator", ["council", "municipality"])
def test_under_the_budget_rule_the_grant_goes_to_whoever_runs_the_beds(operator):
    """The regions hand the state's grant to the operators' budgets (sim.org.model
    Region.allocate): with municipalities running beds and teams, the money follows them
    to the municipalities; with councils, it stays with the region that runs them."""
    levers = [lever for lever in REFORM if "regional_beds" not in lever]
    if operator == "council":
        levers.append("regime.levers.regional_beds=true")
    spec = load_scenario(TEACHING, [*RUN, *levers, "organisations.decision_rule=budget"])
    period = next(p for p in build_periods(spec.scenario) if p.first_date >= dt.date(2026, 4, 1))
    flows = {f.name: f for f in money_flows(spec.scenario, period)}
    grant = flows["investment_engine"]
    assert (grant.payer, grant.payee) == ("state", "region")
    assert "investment_engine_spending" not in flows  # spent on places, already counted
    passed = flows.get("investment_engine_to_operators")
    if operator == "municipality":
        assert (passed.payer, passed.payee, passed.price) == ("region", "municipality", grant.price)
    else:
        assert passed is None
    person_days = {"person_days": 1.0}
    assert cost_to(list(flows.values()), "region", person_days) == pytest.approx(
        0.0 if operator == "municipality" else -grant.price
    )


@pytest.mark.parametrize("rule", ["incentive", "budget"])
def test_group_rows_sum_to_the_all_row_for_capacity_and_packages(reform_kpis, rule):
    kpis = reform_kpis[rule]
    keys = ["period", "area_level", "area"]
    groups = kpis.filter(pl.col("group") != "all").group_by(keys).agg(pl.col(NEW).sum())
    joined = kpis.filter(pl.col("group") == "all").join(groups, on=keys, suffix="_groups")
    assert joined.height == kpis.filter(pl.col("group") == "all").height
    for name in NEW:
        assert np.allclose(joined[name], joined[f"{name}_groups"], rtol=1e-9, atol=1e-9), name
    # every level sums the same municipalities
    levels = (
        kpis.filter(pl.col("group") == "all")
        .group_by("period", "area_level")
        .agg(pl.col(NEW).sum())
    )
    for name in NEW:
        per_period = levels.group_by("period").agg(
            pl.col(name).min().alias("lo"), pl.col(name).max().alias("hi")
        )
        assert np.allclose(per_period["lo"], per_period["hi"], rtol=1e-12), name


def test_place_days_provided_are_the_capacities_in_force_times_days():
    # the incentive rule changes capacity from period to period: what is paid follows it
    spec = load_scenario(TEACHING, [*RUN, "organisations.decision_rule=incentive"])
    system = simulate_system(spec, 0, SEED)
    assert len({int(s.sop_beds.sum()) for s in system.applied}) > 1
    counts = system.engine.counts
    for k, (period, settings) in enumerate(zip(system.inputs.periods, system.applied)):
        days = period.end - period.start
        by_muni = counts[k].sum(axis=1)
        assert np.allclose(by_muni[:, C["sop_bed_days_provided"]], settings.sop_beds * days)
        assert np.allclose(by_muni[:, C["ht_place_days_provided"]], settings.ht_slots * days)
        duty = settings.ht_slots * days * settings.ht_duty_hours / 24.0
        assert np.allclose(by_muni[:, C["ht_duty_place_days"]], duty)
    system.release()


def test_place_days_go_to_groups_by_person_days_and_evenly_where_nobody_lived():
    counts = np.zeros((2, len(GROUPS), N_COUNTERS))
    counts[0, :, C["person_days"]] = np.arange(1, len(GROUPS) + 1)
    system = simulate_system(load_scenario(TEACHING, RUN), 0, SEED)
    settings = system.applied[0].with_(
        sop_beds=np.array([3, 2]), ht_slots=np.array([1, 4]), ht_duty_hours=np.array([12.0, 24.0])
    )
    system.release()
    add_provided(counts, settings, 10.0)
    weights = np.arange(1, len(GROUPS) + 1) / np.arange(1, len(GROUPS) + 1).sum()
    assert np.allclose(counts[0, :, C["sop_bed_days_provided"]], 30.0 * weights)
    assert np.allclose(counts[1, :, C["sop_bed_days_provided"]], 20.0 / len(GROUPS))
    assert np.allclose(counts[:, :, C["ht_duty_place_days"]].sum(axis=1), [5.0, 40.0])
    assert provided(settings, 10.0)["ht_place_days_provided"].tolist() == [10.0, 40.0]
    with pytest.raises(ValueError, match="municipalities"):
        add_provided(np.zeros((3, len(GROUPS), N_COUNTERS)), settings, 10.0)


@pytest.mark.parametrize("levers", [[], ["regime.levers.regional_beds=true", *REFORM]])
def test_one_more_bed_or_place_is_priced_by_the_money_flows(levers):
    spec = load_scenario(TEACHING, [*RUN, *levers, "organisations.decision_rule=incentive"])
    system = simulate_system(spec, 0, SEED)
    system.k = len(system.inputs.periods) - 1  # the last period simulated
    c, st = spec.scenario.costs, spec.scenario.settings
    for agent in system.deciders():
        o = agent.observed
        prices = system.own_costs(agent)
        flows = money_flows(spec.scenario, system.period)
        occ = o[C["sop_bed_days"]] / o[C["sop_bed_days_provided"]]
        assert prices.bed_day == pytest.approx(
            cost_to(flows, agent.payer, {"sop_bed_days_provided": 1.0, "sop_bed_days": occ})
        )
        pay = 0.0 if levers else st.sop.user_payment_dkk_per_day.value
        assert prices.bed_day == pytest.approx(
            c.sop_bed_place_day_dkk.value + occ * (c.sop_bed_day_dkk.value - pay)
        )
        duty = float(system.applied[-1].ht_duty_hours[agent.members].mean()) / 24.0
        ht_occ = o[C["ht_days"]] / o[C["ht_place_days_provided"]]
        assert prices.place_day == pytest.approx(
            c.home_treatment_place_day_dkk.value * duty + ht_occ * c.home_treatment_day_dkk.value
        )
        assert agent.observation().sop_bed_day_dkk == pytest.approx(prices.bed_day)
    system.release()


# every condition has a package from before the run and every eligible patient enrols:
# every patient with a condition is enrolled all the time, those without none of it
EVERYONE = [
    "settings.gp.packages.start="
    "{copd: 2020-01-01, diabetes: 2020-01-01, heart: 2020-01-01, back: 2020-01-01}",
    "settings.gp.packages.capacity_per_1000.value=1000",
]


@pytest.mark.parametrize("engine", ["numba", "simpy"])
def test_both_engines_count_package_days_as_enrolled_person_days(engine):
    spec = load_scenario(TEACHING, [*EVERYONE, "simulation.end=2026-04-01"])
    eng, _ = simulate(spec, 0, seed=SEED, engine=engine)
    by_group = eng.counts.sum(axis=(0, 1))
    other = GROUPS.index("other")
    assert by_group[other, C["package_days"]] == 0
    with_condition = [g for g in range(len(GROUPS)) if g != other]
    assert np.allclose(
        by_group[with_condition, C["package_days"]],
        by_group[with_condition, C["person_days"]],
        rtol=1e-12,
    )


def test_package_days_are_the_person_days_of_enrolled_patients():
    kpis = replication_table(load_scenario(TEACHING, [*RUN, *EVERYONE]), 0, SEED).kpis
    rows = kpis.filter(pl.col("area_level") == "municipality")
    other = rows.filter(pl.col("group") == "other")
    assert (other["package_days"] == 0).all()
    with_condition = rows.filter(~pl.col("group").is_in(["other", "all"]))
    assert np.allclose(with_condition["package_days"], with_condition["person_days"], rtol=1e-12)
    today = replication_table(load_scenario(TEACHING, RUN), 0, SEED).kpis
    assert today["package_days"].sum() == 0  # no packages today
