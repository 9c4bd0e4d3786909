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


def test_simulate_leaves_no_model_behind():
    """`simulate` hands back the engine and inputs only; the model must not stay in Mesa's
    registry (each one left there slowed every later collection in the process)."""
    from sim.org.mesa_import import mesa
    from sim.run.runner import simulate

    spec = load_scenario(ROOT / "configs" / "teaching.yaml", ["simulation.end=2026-04-01"])
    before = set(getattr(mesa.Agent, "_ids", {}))
    engine, _ = simulate(spec, 0, 1)
    assert engine.counts.sum() > 0
    assert set(getattr(mesa.Agent, "_ids", {})) == before
