"""Warm-up diagnostics: when has a series settled?

MSER (White 1997; the batched MSER-5 of Franklin & White 2008) picks the truncation point
d that minimises the squared standard error of the mean of what is left,
sum((x_i - mean_d)^2) / (n - d)^2, searched over the first half of the series. A warm-up
is long enough when MSER's point lies before the reporting window starts.
"""

from __future__ import annotations

import numpy as np

from sim.flow.counters import C
from sim.flow.inputs import build_periods
from sim.run.runner import ScenarioSpec, read_and_release, simulate_system


def mser(series: np.ndarray, batch: int = 1) -> int:
    """Index (in the original series) from which to keep the data; batch > 1 is MSER-b."""
    x = np.asarray(series, dtype=float)
    if batch > 1:
        n_batches = x.size // batch
        x = x[: n_batches * batch].reshape(n_batches, batch).mean(axis=1)
    n = x.size
    if n < 4:
        return 0
    best, best_d = np.inf, 0
    for d in range(n // 2 + 1):
        rest = x[d:]
        stat = float(((rest - rest.mean()) ** 2).sum()) / (n - d) ** 2
        if stat < best:
            best, best_d = stat, d
    return best_d * batch


def settled_from(per_replication: np.ndarray, batch: int = 1) -> int:
    """MSER's truncation point of the mean over replications (replication × time)."""
    return mser(np.asarray(per_replication, dtype=float).mean(axis=0), batch)


def warmup_series(spec: ScenarioSpec, seed: int, replications: int) -> dict:
    """Per replication and planning period, warm-up included: national admissions and
    delayed-discharge days (per day, so periods of unequal length compare) and the
    intermediate-care beds in force. Returns the arrays (replication × period), the
    period labels and the index of the first reported period."""

    def read(system) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        periods = system.inputs.periods
        days = np.array([p.end - p.start for p in periods])
        counts = system.engine.counts.sum(axis=(1, 2))  # period × counter
        beds = np.array([float(s.sop_beds.sum()) for s in system.applied])
        return (
            counts[:, C["admissions"]] / days,
            counts[:, C["delayed_discharge_days"]] / days,
            beds,
        )

    rows = [read_and_release(simulate_system(spec, r, seed), read) for r in range(replications)]
    periods = [p for p in build_periods(spec.scenario) if p.label != "followup"]
    n = len(periods)
    return {
        "labels": np.array([p.label for p in periods]),
        "first_reported": next(i for i, p in enumerate(periods) if p.reported),
        "admissions_per_day": np.array([r[0][:n] for r in rows]),
        "delayed_days_per_day": np.array([r[1][:n] for r in rows]),
        "sop_beds": np.array([r[2][:n] for r in rows]),
    }
