"""Decision rules: how the party running beds and teams sets next period's capacity.

A rule gets the deciding agent and its observation of the last period and returns the
capacity rates it wants (per 1,000 simulated patients); None keeps the current ones.
Users can name their own rule in the YAML as 'package.module:function' with the same
signature (see docs/decision-rules.md).
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
from sim.errors import Problem, RuleError


@dataclass(frozen=True)
class Observation:
    """What a decider sees of its own area in the period just simulated (costs in DKK)."""

    period_days: float
    patients: float  # simulated patients in the area (initial cohort)
    sop_beds_per_1000: float
    ht_slots_per_1000: float
    sop_occupancy: float
    delayed_discharge_days: float
    stepup_blocked: float
    mean_stay_days: float
    cost_per_delayed_day: float  # what one delayed day costs this decider
    cost_per_blocked_stepup: float  # what one admission for want of a bed costs this decider
    sop_bed_day_dkk: float
    ht_day_dkk: float
    budget_dkk_per_1000_year: float  # own budget for beds and teams, including earmarked money


@dataclass(frozen=True)
class Decision:
    sop_beds_per_1000: float | None = None
    ht_slots_per_1000: float | None = None


Rule = Callable[[object, Observation, Scenario], Decision]


def fixed(agent: object, obs: Observation, scenario: Scenario) -> Decision:
    """Capacities as configured."""
    return Decision()


def budget(agent: object, obs: Observation, scenario: Scenario) -> Decision:
    """Spend the own budget: beds and team places it can pay for all year."""
    b = scenario.organisations.budget
    money = obs.budget_dkk_per_1000_year
    return Decision(
        sop_beds_per_1000=money * (1 - b.team_share.value) / (365.25 * obs.sop_bed_day_dkk),
        ht_slots_per_1000=money * b.team_share.value / (365.25 * obs.ht_day_dkk),
    )


def incentive(agent: object, obs: Observation, scenario: Scenario) -> Decision:
    """Invest while the own saving from more beds exceeds their cost; cut idle beds.

    The shortage cost is what the decider itself paid for want of beds: delayed days and
    admissions of patients who found no step-up bed, priced at the decider's own cost.
    Adding `step` beds per 1,000 costs step × patients/1,000 × days × bed-day cost; the
    decider invests when last period's shortage cost would have paid for them.
    """
    r = scenario.organisations.incentive
    step = r.step_per_1000.value
    shortage = (
        obs.delayed_discharge_days * obs.cost_per_delayed_day
        + obs.stepup_blocked * obs.cost_per_blocked_stepup
    )
    extra_cost = step * obs.patients / 1000.0 * obs.period_days * obs.sop_bed_day_dkk
    beds = obs.sop_beds_per_1000
    if shortage > 0 and shortage >= extra_cost:
        beds += step
    elif shortage == 0 and obs.sop_occupancy < r.idle_occupancy.value:
        beds -= step
    return Decision(
        sop_beds_per_1000=min(max(beds, r.min_beds_per_1000.value), r.max_beds_per_1000.value)
    )


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
        sop_bed_day_dkk=costs.sop_bed_day_dkk.value, ht_day_dkk=costs.home_treatment_day_dkk.value,
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
    for rate in (decision.sop_beds_per_1000, decision.ht_slots_per_1000):
        if rate is not None and not (
            isinstance(rate, (int, float)) and math.isfinite(rate) and rate >= 0
        ):
            raise fail(f"{name!r} returned {decision}; rates must be finite numbers >= 0 or None")
