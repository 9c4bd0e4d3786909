"""Analysis of a batch: CIs, paired differences, replications needed, PSA outcomes."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from sim.outputs.summary import HEADLINE, mean_ci, t_quantile, whole_window

KPIS = [k for k, _, _ in HEADLINE]


def replications_needed(values: np.ndarray, half_width: float, level: float = 0.95) -> int | None:
    """Smallest n whose t-interval half-width would be at most `half_width` at this spread."""
    values = values[~np.isnan(values)]
    if values.size < 2 or half_width <= 0:
        return None
    s = values.std(ddof=1)
    n = 2
    while n < 100_000:
        if t_quantile(0.5 + level / 2, n - 1) * s / math.sqrt(n) <= half_width:
            return n
        n += 1
    return None


def analyse(kpis: pl.DataFrame, plan) -> pl.DataFrame:
    """One row per scenario × draw × KPI (national, whole reporting window)."""
    per_rep = whole_window(kpis)
    base = plan.baseline
    targets = plan.experiment.target_half_width
    rows = []
    for (scenario, draw), cur in per_rep.group_by(["scenario", "draw"], maintain_order=True):
        cur = cur.sort("replication")
        ref = per_rep.filter((pl.col("scenario") == base) & (pl.col("draw") == draw)).sort(
            "replication"
        )
        for kpi in KPIS:
            values = cur[kpi].to_numpy().astype(float)
            mean, lo, hi = mean_ci(values)
            row = {
                "scenario": scenario,
                "draw": draw,
                "kpi": kpi,
                "mean": mean,
                "ci_low": lo,
                "ci_high": hi,
                "diff": None,
                "diff_low": None,
                "diff_high": None,
                "replications_needed": replications_needed(values, targets[kpi])
                if kpi in targets
                else None,
            }
            if scenario != base:
                paired = cur.join(
                    ref.select("replication", pl.col(kpi).alias("_ref")), on="replication"
                )
                row["diff"], row["diff_low"], row["diff_high"] = mean_ci(
                    (paired[kpi] - paired["_ref"]).to_numpy()
                )
            rows.append(row)
    schema = {
        "diff": pl.Float64,
        "diff_low": pl.Float64,
        "diff_high": pl.Float64,
        "replications_needed": pl.Int64,
    }
    return pl.DataFrame(rows, schema_overrides=schema)


#: Willingness to pay per readmission avoided (DKK) at which the PSA summary reports the
#: expected net monetary benefit and the probability of being cost-effective.
WTP_DKK: tuple[float, ...] = (0.0, 50_000.0, 100_000.0, 200_000.0, 500_000.0)


def incremental(analysis: pl.DataFrame, baseline: str) -> pl.DataFrame:
    """Across parameter draws: the distribution of each scenario's paired difference, the
        share of draws in each quadrant of the cost-effectiveness plane, and the net monetary
        benefit at several prices per readmission avoided. No ratio is taken draw by draw (a
        ratio of differences that change sign means nothing); the incremental cost per
        readmission avoided is the ratio of the means, and only when the mean option costs more
    and avoids readmissions (the one quadrant where a price per readmission means anything).
    """
    diffs = analysis.filter(pl.col("scenario") != baseline).pivot(
        on="kpi", index=["scenario", "draw"], values="diff"
    )
    outcomes = [c for c in diffs.columns if c not in ("scenario", "draw")]
    summary = diffs.group_by("scenario", maintain_order=True).agg(
        *[pl.col(c).mean().alias(f"{c}_mean") for c in outcomes],
        *[pl.col(c).quantile(0.025).alias(f"{c}_p2.5") for c in outcomes],
        *[pl.col(c).quantile(0.975).alias(f"{c}_p97.5") for c in outcomes],
    )
    if not {"cost_total_dkk", "readmissions_30d"} <= set(diffs.columns):
        return summary
    cost, avoided = pl.col("cost_total_dkk"), -pl.col("readmissions_30d")
    plane = diffs.group_by("scenario", maintain_order=True).agg(
        ((cost <= 0) & (avoided >= 0)).mean().alias("share_cheaper_and_better"),
        ((cost > 0) & (avoided >= 0)).mean().alias("share_costlier_and_better"),
        ((cost <= 0) & (avoided < 0)).mean().alias("share_cheaper_and_worse"),
        ((cost > 0) & (avoided < 0)).mean().alias("share_costlier_and_worse"),
        pl.when((avoided.mean() > 0) & (cost.mean() > 0))
        .then(cost.mean() / avoided.mean())
        .otherwise(None)
        .alias("cost_per_readmission_avoided_of_means_dkk"),
        *[(wtp * avoided - cost).mean().alias(f"net_benefit_at_{wtp:.0f}_dkk") for wtp in WTP_DKK],
        *[
            ((wtp * avoided - cost) > 0).mean().alias(f"probability_cost_effective_at_{wtp:.0f}")
            for wtp in WTP_DKK
        ],
    )
    return summary.join(plane, on="scenario", how="left", maintain_order="left")
