"""Fixtures several test modules share, and what makes the suite safe to run in parallel.

`make test` runs the suite on pytest-xdist workers (`-n`). Two things are shared between
them, each under a file lock in the session's temporary root (the parent of every worker's
`tmp_path_factory` base):

- the compiled kernel: one process compiles it (if numba's cache is cold or stale) while
  the others wait, then load it from the cache; concurrent first-time compiles with
  `cache=True` race on the cache files and each would take a minute (`pytest_sessionstart`);
- expensive read-only artefacts such as the teaching run (`shared_artefact`): built once per
  session by whichever worker asks first, then read by all.

Without xdist the same code runs in one process (the locks are then uncontended).
"""

from __future__ import annotations

import fcntl
import gc
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent


def xdist_worker() -> str | None:
    """This process's xdist worker id ('gw0', ...), or None outside xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER")


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock held across processes (freed by the kernel if the holder dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def session_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary directory every process of this test session shares."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if xdist_worker() else base


def shared_artefact(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """`build(directory)` once per session, whichever process asks first; the others wait
    for it and get the same directory. What is built must only be read afterwards."""
    root = session_root(tmp_path_factory)
    where = root / "shared" / name
    done = where.with_name(f"{name}.done")
    with file_lock(root / "shared" / f"{name}.lock"):
        if not done.exists():
            if where.exists():  # a build that failed in another process: start over
                import shutil

                shutil.rmtree(where)
            where.mkdir(parents=True)
            build(where)
            done.touch()
    return where


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under xdist: load (or compile, one worker at a time) the kernel before any test."""
    if not xdist_worker():
        return
    from sim.run.runner import compile_kernel

    root = Path(session.config._tmp_path_factory.getbasetemp()).parent  # noqa: SLF001
    ready = root / "numba-kernel.ready"
    with file_lock(root / "numba-compile.lock"):
        if not ready.exists():  # the first process compiles, or loads and checks the cache
            compile_kernel()
            ready.touch()
            return
    compile_kernel()  # the others load it from the cache at the same time


def pytest_collection_finish(session: pytest.Session) -> None:
    """Exempt what collection imported (numba, polars, Mesa, SimPy, scipy, the model) from
    the garbage collector, as the CLI does (sim.run.runner.freeze_long_lived): every
    replication ends with a full collection, which would otherwise walk all of it."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="module", autouse=True)
def _forget_mesa_models() -> Iterator[None]:
    """After each module, drop the models Mesa 3.3 keeps alive for the life of the process
    (`Agent._ids`, mesa issue #3179; sim.org.model.HealthSystem.release): a test that
    simulates without releasing would otherwise make every later collection, in every
    later module, walk its patients and engine."""
    yield
    mesa = sys.modules.get("mesa")
    if mesa is not None:
        getattr(mesa.Agent, "_ids", {}).clear()


@pytest.fixture(scope="session")
def teaching_run_dir(tmp_path_factory) -> Path:
    """A small teaching run (today vs reform, 2 replications, three quarters) with its
    report; tests only read it (rebuilding its report must not change it)."""

    def build(where: Path) -> None:
        result = CliRunner().invoke(
            app,
            [
                "run",
                str(ROOT / "configs" / "teaching.yaml"),
                str(ROOT / "configs" / "teaching-reform.yaml"),
                "--out",
                str(where / "run"),
                "--replications",
                "2",
                "--quiet",
                "--set",
                "simulation.end=2026-10-01",
            ],
        )
        assert result.exit_code == 0, result.output

    return shared_artefact(tmp_path_factory, "teaching-run", build) / "run"


def bump_first_row(path: Path, column: str) -> None:
    """Tamper with an output the way replay must catch: +1 in the first row of a column."""
    import polars as pl

    frame = pl.read_parquet(path)
    frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.col(column) + 1)
        .otherwise(pl.col(column))
        .alias(column)
    ).write_parquet(path)
