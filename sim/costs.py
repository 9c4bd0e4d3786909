"""Who pays: resource costs and transfers between payers, per KPI row.

Each flow has one payer and one payee, so the money paid equals the money received by
construction; a payer's net cost is what it pays minus what it receives. Resource use
(bed-days, visits) is "paid" to providers outside the three payers (`provider`).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from sim.config.schema import Scenario

PAYERS: tuple[str, ...] = ("region", "municipality", "citizen")


@dataclass(frozen=True)
class Flow:
    name: str
    payer: str
    payee: str
    amount: pl.Expr


def money_flows(scenario: Scenario) -> list[Flow]:
    """The flows of a scenario's regime; ownership of beds and teams decides who pays them."""
    c, st = scenario.costs, scenario.settings
    sop_owner = "municipality" if st.sop.owner == "municipality" else "region"
    ht_owner = "municipality" if st.home_treatment.owner == "municipality" else "region"
    col = pl.col
    return [
        Flow("hospital_bed_days", "region", "provider", col("hospital_bed_days") * c.hospital_bed_day_dkk.value),
        Flow("gp_contacts", "region", "provider", col("gp_contacts") * c.gp_contact_dkk.value),
        Flow("sop_bed_days", sop_owner, "provider", col("sop_bed_days") * c.sop_bed_day_dkk.value),
        Flow("home_treatment_days", ht_owner, "provider", col("ht_days") * c.home_treatment_day_dkk.value),
        Flow("sop_user_payment", "citizen", sop_owner, col("sop_bed_days") * st.sop.user_payment_dkk_per_day.value),
        Flow("kmf", "municipality", "region", col("admissions") * c.kmf_per_admission_dkk.value),
        Flow(
            "delayed_discharge_payment",
            "municipality",
            "region",
            col("delayed_discharge_days") * c.delayed_discharge_day_dkk.value,
        ),
    ]


def add_costs(df: pl.DataFrame, scenario: Scenario) -> pl.DataFrame:
    """Net cost per payer (cost_region_dkk, cost_municipality_dkk, cost_citizen_dkk)."""
    flows = money_flows(scenario)
    columns = []
    for payer in PAYERS:
        terms = [f.amount for f in flows if f.payer == payer]
        terms += [-f.amount for f in flows if f.payee == payer]
        columns.append(pl.sum_horizontal(terms).alias(f"cost_{payer}_dkk"))
    total = pl.sum_horizontal([f.amount for f in flows if f.payee == "provider"]).alias("cost_total_dkk")
    return df.with_columns(*columns, total)
