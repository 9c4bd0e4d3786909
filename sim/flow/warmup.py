"""Compile the kernel once, on a tiny model, before work is fanned out to processes.

Concurrent first-time compiles with `cache=True` can race on the cache files, and each
worker compiling on its own wastes minutes; a parent that compiled (or loaded the cache)
forks workers that already hold the machine code.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.config.geography import Geography
from sim.flow.inputs import (
    N_BANDS,
    N_GROUPS,
    Cohort,
    FlowInputs,
    Params,
    Period,
    PeriodSettings,
    Practices,
    Units,
    group_of,
)


def tiny_inputs(n_patients: int = 50) -> FlowInputs:
    """One municipality, one unit of each kind, a few dozen patients, a ten-day period."""
    rng = np.random.default_rng(0)
    cond = rng.integers(0, 16, n_patients)
    geo = Geography(
        municipalities=("A",),
        councils=("A",),
        regions_current=("A",),
        regions_reform=("A",),
        council_of=np.zeros(1, np.int64),
        region_current_of=np.zeros(1, np.int64),
        region_reform_of=np.zeros(1, np.int64),
        population=np.array([1000.0]),
        pop_by_band=np.array([[30.0, 15.0, 5.0]]),
        gp_capacity_per_100k=np.array([55.0]),
    )
    cohort = Cohort(
        muni=np.zeros(n_patients, np.int64),
        group=group_of(cond),
        age0=rng.uniform(60, 95, n_patients),
        frailty=rng.integers(0, 3, n_patients),
        conditions=cond,
        male=rng.random(n_patients) < 0.5,
        pkg_u=rng.random(n_patients),
        practice=np.zeros(n_patients, np.int64),
    )
    g = np.full(N_GROUPS, 0.3)
    params = Params(
        episode_rate=np.full(N_BANDS, 5.0 / 365.25),
        condition_hr=np.ones(4),
        episode_frailty_hr=np.ones(3),
        excess_episodes=0.3,
        excess_decay=10.0,
        hr_premature=1.2,
        hr_stepdown=0.8,
        hr_followup=0.9,
        death_rate=np.full(N_BANDS, 0.1 / 365.25),
        death_frailty_hr=np.ones(3),
        episode_fatality=g * 0.1,
        setting_rr=np.ones(5),
        excess_deaths=0.05,
        excess_death_decay=10.0,
        gp_resolve=g,
        ht_suitable=g,
        stepup_suitable=g,
        los_mean=np.full(N_GROUPS, 5.0),
        los_dist=1,
        los_cv=1.0,
        pressure_midpoint=0.9,
        pressure_width=0.03,
        pressure_max_share=0.5,
        pressure_factor=0.8,
        delay_step_days=2.0,
        distance_km=np.zeros((1, 1)),
        nearest=np.zeros((1, 1), dtype=np.int64),
        decay_km=np.full(3, np.inf),
        stepdown=g,
        followup=g * 0.5,
        sop_stepup_mean=5.0,
        sop_stepdown_mean=10.0,
        sop_dist=2,
        sop_cv=0.8,
        sop_escalation=0.1,
        ht_mean=3.0,
        ht_followup_mean=2.0,
        ht_escalation=0.1,
        entry_rate=np.array([0.05]),
        entry_conditions=np.full(4, 0.1),
        entry_frailty=np.array([0.7, 0.2, 0.1]),
    )
    one = np.zeros(1, np.int64)
    units = Units(one, one.copy(), one.copy(), ("A",), ("A",), ("A",))
    periods = (Period("p", 0.0, 10.0, True, dt.date(2026, 1, 1)),)
    return FlowInputs(
        geo, cohort, params, units, periods, n_patients + 64, one_practice(1, n_patients + 64)
    )


def one_practice(n_muni: int, slots: int) -> Practices:
    """One general practice per municipality, all alike (effect 1)."""
    ids = np.arange(n_muni, dtype=np.int64)
    return Practices(ids, ids.copy(), np.ones(n_muni, np.int64), np.ones(n_muni), np.zeros(slots))


def tiny_settings() -> PeriodSettings:
    return PeriodSettings(
        hospital_beds=np.array([3]),
        sop_beds=np.array([1]),
        ht_slots=np.array([1]),
        sop_accept=np.array([0.9]),
        ht_duty_start=np.array([8.0]),
        ht_duty_hours=np.array([12.0]),
        gp_access=np.array([0.8]),
        package_conditions=1,
        package_share=0.5,
        package_hr=0.9,
        window_days=3.0,
        window_resolve=0.2,
        coverage=np.full(N_GROUPS, 0.3),
        sop_pool=np.zeros(1, np.int64),
        ht_pool=np.zeros(1, np.int64),
    )


def warm_up() -> None:
    from sim.flow.engine import NumbaEngine
    from sim.rng import streams

    NumbaEngine(tiny_inputs(), streams(0, 0)).run_period(0, tiny_settings())
