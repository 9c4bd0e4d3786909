"""Batch throughput: tasks per minute with 1 and 2 local workers, and Dask's overhead.

Runs the same experiment with each backend into a fresh directory and times the whole
`sektorsim batch` command in a fresh process (imports, worker or cluster start-up, kernel
load, tasks, merge), alternating the backends round after round so drift in machine speed
hits all alike; medians over rounds. (In one long-lived process the runs after a Dask
cluster got slower and slower, which says nothing about a command.)
Efficiency on 2 workers is t(local, 1) / (2 × t(local, 2)); Dask against local processes
is t(dask, 2) / t(local, 2). What the machine itself allows: two independent one-worker
commands started at once ("twin"); t(local, 1) / t(twin) is the efficiency two processes
reach with nothing shared and nothing to start (their caches and memory bandwidth are).

Sizes: `teaching` (the teaching geography, one quarter after a 30-day warm-up, ~50 ms a
task) and `national` (all 98 municipalities, one quarter after a 30-day warm-up, a few
seconds a task). The short warm-up keeps the benchmark short; it measures throughput, not
the model.
Usage: python benchmarks/bench_batch.py [--size teaching] [--tasks-per-scenario 12]
       [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEKTORSIM = str(Path(sys.executable).parent / "sektorsim")
CONFIGS = {
    "teaching": ("configs/teaching.yaml", "configs/teaching-reform.yaml"),
    "national": ("configs/denmark/current.yaml", "configs/denmark/reform.yaml"),
}
BACKENDS = (("local", 1), ("local", 2), ("dask", 2))


def experiment(path: Path, size: str, reps: int) -> Path:
    today, reform = CONFIGS[size]
    short = "simulation.end=2026-04-01, simulation.warmup_days=30"
    path.write_text(f"""
name: bench
scenarios:
  - config: {ROOT / today}
    set: [{short}]
  - config: {ROOT / reform}
    set: [{short}, regime.reform_date=2026-01-01]
replications: {reps}
seed: 1
""")
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", choices=sorted(CONFIGS), default="teaching")
    ap.add_argument("--tasks-per-scenario", type=int, default=12)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None, help="default: results/batch-<size>.json here")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    experiment(tmp / "bench.yaml", args.size, args.tasks_per_scenario)
    n = 2 * args.tasks_per_scenario
    seconds: dict[tuple[str, int], list[float]] = {b: [] for b in BACKENDS}
    twin: list[float] = []
    exp = tmp / "bench.yaml"

    def command(out: Path, backend: str, workers: int) -> list[str]:
        return [SEKTORSIM, "batch", str(exp), "--out", str(out), "--backend", backend,
                "--workers", str(workers), "--quiet", "--no-report"]  # fmt: skip

    subprocess.run(command(tmp / "warm", "local", 1), check=True)  # fills numba's cache
    for round_ in range(args.repeats):
        for backend, workers in BACKENDS:
            start = time.perf_counter()
            subprocess.run(command(tmp / f"{backend}-{workers}-{round_}", backend, workers),
                           check=True)  # fmt: skip
            seconds[(backend, workers)].append(time.perf_counter() - start)
            print(backend, workers, round(seconds[(backend, workers)][-1], 2), flush=True)
        start = time.perf_counter()
        twins = [subprocess.Popen(command(tmp / f"twin{k}-{round_}", "local", 1)) for k in (0, 1)]
        if any(p.wait() for p in twins):
            raise SystemExit("a twin command failed")
        twin.append(time.perf_counter() - start)
        print("twin", round(twin[-1], 2), flush=True)
    median = {b: statistics.median(s) for b, s in seconds.items()}
    rows = [
        {
            "backend": backend,
            "workers": workers,
            "tasks": n,
            "seconds": round(median[(backend, workers)], 2),
            "range": [round(min(s), 2), round(max(s), 2)],
            "tasks_per_minute": round(n / median[(backend, workers)] * 60, 1),
        }
        for (backend, workers), s in seconds.items()
    ]
    local1, local2, dask2 = (median[b] for b in BACKENDS)
    result = {
        "command": " ".join(sys.argv),
        "size": args.size,
        "repeats": args.repeats,
        "runs": rows,
        "efficiency_2_workers": round(local1 / (2 * local2), 3),
        "dask_vs_local_2_workers": round(dask2 / local2, 3),
        "twin_seconds": round(statistics.median(twin), 2),
        "twin_range": [round(min(twin), 2), round(max(twin), 2)],
        "efficiency_two_independent_commands": round(local1 / statistics.median(twin), 3),
    }
    out = Path(args.out or f"benchmarks/results/batch-{args.size}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
