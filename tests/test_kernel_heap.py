"""The event heap grows inside the kernel and pops in (time, sequence) order."""

import numpy as np
from numba import njit

from sim.flow import kernel
from sim.flow.engine import new_state
from sim.flow.warmup import tiny_inputs


@njit
def _push_then_pop_all(st, times):
    for i in range(times.size):
        kernel.push(st, times[i], 0, i, 0)
    order = np.empty(times.size, dtype=np.int64)
    for j in range(times.size):
        order[j] = st.h_id[kernel.pop(st)]
    return order, st.h_time.size


def test_heap_grows_and_pops_in_time_then_sequence_order():
    arrays = new_state(tiny_inputs(n_patients=5))
    start_size = arrays["h_time"].size
    st = kernel.make(kernel.State, kernel.STATE_FIELDS, arrays)
    times = np.round(np.random.default_rng(3).random(10 * start_size) * 50)  # many ties
    order, final_size = _push_then_pop_all(st, times)
    assert final_size > start_size  # it had to grow
    assert sorted(order.tolist()) == list(range(times.size))  # nothing lost or duplicated
    assert np.all(np.diff(times[order]) >= 0)  # time order
    ties = times[order][1:] == times[order][:-1]
    assert np.all(np.diff(order)[ties] > 0)  # ties broken by insertion order
