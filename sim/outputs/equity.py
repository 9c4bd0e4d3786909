"""Equity outputs (equity.parquet): how rates spread across municipalities, councils and
general practices, and who gains and who loses under a scenario compared with the first.

Everything is over the whole reporting window, per replication, then averaged over
replications with a Student-t interval. Differences between scenarios are paired by
replication (common random numbers, docs/model.md section 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from sim.constants import DAYS_PER_YEAR
from sim.outputs.summary import mean_ci
from sim.outputs.tables import EQUITY, PRACTICES, write_table

#: The rates compared across areas; lower is better for each.
EQUITY_MEASURES: tuple[str, ...] = (
    "readmission_rate_30d",
    "admissions_per_1000_year",
    "delayed_days_per_1000_year",
)
LEVELS: tuple[str, ...] = ("municipality", "council", "practice")
PRACTICES_FILE = "practices.parquet"
EQUITY_FILE = "equity.parquet"
SUMS = ("admissions", "discharges", "readmissions_30d", "delayed_discharge_days", "person_days")
QUANTILES = (("p10", 0.1), ("p50", 0.5), ("p90", 0.9))


def theil_index(rates: np.ndarray, weights: np.ndarray) -> float:
    """Theil T index of per-person rates across areas, weighted by persons:
    T = sum_i s_i (x_i / mu) ln(x_i / mu), s_i the area's share of persons and mu the
    weighted mean. 0 when every area has the same rate; an area with rate 0 adds 0."""
    x = np.asarray(rates, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = w > 0
    x, w = x[keep], w[keep]
    if x.size == 0:
        return float("nan")
    s = w / w.sum()
    mu = float((s * x).sum())
    if mu <= 0:
        return 0.0
    r = x / mu
    terms = np.where(r > 0, r * np.log(np.where(r > 0, r, 1.0)), 0.0)
    return float((s * terms).sum())


def area_rates(kpis: pl.DataFrame, practices: pl.DataFrame | None) -> pl.DataFrame:
    """Whole-window rates per scenario × draw × replication × level × area."""
    frames = []
    for level in ("municipality", "council"):
        part = kpis.filter((pl.col("area_level") == level) & (pl.col("group") == "all"))
        frames.append(
            part.group_by(["scenario", "draw", "replication", "area"], maintain_order=True)
            .agg([pl.col(c).sum().cast(pl.Float64) for c in SUMS])
            .with_columns(pl.lit(level).alias("area_level"))
        )
    if practices is not None and practices.height:
        frames.append(
            practices.group_by(["scenario", "draw", "replication", "practice"], maintain_order=True)
            .agg([pl.col(c).sum().cast(pl.Float64) for c in SUMS])
            .with_columns(
                pl.col("practice").cast(pl.String).alias("area"),
                pl.lit("practice").alias("area_level"),
            )
            .drop("practice")
        )
    cols = ["scenario", "draw", "replication", "area_level", "area", *SUMS]
    both = pl.concat([f.select(cols) for f in frames])
    years = pl.col("person_days") / DAYS_PER_YEAR
    per_1000 = lambda c: (  # noqa: E731
        pl.when(years > 0).then(pl.col(c) / years * 1000.0).otherwise(None)
    )
    return both.with_columns(
        pl.when(pl.col("discharges") > 0)
        .then(pl.col("readmissions_30d") / pl.col("discharges"))
        .otherwise(None)
        .alias("readmission_rate_30d"),
        per_1000("admissions").alias("admissions_per_1000_year"),
        per_1000("delayed_discharge_days").alias("delayed_days_per_1000_year"),
    )


def _row(kind, scenario, baseline, draw, level, area, measure, stat, values) -> dict:
    mean, lo, hi = mean_ci(np.asarray(values, dtype=float))
    return dict(
        kind=kind,
        scenario=scenario,
        baseline=baseline,
        draw=draw,
        area_level=level,
        area=area,
        measure=measure,
        statistic=stat,
        value=mean,
        ci_low=lo,
        ci_high=hi,
        replications=int(np.sum(~np.isnan(np.asarray(values, dtype=float)))),
    )


def equity_table(
    kpis: pl.DataFrame, practices: pl.DataFrame | None, scenarios: Sequence[str]
) -> pl.DataFrame:
    """The spread rows of every scenario and the council differences from scenarios[0]."""
    rates = area_rates(kpis, practices)
    rows: list[dict] = []
    for (scenario, draw, level), part in sorted(
        rates.group_by(["scenario", "draw", "area_level"]),
        key=lambda kv: (list(scenarios).index(kv[0][0]), kv[0][1], LEVELS.index(kv[0][2])),
    ):
        reps = part.partition_by("replication", maintain_order=True)
        for measure in EQUITY_MEASURES:
            per_rep = [r[measure].drop_nulls().to_numpy() for r in reps]
            for stat, q in QUANTILES:
                values = [np.quantile(v, q) if v.size else np.nan for v in per_rep]
                rows.append(
                    _row("spread", scenario, None, draw, level, "all", measure, stat, values)
                )
        theil = [
            theil_index(
                r["admissions"].to_numpy() / np.maximum(r["person_days"].to_numpy(), 1e-12),
                r["person_days"].to_numpy(),
            )
            for r in reps
        ]
        rows.append(
            _row(
                "spread",
                scenario,
                None,
                draw,
                level,
                "all",
                "admissions_per_1000_year",
                "theil",
                theil,
            )
        )
    rows += council_differences(rates, scenarios)
    return pl.DataFrame(rows, schema=SCHEMA)


SCHEMA = {
    "kind": pl.String,
    "scenario": pl.String,
    "baseline": pl.String,
    "draw": pl.Int64,
    "area_level": pl.String,
    "area": pl.String,
    "measure": pl.String,
    "statistic": pl.String,
    "value": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "replications": pl.Int64,
}


def council_differences(rates: pl.DataFrame, scenarios: Sequence[str]) -> list[dict]:
    """Per council and measure, the paired difference (scenario − baseline) with its CI;
    then how many councils are better off (CI wholly below 0) and worse off (above 0)."""
    if len(scenarios) < 2:
        return []
    baseline = scenarios[0]
    councils = rates.filter(pl.col("area_level") == "council")
    base = councils.filter(pl.col("scenario") == baseline)
    rows: list[dict] = []
    for other in scenarios[1:]:
        paired = councils.filter(pl.col("scenario") == other).join(
            base, on=["draw", "replication", "area"], suffix="_base"
        )
        for (draw,), part in sorted(paired.group_by(["draw"]), key=lambda kv: kv[0]):
            for measure in EQUITY_MEASURES:
                better = worse = 0
                for (area,), one in sorted(part.group_by(["area"]), key=lambda kv: kv[0]):
                    diff = (one[measure] - one[f"{measure}_base"]).to_numpy().astype(float)
                    row = _row(
                        "difference",
                        other,
                        baseline,
                        draw,
                        "council",
                        area,
                        measure,
                        "difference",
                        diff,
                    )
                    rows.append(row)
                    better += row["ci_high"] < 0
                    worse += row["ci_low"] > 0
                for stat, n in (("better", better), ("worse", worse)):
                    row = _row(
                        "councils",
                        other,
                        baseline,
                        draw,
                        "council",
                        "all",
                        measure,
                        stat,
                        [float(n)],
                    )
                    rows.append(row)
    return rows


def write_spread_tables(
    directory: Path,
    kpis: pl.DataFrame,
    practices: pl.DataFrame | None,
    scenarios: Sequence[str],
    meta: dict,
    equity: bool = True,
) -> dict[str, Path]:
    """practices.parquet (when there are practice rows to keep) and equity.parquet
    (differences from scenarios[0]), as runs, batches and decompositions write them;
    returns their paths for the manifest."""
    outputs = {}
    if practices is not None:
        outputs["practices"] = directory / PRACTICES_FILE
        write_table(practices, outputs["practices"], PRACTICES, meta)
    if equity:
        outputs["equity"] = directory / EQUITY_FILE
        write_table(equity_table(kpis, practices, scenarios), outputs["equity"], EQUITY, meta)
    return outputs
