"""Scaling of the numba core: 10k → full national cohort, one simulated year, one core.

Each size runs in a fresh process (peak memory is the process's own maximum resident
set). The kernel is compiled (or loaded from cache) before timing.
Usage: python benchmarks/bench_scaling.py [--out benchmarks/results/scaling.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CONFIG = "configs/denmark/current.yaml"
TARGETS = (10_000, 100_000, 300_000, 1_000_000, None)  # None = the whole national cohort


def one(target: int | None) -> dict:
    from sim.flow.engine import NumbaEngine
    from sim.flow.inputs import build_inputs
    from sim.flow.warmup import warm_up
    from sim.regime.levers import build_period_settings
    from sim.rng import streams
    from sim.run.runner import load_scenario

    warm_up()
    full = load_scenario(CONFIG)
    overrides = [
        "simulation.warmup_days=0",
        "simulation.readmission_followup_days=0",
        "simulation.period=year",
    ]
    if target is not None:  # the first municipalities of the file up to the target size
        probe = streams(1, 0)
        cohort = build_inputs(
            full.scenario, full.geography, probe["population"], probe["practices"]
        ).cohort
        sizes = np.bincount(cohort.muni, minlength=full.geography.n)
        n = int(np.searchsorted(np.cumsum(sizes), target)) + 1
        overrides.append(
            f"geography.municipalities=[{','.join(full.geography.municipalities[:n])}]"
        )
    spec = load_scenario(CONFIG, overrides)
    rng = streams(1, 0)
    inputs = build_inputs(spec.scenario, spec.geography, rng["population"], rng["practices"])
    eng = NumbaEngine(inputs, rng)
    start = time.perf_counter()
    for k, period in enumerate(inputs.periods):
        eng.run_period(k, build_period_settings(spec.scenario, inputs, period))
    seconds = time.perf_counter() - start
    years = inputs.periods[-1].end / 365.25
    return {
        "patients": inputs.cohort.size,
        "simulated_years": round(years, 3),
        "seconds": round(seconds, 3),
        "events": int(eng.events),
        "events_per_second": round(eng.events / seconds),
        "patient_years_per_second": round(inputs.cohort.size * years / seconds),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--national", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default="benchmarks/results/scaling.json")
    args = ap.parse_args()
    if args.one is not None or args.national:
        print(json.dumps(one(None if args.national else args.one)))
        return
    rows = []
    for target in TARGETS:
        flag = ["--national"] if target is None else ["--one", str(target)]
        res = subprocess.run(
            [sys.executable, __file__, *flag], capture_output=True, text=True, check=True
        )
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps({"command": " ".join(sys.argv), "runs": rows}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
