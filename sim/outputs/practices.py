"""The practice table (practices.parquet): counters per general practice for its patients
aged 65+, one row per scenario × draw × replication × reported period × practice, and the
spread of practices' annual 30-day readmission rates (the calibration target).

Practices would multiply the KPI table's rows by about 1,700, so they have a table of
their own (docs/model.md section 9).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from sim.flow.counters import PRACTICE_COUNTERS
from sim.flow.inputs import FlowInputs

WHOLE = ("admissions", "discharges", "readmissions_30d")
ORDER = ("scenario", "draw", "replication", "period", "practice")


def practice_table(
    pcounts: np.ndarray, inputs: FlowInputs, scenario: str, replication: int, draw: int = 0
) -> pl.DataFrame:
    """Rows of one replication: reported periods only, practices in id order."""
    pr, geo = inputs.practices, inputs.geography
    reported = [k for k, p in enumerate(inputs.periods) if p.reported]
    n = pr.n
    rows = n * len(reported)
    days = np.repeat([inputs.periods[k].end - inputs.periods[k].start for k in reported], n)
    flat = pcounts[reported].reshape(rows, len(PRACTICE_COUNTERS))
    muni_names = np.array(geo.municipalities, dtype=object)
    council_names = np.array(geo.councils, dtype=object)
    frame: dict = {
        "scenario": [scenario] * rows,
        "draw": np.full(rows, draw, dtype=np.int64),
        "replication": np.full(rows, replication, dtype=np.int64),
        "period": np.repeat([inputs.periods[k].label for k in reported], n).tolist(),
        "period_days": days.astype(np.float64),
        "practice": np.tile(np.arange(n, dtype=np.int64), len(reported)),
        "municipality": np.tile(muni_names[pr.muni], len(reported)).tolist(),
        "council": np.tile(council_names[geo.council_of[pr.muni]], len(reported)).tolist(),
        "practice_effect": np.tile(pr.effect, len(reported)),
    }
    person_days = flat[:, PRACTICE_COUNTERS.index("person_days")]
    frame["patients"] = person_days / days
    frame["person_days"] = person_days
    for name in ("admissions", "discharges", "readmissions_30d", "delayed_discharge_days"):
        column = flat[:, PRACTICE_COUNTERS.index(name)]
        frame[name] = np.rint(column).astype(np.int64) if name in WHOLE else column
    return pl.DataFrame(frame)


def sort_practices(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort(list(ORDER), maintain_order=True)


def yearly(practices: pl.DataFrame) -> pl.DataFrame:
    """Each practice's counters per calendar year of the reported periods (the year is the
    period label's first four characters: 2027, 2027Q1, 2027-01; `window` stays itself)."""
    return (
        practices.with_columns(
            pl.when(pl.col("period") == "window")
            .then(pl.col("period"))
            .otherwise(pl.col("period").str.slice(0, 4))
            .alias("year")
        )
        .group_by(["scenario", "draw", "replication", "year", "practice"], maintain_order=True)
        .agg(
            pl.col("municipality").first(),
            pl.col("council").first(),
            pl.col("period_days").sum(),
            pl.col("person_days").sum(),
            pl.col("admissions").sum(),
            pl.col("discharges").sum(),
            pl.col("readmissions_30d").sum(),
            pl.col("delayed_discharge_days").sum(),
        )
    )


def practice_years(practices: pl.DataFrame, min_days: float = 360.0) -> pl.DataFrame:
    """Each practice's complete calendar years with a discharge; a reporting window without
    a complete year counts as one 'year' (`window`), so short runs still show a spread."""
    per_year = yearly(practices)
    complete = per_year.filter(pl.col("period_days") >= min_days)
    if complete.height == 0:
        complete = yearly(practices.with_columns(pl.lit("window").alias("period")))
    return complete.filter(pl.col("discharges") > 0)


def readmission_spread(practices: pl.DataFrame, min_days: float = 360.0) -> pl.DataFrame:
    """p10, p50 and p90 across practices of their observed annual 65+ readmission rates,
    per scenario, draw, replication and complete year — observed rates, binomial noise of
    small practices included, as the published indicator counts them. Practices without a
    discharge in the year have no rate and are left out."""
    per_year = practice_years(practices, min_days)
    rate = pl.col("readmissions_30d") / pl.col("discharges")
    return (
        per_year.with_columns(rate.alias("rate"))
        .group_by(["scenario", "draw", "replication", "year"], maintain_order=True)
        .agg(
            pl.col("rate").quantile(0.1, "linear").alias("p10"),
            pl.col("rate").quantile(0.5, "linear").alias("p50"),
            pl.col("rate").quantile(0.9, "linear").alias("p90"),
            (pl.col("readmissions_30d").sum() / pl.col("discharges").sum()).alias("mean"),
            pl.col("discharges").mean().alias("discharges_per_practice"),
            pl.len().alias("practices"),
        )
        .sort(["scenario", "draw", "replication", "year"])
    )
