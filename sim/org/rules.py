"""Decision rules: how the party running beds and teams sets next period's capacity.

A rule gets the deciding agent and its observation of the last period and returns the
capacity it wants for its whole area: counts of intermediate-care beds and home-treatment
places (`Decision(sop_beds=..., ht_slots=...)`), or, as before counts existed, rates per
1,000 simulated patients (rounded once to a count for the area); None keeps the current
capacity. Users can name their own rule in the YAML as 'package.module:function' with the
same signature (see docs/decision-rules.md).
"""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from sim.config.schema import Scenario
from sim.constants import DAYS_PER_YEAR
from sim.errors import Problem, RuleError
from sim.org.queueing import erlang_b, mmc_mean_wait


@dataclass(frozen=True)
class Observation:
    """What a decider sees of its own area in the period just simulated (costs in DKK).

    The first thirteen fields are required (positional, in this order); every later field
    has a default, so `Observation(90, 1000, 1.4, 0.35, 0.8, 0, 0, 5, 0, 0, 2750, 1500,
    1.6e6)` is a valid dummy observation. Rates and loads `*_per_day` and `*_load` are the
    decider's smoothed estimates (`organisations.demand_smoothing`), not last period's raw
    counts.
    """

    period_days: float
    patients: float  # simulated patients in the area (initial cohort)
    sop_beds_per_1000: float  # the current count as a rate (for rules written in rates)
    ht_slots_per_1000: float
    sop_occupancy: float  # mean occupied beds / beds, last period
    delayed_discharge_days: float
    stepup_blocked: float
    mean_stay_days: float  # hospital stay
    cost_per_delayed_day: float  # what one delayed day costs this decider
    cost_per_blocked_stepup: float  # what one admission for want of a bed costs this decider
    sop_bed_day_dkk: float  # one more bed for a day: the place, used as last period (flows)
    ht_day_dkk: float  # one more team place for a day: on duty, used as last period (flows)
    budget_dkk_per_1000_year: float  # own budget for beds and teams, including earmarked money
    # --- since issue 11: exact capacity, demand estimates, home treatment, the budget
    sop_beds: int = 0  # intermediate-care beds in the area now (a count)
    ht_slots: int = 0  # home-treatment places in the area now
    ht_occupancy: float = 0.0
    ht_blocked: float = 0.0  # episodes suitable for home treatment that found no place
    followup_blocked: float = 0.0  # discharges that found no follow-up place
    cost_per_delayed_day_early: float = 0.0  # a delayed day in the first days of a wait
    cost_per_delayed_day_late: float = 0.0  # a delayed day from `late_after_days` of a wait on
    late_after_days: float = math.inf  # inf: every delayed day at cost_per_delayed_day
    cost_per_blocked_ht: float = 0.0  # what an episode turned away from home treatment costs
    cost_per_blocked_followup: float = 0.0  # the readmissions a missed follow-up leads to
    sop_load: float = 0.0  # offered load on the beds (erlangs: bed-days wanted a day)
    stepup_per_day: float = 0.0  # step-ups that wanted a bed, a day
    stepdown_per_day: float = 0.0  # step-downs that wanted a bed, a day
    sop_stay_days: float = 1.0  # mean intermediate-care stay
    ht_load: float = 0.0  # offered load on the team places (erlangs)
    ht_per_day: float = 0.0  # home-treatment episodes that wanted a place, a day
    followup_per_day: float = 0.0  # follow-ups that wanted a place, a day
    budget_dkk: float = math.inf  # the decider's money for beds and teams this period
    budget_capped: bool = False  # True: investment may not take capacity cost above budget_dkk


@dataclass(frozen=True)
class Decision:
    """Next period's capacity for the decider's area; None keeps the current one.

    `sop_beds` / `ht_slots` are counts (preferred). `sop_beds_per_1000` /
    `ht_slots_per_1000` are the older form: a rate per 1,000 of the area's simulated
    patients, rounded once to a count; a count wins when both are given.
    """

    sop_beds_per_1000: float | None = None
    ht_slots_per_1000: float | None = None
    sop_beds: int | None = None
    ht_slots: int | None = None


Rule = Callable[[object, Observation, Scenario], Decision]


def fixed(agent: object, obs: Observation, scenario: Scenario) -> Decision:
    """Capacities as configured."""
    return Decision()


def budget(agent: object, obs: Observation, scenario: Scenario) -> Decision:
    """Spend the own budget (as allocated by the region under the reform): the beds and team
    places it pays for all period, `team_share` of the money on places."""
    share = scenario.organisations.budget.team_share.value
    money = obs.budget_dkk_per_1000_year * obs.patients / 1000.0 * obs.period_days / DAYS_PER_YEAR
    if math.isfinite(obs.budget_dkk):
        money = obs.budget_dkk
    return Decision(
        sop_beds=_afford(money * (1 - share), obs.sop_bed_day_dkk * obs.period_days),
        ht_slots=_afford(money * share, obs.ht_day_dkk * obs.period_days),
    )


def _afford(money: float, unit_cost: float) -> int:
    """Whole units the money pays for, to the nearest unit: rounding down would cost small
    areas more, relatively, than pooled ones, a bias that differs between regimes."""
    return max(0, round(money / unit_cost)) if unit_cost > 0 else 0


# ------------------------------------------------------------------ the marginal rule
def _term(rate: float, price: float, expected: float) -> float:
    """rate × price × expected shortage per arrival; nothing when nobody pays for it."""
    weight = rate * price
    return 0.0 if weight == 0.0 else weight * expected


def bed_shortage_cost(obs: Observation, beds: int) -> float:
    """Expected own cost, for one period, of want of beds with `beds` beds: blocked step-ups
    (Erlang B) at the price of the admission they become, and delayed-discharge days
    (M/M/c mean wait of a step-down; the days of a wait beyond `late_after_days` at the
    late price) at the price of a delayed day."""
    t, load, stay = obs.period_days, obs.sop_load, obs.sop_stay_days
    blocked = _term(obs.stepup_per_day * t, obs.cost_per_blocked_stepup, erlang_b(beds, load))
    down = obs.stepdown_per_day * t
    if math.isinf(obs.late_after_days):
        return blocked + _term(down, obs.cost_per_delayed_day, mmc_mean_wait(beds, load, stay))
    # days beyond `late_after_days` of a wait cost the late price, the others the early one
    late = mmc_mean_wait(beds, load, stay, obs.late_after_days)
    early = mmc_mean_wait(beds, load, stay) - late if math.isfinite(late) else math.inf
    return (
        blocked
        + _term(down, obs.cost_per_delayed_day_early, early)
        + _term(down, obs.cost_per_delayed_day_late, late)
    )


def place_shortage_cost(obs: Observation, places: int) -> float:
    """Expected own cost, for one period, of want of team places: episodes and follow-ups
    turned away (Erlang B), priced at the admission or readmissions they lead to."""
    b = erlang_b(places, obs.ht_load)
    t = obs.period_days
    return _term(obs.ht_per_day * t, obs.cost_per_blocked_ht, b) + _term(
        obs.followup_per_day * t, obs.cost_per_blocked_followup, b
    )


def saving(shortage: Callable[[int], float], n: int) -> float:
    """What the (n+1)th unit saves: shortage(n) − shortage(n+1); infinite while n units
    cannot carry the load."""
    before = shortage(n)
    return math.inf if math.isinf(before) else before - shortage(n + 1)


def marginal(
    current: int,
    shortage: Callable[[int], float],
    unit_cost: float,
    low: int,
    high: int,
    step: int,
) -> int:
    """Move from `current` toward the count where one more unit saves less than it costs
    and the last unit saves more, by at most `step` units, inside [low, high]."""
    if current < low:
        return min(low, current + step)
    if current > high:
        return max(high, current - step)
    n = current
    while n < min(high, current + step) and saving(shortage, n) > unit_cost:
        n += 1
    if n > current:
        return n
    while n > max(low, current - step) and saving(shortage, n - 1) < unit_cost:
        n -= 1
    return n


def within_budget(
    obs: Observation,
    beds: int,
    places: int,
    bed_cost: float,
    place_cost: float,
) -> tuple[int, int]:
    """Keep the increases the budget pays for, best saving per DKK first (cuts stay)."""
    base_beds, base_places = min(beds, obs.sop_beds), min(places, obs.ht_slots)
    spent = base_beds * bed_cost + base_places * place_cost
    options = [
        (saving(lambda c: bed_shortage_cost(obs, c), n) / bed_cost, "bed", bed_cost)
        for n in range(base_beds, beds)
    ] + [
        (saving(lambda c: place_shortage_cost(obs, c), n) / place_cost, "place", place_cost)
        for n in range(base_places, places)
    ]
    # a unit's saving falls with n, so sorting by value keeps each kind's units in order
    for _, kind, cost in sorted(options, key=lambda o: -o[0]):
        if spent + cost > obs.budget_dkk:
            break
        spent += cost
        base_beds += kind == "bed"
        base_places += kind == "place"
    return base_beds, base_places


def incentive(agent: object, obs: Observation, scenario: Scenario) -> Decision:
    """Weigh marginal cost against marginal saving, in both directions, at own prices.

    From the smoothed offered load the decider expects its shortage cost at c−1, c and
    c+1 beds (Erlang B for blocked step-ups, M/M/c waiting for delayed days), priced at
    what it pays itself; it adds a bed while the next bed saves more than its cost for the
    period (`sop_bed_day_dkk`, one more bed for a day by the money flows, × days) and cuts
    while the last bed saves less; the same for
    home-treatment places (blocked episodes and follow-ups). It moves by at most
    `step_per_1000` (at least one unit) a period and, when its budget is allocated to it
    (a health council), invests no further than the budget pays for.
    """
    r = scenario.organisations.incentive
    per = obs.patients / 1000.0
    step = max(1, round(r.step_per_1000.value * per))
    bed_cost = obs.sop_bed_day_dkk * obs.period_days
    place_cost = obs.ht_day_dkk * obs.period_days
    beds = marginal(
        obs.sop_beds,
        lambda c: bed_shortage_cost(obs, c),
        bed_cost,
        math.floor(r.min_beds_per_1000.value * per),
        max(1, math.ceil(r.max_beds_per_1000.value * per)),
        step,
    )
    places = marginal(
        obs.ht_slots,
        lambda c: place_shortage_cost(obs, c),
        place_cost,
        math.floor(r.min_slots_per_1000.value * per),
        max(1, math.ceil(r.max_slots_per_1000.value * per)),
        step,
    )
    if obs.budget_capped and bed_cost > 0 and place_cost > 0:
        beds, places = within_budget(obs, beds, places, bed_cost, place_cost)
    return Decision(sop_beds=beds, ht_slots=places)


BUILTIN: dict[str, Rule] = {"fixed": fixed, "budget": budget, "incentive": incentive}


def resolve_rule(
    name: str, file: str | None = None, line: int | None = None, scenario: Scenario | None = None
) -> Rule:
    """A built-in rule or an importable 'module:function'; RuleError if it cannot be used.

    Given the scenario, a user's rule is also called once on a made-up observation, so a
    rule that crashes or answers wrongly fails here, not a quarter into a long run.
    """
    if name in BUILTIN:
        return BUILTIN[name]
    module, _, attr = name.partition(":")

    def fail(message: str) -> RuleError:
        return RuleError([Problem(file, line, "organisations.decision_rule", message)])

    if module.startswith("."):
        raise fail(
            f"{name!r}: give an absolute module path (package.module:function), not a relative one"
        )
    try:
        found = importlib.import_module(module)
    except Exception as e:  # noqa: BLE001 - any failure of the user's module is bad input
        raise fail(
            f"cannot import module {module!r} for rule {name!r}: {type(e).__name__}: {e}"
        ) from None
    fn = getattr(found, attr, None)
    if fn is None:
        raise fail(f"module {module!r} has no function {attr!r}")
    if not callable(fn):
        raise fail(f"{name!r} is not callable")
    try:
        inspect.signature(fn).bind(None, None, None)
    except TypeError as e:
        raise fail(f"{name!r} must accept (agent, obs, scenario): {e}") from None
    except ValueError:
        pass  # no signature to inspect (some builtins): the test call below decides
    if scenario is not None:
        _try_rule(fn, name, scenario, fail)
    return fn


def _try_rule(fn: Rule, name: str, scenario: Scenario, fail: Callable[[str], RuleError]) -> None:
    """Call the rule once on a plausible observation; it must return a usable Decision."""
    costs = scenario.costs
    agent = SimpleNamespace(
        kind="municipality", name="(check)", members=np.array([0]), patients=1000.0
    )
    obs = Observation(
        period_days=91.0, patients=1000.0,
        sop_beds_per_1000=scenario.settings.sop.beds_per_1000.value,
        ht_slots_per_1000=scenario.settings.home_treatment.slots_per_1000.value,
        sop_occupancy=0.9, delayed_discharge_days=10.0, stepup_blocked=1.0, mean_stay_days=5.0,
        cost_per_delayed_day=costs.delayed_discharge_day_dkk.value,
        cost_per_blocked_stepup=costs.hospital_bed_day_dkk.value * 5.0,
        sop_bed_day_dkk=costs.sop_bed_place_day_dkk.value + costs.sop_bed_day_dkk.value,
        ht_day_dkk=costs.home_treatment_place_day_dkk.value + costs.home_treatment_day_dkk.value,
        budget_dkk_per_1000_year=scenario.organisations.budget.budget_dkk_per_1000_year.value,
    )  # fmt: skip
    try:
        decision = fn(agent, obs, scenario)
    except Exception as e:  # noqa: BLE001 - the user's code failing is bad input
        raise fail(
            f"{name!r} raised {type(e).__name__}: {e} when called on a test observation"
        ) from None
    if not isinstance(decision, Decision):
        raise fail(
            f"{name!r} returned {type(decision).__name__}; it must return a sim.org.rules.Decision"
        )
    for value in (
        decision.sop_beds_per_1000,
        decision.ht_slots_per_1000,
        decision.sop_beds,
        decision.ht_slots,
    ):
        if value is not None and not (
            isinstance(value, (int, float)) and math.isfinite(value) and value >= 0
        ):
            raise fail(
                f"{name!r} returned {decision}; counts and rates must be finite numbers >= 0 "
                "or None"
            )
