"""Death belongs to the episode, not to the building (docs/model-spec.md, Hazards).

Moving episodes from hospital to home treatment, with home treatment's relative risk of
death at 1, must leave deaths unchanged within noise, while admissions fall clearly. The
same move with a relative risk of 0.5 must lower deaths: the check can detect an effect.
Replications are paired (common random numbers); the interval is Student's t.

Two mechanisms may still change deaths when admissions fall, and rightly so: fewer stays
cut short by bed pressure, and fewer episodes from the excess hazard that follows a
hospital discharge (post-hospital vulnerability). Both are switched off here, so that
what remains is the rule that death belongs to the episode.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim.flow.counters import C
from sim.run.runner import load_scenario, read_and_release, simulate_system

TEACHING = Path(__file__).resolve().parent.parent / "configs" / "teaching.yaml"
REPLICATIONS = 8  # half a year of the teaching geography each
#: more home treatment: every group suitable, teams around the clock with ample places
ISOLATED = [
    "simulation.end=2026-07-01",
    "settings.hospital.pressure.max_share.value=0",
    "episodes.post_discharge.excess_episodes.value=0",
]
MORE_HOME_TREATMENT = [
    "triage.home_treatment_suitable.value={copd: 0.6, diabetes: 0.6, heart: 0.6, back: 0.6, "
    "multimorbid: 0.6, other: 0.6}",
    "settings.home_treatment.on_duty_hours=24",
    "settings.home_treatment.slots_per_1000=6",
]


def totals(overrides: list[str]) -> np.ndarray:
    """Reported deaths and admissions per replication (teaching geography, seed 11)."""
    spec = load_scenario(TEACHING, [*ISOLATED, *overrides])

    def read(system) -> tuple[float, float]:
        rep = [k for k, p in enumerate(system.inputs.periods) if p.reported]
        c = system.engine.counts[rep].sum(axis=(0, 1, 2))
        return c[C["deaths"]], c[C["admissions"]]

    return np.array(
        [read_and_release(simulate_system(spec, r, seed=11), read) for r in range(REPLICATIONS)]
    )


def paired_interval(a: np.ndarray, b: np.ndarray, level: float = 0.99) -> tuple[float, float]:
    d = b - a
    half = stats.t.ppf(0.5 + level / 2, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    return d.mean() - half, d.mean() + half


@pytest.fixture(scope="module")
def today() -> np.ndarray:
    return totals([])


def test_moving_episodes_home_with_relative_risk_one_leaves_deaths_unchanged(today):
    home = totals(MORE_HOME_TREATMENT)
    lo, hi = paired_interval(today[:, 1], home[:, 1])
    assert hi < -0.05 * today[:, 1].mean(), "the move must avoid admissions to test anything"
    lo, hi = paired_interval(today[:, 0], home[:, 0])
    assert lo <= 0.0 <= hi, f"deaths changed: 99% CI of the paired difference [{lo}, {hi}]"


def test_a_relative_risk_below_one_lowers_deaths(today):
    home = totals([*MORE_HOME_TREATMENT, "mortality.setting_rr.home_treatment.value=0.5"])
    lo, hi = paired_interval(today[:, 0], home[:, 0])
    assert hi < 0.0, f"deaths did not fall: 99% CI of the paired difference [{lo}, {hi}]"


def causes(overrides: list[str]) -> dict[str, float]:
    """Deaths by cause over one teaching replication (seed 11), every period."""
    spec = load_scenario(TEACHING, ["simulation.end=2026-07-01", *overrides])

    def read(system) -> dict[str, float]:
        c = system.engine.counts.sum(axis=(0, 1, 2))
        names = ("deaths", "deaths_episode", "deaths_episode_outside_hospital")
        return {n: float(c[C[n]]) for n in (*names, "deaths_post_episode")}

    return read_and_release(simulate_system(spec, 0, seed=11), read)


def test_every_death_has_one_cause():
    """Episode deaths (some outside hospital) and post-episode deaths are parts of all
    deaths; each cause vanishes when its mechanism is switched off."""
    both = causes(MORE_HOME_TREATMENT)
    assert 0 < both["deaths_episode_outside_hospital"] < both["deaths_episode"]
    assert both["deaths_post_episode"] > 0
    assert both["deaths_episode"] + both["deaths_post_episode"] < both["deaths"]
    no_excess = causes([*MORE_HOME_TREATMENT, "mortality.post_episode_excess.value=0"])
    assert no_excess["deaths_post_episode"] == 0 and no_excess["deaths_episode"] > 0
    zero = "{copd: 0, diabetes: 0, heart: 0, back: 0, multimorbid: 0, other: 0}"
    no_fatal = causes([*MORE_HOME_TREATMENT, f"mortality.episode_fatality.value={zero}"])
    assert no_fatal["deaths_episode"] == 0 and no_fatal["deaths_post_episode"] > 0
