"""Same seed, same numbers; another seed, other numbers; streams never collide."""

import numpy as np

from sim.flow.engine import NumbaEngine
from sim.flow.reduced import periods
from sim.flow.warmup import tiny_inputs, tiny_settings
from sim.rng import STREAMS, seed_sequence, streams


def _counts(seed: int) -> np.ndarray:
    import dataclasses

    inputs = dataclasses.replace(tiny_inputs(n_patients=400), periods=periods(10.0, 40.0, 2))
    eng = NumbaEngine(inputs, streams(seed, 3))
    for k in range(len(inputs.periods)):
        eng.run_period(k, tiny_settings())
    return eng.counts.copy()


def test_same_seed_same_counts_other_seed_other_counts():
    a, b, c = _counts(1), _counts(1), _counts(2)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_streams_depend_on_replication_and_name_not_on_call_order():
    first = streams(9, 0)["clock"].random(3)
    streams(9, 1)  # creating other streams in between changes nothing
    again = streams(9, 0)["clock"].random(3)
    assert np.array_equal(first, again)
    states = {tuple(seed_sequence(9, r, n).generate_state(4)) for r in range(5) for n in STREAMS}
    assert len(states) == 5 * len(STREAMS)
