"""Time to result: whole `sektorsim` commands as a person types them, start-up included.

Issue 13's acceptance table, measured in one call. Every case is a fresh process (imports,
loading or compiling the kernel, simulating, writing, drawing). The cases run in turn,
round after round (A B C ... A B C ...), so a change in the machine's speed during the
call hits every case alike; the table quotes medians with min and max of `--repeats`
rounds (at least 5 for the record) and the median CPU seconds of the command and every
process it waited for.

Warm cases: numba's cache filled by one untimed run first. Cold cases: each run gets a new,
empty NUMBA_CACHE_DIR (the kernel compiles, about a minute). `replay` reruns a run made
exactly as `make publish` makes results/published/teaching (made first, untimed). The
national case is `make run` after the install (warm). The SimPy/numba ratio is the whole
CLI, `run configs/teaching.yaml --replications 30` with its report, once per engine.

Usage: python benchmarks/time_to_result.py [--repeats 5] [--quick]
  --quick leaves out the slow cases (cold cache, national, SimPy): a smoke test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEKTORSIM = str(Path(sys.executable).parent / "sektorsim")
TEACHING = "configs/teaching.yaml"
VERDICTS: set[str] = set()  # what replay printed first: identical / different


#: `make publish`: two scenarios, three replications, one year.
PUBLISH = [
    SEKTORSIM, "run", TEACHING, "configs/teaching-reform.yaml", "--replications", "3",
    "--set", "simulation.end=2027-01-01", "--quiet", "--no-report",
]  # fmt: skip


#: `make run`: the national comparison, today vs the reform.
NATIONAL = [
    SEKTORSIM, "run", "configs/denmark/current.yaml", "configs/denmark/reform.yaml", "--quiet",
]  # fmt: skip
COLD = "COLD cache"  # cases whose name holds this run with an empty numba cache


def cases(out: Path, published: Path, quick: bool) -> dict[str, list[str]]:
    """Every case's command line, writing under `out` (new each round)."""
    run = [SEKTORSIM, "run", TEACHING, "--quiet"]
    table = {
        "sektorsim --help": [SEKTORSIM, "--help"],
        "run, 1 replication, no report, 1 worker": [
            *run, "--replications", "1", "--no-report", "--workers", "1", "--out", str(out / "a")
        ],
        "run, 1 replication, report, 1 worker": [
            *run, "--replications", "1", "--workers", "1", "--out", str(out / "b")
        ],
        "run, 10 replications, no report, 1 worker": [
            *run, "--no-report", "--workers", "1", "--out", str(out / "c")
        ],
        "run, 10 replications, no report, 2 workers": [
            *run, "--no-report", "--workers", "2", "--out", str(out / "d")
        ],
        "run, 10 replications, report, 1 worker": [
            *run, "--workers", "1", "--out", str(out / "e")
        ],
        "run, 10 replications, report, 2 workers (default)": [*run, "--out", str(out / "f")],
        "replay of a published-size run (6 tasks)": [SEKTORSIM, "replay", str(published)],
    }  # fmt: skip
    if quick:
        return table
    return table | {
        f"run, 1 replication, no report, 1 worker, {COLD}": [
            *run, "--replications", "1", "--no-report", "--workers", "1", "--out", str(out / "g")
        ],
        f"run, 10 replications, report, 2 workers (default), {COLD}": [
            *run, "--out", str(out / "h")
        ],
        "run, 30 replications, report, numba": [
            *run, "--replications", "30", "--out", str(out / "i")
        ],
        "run, 30 replications, report, SimPy": [
            *run, "--replications", "30", "--engine", "simpy", "--out", str(out / "j")
        ],
        "national `make run` (warm, after the install)": [*NATIONAL, "--out", str(out / "k")],
    }  # fmt: skip


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU (user + system, the command and every process it waited for) seconds.

    Exit 0 is required, except that `replay` may answer 1 ("different"): it did all the
    work either way, and the verdict is recorded separately.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, check=False, capture_output=True)
    if done.returncode not in ((0, 1) if command[1] == "replay" else (0,)):
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.decode()[-2000:]}")
    if command[1] == "replay":
        VERDICTS.add(done.stdout.decode().split("\n", 1)[0].strip())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", "--rounds", dest="repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="leave out cold, national and SimPy")
    ap.add_argument("--out", default="benchmarks/results/time_to_result.json")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ttr-"))
    load_before = os.getloadavg()
    published = tmp / "published"
    timed([*PUBLISH, "--out", str(published)])  # also warms numba's cache; untimed
    names = list(cases(tmp, published, args.quick))
    walls: dict[str, list[float]] = {name: [] for name in names}
    cpus: dict[str, list[float]] = {name: [] for name in names}
    for r in range(args.repeats):
        for i, (name, command) in enumerate(
            cases(tmp / f"round{r}", published, args.quick).items()
        ):
            env = None
            if COLD in name:  # a new, empty cache: this run compiles the kernel
                env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp / f"cold-cache-{r}-{i}")}
            wall, cpu = timed(command, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
            shutil.rmtree(tmp / f"round{r}", ignore_errors=True)  # national runs are large
        print(f"round {r + 1}/{args.repeats} done", file=sys.stderr, flush=True)
    rows = [
        {"case": name, "wall_s": summary(walls[name]), "cpu_s": summary(cpus[name])}
        for name in names
    ]
    ratio = None
    if not args.quick:
        simpy = statistics.median(walls["run, 30 replications, report, SimPy"])
        numba = statistics.median(walls["run, 30 replications, report, numba"])
        ratio = round(simpy / numba, 1)
    import numba as numba_module

    result = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "repeats": args.repeats,
        "machine": {
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "numba": numba_module.__version__,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "cases": rows,
        "whole_cli_simpy_over_numba_30_replications": ratio,
        "replay_verdicts": sorted(VERDICTS),
    }
    shutil.rmtree(tmp, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print("| case | wall s, median [min, max] | CPU s, median |")
    print("|---|---|---|")
    for row in rows:
        w, c = row["wall_s"], row["cpu_s"]
        print(f"| {row['case']} | {w['median']} [{w['min']}, {w['max']}] | {c['median']} |")
    if ratio is not None:
        print(f"whole-CLI SimPy/numba, 30 replications with the report: {ratio}x (target >= 10x)")
    print(f"replay said: {', '.join(sorted(VERDICTS))}; load {result['machine']}")


if __name__ == "__main__":
    main()
