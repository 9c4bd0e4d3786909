"""The null reform: every lever on, every reform value at today's value, gives today's run.

For every lever the schema knows (`Levers.model_fields`) and every built-in decision rule
(`sim.org.rules.BUILTIN`), the flows AND the money must be byte-identical to today's
regime — a lever whose reform value equals today's must be neutral in the kernel's
settings, in who pays, and in what the organisations decide. Today's value of each
reform value comes from one place, `sim.regime.levers.neutral_reform`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest

from sim.config.schema import Levers, ReformValues
from sim.org.rules import BUILTIN
from sim.regime.levers import neutral_reform, with_reform
from sim.run.runner import ScenarioSpec, load_scenario, replication_table

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "configs" / "teaching.yaml"
NATIONAL = ROOT / "configs" / "denmark" / "current.yaml"
# Two health councils of one region, two small municipalities each: pooling across
# municipalities (council) and councils (region) has something to pool; Læsø is the
# smallest municipality of the country.
SMALL_NATIONAL = [
    "geography.municipalities=[Læsø, Brønderslev, Morsø, Rebild]",
    "simulation.warmup_days=182",
    "simulation.end=2026-10-01",
    "regime.reform_date=2026-04-01",
]
TEACHING_RUN = ["simulation.end=2026-10-01", "regime.reform_date=2026-04-01"]
ALL_LEVERS = [f"regime.levers.{lever}=true" for lever in Levers.model_fields]


def _neutral(spec: ScenarioSpec) -> ScenarioSpec:
    scenario = with_reform(spec.scenario, neutral_reform(spec.scenario))
    return dataclasses.replace(spec, scenario=scenario.model_copy(update={"name": "neutral"}))


def _kpis(spec: ScenarioSpec) -> pl.DataFrame:
    kpis, _, _ = replication_table(spec, 0, seed=11)
    return kpis.drop("scenario")


def test_neutral_reform_names_todays_value_of_every_reform_value():
    spec = load_scenario(TEACHING)
    neutral = neutral_reform(spec.scenario)
    assert set(neutral.model_fields_set) >= set(ReformValues.model_fields)
    st = spec.scenario.settings
    assert neutral.bed_operator == "municipality" and neutral.bed_pooling == "none"
    assert neutral.free_choice_pooling == "none"
    assert neutral.kmf_per_admission_dkk.value == spec.scenario.costs.kmf_per_admission_dkk.value
    assert neutral.investment_dkk_per_1000_year.value == 0
    assert neutral.team_slots_per_1000.value == st.home_treatment.slots_per_1000.value
    assert neutral.packages == st.gp.packages


@pytest.mark.parametrize("rule", sorted(BUILTIN))
@pytest.mark.parametrize(
    "config,overrides",
    [(TEACHING, TEACHING_RUN), (NATIONAL, SMALL_NATIONAL)],
    ids=["teaching", "national"],
)
def test_every_lever_at_todays_value_changes_nothing(config, overrides, rule):
    run = [*overrides, f"organisations.decision_rule={rule}"]
    today = load_scenario(config, run)
    neutral = _neutral(load_scenario(config, run + ALL_LEVERS))
    assert all(getattr(neutral.scenario.regime.levers, lever) for lever in Levers.model_fields)
    a, b = _kpis(today), _kpis(neutral)
    assert a.columns == b.columns
    assert a.equals(b), "a lever at today's value changed the flows or the money"


def test_the_real_reform_does_change_the_run():
    # ... so the comparisons above can fail: the same levers at their reform values differ
    run = [*TEACHING_RUN, "organisations.decision_rule=incentive"]
    today = _kpis(load_scenario(TEACHING, run))
    reform = _kpis(load_scenario(TEACHING, run + ALL_LEVERS))
    assert not today.equals(reform)
