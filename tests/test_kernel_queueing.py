"""The numba core against queueing theory on a model reduced to a single unit.

Batch means: each reported period (1,000 days) gives one estimate; the system forgets
its state within days (relaxation time ~ 1/(c·mu − lambda) = 2.5 days for the M/M/c case
below), so the 20 period estimates are nearly independent and their Student-t standard
error is honest. A test fails when theory lies more than 4 standard errors away
(false-alarm probability about 1e-4 per check under a t(19) distribution: ~7e-4).
"""

import numpy as np
import pytest

from sim.flow.counters import C
from sim.flow.engine import NumbaEngine
from sim.flow.reduced import queue_settings, single_queue_model
from sim.rng import streams
from sim.validation.queueing import erlang_b, mmc_mean_wait

Z = 4.0


def _within(estimates: np.ndarray, theory: float) -> tuple[bool, float]:
    se = estimates.std(ddof=1) / np.sqrt(estimates.size)
    t = (estimates.mean() - theory) / se
    return abs(t) < Z, t


def _run(inputs, settings, seed=11):
    eng = NumbaEngine(inputs, streams(seed, 0))
    for k in range(len(inputs.periods)):
        eng.run_period(k, settings)
    return eng


@pytest.mark.parametrize("beds,arrivals,stay", [(10, 1.6, 5.0), (3, 0.5, 4.0)])
def test_mmc_occupancy_and_wait_match_erlang_c(beds, arrivals, stay):
    inputs = single_queue_model(100_000, arrivals, stay, stay_dist=0)
    eng = _run(inputs, queue_settings(beds))
    rep = [k for k, p in enumerate(inputs.periods) if p.reported]
    days = np.array([inputs.periods[k].end - inputs.periods[k].start for k in rep])
    counts = eng.counts[rep].sum(axis=(1, 2))
    # mean number in service = offered load a = lambda/mu (nobody is lost in M/M/c)
    busy = eng.unit_occupancy[rep, 0, 0] / days
    ok, t = _within(busy, arrivals * stay)
    assert ok, f"mean occupancy {busy.mean():.3f} vs theory {arrivals * stay:.3f} (t={t:.2f})"
    # mean wait in the admission queue per admission taking a bed
    wait = counts[:, C["admission_wait_days"]] / counts[:, C["admissions"]]
    theory = mmc_mean_wait(beds, arrivals, 1.0 / stay)
    ok, t = _within(wait, theory)
    assert ok, f"mean wait {wait.mean():.4f} vs Erlang C {theory:.4f} (t={t:.2f})"


@pytest.mark.parametrize("dist", [0, 1, 2])
def test_stepup_blocking_matches_erlang_b_for_any_stay_distribution(dist):
    # Step-up beds form a loss system (blocked patients go to hospital): Erlang B holds
    # for any stay distribution with the same mean (insensitivity).
    beds, arrivals, stay = 6, 1.0, 5.0
    inputs = single_queue_model(100_000, arrivals, stay, stay_dist=dist, route_to_stepup=True)
    eng = _run(inputs, queue_settings(hospital_beds=1000, sop_beds=beds))
    rep = [k for k, p in enumerate(inputs.periods) if p.reported]
    counts = eng.counts[rep].sum(axis=(1, 2))
    blocking = counts[:, C["stepup_blocked"]] / counts[:, C["stepup_requests"]]
    theory = erlang_b(beds, arrivals * stay)
    ok, t = _within(blocking, theory)
    assert ok, f"blocking {blocking.mean():.4f} vs Erlang B {theory:.4f} (t={t:.2f})"


def test_littles_law_in_hospital():
    # L = lambda·W: mean beds occupied = admissions per day × configured mean stay
    # (50 beds for a load of 6: nobody waits, so every admission starts a stay at once).
    arrivals, stay = 1.2, 5.0
    inputs = single_queue_model(100_000, arrivals, stay, stay_dist=1)
    eng = _run(inputs, queue_settings(50))
    rep = [k for k, p in enumerate(inputs.periods) if p.reported]
    days = np.array([inputs.periods[k].end - inputs.periods[k].start for k in rep])
    per_period = eng.counts[rep].sum(axis=(1, 2))
    occupancy = eng.unit_occupancy[rep, 0, 0] / days
    little = per_period[:, C["admissions"]] / days * stay
    ok, t = _within(occupancy - little, 0.0)
    assert ok, f"occupancy {occupancy.mean():.3f} vs lambda*W {little.mean():.3f} (t={t:.2f})"


def test_unit_occupancy_equals_patient_bed_days():
    # Two independent accountings of the same time: per unit and per patient.
    inputs = single_queue_model(20_000, 2.0, 4.0, stay_dist=2, count=3)
    eng = _run(inputs, queue_settings(6))
    per_patient = eng.counts.sum(axis=(1, 2))[:, C["hospital_bed_days"]]
    per_unit = eng.unit_occupancy[:, 0, 0]
    np.testing.assert_allclose(per_unit, per_patient, rtol=1e-9)
