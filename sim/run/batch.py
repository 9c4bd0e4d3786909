"""`sektorsim batch`: every (scenario, parameter draw, replication) task, crash-safe.

Each finished task is written atomically as its own Parquet part (one file per task, so
a task can never appear twice); `--resume` skips the parts that exist. When all are done
the parts are merged into kpis.parquet / agents.parquet, analysed, and a manifest is
written. Local processes and Dask sit behind one concurrent.futures interface, and the
numbers do not depend on which runs a task (streams come from the task, not the worker).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from concurrent.futures import Executor
from pathlib import Path

import polars as pl
from rich.console import Console

from sim.errors import BatchDirError, OptionError, OutputError, Problem
from sim.files import (
    check_output,
    check_parquet,
    read_json,
    read_parquet,
    write_json,
    write_parquet,
)
from sim.outputs.analysis import analyse
from sim.outputs.equity import write_spread_tables
from sim.outputs.manifest import MANIFEST, build_manifest, code_revision
from sim.outputs.practices import sort_practices
from sim.outputs.tables import AGENTS, KPIS, run_metadata, tidy_agents, write_table
from sim.run.experiment import ExperimentPlan
from sim.run.preflight import output_bytes
from sim.run.runner import (
    InProcess,
    Task,
    _run_task,
    compile_kernel,
    completed,
    estimate_seconds,
    freeze_long_lived,
    shared_pool,
    sort_kpis,
    stop_pool,
)

PLAN_FILE = "experiment.json"
BACKENDS = ("local", "dask")
#: How long `--scheduler` keeps trying to reach a Dask scheduler before giving up.
SCHEDULER_TIMEOUT = "10s"


def part_name(kind: str, task: Task) -> str:
    return f"{kind}-s{task.scenario_index:03d}-d{task.draw:04d}-r{task.replication:04d}.parquet"


def plan_record(plan: ExperimentPlan) -> dict:
    """What identifies the experiment: its resolved file, draws and every scenario config."""
    return {"experiment": plan.data, "draws": plan.draws, "scenarios": [s.data for s in plan.specs]}


def _digest(record: dict) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


@contextlib.contextmanager
def executor(backend: str, workers: int, scheduler: str | None) -> Iterator[Executor]:
    """This process (one worker), its shared worker processes (kept for later work, see
    `shared_pool`), or Dask (a LocalCluster, or an existing scheduler)."""
    if backend == "local":
        if workers <= 1:
            yield InProcess()
            return
        pool = shared_pool(workers)
        try:
            yield pool
        except BaseException:
            stop_pool()  # not `shutdown()`: that would finish every queued task first
            raise
        return
    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as e:
            raise OptionError(
                [
                    Problem(
                        None, None, "--scheduler", f"cannot reach Dask scheduler {scheduler!r}: {e}"
                    )
                ]
            ) from None
        with client:
            yield client.get_executor()
        return
    with (
        dask.config.set({MALLOC_TRIM: None}),  # None: Dask leaves the variable unset
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client.get_executor()


#: Dask's nannies give new workers MALLOC_TRIM_THRESHOLD_=65536: glibc then hands freed
#: memory back at once, each replication's large arrays fault their pages in afresh, and a
#: national task took ~25 % longer than in a local process. Our LocalCluster leaves it out.
MALLOC_TRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


def prepare_directory(out: Path, plan: ExperimentPlan, resume: bool, need_bytes: int = 0) -> None:
    """Start the batch directory, or check that --resume can continue the one there.

    Only a new path, an empty directory or this experiment's own batch directory is
    used; everything in a resumed one is read through the checked readers first.
    """
    record = plan_record(plan)
    stored = out / PLAN_FILE
    if resume and out.exists():
        if not stored.is_file():
            raise BatchDirError(
                [
                    Problem(
                        str(out),
                        None,
                        "--resume",
                        f"has no {PLAN_FILE}: not a sektorsim batch directory",
                    )
                ]
            )
        data = read_json(stored, BatchDirError)
        if not isinstance(data, dict) or not isinstance(data.get("digest"), str):
            raise BatchDirError(
                [Problem(str(stored), None, "", "expected a JSON object with a digest")]
            )
        if data["digest"] != _digest(record):
            raise BatchDirError(
                [
                    Problem(
                        str(stored),
                        None,
                        "--resume",
                        "the experiment or its configs changed since this batch started",
                    )
                ]
            )
        for part in sorted((out / "parts").glob("*.parquet")):
            check_parquet(part, BatchDirError)
        return
    if stored.is_file():
        raise OutputError(
            [
                Problem(
                    "--out",
                    None,
                    str(out),
                    "holds a started batch: pass --resume to finish it, or choose another --out",
                )
            ]
        )
    check_output(out, need_bytes=need_bytes)
    (out / "parts").mkdir(parents=True, exist_ok=True)
    write_json({"digest": _digest(record), **record}, stored)


def run_batch(
    plan: ExperimentPlan,
    out: Path,
    backend: str,
    workers: int,
    scheduler: str | None,
    resume: bool,
    console: Console,
    quiet: bool = False,
) -> pl.DataFrame:
    from sim.progress import progress

    exp = plan.experiment
    tasks = [
        Task(scenario_index=s, replication=r, draw=d)
        for r in range(exp.replications)
        for s in range(len(exp.scenarios))
        for d in range(len(plan.draws))
    ]
    # local work goes to `completed`, which keeps small batches in this process; an
    # unreachable scheduler fails before anything is written
    remote = (
        contextlib.nullcontext() if backend == "local" else executor(backend, workers, scheduler)
    )
    with remote as pool:
        prepare_directory(out, plan, resume, output_bytes(plan.specs, len(tasks)))
        parts = out / "parts"
        todo = [t for t in tasks if not (parts / part_name("kpis", t)).is_file()]
        compile_kernel()
        freeze_long_lived()
        with progress(console, quiet) as bar:
            resumed = len(tasks) - len(todo)
            job = bar.add_task(
                f"{exp.name} ({backend}, {workers} workers)",
                total=len(tasks),
                completed=resumed,
                resumed=resumed,
            )
            args = [(plan.spec(t.scenario_index, t.draw), t, exp.seed, "numba") for t in todo]
            estimate = sum(estimate_seconds(a[0]) for a in args)
            for i, (kpis, agents, practices) in completed(
                _run_task, args, workers, pool, estimated_seconds=estimate
            ):
                task = todo[i]
                if "agents" in exp.outputs:
                    write_parquet(agents, parts / part_name("agents", task))
                if "practices" in exp.outputs:
                    write_parquet(practices, parts / part_name("practices", task))
                write_parquet(
                    kpis, parts / part_name("kpis", task)
                )  # last: its presence marks the task done
                bar.advance(job)
    return merge(plan, out, tasks)


def _parts(parts: Path, kind: str, tasks: list[Task]) -> pl.DataFrame:
    return pl.concat([read_parquet(parts / part_name(kind, t), BatchDirError) for t in tasks])


def merge(plan: ExperimentPlan, out: Path, tasks: list[Task]) -> pl.DataFrame:
    parts = out / "parts"
    kpis = sort_kpis(_parts(parts, "kpis", tasks))
    run = {
        "experiment": plan.data,
        "seed": plan.experiment.seed,
        "replications": plan.experiment.replications,
        "engine": "numba",
        "draws": plan.draws,
        # one entry per (scenario, draw), index = scenario × n_draws + draw
        "scenarios": [s.record() for s in plan.specs],
    }
    meta = run_metadata(run, code_revision())
    outputs = {"kpis": out / "kpis.parquet"}
    write_table(kpis, outputs["kpis"], KPIS, meta)
    wanted = plan.experiment.outputs
    if "agents" in wanted:
        outputs["agents"] = out / "agents.parquet"
        write_table(tidy_agents(_parts(parts, "agents", tasks)), outputs["agents"], AGENTS, meta)
    practices = sort_practices(_parts(parts, "practices", tasks)) if "practices" in wanted else None
    # differences are taken against the experiment's baseline, as in analysis.parquet
    names = [plan.baseline, *(n for n in plan.scenario_names if n != plan.baseline)]
    outputs |= write_spread_tables(out, kpis, practices, names, meta, "equity" in wanted)
    analysis = analyse(kpis, plan)
    outputs["analysis"] = out / "analysis.parquet"
    write_parquet(analysis, outputs["analysis"])
    write_json(build_manifest("batch", run, outputs), out / MANIFEST)
    return analysis
