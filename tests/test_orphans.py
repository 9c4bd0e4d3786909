"""Real processes: workers die with a killed parent, and two runs never share an output.

These need real processes (kill -9, two commands at once), so they start `sektorsim`
as a subprocess; everything else about bad input runs in-process (test_bad_input.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "configs" / "teaching.yaml"
SEKTORSIM = [sys.executable, "-m", "sim"]

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="reads /proc; parent-death signal is Linux's"
)


def descendants(pid: int) -> set[int]:
    """Every live process whose chain of parents reaches pid (from /proc)."""
    parent_of = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parent_of[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, p in parent_of.items() if p in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    out = set()
    for p in pids:
        try:
            if Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                out.add(p)
        except OSError:
            pass
    return out


def wait_for(condition, limit: float = 120.0, step: float = 0.2):
    """Poll until condition() is truthy (a liveness bound, not a timing assertion)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


@pytest.mark.parametrize(
    "report, expected",
    [(["--no-report"], 3), ([], 4)],
    ids=["workers", "workers-and-figure-drawer"],
)
def test_kill_9_leaves_no_workers(tmp_path, report, expected):
    """Worker processes, and the report's drawing process when there is a report."""
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            *SEKTORSIM,
            "run",
            str(TEACHING),
            "--replications",
            "400",  # enough work for worker processes (sim.run.runner.worth_processes)
            "--workers",
            "2",
            "--quiet",
            *report,
            "--out",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        children = wait_for(
            lambda: descendants(proc.pid) if len(descendants(proc.pid)) >= expected else set()
        )
        assert len(children) >= expected, "expected the workers, the resource tracker (and drawer)"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        left = wait_for(lambda: not alive(children))
        assert left, f"orphans still alive: {alive(children)}"
        assert not out.exists()
    finally:
        for p in alive(descendants(proc.pid)):
            os.kill(p, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()


def test_kill_9_of_a_dask_batch_leaves_no_cluster_processes(tmp_path):
    """The LocalCluster's worker processes are Dask's (no initializer of ours): they must
    notice a killed parent too."""
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(
        f"name: orphans\nscenarios:\n  - config: {TEACHING}\nreplications: 2000\nseed: 1\n"
    )
    proc = subprocess.Popen(
        [*SEKTORSIM, "batch", str(experiment), "--backend", "dask", "--workers", "2",
         "--quiet", "--no-report", "--out", str(tmp_path / "batch")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        children = wait_for(
            lambda: descendants(proc.pid) if len(descendants(proc.pid)) >= 3 else set()
        )
        assert len(children) >= 3, "expected two Dask workers and the resource tracker"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert wait_for(lambda: not alive(children)), f"orphans still alive: {alive(children)}"
    finally:
        for p in alive(descendants(proc.pid)):
            os.kill(p, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()


def test_sigterm_stops_the_workers_too(tmp_path):
    proc = subprocess.Popen(
        [
            *SEKTORSIM,
            "run",
            str(TEACHING),
            "--replications",
            "400",  # enough work for worker processes (sim.run.runner.worth_processes)
            "--workers",
            "2",
            "--quiet",
            "--no-report",
            "--out",
            str(tmp_path / "run"),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        children = wait_for(
            lambda: descendants(proc.pid) if len(descendants(proc.pid)) >= 3 else set()
        )
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode != 0
        assert b"Traceback" not in err
        assert wait_for(lambda: not alive(children))
        assert not (tmp_path / "run").exists()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_two_runs_into_one_directory_never_interleave(tmp_path):
    out = tmp_path / "run"
    args = [
        *SEKTORSIM,
        "run",
        str(TEACHING),
        "--replications",
        "2",
        "--workers",
        "1",
        "--quiet",
        "--no-report",
        "--set",
        "simulation.end=2026-04-01",
        "--out",
        str(out),
    ]
    first = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    second = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    results = [p.communicate(timeout=300) for p in (first, second)]
    codes = sorted([first.returncode, second.returncode])
    errors = b"".join(e for _, e in results)
    assert b"Traceback" not in errors
    # one wins; the other is refused (in use, or the run exists and --force was not given)
    assert codes == [0, 2], (codes, errors)
    assert b"in use" in errors or b"--force" in errors
    assert sorted(p.name for p in out.iterdir()) == [
        "agents.parquet",
        "equity.parquet",
        "kpis.parquet",
        "manifest.json",
        "practices.parquet",
        "stress-des.md",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_stopping_the_pool_with_work_queued_exits_cleanly(tmp_path):
    """Ctrl-C, SIGTERM or an error with many tasks still queued: the workers are killed, the
    pool's threads have ended, and the process exits, with no traceback from the pool's
    manager thread (cancelling the
    queued futures first made Python 3.11's manager fail, and the exit then hung writing
    tasks to the dead workers' pipe)."""
    script = tmp_path / "stop.py"
    script.write_text(
        "import time\n"
        "from sim.run.runner import completed\n"
        "def slow(n):\n"
        "    time.sleep(0.2)\n"
        "    return len(n)\n"
        "if __name__ == '__main__':\n"
        "    items = [b'x' * 200_000] * 400  # enough queued bytes to fill the task pipe\n"
        "    results = completed(slow, items, workers=2, start_seconds=0.0,\n"
        "                       estimated_seconds=1e9)\n"
        "    next(results)\n"
        "    results.close()  # the caller stops early, as on an error or Ctrl-C\n"
        "    import threading\n"
        "    others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]\n"
        "    print('stopped', others, flush=True)\n"
    )
    proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, timeout=120)
    # the pool's threads have finished before the exit hook runs (it races with a manager
    # thread still closing its wake-up pipe: 'OSError: Bad file descriptor' at exit)
    assert b"stopped []" in proc.stdout, proc.stdout
    assert b"Traceback" not in proc.stderr, proc.stderr.decode()[-2000:]
    assert proc.returncode == 0


def test_sigterm_ends_the_process_even_if_its_unwinding_is_stuck(tmp_path):
    """If the interrupt left a lock held and the cleanup waits on it, the process still ends
    (exit code 128 + SIGTERM) once TERMINATE_SECONDS have passed."""
    script = tmp_path / "stuck.py"
    script.write_text(
        "import signal, threading, time\n"
        "from sim.cli import commands\n"
        "commands.TERMINATE_SECONDS = 1.0\n"
        "signal.signal(signal.SIGTERM, commands._terminate)\n"
        "lock = threading.Lock()\n"
        "try:\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(60)\n"
        "except KeyboardInterrupt:\n"
        "    lock.acquire()\n"
        "    lock.acquire()  # a cleanup that waits forever\n"
    )
    proc = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, stdout=subprocess.PIPE)
    assert proc.stdout.readline() == b"ready\n"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
