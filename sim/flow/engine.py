"""Drive the compiled kernel period by period (the API the organisation layer uses)."""

from __future__ import annotations

import numpy as np

from sim.flow import kernel
from sim.flow.counters import N_COUNTERS, N_PRACTICE_COUNTERS
from sim.flow.inputs import N_GROUPS, FlowInputs, PeriodSettings

#: Initial heap slots per patient. Clocks due after the current period are parked on the
#: patient (kernel.defer), so the heap holds about one period's events; the kernel doubles
#: it when full. The heap arrays in `NumbaEngine.arrays` are the initial ones only (the
#: live heap is in `NumbaEngine.run`).
HEAP_PER_PATIENT = 1


def kernel_params(inputs: FlowInputs) -> kernel.KParams:
    pr, un = inputs.params, inputs.units
    fields = {name: getattr(pr, name) for name in kernel.PARAM_FIELDS if hasattr(pr, name)}
    fields.update(
        hosp_of_muni=un.hosp_of_muni,
        sop_of_muni=un.sop_of_muni,
        ht_of_muni=un.ht_of_muni,
        practice_effect=inputs.practices.effect,
        practice_first=inputs.practices.first,
        practice_count=inputs.practices.count,
    )
    typed = {
        k: (
            np.ascontiguousarray(v, dtype=np.int64 if v.dtype.kind in "iub" else np.float64)
            if isinstance(v, np.ndarray)
            else (np.int64(v) if isinstance(v, int) else np.float64(v))
        )
        for k, v in fields.items()
    }
    return kernel.make(kernel.KParams, kernel.PARAM_FIELDS, typed)


def max_units(inputs: FlowInputs) -> int:
    u = inputs.units
    return max(len(u.hospital_names), len(u.sop_names), len(u.ht_names))


def kernel_settings(settings: PeriodSettings, n_units: int) -> kernel.KSettings:
    cap = np.zeros((3, n_units), dtype=np.int64)
    for row, values in enumerate((settings.hospital_beds, settings.sop_beds, settings.ht_slots)):
        cap[row, : len(values)] = values
    return kernel.make(
        kernel.KSettings,
        kernel.SETTING_FIELDS,
        dict(
            cap=cap,
            sop_accept=np.asarray(settings.sop_accept, dtype=np.float64),
            ht_duty_start=np.asarray(settings.ht_duty_start, dtype=np.float64),
            ht_duty_hours=np.asarray(settings.ht_duty_hours, dtype=np.float64),
            gp_access=np.asarray(settings.gp_access, dtype=np.float64),
            package_conditions=np.int64(settings.package_conditions),
            package_share=np.float64(settings.package_share),
            window_days=np.float64(settings.window_days),
            window_resolve=np.float64(settings.window_resolve),
            package_hr=np.float64(settings.package_hr),
            coverage=np.asarray(settings.coverage, dtype=np.float64),
            sop_pool=np.asarray(settings.sop_pool, dtype=np.int64),
            ht_pool=np.asarray(settings.ht_pool, dtype=np.int64),
        ),
    )


#: Trace log rows kept (a traced patient has a few changes per year).
TRACE_ROWS = 100_000

#: The per-patient arrays and their initial values (the cohort's own fields are copied into
#: the first slots). Each dtype's arrays are the rows of one block, filled in one pass:
#: two allocations instead of ~40 (new_state).
PATIENT_INT = {
    "muni": 0,
    "group": 0,
    "frailty": 0,
    "cond": 0,
    "practice": 0,
    "loc": kernel.UNBORN,
    "unit": -1,
    "ver": 0,
    "dver": 0,
    "enrolled": 0,
    "delayed": 0,
    "treating": 0,
    "adm_k": 0,
    "premature": 0,
    "disc_period": 0,
    "disc_counted": 0,
    "qprev": -1,
    "qnext": -1,
    "v_episode": 0,
    "v_death": 0,
}
PATIENT_FLOAT = {
    "age0": 0.0,
    "pkg_u": 0.0,
    "prac_u": 0.0,
    "risk": 0.0,
    "mark": 0.0,
    "pmark": 0.0,
    "delayed_since": 0.0,
    "severity": 0.0,
    "adm_t": -1.0,
    "last_disc": -1.0,
    "excess_m": 0.0,
    "resp_until": -1.0,
    "qsince": 0.0,
    "t_episode": np.inf,
    "t_death": np.inf,
    "t_age": np.inf,
    "t_xdeath": np.inf,
}
_INT_INIT = np.array(list(PATIENT_INT.values()), dtype=np.int64)[:, None]
_FLOAT_INIT = np.array(list(PATIENT_FLOAT.values()), dtype=np.float64)[:, None]


def new_state(inputs: FlowInputs, trace_ids: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Arrays for every patient slot (cohort + room for entrants), empty units and heap.

    The kernel's State structure is built from these very arrays (no copy), so this dict
    is also how Python reads the results.
    """
    c, n = inputs.cohort, inputs.max_patients
    n_muni, n_periods, n_units = inputs.geography.n, len(inputs.periods), max_units(inputs)
    ints = np.empty((len(PATIENT_INT), n), dtype=np.int64)
    ints[...] = _INT_INIT
    floats = np.empty((len(PATIENT_FLOAT), n), dtype=np.float64)
    floats[...] = _FLOAT_INIT
    patients = dict(zip(PATIENT_INT, ints, strict=True))
    patients.update(zip(PATIENT_FLOAT, floats, strict=True))
    for name, values in (
        ("muni", c.muni),
        ("group", c.group),
        ("age0", c.age0),
        ("frailty", c.frailty),
        ("cond", c.conditions),
        ("pkg_u", c.pkg_u),
        ("practice", c.practice),
        ("prac_u", inputs.practices.slot_u[:n]),
    ):
        patients[name][: values.size] = values
    loc = patients["loc"]
    loc[: c.size] = kernel.HOME
    heap = HEAP_PER_PATIENT * n + 4 * n_muni + 64
    traced = (
        np.zeros(0, dtype=np.int64) if trace_ids is None else np.asarray(trace_ids, dtype=np.int64)
    )
    if traced.size and (traced.min() < 0 or traced.max() >= n):
        raise ValueError(f"trace ids must be patient slots 0..{n - 1}")
    tr_last = np.zeros((traced.size, 2), dtype=np.int64)
    tr_last[:, 0] = loc[traced]
    return dict(
        **patients,
        n_patients=np.array([c.size], dtype=np.int64),
        horizon=np.zeros(1),
        occ=np.zeros((3, n_units), dtype=np.int64),
        qhead=np.full((3, n_units), -1, dtype=np.int64),
        qtail=np.full((3, n_units), -1, dtype=np.int64),
        umark=np.zeros((3, n_units)),
        unit_occ=np.zeros((n_periods, 3, n_units)),
        h_time=np.zeros(heap),
        h_seq=np.zeros(heap, dtype=np.int64),
        h_kind=np.zeros(heap, dtype=np.int64),
        h_id=np.zeros(heap, dtype=np.int64),
        h_ver=np.zeros(heap, dtype=np.int64),
        h_size=np.zeros(1, dtype=np.int64),
        seq=np.zeros(1, dtype=np.int64),
        now=np.zeros(1),
        counts=np.zeros((n_periods, n_muni, N_GROUPS, N_COUNTERS)),
        pcounts=np.zeros((n_periods, inputs.practices.n, N_PRACTICE_COUNTERS)),
        note=np.zeros(1, dtype=np.int64),
        tr_ids=traced,
        tr_last=tr_last,
        tr_log=np.zeros((TRACE_ROWS if traced.size else 0, 8)),
        tr_n=np.zeros(1, dtype=np.int64),
    )


class NumbaEngine:
    """The compiled patient flow of one replication, advanced one period at a time."""

    def __init__(
        self,
        inputs: FlowInputs,
        rng: dict[str, np.random.Generator],
        check: bool = False,
        trace_ids: np.ndarray | None = None,
    ):
        self.inputs = inputs
        self.rng = rng
        self.check = check
        self.params = kernel_params(inputs)
        self.n_units = max_units(inputs)
        self.arrays = new_state(inputs, trace_ids)
        self.state = kernel.make(kernel.State, kernel.STATE_FIELDS, self.arrays)
        self.events = 0
        self.run: kernel.Run | None = None  # bound at the first period (kernel.bind)

    @property
    def counts(self) -> np.ndarray:
        return self.arrays["counts"]

    @property
    def practice_counts(self) -> np.ndarray:
        """(period, practice, counter) for patients aged 65+ (counters.PRACTICE_COUNTERS)."""
        return self.arrays["pcounts"]

    @property
    def trace_log(self) -> np.ndarray:
        """The traced patients' changes, one row per change (columns kernel.TR_*)."""
        return self.arrays["tr_log"][: self.arrays["tr_n"][0]]

    @property
    def unit_occupancy(self) -> np.ndarray:
        return self.arrays["unit_occ"]

    def run_period(self, k: int, settings: PeriodSettings) -> None:
        ks = kernel_settings(settings, self.n_units)
        if self.run is None:
            # state, parameters and generators cross into the kernel once per replication
            r = self.rng
            self.run = kernel.bind(
                self.state, self.params, ks, r["clock"], r["route"], r["stay"], r["entry"]
            )
            kernel.start(self.run)
        self.events += kernel.run_period(
            self.run, ks, k, float(self.inputs.periods[k].end), self.check
        )
