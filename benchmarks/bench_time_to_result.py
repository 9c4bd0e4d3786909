"""Time to result: whole `sektorsim` commands as a person types them, start-up included.

Every case is a fresh process (imports, loading the compiled kernel, simulating, writing,
drawing). The cases run in turn, round after round (A B C ... A B C ...), so a change in
the machine's speed during the call hits every case alike; the table quotes medians with
min and max. The numba cache is warmed by one untimed run first. `--cold` adds one run
with an empty numba cache (compiling the kernel, about a minute), outside the rounds.
`replay` reruns a run made exactly as `make publish` makes results/published/teaching
(made first, untimed), so it works whatever the state of the published directory.
Usage: python benchmarks/bench_time_to_result.py [--rounds 5] [--cold]
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


def cases(out: Path, published: Path) -> dict[str, list[str]]:
    run = [SEKTORSIM, "run", TEACHING, "--quiet"]
    return {
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
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cold", action="store_true", help="also one run with an empty cache")
    ap.add_argument("--out", default="benchmarks/results/time_to_result.json")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ttr-"))
    load_before = os.getloadavg()
    published = tmp / "published"
    timed([*PUBLISH, "--out", str(published)])  # also warms numba's cache; untimed
    warm = cases(tmp / "warm", published)
    walls: dict[str, list[float]] = {name: [] for name in warm}
    cpus: dict[str, list[float]] = {name: [] for name in warm}
    for r in range(args.rounds):
        for name, command in cases(tmp / f"round{r}", published).items():  # a new --out every time
            wall, cpu = timed(command)
            walls[name].append(wall)
            cpus[name].append(cpu)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    rows = [
        {"case": name, "wall_s": summary(walls[name]), "cpu_s": summary(cpus[name])}
        for name in warm
    ]
    if args.cold:
        cache = tmp / "cold-numba-cache"
        wall, cpu = timed(
            cases(tmp / "cold", published)["run, 1 replication, no report, 1 worker"],
            {**os.environ, "NUMBA_CACHE_DIR": str(cache)},
        )
        rows.append(
            {
                "case": "run, 1 replication, no report, 1 worker, COLD cache (1 run)",
                "wall_s": summary([wall]),
                "cpu_s": summary([cpu]),
            }
        )
    import numba

    result = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "rounds": args.rounds,
        "machine": {
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "numba": numba.__version__,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "cases": rows,
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
    print(f"replay said: {', '.join(sorted(VERDICTS))}; load {result['machine']}")


if __name__ == "__main__":
    main()
