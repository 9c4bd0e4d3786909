"""Who pays: resource costs and transfers between payers, per KPI row.

Each flow has one payer and one payee, so the money paid equals the money received by
construction; a payer's net cost is what it pays minus what it receives. Resource use
(bed-days, visits) is paid to `provider`, outside the payers. Which flows exist depends
on the regime's levers in the row's period (docs/model.md section 5, the "money" row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from sim.config.schema import Scenario
from sim.flow.inputs import Period
from sim.regime.levers import lever_on

PAYERS: tuple[str, ...] = ("region", "municipality", "citizen", "state")


@dataclass(frozen=True)
class Flow:
    name: str
    payer: str
    payee: str
    amount: pl.Expr


def money_flows(scenario: Scenario, period: Period) -> list[Flow]:
    """The flows of one period: ownership of beds and teams decides who pays for them."""
    c, st, rv = scenario.costs, scenario.settings, scenario.regime.reform
    on = lambda lever: lever_on(scenario, lever, period.first_date)  # noqa: E731
    owner = "region" if on("regional_beds") else "municipality"
    payment = (
        rv.user_payment_dkk_per_day.value
        if on("no_user_payment")
        else st.sop.user_payment_dkk_per_day.value
    )
    kmf = rv.kmf_per_admission_dkk.value if on("no_kmf") else c.kmf_per_admission_dkk.value
    col = pl.col
    flows = [
        Flow(
            "hospital_bed_days",
            "region",
            "provider",
            col("hospital_bed_days") * c.hospital_bed_day_dkk.value,
        ),
        Flow("gp_contacts", "region", "provider", col("gp_contacts") * c.gp_contact_dkk.value),
        Flow("sop_bed_days", owner, "provider", col("sop_bed_days") * c.sop_bed_day_dkk.value),
        Flow(
            "home_treatment_days",
            owner,
            "provider",
            col("ht_days") * c.home_treatment_day_dkk.value,
        ),
        Flow("sop_user_payment", "citizen", owner, col("sop_bed_days") * payment),
        Flow("kmf", "municipality", "region", col("admissions") * kmf),
    ]
    if owner == "municipality":  # a region does not pay itself for its own delayed patients
        flows.append(
            Flow(
                "delayed_discharge_payment",
                "municipality",
                "region",
                col("delayed_discharge_days") * c.delayed_discharge_day_dkk.value,
            )
        )
    if on("investment_engine"):
        per_day = rv.investment_dkk_per_1000_year.value / 1000.0 / 365.25
        flows.append(Flow("investment_engine", "state", "region", col("person_days") * per_day))
    return flows


def add_costs(df: pl.DataFrame, scenario: Scenario, periods: Sequence[Period]) -> pl.DataFrame:
    """Net cost per payer (cost_region_dkk, ...) and the resource cost (cost_total_dkk)."""
    parts = []
    for period in periods:
        rows = df.filter(pl.col("period") == period.label)
        if rows.height == 0:
            continue
        flows = money_flows(scenario, period)
        columns = []
        for payer in PAYERS:
            terms = [f.amount for f in flows if f.payer == payer] + [
                -f.amount for f in flows if f.payee == payer
            ]
            columns.append(pl.sum_horizontal(terms or [pl.lit(0.0)]).alias(f"cost_{payer}_dkk"))
        total = pl.sum_horizontal([f.amount for f in flows if f.payee == "provider"]).alias(
            "cost_total_dkk"
        )
        parts.append(rows.with_columns(*columns, total))
    return pl.concat(parts)
