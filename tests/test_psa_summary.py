"""The PSA summary takes no ratio of draws whose differences change sign (issue 12)."""

import polars as pl
import pytest

from sim.outputs.analysis import incremental


def analysis(costs: list[float], readmissions: list[float]) -> pl.DataFrame:
    rows = []
    for draw, (c, r) in enumerate(zip(costs, readmissions)):
        rows.append({"scenario": "reform", "draw": draw, "kpi": "cost_total_dkk", "diff": c})
        rows.append({"scenario": "reform", "draw": draw, "kpi": "readmissions_30d", "diff": r})
        rows.append({"scenario": "today", "draw": draw, "kpi": "cost_total_dkk", "diff": None})
    return pl.DataFrame(rows)


def test_draws_on_both_sides_of_zero_give_quadrant_shares_not_ratios():
    # four draws, one in each quadrant: (cost, change in readmissions)
    inc = incremental(analysis([-10.0, 10.0, -10.0, 10.0], [-2.0, -2.0, 3.0, 3.0]), "today")
    row = inc.row(0, named=True)
    shares = [
        row["share_cheaper_and_better"],
        row["share_costlier_and_better"],
        row["share_cheaper_and_worse"],
        row["share_costlier_and_worse"],
    ]
    assert shares == [0.25, 0.25, 0.25, 0.25]
    assert not any("per_readmission_avoided_dkk" in c and "of_means" not in c for c in inc.columns)
    assert row["cost_per_readmission_avoided_of_means_dkk"] is None  # mean effect is a loss


def test_a_cheaper_and_better_option_is_never_shown_as_a_negative_price():
    inc = incremental(analysis([-100.0, -50.0], [-4.0, -6.0]), "today")
    row = inc.row(0, named=True)
    assert row["share_cheaper_and_better"] == 1.0
    assert row["cost_per_readmission_avoided_of_means_dkk"] is None  # dominant: no price
    assert row["probability_cost_effective_at_0"] == 1.0  # dominant: worth it at any price
    assert row["net_benefit_at_0_dkk"] == pytest.approx(75.0)


def test_a_costlier_and_better_option_has_a_price_per_readmission_avoided():
    inc = incremental(analysis([100.0, 300.0], [-4.0, -6.0]), "today")
    assert inc["cost_per_readmission_avoided_of_means_dkk"][0] == pytest.approx(40.0)
