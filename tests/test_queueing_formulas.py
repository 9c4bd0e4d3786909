"""The Erlang formulas themselves, against textbook values."""

import math

import pytest

from sim.validation.queueing import erlang_b, erlang_c, mmc_mean_wait


def test_erlang_b_known_values():
    # B(1, a) = a / (1 + a); B(2, 1) = 0.2 (Kleinrock vol. 1, eq. 3.46)
    assert erlang_b(1, 0.5) == pytest.approx(0.5 / 1.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)
    assert erlang_b(10, 5.0) == pytest.approx(0.018384, abs=1e-6)


def test_erlang_c_single_server_is_utilisation():
    # M/M/1: P(wait) = rho, Wq = rho / (mu - lambda)
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert mmc_mean_wait(1, 0.7, 1.0) == pytest.approx(0.7 / 0.3)


def test_erlang_c_needs_stable_load():
    with pytest.raises(ValueError):
        erlang_c(3, 3.0)
    assert not math.isnan(erlang_c(3, 2.9))
