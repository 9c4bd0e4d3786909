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
from scipy.special import stdtrit

from sim.measures import COSTS, COUNTERS, MEASURES, label
from sim.outputs.kpis import derived

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
    return out.with_columns(*derived(sums))


def t_quantile(p: float, df: int) -> float:
    """Student-t quantile: what `scipy.stats.t.ppf(p, df)` returns (its own formula),
    without importing scipy.stats (half a second at start-up, issue 13)."""
    return stdtrit(df, p)


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
    half = float(t_quantile(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half


def nonnegative(kpi: str) -> bool:
    """Counts and rates cannot be negative (net costs can: a payer may receive more)."""
    return kpi in MEASURES and MEASURES[kpi].kind in ("counter", "rate")


def clip_ci(kpi: str, lo: float, hi: float) -> tuple[float, float, bool]:
    """A level's CI clipped at 0 where the quantity cannot be negative; True if clipped."""
    if nonnegative(kpi) and lo == lo and lo < 0:
        return 0.0, hi, True
    return lo, hi, False


def ci_table(per_rep: pl.DataFrame, by: Sequence[str], value: str) -> pl.DataFrame:
    """Mean and t-based 95% CI of VALUE over replications, per combination of BY (in order
    of first appearance); the CI is clipped at 0 for quantities that cannot be negative.
    Figures draw these numbers; the report's table uses the same `mean_ci`."""
    rows = []
    for key, part in per_rep.group_by(list(by), maintain_order=True):
        mean, lo, hi = mean_ci(part[value].to_numpy())
        lo, hi, clipped = clip_ci(value, lo, hi)
        rows.append(
            {
                **dict(zip(by, key)),
                "mean": mean,
                "ci_low": lo,
                "ci_high": hi,
                "clipped": clipped,
                "n": part.height,
            }
        )
    schema = {c: per_rep.schema[c] for c in by}
    schema.update(
        {
            "mean": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
            "clipped": pl.Boolean,
            "n": pl.Int64,
        }
    )
    return pl.DataFrame(rows, schema=schema)


def comparison(
    per_rep: pl.DataFrame, scenarios: Sequence[str], kpis: Sequence[str]
) -> pl.DataFrame:
    """Per KPI and scenario: mean and CI; for scenarios after the first, the paired difference.

    Level CIs of counts and rates are clipped at 0 (`clipped` says where); differences never.
    """
    rows = []
    base = scenarios[0]
    for kpi in kpis:
        if kpi not in per_rep.columns:
            continue
        ref = per_rep.filter(pl.col("scenario") == base).sort("replication")
        for name in scenarios:
            cur = per_rep.filter(pl.col("scenario") == name).sort("replication")
            mean, lo, hi = mean_ci(cur[kpi].to_numpy())
            lo, hi, clipped = clip_ci(kpi, lo, hi)
            row = {
                "kpi": kpi,
                "scenario": name,
                "mean": mean,
                "ci_low": lo,
                "ci_high": hi,
                "clipped": clipped,
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


def _number(fmt: str, value: float) -> str:
    """One number in FMT, without a negative zero ("-0" reads as a sign where there is none)."""
    text = fmt.format(value)
    stripped = text.lstrip("+-")
    if text[:1] == "-" and not any(ch in "123456789" for ch in stripped.split("e")[0]):
        return stripped
    return text


def format_estimate(
    fmt: str, value: float | None, lo=None, hi=None, scale: float = 1.0, signed: bool = False
) -> str:
    """`value [lo, hi]` in a KPI's format (scaled, e.g. to millions); "–" when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    f = fmt.replace("{:", "{:+") if signed else fmt
    text = _number(f, value * scale)
    if lo is not None and not (isinstance(lo, float) and math.isnan(lo)):
        text += f" [{_number(fmt, lo * scale)}, {_number(fmt, hi * scale)}]"
    return text


#: Differences of shares are in percentage points, not per cent of the level.
POINTS = frozenset(m.name for m in MEASURES.values() if m.unit.startswith("share"))
FORMATS = {name: fmt for name, _, fmt in HEADLINE}


def level_text(kpi: str, mean, lo=None, hi=None, clipped: bool = False) -> str:
    """A scenario's estimate in the KPI's natural unit; † marks a CI cut at 0."""
    scale = 1e-6 if kpi in MILLIONS else 1.0
    text = format_estimate(FORMATS.get(kpi, "{:,.2f}"), mean, lo, hi, scale)
    return text + "†" if clipped else text


def difference_text(kpi: str, diff, lo=None, hi=None) -> str:
    """A paired difference: percentage points for shares, DKK m for costs, else the unit."""
    if kpi in POINTS:
        return format_estimate("{:.2f}", diff, lo, hi, 100.0, signed=True).replace(
            " [", " pp [", 1
        ) + ("" if lo is not None and lo == lo else " pp")
    scale = 1e-6 if kpi in MILLIONS else 1.0
    return format_estimate(FORMATS.get(kpi, "{:,.2f}"), diff, lo, hi, scale, signed=True)


CLIPPED_NOTE = "† the 95% CI's lower end is cut at 0: the quantity cannot be negative."


def comparison_cells(comp: pl.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the comparison table, shared by the console and the report."""
    scenarios = list(dict.fromkeys(comp["scenario"].to_list()))
    header = ["KPI (national, reporting window)"]
    for i, s in enumerate(scenarios):
        header.append(f"{s}: mean [95% CI]")
        if i:
            header.append(f"{s} − {scenarios[0]}: paired [95% CI]")
    rows = []
    for kpi in dict.fromkeys(comp["kpi"].to_list()):
        cells = [label(kpi)]
        for row in comp.filter(pl.col("kpi") == kpi).iter_rows(named=True):
            cells.append(
                level_text(kpi, row["mean"], row["ci_low"], row["ci_high"], row.get("clipped"))
            )
            if row["scenario"] != scenarios[0]:
                cells.append(difference_text(kpi, row["diff"], row["diff_low"], row["diff_high"]))
        rows.append(cells)
    return header, rows
