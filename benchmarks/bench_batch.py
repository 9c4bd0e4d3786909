"""Batch throughput: tasks per minute with 1 and 2 local workers, and Dask's overhead.

Runs the same small experiment (teaching geography, one quarter after a 30-day warm-up)
with each backend into a fresh directory and times the whole `run_batch` call (process
start-up, kernel load, tasks, merge). Overhead per task of Dask vs local processes is the
difference in wall time per task at the same worker count.
Usage: python benchmarks/bench_batch.py [--tasks-per-scenario 12]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from sim.run.batch import run_batch
from sim.run.experiment import load_experiment

ROOT = Path(__file__).resolve().parent.parent


def experiment(path: Path, reps: int) -> Path:
    path.write_text(f"""
name: bench
scenarios:
  - config: {ROOT}/configs/teaching.yaml
    set: [simulation.end=2026-04-01, simulation.warmup_days=30]
  - config: {ROOT}/configs/teaching-reform.yaml
    set: [simulation.end=2026-04-01, simulation.warmup_days=30, regime.reform_date=2026-01-01]
replications: {reps}
seed: 1
""")
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks-per-scenario", type=int, default=12)
    ap.add_argument("--out", default="benchmarks/results/batch.json")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    plan = load_experiment(experiment(tmp / "bench.yaml", args.tasks_per_scenario))
    n = 2 * args.tasks_per_scenario
    rows = []
    for backend, workers in (("local", 1), ("local", 2), ("dask", 2)):
        start = time.perf_counter()
        run_batch(
            plan,
            tmp / f"{backend}-{workers}",
            backend,
            workers,
            None,
            False,
            Console(quiet=True),
            quiet=True,
        )
        seconds = time.perf_counter() - start
        rows.append(
            {
                "backend": backend,
                "workers": workers,
                "tasks": n,
                "seconds": round(seconds, 2),
                "tasks_per_minute": round(n / seconds * 60, 1),
            }
        )
        print(rows[-1], flush=True)
    local2, dask2 = rows[1]["seconds"], rows[2]["seconds"]
    result = {
        "command": " ".join(sys.argv),
        "runs": rows,
        "dask_overhead_seconds_per_task_vs_local_2_workers": round((dask2 - local2) / n, 3),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
