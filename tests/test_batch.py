"""Batch experiments: same bytes on every backend, crash-safe resume, clear errors."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

EXPERIMENT = f"""
name: tiny
scenarios:
  - config: {ROOT}/configs/teaching.yaml
    set: [simulation.end=2026-04-01, simulation.warmup_days=30]
  - config: {ROOT}/configs/teaching-reform.yaml
    set: [simulation.end=2026-04-01, simulation.warmup_days=30, regime.reform_date=2026-01-01]
replications: {{reps}}
seed: 5
psa:
  draws: 2
  parameters:
    settings.responsibility.resolve:
      distribution: beta
      parameters: {{{{a: 2.5, b: 7.5}}}}
      assumption: test
"""


def _experiment(tmp_path: Path, reps: int = 2) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(EXPERIMENT.format(reps=reps), encoding="utf-8")
    return path


def _batch(exp: Path, out: Path, *extra: str) -> None:
    result = runner.invoke(
        app, ["batch", str(exp), "--out", str(out), "--quiet", "--no-report", *extra]
    )
    assert result.exit_code == 0, result.output


def test_same_bytes_with_one_or_two_workers_and_dask(tmp_path):
    exp = _experiment(tmp_path)
    _batch(exp, tmp_path / "w1", "--workers", "1")
    _batch(exp, tmp_path / "w2", "--workers", "2")
    _batch(exp, tmp_path / "dask", "--backend", "dask", "--workers", "2")
    for table in ("kpis", "practices", "equity"):
        ref = (tmp_path / "w1" / f"{table}.parquet").read_bytes()
        assert (tmp_path / "w2" / f"{table}.parquet").read_bytes() == ref, table
        assert (tmp_path / "dask" / f"{table}.parquet").read_bytes() == ref, table
    kpis = pl.read_parquet(tmp_path / "w1" / "kpis.parquet")
    assert kpis.select("scenario", "draw", "replication").unique().height == 2 * 2 * 2
    analysis = pl.read_parquet(tmp_path / "w1" / "analysis.parquet")
    assert {"mean", "ci_low", "diff", "replications_needed"} <= set(analysis.columns)


def test_killed_batch_resumes_with_every_task_exactly_once(tmp_path):
    exp = _experiment(tmp_path, reps=6)  # 2 scenarios × 2 draws × 6 replications = 24 tasks
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            "batch",
            str(exp),
            "--out",
            str(out),
            "--workers",
            "1",
            "--quiet",
            "--no-report",
        ],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 240
    while time.time() < deadline and len(list((out / "parts").glob("kpis-*.parquet"))) < 3:
        assert proc.poll() is None, "the batch ended before it could be killed"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # a real kill of the batch and its workers
    proc.wait()
    done_before = len(list((out / "parts").glob("kpis-*.parquet")))
    assert 3 <= done_before < 24, "the kill must land part-way"
    assert not (out / "kpis.parquet").exists()
    _batch(exp, out, "--resume", "--workers", "2")
    kpis = pl.read_parquet(out / "kpis.parquet")
    tasks = kpis.select("scenario", "draw", "replication").unique()
    assert tasks.height == 24
    keys = ["scenario", "draw", "replication", "period", "area_level", "area", "group"]
    assert kpis.select(keys).is_duplicated().sum() == 0
    _batch(exp, tmp_path / "clean", "--workers", "2")
    for table in ("kpis", "practices", "equity"):
        clean = (tmp_path / "clean" / f"{table}.parquet").read_bytes()
        assert clean == (out / f"{table}.parquet").read_bytes(), table


def test_a_batch_writes_practices_and_equity_like_a_run(tmp_path):
    """The batch's practice rows are the run's for the same tasks; equity covers the three
    levels with differences from the baseline, and without practices only two levels."""
    body = EXPERIMENT.split("psa:")[0].format(reps=2) + "baseline: teaching-reform\n"
    exp = tmp_path / "plain.yaml"
    exp.write_text(body, encoding="utf-8")
    _batch(exp, tmp_path / "b", "--workers", "1")
    result = runner.invoke(
        app,
        [
            "run",
            str(ROOT / "configs" / "teaching.yaml"),
            str(ROOT / "configs" / "teaching-reform.yaml"),
            "--replications",
            "2",
            "--seed",
            "5",
            *("--set", "simulation.end=2026-04-01", "--set", "simulation.warmup_days=30"),
            *("--set", "regime.reform_date=2026-01-01"),
            "--out",
            str(tmp_path / "r"),
            "--quiet",
            "--no-report",
        ],
    )
    assert result.exit_code == 0, result.output
    batch = pl.read_parquet(tmp_path / "b" / "practices.parquet")
    run = pl.read_parquet(tmp_path / "r" / "practices.parquet")
    assert batch.height > 0 and batch.sort(batch.columns).equals(run.sort(run.columns))
    equity = pl.read_parquet(tmp_path / "b" / "equity.parquet")
    assert set(equity["area_level"].drop_nulls()) == {"municipality", "council", "practice"}
    compared = equity.filter(pl.col("baseline").is_not_null())
    assert compared.height > 0 and set(compared["baseline"]) == {"teaching-reform"}

    exp.write_text(body + "outputs: [kpis, equity]\n", encoding="utf-8")
    _batch(exp, tmp_path / "lean", "--workers", "1")
    assert not (tmp_path / "lean" / "practices.parquet").exists()
    lean = pl.read_parquet(tmp_path / "lean" / "equity.parquet")
    assert set(lean["area_level"].drop_nulls()) == {"municipality", "council"}


def test_a_started_batch_without_resume_is_refused(tmp_path):
    """An empty directory is a fine new output; one holding a started batch (its plan file)
    is continued only with --resume, never started over."""
    from sim.run.batch import PLAN_FILE

    exp = _experiment(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / PLAN_FILE).write_text("{}")
    result = runner.invoke(app, ["batch", str(exp), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "--resume" in result.output


@pytest.mark.parametrize(
    "body,fragment",
    [
        ("name: x\nscenarios: []\nreplications: 1\nseed: 1\n", "scenarios"),
        ("name: x\nscenarios:\n  - config: nowhere.yaml\nreplications: 1\nseed: 1\n", "not found"),
        (
            "name: x\nscenarios:\n  - config: a.yaml\nreplications: 1\nseed: 1\npsa:\n  draws: "
            "2\n  parameters:\n    costs.gp_contact_dkk: {distribution: weibull, parameters: "
            "{}, assumption: t}\n",
            "distribution",
        ),
        (
            "name: x\nscenarios:\n  - config: a.yaml\nreplicatons: 1\nseed: 1\n",
            "did you mean 'replications'",
        ),
    ],
)
def test_malformed_experiment_is_a_clear_error(tmp_path, body, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["batch", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert fragment in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_unreachable_scheduler_is_a_clear_error(tmp_path, monkeypatch):
    from sim.run import batch

    monkeypatch.setattr(batch, "SCHEDULER_TIMEOUT", "1s")  # nothing listens: no need to wait 10
    exp = _experiment(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "batch",
            str(exp),
            "--out",
            str(out),
            "--backend",
            "dask",
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "cannot reach Dask scheduler" in result.output
    assert not out.exists()


def test_a_batch_replays_in_full_and_by_sample(tmp_path):
    exp = _experiment(tmp_path)
    out = tmp_path / "b"
    _batch(exp, out, "--workers", "2")
    full = runner.invoke(app, ["replay", str(out), "--workers", "2"])
    assert full.exit_code == 0 and "identical" in full.output, full.output
    sampled = runner.invoke(app, ["replay", str(out), "--sample", "3", "--workers", "1"])
    assert sampled.exit_code == 0 and "identical" in sampled.output, sampled.output


def _malloc_trim() -> str | None:
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def test_dask_workers_keep_the_default_malloc_trimming():
    """Dask's nannies give workers MALLOC_TRIM_THRESHOLD_=65536, which made national tasks
    ~25 % slower than in local processes; our LocalCluster leaves it out (and keeps the
    rest of Dask's worker environment)."""
    import dask

    from sim.run.batch import MALLOC_TRIM, executor

    assert dask.config.get(MALLOC_TRIM) is not None  # Dask's default sets it
    with executor("dask", 1, None) as pool:
        assert pool.submit(_malloc_trim).result() is None
        threads = pool.submit(os.environ.get, "OMP_NUM_THREADS").result()
    assert threads == "1"


def _tracked_after_task(args: tuple) -> int:
    import gc

    from sim.run.runner import _run_task

    _run_task(args)
    return len(gc.get_objects())  # what a collection walks (frozen objects excluded)


def test_a_dask_workers_collections_walk_only_what_one_task_left():
    """A Dask worker keeps bookkeeping for the tasks it was sent and ran; each replication
    ends with a full collection, which walked all of it (a teaching task went from 40 to
    100 ms over 600 tasks). After each task the worker freezes what is alive."""
    from sim.run.batch import executor
    from sim.run.runner import Task, completed, load_scenario

    spec = load_scenario(
        ROOT / "configs" / "teaching.yaml",
        ["simulation.end=2026-02-01", "simulation.warmup_days=10"],
    )
    tasks = [(spec, Task(0, r), 1, "numba") for r in range(30)]
    with executor("dask", 1, None) as pool:
        tracked = dict(completed(_tracked_after_task, tasks, 1, pool))
    assert max(tracked.values()) < 1_000, sorted(tracked.values())


def test_completed_lets_go_of_each_future_once_read():
    """A finished future holds its result (on Dask, on the worker too, until the future is
    gone); a batch of thousands of tasks must not keep them all until the end."""
    import gc
    import weakref
    from concurrent.futures import Future

    from sim.run.runner import InProcess, completed

    made: list[weakref.ref] = []

    class Tracking(InProcess):
        def submit(self, fn, /, *args, **kwargs) -> Future:
            future = super().submit(fn, *args, **kwargs)
            made.append(weakref.ref(future))
            return future

    previous = None
    for i, _ in completed(abs, list(range(-5, 0)), 2, Tracking()):  # item i: future i
        if previous is not None:
            gc.collect()
            assert made[previous]() is None, f"future {previous} still held after it was read"
        previous = i
