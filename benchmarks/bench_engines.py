"""The numba core vs the SimPy reference on the same config, in one run.

Both engines simulate the same scenario and replication (same inputs, same seeds); we
report events per second, patient-years per second, peak traced memory and the ratio.
The kernel is compiled (or loaded from cache) before timing.
Usage: python benchmarks/bench_engines.py [--config configs/teaching.yaml] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

from sim.flow.counters import C
from sim.flow.inputs import build_inputs, build_period_settings
from sim.flow.warmup import warm_up
from sim.rng import streams
from sim.runner import load_scenario, make_engine


def measure(engine: str, spec, seed: int) -> dict:
    rng = streams(seed, 0)
    inputs = build_inputs(spec.scenario, spec.geography, rng["population"])
    tracemalloc.start()
    start = time.perf_counter()
    eng = make_engine(engine, inputs, rng)
    for k, period in enumerate(inputs.periods):
        eng.run_period(k, build_period_settings(spec.scenario, inputs, period))
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    years = inputs.periods[-1].end / 365.25
    return {
        "engine": engine,
        "seconds": seconds,
        "events": int(eng.events),
        "events_per_second": eng.events / seconds,
        "patient_years_per_second": inputs.cohort.size * years / seconds,
        "peak_traced_mb": peak / 2**20,
        "admissions": float(eng.counts[..., C["admissions"]].sum()),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="configs/teaching.yaml")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default="benchmarks/results/engines.json")
    args = ap.parse_args()
    warm_up()
    spec = load_scenario(args.config)
    runs = {"numba": [], "simpy": []}
    for _ in range(args.repeat):
        for engine in runs:  # alternate, so drift in machine speed hits both alike
            runs[engine].append(measure(engine, spec, seed=1))
    summary = {}
    for engine, rs in runs.items():
        summary[engine] = {k: statistics.median(r[k] for r in rs) for k in rs[0] if k != "engine"}
    ratio = summary["numba"]["events_per_second"] / summary["simpy"]["events_per_second"]
    result = {"command": " ".join(sys.argv), "config": args.config, "repeat": args.repeat,
              "median": summary, "numba_over_simpy_events_per_second": ratio}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
