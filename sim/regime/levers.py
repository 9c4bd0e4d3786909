"""The reform's levers: when each acts and what it sets in a period.

A lever is a switch in `regime.levers` that acts from `regime.reform_date`; what it sets
lives in `regime.reform`, with sources. With a reform value equal to today's, a lever is
neutral — in the flows, the money and the organisations' decisions alike; `neutral_reform`
says what today's value of every reform value is (tests/test_null_reform.py). The flow
layer only sees the resulting `PeriodSettings`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.config.geography import Geography
from sim.config.schema import CONDITIONS, Number, ReformValues, Scenario
from sim.flow.inputs import (
    FlowInputs,
    Period,
    PeriodSettings,
    cohort_per_unit,
    group_table,
    rates_with_overrides,
    unit_capacity,
)


def lever_on(scenario: Scenario, lever: str, date: dt.date) -> bool:
    """A lever acts when it is switched on and the date has reached the reform date."""
    return bool(getattr(scenario.regime.levers, lever)) and date >= scenario.regime.reform_date


def bed_operator(scenario: Scenario, date: dt.date) -> str:
    """Who runs intermediate-care beds and home-treatment teams on `date`: the health council
    once `regional_beds` acts with `regime.reform.bed_operator` council, else (as today) the
    municipality."""
    if lever_on(scenario, "regional_beds", date):
        return scenario.regime.reform.bed_operator
    return "municipality"


def neutral_reform(scenario: Scenario) -> ReformValues:
    """The reform values equal to today's: with these, every lever is neutral. One entry per
    field of `ReformValues`; a field added to the schema without one here is an error."""
    st, c = scenario.settings, scenario.costs
    today = {
        "bed_operator": "municipality",
        "bed_pooling": "none",
        "user_payment_dkk_per_day": st.sop.user_payment_dkk_per_day,
        "window_hours": st.responsibility.window_hours,
        "coverage": st.responsibility.coverage,
        "team_duty_hours": st.home_treatment.on_duty_hours,
        "team_slots_per_1000": st.home_treatment.slots_per_1000,
        "packages": st.gp.packages,
        "kmf_per_admission_dkk": c.kmf_per_admission_dkk,
        "investment_dkk_per_1000_year": Number(
            value=0.0, source="Today: no investment engine (reform proposal initiative 1.4)."
        ),
        "free_choice_pooling": "none",
    }
    missing = set(ReformValues.model_fields) - set(today)
    if missing:
        raise KeyError(f"neutral_reform has no today's value for {sorted(missing)}")
    return ReformValues(**today)


def with_reform(scenario: Scenario, reform: ReformValues) -> Scenario:
    """The scenario with other reform values (e.g. `neutral_reform(scenario)`)."""
    regime = scenario.regime.model_copy(update={"reform": reform})
    return scenario.model_copy(update={"regime": regime})


def pools(kind: str, geo: Geography) -> np.ndarray:
    if kind == "council":
        return geo.council_of.copy()
    if kind == "region":
        return geo.region_reform_of.copy()
    return np.arange(geo.n, dtype=np.int64)


def build_period_settings(scenario: Scenario, inputs: FlowInputs, period: Period) -> PeriodSettings:
    """Settings as configured (the `fixed` decision rule) for one period, levers applied."""
    st, rv, units, geo, cohort = (
        scenario.settings,
        scenario.regime.reform,
        inputs.units,
        inputs.geography,
        inputs.cohort,
    )
    on = lambda lever: lever_on(scenario, lever, period.first_date)  # noqa: E731
    payment = (
        rv.user_payment_dkk_per_day.value
        if on("no_user_payment")
        else st.sop.user_payment_dkk_per_day.value
    )
    accept = max(0.0, 1.0 - st.sop.decline_per_100_dkk.value * payment / 100.0)
    packages = rv.packages if on("chronic_packages") else st.gp.packages
    active = 0
    for bit, cond in enumerate(CONDITIONS):
        start = packages.start.get(cond)
        if start is not None and start <= period.first_date:
            active |= 1 << bit
    window = (
        rv.window_hours.value if on("responsibility_96h") else st.responsibility.window_hours.value
    )
    coverage = rv.coverage.value if on("responsibility_96h") else st.responsibility.coverage.value
    duty = rv.team_duty_hours.value if on("teams_24_7") else st.home_treatment.on_duty_hours.value
    slots = (
        rv.team_slots_per_1000.value if on("teams_24_7") else st.home_treatment.slots_per_1000.value
    )
    bed_pool = rv.bed_pooling if on("regional_beds") else "none"
    sop_pool = (
        rv.free_choice_pooling
        if on("free_choice") and rv.free_choice_pooling != "none"
        else bed_pool
    )
    gp_access = np.minimum(
        1.0,
        geo.gp_capacity_per_100k
        * st.gp.capacity_factor.value
        / scenario.triage.gp_need_per_100k.value,
    )
    n_h = len(units.hospital_names)
    per_muni = cohort_per_unit(units.sop_of_muni, cohort, geo.n)
    return PeriodSettings(
        hospital_beds=unit_capacity(
            rates_with_overrides(
                st.hospital.beds_per_1000.value,
                st.hospital.beds_override,
                geo,
                units.hospital_names,
            ),
            cohort_per_unit(units.hosp_of_muni, cohort, n_h),
        ),
        sop_beds=unit_capacity(
            rates_with_overrides(
                st.sop.beds_per_1000.value, st.sop.beds_override, geo, units.sop_names
            ),
            per_muni,
        ),
        ht_slots=unit_capacity(np.full(geo.n, slots), per_muni),
        sop_accept=np.full(geo.n, accept),
        ht_duty_start=np.full(geo.n, st.home_treatment.duty_start_hour),
        ht_duty_hours=np.full(geo.n, duty),
        gp_access=gp_access,
        package_conditions=active,
        package_share=min(1.0, packages.capacity_per_1000.value / 1000.0),
        package_hr=packages.episode_hr.value,
        window_days=window / 24.0,
        window_resolve=st.responsibility.resolve.value,
        coverage=group_table(coverage),
        sop_pool=pools(sop_pool, geo),
        ht_pool=pools(bed_pool, geo),
    )
