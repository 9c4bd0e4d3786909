"""Definitions the whole model shares: the length of a year, the readmission window and
the age-band edges. One home each, so the kernel, the SimPy reference, the inputs and the
KPI table cannot disagree."""

from __future__ import annotations

#: Days per year, for rates given per year (Julian year, as in actuarial tables).
DAYS_PER_YEAR = 365.25
#: A readmission is an acute admission within this many days of a discharge.
READMISSION_DAYS = 30.0
#: Ages (years) at which a patient moves into the next age band (50-64 | 65-74 | 75-84 | 85+).
AGE_BAND_EDGES: tuple[float, ...] = (65.0, 75.0, 85.0)
#: Mortality after an admission is counted within this many days of it.
MORTALITY_DAYS = 30.0
