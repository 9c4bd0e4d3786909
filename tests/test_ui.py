"""`sektorsim ui` in a real browser: a lever off, the teaching comparison, the same numbers
as the CLI, a downloadable run directory that replays, and a bad upload that shows the
CLI's error while the page keeps running. Headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SEKTORSIM = Path(sys.executable).parent / "sektorsim"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPLICATIONS = 2
LEVER_OFF = "free_choice"
BAD_YAML = "extends: denmark/base.yaml\nname: broken\nsimulation:\n  replicatons: 3\n"
LONG = 240_000  # ms: the first run compiles the numba kernel (cached afterwards)

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install '.[ui]')"
)
pytest.importorskip("solara", reason="the ui extra is not installed (pip install '.[ui]')")
if not CHROMIUM.is_file():
    pytest.skip("/usr/bin/chromium is absent (apt-get install chromium)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    for _ in range(600):  # bounded: at most about a minute
        if proc.poll() is not None:
            pytest.fail(f"sektorsim ui exited early:\n{log.read_text()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"sektorsim ui did not listen on {port}:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("ui")
    port = free_port()
    log = base / "server.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [str(SEKTORSIM), "ui", "--port", str(port), "--results", str(base / "results")],
            cwd=ROOT,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, proc, log)
        yield {
            "url": f"http://127.0.0.1:{port}",
            "proc": proc,
            "results": base / "results",
            "log": log,
            "base": base,
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 2400}, accept_downloads=True)
    pg = context.new_page()
    pg.requests = []
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.goto(server["url"])
    pg.wait_for_selector("text=Reform levers", timeout=LONG)
    yield pg
    context.close()


def assert_local_only(page, server) -> None:
    """Every request the page made went to this machine, and the server proxied no CDN file."""
    outside = [
        u for u in page.requests if not re.match(r"^(https?|wss?)://127\.0\.0\.1:|^(data|blob):", u)
    ]
    assert outside == []
    assert "Could not load URL" not in server["log"].read_text()


def cli_run(out: Path, tmp: Path) -> pl.DataFrame:
    result = subprocess.run(
        [
            str(SEKTORSIM),
            "run",
            str(ROOT / "configs" / "teaching.yaml"),
            str(ROOT / "configs" / "teaching-reform.yaml"),
            "--replications",
            str(REPLICATIONS),
            "--set",
            f"regime.levers.{LEVER_OFF}=false",
            "--workers",
            "1",
            "--out",
            str(out),
            "--quiet",
            "--no-report",
        ],
        cwd=tmp,
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return pl.read_parquet(out / "kpis.parquet")


def test_teaching_comparison_matches_the_cli(page, server, tmp_path):
    from sim.run.replay import replay
    from sim.ui.core import answer_sentences

    page.click(f"label:has-text('{LEVER_OFF.replace('_', ' ')}')")  # Vuetify: click the label
    slider = page.get_by_role("slider", name="Replications")
    slider.focus()
    for _ in range(3):  # from the default 3 down to 1, then up to REPLICATIONS
        slider.press("ArrowLeft")
    for _ in range(REPLICATIONS - 1):
        slider.press("ArrowRight")
    page.click(".sektorsim-run")
    page.wait_for_selector(".sektorsim-stage", timeout=LONG)
    page.click(".sektorsim-run", force=True)  # a second click while running starts nothing
    page.wait_for_selector(".sektorsim-answer", timeout=LONG)
    page.screenshot(path=str(tmp_path / "ui.png"), full_page=True)
    if os.environ.get("SEKTORSIM_UI_SCREENSHOT"):
        shutil.copy(tmp_path / "ui.png", os.environ["SEKTORSIM_UI_SCREENSHOT"])

    runs = [p for p in server["results"].glob("run-*") if p.is_dir()]
    assert len(runs) == 1  # the second click did not start a second run
    run_dir = runs[0]
    answer = page.inner_text(".sektorsim-answer")
    assert re.search(r"The reform (avoids|adds) [\d,]+ readmissions within 30 days a year", answer)
    assert f"{REPLICATIONS} replications" in answer
    rows = page.locator(".sektorsim-table tbody tr")
    assert rows.count() >= 10
    assert "30-day readmissions" in page.inner_text(".sektorsim-table")
    assert page.locator(".sektorsim-figure").count() >= 1
    assert (run_dir / "report.html").is_file() and (run_dir / "manifest.json").is_file()

    cli = cli_run(tmp_path / "cli", tmp_path)
    ui = pl.read_parquet(run_dir / "kpis.parquet")
    assert ui.equals(cli)  # same seed and settings: the same numbers as `sektorsim run`
    import json

    manifest = json.loads((run_dir / "manifest.json").read_text())
    for line in answer_sentences(cli, manifest)[1:]:
        assert line in answer

    with page.expect_download() as info:
        page.click("text=Download the run directory (zip)")
    archive = tmp_path / "run.zip"
    info.value.save_as(archive)
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp_path / "unzipped")
    unzipped = tmp_path / "unzipped" / run_dir.name
    assert {"manifest.json", "kpis.parquet", "agents.parquet", "report.html"} <= {
        p.name for p in unzipped.iterdir()
    }
    same, diffs = replay(unzipped, 1, None)
    assert same, diffs
    assert_local_only(page, server)


def test_bad_upload_shows_the_cli_error_and_the_app_keeps_running(page, server, tmp_path):
    page.click(".v-select")
    page.click("text=My own YAML file")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "broken.yaml", "mimeType": "text/yaml", "buffer": BAD_YAML.encode()}],
    )
    page.wait_for_selector(".sektorsim-error", timeout=LONG)
    shown = page.inner_text(".sektorsim-error")
    stored = next(server["results"].glob("inputs/upload-*/broken.yaml"))
    cli = subprocess.run(
        [str(SEKTORSIM), "validate", str(stored)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert cli.returncode == 2
    assert " ".join(shown.split()) == " ".join(cli.stderr.split())
    assert "replicatons" in shown and "did you mean 'replications'" in shown
    assert server["proc"].poll() is None
    page.click(".v-select")
    page.click("text=Teaching geography")
    page.wait_for_selector(".sektorsim-run", timeout=LONG)
    assert_local_only(page, server)


def test_progress_sink_reads_the_cli_progress_bar():
    """The page's progress comes from the same rich bar `sektorsim run` draws."""
    from rich.console import Console

    from sim.progress import progress
    from sim.ui.core import ProgressSink

    sink = ProgressSink()
    console = Console(file=sink, force_terminal=True, width=200, color_system=None)
    with progress(console, quiet=False) as bar:
        job = bar.add_task("teaching vs teaching-reform (numba)", total=6)
        for _ in range(4):
            bar.advance(job)
    assert (sink.done, sink.total) == (4, 6)
