"""Before any work: will the run fit this machine? Refuse, naming the number and the limit,
what would exhaust memory, run for weeks or fill the disk, instead of failing hours in.

The estimates are deliberately rough (within a factor of two of measured runs: the
national cohort of about 1.4 million patients takes about 450 MB per worker and 12 s per
replication-year on one core); they guard against typos such as `replications: 1e12`,
not against a run that is merely long.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from sim.errors import Problem, TooLarge
from sim.files import check_output
from sim.flow.inputs import practice_counts, simulated_geography
from sim.run.runner import ScenarioSpec

#: Memory of one worker apart from its patients (interpreter, numba, polars), and per patient.
BASE_BYTES = 200e6
BYTES_PER_PATIENT = 200
#: CPU time per simulated patient-day (numba kernel and organisations, measured nationally).
SECONDS_PER_PATIENT_DAY = 1e-8
#: Output size per KPI row (Parquet, compressed) and per run (manifest, agents, report).
BYTES_PER_ROW = 300
BYTES_PER_RUN = 5e6
MAX_TASKS = 1_000_000
MAX_DAYS = 36_525  # warm-up + reporting window + follow-up: a century
MAX_HOURS = 24 * 7  # with the workers given
PERIOD_DAYS = {"month": 30.4, "quarter": 91.3, "year": 365.25}
GROUPS_PLUS_ALL = 7


def simulated_days(spec: ScenarioSpec) -> int:
    sim = spec.scenario.simulation
    return (sim.end - sim.start).days + sim.warmup_days + sim.readmission_followup_days


def simulated_patients(spec: ScenarioSpec) -> float:
    """Patients one replication holds: the cohort (scaled) and those entering over the run."""
    sc = spec.scenario
    geo = simulated_geography(sc, spec.geography)
    chronic = sc.population.under65_chronic_per_1000.value / 1000.0
    cohort = float(geo.pop_by_band.sum() + geo.population.sum() * chronic)
    years = simulated_days(spec) / 365.25
    entering = sc.population.entry_per_1000_per_year.value / 1000.0 * years
    return cohort * (1.0 + entering)


def output_bytes(specs: Sequence[ScenarioSpec], tasks: int) -> int:
    """Disk the run's tables take: one KPI row per task × period × area × group, and one
    practice row per task × period × practice."""
    spec = specs[0]
    geo, sim = spec.geography, spec.scenario.simulation
    areas = 1 + len(geo.regions_current) + len(geo.regions_reform) + len(geo.councils) + geo.n
    practices = int(practice_counts(spec.scenario, geo).sum())
    periods = max(1.0, (sim.end - sim.start).days / PERIOD_DAYS[sim.period])
    rows = tasks * periods * (areas * GROUPS_PLUS_ALL + practices)
    return int(rows * BYTES_PER_ROW + BYTES_PER_RUN)


def memory_available() -> int:
    """Bytes the system can give without swapping (MemAvailable), else physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_size(
    specs: Sequence[ScenarioSpec],
    tasks: int,
    workers: int,
    what: str,
    where: str = "--replications",
) -> None:
    """TooLarge unless `tasks` replications of `specs` fit in memory, time and task count.

    `what` says how the task count came about (e.g. '8 replications × 2 scenarios') and
    `where` where the user set it, for the message.
    """

    def fail(message: str, at: str = where) -> TooLarge:
        return TooLarge([Problem(at, None, "", message)])

    if tasks > MAX_TASKS:
        raise fail(f"{what} = {tasks:,} tasks; the limit is {MAX_TASKS:,}")
    days = max(simulated_days(s) for s in specs)
    if days > MAX_DAYS:
        raise fail(
            f"{days:,} simulated days (warm-up, reporting window and follow-up); "
            f"the limit is {MAX_DAYS:,} (a century)",
            specs[0].files[0],
        )
    patients = max(simulated_patients(s) for s in specs)
    processes = max(1, min(workers, tasks))
    need = processes * (BASE_BYTES + BYTES_PER_PATIENT * patients)
    have = memory_available()
    if need > have:
        raise fail(
            f"{patients:,.0f} simulated patients need about {need / 1e9:,.1f} GB of memory "
            f"with {processes} worker process(es); this machine has {have / 1e9:,.1f} GB "
            "available. Lower population.scale, the geography or --workers",
            specs[0].files[0],
        )
    hours = tasks * patients * days * SECONDS_PER_PATIENT_DAY / processes / 3600
    if hours > MAX_HOURS:
        raise fail(
            f"{what} would take about {hours:,.0f} hours with {processes} worker process(es); "
            f"the limit is {MAX_HOURS} hours"
        )


def check_run(
    specs: Sequence[ScenarioSpec], tasks: int, workers: int, what: str, out: Path, force: bool
) -> None:
    """Everything a run needs, checked before its first replication: size, then output."""
    check_size(specs, tasks, workers, what)
    check_output(out, force, output_bytes(specs, tasks))
