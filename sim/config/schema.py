"""The scenario schema: every number the model uses, each with its evidence.

A number is a parameter object ``{value, source | assumption, range}`` so the evidence
travels with the value (docs/model.md section 10). Unknown keys are errors
everywhere (``extra="forbid"``). Field descriptions double as the reference docs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Patient groups, by primary condition; ``multimorbid`` = two or more target conditions.
GROUPS: tuple[str, ...] = ("copd", "diabetes", "heart", "back", "multimorbid", "other")
#: Age bands used by hazards; ``u65`` are 50-64 year olds with a target condition.
AGE_BANDS: tuple[str, ...] = ("u65", "65-74", "75-84", "85plus")
#: Conditions that chronic-care packages and hazard ratios refer to (reform proposal
#: initiative 4.1; docs/sources.md#reform-proposal).
CONDITIONS: tuple[str, ...] = ("copd", "diabetes", "heart", "back")


#: No number the model reads is meaningful beyond this; larger ones are typos or overflow.
MAX_VALUE = 1e12
#: Capacities are per 1,000 simulated patients: more than one place each is a typo.
MAX_PER_1000 = 1000.0
#: Longest warm-up or follow-up (days): a century is far past any use.
MAX_DAYS = 36525


class Strict(BaseModel):
    # NaN and infinity pass every comparison check silently; refuse them everywhere
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Evidence(Strict):
    """Where a number comes from: a source, or an assumption with a plausible range."""

    source: str | None = Field(None, description="Document, table and year.")
    assumption: str | None = Field(None, description="What was assumed and why.")
    range: tuple[float, float] | None = Field(
        None, description="Plausible low and high value, for sensitivity analysis."
    )

    @model_validator(mode="after")
    def _range_ordered(self) -> Evidence:
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError(f"range must be [low, high], got {list(self.range)}")
        return self

    @property
    def documented(self) -> bool:
        return bool(self.source) or (bool(self.assumption) and self.range is not None)


class Number(Evidence):
    """A non-negative number with its evidence."""

    value: float = Field(ge=0, le=MAX_VALUE)


class PerThousand(Number):
    """A capacity per 1,000 simulated patients (at most one place per patient)."""

    value: float = Field(ge=0, le=MAX_PER_1000)


#: Override rates per named area, bounded like the rate they override.
Overrides = dict[str, Annotated[float, Field(ge=0, le=MAX_PER_1000)]]


class Probability(Evidence):
    value: float = Field(ge=0, le=1)


class PositiveNumber(Evidence):
    value: float = Field(gt=0, le=MAX_VALUE)


def _complete(mapping: dict[str, float], keys: tuple[str, ...], what: str) -> dict[str, float]:
    missing = [k for k in keys if k not in mapping]
    unknown = [k for k in mapping if k not in keys]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown {', '.join(unknown)}")
        raise ValueError(f"needs one value per {what} ({', '.join(keys)}): {'; '.join(parts)}")
    return mapping


class ByGroup(Evidence):
    """A non-negative value per patient group."""

    value: dict[str, float]

    @field_validator("value")
    @classmethod
    def _groups(cls, v: dict[str, float]) -> dict[str, float]:
        if any(x < 0 for x in v.values()):
            raise ValueError("values must be >= 0")
        return _complete(v, GROUPS, "patient group")


class ProbabilityByGroup(ByGroup):
    @field_validator("value")
    @classmethod
    def _unit(cls, v: dict[str, float]) -> dict[str, float]:
        if any(x > 1 for x in v.values()):
            raise ValueError("probabilities must be <= 1")
        return v


class ByAgeBand(Evidence):
    """A non-negative value per age band."""

    value: dict[str, float]

    @field_validator("value")
    @classmethod
    def _bands(cls, v: dict[str, float]) -> dict[str, float]:
        if any(x < 0 for x in v.values()):
            raise ValueError("values must be >= 0")
        return _complete(v, AGE_BANDS, "age band")


class ProbabilityByAgeBand(ByAgeBand):
    @field_validator("value")
    @classmethod
    def _unit(cls, v: dict[str, float]) -> dict[str, float]:
        if any(x > 1 for x in v.values()):
            raise ValueError("probabilities must be <= 1")
        return v


# --------------------------------------------------------------------------- geography
class Geography(Strict):
    file: str = Field(description="CSV of municipalities (see configs/geography/README.md).")
    sources: str | None = Field(None, description="YAML with the source of each CSV column.")
    coordinates: str | None = Field(
        None,
        description="CSV of municipality,latitude,longitude (the municipal seats); distances "
        "between municipalities decay the use of beds and teams elsewhere. None: no distances.",
    )
    municipalities: list[str] | None = Field(
        None,
        min_length=1,
        description="Simulate only these municipalities (default: all in the file).",
    )


# -------------------------------------------------------------------------- population
class Frailty(Strict):
    medium: ProbabilityByAgeBand
    high: ProbabilityByAgeBand

    @model_validator(mode="after")
    def _sum(self) -> Frailty:
        for band in AGE_BANDS:
            if self.medium.value[band] + self.high.value[band] > 1:
                raise ValueError(f"frailty medium + high exceeds 1 in age band {band}")
        return self


class Population(Strict):
    scale: float = Field(
        1.0,
        gt=0,
        le=1,
        description=(
            "About this fraction of the population is simulated, as whole health councils at "
            "full density chosen per region (queues keep their real size)."
        ),
    )
    under65_chronic_per_1000: PerThousand = Field(
        description="50-64 year olds with a target condition, per 1,000 inhabitants."
    )
    prevalence: dict[str, ProbabilityByAgeBand] = Field(
        description="Share with each condition (copd, diabetes, heart, back) by age band."
    )
    frailty: Frailty
    male_share: Probability
    entry_per_1000_per_year: Number = Field(
        description="New patients (turning 65 or newly diagnosed) per 1,000 in the cohort a year."
    )

    @field_validator("prevalence")
    @classmethod
    def _conditions(cls, v: dict) -> dict:
        return _complete(v, CONDITIONS, "condition")


# ---------------------------------------------------------------------------- episodes
class PostDischarge(Strict):
    excess_episodes: Number = Field(
        description="Expected extra acute episodes after a discharge "
        "(integral of the excess hazard)."
    )
    decay_days: PositiveNumber = Field(description="Time constant of the excess hazard's decay.")
    hr_premature: Number = Field(
        description="Multiplier on excess episodes after a premature discharge."
    )
    hr_stepdown: Number = Field(description="Multiplier after a completed step-down stay.")
    hr_home_followup: Number = Field(description="Multiplier with home-treatment follow-up.")


class Episodes(Strict):
    base_rate_per_year: ByAgeBand = Field(description="Acute episodes a year without conditions.")
    condition_hr: dict[str, Number] = Field(description="Hazard ratio per condition (multiplied).")
    frailty_hr: dict[Literal["medium", "high"], Number]
    post_discharge: PostDischarge

    @field_validator("condition_hr")
    @classmethod
    def _conditions(cls, v: dict) -> dict:
        return _complete(v, CONDITIONS, "condition")


class SettingRisk(Strict):
    """Relative risk of death of an acute episode by where it is treated (hospital = 1).
    Episodes the GP or the responsibility window resolve are never on a fatal course."""

    hospital: PositiveNumber
    home_treatment: PositiveNumber
    stepup: PositiveNumber


class Mortality(Strict):
    background_per_year: ByAgeBand
    frailty_hr: dict[Literal["medium", "high"], Number]
    episode_fatality: ProbabilityByGroup = Field(
        description="Chance that an acute episode kills, wherever it is treated (relative "
        "risk 1); the episode's severity decides it, so it belongs to the episode."
    )
    setting_rr: SettingRisk
    post_episode_excess: Number = Field(
        description="Expected extra deaths after a survived episode (decaying hazard), "
        "times the setting's relative risk."
    )
    post_episode_decay_days: PositiveNumber


class Triage(Strict):
    gp_need_per_100k: PositiveNumber = Field(
        description="GP capacity per 100,000 at which every episode reaches its GP in time."
    )
    gp_resolve: ProbabilityByGroup = Field(description="Episode resolved by the GP, given access.")
    home_treatment_suitable: ProbabilityByGroup
    stepup_suitable: ProbabilityByGroup


# ---------------------------------------------------------------------------- settings
StayDistribution = Literal["exponential", "lognormal", "gamma"]


class Stay(Strict):
    distribution: StayDistribution = "lognormal"
    cv: Number = Field(description="Coefficient of variation (ignored for exponential).")


class BedPressure(Strict):
    """Early discharge under bed pressure. The share of stays cut short rises smoothly with
    the ward's occupancy when the bed is taken (a logistic curve), so that no result
    hinges on occupancy sitting just below a threshold."""

    midpoint: Probability = Field(
        description="Occupancy at which half of the ceiling share of stays is cut short."
    )
    width: PositiveNumber = Field(
        description="Logistic scale of the curve (occupancy); smaller is steeper."
    )
    max_share: Probability = Field(description="Share of stays cut short on a full ward.")
    los_factor: Probability = Field(description="Stay multiplier of a stay cut short.")


class Hospital(Strict):
    beds_per_1000: PerThousand = Field(
        description="Acute medical beds per 1,000 simulated patients."
    )
    beds_override: Overrides = Field(
        default_factory=dict, description="Beds per 1,000 for named health councils."
    )
    los_mean_days: ByGroup
    los: Stay
    pressure: BedPressure
    stepdown: ProbabilityByGroup = Field(description="Discharges that need a step-down bed.")
    home_followup: ProbabilityByGroup = Field(
        description="Discharges with home-treatment follow-up."
    )

    @model_validator(mode="after")
    def _routing_sums(self) -> Hospital:
        for g in GROUPS:
            total = self.stepdown.value[g] + self.home_followup.value[g]
            if total > 1:
                raise ValueError(
                    f"discharge routing for {g}: stepdown + home_followup = {total:g}, must not "
                    "exceed 1"
                )
        return self


class IntermediateCare(Strict):
    beds_per_1000: PerThousand
    beds_override: Overrides = Field(
        default_factory=dict, description="Beds per 1,000 for named municipalities or councils."
    )
    stepup_mean_days: PositiveNumber
    stepdown_mean_days: PositiveNumber
    stay: Stay
    escalation: Probability = Field(description="Stays that end in a hospital admission.")
    user_payment_dkk_per_day: Number
    decline_per_100_dkk: Probability = Field(
        description="Share of offered patients who decline per DKK 100/day of user payment."
    )
    distance_decay_km: PositiveNumber = Field(
        description="A bed in another municipality d km away is accepted with chance "
        "exp(-d / distance_decay_km)."
    )


class HomeTreatment(Strict):
    slots_per_1000: PerThousand = Field(description="Patients a team can treat at once, per 1,000.")
    on_duty_hours: Number = Field(
        description="Hours a day the team takes new patients (24 = 24/7)."
    )
    duty_start_hour: float = Field(8.0, ge=0, lt=24)
    episode_mean_days: PositiveNumber
    followup_mean_days: PositiveNumber
    escalation: Probability = Field(description="Home-treatment episodes ending in admission.")
    distance_decay_km: PositiveNumber = Field(
        description="A team based d km away in another municipality takes a patient with "
        "chance exp(-d / distance_decay_km)."
    )

    @field_validator("on_duty_hours")
    @classmethod
    def _day(cls, v: Number) -> Number:
        if v.value > 24:
            raise ValueError("on_duty_hours.value must be at most 24")
        return v


class ChronicPackages(Strict):
    start: dict[str, dt.date] = Field(
        default_factory=dict,
        description="Date each condition's package starts (none: not offered).",
    )
    capacity_per_1000: PerThousand = Field(description="Enrolled patients per 1,000 eligible.")
    episode_hr: Number = Field(description="Hazard ratio of acute episodes while enrolled.")

    @field_validator("start")
    @classmethod
    def _conditions(cls, v: dict) -> dict:
        unknown = [k for k in v if k not in CONDITIONS]
        if unknown:
            raise ValueError(f"unknown condition {unknown[0]!r}; expected one of {CONDITIONS}")
        return v


MIN_LIST_SIZE = 100.0
MAX_PRACTICE_SD = 3.0


class Practices(Strict):
    """General practices inside each municipality and how much they differ."""

    list_size: PositiveNumber = Field(
        description="Inhabitants per general practice (clinic); sets practices per municipality."
    )
    followup_sd: Number = Field(
        description="Standard deviation of the log practice effect (mean 1) on the "
        "post-discharge excess episodes; 0 = all practices alike."
    )

    @model_validator(mode="after")
    def _sizes(self) -> Practices:
        if self.list_size.value < MIN_LIST_SIZE:
            raise ValueError(
                f"list_size must be at least {MIN_LIST_SIZE:g} inhabitants per practice "
                f"(got {self.list_size.value:g}): smaller lists make more practices than patients"
            )
        if self.followup_sd.value > MAX_PRACTICE_SD:
            raise ValueError(
                f"followup_sd must be at most {MAX_PRACTICE_SD:g} (got {self.followup_sd.value:g})"
                ": a log-sd beyond that puts nearly all follow-up failure in a few practices"
            )
        return self


class GeneralPractice(Strict):
    capacity_factor: Number = Field(description="Multiplier on each area's GP capacity.")
    packages: ChronicPackages
    practices: Practices | None = Field(
        None,
        description="General practices; absent: one practice per municipality, all alike "
        "(the model before practices, so older run manifests still replay).",
    )


class Responsibility(Strict):
    window_hours: Number = Field(description="Hospital keeps treatment responsibility this long.")
    coverage: ProbabilityByGroup = Field(description="Discharged patients the window covers.")
    resolve: Probability = Field(
        description="Episodes inside the window handled without admission by the hospital team."
    )


class Settings(Strict):
    hospital: Hospital
    sop: IntermediateCare
    home_treatment: HomeTreatment
    gp: GeneralPractice
    responsibility: Responsibility


# ------------------------------------------------------------------------------- costs
class Costs(Strict):
    hospital_bed_day_dkk: Number
    sop_bed_day_dkk: Number = Field(
        description="Activity cost of an occupied intermediate-care bed-day (on top of the place)."
    )
    home_treatment_day_dkk: Number = Field(
        description="Activity cost of an occupied home-treatment team day (on top of the place)."
    )
    sop_bed_place_day_dkk: Number = Field(
        description="Cost of an intermediate-care bed provided, per day, occupied or not."
    )
    home_treatment_place_day_dkk: Number = Field(
        description="Cost of a home-treatment team place on duty round the clock, per day, "
        "used or not; a team on duty part of the day costs on-duty hours / 24 of it."
    )
    package_patient_day_dkk: Number = Field(
        description="Cost of a chronic-care package per enrolled patient and day."
    )
    gp_contact_dkk: Number
    kmf_per_admission_dkk: Number = Field(description="Municipal co-financing per admission.")
    delayed_discharge_day_dkk: Number = Field(
        description="Municipal payment per delayed day, for the first days of a wait."
    )
    delayed_discharge_late_day_dkk: Number = Field(
        description="Municipal payment per delayed day after the first days of a wait."
    )
    delayed_discharge_step_days: PositiveNumber = Field(
        description="Days of a wait paid at the first rate before the late rate applies."
    )


# -------------------------------------------------------------------------- simulation
class Simulation(Strict):
    start: dt.date = Field(description="First reported day.")
    end: dt.date = Field(description="Day after the last reported day.")
    warmup_days: int = Field(
        ge=0, le=MAX_DAYS, description="Simulated before `start`, not reported."
    )
    period: Literal["month", "quarter", "year"] = "quarter"
    readmission_followup_days: int = Field(
        30,
        ge=0,
        le=MAX_DAYS,
        description="Simulated after `end` so late discharges get their 30 days.",
    )
    seed: int = Field(ge=0, le=2**63 - 1)
    replications: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Simulation:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        if self.start.day != 1:
            raise ValueError(f"start ({self.start}) must be the first day of a month")
        return self


# ------------------------------------------------------------------------------ regime
Pooling = Literal["none", "council", "region"]
#: Who runs intermediate-care beds and home-treatment teams (and pays for them).
Operator = Literal["municipality", "council"]


class Levers(Strict):
    """The reform's levers (docs/model.md section 8): true = the reform's rule from reform_date."""

    regional_beds: bool = Field(
        False,
        description="Health councils run intermediate-care beds and teams, "
        "on one budget with the hospital.",
    )
    no_user_payment: bool = Field(False, description="No user payment for intermediate-care stays.")
    responsibility_96h: bool = Field(
        False, description="96-hour post-discharge responsibility for a wider group."
    )
    teams_24_7: bool = Field(
        False, description="Regional home-treatment teams on duty around the clock."
    )
    chronic_packages: bool = Field(
        False, description="Chronic-care packages in general practice, phased in."
    )
    no_kmf: bool = Field(False, description="Municipal co-financing (KMF) abolished.")
    investment_engine: bool = Field(False, description="Money earmarked for care near home.")
    free_choice: bool = Field(
        False, description="Free choice of intermediate-care beds across councils."
    )


class ReformValues(Strict):
    """What each lever sets when it is on; set a value to today's to neutralise a lever."""

    bed_operator: Operator = Field(
        "council",
        description="regional_beds: who runs (decides and pays for) intermediate-care beds and "
        "home-treatment teams; today's value is municipality.",
    )
    bed_pooling: Pooling = Field(
        "council",
        description="regional_beds: beds and teams shared across the council's municipalities; "
        "today's value is none.",
    )
    user_payment_dkk_per_day: Number
    window_hours: Number
    coverage: ProbabilityByGroup
    team_duty_hours: Number
    team_slots_per_1000: PerThousand
    packages: ChronicPackages
    kmf_per_admission_dkk: Number
    investment_dkk_per_1000_year: Number = Field(
        description="Investment-engine money per 1,000 simulated patients a year, "
        "for beds and teams."
    )
    free_choice_pooling: Pooling = Field(
        "region", description="free_choice: which beds a patient may choose."
    )


class Regime(Strict):
    reform_date: dt.date = Field(description="Levers that are on take effect from this date.")
    levers: Levers = Field(default_factory=Levers)
    reform: ReformValues


# ---------------------------------------------------------------------- organisations
class IncentiveRule(Strict):
    """The marginal rule (docs/decision-rules.md): capacity moves toward the count at which
    one more bed (place) would save less than it costs, at most `step_per_1000` a period."""

    step_per_1000: PerThousand = Field(
        description="Largest change in beds (and team places) per 1,000 per decision; "
        "at least one bed or place."
    )
    min_beds_per_1000: PerThousand
    max_beds_per_1000: PerThousand
    min_slots_per_1000: PerThousand = Field(description="Floor of home-treatment places per 1,000.")
    max_slots_per_1000: PerThousand = Field(
        description="Ceiling of home-treatment places per 1,000."
    )

    @model_validator(mode="after")
    def _ordered(self) -> IncentiveRule:
        for what in ("beds", "slots"):
            low = getattr(self, f"min_{what}_per_1000").value
            high = getattr(self, f"max_{what}_per_1000").value
            if low > high:
                raise ValueError(f"min_{what}_per_1000 ({low:g}) exceeds max ({high:g})")
        return self


class BudgetRule(Strict):
    budget_dkk_per_1000_year: Number = Field(
        description="The decider's budget for beds and teams per 1,000 simulated patients a year."
    )
    team_share: Probability = Field(
        description="Share of the budget spent on home-treatment teams."
    )


class Organisations(Strict):
    decision_rule: str = Field(
        "fixed",
        description="fixed, budget, incentive, or a Python callable 'package.module:function'.",
    )
    demand_smoothing: Probability = Field(
        description="Weight of the newest period in each decider's exponentially smoothed "
        "estimate of its demand (1: last period only)."
    )
    incentive: IncentiveRule
    budget: BudgetRule

    @field_validator("decision_rule")
    @classmethod
    def _rule(cls, v: str) -> str:
        if v in ("fixed", "budget", "incentive"):
            return v
        if ":" not in v or not all(v.split(":", 1)):
            raise ValueError(
                f"unknown decision rule {v!r}; expected fixed, budget, incentive or "
                "'module:function'"
            )
        return v


class Scenario(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    geography: Geography
    population: Population
    episodes: Episodes
    mortality: Mortality
    triage: Triage
    settings: Settings
    costs: Costs
    regime: Regime
    organisations: Organisations
    simulation: Simulation
