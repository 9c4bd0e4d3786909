"""Today's regime is settled when reporting starts (issue 11): the organisations plan
through a warm-up of several years, so quarterly admissions, delayed-discharge days and
intermediate-care beds show no trend over the reporting window.

Statistic: per replication, the least-squares slope over the reported quarters; over
replications, a two-sided one-sample t-test of the mean slope against 0, at a family-wise
alpha of 0.01 (Bonferroni over the three series). Reduced national geography (a tenth of
the population) with the shipped rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from sim.run.runner import Task, load_scenario, run_tasks

ROOT = Path(__file__).resolve().parent.parent
CURRENT = ROOT / "configs" / "denmark" / "current.yaml"
REPLICATIONS = 4
SERIES = ("admissions", "delayed_discharge_days", "sop_beds")
FAMILY_ALPHA = 0.01


def trend_p_value(series: np.ndarray) -> float:
    """p of the t-test that the mean per-replication slope is 0 (series: replication × time)."""
    x = np.arange(series.shape[1], dtype=float)
    slopes = np.array([np.polyfit(x, row, 1)[0] for row in series])
    return float(stats.ttest_1samp(slopes, 0.0).pvalue)


def test_the_statistic_finds_a_trend_when_there_is_one():
    rng = np.random.default_rng(3)
    flat = rng.normal(100, 5, (REPLICATIONS, 8))
    rising = flat + 4.0 * np.arange(8)
    assert trend_p_value(flat) > FAMILY_ALPHA / len(SERIES)
    assert trend_p_value(rising) < FAMILY_ALPHA / len(SERIES)


@pytest.fixture(scope="module")
def quarterly() -> dict[str, np.ndarray]:
    spec = load_scenario(CURRENT, ["population.scale=0.1"])
    tables = run_tasks([spec], [Task(0, r) for r in range(REPLICATIONS)], seed=2027)
    kpis = pl.concat([t.kpis for t in tables]).filter(
        (pl.col("area_level") == "national") & (pl.col("group") == "all")
    )
    agents = pl.concat([t.agents for t in tables]).filter(pl.col("agent_type") == "municipality")
    reported = sorted(kpis["period"].unique().to_list())
    beds = (
        agents.filter(pl.col("period").is_in(reported))
        .group_by("replication", "period")
        .agg(pl.col("sop_beds").sum())
    )

    def matrix(frame: pl.DataFrame, column: str) -> np.ndarray:
        wide = frame.sort("replication", "period").pivot(
            on="period", index="replication", values=column
        )
        return wide.select(reported).to_numpy().astype(float)

    return {
        "admissions": matrix(kpis, "admissions"),
        "delayed_discharge_days": matrix(kpis, "delayed_discharge_days"),
        "sop_beds": matrix(beds, "sop_beds"),
    }


@pytest.mark.parametrize("name", SERIES)
def test_no_trend_over_the_reporting_window(quarterly, name):
    series = quarterly[name]
    assert series.shape == (REPLICATIONS, 8)
    p = trend_p_value(series)
    assert p > FAMILY_ALPHA / len(SERIES), f"{name} trends over the window (p = {p:.2g})"
