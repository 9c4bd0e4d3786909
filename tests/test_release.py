"""A finished replication can be garbage-collected: batches and calibration run thousands
of them in long-lived workers (Mesa 3.3 keeps every model alive otherwise, issue #3179)."""

import gc
import weakref
from pathlib import Path

from sim.run.runner import load_scenario, simulate_system

ROOT = Path(__file__).resolve().parent.parent


def test_a_released_system_is_freed():
    spec = load_scenario(ROOT / "configs" / "teaching.yaml", ["simulation.end=2026-04-01"])
    system = simulate_system(spec, 0, 1)
    engine = weakref.ref(system.engine)
    system.release()
    del system
    gc.collect()
    assert engine() is None
