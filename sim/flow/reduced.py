"""Reduced models built by hand (no YAML): a single unit fed by Poisson episodes, where
queueing theory gives the exact answer. The kernel tests and the validation report's
verification section both use them."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from sim.flow.inputs import N_BANDS, N_GROUPS, Cohort, FlowInputs, Period, group_of
from sim.flow.warmup import one_practice, tiny_inputs, tiny_settings


def periods(first: float, length: float, count: int) -> tuple[Period, ...]:
    """A warm-up of `first` days then `count` reported periods of `length` days."""
    out = [Period("warmup", 0.0, first, False, dt.date(2026, 1, 1))]
    for i in range(count):
        start = first + i * length
        out.append(Period(f"p{i}", start, start + length, True, dt.date(2026, 1, 1)))
    return tuple(out)


def single_queue_model(
    n_patients: int,
    arrival_rate: float,
    mean_stay: float,
    stay_dist: int = 0,
    warmup: float = 200.0,
    length: float = 1000.0,
    count: int = 20,
    route_to_stepup: bool = False,
) -> FlowInputs:
    """Every episode goes to one unit: no GP, no home treatment, no deaths, no entries,
    no post-discharge effects; episodes are Poisson with total rate `arrival_rate`/day
    (n_patients is large, so the few patients away from home barely thin the stream)."""
    base = tiny_inputs()
    rng = np.random.default_rng(1)
    cond = np.zeros(n_patients, dtype=np.int64)
    cohort = Cohort(
        muni=np.zeros(n_patients, np.int64),
        group=group_of(cond),
        age0=rng.uniform(66, 90, n_patients),
        frailty=np.zeros(n_patients, np.int64),
        conditions=cond,
        male=np.zeros(n_patients, bool),
        pkg_u=np.ones(n_patients),
        practice=np.zeros(n_patients, np.int64),
    )
    zero_g, one_g = np.zeros(N_GROUPS), np.ones(N_GROUPS)
    params = dataclasses.replace(
        base.params,
        episode_rate=np.full(N_BANDS, arrival_rate / n_patients),
        condition_hr=np.ones(4),
        episode_frailty_hr=np.ones(3),
        excess_episodes=0.0,
        death_rate=np.zeros(N_BANDS),
        episode_fatality=zero_g,
        setting_rr=np.ones(5),
        excess_deaths=0.0,
        gp_resolve=zero_g,
        ht_suitable=zero_g,
        stepup_suitable=one_g if route_to_stepup else zero_g,
        los_mean=np.full(N_GROUPS, mean_stay),
        los_dist=stay_dist,
        los_cv=1.0,
        pressure_max_share=0.0,  # no stays cut short: a pure queue
        distance_km=np.zeros((1, 1)),
        nearest=np.zeros((1, 1), dtype=np.int64),
        decay_km=np.full(3, np.inf),
        stepdown=zero_g,
        followup=zero_g,
        sop_stepup_mean=mean_stay,
        sop_dist=stay_dist,
        sop_cv=0.5,
        sop_escalation=0.0,
        entry_rate=np.zeros(1),
    )
    return dataclasses.replace(
        base,
        cohort=cohort,
        params=params,
        periods=periods(warmup, length, count),
        max_patients=n_patients + 64,
        practices=one_practice(1, n_patients + 64),
    )


def queue_settings(hospital_beds: int, sop_beds: int = 0):
    return dataclasses.replace(
        tiny_settings(),
        hospital_beds=np.array([hospital_beds]),
        sop_beds=np.array([sop_beds]),
        ht_slots=np.array([0]),
        sop_accept=np.array([1.0]),
        gp_access=np.array([0.0]),
        package_conditions=0,
        window_resolve=0.0,
        coverage=np.zeros(N_GROUPS),
    )
