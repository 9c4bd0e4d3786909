"""MSER finds where a series settles (sim/studies/warmup.py)."""

import numpy as np

from sim.studies.warmup import mser, settled_from


def test_mser_cuts_a_transient_and_keeps_a_stationary_series():
    rng = np.random.default_rng(1)
    steady = rng.normal(100.0, 2.0, 40)
    transient = steady + np.concatenate([np.linspace(60.0, 0.0, 10), np.zeros(30)])
    assert mser(steady) <= 4  # nothing (or a handful of points by chance) to cut
    assert 6 <= mser(transient) <= 14


def test_batched_mser_reports_an_index_of_the_original_series():
    x = np.concatenate([np.full(10, 50.0), np.full(30, 100.0)])
    assert mser(x, batch=5) % 5 == 0 and mser(x, batch=5) == 10


def test_settled_from_uses_the_mean_over_replications():
    rising = np.tile(np.concatenate([np.linspace(0.0, 10.0, 6), np.full(14, 10.0)]), (3, 1))
    assert 4 <= settled_from(rising) <= 6
