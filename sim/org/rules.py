"""Decision rules: how the party running beds and teams sets next period's capacity.

A rule gets the deciding agent and its observation of the last period and returns the
capacity rates it wants (per 1,000 simulated patients); None keeps the current ones.
Users can name their own rule in the YAML as 'package.module:function' with the same
signature (see docs/decision-rules.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from sim.config.schema import Scenario
from sim.errors import ConfigError, Problem


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


def resolve_rule(name: str, file: str | None = None, line: int | None = None) -> Rule:
    """A built-in rule or an importable 'module:function'; ConfigError if it cannot be found."""
    if name in BUILTIN:
        return BUILTIN[name]
    module, _, attr = name.partition(":")
    field = "organisations.decision_rule"
    try:
        fn = getattr(importlib.import_module(module), attr)
    except ImportError as e:
        raise ConfigError(
            [Problem(file, line, field, f"cannot import module {module!r} for rule {name!r}: {e}")]
        ) from None
    except AttributeError:
        raise ConfigError(
            [Problem(file, line, field, f"module {module!r} has no function {attr!r}")]
        ) from None
    if not callable(fn):
        raise ConfigError([Problem(file, line, field, f"{name!r} is not callable")])
    return fn
