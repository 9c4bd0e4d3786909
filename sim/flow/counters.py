"""The kernel's counter columns, from the registry of measures (`sim.measures`).

The index of each name in `COUNTERS` is its column in an engine's `counts` array of shape
(period, municipality, group, counter). Unit-level time integrals go in `unit_occupancy`.
The kernel compiles these indices in as constants; `sim.flow.cache` discards its compiled
cache whenever they change.
"""

from __future__ import annotations

from sim.measures import COUNTERS

C = {name: i for i, name in enumerate(COUNTERS)}
N_COUNTERS = len(COUNTERS)

#: unit kinds in `unit_occupancy` (period, kind, unit): time-integral of occupied places.
UNIT_KINDS: tuple[str, ...] = ("hospital", "sop", "home_treatment")

# Constants the numba kernel uses (module-level ints are frozen at compile time).
EPISODES = C["episodes"]
WINDOW_RESOLVED = C["window_resolved"]
GP_CONTACTS = C["gp_contacts"]
GP_RESOLVED = C["gp_resolved"]
HT_EPISODES = C["home_treatment_episodes"]
HT_FOLLOWUPS = C["home_followups"]
HT_ESCALATIONS = C["ht_escalations"]
STEPUP_REQUESTS = C["stepup_requests"]
STEPUP_BLOCKED = C["stepup_blocked"]
HT_BLOCKED = C["ht_blocked"]
FOLLOWUP_BLOCKED = C["followup_blocked"]
SOP_ADMISSIONS = C["sop_admissions"]
SOP_STEPDOWNS = C["sop_stepdowns"]
SOP_ESCALATIONS = C["sop_escalations"]
ADMISSIONS = C["admissions"]
DISCHARGES = C["discharges"]
READMISSIONS = C["readmissions_30d"]
DEATHS = C["deaths"]
DEATHS_IN_HOSPITAL = C["deaths_in_hospital"]
DEATHS_EPISODE = C["deaths_episode"]
DEATHS_EPISODE_OUTSIDE = C["deaths_episode_outside_hospital"]
DEATHS_POST_EPISODE = C["deaths_post_episode"]
ADMISSION_DEATHS_30D = C["admission_deaths_30d"]
PREMATURE = C["premature_discharges"]
DELAYED = C["delayed_discharges"]
HOSPITAL_DAYS = C["hospital_bed_days"]
DELAYED_DAYS = C["delayed_discharge_days"]
DELAYED_DAYS_LATE = C["delayed_discharge_days_late"]
SOP_DAYS = C["sop_bed_days"]
SOP_STEPUP_DAYS = C["sop_stepup_bed_days"]
SOP_AWAY = C["sop_placements_away"]
SOP_TRAVEL_KM = C["sop_travel_km"]
HT_AWAY = C["ht_placements_away"]
HT_TRAVEL_KM = C["ht_travel_km"]
HT_DAYS = C["ht_days"]
SOP_WAIT_DAYS = C["sop_wait_days"]
SOP_WAITS = C["sop_waits"]
ADMISSION_WAIT_DAYS = C["admission_wait_days"]
ENTRIES = C["entries"]
PERSON_DAYS = C["person_days"]
PACKAGE_DAYS = C["package_days"]

#: Counters per general practice (period, practice, counter), for patients aged 65+ at the
#: time of the count (a readmission at the age of its index discharge); names as in COUNTERS.
PRACTICE_COUNTERS: tuple[str, ...] = (
    "discharges",
    "readmissions_30d",
    "admissions",
    "person_days",
    "delayed_discharge_days",
)
N_PRACTICE_COUNTERS = len(PRACTICE_COUNTERS)
P_DISCHARGES, P_READMISSIONS, P_ADMISSIONS, P_PERSON_DAYS, P_DELAYED_DAYS = range(5)
assert all(name in C for name in PRACTICE_COUNTERS)
