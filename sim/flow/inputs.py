"""From a validated scenario to the arrays both engines read.

`FlowInputs` is everything fixed for a run (population, units, parameters);
`PeriodSettings` is what organisations may change between planning periods
(capacities, duty hours, user payment, packages, the responsibility window).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from sim.config.geography import Geography
from sim.config.schema import AGE_BANDS, CONDITIONS, GROUPS, Scenario, StayDistribution
from sim.constants import AGE_BAND_EDGES, DAYS_PER_YEAR
from sim.flow import kernel

N_GROUPS = len(GROUPS)
N_BANDS = len(AGE_BANDS)
DISTRIBUTIONS: dict[StayDistribution, int] = {"exponential": 0, "lognormal": 1, "gamma": 2}
# the kernel's group rule numbers groups in this order
assert GROUPS == (*CONDITIONS, "multimorbid", "other")


@dataclass(frozen=True)
class Cohort:
    """The synthetic population at day 0, one entry per patient."""

    muni: np.ndarray  # int64
    group: np.ndarray  # int64
    age0: np.ndarray  # float64, age at day 0
    frailty: np.ndarray  # int64 0/1/2
    conditions: np.ndarray  # int64 bitmask over CONDITIONS
    male: np.ndarray  # bool
    pkg_u: np.ndarray  # float64, fixed uniform for package enrolment
    practice: np.ndarray  # int64, the patient's general practice (in their municipality)

    @property
    def size(self) -> int:
        return int(self.muni.size)

    @cached_property
    def muni_counts(self) -> np.ndarray:
        """Patients per municipality index (`np.bincount(muni)`, read-only), counted once:
        every period's settings need them (sim.regime.levers)."""
        counts = np.bincount(self.muni)
        counts.flags.writeable = False
        return counts


@dataclass(frozen=True)
class Params:
    """Scalar and tabulated rates, in per-day units where they are hazards."""

    episode_rate: np.ndarray  # (band,) per day, without conditions
    condition_hr: np.ndarray  # (condition,)
    episode_frailty_hr: np.ndarray  # (3,)
    excess_episodes: float
    excess_decay: float
    hr_premature: float
    hr_stepdown: float
    hr_followup: float
    death_rate: np.ndarray  # (band,) per day
    death_frailty_hr: np.ndarray  # (3,)
    episode_fatality: np.ndarray  # (group,)
    setting_rr: np.ndarray  # (setting,) hospital, home treatment, step-up, GP, window
    excess_deaths: float
    excess_death_decay: float
    gp_resolve: np.ndarray  # (group,)
    ht_suitable: np.ndarray
    stepup_suitable: np.ndarray
    los_mean: np.ndarray  # (group,)
    los_dist: int
    los_cv: float
    pressure_midpoint: float
    pressure_width: float
    pressure_max_share: float
    pressure_factor: float
    delay_step_days: float
    distance_km: np.ndarray  # (unit, unit) between intermediate-care / team units
    nearest: np.ndarray  # (unit, unit): units by distance from each unit, itself first
    decay_km: np.ndarray  # (kind,) hospital (unused), intermediate care, home treatment
    stepdown: np.ndarray  # (group,)
    followup: np.ndarray  # (group,)
    sop_stepup_mean: float
    sop_stepdown_mean: float
    sop_dist: int
    sop_cv: float
    sop_escalation: float
    ht_mean: float
    ht_followup_mean: float
    ht_escalation: float
    entry_rate: np.ndarray  # (municipality,) entrants per day
    entry_conditions: np.ndarray  # (condition,) prevalence at 65
    entry_frailty: np.ndarray  # (3,) probabilities at 65


@dataclass(frozen=True)
class PeriodSettings:
    """What the organisation layer decides, per planning period."""

    hospital_beds: np.ndarray  # (hospital unit,) int64
    sop_beds: np.ndarray  # (municipality,) int64
    ht_slots: np.ndarray  # (municipality,) int64
    sop_accept: np.ndarray  # (municipality,) probability an offered bed is accepted
    ht_duty_start: np.ndarray  # (municipality,) hour of day
    ht_duty_hours: np.ndarray  # (municipality,)
    gp_access: np.ndarray  # (municipality,) probability an episode reaches the GP
    package_conditions: int  # bitmask of conditions with an active package
    package_share: float  # enrolled share of the eligible
    package_hr: float  # episode hazard ratio while enrolled
    window_days: float
    window_resolve: float
    coverage: np.ndarray  # (group,) discharged patients the responsibility window covers
    sop_pool: np.ndarray  # (municipality,) beds with the same pool id are shared when full
    ht_pool: np.ndarray  # (municipality,) same for home-treatment slots

    def with_(self, **changes: object) -> PeriodSettings:
        return replace(self, **changes)


@dataclass(frozen=True)
class Units:
    """Which hospital serves each municipality. Beds and teams are per municipality; who
    runs them (and so which are shared) is a per-period setting (PeriodSettings pools)."""

    hosp_of_muni: np.ndarray
    sop_of_muni: np.ndarray
    ht_of_muni: np.ndarray
    hospital_names: tuple[str, ...]
    sop_names: tuple[str, ...]
    ht_names: tuple[str, ...]


@dataclass(frozen=True)
class Period:
    label: str
    start: float  # day
    end: float
    reported: bool
    first_date: dt.date


@dataclass(frozen=True)
class Practices:
    """The general practices of a run: practices of municipality m are the ids
    first[m] .. first[m] + count[m] - 1. Drawn from the practices stream only."""

    muni: np.ndarray  # (practice,) int64, the practice's municipality
    first: np.ndarray  # (municipality,) int64
    count: np.ndarray  # (municipality,) int64, at least one per municipality
    effect: np.ndarray  # (practice,) multiplier on the post-discharge excess, mean 1
    slot_u: np.ndarray  # (patient slot,) uniform that picks a slot's practice

    @property
    def n(self) -> int:
        return int(self.muni.size)


@dataclass(frozen=True)
class FlowInputs:
    geography: Geography
    cohort: Cohort
    params: Params
    units: Units
    periods: tuple[Period, ...]
    max_patients: int
    practices: Practices


def _band_table(value: dict[str, float]) -> np.ndarray:
    return np.array([value[b] for b in AGE_BANDS], dtype=np.float64)


def group_table(value: dict[str, float]) -> np.ndarray:
    return np.array([value[g] for g in GROUPS], dtype=np.float64)


def group_of(conditions: np.ndarray) -> np.ndarray:
    """Patient group from a condition bitmask, by the kernel's own rule."""
    flat = np.ascontiguousarray(conditions, dtype=np.int64).ravel()
    return kernel.groups_of(flat, len(CONDITIONS)).reshape(np.shape(conditions))


def practice_counts(scenario: Scenario, geo: Geography) -> np.ndarray:
    """Practices per municipality: its simulated inhabitants over the list size, at least 1
    (exactly 1 without `settings.gp.practices`)."""
    if scenario.settings.gp.practices is None:
        return np.ones(geo.n, dtype=np.int64)
    list_size = scenario.settings.gp.practices.list_size.value
    return np.maximum(1, np.rint(geo.population / list_size)).astype(np.int64)


def draw_practices(
    scenario: Scenario, geo: Geography, rng: np.random.Generator, slots: int
) -> Practices:
    """Each practice's random effect (log-normal, mean 1 on the natural scale), then one
    uniform per patient slot that places the slot's patient in a practice of their
    municipality. The same draws whatever the sd (so sd = 0 gives effects of exactly 1)."""
    count = practice_counts(scenario, geo)
    first = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    muni = np.repeat(np.arange(geo.n, dtype=np.int64), count)
    given = scenario.settings.gp.practices
    sd = 0.0 if given is None else given.followup_sd.value
    effect = np.exp(sd * rng.standard_normal(muni.size) - 0.5 * sd * sd)
    slot_u = rng.random(slots)
    return Practices(muni, first, count, effect, slot_u)


def practice_of(practices: Practices, muni: np.ndarray, slot: np.ndarray) -> np.ndarray:
    """The practice of patient slots in their municipalities: the kernel's own rule
    (`kernel.practice_from`), on whole arrays (the same float product and truncation)."""
    m = np.ascontiguousarray(muni, dtype=np.int64).ravel()
    s = np.ascontiguousarray(slot, dtype=np.int64).ravel()
    n = practices.count[m]
    return practices.first[m] + np.minimum((practices.slot_u[s] * n).astype(np.int64), n - 1)


def build_cohort(
    scenario: Scenario, geo: Geography, rng: np.random.Generator, practices: Practices
) -> Cohort:
    """Draw the synthetic patients of every municipality (65+ and 50-64 with a condition),
    each in a general practice of their municipality (from the practices' own draws)."""
    pop = scenario.population
    counts = cohort_counts(scenario, geo)
    band = np.repeat(np.tile(np.arange(N_BANDS), geo.n), counts.ravel())
    muni = np.repeat(np.arange(geo.n), counts.sum(axis=1))
    n = band.size
    low = np.array([50.0, *AGE_BAND_EDGES])[band]
    width = np.array([15.0, 10.0, 10.0, 0.0])[band]
    age0 = low + width * rng.random(n)
    old = band == 3
    age0[old] = np.minimum(85.0 + rng.exponential(4.5, old.sum()), 105.0)

    prevalence = np.array([_band_table(pop.prevalence[c].value) for c in CONDITIONS])  # (c, band)
    conditions = np.zeros(n, dtype=np.int64)
    draws = rng.random((len(CONDITIONS), n))
    for bit in range(len(CONDITIONS)):
        conditions |= (draws[bit] < prevalence[bit, band]).astype(np.int64) << bit
    # 50-64 year olds are in the cohort because they have a condition: give one if none drawn.
    bare = (band == 0) & (conditions == 0)
    if bare.any():
        weights = prevalence[:, 0] / prevalence[:, 0].sum()
        pick = rng.choice(len(CONDITIONS), size=int(bare.sum()), p=weights)
        conditions[bare] = 1 << pick

    medium = _band_table(pop.frailty.medium.value)[band]
    high = _band_table(pop.frailty.high.value)[band]
    u = rng.random(n)
    frailty = np.where(u < high, 2, np.where(u < high + medium, 1, 0)).astype(np.int64)
    male = rng.random(n) < pop.male_share.value
    pkg_u = rng.random(n)
    practice = practice_of(practices, muni, np.arange(n))
    return Cohort(muni, group_of(conditions), age0, frailty, conditions, male, pkg_u, practice)


def nearest_first(distance_km: np.ndarray) -> np.ndarray:
    """For each unit, every unit ordered by distance from it (itself first; ties by index,
    so without coordinates the order is the units' own)."""
    n = distance_km.shape[0]
    order = np.empty((n, n), dtype=np.int64)
    for u in range(n):
        key = distance_km[u].copy()
        key[u] = -1.0
        order[u] = np.argsort(key, kind="stable")
    return order


def build_params(scenario: Scenario, cohort: Cohort, geo: Geography) -> Params:
    ep, mo, tr, st = scenario.episodes, scenario.mortality, scenario.triage, scenario.settings
    pop = scenario.population
    frail = lambda hr: np.array([1.0, hr["medium"].value, hr["high"].value])  # noqa: E731
    entry_frailty_high = pop.frailty.high.value["65-74"]
    entry_frailty_medium = pop.frailty.medium.value["65-74"]
    return Params(
        episode_rate=_band_table(ep.base_rate_per_year.value) / DAYS_PER_YEAR,
        condition_hr=np.array([ep.condition_hr[c].value for c in CONDITIONS]),
        episode_frailty_hr=frail(ep.frailty_hr),
        excess_episodes=ep.post_discharge.excess_episodes.value,
        excess_decay=ep.post_discharge.decay_days.value,
        hr_premature=ep.post_discharge.hr_premature.value,
        hr_stepdown=ep.post_discharge.hr_stepdown.value,
        hr_followup=ep.post_discharge.hr_home_followup.value,
        death_rate=_band_table(mo.background_per_year.value) / DAYS_PER_YEAR,
        death_frailty_hr=frail(mo.frailty_hr),
        episode_fatality=group_table(mo.episode_fatality.value),
        setting_rr=np.array(
            [
                mo.setting_rr.hospital.value,
                mo.setting_rr.home_treatment.value,
                mo.setting_rr.stepup.value,
                1.0,
                1.0,
            ]  # GP and window resolve no fatal course
        ),
        excess_deaths=mo.post_episode_excess.value,
        excess_death_decay=mo.post_episode_decay_days.value,
        gp_resolve=group_table(tr.gp_resolve.value),
        ht_suitable=group_table(tr.home_treatment_suitable.value),
        stepup_suitable=group_table(tr.stepup_suitable.value),
        los_mean=group_table(st.hospital.los_mean_days.value),
        los_dist=DISTRIBUTIONS[st.hospital.los.distribution],
        los_cv=st.hospital.los.cv.value,
        pressure_midpoint=st.hospital.pressure.midpoint.value,
        pressure_width=st.hospital.pressure.width.value,
        pressure_max_share=st.hospital.pressure.max_share.value,
        pressure_factor=st.hospital.pressure.los_factor.value,
        delay_step_days=scenario.costs.delayed_discharge_step_days.value,
        distance_km=geo.distances(),
        nearest=nearest_first(geo.distances()),
        decay_km=np.array(
            [np.inf, st.sop.distance_decay_km.value, st.home_treatment.distance_decay_km.value]
        ),
        stepdown=group_table(st.hospital.stepdown.value),
        followup=group_table(st.hospital.home_followup.value),
        sop_stepup_mean=st.sop.stepup_mean_days.value,
        sop_stepdown_mean=st.sop.stepdown_mean_days.value,
        sop_dist=DISTRIBUTIONS[st.sop.stay.distribution],
        sop_cv=st.sop.stay.cv.value,
        sop_escalation=st.sop.escalation.value,
        ht_mean=st.home_treatment.episode_mean_days.value,
        ht_followup_mean=st.home_treatment.followup_mean_days.value,
        ht_escalation=st.home_treatment.escalation.value,
        entry_rate=pop_entry_rate(scenario, geo),
        entry_conditions=np.array([pop.prevalence[c].value["65-74"] for c in CONDITIONS]),
        entry_frailty=np.array(
            [
                1.0 - entry_frailty_medium - entry_frailty_high,
                entry_frailty_medium,
                entry_frailty_high,
            ]
        ),
    )


def build_units(geo: Geography) -> Units:
    """One hospital per council; intermediate-care beds and teams per municipality."""
    muni = np.arange(geo.n, dtype=np.int64)
    return Units(
        hosp_of_muni=geo.council_of.copy(),
        sop_of_muni=muni,
        ht_of_muni=muni.copy(),
        hospital_names=tuple(geo.councils),
        sop_names=geo.municipalities,
        ht_names=geo.municipalities,
    )


def unit_capacity(per_1000: np.ndarray, cohort_per_unit: np.ndarray) -> np.ndarray:
    """Places per unit from a rate per 1,000 simulated patients."""
    return np.rint(per_1000 / 1000.0 * cohort_per_unit).astype(np.int64)


def rates_with_overrides(
    default: float, override: dict[str, float], geo: Geography, unit_names: tuple[str, ...]
) -> np.ndarray:
    """Rate per unit; an override may name the unit or, for municipal units, its council."""
    rates = np.full(len(unit_names), default, dtype=np.float64)
    for i, name in enumerate(unit_names):
        if name in override:
            rates[i] = override[name]
        elif unit_names == geo.municipalities and geo.councils[geo.council_of[i]] in override:
            rates[i] = override[geo.councils[geo.council_of[i]]]
    return rates


def cohort_per_unit(unit_of_muni: np.ndarray, cohort: Cohort, n_units: int) -> np.ndarray:
    """Patients per unit (float64), from the cohort's patients per municipality."""
    per_muni = cohort.muni_counts
    if per_muni.size > unit_of_muni.size:
        raise IndexError(f"a patient's municipality {per_muni.size - 1} has no unit")
    weights = np.zeros(unit_of_muni.size)
    weights[: per_muni.size] = per_muni
    return np.bincount(unit_of_muni, weights=weights, minlength=n_units)


def _period_starts(start: dt.date, end: dt.date, period: str) -> list[dt.date]:
    step = {"month": 1, "quarter": 3, "year": 12}[period]
    dates, d = [], start
    while d < end:
        dates.append(d)
        month = d.month - 1 + step
        d = dt.date(d.year + month // 12, month % 12 + 1, 1)
    return dates


def _period_floor(date: dt.date, period: str) -> dt.date:
    """The start of the calendar period (month, quarter, year) holding `date`."""
    if period == "year":
        return dt.date(date.year, 1, 1)
    if period == "quarter":
        return dt.date(date.year, 3 * ((date.month - 1) // 3) + 1, 1)
    return dt.date(date.year, date.month, 1)


def period_label(date: dt.date, period: str) -> str:
    if period == "year":
        return f"{date.year}"
    if period == "quarter":
        return f"{date.year}Q{(date.month - 1) // 3 + 1}"
    return f"{date.year}-{date.month:02d}"


def build_periods(scenario: Scenario) -> tuple[Period, ...]:
    """Warm-up, the reported calendar periods, then the readmission follow-up tail."""
    sim = scenario.simulation
    day0 = sim.start - dt.timedelta(days=sim.warmup_days)
    out: list[Period] = []
    # The warm-up is planned like the reported window, period by period, so the
    # organisations settle their capacity before reporting starts; the first warm-up
    # period is the remainder up to the first calendar boundary.
    if sim.warmup_days:
        starts = _period_starts(_period_floor(day0, sim.period), sim.start, sim.period)
        bounds = [day0] + [d for d in starts if d > day0]
        for i, d in enumerate(bounds):
            nxt = bounds[i + 1] if i + 1 < len(bounds) else sim.start
            label = f"warmup-{period_label(d, sim.period)}"
            out.append(Period(label, float((d - day0).days), float((nxt - day0).days), False, d))
    starts = _period_starts(sim.start, sim.end, sim.period)
    for i, d in enumerate(starts):
        nxt = starts[i + 1] if i + 1 < len(starts) else sim.end
        out.append(
            Period(
                period_label(d, sim.period),
                float((d - day0).days),
                float((nxt - day0).days),
                True,
                d,
            )
        )
    if sim.readmission_followup_days:
        t_end = float((sim.end - day0).days)
        out.append(Period("followup", t_end, t_end + sim.readmission_followup_days, False, sim.end))
    return tuple(out)


def simulated_geography(scenario: Scenario, geo: Geography) -> Geography:
    """The municipalities a run simulates: `geography.municipalities` (default all), then
    `population.scale` as whole health councils at full density (`Geography.whole_councils`)."""
    if scenario.geography.municipalities:
        geo = geo.subset(scenario.geography.municipalities)
    return geo.whole_councils(scenario.population.scale)


def cohort_counts(scenario: Scenario, geo: Geography) -> np.ndarray:
    """Patients at day 0 per municipality and band (build_cohort's counts, undrawn)."""
    pop = scenario.population
    u65 = pop.under65_chronic_per_1000.value / 1000.0 * geo.population
    return np.rint(np.column_stack([u65, geo.pop_by_band])).astype(np.int64)


def pop_entry_rate(scenario: Scenario, geo: Geography) -> np.ndarray:
    """Entrants per day per municipality, in proportion to its cohort at day 0."""
    per_muni = cohort_counts(scenario, geo).sum(axis=1).astype(np.float64)
    return scenario.population.entry_per_1000_per_year.value / 1000.0 * per_muni / DAYS_PER_YEAR


def build_inputs(
    scenario: Scenario,
    geo: Geography,
    population_rng: np.random.Generator,
    practices_rng: np.random.Generator,
) -> FlowInputs:
    """Everything fixed for one replication; the cohort comes from its own random stream,
    the general practices from theirs."""
    geo = simulated_geography(scenario, geo)
    periods = build_periods(scenario)
    n0 = int(cohort_counts(scenario, geo).sum())
    per_day = pop_entry_rate(scenario, geo).sum()
    expected_entries = float(per_day) * periods[-1].end
    max_patients = n0 + int(expected_entries + 6.0 * np.sqrt(expected_entries + 1.0)) + 64
    practices = draw_practices(scenario, geo, practices_rng, max_patients)
    cohort = build_cohort(scenario, geo, population_rng, practices)
    params = build_params(scenario, cohort, geo)
    assert cohort.size == n0
    return FlowInputs(geo, cohort, params, build_units(geo), periods, max_patients, practices)
