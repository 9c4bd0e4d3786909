"""The SimPy reference model: docs/model-spec.md written for people to read.

Each patient is a SimPy process that lives through the pathway step by step (home,
triage, hospital, step-down, home treatment); a second process per patient waits for
death and interrupts the first. Units are `Pool`s: a count of places, a capacity the
organisations may change between periods, and a FIFO list of waiting patients.

It is deliberately written in SimPy's own idiom, not translated from the numba kernel,
so that agreement between the two (tests/test_cross_validation.py) means something.
It draws from the same named streams but in a different order, so the engines agree in
distribution, not draw by draw. Choices where the spec leaves room:
- A patient waiting for a step-down bed is "delayed" from the moment of readiness; the
  wait recorded for an immediate placement is zero.
- Package enrolment changes interrupt patients at home, whose clocks are redrawn
  (memorylessness makes that exact), as the kernel does.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import simpy

from sim.constants import AGE_BAND_EDGES, DAYS_PER_YEAR, MORTALITY_DAYS, READMISSION_DAYS
from sim.flow import counters as K
from sim.flow.inputs import N_GROUPS, FlowInputs, PeriodSettings, group_of

HOSPITAL, SOP, HT = 0, 1, 2
# where an episode is treated: the order of Params.setting_rr (as the kernel's R_*)
R_HOSPITAL, R_HOME_TREATMENT, R_STEPUP, R_GP, R_WINDOW = 0, 1, 2, 3, 4


class Pool:
    """Places in a unit; waiting patients queue FIFO; capacity may change between periods."""

    def __init__(self, engine: SimpyEngine, kind: int, index: int):
        self.engine, self.kind, self.index = engine, kind, index
        self.capacity = 0
        self.used = 0
        self.waiting: deque = deque()  # (patient, event) in arrival order
        self.last = 0.0

    def _integrate(self) -> None:
        now = self.engine.env.now
        self.engine.unit_occupancy[self.engine.k, self.kind, self.index] += self.used * (
            now - self.last
        )
        self.last = now

    def has_room(self) -> bool:
        return self.used < self.capacity

    def take(self) -> None:
        self._integrate()
        self.used += 1

    def release(self) -> None:
        self._integrate()
        self.used -= 1

    def close_period(self) -> None:
        self._integrate()


class Patient:
    """Attributes of one patient and where they are."""

    __slots__ = (
        "id",
        "muni",
        "group",
        "age0",
        "frailty",
        "cond",
        "pkg_u",
        "risk",
        "enrolled",
        "place",
        "pool",
        "since",
        "alive_since",
        "delayed_since",
        "premature",
        "stepup",
        "severity",
        "admitted",
        "admission_period",
        "last_discharge",
        "discharge_period",
        "discharge_counted",
        "excess",
        "resp_until",
        "life",
        "at_home",
        "practice",
    )

    def __init__(self, pid, muni, group, age0, frailty, cond, pkg_u, risk, now):
        self.id, self.muni, self.group, self.age0 = pid, muni, group, age0
        self.frailty, self.cond, self.pkg_u, self.risk = frailty, cond, pkg_u, risk
        self.enrolled = False
        self.place = "home"
        self.pool: Pool | None = None
        self.since = now
        self.alive_since = now
        self.delayed_since: float | None = None
        self.premature = False
        self.stepup = False
        self.severity = 1.0
        self.admitted: float | None = None
        self.admission_period = 0
        self.last_discharge: float | None = None
        self.discharge_period = 0
        self.discharge_counted = True
        self.excess = 0.0
        self.resp_until = -1.0
        self.life: simpy.Process | None = None
        self.at_home = False

    def age(self, t: float) -> float:
        return self.age0 + t / DAYS_PER_YEAR

    def band(self, t: float) -> int:
        return int(np.searchsorted(AGE_BAND_EDGES, self.age(t) + 1e-9, side="right"))

    def next_band_change(self, t: float) -> float:
        for edge in AGE_BAND_EDGES:
            t_edge = (edge - self.age0) * DAYS_PER_YEAR
            if t_edge > t + 1e-6:
                return t_edge
        return np.inf


class Died(Exception):
    pass


class SimpyEngine:
    """SimPy implementation of docs/model-spec.md, advanced one period at a time."""

    def __init__(self, inputs: FlowInputs, rng: dict[str, np.random.Generator]):
        self.inputs, self.p, self.rng = inputs, inputs.params, rng
        self.env = simpy.Environment()
        n_periods, n_muni = len(inputs.periods), inputs.geography.n
        units = inputs.units
        n_units = max(len(units.hospital_names), len(units.sop_names), len(units.ht_names))
        self.counts = np.zeros((n_periods, n_muni, N_GROUPS, K.N_COUNTERS))
        self.unit_occupancy = np.zeros((n_periods, 3, n_units))
        self.pools = [
            [Pool(self, HOSPITAL, i) for i in range(len(units.hospital_names))],
            [Pool(self, SOP, i) for i in range(len(units.sop_names))],
            [Pool(self, HT, i) for i in range(len(units.ht_names))],
        ]
        self.patients: list[Patient] = []
        self.k = 0
        self.settings: PeriodSettings | None = None
        self._started = False

    # ---------------------------------------------------------------- bookkeeping
    def count(
        self, patient: Patient, what: int, amount: float = 1.0, period: int | None = None
    ) -> None:
        k = self.k if period is None else period
        self.counts[k, patient.muni, patient.group, what] += amount

    def close_stay(self, patient: Patient) -> None:
        """Add the time since `since` to the patient's current place."""
        now = self.env.now
        if patient.place == "hospital":
            self.count(patient, K.HOSPITAL_DAYS, now - patient.since)
            if patient.delayed_since is not None:
                start = max(patient.since, patient.delayed_since)
                self.count(patient, K.DELAYED_DAYS, now - start)
                late_from = max(patient.since, patient.delayed_since + self.p.delay_step_days)
                if now > late_from:
                    self.count(patient, K.DELAYED_DAYS_LATE, now - late_from)
        elif patient.place == "sop":
            self.count(patient, K.SOP_DAYS, now - patient.since)
            if patient.stepup:
                self.count(patient, K.SOP_STEPUP_DAYS, now - patient.since)
        elif patient.place == "ht":
            self.count(patient, K.HT_DAYS, now - patient.since)
        patient.since = now

    def move(self, patient: Patient, place: str, pool: Pool | None = None) -> None:
        self.close_stay(patient)
        patient.place, patient.pool = place, pool

    # ------------------------------------------------------------------ sampling
    def stay(self, dist: int, mean: float, cv: float) -> float:
        r = self.rng["stay"]
        if dist == 0:
            return r.exponential(mean)
        if cv <= 0:
            return mean
        if dist == 1:
            s2 = np.log(1 + cv * cv)
            return float(np.exp(r.normal(np.log(mean) - s2 / 2, np.sqrt(s2))))
        shape = 1 / (cv * cv)
        return r.gamma(shape, mean / shape)

    def chance(self, p: float) -> bool:
        return self.rng["route"].random() < p

    def excess_time(self, since: float, discharge: float, mass: float, tau: float) -> float:
        """Next event of the decaying post-discharge hazard after `since` (or inf)."""
        if mass <= 0:
            return np.inf
        e = self.rng["clock"].exponential(1.0)
        left = np.exp(-(since - discharge) / tau)
        if e >= mass * left:
            return np.inf
        return discharge - tau * np.log(left - e / mass)

    def next_episode(self, patient: Patient) -> float:
        now = self.env.now
        rate = self.p.episode_rate[patient.band(now)] * patient.risk
        if patient.enrolled:
            rate *= self.settings.package_hr
        t = now + self.rng["clock"].exponential(1 / rate) if rate > 0 else np.inf
        if patient.last_discharge is not None:
            t = min(
                t,
                self.excess_time(now, patient.last_discharge, patient.excess, self.p.excess_decay),
            )
        return t

    # ------------------------------------------------------------------ patients
    def add_patient(self, muni, group, age0, frailty, cond, pkg_u) -> Patient:
        risk = self.p.episode_frailty_hr[frailty]
        for bit in range(len(self.p.condition_hr)):
            if (cond >> bit) & 1:
                risk *= self.p.condition_hr[bit]
        patient = Patient(
            len(self.patients), muni, group, age0, frailty, cond, pkg_u, risk, self.env.now
        )
        # the practice of the patient's slot in their municipality (the kernel's rule)
        pr = self.inputs.practices
        n = int(pr.count[muni])
        patient.practice = int(pr.first[muni]) + min(int(pr.slot_u[patient.id] * n), n - 1)
        patient.enrolled = self.eligible(patient)
        self.patients.append(patient)
        patient.life = self.env.process(self.life(patient))
        self.env.process(self.mortality(patient))
        return patient

    def eligible(self, patient: Patient) -> bool:
        s = self.settings
        return bool(patient.cond & s.package_conditions) and patient.pkg_u < s.package_share

    def kill(self, patient: Patient) -> bool:
        if patient.place != "dead" and patient.life is not None and patient.life.is_alive:
            patient.life.interrupt("death")
            return True
        return False

    def mortality(self, patient: Patient):
        """Background death, piecewise constant by age band."""
        while patient.place != "dead":
            now = self.env.now
            rate = self.p.death_rate[patient.band(now)] * self.p.death_frailty_hr[patient.frailty]
            t_death = now + self.rng["clock"].exponential(1 / rate) if rate > 0 else np.inf
            t_edge = patient.next_band_change(now)
            t = min(t_death, t_edge)
            if t == np.inf:
                return
            yield self.env.timeout(t - now)
            if t_death <= t_edge:
                self.kill(patient)
                return

    def excess_death(self, patient: Patient, when: float):
        yield self.env.timeout(when - self.env.now)
        if self.kill(patient):
            self.count(patient, K.DEATHS_POST_EPISODE)

    def life(self, patient: Patient):
        """Home → episode → triage → (hospital → step-down / follow-up) → home, until death."""
        try:
            while True:
                yield from self.at_home(patient)
                yield from self.episode(patient)
        except Died:
            pass

    def wait(self, patient: Patient, delay_or_event):
        """Wait for a timeout or event; a death interrupt becomes Died, a redraw returns False."""
        event = (
            self.env.timeout(delay_or_event)
            if isinstance(delay_or_event, float)
            else delay_or_event
        )
        try:
            yield event
            return True
        except simpy.Interrupt as interrupt:
            if interrupt.cause == "death":
                self.die(patient)
                raise Died from None
            return False

    def at_home(self, patient: Patient):
        """Wait at home for the next episode; age-band edges and enrolment changes redraw."""
        self.move(patient, "home")
        while True:
            now = self.env.now
            t_episode = self.next_episode(patient)
            t_edge = patient.next_band_change(now)
            t = min(t_episode, t_edge)
            patient.at_home = True
            finished = yield from self.wait(
                patient, float(t - now) if t < np.inf else self.env.event()
            )
            patient.at_home = False
            if finished and t_episode <= t_edge:
                return

    def episode(self, patient: Patient):
        s, p, g, m = self.settings, self.p, patient.group, patient.muni
        now = self.env.now
        self.count(patient, K.EPISODES)
        patient.severity = self.rng["route"].random()
        grave = patient.severity < p.episode_fatality[g]  # never resolved by window or GP
        if now < patient.resp_until and self.chance(s.window_resolve) and not grave:
            self.count(patient, K.WINDOW_RESOLVED)
            self.end_episode_at_home(patient, R_WINDOW)
            return
        if self.chance(s.gp_access[m]):
            self.count(patient, K.GP_CONTACTS)
            if self.chance(p.gp_resolve[g]) and not grave:
                self.count(patient, K.GP_RESOLVED)
                self.end_episode_at_home(patient, R_GP)
                return
        if self.chance(p.ht_suitable[g]):
            team = self.free_place(HT, self.inputs.units.ht_of_muni[m])
            hour = (now % 1.0) * 24.0
            if team is None:
                self.count(patient, K.HT_BLOCKED)
            elif (hour - s.ht_duty_start[team.index]) % 24.0 < s.ht_duty_hours[team.index]:
                self.count(patient, K.HT_EPISODES)
                yield from self.home_treatment(patient, team, p.ht_mean, treating=True)
                return
        if self.chance(p.stepup_suitable[g]):
            self.count(patient, K.STEPUP_REQUESTS)
            own = self.inputs.units.sop_of_muni[m]
            if self.chance(s.sop_accept[own]):
                bed = self.free_place(SOP, own)
                if bed is not None:
                    yield from self.intermediate_care(patient, bed, stepup=True)
                    return
                self.count(patient, K.STEPUP_BLOCKED)
        yield from self.hospital(patient)

    def accepts(self, kind: int, home: int, unit: int) -> bool:
        """A place `km` from home is taken with chance exp(-km / decay) (the spec's rule)."""
        km, decay = self.p.distance_km[home, unit], self.p.decay_km[kind]
        if km <= 0.0 or decay == np.inf:
            return True
        return self.rng["route"].random() < np.exp(-km / decay)

    def free_place(self, kind: int, own: int) -> Pool | None:
        """The own unit if it has room, else the nearest unit of the same pool that has,
        taken with a chance that decays with its distance (declined: none)."""
        pools = self.pools[kind]
        if pools[own].has_room():
            return pools[own]
        pool_of = self.settings.sop_pool if kind == SOP else self.settings.ht_pool
        for u in self.p.nearest[own][1:]:
            if pool_of[u] == pool_of[own] and pools[u].has_room():
                return pools[u] if self.accepts(kind, own, u) else None
        return None

    def travelled(self, patient: Patient, kind: int, unit: Pool) -> None:
        """Count a stay in another municipality's bed or by its team, and the distance."""
        units = self.inputs.units
        home = (units.sop_of_muni if kind == SOP else units.ht_of_muni)[patient.muni]
        if unit.index != home:
            away, km = (K.SOP_AWAY, K.SOP_TRAVEL_KM) if kind == SOP else (K.HT_AWAY, K.HT_TRAVEL_KM)
            self.count(patient, away)
            self.count(patient, km, self.p.distance_km[home, unit.index])

    def home_treatment(self, patient: Patient, team: Pool, mean: float, treating: bool):
        team.take()
        self.travelled(patient, HT, team)
        self.move(patient, "ht", team)
        yield from self.wait(patient, float(self.rng["stay"].exponential(mean)))
        self.move(patient, "home")
        team.release()
        if self.chance(self.p.ht_escalation):
            self.count(patient, K.HT_ESCALATIONS)
            yield from self.hospital(patient)
        elif treating:
            self.end_episode_at_home(patient, R_HOME_TREATMENT)

    def intermediate_care(self, patient: Patient, bed: Pool, stepup: bool):
        mean = self.p.sop_stepup_mean if stepup else self.p.sop_stepdown_mean
        bed.take()
        patient.stepup = stepup
        self.move(patient, "sop", bed)
        self.count(patient, K.SOP_ADMISSIONS)
        self.travelled(patient, SOP, bed)
        yield from self.wait(patient, float(self.stay(self.p.sop_dist, mean, self.p.sop_cv)))
        self.move(patient, "home")
        bed.release()
        self.offer_sop_bed(bed)
        if self.chance(self.p.sop_escalation):
            self.count(patient, K.SOP_ESCALATIONS)
            yield from self.hospital(patient)
        elif stepup:
            self.end_episode_at_home(patient, R_STEPUP)

    def offer_sop_bed(self, bed: Pool) -> None:
        """A freed step-down bed goes to the first delayed patient of its unit, else to the
        first of the nearest queue of its pool who accepts the distance."""
        pool_of, u = self.settings.sop_pool, bed.index
        others = [self.pools[SOP][v] for v in self.p.nearest[u][1:] if pool_of[v] == pool_of[u]]
        while bed.has_room():
            queue = bed if bed.waiting else None
            for q in others if queue is None else ():
                if q.waiting and self.accepts(SOP, q.index, u):
                    queue = q
                    break
            if queue is None:
                return
            waiter, event = queue.waiting.popleft()
            bed.take()  # reserve now; the waiter moves in when its process resumes
            event.succeed(bed)

    def hospital(self, patient: Patient):
        """Admission, stay, and the way out (death, step-down, follow-up or home)."""
        p, s = self.p, self.settings
        now = self.env.now
        self.count(patient, K.ADMISSIONS)
        patient.admitted, patient.admission_period = now, self.k
        if (
            patient.last_discharge is not None
            and not patient.discharge_counted
            and now - patient.last_discharge <= READMISSION_DAYS
        ):
            self.count(patient, K.READMISSIONS, period=patient.discharge_period)
            patient.discharge_counted = True
        ward = self.pools[HOSPITAL][self.inputs.units.hosp_of_muni[patient.muni]]
        if ward.has_room():
            self.take_bed(patient, ward)
        else:
            granted = self.env.event()
            ward.waiting.append((patient, granted))
            self.move(patient, "queue", ward)
            arrived = now
            yield from self.wait_in_queue(patient, ward, granted)
            self.count(patient, K.ADMISSION_WAIT_DAYS, self.env.now - arrived)
            self.take_bed(patient, ward, reserved=True)
        los = self.stay(p.los_dist, p.los_mean[patient.group], p.los_cv)
        if patient.premature:
            los *= p.pressure_factor
        yield from self.wait(patient, float(los))
        # medically ready
        if self.fatal(patient, R_HOSPITAL):
            self.count(patient, K.DEATHS_EPISODE)
            self.die(patient)
            raise Died
        u = self.rng["route"].random()
        g = patient.group
        if u < p.stepdown[g]:
            own = self.inputs.units.sop_of_muni[patient.muni]
            if self.chance(s.sop_accept[own]):
                bed = self.free_place(SOP, own)
                if bed is None:
                    patient.delayed_since = self.env.now
                    self.count(patient, K.DELAYED)
                    granted = self.env.event()
                    self.pools[SOP][own].waiting.append((patient, granted))
                    bed = yield from self.wait_in_queue(patient, self.pools[SOP][own], granted)
                else:
                    bed.take()
                waited = self.env.now - (
                    patient.delayed_since if patient.delayed_since is not None else self.env.now
                )
                self.count(patient, K.SOP_WAIT_DAYS, waited)
                self.count(patient, K.SOP_WAITS)
                self.count(patient, K.SOP_STEPDOWNS)
                self.discharge(patient, ward, p.hr_stepdown)
                bed.release()  # intermediate_care takes it again (keeps one code path)
                yield from self.intermediate_care(patient, bed, stepup=False)
                return
        elif u < p.stepdown[g] + p.followup[g]:
            team = self.free_place(HT, self.inputs.units.ht_of_muni[patient.muni])
            if team is not None:
                self.count(patient, K.HT_FOLLOWUPS)
                self.discharge(patient, ward, p.hr_followup)
                yield from self.home_treatment(patient, team, p.ht_followup_mean, treating=False)
                return
            self.count(patient, K.FOLLOWUP_BLOCKED)
        self.discharge(patient, ward, 1.0)

    def wait_in_queue(self, patient: Patient, pool: Pool, granted: simpy.Event):
        """Wait for a place; if death comes first, leave the queue."""
        try:
            return (yield granted)
        except simpy.Interrupt as interrupt:
            pool.waiting = deque((w, e) for w, e in pool.waiting if w is not patient)
            if interrupt.cause == "death":
                self.die(patient)
                raise Died from None
            raise

    def pressure_share(self, occupied: int, capacity: int) -> float:
        """Share of stays cut short at this occupancy (the logistic curve of the spec)."""
        p = self.p
        if capacity <= 0:
            return p.pressure_max_share
        x = (occupied / capacity - p.pressure_midpoint) / p.pressure_width
        return p.pressure_max_share / (1.0 + np.exp(-x))

    def take_bed(self, patient: Patient, ward: Pool, reserved: bool = False) -> None:
        patient.premature = self.rng["stay"].random() < self.pressure_share(
            ward.used - (1 if reserved else 0), ward.capacity
        )
        if not reserved:
            ward.take()
        patient.delayed_since = None
        self.move(patient, "hospital", ward)

    def discharge(self, patient: Patient, ward: Pool, hazard_ratio: float) -> None:
        p, s = self.p, self.settings
        now = self.env.now
        self.move(patient, "home")
        patient.delayed_since = None
        self.count(patient, K.DISCHARGES)
        # the practice's follow-up multiplies the excess (mean 1; 1 when practices are alike)
        mass = p.excess_episodes * self.inputs.practices.effect[patient.practice] * hazard_ratio
        if patient.premature:
            self.count(patient, K.PREMATURE)
            mass *= p.hr_premature
        patient.excess = mass
        patient.last_discharge = now
        patient.discharge_period = self.k
        patient.discharge_counted = False
        patient.resp_until = now + s.window_days if self.chance(s.coverage[patient.group]) else -1.0
        self.after_episode(patient, R_HOSPITAL)
        ward.release()
        self.admit_from_queue(ward)

    def admit_from_queue(self, ward: Pool) -> None:
        while ward.has_room() and ward.waiting:
            _, event = ward.waiting.popleft()
            ward.take()
            event.succeed(ward)

    def fatal(self, patient: Patient, setting: int) -> bool:
        """The episode kills, treated in this setting (severity against its fatality × RR)."""
        p = self.p
        return patient.severity < p.episode_fatality[patient.group] * p.setting_rr[setting]

    def after_episode(self, patient: Patient, setting: int) -> None:
        """A survived episode: the decaying excess death hazard, times the setting's RR."""
        p, now = self.p, self.env.now
        mass = p.excess_deaths * p.setting_rr[setting]
        t_death = self.excess_time(now, now, mass, p.excess_death_decay)
        if t_death < np.inf:
            self.env.process(self.excess_death(patient, t_death))

    def end_episode_at_home(self, patient: Patient, setting: int) -> None:
        """An episode treated outside hospital ends (the patient is home): death or the
        excess hazard."""
        if self.fatal(patient, setting):
            self.count(patient, K.DEATHS_EPISODE)
            self.count(patient, K.DEATHS_EPISODE_OUTSIDE)
            self.die(patient)
            raise Died
        self.after_episode(patient, setting)

    def die(self, patient: Patient) -> None:
        place, pool = patient.place, patient.pool
        self.count(patient, K.DEATHS)
        if patient.admitted is not None and self.env.now - patient.admitted <= MORTALITY_DAYS:
            self.count(patient, K.ADMISSION_DEATHS_30D, period=patient.admission_period)
        self.count(patient, K.PERSON_DAYS, self.env.now - patient.alive_since)
        if patient.enrolled:
            self.count(patient, K.PACKAGE_DAYS, self.env.now - patient.alive_since)
        if place in ("hospital", "queue"):
            self.count(patient, K.DEATHS_IN_HOSPITAL)
        self.close_stay(patient)
        patient.place = "dead"
        if place == "hospital":
            if patient.delayed_since is not None:
                own = self.pools[SOP][self.inputs.units.sop_of_muni[patient.muni]]
                own.waiting = deque((w, e) for w, e in own.waiting if w is not patient)
            pool.release()
            self.admit_from_queue(pool)
        elif place == "sop":
            pool.release()
            self.offer_sop_bed(pool)
        elif place == "ht":
            pool.release()

    # ------------------------------------------------------------------- entries
    def entries(self, muni: int):
        p, r = self.p, self.rng["entry"]
        rate = p.entry_rate[muni]
        if rate <= 0:
            return
        while True:
            yield self.env.timeout(r.exponential(1 / rate))
            cond = 0
            for bit in range(len(p.entry_conditions)):
                if r.random() < p.entry_conditions[bit]:
                    cond |= 1 << bit
            u = r.random()
            frailty = (
                2
                if u < p.entry_frailty[2]
                else (1 if u < p.entry_frailty[2] + p.entry_frailty[1] else 0)
            )
            group = int(group_of(np.array([cond]))[0])
            age0 = AGE_BAND_EDGES[0] - self.env.now / DAYS_PER_YEAR
            patient = self.add_patient(muni, group, age0, frailty, cond, r.random())
            self.count(patient, K.ENTRIES)

    # -------------------------------------------------------------------- periods
    def apply_settings(self, settings: PeriodSettings) -> None:
        self.settings = settings
        for kind, caps in enumerate((settings.hospital_beds, settings.sop_beds, settings.ht_slots)):
            for pool, cap in zip(self.pools[kind], caps):
                pool.capacity = int(cap)
        for ward in self.pools[HOSPITAL]:
            self.admit_from_queue(ward)
        for bed in self.pools[SOP]:
            self.offer_sop_bed(bed)
        for patient in self.patients:
            if patient.place == "dead":
                continue
            enrolled = self.eligible(patient)
            if enrolled != patient.enrolled:
                patient.enrolled = enrolled
                if patient.at_home:
                    patient.life.interrupt("redraw")

    def run_period(self, k: int, settings: PeriodSettings) -> None:
        self.k = k
        if not self._started:
            self.settings = settings
            c = self.inputs.cohort
            for i in range(c.size):
                self.add_patient(
                    int(c.muni[i]),
                    int(c.group[i]),
                    float(c.age0[i]),
                    int(c.frailty[i]),
                    int(c.conditions[i]),
                    float(c.pkg_u[i]),
                )
            for muni in range(self.inputs.geography.n):
                self.env.process(self.entries(muni))
            self._started = True
        self.apply_settings(settings)
        end = self.inputs.periods[k].end
        self.env.run(until=end)
        for patient in self.patients:
            if patient.place != "dead":
                self.close_stay(patient)
                self.count(patient, K.PERSON_DAYS, end - patient.alive_since)
                if patient.enrolled:
                    self.count(patient, K.PACKAGE_DAYS, end - patient.alive_since)
                patient.alive_since = end
        for pools in self.pools:
            for pool in pools:
                pool.close_period()
