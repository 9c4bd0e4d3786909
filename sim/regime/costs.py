"""Who pays: resource costs and transfers between payers, per KPI row, in one place.

Every flow is linear in one counter: `counter × price`, paid by one payer to one payee,
so the money paid equals the money received by construction; a payer's net cost is what
it pays minus what it receives. Resources are paid to `provider`, outside the payers:
activity (hospital bed-days, GP contacts, occupied intermediate-care and team days),
capacity per place provided, used or not (intermediate-care bed-days provided, team
place-days on duty: `sim.flow.provided`), chronic-care packages per enrolled patient-day,
and what the investment engine buys. Which flows exist depends on the regime's levers in
the row's period (docs/model.md section 5, the "money" row).

`cost_total_dkk` is the sum of the flows to `provider`: every resource the scenario uses,
whoever pays. Transfers between payers (user payments, KMF, delayed-discharge payments,
the state's investment-engine grant) are not in it, so nothing is counted twice; the
grant enters the total once, as the region's spending of it on care near home that the
model does not simulate — except under the `budget` decision rule, where the regions hand
it to the operators of beds and teams (a transfer to the municipalities when they run them)
and it is already in their place-days.

The organisations weigh their decisions with the same flows (`cost_to`: a delayed day, an
admission, one more bed or team place for a day), so the money and the incentives cannot
disagree.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from sim.config.schema import Scenario
from sim.constants import DAYS_PER_YEAR
from sim.flow.inputs import Period
from sim.regime.levers import bed_operator, lever_on

PAYERS: tuple[str, ...] = ("region", "municipality", "citizen", "state")


@dataclass(frozen=True)
class Flow:
    name: str
    payer: str
    payee: str
    counter: str
    price: float  # DKK per unit of the counter

    @property
    def amount(self) -> pl.Expr:
        return pl.col(self.counter) * self.price


def owner(scenario: Scenario, period: Period) -> str:
    """The payer that runs (and pays for) intermediate-care beds and home-treatment teams:
    the region once `regional_beds` acts with the health council as operator
    (`regime.reform.bed_operator`), else the municipality."""
    return "region" if bed_operator(scenario, period.first_date) == "council" else "municipality"


def money_flows(scenario: Scenario, period: Period) -> list[Flow]:
    """The flows of one period: ownership of beds and teams decides who pays for them."""
    c, st, rv = scenario.costs, scenario.settings, scenario.regime.reform
    on = lambda lever: lever_on(scenario, lever, period.first_date)  # noqa: E731
    runs = owner(scenario, period)
    payment = (
        rv.user_payment_dkk_per_day.value
        if on("no_user_payment")
        else st.sop.user_payment_dkk_per_day.value
    )
    kmf = rv.kmf_per_admission_dkk.value if on("no_kmf") else c.kmf_per_admission_dkk.value
    flows = [
        Flow(
            "hospital_bed_days",
            "region",
            "provider",
            "hospital_bed_days",
            c.hospital_bed_day_dkk.value,
        ),
        Flow("gp_contacts", "region", "provider", "gp_contacts", c.gp_contact_dkk.value),
        Flow("sop_bed_days", runs, "provider", "sop_bed_days", c.sop_bed_day_dkk.value),
        Flow("home_treatment_days", runs, "provider", "ht_days", c.home_treatment_day_dkk.value),
        Flow(
            "sop_beds_provided",
            runs,
            "provider",
            "sop_bed_days_provided",
            c.sop_bed_place_day_dkk.value,
        ),
        Flow(
            "team_places_on_duty",
            runs,
            "provider",
            "ht_duty_place_days",
            c.home_treatment_place_day_dkk.value,
        ),
        Flow("packages", "region", "provider", "package_days", c.package_patient_day_dkk.value),
        Flow("sop_user_payment", "citizen", runs, "sop_bed_days", payment),
        Flow("kmf", "municipality", "region", "admissions", kmf),
    ]
    if runs == "municipality":  # a region does not pay itself for its own delayed patients
        early, late = c.delayed_discharge_day_dkk.value, c.delayed_discharge_late_day_dkk.value
        flows += [
            Flow(
                "delayed_discharge_payment",
                "municipality",
                "region",
                "delayed_discharge_days",
                early,
            ),
            Flow(  # from day 3 of a wait the day costs `late`: the difference on top
                "delayed_discharge_payment_late",
                "municipality",
                "region",
                "delayed_discharge_days_late",
                late - early,
            ),
        ]
    if on("investment_engine"):
        per_day = rv.investment_dkk_per_1000_year.value / 1000.0 / DAYS_PER_YEAR
        flows.append(Flow("investment_engine", "state", "region", "person_days", per_day))
        if scenario.organisations.decision_rule != "budget":
            flows.append(
                Flow("investment_engine_spending", "region", "provider", "person_days", per_day)
            )
        elif runs == "municipality":  # the regions pass it on to the operators' budgets
            flows.append(
                Flow("investment_engine_to_operators", "region", runs, "person_days", per_day)
            )
    return flows


def cost_to(flows: Sequence[Flow], payer: str, activity: Mapping[str, float]) -> float:
    """What `activity` (units of each counter, e.g. one delayed day) costs `payer`, net of
    what it receives, under these flows; the decision rules price their options with it."""
    total = 0.0
    for f in flows:
        units = activity.get(f.counter, 0.0)
        if f.payer == payer:
            total += units * f.price
        if f.payee == payer:
            total -= units * f.price
    return total


def net_cost_columns(flows: Sequence[Flow]) -> list[pl.Expr]:
    """Net cost per payer (`cost_<payer>_dkk`) and the resource cost (`cost_total_dkk`, the
    flows paid to `provider`)."""
    columns = []
    for payer in PAYERS:
        terms = [f.amount for f in flows if f.payer == payer]
        terms += [-f.amount for f in flows if f.payee == payer]
        columns.append(_sum(terms).alias(f"cost_{payer}_dkk"))
    total = _sum([f.amount for f in flows if f.payee == "provider"])
    return [*columns, total.alias("cost_total_dkk")]


def _sum(terms: Sequence[pl.Expr]) -> pl.Expr:
    """Left to right, so that a flow of zero appended to a regime's flows (a lever at
    today's value) leaves every sum bit for bit as it was (tests/test_null_reform.py)."""
    return functools.reduce(operator.add, terms) if terms else pl.lit(0.0)


def add_costs(df: pl.DataFrame, scenario: Scenario, periods: Sequence[Period]) -> pl.DataFrame:
    """The cost columns of every KPI row, period by period (levers act from a date)."""
    parts = []
    for period in periods:
        rows = df.filter(pl.col("period") == period.label)
        if rows.height:
            parts.append(rows.with_columns(*net_cost_columns(money_flows(scenario, period))))
    return pl.concat(parts)
