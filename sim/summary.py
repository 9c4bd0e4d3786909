"""Means and 95% confidence intervals over replications, and paired differences.

Replications are independent; scenarios share random numbers replication by replication,
so a difference between scenarios is estimated from the paired differences, whose
variance is far smaller than that of either scenario alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from sim.flow.counters import COUNTERS

#: KPIs in the printed summary: (column, label, format).
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("admissions", "Acute admissions", "{:,.0f}"),
    ("readmission_rate_30d", "30-day readmission rate", "{:.2%}"),
    ("readmissions_30d", "30-day readmissions", "{:,.0f}"),
    ("hospital_bed_days", "Hospital bed-days", "{:,.0f}"),
    ("delayed_discharge_days", "Delayed-discharge bed-days", "{:,.0f}"),
    ("sop_admissions", "Intermediate-care admissions", "{:,.0f}"),
    ("sop_bed_days", "Intermediate-care bed-days", "{:,.0f}"),
    ("mean_wait_sop_days", "Mean wait for a step-down bed (days)", "{:.2f}"),
    ("home_treatment_episodes", "Home-treatment episodes", "{:,.0f}"),
    ("gp_contacts", "GP contacts (acute)", "{:,.0f}"),
    ("deaths", "Deaths", "{:,.0f}"),
    ("cost_region_dkk", "Cost, regions (DKK m)", "{:,.1f}"),
    ("cost_municipality_dkk", "Cost, municipalities (DKK m)", "{:,.1f}"),
    ("cost_citizen_dkk", "Cost, citizens (DKK m)", "{:,.1f}"),
    ("cost_state_dkk", "Cost, state grants (DKK m)", "{:,.1f}"),
    ("cost_total_dkk", "Cost, total (DKK m)", "{:,.1f}"),
)
MILLIONS = {"cost_region_dkk", "cost_municipality_dkk", "cost_citizen_dkk", "cost_state_dkk", "cost_total_dkk"}


def whole_window(kpis: pl.DataFrame, area_level: str = "national", group: str = "all") -> pl.DataFrame:
    """Sum each replication's reported periods; recompute ratios from the sums."""
    sums = [c for c in (*COUNTERS, *MILLIONS) if c in kpis.columns]
    out = (
        kpis.filter((pl.col("area_level") == area_level) & (pl.col("group") == group))
        .group_by(["scenario", "draw", "replication", "area"], maintain_order=True)
        .agg([pl.col(c).sum() for c in sums])
    )
    return out.with_columns(
        pl.when(pl.col("discharges") > 0).then(pl.col("readmissions_30d") / pl.col("discharges")).alias("readmission_rate_30d"),
        pl.when(pl.col("sop_waits") > 0).then(pl.col("sop_wait_days") / pl.col("sop_waits")).alias("mean_wait_sop_days"),
    )


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval; the interval is NaN with one replication."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = values.size
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(values.mean())
    if n < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half


def comparison(per_rep: pl.DataFrame, scenarios: Sequence[str], kpis: Sequence[str]) -> pl.DataFrame:
    """Per KPI and scenario: mean and CI; for scenarios after the first, the paired difference."""
    rows = []
    base = scenarios[0]
    for kpi in kpis:
        if kpi not in per_rep.columns:
            continue
        ref = per_rep.filter(pl.col("scenario") == base).sort("replication")
        for name in scenarios:
            cur = per_rep.filter(pl.col("scenario") == name).sort("replication")
            mean, lo, hi = mean_ci(cur[kpi].to_numpy())
            row = {"kpi": kpi, "scenario": name, "mean": mean, "ci_low": lo, "ci_high": hi,
                   "diff": None, "diff_low": None, "diff_high": None}
            if name != base:
                paired = cur.join(ref.select("replication", pl.col(kpi).alias("_ref")), on="replication")
                d, dlo, dhi = mean_ci((paired[kpi] - paired["_ref"]).to_numpy())
                row.update(diff=d, diff_low=dlo, diff_high=dhi)
            rows.append(row)
    return pl.DataFrame(rows, schema_overrides={"diff": pl.Float64, "diff_low": pl.Float64, "diff_high": pl.Float64})
