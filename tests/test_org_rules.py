"""The decision rules on their own: the marginal rule against queueing theory (no simulation).

Every expectation follows from the rule's definition: the shortage cost of c beds falls
with c and is convex (Erlang B and the M/M/c wait), so the count where one more bed saves
less than it costs and the last bed saves more exists, is unique, and rises with the
price of a shortage.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from sim.org import queueing
from sim.org.model import share_out
from sim.org.rules import (
    BUILTIN,
    Decision,
    Observation,
    bed_shortage_cost,
    incentive,
    marginal,
    place_shortage_cost,
    saving,
)
from sim.run.runner import load_scenario
from sim.validation import queueing as reference

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = load_scenario(ROOT / "configs" / "teaching.yaml").scenario
#: ... with ten beds per 10,000 patients a period, so one decision can go a long way
QUICK = load_scenario(
    ROOT / "configs" / "teaching.yaml", ["organisations.incentive.step_per_1000=1"]
).scenario

#: A dummy observation from the thirteen positional fields, as documented.
DUMMY = Observation(90, 1000, 1.4, 0.35, 0.8, 0, 0, 5, 0, 0, 2750, 1500, 1.6e6)


def _obs(**change) -> Observation:
    """An area of 10,000 patients with ~14 erlangs on its beds and ~3 on its team places."""
    base = dict(
        period_days=91.0,
        patients=10_000.0,
        sop_beds=14,
        ht_slots=4,
        sop_load=14.0,
        stepup_per_day=0.5,
        stepdown_per_day=0.9,
        sop_stay_days=10.0,
        ht_load=3.0,
        ht_per_day=0.6,
        followup_per_day=0.3,
        cost_per_delayed_day=4650.0,
        cost_per_blocked_stepup=8000.0,
        cost_per_blocked_ht=8000.0,
        cost_per_blocked_followup=1000.0,
    )
    base.update(change)
    return dataclasses.replace(DUMMY, **base)


def _optimum(obs: Observation, shortage, unit_cost: float) -> int:
    """The count where the next unit saves no more than it costs and the last saves more."""
    n = 0
    while saving(shortage, n) > unit_cost:
        n += 1
    return n


def test_queueing_formulas_match_the_validation_ones():
    for c in range(1, 30):
        for load in (0.5, 3.0, 12.5, c - 0.5):
            if not 0 < load < c:
                continue
            assert queueing.erlang_b(c, load) == pytest.approx(reference.erlang_b(c, load))
            assert queueing.mmc_mean_wait(c, load, 7.0) == pytest.approx(
                reference.mmc_mean_wait(c, load / 7.0, 1 / 7.0)
            )
    assert queueing.mmc_mean_wait(3, 3.0, 7.0) == math.inf


def test_a_dummy_observation_gives_every_builtin_rule_a_decision():
    for rule in BUILTIN.values():
        assert isinstance(rule(None, DUMMY, SCENARIO), Decision)


@pytest.mark.parametrize("start", [0, 5, 14, 18, 30, 60])
def test_the_marginal_rule_converges_to_the_optimum_from_either_side(start):
    obs = _obs()
    bed_cost = obs.sop_bed_day_dkk * obs.period_days
    shortage = lambda c: bed_shortage_cost(obs, c)  # noqa: E731
    best = _optimum(obs, shortage, bed_cost)
    assert obs.sop_load < best < 60  # a finite optimum above the load
    c, path = start, [start]
    for _ in range(80):
        c = marginal(c, shortage, bed_cost, 0, 200, 2)
        path.append(c)
    assert c == best
    assert all(abs(b - a) <= 2 for a, b in zip(path, path[1:], strict=False))  # step limit
    assert marginal(best, shortage, bed_cost, 0, 200, 2) == best  # keep at the optimum
    # both directions: invests from below, cuts from above
    assert path[1] > start if start < best else path[1] < start if start > best else True


def test_the_rule_keeps_within_its_bounds_and_moves_at_least_one_bed():
    tiny = _obs(patients=400.0, sop_beds=0, sop_load=0.6, stepdown_per_day=0.05)
    beds = incentive(None, tiny, SCENARIO).sop_beds
    assert beds == 1  # 0.1 per 1,000 of 400 patients is 0.04 beds: still one bed
    crowded = _obs(patients=400.0, sop_beds=0, sop_load=5.0)
    high = math.ceil(SCENARIO.organisations.incentive.max_beds_per_1000.value * 0.4)
    c = 0
    for _ in range(5):
        c = incentive(None, dataclasses.replace(crowded, sop_beds=c), SCENARIO).sop_beds
    assert c == high


@pytest.mark.parametrize(
    "price", ["cost_per_delayed_day", "cost_per_blocked_stepup"], ids=["delayed", "stepup"]
)
def test_the_optimal_beds_rise_with_the_price_of_a_shortage(price):
    counts = []
    for level in (0.0, 500.0, 2000.0, 8000.0, 32000.0, 128000.0):
        obs = _obs(**{price: level})
        counts.append(
            _optimum(obs, lambda c, o=obs: bed_shortage_cost(o, c), 2750.0 * obs.period_days)
        )
    assert counts == sorted(counts) and counts[-1] > counts[0]


def test_the_optimal_team_places_rise_with_the_price_of_a_blocked_episode():
    counts = []
    for level in (0.0, 5000.0, 20000.0, 80000.0):
        obs = _obs(cost_per_blocked_ht=level)
        counts.append(
            _optimum(obs, lambda c, o=obs: place_shortage_cost(o, c), 1500.0 * obs.period_days)
        )
    assert counts == sorted(counts) and counts[-1] > counts[0]


def test_a_capped_budget_limits_investment_but_not_cuts():
    obs = _obs(sop_beds=8, ht_slots=1, sop_load=14.0)  # far too few beds
    free = incentive(None, obs, QUICK)
    tight = obs.period_days * (8 * 2750.0 + 1 * 1500.0) + 2750.0 * obs.period_days * 1.5
    capped = incentive(None, dataclasses.replace(obs, budget_dkk=tight, budget_capped=True), QUICK)
    assert free.sop_beds > 9
    assert capped.sop_beds + capped.ht_slots <= 8 + 1 + 1  # one more unit is all it pays for
    spent = obs.period_days * (capped.sop_beds * 2750.0 + capped.ht_slots * 1500.0)
    assert spent <= tight
    idle = _obs(sop_beds=40, sop_load=5.0)
    cut = incentive(None, dataclasses.replace(idle, budget_dkk=0.0, budget_capped=True), SCENARIO)
    assert cut.sop_beds < 40


@pytest.mark.parametrize("total", [0, 1, 2, 7, 100])
def test_a_council_total_is_shared_out_exactly_and_deterministically(total):
    weights = np.array([4000.0, 150.0, 2500.0, 900.0])
    parts = share_out(total, weights)
    assert parts.sum() == total and (parts >= 0).all()
    assert (np.abs(parts - total * weights / weights.sum()) < 1).all()  # largest remainder
    assert (share_out(total, weights) == parts).all()
