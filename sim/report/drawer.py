"""A second process that draws part of a report's figures.

Drawing is most of a small run's time: every figure is rendered three times (300 dpi PNG,
SVG, PDF) on one core while the other idles. A command that will write a report starts
this process first; it imports matplotlib and seaborn while the run simulates. Then both
processes take figures from one shared list, this one from the front and the drawing
process from the back, until they meet. A figure is drawn by the same function from the
same tables wherever it runs, so its bytes do not depend on where (tests/test_report.py
compares a report drawn with and without the second process).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing.sharedctypes import SynchronizedArray
from typing import TypeVar

from sim.run.runner import die_with_parent, kill_pool

T = TypeVar("T")

#: In the drawing process: the shared [first unclaimed job, last unclaimed job].
_bounds: SynchronizedArray | None = None


#: What the drawing process imports as it starts (named, not imported here: the figures
#: module refers to this one).
PRELOAD = "sim.report.figures"


def _start_drawer(parent: int, bounds: SynchronizedArray) -> None:
    """Die with the parent; import the plotting stack before the first figure is asked."""
    global _bounds
    die_with_parent(parent)
    _bounds = bounds
    importlib.import_module(PRELOAD)


def claim(bounds: SynchronizedArray, from_back: bool) -> int | None:
    """Take the next unclaimed job from the front or the back; None when none is left."""
    with bounds.get_lock():
        first, last = bounds[0], bounds[1]
        if first > last:
            return None
        if from_back:
            bounds[1] = last - 1
            return last
        bounds[0] = first + 1
        return first


def _drain(make_jobs: Callable[[], list[Callable[[], T]]]) -> list[tuple[int, T]]:
    """In the drawing process: run jobs from the back until the two processes meet."""
    assert _bounds is not None
    jobs = make_jobs()
    done = []
    while (i := claim(_bounds, from_back=True)) is not None:
        done.append((i, jobs[i]()))
    return done


class Drawer:
    """One spawned process (spawn: a forked child of a process running polars' thread pool
    can deadlock), started at once so that its imports overlap the caller's work."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._bounds = context.Array("q", 2)
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=context,
            initializer=_start_drawer,
            initargs=(os.getpid(), self._bounds),
        )
        self._started = self._pool.submit(int)  # start the process now, not at the first figure
        #: How many jobs of the last `share` the drawing process ran.
        self.drawn_there = 0

    def wait_started(self) -> None:
        """Block until the drawing process has imported the plotting stack."""
        self._started.result()

    def share(
        self,
        jobs: list[Callable[[], T]],
        make_jobs: Callable[[], list[Callable[[], T]]],
        advance: Callable[[], None],
    ) -> list[T]:
        """Every job's result, in order. This process runs `jobs` from the front; the
        drawing process builds the same list with `make_jobs` and runs it from the back.
        If the drawing process has died, the jobs it took run here."""
        results: list = [None] * len(jobs)

        def here(i: int) -> None:
            results[i] = jobs[i]()
            advance()

        with self._bounds.get_lock():
            self._bounds[0], self._bounds[1] = 0, len(jobs) - 1
        try:
            future = self._pool.submit(_drain, make_jobs)
        except BrokenProcessPool:  # it died before: every job runs here
            future = None
        while (i := claim(self._bounds, from_back=False)) is not None:
            here(i)
        try:
            theirs = future.result() if future else []
        except BrokenProcessPool:
            for i in range(self._bounds[0], len(jobs)):
                here(i)
            theirs = []
        for i, result in theirs:
            results[i] = result
            advance()
        self.drawn_there = len(theirs)
        return results

    def close(self) -> None:
        kill_pool(self._pool)


@contextmanager
def figure_drawer(wanted: bool) -> Iterator[Drawer | None]:
    """A Drawer while the block runs if WANTED and this machine has a second core."""
    if not wanted or (os.cpu_count() or 1) < 2:
        yield None
        return
    drawer = Drawer()
    try:
        yield drawer
    finally:
        drawer.close()
