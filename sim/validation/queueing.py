"""Queueing-theory results the simulator is verified against (Erlang loss and delay)."""

from __future__ import annotations


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/G/c/c with offered load `load` (Erlang B), by recursion."""
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C); needs load < servers."""
    if load >= servers:
        raise ValueError("Erlang C needs load < servers")
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1.0 - b))


def mmc_mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue of M/M/c: C(c, a) / (c·mu − lambda)."""
    load = arrival_rate / service_rate
    return erlang_c(servers, load) / (servers * service_rate - arrival_rate)
