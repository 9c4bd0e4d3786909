"""Time to first result (issue 13), checked without timing anything: what a warm process
compiles (nothing), what a command imports before it needs it, where tasks run, and what
the progress bars promise. benchmarks/time_to_result.py measures the times."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.progress import Progress

from sim.flow import numba_cache_dir, user_cache_dir
from sim.progress import MIN_DONE_FOR_ESTIMATE, Pace, time_left
from sim.run import runner
from sim.run.runner import Task, completed, load_scenario, run_tasks, worth_processes

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "configs" / "teaching.yaml"
SHORT = ["simulation.end=2026-04-01", "simulation.warmup_days=30"]


def _python(code: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


WARM_CHECK = """
import gc, json
from numba.core.dispatcher import Dispatcher
from numba.core.caching import NullCache
from sim.flow import kernel
from sim.run.runner import compile_kernel

compile_kernel()
report = {"entry_hits": {}, "compiled": [], "uncached": [], "proxy_ctors": []}
for name in ("_new_state", "_new_params", "_new_settings", "start", "run_period"):
    report["entry_hits"][name] = sum(getattr(kernel, name).stats.cache_hits.values())
for d in (o for o in gc.get_objects() if isinstance(o, Dispatcher)):
    if not d.overloads:
        continue
    if isinstance(d._cache, NullCache):
        report["uncached"].append(d.py_func.__qualname__)
    if sum(d.stats.cache_misses.values()):
        report["compiled"].append(d.py_func.__qualname__)
for proxy in (kernel.State, kernel.KParams, kernel.KSettings):
    if "_StructRefProxy__numba_ctor" in vars(proxy):
        report["proxy_ctors"].append(proxy.__name__)
print(json.dumps(report))
"""


def test_a_warm_process_loads_the_kernel_and_compiles_nothing():
    runner.compile_kernel()  # this process writes the cache if it is cold or stale
    report = json.loads(_python(WARM_CHECK).strip().splitlines()[-1])
    assert all(hits >= 1 for hits in report["entry_hits"].values()), report["entry_hits"]
    assert report["compiled"] == []  # every compiled function came from the cache
    assert report["uncached"] == []  # no jit code outside numba's cache
    assert report["proxy_ctors"] == []  # StructRefProxy.__new__ compiles afresh per process


def test_help_imports_no_numerical_library():
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom sim.cli import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "heavy = ('polars', 'numba', 'numpy', 'scipy', 'mesa', 'matplotlib', 'pydantic')\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    assert _python(code).strip() == "[]"


def test_a_run_without_report_imports_no_plotting_or_statistics_library(tmp_path):
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom sim.cli import app\n"
        f"args = ['run', {str(TEACHING)!r}, '--replications', '1', '--quiet', '--no-report',"
        f" '--out', {str(tmp_path / 'run')!r}]\n"
        + "".join(f"args += ['--set', {s!r}]\n" for s in SHORT)
        + "assert CliRunner().invoke(app, args).exit_code == 0\n"
        "heavy = ('scipy.stats', 'matplotlib', 'seaborn', 'dask', 'SALib',"
        " 'simpy', 'pandas.core')\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    assert _python(code).strip().splitlines()[-1] == "[]"


def test_mesa_leaves_pandas_unloaded_until_its_dataframes_are_used():
    """Mesa's import does not load pandas and leaves no stand-in behind; the
    DataCollector's `pd` loads the real pandas on first use."""
    code = (
        "import sys\nfrom sim.org.mesa_import import mesa\n"
        "before = 'pandas' in sys.modules\n"
        "frame = mesa.datacollection.pd.DataFrame({'a': [1, 2]})\n"
        "import pandas\n"
        "print(before, type(frame) is pandas.DataFrame, int(frame['a'].sum()))"
    )
    assert _python(code).strip().splitlines()[-1] == "False True 3"


def test_student_t_quantile_is_scipys():
    from scipy import stats

    from sim.outputs.summary import t_quantile

    for level in (0.9, 0.95, 0.99):
        for n in (*range(2, 200), 1000, 10_000):
            assert t_quantile(0.5 + level / 2, n - 1) == stats.t.ppf(0.5 + level / 2, n - 1)


def test_mesa_is_imported_with_its_own_logger_names_and_inspect_restored():
    code = (
        "import inspect\n"
        "stack, outer, module = inspect.stack, inspect.getouterframes, inspect.getmodule\n"
        "import sim.org.model\nimport mesa.mesa_logging as ml\n"
        "print(sorted(ml._module_loggers), inspect.stack is stack, "
        "inspect.getouterframes is outer, inspect.getmodule is module)"
    )
    plain = _python("import mesa, mesa.mesa_logging as ml; print(sorted(ml._module_loggers))")
    names, *restored = _python(code).strip().rsplit(" ", 3)
    assert names == plain.strip() and restored == ["True", "True", "True"]


def test_seaborn_keeps_scipys_kde_after_the_quick_import():
    code = (
        "import sys\nimport sim.report.figures\nimport seaborn._statistics as s\n"
        "import numpy as np\n"
        "kde = s.KDE(cumulative=True)\n"
        "density, _ = kde(np.random.default_rng(0).normal(size=50))\n"
        "print(s._no_scipy, 'scipy.stats' in sys.modules, "
        "[m for m, v in sys.modules.items() if v is None and m in ('scipy.stats', 'ipywidgets')])"
    )
    assert _python(code).strip() == "False True []"


# ------------------------------------------------------------------------- where tasks run
def _square(x: int) -> int:
    return x * x


def test_small_work_stays_in_this_process(monkeypatch):
    monkeypatch.setattr(runner, "_pool", None)
    got = dict(completed(_square, list(range(5)), workers=2, start_seconds=1e9))
    assert got == {i: i * i for i in range(5)}
    assert runner._pool is None  # no worker was started for work this small


def test_processes_only_when_they_finish_sooner():
    assert not worth_processes(1.0, 2, start_seconds=3.0)  # 3 + 0.5 > 1
    assert worth_processes(10.0, 2, start_seconds=3.0)  # 3 + 5 < 10
    assert not worth_processes(100.0, 1, start_seconds=0.0)  # one worker is this process


def _fail_on_two(x: int) -> int:
    if x == 2:
        raise ValueError("task 2 fails")
    return x


def test_the_estimate_keeps_teaching_runs_here_and_sends_national_runs_to_workers():
    teaching = runner.estimate_seconds(load_scenario(TEACHING))
    national = runner.estimate_seconds(load_scenario(ROOT / "configs" / "denmark" / "current.yaml"))
    assert national > 20 * teaching
    start = runner.WORKER_START_SECONDS
    assert not worth_processes(10 * teaching, 2, start)  # `sektorsim run configs/teaching.yaml`
    assert worth_processes(2 * national, 2, start)  # two national replications


def test_shared_workers_give_the_same_tables_are_kept_and_stop_on_an_error():
    spec = load_scenario(TEACHING, SHORT)
    tasks = [Task(0, r) for r in range(3)]
    here = run_tasks([spec], tasks, 7, workers=1)
    try:
        there = run_tasks([spec], tasks, 7, workers=2, start_seconds=0.0)  # always worth it
        pool = runner._pool
        assert pool is not None
        again = run_tasks([spec], tasks, 7, workers=2, start_seconds=0.0)
        assert runner._pool is pool  # started once, reused
        with pytest.raises(ValueError, match="task 2 fails"):
            dict(completed(_fail_on_two, [0, 1, 2, 3], workers=2))  # on the running workers
        assert runner._pool is None  # stopped, not left finishing what it was handed
    finally:
        runner.shutdown_pool()
    for a, b, c in zip(here, there, again):
        assert a[0].equals(b[0]) and a[1].equals(b[1]) and a[0].equals(c[0])


# ------------------------------------------------------------------------------- progress
def test_time_left_waits_for_a_few_tasks_and_is_gone_when_done():
    bar = Progress(disable=True)
    job = bar.add_task("x", total=10)
    task = bar.tasks[0]
    task.start_time = task.start_time - 10.0  # ten seconds in
    for _ in range(MIN_DONE_FOR_ESTIMATE - 1):
        bar.advance(job)
        assert time_left(task) is None
    bar.advance(job)
    left = time_left(task)
    assert left is not None and left > 0
    bar.update(job, completed=10)
    assert time_left(task) is None  # never "3:04 left" at 10/10


def test_pace_text_counts_and_stops_estimating_at_the_end():
    pace = Pace(4)
    texts = [pace.tick() for _ in range(4)]
    assert texts[0] == "1/4" and texts[-1] == "4/4"
    assert "left" in texts[MIN_DONE_FOR_ESTIMATE - 1]


# ----------------------------------------------------------------------- the numba cache
def test_read_only_package_caches_in_the_user_directory(monkeypatch, tmp_path):
    import sim.flow

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(sim.flow, "writable", lambda directory: False)
    assert numba_cache_dir(tmp_path / "pkg", {}) == str(tmp_path / "sektorsim" / "numba")
    assert user_cache_dir() == tmp_path / "sektorsim" / "numba"
    assert numba_cache_dir(tmp_path / "pkg", {"NUMBA_CACHE_DIR": "/x"}) is None  # the user's
    monkeypatch.setattr(sim.flow, "writable", lambda directory: True)
    assert numba_cache_dir(tmp_path / "pkg", {}) is None  # beside the sources


def test_stale_cache_check_follows_a_user_cache_directory(tmp_path):
    code = "from sim.flow import kernel, cache\nprint(cache.cache_directory(kernel.run_period))"
    where = Path(_python(code, NUMBA_CACHE_DIR=str(tmp_path)).strip())
    assert tmp_path in where.parents
    assert (where / "kernel.fingerprint").is_file()  # written where numba will look


@pytest.mark.parametrize("n", [1, 3])
def test_completed_yields_every_index_once(n):
    got = sorted(i for i, _ in completed(_square, list(range(n)), workers=1))
    assert got == list(range(n))


def test_a_task_on_a_worker_without_initializer_freezes_what_is_loaded(monkeypatch):
    """Dask workers run no initializer: the first task loads the kernel and freezes the
    long-lived objects, or every replication's collection walks all of them (~0.1 s); then
    each task freezes what is alive after it (Dask's bookkeeping grows with the tasks)."""
    calls = []
    monkeypatch.setattr(runner, "_frozen", False)
    monkeypatch.setattr(runner, "_freeze_after_each", False)
    monkeypatch.setattr(runner.gc, "freeze", lambda: calls.append("freeze"))
    spec = runner.load_scenario(TEACHING, list(SHORT))
    task = runner.Task(scenario_index=0, replication=0)
    first = runner._run_task((spec, task, 1, "numba"))
    second = runner._run_task((spec, task, 1, "numba"))
    assert calls == ["freeze"] * 3 and first.kpis.equals(second.kpis)
