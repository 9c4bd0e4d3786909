"""Invariants of the numba core under many random small models (hypothesis).

With `check=True` the kernel itself asserts after every event that time never goes
backwards, that each unit's occupancy equals the patients placed in it and never
exceeds capacity, and that nobody queues for a hospital with a free bed. Here we also
check what can only be seen from outside: queues hold exactly the patients waiting,
and admissions balance.
"""

import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.flow import kernel
from sim.flow.counters import C
from sim.flow.engine import NumbaEngine
from sim.flow.inputs import N_GROUPS
from sim.flow.reduced import periods
from sim.flow.warmup import tiny_inputs, tiny_settings
from sim.rng import streams

prob = st.floats(0.0, 1.0)


def _queue_members(eng: NumbaEngine, kind: int, unit: int) -> list[int]:
    a = eng.arrays
    out, p = [], a["qhead"][kind, unit]
    while p >= 0:
        out.append(int(p))
        p = a["qnext"][p]
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    beds=st.integers(0, 6),
    sop=st.integers(0, 3),
    ht=st.integers(0, 3),
    stepdown=st.floats(0.0, 0.6),
    followup=st.floats(0.0, 0.4),
    gp=prob,
    resolve=prob,
    seed=st.integers(0, 2**31 - 1),
    dist=st.sampled_from([0, 1, 2]),
)
def test_invariants_hold_for_random_models(
    beds, sop, ht, stepdown, followup, gp, resolve, seed, dist
):
    base = tiny_inputs(n_patients=300)
    params = dataclasses.replace(
        base.params,
        stepdown=np.full(N_GROUPS, stepdown),
        followup=np.full(N_GROUPS, followup),
        los_dist=dist,
        sop_dist=dist,
        entry_rate=np.array([0.2]),
    )
    inputs = dataclasses.replace(
        base, params=params, periods=periods(20.0, 30.0, 3), max_patients=300 + 200
    )
    cfg = dataclasses.replace(
        tiny_settings(),
        hospital_beds=np.array([beds]),
        sop_beds=np.array([sop]),
        ht_slots=np.array([ht]),
        gp_access=np.array([gp]),
        window_resolve=resolve,
    )
    eng = NumbaEngine(inputs, streams(seed, 0), check=True)
    for k in range(len(inputs.periods)):
        eng.run_period(k, cfg)
    a = eng.arrays
    n = int(a["n_patients"][0])
    loc = a["loc"][:n]
    total = eng.counts.sum(axis=(0, 1, 2))
    # admissions = discharges + deaths in hospital + still admitted (in a bed or queueing)
    still = int(np.sum((loc == kernel.HOSPITAL) | (loc == kernel.QUEUE)))
    assert total[C["admissions"]] == total[C["discharges"]] + total[C["deaths_in_hospital"]] + still
    # the admission queue holds exactly the queueing patients, in arrival order
    queued = _queue_members(eng, kernel.U_HOSP, 0)
    assert sorted(queued) == sorted(np.flatnonzero(loc == kernel.QUEUE).tolist())
    assert np.all(np.diff(a["qsince"][queued]) >= 0)
    # the step-down queue holds exactly the delayed patients
    delayed = np.flatnonzero((loc == kernel.HOSPITAL) & (a["delayed"][:n] == 1)).tolist()
    assert sorted(_queue_members(eng, kernel.U_SOP, 0)) == delayed
    # population balance: initial + entries = alive + deaths
    alive = int(np.sum(loc != kernel.DEAD))
    assert 300 + total[C["entries"]] == alive + total[C["deaths"]]
    # person-days cannot exceed the patients ever present times the horizon
    assert total[C["person_days"]] <= (300 + total[C["entries"]]) * inputs.periods[-1].end + 1e-6


def test_time_integrals_split_exactly_at_period_boundaries():
    # Same model, same seed, periods of different lengths covering the same horizon:
    # the totals over the horizon must be identical (splitting changes nothing).
    base = tiny_inputs(n_patients=200)
    cfg = tiny_settings()
    totals = []
    for cut in (periods(10.0, 45.0, 2), periods(10.0, 30.0, 3)):
        inputs = dataclasses.replace(base, periods=cut)
        eng = NumbaEngine(inputs, streams(5, 0))
        for k in range(len(cut)):
            eng.run_period(k, cfg)
        totals.append(eng.counts.sum(axis=(0, 1, 2)))
    for name in (
        "hospital_bed_days",
        "sop_bed_days",
        "ht_days",
        "person_days",
        "admissions",
        "deaths",
    ):
        assert totals[0][C[name]] == totals[1][C[name]] or np.isclose(
            totals[0][C[name]], totals[1][C[name]]
        ), name
