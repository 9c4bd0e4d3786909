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
from sim.flow.inputs import build_inputs
from sim.flow.warmup import warm_up
from sim.regime.levers import build_period_settings
from sim.rng import streams
from sim.run.runner import load_scenario, make_engine


def measure(engine: str, spec, seed: int, trace_memory: bool = False) -> dict:
    """One replication; with trace_memory the peak traced allocation (slower, not timed)."""
    rng = streams(seed, 0)
    inputs = build_inputs(spec.scenario, spec.geography, rng["population"], rng["practices"])
    if trace_memory:
        tracemalloc.start()
    start = time.perf_counter()
    eng = make_engine(engine, inputs, rng)
    for k, period in enumerate(inputs.periods):
        eng.run_period(k, build_period_settings(spec.scenario, inputs, period))
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace_memory else None
    if trace_memory:
        tracemalloc.stop()
    return {
        "seconds": seconds,
        "patient_years": inputs.cohort.size * inputs.periods[-1].end / 365.25,
        "model_events": getattr(eng, "events", None),
        "peak_traced_mb": peak,
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
    # Both engines simulate the same model and replication, so they process the same
    # model events (in distribution); the kernel counts them, and events per second for
    # either engine is that count over the engine's own time.
    events = statistics.median(r["model_events"] for r in runs["numba"])
    summary = {}
    for engine, rs in runs.items():
        seconds = statistics.median(r["seconds"] for r in rs)
        summary[engine] = {
            "seconds": seconds,
            "seconds_min_max": [min(r["seconds"] for r in rs), max(r["seconds"] for r in rs)],
            "events_per_second": events / seconds,
            "patient_years_per_second": rs[0]["patient_years"] / seconds,
            "peak_traced_mb": measure(engine, spec, seed=1, trace_memory=True)["peak_traced_mb"],
            "admissions": statistics.median(r["admissions"] for r in rs),
        }
    ratio = summary["simpy"]["seconds"] / summary["numba"]["seconds"]
    # each alternating pair's own ratio: the spread a busy machine puts on the median
    pairs = sorted(s["seconds"] / n["seconds"] for n, s in zip(runs["numba"], runs["simpy"]))
    result = {
        "command": " ".join(sys.argv),
        "config": args.config,
        "repeat": args.repeat,
        "model_events": events,
        "median": summary,
        "numba_over_simpy_events_per_second": ratio,
        "pair_ratios_min_median_max": [pairs[0], statistics.median(pairs), pairs[-1]],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
