"""Queueing approximations the organisations plan capacity with (Erlang loss and delay).

A decider does not know the flow's rules in detail; it approximates its beds as an
M/G/c/c loss system for patients who are turned away (blocked step-ups, blocked home
treatment: Erlang B) and as an M/M/c delay system for patients who wait (delayed
discharges: Erlang C), with the offered load it estimated from last periods' counts.
These are the same formulas the validation report checks the kernel against
(`sim/validation/queueing.py`), written here so that the organisation layer need not
import from a layer above it; here a system without enough servers waits for ever
(infinity) instead of raising.
"""

from __future__ import annotations

import math


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/G/c/c with offered load `load` (Erlang B), by recursion."""
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def mmc_mean_wait(servers: int, load: float, mean_service: float, after: float = 0.0) -> float:
    """Mean wait in queue of M/M/c with offered load `load` (erlangs) and mean service time
    `mean_service`, counting only the days of a wait beyond `after` days:
    E[(W − after)+] = C(c, a) · e^(−θ·after) / θ with θ = (c − a) / s, since
    P(W > t) = C(c, a) · e^(−θt). Infinite when the load reaches the servers."""
    if load <= 0.0:
        return 0.0
    if servers <= load:
        return math.inf
    b = erlang_b(servers, load)
    c = servers * b / (servers - load * (1.0 - b))
    theta = (servers - load) / mean_service
    return c * math.exp(-theta * after) / theta
