"""Run scenarios × replications with common random numbers; return tidy tables.

Replication r of every scenario uses the streams derived from (seed, draw, r), so the
scenarios meet the same patients and the same random numbers (docs/model.md section 2).
"""

from __future__ import annotations

import ctypes
import difflib
import gc
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TypeVar

import numpy as np
import polars as pl

from sim.config.geography import Geography, load_geography
from sim.config.loader import Override, load_config
from sim.config.schema import Scenario
from sim.errors import ConfigError, Problem
from sim.files import sha256
from sim.flow.counters import N_PRACTICE_COUNTERS
from sim.flow.inputs import FlowInputs, build_inputs
from sim.org.model import HealthSystem
from sim.org.rules import resolve_rule
from sim.outputs.kpis import KEY_COLUMNS, add_rates, counts_table
from sim.outputs.practices import practice_table, sort_practices
from sim.regime.costs import add_costs
from sim.rng import streams

ENGINES = ("numba", "simpy")
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class ScenarioSpec:
    """A validated scenario with the resolved data it came from (for the manifest)."""

    scenario: Scenario
    data: dict
    files: tuple[str, ...]
    geography_path: Path
    geography: Geography = field(repr=False)
    coordinates_path: Path | None = None

    @property
    def name(self) -> str:
        return self.scenario.name

    def record(self) -> dict:
        """What a manifest keeps of this scenario, so that `sektorsim replay` can rebuild it."""
        return {
            "name": self.name,
            "files": list(self.files),
            "config": self.data,
            "geography": {
                "file": str(self.geography_path),
                "sha256": sha256(self.geography_path),
                **(
                    {}
                    if self.coordinates_path is None
                    else {
                        "coordinates": str(self.coordinates_path),
                        "coordinates_sha256": sha256(self.coordinates_path),
                    }
                ),
            },
        }


def _relative_to_setter(value: str, lines: dict, key: str, fallback: Path) -> Path:
    """Paths in a config are relative to the file that set them (extends-aware)."""
    origin = lines.get(key)
    base = (
        Path(origin[0]).parent if origin and origin[0] not in (None, "--set") else fallback.parent
    )
    return (base / value) if not Path(value).is_absolute() else Path(value)


def load_scenario(path: Path | str, overrides: Sequence[str | Override] = ()) -> ScenarioSpec:
    """Load, validate and check the geography of one scenario file (ConfigError if bad)."""
    loaded = load_config([Path(path)], Scenario, overrides)
    sc = loaded.config
    geo_path = _relative_to_setter(sc.geography.file, loaded.lines, "geography.file", Path(path))
    if not geo_path.is_file():
        origin = loaded.lines.get("geography.file", (str(path), None))
        raise ConfigError(
            [Problem(origin[0], origin[1], "geography.file", f"file {str(geo_path)!r} not found")]
        )
    geo = load_geography(geo_path)
    coord_path = None
    if sc.geography.coordinates:
        coord_path = _relative_to_setter(
            sc.geography.coordinates, loaded.lines, "geography.coordinates", Path(path)
        )
        if not coord_path.is_file():
            origin = loaded.lines.get("geography.coordinates", (str(path), None))
            raise ConfigError(
                [
                    Problem(
                        origin[0], origin[1], "geography.coordinates",
                        f"file {str(coord_path)!r} not found",
                    )
                ]
            )  # fmt: skip
        geo = geo.with_coordinates(coord_path)
    unknown = [m for m in (sc.geography.municipalities or []) if m not in geo.municipalities]
    if unknown:
        origin = loaded.lines.get("geography.municipalities", (str(path), None))
        raise ConfigError(
            [
                Problem(
                    origin[0],
                    origin[1],
                    "geography.municipalities",
                    f"not in {geo_path}: {', '.join(unknown)}",
                )
            ]
        )
    check_overrides(sc, geo, loaded.lines, str(path))
    check_scale(sc, geo, loaded.lines, str(path))
    rule_origin = loaded.lines.get("organisations.decision_rule", (str(path), None))
    resolve_rule(sc.organisations.decision_rule, rule_origin[0], rule_origin[1], sc)
    files = tuple(str(f) for f in loaded.files)
    return ScenarioSpec(sc, loaded.data, files, geo_path, geo, coord_path)


def check_scale(sc: Scenario, geo: Geography, lines: dict, fallback: str) -> None:
    """`population.scale` below 1 picks whole health councils: a geography with one council
    per region has no smaller part to pick, and the scale would silently do nothing."""
    if sc.population.scale >= 1.0:
        return
    chosen = geo.subset(sc.geography.municipalities) if sc.geography.municipalities else geo
    pairs = set(zip(chosen.region_reform_of.tolist(), chosen.council_of.tolist(), strict=True))
    if len(pairs) > len({region for region, _ in pairs}):
        return
    origin = lines.get("population.scale", (fallback, None))
    raise ConfigError(
        [
            Problem(
                origin[0],
                origin[1],
                "population.scale",
                "this geography has one health council per region, so no smaller part can be "
                "simulated at full density; keep 1.0 or list fewer geography.municipalities",
            )
        ]
    )


def check_overrides(sc: Scenario, geo: Geography, lines: dict, fallback: str) -> None:
    """Every name in a `beds_override` must be an area the beds belong to: a misspelt name
    would otherwise be ignored and the run would silently use the default."""
    areas = {
        "settings.hospital.beds_override": ("health council", geo.councils),
        "settings.sop.beds_override": (
            "municipality or health council",
            (*geo.municipalities, *geo.councils),
        ),
    }
    overrides = {
        "settings.hospital.beds_override": sc.settings.hospital.beds_override,
        "settings.sop.beds_override": sc.settings.sop.beds_override,
    }
    problems = []
    for key, given in overrides.items():
        what, names = areas[key]
        for name in given:
            if name not in names:
                file, line = lines.get(f"{key}.{name}", lines.get(key, (fallback, None)))
                close = difflib.get_close_matches(name, names, n=1)
                hint = (
                    f"; did you mean {close[0]!r}?"
                    if close
                    else f"; expected one of {', '.join(names)}"
                )
                problems.append(
                    Problem(file, line, f"{key}.{name}", f"no {what} named {name!r}{hint}")
                )
    if problems:
        raise ConfigError(problems)


def make_engine(name: str, inputs: FlowInputs, rng: dict, check: bool = False, trace_ids=None):
    if name == "numba":
        from sim.flow.engine import NumbaEngine

        return NumbaEngine(inputs, rng, check=check, trace_ids=trace_ids)
    if name == "simpy":
        from sim.reference.simpy_engine import SimpyEngine

        return SimpyEngine(inputs, rng)
    raise ValueError(f"unknown engine {name!r}; expected one of {ENGINES}")


@dataclass(frozen=True)
class Task:
    scenario_index: int
    replication: int
    draw: int = 0


def simulate_system(
    spec: ScenarioSpec,
    replication: int,
    seed: int,
    engine: str = "numba",
    draw: int = 0,
    check: bool = False,
    trace: Callable[[FlowInputs], np.ndarray] | None = None,
) -> HealthSystem:
    """One replication of one scenario: the flow and the organisations, period by period.

    `trace`, given the inputs, names the patient slots whose changes the kernel logs.
    """
    rng = streams(seed, replication)  # no draw: every parameter draw shares replication r's numbers
    inputs = build_inputs(spec.scenario, spec.geography, rng["population"], rng["practices"])
    trace_ids = trace(inputs) if trace else None
    eng = make_engine(engine, inputs, rng, check=check, trace_ids=trace_ids)
    rule = resolve_rule(spec.scenario.organisations.decision_rule)
    system = HealthSystem(spec.scenario, inputs, eng, rule, rng["organisations"])
    for _ in inputs.periods:
        system.step()
    return system


def simulate(
    spec: ScenarioSpec,
    replication: int,
    seed: int,
    engine: str = "numba",
    draw: int = 0,
    check: bool = False,
):
    """One replication; returns the engine (its counts) and its inputs. The organisations'
    model is released (HealthSystem.release): Mesa would keep it, and every object of a
    SimPy engine, alive for the life of the process, slowing each later garbage collection."""
    system = simulate_system(spec, replication, seed, engine, draw, check)
    result = system.engine, system.inputs
    system.release()
    return result


class Tables(NamedTuple):
    """What one replication writes: KPI rows, the agents' rows, the practices' rows."""

    kpis: pl.DataFrame
    agents: pl.DataFrame
    practices: pl.DataFrame


def replication_table(
    spec: ScenarioSpec, replication: int, seed: int, engine: str = "numba", draw: int = 0
) -> Tables:
    """The KPI rows, the agents' rows and the practices' rows of one replication (the
    SimPy reference counts no practices: its practice table has no rows)."""

    def tables(system: HealthSystem) -> Tables:
        table = counts_table(system.engine.counts, system.inputs, spec.name, replication, draw)
        kpis = add_costs(add_rates(table), spec.scenario, system.inputs.periods)
        counted = getattr(system.engine, "practice_counts", None)
        shape = (len(system.inputs.periods), system.inputs.practices.n, N_PRACTICE_COUNTERS)
        practices = practice_table(
            np.zeros(shape) if counted is None else counted,
            system.inputs,
            spec.name,
            replication,
            draw,
        )
        if counted is None:
            practices = practices.clear()
        return Tables(kpis, system.agent_table(spec.name, replication, draw), practices)

    return read_and_release(simulate_system(spec, replication, seed, engine, draw), tables)


def read_and_release(system: HealthSystem, read: Callable[[HealthSystem], T]) -> T:
    """What `read` takes from a finished replication; then the replication is freed at once.

    Workers run hundreds of replications: Mesa 3.3 would keep each alive (HealthSystem.release)
    and the cycles that remain hold large arrays the collector, counting objects, not
    bytes, would leave for too long.
    """
    result = read(system)
    system.release()
    del system
    gc.collect()
    return result


def _run_task(args: tuple) -> Tables:
    global _freeze_after_each
    spec, task, seed, engine = args
    if not _frozen:  # a Dask worker: no initializer ran (local workers run `_start_worker`)
        compile_kernel()
        freeze_long_lived()
        _freeze_after_each = True
    result = replication_table(spec, task.replication, seed, engine, task.draw)
    if _freeze_after_each:
        # A Dask worker keeps bookkeeping for every task it ran (~270 objects a task), and
        # each replication's collection walked all of it again: a teaching task went from
        # 40 to 100 ms over 600 tasks. Frozen, a collection walks what one task made.
        gc.freeze()
    return result


_freeze_after_each = False


def compile_kernel() -> None:
    """Compile (or load from cache) the numba kernel in this process, before forking."""
    from sim.flow.warmup import warm_up

    warm_up()


_frozen = False


def freeze_long_lived() -> None:
    """Exempt what is alive now (modules, compiled code) from the collector, once per process.

    `read_and_release` collects after every replication; without this each collection
    walks every object numba, polars, Mesa and scipy created at import (~0.2 s each).
    """
    global _frozen
    if not _frozen:
        gc.freeze()
        _frozen = True


#: Seconds a new worker process takes before its first task: a spawned interpreter imports
#: numpy, numba, polars, Mesa and the model and loads the kernel from numba's cache (about
#: 2-3 s on the 2-core teaching machine, benchmarks/README.md). Work shorter than this stays
#: in the calling process.
WORKER_START_SECONDS = 3.0

#: A task's time, estimated before running it: a fixed part (inputs, Mesa, tables) and a
#: pace per simulated patient-year, fitted to whole tasks on the 2-core machine (a teaching
#: quarter ~16 ms, 5,500 patient-years; a national quarter ~0.95 s, 566,000 patient-years;
#: benchmarks/README.md).
TASK_FIXED_SECONDS = 0.01
SECONDS_PER_PATIENT_YEAR = 1.7e-6

_pool: ProcessPoolExecutor | None = None


def estimate_seconds(spec: ScenarioSpec) -> float:
    """About how long one replication of `spec` takes (for choosing processes, not a promise)."""
    sc, geo = spec.scenario, spec.geography
    pop = sc.population
    patients = pop.scale * float(
        geo.pop_by_band.sum() + pop.under65_chronic_per_1000.value / 1000.0 * geo.population.sum()
    )
    sim = sc.simulation
    days = (sim.end - sim.start).days + sim.warmup_days + sim.readmission_followup_days
    return TASK_FIXED_SECONDS + SECONDS_PER_PATIENT_YEAR * patients * days / 365.25


def die_with_parent(parent: int) -> None:
    """Worker initializer: the kernel sends SIGKILL when the parent dies (even by kill -9),
    so a killed run leaves no workers behind holding hundreds of MB each."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _start_worker(parent: int) -> None:
    """A worker dies with its parent and loads the kernel (from the cache the parent
    wrote) before its first task."""
    die_with_parent(parent)
    compile_kernel()
    freeze_long_lived()


def shared_pool(workers: int) -> ProcessPoolExecutor:
    """This process's worker processes, started on first use and kept for later calls
    (replications, scenarios, batch tasks, calibration rounds): a worker pays its start-up
    once. Asking for another number of workers replaces the pool."""
    global _pool
    if _pool is not None and (_pool._max_workers != workers or _pool._broken):
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None
    if _pool is None:
        # spawn, not fork: a forked child of a process whose polars/numba thread pools are
        # running can deadlock. Children load the kernel from the cache the parent wrote.
        _pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )
    return _pool


def shutdown_pool() -> None:
    """Stop the shared workers (they also stop when this process exits)."""
    global _pool
    if _pool is not None:
        _pool.shutdown()
        _pool = None


MANAGER_EXIT_SECONDS = 30.0  # a liveness bound: the manager ends within moments of the kill


def stop_pool() -> None:
    """End the shared workers now, dropping queued tasks and the ones they are running."""
    global _pool
    if _pool is not None:
        pool, _pool = _pool, None
        kill_pool(pool)


def kill_pool(pool: ProcessPoolExecutor) -> None:
    """Kill a pool's processes and let it notice; waits (bounded) for its manager thread.

    The workers are killed and the pool left to notice: its manager thread then fails the
    pending futures and stops feeding tasks to the dead workers. Cancelling those futures
    first would make Python 3.11's manager fail on them (InvalidStateError) before it
    closes the task pipe, and the process would hang at exit writing to it.

    The manager thread is then waited for (bounded): Python 3.11's exit hook wakes every
    pool's manager through a pipe that the manager closes as it finishes, with no lock
    between the two, so exiting while it is still finishing could print an ignored
    `OSError: Bad file descriptor` traceback. Once it has finished, the hook skips it."""
    manager = pool._executor_manager_thread
    for process in list((pool._processes or {}).values()):
        process.kill()
    pool.shutdown(wait=False)
    if manager is not None:
        manager.join(timeout=MANAGER_EXIT_SECONDS)


def pool_running(workers: int) -> bool:
    return _pool is not None and _pool._max_workers == workers and not _pool._broken


class InProcess(Executor):
    """An executor that runs each task at once, here (`--workers 1`; no processes)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as e:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(e)
        return future


def worth_processes(serial_seconds: float, workers: int, start_seconds: float) -> bool:
    """Do `workers` new processes finish `serial_seconds` of work sooner than this one?"""
    return workers > 1 and start_seconds + serial_seconds / workers < serial_seconds


def completed(
    fn: Callable[[T], R],
    items: Sequence[T],
    workers: int = 1,
    executor: Executor | None = None,
    start_seconds: float = WORKER_START_SECONDS,
    estimated_seconds: float = 0.0,
) -> Iterator[tuple[int, R]]:
    """(index, fn(item)) for every item, each as it finishes.

    With an executor, every item runs on it. Otherwise worker processes are used at once
    if they are running already, or if `estimated_seconds` (all items, one after another)
    says they are worth starting (`worth_processes`: the work against a worker's
    start-up). If not, the first items run here and the second's time (the first pays
    one-off costs) decides the same question for the rest. Results do not depend on where
    a task runs (its random streams come from the task).
    """
    todo = list(range(len(items)))
    at_once = workers > 1 and (
        pool_running(workers)
        or worth_processes(estimated_seconds, min(workers, len(todo)), start_seconds)
    )
    if executor is None and not at_once and todo:
        # the first task also pays this process's one-off costs (imports, first calls), so
        # a second one, if there are more, is the pace that decides
        for _ in range(2 if len(todo) > 2 else 1):
            began = time.perf_counter()
            yield todo[0], fn(items[todo[0]])
            took, todo = time.perf_counter() - began, todo[1:]
        workers = min(workers, len(todo))
        if not worth_processes(took * len(todo), workers, start_seconds):
            for i in todo:
                yield i, fn(items[i])
            return
    if not todo:
        return
    pool = executor or shared_pool(workers)
    futures = {pool.submit(fn, items[i]): i for i in todo}
    try:
        for future in as_completed(futures):
            # dropped as it is read: a finished future holds its result (on a Dask worker,
            # until the future is gone), and a batch of thousands would keep them all
            yield futures.pop(future), future.result()
    except BaseException:  # an error, Ctrl-C, or the caller stopped early
        if executor is None or executor is _pool:
            stop_pool()  # not `shutdown()`, which would finish every task handed out first
        else:
            for future in futures:
                future.cancel()
        raise


def run_tasks(
    specs: Sequence[ScenarioSpec],
    tasks: Iterable[Task],
    seed: int,
    engine: str = "numba",
    workers: int = 1,
    on_done: Callable[[Task, tuple], None] | None = None,
    executor: Executor | None = None,
    start_seconds: float = WORKER_START_SECONDS,
) -> list[Tables]:
    """Run every task, here or on up to `workers` processes (`completed` decides);
    (kpis, agents, practices) come back in task order."""
    tasks = list(tasks)
    if engine == "numba":
        compile_kernel()
    freeze_long_lived()
    args = [(specs[t.scenario_index], t, seed, engine) for t in tasks]
    results: list = [None] * len(tasks)
    estimate = sum(estimate_seconds(specs[t.scenario_index]) for t in tasks)
    for i, table in completed(_run_task, args, workers, executor, start_seconds, estimate):
        results[i] = table
        if on_done:
            on_done(tasks[i], table)
    return results


def run_replications(
    specs: Sequence[ScenarioSpec],
    replications: int,
    seed: int,
    label: str,
    console,
    quiet: bool,
    engine: str = "numba",
    workers: int = 1,
) -> tuple[pl.DataFrame, list[pl.DataFrame], pl.DataFrame]:
    """Every scenario × replication with a progress bar (replication-major, so scenarios
    share streams task by task); the sorted KPI rows, each task's agent table and the
    sorted practice rows."""
    from sim.progress import progress

    tasks = [Task(i, r) for r in range(replications) for i in range(len(specs))]
    with progress(console, quiet) as bar:
        job = bar.add_task(label, total=len(tasks))
        tables = run_tasks(
            specs,
            tasks,
            seed,
            engine,
            workers=min(workers, len(tasks)),
            on_done=lambda task, table: bar.advance(job),
        )
    kpis = sort_kpis(pl.concat([t.kpis for t in tables]))
    return (
        kpis,
        [t.agents for t in tables],
        sort_practices(pl.concat([t.practices for t in tables])),
    )


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def sort_kpis(df: pl.DataFrame) -> pl.DataFrame:
    """A stable row order, so the same run writes the same bytes."""
    return df.sort(list(KEY_COLUMNS), maintain_order=True)


def check_same_geography(specs: Sequence[ScenarioSpec]) -> None:
    first = specs[0]
    for s in specs[1:]:
        if s.geography.municipalities != first.geography.municipalities or not np.array_equal(
            s.geography.population, first.geography.population
        ):
            raise ConfigError(
                [
                    Problem(
                        s.files[0],
                        None,
                        "geography",
                        f"differs from {first.files[0]}: scenarios must share a geography",
                    )
                ]
            )
