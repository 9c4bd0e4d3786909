"""The registry of measures: every quantity the model counts or derives, with its unit and
meaning. The kernel's counter columns, the KPI table, the summary, the cross-validation
list, the calibration targets and the figures all read it, so a measure is defined once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["counter", "rate", "cost", "key"]


@dataclass(frozen=True)
class Measure:
    name: str
    label: str
    unit: str
    description: str
    kind: Kind = "counter"
    #: compared between the numba kernel and the SimPy reference
    cross_validated: bool = True
    #: a rate's (numerator, denominator) counters; null where the denominator is zero
    ratio: tuple[str, str] | None = None


def _counter(
    name: str, label: str, unit: str, description: str, cross_validated: bool = True
) -> Measure:
    return Measure(name, label, unit, description, "counter", cross_validated)


#: What both engines count per period × municipality × patient group, in this column order.
COUNTER_MEASURES: tuple[Measure, ...] = (
    _counter("episodes", "Acute episodes", "count", "Acute deteriorations that start a pathway."),
    _counter(
        "window_resolved",
        "Resolved in the responsibility window",
        "count",
        "Episodes resolved by the discharging hospital's responsibility window.",
    ),
    _counter(
        "gp_contacts", "GP contacts (acute)", "count", "Acute contacts with general practice."
    ),
    _counter(
        "gp_resolved", "Resolved by the GP", "count", "Episodes resolved in general practice."
    ),
    _counter(
        "home_treatment_episodes",
        "Home-treatment episodes",
        "count",
        "Episodes treated at home by a home-treatment team.",
    ),
    _counter(
        "home_followups",
        "Home-treatment follow-ups",
        "count",
        "Discharges followed up by a home-treatment team.",
    ),
    _counter(
        "ht_escalations",
        "Home-treatment escalations",
        "count",
        "Home-treatment episodes that end in a hospital admission.",
    ),
    _counter(
        "stepup_requests",
        "Step-up requests",
        "count",
        "Episodes referred to an intermediate-care bed instead of hospital.",
    ),
    _counter(
        "stepup_blocked", "Step-ups blocked", "count", "Step-up requests that found no free bed."
    ),
    _counter(
        "ht_blocked",
        "Home treatment blocked",
        "count",
        "Episodes suitable for home treatment that found no free team place.",
    ),
    _counter(
        "followup_blocked",
        "Follow-ups blocked",
        "count",
        "Discharges that needed home-treatment follow-up and found no free team place.",
    ),
    _counter(
        "sop_admissions",
        "Intermediate-care admissions",
        "count",
        "Admissions to an intermediate-care bed (step-up and step-down).",
    ),
    _counter(
        "sop_stepdowns",
        "Step-down admissions",
        "count",
        "Intermediate-care admissions on discharge from hospital.",
    ),
    _counter(
        "sop_escalations",
        "Intermediate-care escalations",
        "count",
        "Intermediate-care stays that end in a hospital admission.",
        cross_validated=False,
    ),
    _counter("admissions", "Acute admissions", "count", "Acute hospital admissions."),
    _counter("discharges", "Discharges", "count", "Discharges alive from hospital."),
    _counter(
        "readmissions_30d",
        "30-day readmissions",
        "count",
        "Admissions within 30 days of a discharge, counted in the index discharge's period.",
    ),
    _counter("deaths", "Deaths", "count", "Deaths anywhere."),
    _counter("deaths_in_hospital", "Deaths in hospital", "count", "Deaths during a hospital stay."),
    _counter(
        "deaths_episode",
        "Deaths in an acute episode",
        "count",
        "Deaths from the fatal course of an acute episode, wherever it was treated.",
    ),
    _counter(
        "deaths_episode_outside_hospital",
        "Episode deaths outside hospital",
        "count",
        "Of the episode deaths, those of episodes treated by a home-treatment team or in a "
        "step-up bed.",
    ),
    _counter(
        "deaths_post_episode",
        "Deaths after an episode",
        "count",
        "Deaths from the decaying excess hazard of the weeks after a survived episode; the "
        "rest of `deaths` is background mortality.",
    ),
    _counter(
        "admission_deaths_30d",
        "Deaths within 30 days of admission",
        "count",
        "Deaths within 30 days of an acute admission, counted in the admission's period.",
    ),
    _counter(
        "premature_discharges",
        "Premature discharges",
        "count",
        "Discharges whose stay was shortened by bed pressure.",
    ),
    _counter(
        "delayed_discharges",
        "Delayed discharges",
        "count",
        "Patients medically ready who waited in hospital for an intermediate-care bed.",
    ),
    _counter("hospital_bed_days", "Hospital bed-days", "bed-days", "Occupied hospital bed-days."),
    _counter(
        "delayed_discharge_days",
        "Delayed-discharge bed-days",
        "bed-days",
        "Hospital bed-days of patients medically ready and waiting for a bed elsewhere.",
    ),
    _counter(
        "delayed_discharge_days_late",
        "Delayed-discharge bed-days from day 3",
        "bed-days",
        "The part of delayed-discharge bed-days after the first days of each wait, which the "
        "municipality pays at the higher rate (Health Act §238).",
    ),
    _counter(
        "sop_bed_days",
        "Intermediate-care bed-days",
        "bed-days",
        "Occupied intermediate-care bed-days.",
    ),
    _counter(
        "sop_stepup_bed_days",
        "Intermediate-care bed-days, step-up",
        "bed-days",
        "Intermediate-care bed-days of stays that replaced a hospital admission (step-up).",
    ),
    _counter(
        "sop_placements_away",
        "Intermediate-care stays in another municipality",
        "count",
        "Intermediate-care admissions to a bed outside the patient's own municipality.",
    ),
    _counter(
        "sop_travel_km",
        "Distance to intermediate-care beds (km, summed)",
        "km",
        "Km from the patient's municipal seat to the bed's, summed over admissions.",
    ),
    _counter(
        "ht_placements_away",
        "Home treatment by another municipality's team",
        "count",
        "Home-treatment stays by a team based in another municipality.",
    ),
    _counter(
        "ht_travel_km",
        "Distance of visiting teams (km, summed)",
        "km",
        "Km from the team's municipal seat to the patient's, summed over stays.",
    ),
    _counter(
        "ht_days", "Home-treatment days", "place-days", "Occupied home-treatment team place-days."
    ),
    _counter(
        "sop_wait_days",
        "Step-down wait (days, summed)",
        "days",
        "Days from medically ready to an intermediate-care bed, summed over placements.",
    ),
    _counter(
        "sop_waits",
        "Step-down placements",
        "count",
        "Step-down placements (the denominator of the mean wait).",
        cross_validated=False,
    ),
    _counter(
        "admission_wait_days",
        "Admission wait (days, summed)",
        "days",
        "Days patients waited for a hospital bed, summed.",
    ),
    _counter("entries", "Entrants", "count", "Patients entering the cohort (turning 65)."),
    _counter("person_days", "Person-days alive", "person-days", "Days lived by the cohort."),
    _counter(
        "package_days",
        "Chronic-package patient-days",
        "person-days",
        "Days lived while enrolled in a chronic-care package (paid per enrolled patient).",
        cross_validated=False,
    ),
    # capacity provided, from the capacities in force (sim/flow/provided.py), not the kernel
    *(
        _counter(name, label, "place-days", description, cross_validated=False)
        for name, label, description in (
            (
                "sop_bed_days_provided",
                "Intermediate-care bed-days provided",
                "Intermediate-care beds in force × days, shared out to patient groups by "
                "person-days (paid per place provided, occupied or not).",
            ),
            (
                "ht_place_days_provided",
                "Home-treatment place-days provided",
                "Home-treatment team places in force × days, shared out like beds provided.",
            ),
            (
                "ht_duty_place_days",
                "Home-treatment place-days on duty",
                "Team places in force × days × on-duty hours / 24: what the team's staff "
                "cost (24/7 teams count in full, part-day teams in part).",
            ),
        )
    ),
)

#: Indicators derived from the counters of a KPI row.
RATE_MEASURES: tuple[Measure, ...] = (
    Measure(
        "readmission_rate_30d",
        "30-day readmission rate",
        "share of discharges",
        "readmissions_30d / discharges.",
        "rate",
        ratio=("readmissions_30d", "discharges"),
    ),
    Measure(
        "mean_wait_sop_days",
        "Mean wait for a step-down bed (days)",
        "days",
        "sop_wait_days / sop_waits.",
        "rate",
        ratio=("sop_wait_days", "sop_waits"),
    ),
    Measure(
        "mean_stay_days",
        "Mean hospital stay (days)",
        "days",
        "hospital_bed_days / discharges.",
        "rate",
        ratio=("hospital_bed_days", "discharges"),
    ),
    Measure(
        "sop_mean_stay_days",
        "Intermediate-care stay (days)",
        "days",
        "sop_bed_days / sop_admissions.",
        "rate",
        ratio=("sop_bed_days", "sop_admissions"),
    ),
    Measure(
        "mortality_30d_after_admission",
        "30-day mortality after admission",
        "share of admissions",
        "admission_deaths_30d / admissions.",
        "rate",
        ratio=("admission_deaths_30d", "admissions"),
    ),
    Measure(
        "sop_occupancy",
        "Occupancy of intermediate-care beds",
        "share of bed-days provided",
        "sop_bed_days / sop_bed_days_provided. Beds count where they stand and bed-days where "
        "the patient lives, and provided bed-days are shared to groups by person-days: read it "
        "for all groups of an area whose patients use its own beds (national, or any area "
        "without pooling).",
        "rate",
        ratio=("sop_bed_days", "sop_bed_days_provided"),
    ),
    Measure(
        "sop_stepup_occupancy",
        "Intermediate-care beds used for step-up",
        "share of bed-days provided",
        "sop_stepup_bed_days / sop_bed_days_provided: the beds that replace an admission, as "
        "published evaluations of municipal acute beds measure them (read as sop_occupancy).",
        "rate",
        ratio=("sop_stepup_bed_days", "sop_bed_days_provided"),
    ),
    Measure(
        "sop_stepup_admissions",
        "Intermediate-care admissions, step-up",
        "count",
        "sop_admissions - sop_stepdowns: stays that replaced a hospital admission.",
        "rate",
    ),
    Measure("population", "Mean population", "persons", "person_days / period length.", "rate"),
    Measure(
        "admissions_per_1000_year",
        "Acute admissions per 1,000 a year",
        "per 1,000 person-years",
        "admissions / person_days × 1,000 × 365.25.",
        "rate",
    ),
)

#: Net cost per payer (what it pays minus what it receives) and the resource cost.
COST_MEASURES: tuple[Measure, ...] = tuple(
    Measure(f"cost_{payer}_dkk", f"Cost, {label} (DKK m)", "DKK", description, "cost")
    for payer, label, description in (
        ("region", "regions", "Net cost of the regions."),
        ("municipality", "municipalities", "Net cost of the municipalities."),
        ("citizen", "citizens", "User payments by citizens."),
        ("state", "state grants", "State grants (the investment engine)."),
        (
            "total",
            "total",
            "Resource cost, whoever pays: activity, capacity provided, chronic packages and "
            "what the investment engine buys (docs/model.md section 5).",
        ),
    )
)

#: What a calibration target (configs/denmark/targets.yaml) can measure, in words.
TARGET_LABELS: dict[str, str] = {
    "readmission_rate": "30-day readmission rate",
    "mean_stay_days": "mean hospital stay (days)",
    "hospital_occupancy": "occupancy of hospital beds",
    "admissions_per_1000_year": "acute admissions per 1,000 a year",
    "deaths_per_1000_year": "deaths per 1,000 a year",
    "delayed_discharge_days_per_year": "delayed-discharge bed-days a year",
    "sop_mean_stay_days": "intermediate-care stay (days)",
    "mortality_30d_after_admission": "deaths within 30 days of an admission, per admission",
    "practice_readmission_p10": "30-day readmission of the 65+, best decile of GP practices",
    "practice_readmission_p90": "30-day readmission of the 65+, worst decile of GP practices",
}

#: The key and bookkeeping columns of kpis.parquet (not measures: what a row is about).
KEY_FIELDS: tuple[Measure, ...] = tuple(
    Measure(name, label, unit, description, "key", cross_validated=False)
    for name, label, unit, description in (
        ("scenario", "Scenario", "name", "The scenario's name (its config's `name:`)."),
        (
            "draw",
            "Parameter draw",
            "index",
            "Parameter draw of a probabilistic sensitivity analysis; 0 = the configured values.",
        ),
        (
            "replication",
            "Replication",
            "index",
            "Replication number; scenarios share random numbers replication by replication.",
        ),
        ("period", "Period", "label", "Reporting period, e.g. 2026Q1 (quarter), 2026-01, 2026."),
        ("period_start", "Period start", "date", "First day of the period."),
        ("period_end", "Period end", "date", "Last day of the period (inclusive)."),
        ("period_days", "Period length", "days", "Days in the period."),
        (
            "area_level",
            "Area level",
            "national | region | region_reform | council | municipality",
            "Which geography `area` belongs to. Every level sums the same patients: filter "
            "one level before summing over rows.",
        ),
        (
            "area",
            "Area",
            "name",
            "Denmark, a region, a reform region, a council or a municipality.",
        ),
        (
            "group",
            "Patient group",
            "all | copd | diabetes | heart | back | multimorbid | other",
            "Patient group; `all` is the sum of the groups (filter it, or the groups, not both).",
        ),
    )
)

#: The columns of agents.parquet (the Mesa organisations, one row per agent × period).
AGENT_FIELDS: tuple[Measure, ...] = tuple(
    Measure(name, label, unit, description, "key", cross_validated=False)
    for name, label, unit, description in (
        ("scenario", "Scenario", "name", "The scenario's name."),
        ("draw", "Parameter draw", "index", "Parameter draw; 0 = the configured values."),
        ("replication", "Replication", "index", "Replication number."),
        (
            "period",
            "Period",
            "label",
            "Planning period: warm-up periods first, the reported periods in time order, "
            "followup last.",
        ),
        ("agent_type", "Agent type", "name", "Kind of organisation (region, municipality, ...)."),
        ("agent", "Agent", "name", "The organisation's name."),
        ("decides", "Decides", "boolean", "Whether the agent sets capacity in this regime."),
        (
            "sop_beds_per_1000",
            "Intermediate-care beds per 1,000",
            "beds per 1,000 patients",
            "Intermediate-care beds the agent runs, per 1,000 simulated patients.",
        ),
        (
            "ht_slots_per_1000",
            "Home-treatment places per 1,000",
            "places per 1,000 patients",
            "Home-treatment team places, per 1,000 simulated patients.",
        ),
        ("net_cost_dkk", "Net cost", "DKK", "The agent's net cost in the period."),
        (
            "shortage_cost_dkk",
            "Shortage cost",
            "DKK",
            "Cost the agent bore from too little capacity (delayed discharges, blocked step-ups).",
        ),
        (
            "decision",
            "Decision",
            "invest | cut | keep",
            "What the decision rule did to capacity after observing the period; null when the "
            "agent made no decision.",
        ),
    )
)

MEASURES: dict[str, Measure] = {
    m.name: m for m in (*COUNTER_MEASURES, *RATE_MEASURES, *COST_MEASURES)
}
COUNTERS: tuple[str, ...] = tuple(m.name for m in COUNTER_MEASURES)
CROSS_VALIDATED: tuple[str, ...] = tuple(m.name for m in COUNTER_MEASURES if m.cross_validated)
COSTS: tuple[str, ...] = tuple(m.name for m in COST_MEASURES)


def label(name: str) -> str:
    """A measure's human label, or the name itself for anything unregistered."""
    return MEASURES[name].label if name in MEASURES else name


# ------------------------------------------------------------ practices and equity
def _field(name: str, label: str, unit: str, description: str) -> Measure:
    return Measure(name, label, unit, description, "key", cross_validated=False)


#: Columns of practices.parquet: one row per scenario × draw × replication × reported
#: period × general practice; counters for the practice's patients aged 65+.
PRACTICE_FIELDS: tuple[Measure, ...] = (
    _field("scenario", "Scenario", "name", "The scenario's name."),
    _field("draw", "Parameter draw", "index", "Parameter draw; 0 = the configured values."),
    _field("replication", "Replication", "index", "Replication number."),
    _field("period", "Period", "label", "Reporting period (as in kpis.parquet)."),
    _field("period_days", "Days in period", "days", "Length of the period."),
    _field("practice", "Practice", "id", "General practice number, 0.. in municipality order."),
    _field("municipality", "Municipality", "name", "The practice's municipality."),
    _field("council", "Health council", "name", "The municipality's health council."),
    _field(
        "practice_effect",
        "Practice effect",
        "multiplier",
        "The practice's drawn multiplier on its patients' post-discharge excess episodes "
        "(log-normal, mean 1; settings.gp.practices.followup_sd).",
    ),
    _field(
        "patients", "Patients 65+", "persons", "Mean patients aged 65+: person_days / period_days."
    ),
    _field(
        "person_days", "Person-days 65+", "days", "Days lived aged 65+ by the practice's patients."
    ),
    _field("admissions", "Admissions 65+", "count", "Acute admissions of patients aged 65+."),
    _field("discharges", "Discharges 65+", "count", "Discharges of patients aged 65+."),
    _field(
        "readmissions_30d",
        "30-day readmissions 65+",
        "count",
        "Acute readmissions within 30 days, counted on the index discharge (aged 65+ then).",
    ),
    _field(
        "delayed_discharge_days",
        "Delayed-discharge days 65+",
        "days",
        "Bed-days waiting for an intermediate-care bed, patients aged 65+.",
    ),
)

#: Columns of equity.parquet (sim/outputs/equity.py).
EQUITY_FIELDS: tuple[Measure, ...] = (
    _field(
        "kind",
        "Kind",
        "name",
        "`spread`: a statistic across the areas of a level, per scenario; `difference`: "
        "the paired reform − baseline difference of one council; `councils`: how many "
        "councils are better or worse off.",
    ),
    _field("scenario", "Scenario", "name", "The scenario (for differences: the compared one)."),
    _field("baseline", "Baseline", "name", "For differences: the scenario compared with."),
    _field("draw", "Parameter draw", "index", "Parameter draw; 0 = the configured values."),
    _field("area_level", "Area level", "name", "municipality, council or practice."),
    _field("area", "Area", "name", "The council of a difference row; `all` otherwise."),
    _field(
        "measure",
        "Measure",
        "name",
        "readmission_rate_30d, admissions_per_1000_year or delayed_days_per_1000_year, over "
        "the whole reporting window (practices: patients aged 65+).",
    ),
    _field(
        "statistic",
        "Statistic",
        "name",
        "p10, p50, p90 across areas; theil (Theil T index of admissions per person, "
        "weighted by person-years); difference; better, worse (councils whose 95 % CI lies "
        "wholly below or above 0; lower is better for every measure).",
    ),
    _field("value", "Value", "as measure", "Mean over replications."),
    _field("ci_low", "95% CI low", "as measure", "Student-t interval over replications."),
    _field("ci_high", "95% CI high", "as measure", "Student-t interval over replications."),
    _field("replications", "Replications", "count", "Replications the value is taken over."),
)
