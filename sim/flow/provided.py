"""Capacity provided: place-days of the beds and team places in force, as counters.

The kernel counts what patients use; what is provided follows from the capacities a period
ran with (`PeriodSettings`), so it is added to the counts array after the period, before
anyone reads it (the organisations' ledgers, the KPI table). A municipality's place-days
are shared out to its patient groups by their person-days in the period, so the group rows
still sum to the 'all' row; where nobody lived in a municipality they go to the groups in
equal parts. These counters are then priced per place-day like any other
(`sim.regime.costs`), which is how idle capacity costs money.
"""

from __future__ import annotations

import numpy as np

from sim.flow.counters import C
from sim.flow.inputs import PeriodSettings


def provided(settings: PeriodSettings, days: float) -> dict[str, np.ndarray]:
    """Place-days provided per municipality in a period of `days` days."""
    sop = np.asarray(settings.sop_beds, dtype=np.float64) * days
    ht = np.asarray(settings.ht_slots, dtype=np.float64) * days
    duty = np.clip(np.asarray(settings.ht_duty_hours, dtype=np.float64), 0.0, 24.0) / 24.0
    return {
        "sop_bed_days_provided": sop,
        "ht_place_days_provided": ht,
        "ht_duty_place_days": ht * duty,
    }


def add_provided(counts: np.ndarray, settings: PeriodSettings, days: float) -> None:
    """Add one period's place-days provided to its counts (municipality, group, counter),
    in place. The counters must be zero before (each period is added once)."""
    person_days = counts[:, :, C["person_days"]]
    total = person_days.sum(axis=1, keepdims=True)
    n_groups = counts.shape[1]
    share = np.divide(
        person_days, total, out=np.full_like(person_days, 1.0 / n_groups), where=total > 0
    )
    for name, per_muni in provided(settings, days).items():
        if per_muni.shape[0] != counts.shape[0]:
            raise ValueError(
                f"{name}: {per_muni.shape[0]} municipalities, counts have {counts.shape[0]}"
            )
        counts[:, :, C[name]] += per_muni[:, None] * share
