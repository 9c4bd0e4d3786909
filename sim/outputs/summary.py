"""Means and 95% confidence intervals over replications, and paired differences.

Replications are independent; scenarios share random numbers replication by replication,
so a difference between scenarios is estimated from the paired differences, whose
variance is far smaller than that of either scenario alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from sim.measures import COSTS, COUNTERS, label
from sim.outputs.kpis import ratio

#: KPIs in the printed summary: (column, label, format); labels from the registry.
HEADLINE: tuple[tuple[str, str, str], ...] = tuple(
    (name, label(name), fmt)
    for name, fmt in (
        ("admissions", "{:,.0f}"),
        ("readmission_rate_30d", "{:.2%}"),
        ("readmissions_30d", "{:,.0f}"),
        ("hospital_bed_days", "{:,.0f}"),
        ("delayed_discharge_days", "{:,.0f}"),
        ("sop_admissions", "{:,.0f}"),
        ("sop_bed_days", "{:,.0f}"),
        ("mean_wait_sop_days", "{:.2f}"),
        ("home_treatment_episodes", "{:,.0f}"),
        ("gp_contacts", "{:,.0f}"),
        ("deaths", "{:,.0f}"),
        *((cost, "{:,.1f}") for cost in COSTS),
    )
)
#: Shown in millions of DKK.
MILLIONS = frozenset(COSTS)


def whole_window(
    kpis: pl.DataFrame, area_level: str = "national", group: str = "all"
) -> pl.DataFrame:
    """Sum each replication's reported periods; recompute ratios from the sums."""
    sums = [c for c in (*COUNTERS, *MILLIONS) if c in kpis.columns]
    out = (
        kpis.filter((pl.col("area_level") == area_level) & (pl.col("group") == group))
        .group_by(["scenario", "draw", "replication", "area"], maintain_order=True)
        .agg([pl.col(c).sum() for c in sums])
    )
    return out.with_columns(ratio("readmission_rate_30d"), ratio("mean_wait_sop_days"))


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


def comparison(
    per_rep: pl.DataFrame, scenarios: Sequence[str], kpis: Sequence[str]
) -> pl.DataFrame:
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
            row = {
                "kpi": kpi,
                "scenario": name,
                "mean": mean,
                "ci_low": lo,
                "ci_high": hi,
                "diff": None,
                "diff_low": None,
                "diff_high": None,
            }
            if name != base:
                paired = cur.join(
                    ref.select("replication", pl.col(kpi).alias("_ref")), on="replication"
                )
                d, dlo, dhi = mean_ci((paired[kpi] - paired["_ref"]).to_numpy())
                row.update(diff=d, diff_low=dlo, diff_high=dhi)
            rows.append(row)
    return pl.DataFrame(
        rows, schema_overrides={"diff": pl.Float64, "diff_low": pl.Float64, "diff_high": pl.Float64}
    )


def format_estimate(
    fmt: str, value: float | None, lo=None, hi=None, scale: float = 1.0, signed: bool = False
) -> str:
    """`value [lo, hi]` in a KPI's format (scaled, e.g. to millions); "–" when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    f = fmt.replace("{:", "{:+") if signed else fmt
    text = f.format(value * scale)
    if lo is not None and not (isinstance(lo, float) and math.isnan(lo)):
        text += f" [{fmt.format(lo * scale)}, {fmt.format(hi * scale)}]"
    return text
