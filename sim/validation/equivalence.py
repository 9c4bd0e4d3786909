"""Equivalence of the numba kernel and the SimPy reference: two one-sided t-tests (TOST).

A difference test ("does not reject equality") passes whenever the replications are too
few or too noisy to see a difference; an equivalence test passes only when the data show
the difference lies within a stated margin. Here: the paired difference (numba − SimPy)
per replication, each replication's value the mean of its reporting periods (batch means
over a long run); equivalent when the 90% CI of the mean difference lies inside
±margin, i.e. both one-sided tests reject at alpha = 0.05. Requiring every KPI to pass is
an intersection-union test, so no multiplicity correction is needed.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

ALPHA = 0.05
#: The margin: this share of the reference mean...
MARGIN_RELATIVE = 0.05
#: ...but never below this many units per batch (small counts are noisy).
MARGIN_ABSOLUTE = 1.0


def margin(reference_mean: float) -> float:
    return max(MARGIN_RELATIVE * abs(reference_mean), MARGIN_ABSOLUTE)


def tost(diffs: np.ndarray, delta: float, alpha: float = ALPHA) -> dict:
    """TOST of mean(diffs) within ±delta: p-value (the larger one-sided p) and the
    (1 − 2·alpha) CI; `equivalent` when p < alpha."""
    d = np.asarray(diffs, dtype=float)
    n = d.size
    mean = float(d.mean())
    sd = float(d.std(ddof=1)) if n > 1 else 0.0
    if sd == 0.0:
        inside = abs(mean) < delta
        return {
            "diff_mean": mean,
            "ci90_low": mean,
            "ci90_high": mean,
            "margin": delta,
            "p_value": 0.0 if inside else 1.0,
            "equivalent": inside,
        }
    se = sd / np.sqrt(n)
    p_lower = float(stats.t.sf((mean + delta) / se, n - 1))  # H0: mean <= -delta
    p_upper = float(stats.t.cdf((mean - delta) / se, n - 1))  # H0: mean >= +delta
    half = float(stats.t.ppf(1 - alpha, n - 1) * se)
    p = max(p_lower, p_upper)
    return {
        "diff_mean": mean,
        "ci90_low": mean - half,
        "ci90_high": mean + half,
        "margin": delta,
        "p_value": p,
        "equivalent": p < alpha,
    }
