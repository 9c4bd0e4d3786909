"""Named random streams derived from one master seed.

A stream's seed depends only on (master seed, parameter draw, replication, stream name),
never on the scenario or on call order, so every scenario of an experiment sees the same
random numbers for the same replication (common random numbers), whatever process or
machine runs it.
"""

from __future__ import annotations

import zlib

import numpy as np

#: The streams of one replication: the population, the patients' clocks (episodes,
#: deaths), routing decisions, lengths of stay, entries of new patients, the
#: organisation agents (Mesa's model RNG), and the general practices (each practice's
#: random effect and which practice of their municipality a patient belongs to; a stream
#: of its own, so that practices shift no other draw).
STREAMS: tuple[str, ...] = (
    "population",
    "clock",
    "route",
    "stay",
    "entry",
    "organisations",
    "practices",
)


def stream_key(name: str) -> int:
    """A stable integer for a stream name (crc32: the same in every Python process)."""
    return zlib.crc32(name.encode("utf-8"))


def seed_sequence(
    master_seed: int, replication: int, name: str, draw: int = 0
) -> np.random.SeedSequence:
    return np.random.SeedSequence([master_seed, draw, replication, stream_key(name)])


def streams(master_seed: int, replication: int, draw: int = 0) -> dict[str, np.random.Generator]:
    """One PCG64 generator per named stream of a replication."""
    keys = {stream_key(n) for n in STREAMS}
    assert len(keys) == len(STREAMS), "two stream names collide"
    return {
        name: np.random.Generator(
            np.random.PCG64(seed_sequence(master_seed, replication, name, draw))
        )
        for name in STREAMS
    }
