"""The compiled discrete-event core: docs/model-spec.md in numba.

Continuous time, one binary heap of timed events keyed on (time, sequence number), patient
state as parallel arrays. An event carries the patient's version number at scheduling;
when the patient's situation changes the version is bumped and stale events are skipped
on pop (lazy deletion), so nothing is ever searched for in the heap. Queues are doubly
linked lists through per-patient arrays, so a patient leaves a queue in O(1) on death or
placement elsewhere.

Everything random comes from the four numpy Generators passed in (clock, route, stay,
entry); nothing here touches global random state. This module knows nothing of configs,
files or Mesa: `sim.flow.engine` builds the arrays and calls `run_period`.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.experimental import structref
from numba.extending import intrinsic

from sim.constants import AGE_BAND_EDGES, DAYS_PER_YEAR, MORTALITY_DAYS, READMISSION_DAYS
from sim.flow import cache as _cache
from sim.flow import counters as K

# locations
HOME, QUEUE, HOSPITAL, SOP, HT, DEAD, UNBORN = 0, 1, 2, 3, 4, 5, 6
# event kinds
E_EPISODE, E_DEATH, E_XDEATH, E_AGE, E_READY, E_SOP_END, E_HT_END, E_ENTRY = 0, 1, 2, 3, 4, 5, 6, 7
# unit kinds in unit_occ
U_HOSP, U_SOP, U_HT = 0, 1, 2
# where an acute episode is treated (index of Params.setting_rr)
R_HOSPITAL, R_HOME_TREATMENT, R_STEPUP, R_GP, R_WINDOW = 0, 1, 2, 3, 4
# discharge destinations
TO_HOME, TO_SOP, TO_FOLLOWUP = 0, 1, 2
# how an episode was resolved at home (st.note, read only by the trace)
NOTE_NONE, NOTE_WINDOW, NOTE_GP = 0, 1, 2
# columns of the trace log
TR_TIME, TR_PATIENT, TR_EVENT, TR_FROM, TR_TO, TR_UNIT, TR_DELAYED, TR_NOTE = range(8)

INF = np.inf

# Three structures cross into the kernel. They are numba StructRefs, passed as one
# pointer: namedtuples of ~40 arrays were copied, with a reference count per array, on
# every helper call, which made the kernel ~100x slower (benchmarks/README.md). Inside,
# the handlers see all three and the generators as one structure (RUN_FIELDS, `bind`).
STATE_FIELDS = (
    # patients
    "muni",
    "group",
    "age0",
    "frailty",
    "cond",
    "pkg_u",
    "practice",
    "prac_u",
    "risk",
    "loc",
    "unit",
    "ver",
    "dver",
    "enrolled",
    "mark",
    "pmark",
    "delayed",
    "delayed_since",
    "treating",  # an SOP or home-treatment stay that treats an acute episode
    "severity",
    "adm_t",
    "adm_k",
    "premature",
    "last_disc",
    "disc_period",
    "disc_counted",
    "excess_m",
    "resp_until",
    "qprev",
    "qnext",
    "qsince",
    "n_patients",
    # clocks beyond the current period wait here, not in the heap (see defer)
    "t_episode",
    "v_episode",
    "t_death",
    "v_death",
    "t_age",
    "t_xdeath",
    "horizon",
    # units
    "occ",
    "qhead",
    "qtail",
    "umark",
    "unit_occ",
    # heap
    "h_time",
    "h_seq",
    "h_kind",
    "h_id",
    "h_ver",
    "h_size",
    "seq",
    "now",
    # output
    "counts",
    "pcounts",
    # teaching trace (sektorsim trace): traced patients, their last seen state, the log
    "note",
    "tr_ids",
    "tr_last",
    "tr_log",
    "tr_n",
)

PARAM_FIELDS = (
    "episode_rate",
    "condition_hr",
    "episode_frailty_hr",
    "excess_episodes",
    "excess_decay",
    "hr_premature",
    "hr_stepdown",
    "hr_followup",
    "death_rate",
    "death_frailty_hr",
    "episode_fatality",
    "setting_rr",
    "excess_deaths",
    "excess_death_decay",
    "gp_resolve",
    "ht_suitable",
    "stepup_suitable",
    "los_mean",
    "los_dist",
    "los_cv",
    "pressure_midpoint",
    "pressure_width",
    "pressure_max_share",
    "pressure_factor",
    "delay_step_days",
    "distance_km",
    "nearest",
    "decay_km",
    "stepdown",
    "followup",
    "sop_stepup_mean",
    "sop_stepdown_mean",
    "sop_dist",
    "sop_cv",
    "sop_escalation",
    "ht_mean",
    "ht_followup_mean",
    "ht_escalation",
    "entry_rate",
    "entry_conditions",
    "entry_frailty",
    "practice_effect",
    "practice_first",
    "practice_count",
    "hosp_of_muni",
    "sop_of_muni",
    "ht_of_muni",
)

SETTING_FIELDS = (
    "cap",
    "sop_accept",
    "ht_duty_start",
    "ht_duty_hours",
    "gp_access",
    "package_conditions",
    "package_share",
    "package_hr",
    "window_days",
    "window_resolve",
    "coverage",
    "sop_pool",
    "ht_pool",
)


@structref.register
class StateType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((n, types.unliteral(t)) for n, t in fields)


@structref.register
class ParamsType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((n, types.unliteral(t)) for n, t in fields)


@structref.register
class SettingsType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((n, types.unliteral(t)) for n, t in fields)


class State(structref.StructRefProxy):
    """Patients, units, the event heap and the counters of one replication."""


class KParams(structref.StructRefProxy):
    """Model parameters fixed for the run."""


class KSettings(structref.StructRefProxy):
    """What organisations decide per period (capacities and rules)."""


structref.define_proxy(State, StateType, STATE_FIELDS)
structref.define_proxy(KParams, ParamsType, PARAM_FIELDS)
structref.define_proxy(KSettings, SettingsType, SETTING_FIELDS)

#: What the event handlers see: the state's arrays, the parameters, the period's settings
#: and the four generators as the fields of one structure, bound once per replication
#: (`bind`, no copies; `run_period` stores each period's settings into it). Every handler
#: takes this one structure: numba increments and decrements an atomic reference count for
#: each structure (and generator) passed to a function, which with six of them per call
#: was a third of the kernel's time.
RUN_FIELDS = STATE_FIELDS + PARAM_FIELDS + SETTING_FIELDS + ("clock", "route", "stay", "entry")


@structref.register
class RunType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((n, types.unliteral(t)) for n, t in fields)


class Run(structref.StructRefProxy):
    """State, parameters, period settings and generators of one replication, as one
    structure. It holds the live event heap (the heap may grow into new arrays)."""


structref.define_proxy(Run, RunType, RUN_FIELDS)


# The constructors are compiled once and kept in numba's on-disk cache with the rest of
# the kernel: `StructRefProxy.__new__` compiles an uncached constructor afresh in every
# process, which cost seconds per process (benchmarks/README.md, time to result).
@njit(cache=True)
def _new_state(*values):
    return State(*values)


@njit(cache=True)
def _new_params(*values):
    return KParams(*values)


@njit(cache=True)
def _new_settings(*values):
    return KSettings(*values)


_CONSTRUCTORS = {State: _new_state, KParams: _new_params, KSettings: _new_settings}


@njit(cache=True)
def bind(st, P, S, clock, route, stay, entry):
    """One Run of this state, parameters, settings and generators (no copies), made once
    per replication: numba unboxes a numpy Generator on every call from Python (~15 us
    each), so the generators cross into the kernel once, not at every period."""
    return Run(
        st.muni,
        st.group,
        st.age0,
        st.frailty,
        st.cond,
        st.pkg_u,
        st.practice,
        st.prac_u,
        st.risk,
        st.loc,
        st.unit,
        st.ver,
        st.dver,
        st.enrolled,
        st.mark,
        st.pmark,
        st.delayed,
        st.delayed_since,
        st.treating,
        st.severity,
        st.adm_t,
        st.adm_k,
        st.premature,
        st.last_disc,
        st.disc_period,
        st.disc_counted,
        st.excess_m,
        st.resp_until,
        st.qprev,
        st.qnext,
        st.qsince,
        st.n_patients,
        st.t_episode,
        st.v_episode,
        st.t_death,
        st.v_death,
        st.t_age,
        st.t_xdeath,
        st.horizon,
        st.occ,
        st.qhead,
        st.qtail,
        st.umark,
        st.unit_occ,
        st.h_time,
        st.h_seq,
        st.h_kind,
        st.h_id,
        st.h_ver,
        st.h_size,
        st.seq,
        st.now,
        st.counts,
        st.pcounts,
        st.note,
        st.tr_ids,
        st.tr_last,
        st.tr_log,
        st.tr_n,
        P.episode_rate,
        P.condition_hr,
        P.episode_frailty_hr,
        P.excess_episodes,
        P.excess_decay,
        P.hr_premature,
        P.hr_stepdown,
        P.hr_followup,
        P.death_rate,
        P.death_frailty_hr,
        P.episode_fatality,
        P.setting_rr,
        P.excess_deaths,
        P.excess_death_decay,
        P.gp_resolve,
        P.ht_suitable,
        P.stepup_suitable,
        P.los_mean,
        P.los_dist,
        P.los_cv,
        P.pressure_midpoint,
        P.pressure_width,
        P.pressure_max_share,
        P.pressure_factor,
        P.delay_step_days,
        P.distance_km,
        P.nearest,
        P.decay_km,
        P.stepdown,
        P.followup,
        P.sop_stepup_mean,
        P.sop_stepdown_mean,
        P.sop_dist,
        P.sop_cv,
        P.sop_escalation,
        P.ht_mean,
        P.ht_followup_mean,
        P.ht_escalation,
        P.entry_rate,
        P.entry_conditions,
        P.entry_frailty,
        P.practice_effect,
        P.practice_first,
        P.practice_count,
        P.hosp_of_muni,
        P.sop_of_muni,
        P.ht_of_muni,
        S.cap,
        S.sop_accept,
        S.ht_duty_start,
        S.ht_duty_hours,
        S.gp_access,
        S.package_conditions,
        S.package_share,
        S.package_hr,
        S.window_days,
        S.window_resolve,
        S.coverage,
        S.sop_pool,
        S.ht_pool,
        clock,
        route,
        stay,
        entry,
    )


@njit(cache=True)
def _set_settings(w, S):
    """Store a period's settings into the bound Run."""
    w.cap = S.cap
    w.sop_accept = S.sop_accept
    w.ht_duty_start = S.ht_duty_start
    w.ht_duty_hours = S.ht_duty_hours
    w.gp_access = S.gp_access
    w.package_conditions = S.package_conditions
    w.package_share = S.package_share
    w.package_hr = S.package_hr
    w.window_days = S.window_days
    w.window_resolve = S.window_resolve
    w.coverage = S.coverage
    w.sop_pool = S.sop_pool
    w.ht_pool = S.ht_pool


def make(proxy: type, names: tuple[str, ...], values: dict) -> object:
    """Build a structure from keyword values (every field required, none extra)."""
    missing = set(names) - set(values)
    extra = set(values) - set(names)
    if missing or extra:
        raise TypeError(f"{proxy.__name__}: missing {sorted(missing)}, unexpected {sorted(extra)}")
    return _CONSTRUCTORS[proxy](*[values[n] for n in names])


# -------------------------------------------------------------------------- prefetch
@intrinsic
def prefetch(typingctx, arr, i):
    """Ask the CPU to bring arr[i] into cache; a hint, with no effect on any result."""
    sig = types.void(arr, i)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [cgutils.voidptr_t, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        ptr = builder.bitcast(ptr, cgutils.voidptr_t)
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])  # read, keep in all cache levels
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True)
def prefetch_patient(st, p):
    """The next event's patient: each field is its own array, so an event reads a dozen
    cache lines of memory; asking for them while the current event runs hides the wait."""
    prefetch(st.loc, p)
    prefetch(st.ver, p)
    prefetch(st.dver, p)
    prefetch(st.muni, p)
    prefetch(st.group, p)
    prefetch(st.age0, p)
    prefetch(st.risk, p)
    prefetch(st.enrolled, p)
    prefetch(st.severity, p)
    prefetch(st.resp_until, p)
    prefetch(st.last_disc, p)
    prefetch(st.excess_m, p)
    prefetch(st.unit, p)
    prefetch(st.mark, p)
    prefetch(st.pmark, p)
    prefetch(st.t_episode, p)


# ------------------------------------------------------------------------------ heap
@njit(cache=True)
def _before(t1, s1, t2, s2):
    return t1 < t2 or (t1 == t2 and s1 < s2)


@njit(cache=True)
def _put(st, i, t, seq, kind, ident, ver):
    st.h_time[i] = t
    st.h_seq[i] = seq
    st.h_kind[i] = kind
    st.h_id[i] = ident
    st.h_ver[i] = ver


@njit(cache=True)
def _move(st, dst, src):
    _put(st, dst, st.h_time[src], st.h_seq[src], st.h_kind[src], st.h_id[src], st.h_ver[src])


@njit(cache=True)
def _grow_heap(st):
    """Double the heap arrays in place (the State holds the new arrays)."""
    size = st.h_time.size
    h_time = np.empty(2 * size, dtype=np.float64)
    h_seq = np.empty(2 * size, dtype=np.int64)
    h_kind = np.empty(2 * size, dtype=np.int64)
    h_id = np.empty(2 * size, dtype=np.int64)
    h_ver = np.empty(2 * size, dtype=np.int64)
    h_time[:size] = st.h_time
    h_seq[:size] = st.h_seq
    h_kind[:size] = st.h_kind
    h_id[:size] = st.h_id
    h_ver[:size] = st.h_ver
    st.h_time = h_time
    st.h_seq = h_seq
    st.h_kind = h_kind
    st.h_id = h_id
    st.h_ver = h_ver


@njit(cache=True)
def push(st, t, kind, ident, ver):
    """Insert into the binary heap, moving a hole up rather than swapping."""
    n = st.h_size[0]
    if n >= st.h_time.size:
        _grow_heap(st)
    seq = st.seq[0]
    st.seq[0] += 1
    st.h_size[0] = n + 1
    i = n
    while i > 0:
        parent = (i - 1) >> 1
        if _before(t, seq, st.h_time[parent], st.h_seq[parent]):
            _move(st, i, parent)
            i = parent
        else:
            break
    _put(st, i, t, seq, kind, ident, ver)


@njit(cache=True)
def pop(st):
    """Remove the earliest event; its fields are left at index h_size (just past the heap).

    Bottom-up: the hole left by the root goes down to a leaf along the earlier child (one
    comparison a level, no test against the element being placed), then the heap's last
    element rises from there, which it rarely does far since it came from the bottom."""
    h_time, h_seq, h_kind, h_id, h_ver = st.h_time, st.h_seq, st.h_kind, st.h_id, st.h_ver
    n = st.h_size[0] - 1
    st.h_size[0] = n
    t, seq, kind, ident, ver = h_time[n], h_seq[n], h_kind[n], h_id[n], h_ver[n]
    # the root's event is parked at index n (just outside the shrunken heap)
    h_time[n] = h_time[0]
    h_seq[n] = h_seq[0]
    h_kind[n] = h_kind[0]
    h_id[n] = h_id[0]
    h_ver[n] = h_ver[0]
    if n == 0:
        return n
    i = 0
    child = 1
    while child < n:
        if child + 1 < n:
            t1, t2 = h_time[child], h_time[child + 1]
            right = t2 < t1
            if t2 == t1:
                right = h_seq[child + 1] < h_seq[child]
            child += np.int64(right)
        h_time[i] = h_time[child]
        h_seq[i] = h_seq[child]
        h_kind[i] = h_kind[child]
        h_id[i] = h_id[child]
        h_ver[i] = h_ver[child]
        i = child
        child = 2 * i + 1
    while i > 0:
        parent = (i - 1) >> 1
        if _before(t, seq, h_time[parent], h_seq[parent]):
            h_time[i] = h_time[parent]
            h_seq[i] = h_seq[parent]
            h_kind[i] = h_kind[parent]
            h_id[i] = h_id[parent]
            h_ver[i] = h_ver[parent]
            i = parent
        else:
            break
    h_time[i] = t
    h_seq[i] = seq
    h_kind[i] = kind
    h_id[i] = ident
    h_ver[i] = ver
    return n


@njit(cache=True)
def defer(st, t, kind, p, ver):
    """Schedule a patient clock: into the heap if due this period, else park it on the patient."""
    if t < st.horizon[0]:
        push(st, t, kind, p, ver)
    elif kind == E_EPISODE:
        st.t_episode[p] = t
        st.v_episode[p] = ver
    elif kind == E_DEATH:
        st.t_death[p] = t
        st.v_death[p] = ver
    elif kind == E_AGE:
        st.t_age[p] = t
    elif t < st.t_xdeath[p]:
        st.t_xdeath[p] = t


@njit(cache=True)
def release_due(st, t_end):
    """At a period start: move every parked clock due before t_end into the heap."""
    st.horizon[0] = t_end
    loc, t_episode, t_death, t_age, t_xdeath = (
        st.loc,
        st.t_episode,
        st.t_death,
        st.t_age,
        st.t_xdeath,
    )
    v_episode, v_death = st.v_episode, st.v_death
    for p in range(st.n_patients[0]):
        if loc[p] == DEAD:
            continue
        if t_episode[p] < t_end:
            push(st, t_episode[p], E_EPISODE, p, v_episode[p])
            t_episode[p] = INF
        if t_death[p] < t_end:
            push(st, t_death[p], E_DEATH, p, v_death[p])
            t_death[p] = INF
        if t_age[p] < t_end:
            push(st, t_age[p], E_AGE, p, 0)
            t_age[p] = INF
        if t_xdeath[p] < t_end:
            push(st, t_xdeath[p], E_XDEATH, p, 0)
            t_xdeath[p] = INF


# ------------------------------------------------------------------------ draws
@njit(cache=True)
def draw_stay(st, dist, mean, cv):
    if dist == 0 or cv <= 0.0:
        return st.stay.exponential(mean) if dist == 0 else mean
    if dist == 1:
        s2 = np.log(1.0 + cv * cv)
        return np.exp(st.stay.normal(np.log(mean) - 0.5 * s2, np.sqrt(s2)))
    shape = 1.0 / (cv * cv)
    return st.stay.gamma(shape, mean / shape)


@njit(cache=True)
def draw_excess(st, t, d, mass, tau):
    """Next event of the hazard (mass/tau)·exp(-(u-d)/tau) after time t, or inf (exact)."""
    if mass <= 0.0:
        return INF
    e = st.clock.exponential(1.0)
    left = np.exp(-(t - d) / tau)
    if e >= mass * left:
        return INF
    return d - tau * np.log(left - e / mass)


@njit(cache=True)
def age_band(age):
    age += 1e-9  # an entrant aged exactly 65 must not round into the band below
    band = 0
    for edge in AGE_BAND_EDGES:
        if age >= edge:
            band += 1
    return band


@njit(cache=True)
def band_edge_after(age0, t):
    """Time of the next age-band edge strictly after t (compared in days, not years) for
    a patient aged age0 at day 0."""
    for edge in AGE_BAND_EDGES:
        t_edge = (edge - age0) * DAYS_PER_YEAR
        if t_edge > t + 1e-6:
            return t_edge
    return INF


@njit(cache=True)
def next_band_time(st, p, t):
    return band_edge_after(st.age0[p], t)


# ----------------------------------------------------------------------- clocks
@njit(cache=True)
def schedule_episode(st, p, t):
    """Fresh episode clock at home: base hazard vs the decaying post-discharge excess."""
    st.ver[p] += 1
    band = age_band(st.age0[p] + t / DAYS_PER_YEAR)
    rate = st.episode_rate[band] * st.risk[p]
    if st.enrolled[p] == 1:
        rate *= st.package_hr
    t_next = t + st.clock.exponential(1.0 / rate) if rate > 0.0 else INF
    if st.last_disc[p] >= 0.0:
        tx = draw_excess(st, t, st.last_disc[p], st.excess_m[p], st.excess_decay)
        if tx < t_next:
            t_next = tx
    if t_next < INF:
        defer(st, t_next, E_EPISODE, p, st.ver[p])


@njit(cache=True)
def schedule_death(st, p, t):
    st.dver[p] += 1
    band = age_band(st.age0[p] + t / DAYS_PER_YEAR)
    rate = st.death_rate[band] * st.death_frailty_hr[st.frailty[p]]
    if rate > 0.0:
        defer(st, t + st.clock.exponential(1.0 / rate), E_DEATH, p, st.dver[p])


@njit(cache=True)
def schedule_age(st, p, t):
    ta = next_band_time(st, p, t)
    if ta < INF:
        defer(st, ta, E_AGE, p, 0)


# ------------------------------------------------------------------------ units
@njit(cache=True)
def occupy(st, kind, u, t, k, delta):
    st.unit_occ[k, kind, u] += st.occ[kind, u] * (t - st.umark[kind, u])
    st.umark[kind, u] = t
    st.occ[kind, u] += delta


@njit(cache=True)
def q_push(st, kind, u, p, t):
    st.qprev[p] = st.qtail[kind, u]
    st.qnext[p] = -1
    if st.qtail[kind, u] >= 0:
        st.qnext[st.qtail[kind, u]] = p
    else:
        st.qhead[kind, u] = p
    st.qtail[kind, u] = p
    st.qsince[p] = t


@njit(cache=True)
def q_remove(st, kind, u, p):
    a, b = st.qprev[p], st.qnext[p]
    if a >= 0:
        st.qnext[a] = b
    else:
        st.qhead[kind, u] = b
    if b >= 0:
        st.qprev[b] = a
    else:
        st.qtail[kind, u] = a
    st.qprev[p] = -1
    st.qnext[p] = -1


@njit(cache=True)
def count(st, k, p, what, amount):
    st.counts[k, st.muni[p], st.group[p], what] += amount


@njit(cache=True)
def days_to_65(st, p):
    """Days from day 0 until patient p turns 65 (negative: 65 or older at day 0)."""
    return (AGE_BAND_EDGES[0] - st.age0[p]) * DAYS_PER_YEAR


@njit(cache=True)
def count_practice(st, k, p, t, what, amount):
    """A practice counter, for a patient aged 65+ at time t (an entrant is 65 at entry)."""
    if t >= days_to_65(st, p) - 1e-6:
        st.pcounts[k, st.practice[p], what] += amount


@njit(cache=True)
def count_practice_days(st, k, p, t0, t1, what):
    """The part of the time interval [t0, t1] that patient p spends aged 65+."""
    start = max(t0, days_to_65(st, p))
    if t1 > start:
        st.pcounts[k, st.practice[p], what] += t1 - start


@njit(cache=True)
def practice_from(first, n, m, u):
    """The practice of a patient of municipality m with slot uniform u."""
    return first[m] + min(np.int64(u * n[m]), n[m] - 1)


# ---------------------------------------------------------------------- moves
@njit(cache=True)
def go_home(st, p, t):
    st.loc[p] = HOME
    st.mark[p] = t
    schedule_episode(st, p, t)


@njit(cache=True)
def pressure_share(st, occupied, capacity):
    """Share of stays cut short at this occupancy: a logistic curve, no threshold."""
    if capacity <= 0:
        return st.pressure_max_share
    x = (occupied / capacity - st.pressure_midpoint) / st.pressure_width
    return st.pressure_max_share / (1.0 + np.exp(-x))


@njit(cache=True)
def take_bed(st, p, h, t, k):
    g = st.group[p]
    premature = st.stay.random() < pressure_share(st, st.occ[U_HOSP, h], st.cap[U_HOSP, h])
    occupy(st, U_HOSP, h, t, k, 1)
    st.loc[p] = HOSPITAL
    st.unit[p] = h
    st.mark[p] = t
    st.delayed[p] = 0
    los = draw_stay(st, st.los_dist, st.los_mean[g], st.los_cv)
    st.premature[p] = 0
    if premature:
        los *= st.pressure_factor
        st.premature[p] = 1
    st.ver[p] += 1
    push(st, t + los, E_READY, p, st.ver[p])


@njit(cache=True)
def admit(st, p, t, k):
    """An acute admission: counted now; a bed now or the hospital's FIFO queue."""
    count(st, k, p, K.ADMISSIONS, 1.0)
    count_practice(st, k, p, t, K.P_ADMISSIONS, 1.0)
    st.adm_t[p] = t
    st.adm_k[p] = k
    d = st.last_disc[p]
    if d >= 0.0 and st.disc_counted[p] == 0 and t - d <= READMISSION_DAYS:
        st.counts[st.disc_period[p], st.muni[p], st.group[p], K.READMISSIONS] += 1.0
        count_practice(st, st.disc_period[p], p, d, K.P_READMISSIONS, 1.0)
        st.disc_counted[p] = 1
    h = st.hosp_of_muni[st.muni[p]]
    st.ver[p] += 1
    if st.occ[U_HOSP, h] < st.cap[U_HOSP, h]:
        take_bed(st, p, h, t, k)
    else:
        st.loc[p] = QUEUE
        st.unit[p] = h
        q_push(st, U_HOSP, h, p, t)


@njit(cache=True)
def fill_hospital(st, h, t, k):
    while st.occ[U_HOSP, h] < st.cap[U_HOSP, h] and st.qhead[U_HOSP, h] >= 0:
        q = st.qhead[U_HOSP, h]
        q_remove(st, U_HOSP, h, q)
        count(st, k, q, K.ADMISSION_WAIT_DAYS, t - st.qsince[q])
        take_bed(st, q, h, t, k)


@njit(cache=True)
def count_delay(st, p, t, k):
    """Delayed days since the last mark; those past the payment step also count as late."""
    since = st.delayed_since[p]
    count(st, k, p, K.DELAYED_DAYS, t - max(st.mark[p], since))
    count_practice_days(st, k, p, max(st.mark[p], since), t, K.P_DELAYED_DAYS)
    late_from = max(st.mark[p], since + st.delay_step_days)
    if t > late_from:
        count(st, k, p, K.DELAYED_DAYS_LATE, t - late_from)


@njit(cache=True)
def leave_hospital_bed(st, p, t, k):
    """Close the bed-day accounts of a patient leaving a hospital bed."""
    count(st, k, p, K.HOSPITAL_DAYS, t - st.mark[p])
    if st.delayed[p] == 1:
        count_delay(st, p, t, k)
        st.delayed[p] = 0
    occupy(st, U_HOSP, st.unit[p], t, k, -1)


@njit(cache=True)
def discharge(st, p, t, k, dest):
    """The patient leaves the hospital bed: the index discharge for readmissions."""
    h = st.unit[p]
    leave_hospital_bed(st, p, t, k)
    count(st, k, p, K.DISCHARGES, 1.0)
    count_practice(st, k, p, t, K.P_DISCHARGES, 1.0)
    # the practice's follow-up: a multiplier of mean 1 (exactly 1 when practices are alike)
    mass = st.excess_episodes * st.practice_effect[st.practice[p]]
    if st.premature[p] == 1:
        count(st, k, p, K.PREMATURE, 1.0)
        mass *= st.hr_premature
    if dest == TO_SOP:
        mass *= st.hr_stepdown
    elif dest == TO_FOLLOWUP:
        mass *= st.hr_followup
    st.excess_m[p] = mass
    st.last_disc[p] = t
    st.disc_period[p] = k
    st.disc_counted[p] = 0
    st.resp_until[p] = t + st.window_days if st.route.random() < st.coverage[st.group[p]] else -1.0
    after_episode(st, p, t, R_HOSPITAL)
    fill_hospital(st, h, t, k)


@njit(cache=True)
def close_sop_days(st, p, t, k):
    count(st, k, p, K.SOP_DAYS, t - st.mark[p])
    if st.treating[p] == 1:
        count(st, k, p, K.SOP_STEPUP_DAYS, t - st.mark[p])


@njit(cache=True)
def place_sop(st, p, u, t, k, stepup):
    """An intermediate-care stay: step-up (instead of an admission) or step-down."""
    occupy(st, U_SOP, u, t, k, 1)
    st.loc[p] = SOP
    st.unit[p] = u
    st.mark[p] = t
    st.treating[p] = stepup
    mean = st.sop_stepup_mean if stepup == 1 else st.sop_stepdown_mean
    count(st, k, p, K.SOP_ADMISSIONS, 1.0)
    home = st.sop_of_muni[st.muni[p]]
    if u != home:
        count(st, k, p, K.SOP_AWAY, 1.0)
        count(st, k, p, K.SOP_TRAVEL_KM, st.distance_km[home, u])
    st.ver[p] += 1
    push(st, t + draw_stay(st, st.sop_dist, mean, st.sop_cv), E_SOP_END, p, st.ver[p])


@njit(cache=True)
def accepts(st, kind, u, v):
    """Is a place in unit v taken by a patient of unit u? exp(-km / decay) away from home."""
    km = st.distance_km[u, v]
    if km <= 0.0 or st.decay_km[kind] == INF:
        return True
    return st.route.random() < np.exp(-km / st.decay_km[kind])


@njit(cache=True)
def find_place(st, kind, pool, own):
    """A unit with a free place: the own unit, else the nearest free unit of the same pool,
    which the patient (or the team) takes with a chance that decays with distance."""
    if st.occ[kind, own] < st.cap[kind, own]:
        return own
    for i in range(1, pool.size):
        u = st.nearest[own, i]
        if pool[u] == pool[own] and st.occ[kind, u] < st.cap[kind, u]:
            return u if accepts(st, kind, own, u) else -1
    return -1


@njit(cache=True)
def next_stepdown(st, u):
    """Whom a free bed in unit u goes to: its own queue first, then the nearest queues of
    its pool, whose first patient takes it with a chance that decays with distance."""
    if st.qhead[U_SOP, u] >= 0:
        return u
    for i in range(1, st.sop_pool.size):
        v = st.nearest[u, i]
        if st.sop_pool[v] == st.sop_pool[u] and st.qhead[U_SOP, v] >= 0:
            if accepts(st, U_SOP, v, u):
                return v
    return -1


@njit(cache=True)
def fill_sop(st, u, t, k):
    while st.occ[U_SOP, u] < st.cap[U_SOP, u]:
        v = next_stepdown(st, u)
        if v < 0:
            break
        q = st.qhead[U_SOP, v]
        q_remove(st, U_SOP, v, q)
        count(st, k, q, K.SOP_WAIT_DAYS, t - st.delayed_since[q])
        count(st, k, q, K.SOP_WAITS, 1.0)
        count(st, k, q, K.SOP_STEPDOWNS, 1.0)
        discharge(st, q, t, k, TO_SOP)
        place_sop(st, q, u, t, k, 0)


@njit(cache=True)
def start_ht(st, p, u, t, k, treating, mean):
    """A home-treatment stay: treating an episode, or following up a discharge."""
    occupy(st, U_HT, u, t, k, 1)
    home = st.ht_of_muni[st.muni[p]]
    if u != home:
        count(st, k, p, K.HT_AWAY, 1.0)
        count(st, k, p, K.HT_TRAVEL_KM, st.distance_km[home, u])
    st.loc[p] = HT
    st.unit[p] = u
    st.mark[p] = t
    st.treating[p] = treating
    st.ver[p] += 1
    push(st, t + st.stay.exponential(mean), E_HT_END, p, st.ver[p])


@njit(cache=True)
def on_duty(st, u, t):
    hour = (t - np.floor(t)) * 24.0
    return (hour - st.ht_duty_start[u]) % 24.0 < st.ht_duty_hours[u]


# ----------------------------------------------------------------- episode outcome
@njit(cache=True)
def fatal(st, p, setting):
    """Does the current episode kill the patient, treated in this setting? Death belongs
    to the episode (its severity, the patient's group) and a setting changes it only
    through its relative risk, so with every relative risk 1 it does not matter where."""
    return st.severity[p] < st.episode_fatality[st.group[p]] * st.setting_rr[setting]


@njit(cache=True)
def after_episode(st, p, t, setting):
    """An episode survived: the decaying excess death hazard of the weeks after it."""
    mass = st.excess_deaths * st.setting_rr[setting]
    tx = draw_excess(st, t, t, mass, st.excess_death_decay)
    if tx < INF:
        defer(st, tx, E_XDEATH, p, 0)


@njit(cache=True)
def end_episode_at_home(st, p, t, k, setting):
    """An episode treated outside hospital ends: death, or home with the excess hazard.
    The patient has already left any bed or team place."""
    st.loc[p] = HOME
    if fatal(st, p, setting):
        count(st, k, p, K.DEATHS_EPISODE, 1.0)
        count(st, k, p, K.DEATHS_EPISODE_OUTSIDE, 1.0)
        die(st, p, t, k)
        return
    after_episode(st, p, t, setting)
    go_home(st, p, t)


# --------------------------------------------------------------------- handlers
@njit(cache=True)
def on_episode(st, p, t, k):
    """Triage: responsibility window, GP, home treatment, step-up bed, hospital. An episode
    on a fatal course (by its severity) is not one the window or the GP resolves."""
    count(st, k, p, K.EPISODES, 1.0)
    g = st.group[p]
    m = st.muni[p]
    st.note[0] = NOTE_NONE
    st.severity[p] = st.route.random()
    grave = st.severity[p] < st.episode_fatality[g]
    if t < st.resp_until[p] and st.route.random() < st.window_resolve and not grave:
        count(st, k, p, K.WINDOW_RESOLVED, 1.0)
        st.note[0] = NOTE_WINDOW
        end_episode_at_home(st, p, t, k, R_WINDOW)
        return
    if st.route.random() < st.gp_access[m]:
        count(st, k, p, K.GP_CONTACTS, 1.0)
        if st.route.random() < st.gp_resolve[g] and not grave:
            count(st, k, p, K.GP_RESOLVED, 1.0)
            st.note[0] = NOTE_GP
            end_episode_at_home(st, p, t, k, R_GP)
            return
    if st.route.random() < st.ht_suitable[g]:
        u = find_place(st, U_HT, st.ht_pool, st.ht_of_muni[m])
        if u < 0:
            count(st, k, p, K.HT_BLOCKED, 1.0)
        elif on_duty(st, u, t):
            count(st, k, p, K.HT_EPISODES, 1.0)
            start_ht(st, p, u, t, k, 1, st.ht_mean)
            return
    if st.route.random() < st.stepup_suitable[g]:
        count(st, k, p, K.STEPUP_REQUESTS, 1.0)
        s = st.sop_of_muni[m]
        if st.route.random() < st.sop_accept[s]:
            u = find_place(st, U_SOP, st.sop_pool, s)
            if u >= 0:
                place_sop(st, p, u, t, k, 1)
                return
            count(st, k, p, K.STEPUP_BLOCKED, 1.0)
    admit(st, p, t, k)


@njit(cache=True)
def on_ready(st, p, t, k):
    """End of the medical stay: death, step-down (or delayed discharge), follow-up, home."""
    g = st.group[p]
    m = st.muni[p]
    if fatal(st, p, R_HOSPITAL):
        count(st, k, p, K.DEATHS_EPISODE, 1.0)
        die(st, p, t, k)
        return
    u = st.route.random()
    if u < st.stepdown[g]:
        s = st.sop_of_muni[m]
        if st.route.random() < st.sop_accept[s]:
            b = find_place(st, U_SOP, st.sop_pool, s)
            if b >= 0:
                count(st, k, p, K.SOP_WAITS, 1.0)
                count(st, k, p, K.SOP_STEPDOWNS, 1.0)
                discharge(st, p, t, k, TO_SOP)
                place_sop(st, p, b, t, k, 0)
            else:
                st.delayed[p] = 1
                st.delayed_since[p] = t
                count(st, k, p, K.DELAYED, 1.0)
                q_push(st, U_SOP, s, p, t)
            return
    elif u < st.stepdown[g] + st.followup[g]:
        tu = find_place(st, U_HT, st.ht_pool, st.ht_of_muni[m])
        if tu >= 0:
            count(st, k, p, K.HT_FOLLOWUPS, 1.0)
            discharge(st, p, t, k, TO_FOLLOWUP)
            start_ht(st, p, tu, t, k, 0, st.ht_followup_mean)
            return
        count(st, k, p, K.FOLLOWUP_BLOCKED, 1.0)
    discharge(st, p, t, k, TO_HOME)
    go_home(st, p, t)


@njit(cache=True)
def on_sop_end(st, p, t, k):
    u = st.unit[p]
    stepup = st.treating[p]
    close_sop_days(st, p, t, k)
    occupy(st, U_SOP, u, t, k, -1)
    fill_sop(st, u, t, k)
    if st.route.random() < st.sop_escalation:
        count(st, k, p, K.SOP_ESCALATIONS, 1.0)
        admit(st, p, t, k)
    elif stepup == 1:  # the stay treated the episode; a step-down stay followed a discharge
        end_episode_at_home(st, p, t, k, R_STEPUP)
    else:
        go_home(st, p, t)


@njit(cache=True)
def on_ht_end(st, p, t, k):
    treated = st.treating[p]
    count(st, k, p, K.HT_DAYS, t - st.mark[p])
    occupy(st, U_HT, st.unit[p], t, k, -1)
    if st.route.random() < st.ht_escalation:
        count(st, k, p, K.HT_ESCALATIONS, 1.0)
        admit(st, p, t, k)
    elif treated == 1:  # an episode treated at home; a follow-up came after a discharge
        end_episode_at_home(st, p, t, k, R_HOME_TREATMENT)
    else:
        go_home(st, p, t)


@njit(cache=True)
def die(st, p, t, k):
    """Death anywhere: free what the patient held, close the accounts."""
    loc = st.loc[p]
    u = st.unit[p]
    count(st, k, p, K.DEATHS, 1.0)
    count(st, k, p, K.PERSON_DAYS, t - st.pmark[p])
    if st.enrolled[p] == 1:
        count(st, k, p, K.PACKAGE_DAYS, t - st.pmark[p])
    count_practice_days(st, k, p, st.pmark[p], t, K.P_PERSON_DAYS)
    if st.adm_t[p] >= 0.0 and t - st.adm_t[p] <= MORTALITY_DAYS:
        # counted with the admission, in its period (30-day mortality after admission)
        st.counts[st.adm_k[p], st.muni[p], st.group[p], K.ADMISSION_DEATHS_30D] += 1.0
    st.loc[p] = DEAD
    st.ver[p] += 1
    st.dver[p] += 1
    if loc == HOSPITAL:
        count(st, k, p, K.DEATHS_IN_HOSPITAL, 1.0)
        if st.delayed[p] == 1:
            q_remove(st, U_SOP, st.sop_of_muni[st.muni[p]], p)
        leave_hospital_bed(st, p, t, k)
        fill_hospital(st, u, t, k)
    elif loc == QUEUE:
        count(st, k, p, K.DEATHS_IN_HOSPITAL, 1.0)
        q_remove(st, U_HOSP, u, p)
    elif loc == SOP:
        close_sop_days(st, p, t, k)
        occupy(st, U_SOP, u, t, k, -1)
        fill_sop(st, u, t, k)
    elif loc == HT:
        count(st, k, p, K.HT_DAYS, t - st.mark[p])
        occupy(st, U_HT, u, t, k, -1)


@njit(cache=True)
def on_age(st, p, t):
    """A new age band: redraw the piecewise-constant clocks."""
    schedule_death(st, p, t)
    if st.loc[p] == HOME:
        schedule_episode(st, p, t)
    schedule_age(st, p, t)


@njit(cache=True)
def risk_of(frailty_hr, condition_hr, cond, frailty):
    """A patient's episode hazard ratio: frailty's times each condition's."""
    r = frailty_hr[frailty]
    for bit in range(condition_hr.size):
        if (cond >> bit) & 1:
            r *= condition_hr[bit]
    return r


@njit(cache=True)
def risk_factor(st, cond, frailty):
    return risk_of(st.episode_frailty_hr, st.condition_hr, cond, frailty)


@njit(cache=True)
def group_from_conditions(cond, n_conditions):
    """Patient group from a condition bitmask: the single condition, multimorbid (index
    n_conditions) or other (n_conditions + 1), the order of `sim.config.schema.GROUPS`."""
    n = 0
    g = n_conditions + 1
    for bit in range(n_conditions):
        if (cond >> bit) & 1:
            n += 1
            g = bit
    if n >= 2:
        g = n_conditions
    return g


@njit(cache=True)
def groups_of(conds, n_conditions):
    """group_from_conditions over an array: the one rule for the inputs and the engines."""
    out = np.empty(conds.size, np.int64)
    for i in range(conds.size):
        out[i] = group_from_conditions(conds[i], n_conditions)
    return out


@njit(cache=True)
def enrolment(cond, pkg_u, package_conditions, package_share):
    """1 when a patient with these conditions and package draw is enrolled, else 0."""
    return 1 if (cond & package_conditions) != 0 and pkg_u < package_share else 0


@njit(cache=True)
def enrol(st, p):
    return enrolment(st.cond[p], st.pkg_u[p], st.package_conditions, st.package_share)


@njit(cache=True)
def on_entry(st, m, t, k):
    """A new patient (turning 65) enters municipality m; the next entry is scheduled."""
    p = st.n_patients[0]
    if p >= st.muni.size:
        raise RuntimeError("more entrants than the preallocated population allows")
    st.n_patients[0] = p + 1
    cond = 0
    for bit in range(st.entry_conditions.size):
        if st.entry.random() < st.entry_conditions[bit]:
            cond |= 1 << bit
    u = st.entry.random()
    frailty = 0
    if u < st.entry_frailty[2]:
        frailty = 2
    elif u < st.entry_frailty[2] + st.entry_frailty[1]:
        frailty = 1
    st.muni[p] = m
    st.practice[p] = practice_from(st.practice_first, st.practice_count, m, st.prac_u[p])
    st.cond[p] = cond
    st.group[p] = group_from_conditions(cond, st.entry_conditions.size)
    st.frailty[p] = frailty
    st.age0[p] = AGE_BAND_EDGES[0] - t / DAYS_PER_YEAR
    st.pkg_u[p] = st.entry.random()
    st.risk[p] = risk_factor(st, cond, frailty)
    st.enrolled[p] = enrol(st, p)
    st.pmark[p] = t
    count(st, k, p, K.ENTRIES, 1.0)
    go_home(st, p, t)
    schedule_death(st, p, t)
    schedule_age(st, p, t)
    push(st, t + st.entry.exponential(1.0 / st.entry_rate[m]), E_ENTRY, m, 0)


# ------------------------------------------------------------------ teaching trace
@njit(cache=True)
def trace(st, t, p, kind):
    """Log every change of a traced patient's place (or delayed flag), and each of their
    episodes. Reads state only, so tracing never changes a run's numbers."""
    for j in range(st.tr_ids.size):
        q = st.tr_ids[j]
        own = q == p
        episode = own and kind == E_EPISODE
        if st.loc[q] == st.tr_last[j, 0] and st.delayed[q] == st.tr_last[j, 1] and not episode:
            continue
        n = st.tr_n[0]
        if n < st.tr_log.shape[0]:
            row = st.tr_log[n]
            row[TR_TIME] = t
            row[TR_PATIENT] = q
            row[TR_EVENT] = kind if own else -1
            row[TR_FROM] = st.tr_last[j, 0]
            row[TR_TO] = st.loc[q]
            row[TR_UNIT] = st.unit[q]
            row[TR_DELAYED] = st.delayed[q]
            row[TR_NOTE] = st.note[0] if episode else NOTE_NONE
            st.tr_n[0] = n + 1
        st.tr_last[j, 0] = st.loc[q]
        st.tr_last[j, 1] = st.delayed[q]


# ------------------------------------------------------------------ run a period
@njit(cache=True)
def _start(st):
    """For each patient of the cohort: risk, enrolment, then go_home (the episode clock),
    schedule_death and schedule_age at time 0, written out with the arrays in locals (a
    call per clock with the structure, and numba reloading its fields after every store,
    made this three times slower). At time 0 nothing is due yet (horizon 0), so every
    clock parks on its patient as defer would, and no patient has been discharged (no
    post-discharge excess): the same draws, in the same order, as those helpers."""
    if st.horizon[0] > 0.0:
        raise RuntimeError("start runs before the first period")
    risk, enrolled, pmark, loc, mark = st.risk, st.enrolled, st.pmark, st.loc, st.mark
    cond, frailty, pkg_u, age0, last_disc = st.cond, st.frailty, st.pkg_u, st.age0, st.last_disc
    ver, t_episode, v_episode = st.ver, st.t_episode, st.v_episode
    dver, t_death, v_death, t_age = st.dver, st.t_death, st.v_death, st.t_age
    frailty_hr, condition_hr, episode_rate = st.episode_frailty_hr, st.condition_hr, st.episode_rate
    death_rate, death_frailty_hr = st.death_rate, st.death_frailty_hr
    conditions, share, package_hr = st.package_conditions, st.package_share, st.package_hr
    clock = st.clock
    for p in range(st.n_patients[0]):
        if last_disc[p] >= 0.0:
            raise RuntimeError("a patient of the initial cohort has a discharge")
        c, f = cond[p], frailty[p]
        r = risk_of(frailty_hr, condition_hr, c, f)
        risk[p] = r
        e = enrolment(c, pkg_u[p], conditions, share)
        enrolled[p] = e
        pmark[p] = 0.0
        # go_home -> schedule_episode
        loc[p] = HOME
        mark[p] = 0.0
        ver[p] += 1
        band = age_band(age0[p])
        rate = episode_rate[band] * r
        if e == 1:
            rate *= package_hr
        t_next = clock.exponential(1.0 / rate) if rate > 0.0 else INF
        if t_next < INF:
            t_episode[p] = t_next
            v_episode[p] = ver[p]
        # schedule_death
        dver[p] += 1
        rate = death_rate[band] * death_frailty_hr[f]
        if rate > 0.0:
            t_death[p] = clock.exponential(1.0 / rate)
            v_death[p] = dver[p]
        # schedule_age
        ta = band_edge_after(age0[p], 0.0)
        if ta < INF:
            t_age[p] = ta
    for m in range(st.entry_rate.size):
        if st.entry_rate[m] > 0.0:
            push(st, st.entry.exponential(1.0 / st.entry_rate[m]), E_ENTRY, m, 0)


@njit(cache=True)
def start(w):
    """Schedule the first clocks of the initial cohort and the entry processes (only clock
    and entry draws: no route or stay draws at the start)."""
    _start(w)


@njit(cache=True)
def update_enrolment(st, t):
    for p in range(st.n_patients[0]):
        if st.loc[p] == DEAD:
            continue
        new = enrol(st, p)
        if new != st.enrolled[p]:
            st.enrolled[p] = new
            if st.loc[p] == HOME:
                schedule_episode(st, p, t)


@njit(cache=True)
def close_period(st, t, k):
    """Split every running time integral at the period boundary."""
    # the arrays in locals: numba reloads a structure's field after every store otherwise
    locs, pmark, enrolled, muni, group = st.loc, st.pmark, st.enrolled, st.muni, st.group
    age0, practice, counts, pcounts = st.age0, st.practice, st.counts, st.pcounts
    for p in range(st.n_patients[0]):
        loc = locs[p]
        if loc == DEAD:
            continue
        m, g, since = muni[p], group[p], pmark[p]
        counts[k, m, g, K.PERSON_DAYS] += t - since
        if enrolled[p] == 1:  # enrolment changes only at period starts
            counts[k, m, g, K.PACKAGE_DAYS] += t - since
        start = max(since, (AGE_BAND_EDGES[0] - age0[p]) * DAYS_PER_YEAR)  # count_practice_days
        if t > start:
            pcounts[k, practice[p], K.P_PERSON_DAYS] += t - start
        pmark[p] = t
        if loc == HOSPITAL:
            count(st, k, p, K.HOSPITAL_DAYS, t - st.mark[p])
            if st.delayed[p] == 1:
                count_delay(st, p, t, k)
            st.mark[p] = t
        elif loc == SOP:
            close_sop_days(st, p, t, k)
            st.mark[p] = t
        elif loc == HT:
            count(st, k, p, K.HT_DAYS, t - st.mark[p])
            st.mark[p] = t
    for kind in range(st.occ.shape[0]):
        for u in range(st.occ.shape[1]):
            occupy(st, kind, u, t, k, 0)


@njit(cache=True)
def check_state(st):
    """Invariants: occupancy equals the patients placed and never exceeds capacity."""
    seen = np.zeros_like(st.occ)
    for p in range(st.n_patients[0]):
        loc = st.loc[p]
        if loc == HOSPITAL:
            seen[U_HOSP, st.unit[p]] += 1
        elif loc == SOP:
            seen[U_SOP, st.unit[p]] += 1
        elif loc == HT:
            seen[U_HT, st.unit[p]] += 1
        elif loc == QUEUE and st.occ[U_HOSP, st.unit[p]] < st.cap[U_HOSP, st.unit[p]]:
            raise AssertionError("a patient queues for a hospital with a free bed")
    for kind in range(seen.shape[0]):
        for u in range(seen.shape[1]):
            if seen[kind, u] != st.occ[kind, u]:
                raise AssertionError("unit occupancy differs from the patients placed in it")
            if st.occ[kind, u] > st.cap[kind, u]:
                raise AssertionError("a unit holds more patients than its capacity")


@njit(cache=True)
def _run_period(st, k, t_end, check, packages_changed):
    t0 = st.now[0]
    release_due(st, t_end)
    if packages_changed:
        update_enrolment(st, t0)
    for u in range(st.occ.shape[1]):  # capacities may have grown since the last period
        fill_hospital(st, u, t0, k)
        fill_sop(st, u, t0, k)
    tracing = st.tr_ids.size > 0
    if tracing:
        trace(st, t0, -1, -1)
    events = 0
    while st.h_size[0] > 0 and st.h_time[0] < t_end:
        i = pop(st)
        t = st.h_time[i]
        kind = st.h_kind[i]
        ident = st.h_id[i]
        ver = st.h_ver[i]
        if st.h_size[0] > 0:
            prefetch_patient(st, st.h_id[0])  # an entry's id is a municipality: harmless
        if check and t < st.now[0]:
            raise AssertionError("time went backwards")
        if kind == E_ENTRY:
            st.now[0] = t
            on_entry(st, ident, t, k)
            events += 1
            if tracing:
                trace(st, t, -1, kind)
            continue
        p = ident
        if st.loc[p] == DEAD:
            continue
        if kind == E_EPISODE or kind == E_READY or kind == E_SOP_END or kind == E_HT_END:
            if ver != st.ver[p]:
                continue
        elif kind == E_DEATH and ver != st.dver[p]:
            continue
        st.now[0] = t
        events += 1
        if kind == E_EPISODE:
            on_episode(st, p, t, k)
        elif kind == E_READY:
            on_ready(st, p, t, k)
        elif kind == E_SOP_END:
            on_sop_end(st, p, t, k)
        elif kind == E_HT_END:
            on_ht_end(st, p, t, k)
        elif kind == E_DEATH:
            die(st, p, t, k)
        elif kind == E_XDEATH:
            count(st, k, p, K.DEATHS_POST_EPISODE, 1.0)
            die(st, p, t, k)
        elif kind == E_AGE:
            on_age(st, p, t)
        if tracing:
            trace(st, t, p, kind)
        if check:
            check_state(st)
    st.now[0] = t_end
    close_period(st, t_end, k)
    return events


@njit(cache=True)
def run_period(w, S, k, t_end, check):
    """Process events until t_end with period index k under settings S (w from `bind`);
    returns the number of events."""
    # Every enrolment was decided (start, on_entry, update_enrolment) under the settings in
    # the Run and depends on nothing else that changes: with the same packages it stands.
    packages_changed = not (
        S.package_conditions == w.package_conditions and S.package_share == w.package_share
    )
    _set_settings(w, S)
    return _run_period(w, k, t_end, check, packages_changed)


def _discard_stale_cache() -> None:
    """Compile-time constants from other modules are not in numba's cache key (see cache)."""
    import sim.constants
    import sim.flow.counters
    import sim.measures

    print_ = _cache.fingerprint((sim.constants, sim.flow.counters, sim.measures))
    _cache.discard_if_stale(_cache.cache_directory(run_period), "kernel", print_)


_discard_stale_cache()
