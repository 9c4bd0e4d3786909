"""The numba core agrees with the SimPy reference on every KPI both produce.

Both engines run the teaching geography for 30 replications; replication r of each uses
the same named streams (so the same cohort and entrants) but draws the rest in a
different order, so their outcomes are correlated but not equal. We test each KPI's
paired difference d_r = numba_r − simpy_r with a one-sample t-test of mean zero, which is
valid whatever the correlation. With K KPIs at a family-wise false-alarm rate of 0.001,
each test uses alpha = 0.001/K (Bonferroni); the two-sided t(29) critical value is about
4.6 for K = 24. test_the_comparison_has_power checks that a 5 % difference in
admissions would be caught.

Each replication reports half a year after a 30-day warm-up (the teaching config's 120
days would add a third to the SimPy reference's time, the suite's longest module, without
adding power: both engines start from the same state, and what is compared is the
reported half year).
"""

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim.flow.counters import C
from sim.measures import CROSS_VALIDATED
from sim.run.runner import load_scenario, simulate

ROOT = Path(__file__).resolve().parent.parent
REPLICATIONS = 30
KPIS = CROSS_VALIDATED  # the same list the validation report checks
FAMILY_ALPHA = 0.001


@pytest.fixture(scope="module")
def totals():
    spec = load_scenario(
        ROOT / "configs" / "teaching.yaml",
        ["simulation.end=2026-07-01", "simulation.warmup_days=30"],
    )
    out = {}
    for engine in ("numba", "simpy"):
        rows = []
        for r in range(REPLICATIONS):
            eng, inputs = simulate(spec, r, seed=101, engine=engine)
            reported = [k for k, p in enumerate(inputs.periods) if p.reported]
            rows.append(eng.counts[reported].sum(axis=(0, 1, 2)))
        out[engine] = np.array(rows)
    return out


@pytest.mark.parametrize("kpi", KPIS)
def test_engines_agree(totals, kpi):
    a, b = totals["numba"][:, C[kpi]], totals["simpy"][:, C[kpi]]
    d = a - b
    if np.all(d == d[0]):
        assert d[0] == pytest.approx(0.0, abs=1e-6), f"{kpi}: constant difference {d[0]}"
        return
    t = d.mean() / (d.std(ddof=1) / np.sqrt(d.size))
    critical = stats.t.ppf(1 - FAMILY_ALPHA / len(KPIS) / 2, d.size - 1)
    assert abs(t) < critical, (
        f"{kpi}: numba {a.mean():.1f} vs simpy {b.mean():.1f} (paired t = {t:.2f}, critical "
        f"{critical:.2f})"
    )


def test_the_comparison_has_power(totals):
    # The smallest difference in admissions the test above would flag (critical value ×
    # standard error of the paired mean) must be under 5 % of admissions, or agreement
    # would say little.
    a, b = totals["numba"][:, C["admissions"]], totals["simpy"][:, C["admissions"]]
    se = (a - b).std(ddof=1) / np.sqrt(REPLICATIONS)
    critical = stats.t.ppf(1 - FAMILY_ALPHA / len(KPIS) / 2, REPLICATIONS - 1)
    assert critical * se < 0.05 * a.mean()
