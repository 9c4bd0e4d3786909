"""`sektorsim trace`: the pathway of a few patients, event by event, for teaching.

The kernel logs every change of place (home, waiting for a bed, hospital, intermediate
care, home treatment, dead) of a handful of traced patients; this module turns the log
into sentences. Tracing only reads the state, so the traced run is the same run: its
numbers equal those of an untraced run with the same seed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sim.config.schema import GROUPS
from sim.flow import kernel as kn
from sim.rng import seed_sequence
from sim.run.runner import ScenarioSpec, simulate_system

#: How many cohort patients are traced to find the few that are shown.
CANDIDATES = 400
PLACES = {
    kn.HOME: "home",
    kn.QUEUE: "waiting for a hospital bed",
    kn.HOSPITAL: "hospital",
    kn.SOP: "intermediate-care bed",
    kn.HT: "home treatment",
    kn.DEAD: "dead",
    kn.UNBORN: "not yet in the population",
}
FRAILTY = ("not frail", "moderately frail", "severely frail")


@dataclass(frozen=True)
class TraceEvent:
    patient: int
    day: float  # days since the start of the warm-up
    date: str
    period: str
    place: str
    unit: str
    event: str
    readmission: bool


def candidates(seed: int, replication: int, cohort_size: int, n: int = CANDIDATES) -> np.ndarray:
    """A fixed random sample of cohort patients, from its own stream (no model stream is used)."""
    rng = np.random.Generator(np.random.PCG64(seed_sequence(seed, replication, "trace")))
    return np.sort(rng.choice(cohort_size, size=min(n, cohort_size), replace=False))


def _unit_name(system, place: int, unit: int) -> str:
    units = system.inputs.units
    names = {
        kn.QUEUE: units.hospital_names,
        kn.HOSPITAL: units.hospital_names,
        kn.SOP: units.sop_names,
        kn.HT: units.ht_names,
    }.get(place)
    return names[unit] if names is not None and 0 <= unit < len(names) else ""


def _sentence(kind: int, src: int, dst: int, delayed: int, note: int, was_delayed: bool) -> str:
    if kind == kn.E_EPISODE:
        return {
            (
                kn.HOME,
                kn.NOTE_WINDOW,
            ): "acute episode: handled at home under the hospital's post-discharge responsibility",
            (kn.HOME, kn.NOTE_GP): "acute episode: resolved by the GP",
            (kn.HT, kn.NOTE_NONE): "acute episode: treated at home by the home-treatment team",
            (kn.SOP, kn.NOTE_NONE): "acute episode: step-up to an intermediate-care bed",
            (kn.HOSPITAL, kn.NOTE_NONE): "acute episode: admitted to hospital",
            (kn.QUEUE, kn.NOTE_NONE): "acute episode: to hospital, but every bed is taken; waits",
        }.get((dst, note), f"acute episode: {PLACES[dst]}")
    if src == kn.UNBORN:
        return "enters the population (turns 65)"
    if dst == kn.DEAD:
        return f"dies ({PLACES[src]})" if src != kn.HOME else "dies at home"
    if src == dst == kn.HOSPITAL and delayed:
        return (
            "medically ready, but no intermediate-care bed is free: "
            "waits in hospital (delayed discharge)"
        )
    if src == kn.HOSPITAL:
        after = " after a delayed discharge" if was_delayed else ""
        return {
            kn.SOP: f"discharged to an intermediate-care bed (step-down){after}",
            kn.HT: "discharged with follow-up by the home-treatment team",
            kn.HOME: "discharged home",
        }.get(dst, f"leaves hospital for {PLACES[dst]}")
    if src == kn.QUEUE and dst == kn.HOSPITAL:
        return "gets a hospital bed"
    if dst in (kn.HOSPITAL, kn.QUEUE):
        return f"escalated from {PLACES[src]} to hospital" + (
            " (waits for a bed)" if dst == kn.QUEUE else ""
        )
    if dst == kn.HOME:
        return {kn.SOP: "leaves the intermediate-care bed, home", kn.HT: "home treatment ends"}.get(
            src, "home"
        )
    return f"{PLACES[src]} -> {PLACES[dst]}"


def trace_patients(
    spec: ScenarioSpec,
    seed: int,
    replication: int = 0,
    patients: int = 5,
    include_quiet: bool = False,
) -> tuple[dict[int, dict], list[TraceEvent]]:
    """Run one replication tracing a fixed sample; return the first `patients` of the sample
    that were in hospital at least once (any, with include_quiet) and their events."""
    system = simulate_system(
        spec,
        replication,
        seed,
        trace=lambda inputs: candidates(seed, replication, inputs.cohort.size),
    )
    log = system.engine.trace_log
    inputs = system.inputs
    day0 = inputs.periods[0].first_date
    ends = np.array([p.end for p in inputs.periods])
    admitted = set(
        log[np.isin(log[:, kn.TR_TO], (kn.HOSPITAL, kn.QUEUE)), kn.TR_PATIENT].astype(int).tolist()
    )
    chosen = [
        int(p) for p in system.engine.arrays["tr_ids"] if include_quiet or int(p) in admitted
    ][:patients]
    c = inputs.cohort
    who = {
        p: {
            "municipality": inputs.geography.municipalities[c.muni[p]],
            "group": GROUPS[c.group[p]],
            "age": int(c.age0[p]),
            "frailty": FRAILTY[c.frailty[p]],
        }
        for p in chosen
    }
    events: list[TraceEvent] = []
    for p in chosen:
        last_discharge, was_delayed = None, False
        for row in log[log[:, kn.TR_PATIENT] == p]:
            t, kind, src, dst = (
                float(row[kn.TR_TIME]),
                int(row[kn.TR_EVENT]),
                int(row[kn.TR_FROM]),
                int(row[kn.TR_TO]),
            )
            delayed = int(row[kn.TR_DELAYED])
            entering = dst in (kn.HOSPITAL, kn.QUEUE) and src not in (kn.HOSPITAL, kn.QUEUE)
            readmission = (
                entering
                and last_discharge is not None
                and t - last_discharge <= kn.READMISSION_DAYS
            )
            text = _sentence(kind, src, dst, delayed, int(row[kn.TR_NOTE]), was_delayed)
            if readmission:
                text += f" — a readmission, {t - last_discharge:.0f} days after discharge"
            if src == kn.HOSPITAL and dst in (kn.HOME, kn.SOP, kn.HT):
                last_discharge = t
            was_delayed = bool(delayed) if dst == kn.HOSPITAL else False
            k = min(int(np.searchsorted(ends, t, side="right")), len(ends) - 1)
            events.append(
                TraceEvent(
                    patient=p,
                    day=round(t, 3),
                    date=(day0 + dt.timedelta(days=int(t))).isoformat(),
                    period=inputs.periods[k].label,
                    place=PLACES[dst],
                    unit=_unit_name(system, dst, int(row[kn.TR_UNIT])),
                    event=text,
                    readmission=readmission,
                )
            )
    return who, events
