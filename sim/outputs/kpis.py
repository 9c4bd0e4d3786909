"""From an engine's counters to the tidy KPI table users script against.

One row per scenario × replication × period × area × patient group. The column names of
docs/model.md section 9 are a stable interface: renaming one is a breaking change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

from sim.config.schema import GROUPS
from sim.constants import DAYS_PER_YEAR
from sim.flow.counters import C
from sim.flow.inputs import FlowInputs
from sim.measures import COUNTER_MEASURES, COUNTERS, MEASURES, RATE_MEASURES

AREA_LEVELS: tuple[str, ...] = ("national", "region", "region_reform", "council", "municipality")
ALL_GROUPS = "all"

KEY_COLUMNS = ("scenario", "draw", "replication", "period", "area_level", "area", "group")
#: Counters in whole units, stored as Int64 (the others are sums of fractional days).
WHOLE = frozenset(m.name for m in COUNTER_MEASURES if m.unit == "count")


def _area_index(inputs: FlowInputs, level: str) -> tuple[np.ndarray, tuple[str, ...]]:
    geo = inputs.geography
    if level == "national":
        return np.zeros(geo.n, dtype=np.int64), ("Denmark",)
    if level == "region":
        return geo.region_current_of, geo.regions_current
    if level == "region_reform":
        return geo.region_reform_of, geo.regions_reform
    if level == "council":
        return geo.council_of, geo.councils
    return np.arange(geo.n), geo.municipalities


def counts_table(
    counts: np.ndarray, inputs: FlowInputs, scenario: str, replication: int, draw: int = 0
) -> pl.DataFrame:
    """Sum counters over the areas of every level; reported periods only; groups and 'all'.

    Rows by level, then period, then area, then group ('all' first). Built as one table
    (not one per level and period, which cost more than simulating a teaching replication).
    """
    reported = [k for k, p in enumerate(inputs.periods) if p.reported]
    groups = [ALL_GROUPS, *GROUPS]
    blocks, days = [], []
    period, period_start, period_end, area_level, area = [], [], [], [], []
    for level in AREA_LEVELS:
        index, names = _area_index(inputs, level)
        used = np.unique(index)
        areas = np.repeat(np.array(names, dtype=object)[used], len(groups)).tolist()
        n = len(areas)
        for k in reported:
            by_area = np.zeros((len(names), len(GROUPS), len(COUNTERS)))
            np.add.at(by_area, index, counts[k])
            by_area = by_area[used]
            with_all = np.concatenate([by_area.sum(axis=1, keepdims=True), by_area], axis=1)
            blocks.append(with_all.reshape(-1, len(COUNTERS)))
            p = inputs.periods[k]
            length = p.end - p.start
            period += [p.label] * n
            period_start += [p.first_date] * n
            period_end += [p.first_date + dt.timedelta(days=int(round(length)) - 1)] * n
            days.append(np.full(n, length))
            area_level += [level] * n
            area += areas
    flat = np.concatenate(blocks)
    rows = flat.shape[0]
    frame = {
        "scenario": [scenario] * rows,
        "draw": np.full(rows, draw, dtype=np.int64),
        "replication": np.full(rows, replication, dtype=np.int64),
        "period": period,
        "period_start": period_start,
        "period_end": period_end,
        "period_days": np.concatenate(days),
        "area_level": area_level,
        "area": area,
        "group": groups * (rows // len(groups)),
    }
    for name in COUNTERS:
        column = flat[:, C[name]]
        frame[name] = np.rint(column).astype(np.int64) if name in WHOLE else column
    return pl.DataFrame(frame, schema_overrides={"period_start": pl.Date, "period_end": pl.Date})


def ratio(name: str) -> pl.Expr:
    """A registered rate from its counters; null, not zero, where the denominator is zero."""
    num, den = MEASURES[name].ratio
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).otherwise(None).alias(name)


def derived(columns: Sequence[str]) -> list[pl.Expr]:
    """The registered ratios (and step-up admissions) computable from these counters: the
    same definitions for a KPI row and for sums over rows."""
    have = set(columns)
    out = [ratio(m.name) for m in RATE_MEASURES if m.ratio and set(m.ratio) <= have]
    if {"sop_admissions", "sop_stepdowns"} <= have:
        stepups = pl.col("sop_admissions") - pl.col("sop_stepdowns")
        out.append(stepups.alias("sop_stepup_admissions"))
    return out


def add_rates(df: pl.DataFrame) -> pl.DataFrame:
    """Derived indicators of every KPI row."""
    persons = pl.col("person_days") / pl.col("period_days")
    return df.with_columns(
        *derived(df.columns),
        persons.alias("population"),
        pl.when(persons > 0)
        .then(pl.col("admissions") / persons * 1000.0 * DAYS_PER_YEAR / pl.col("period_days"))
        .otherwise(None)
        .alias("admissions_per_1000_year"),
    )
