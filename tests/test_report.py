"""Every run ends with figures and a self-contained report that a browser can open."""

import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
FIGURES = [
    "paired_differences",
    "readmission_by_group",
    "hospital_over_time",
    "care_near_home",
    "costs_by_payer",
    "councils_readmission",
    "practices_readmission",
    "equity_councils",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run_dir(teaching_run_dir):
    return teaching_run_dir


PSA_EXPERIMENT = """
name: psa-small
description: A small probabilistic sensitivity analysis for the report test.
scenarios:
  - config: {root}/configs/teaching.yaml
    set: [simulation.end=2026-10-01]
  - config: {root}/configs/teaching-reform.yaml
    set: [simulation.end=2026-10-01, regime.reform_date=2026-01-01]
replications: 1
seed: 3
outputs: [kpis]
psa:
  draws: 6
  parameters:
    episodes.post_discharge.excess_episodes:
      distribution: uniform
      parameters: {{loc: 0.2, scale: 0.25}}
      assumption: test range
    costs.hospital_bed_day_dkk:
      distribution: uniform
      parameters: {{loc: 5000.0, scale: 2000.0}}
      assumption: test range
"""


@pytest.fixture(scope="module")
def psa_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("psa")
    (base / "psa.yaml").write_text(PSA_EXPERIMENT.format(root=ROOT))
    result = CliRunner().invoke(
        app, ["batch", str(base / "psa.yaml"), "--out", str(base / "out"), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    return base / "out"


@pytest.fixture(scope="module")
def decompose_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("decompose") / "out"
    result = CliRunner().invoke(
        app,
        [
            "decompose",
            str(ROOT / "configs" / "teaching.yaml"),
            "--out",
            str(out),
            "--replications",
            "1",
            "--quiet",
            "--set",
            "simulation.end=2026-07-01",
            "--set",
            "regime.reform_date=2026-01-01",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def assert_valid_figure(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    pixels = mpimg.imread(path)[..., :3]
    assert pixels.shape[0] > 200 and pixels.shape[1] > 300
    assert pixels.std() > 0.05  # not a blank canvas
    assert (pixels < 0.5).mean() > 0.005  # some dark ink: text, axes, data


@pytest.mark.parametrize("name", FIGURES)
def test_each_figure_is_a_valid_non_blank_png(run_dir, name):
    assert_valid_figure(run_dir / "figures" / f"{name}.png")


@pytest.mark.parametrize("name", ["cost_effect", "tornado"])
def test_a_psa_batch_adds_its_figures(psa_dir, name):
    assert_valid_figure(psa_dir / "figures" / f"{name}.png")
    assert f"figures/{name}.png" in (psa_dir / "report.md").read_text(encoding="utf-8")


def test_decompose_reports_a_lever_waterfall(decompose_dir):
    import polars as pl

    assert_valid_figure(decompose_dir / "figures" / "lever_waterfall.png")
    assert "lever_waterfall" in (decompose_dir / "report.html").read_text(encoding="utf-8")
    drawn = pl.read_csv(decompose_dir / "figures" / "lever_waterfall.csv")
    table = pl.read_parquet(decompose_dir / "decomposition.parquet").filter(
        pl.col("kpi") == "readmissions_30d"
    )
    measured = table.filter(pl.col("lever") == "all-levers")["effect"][0]
    last = drawn.filter(pl.col("lever") == "all-levers")["effect"][0]
    assert last == pytest.approx(measured, rel=1e-5, abs=1e-6)  # measured, not a sum
    equity = pl.read_parquet(decompose_dir / "equity.parquet")
    assert set(equity["baseline"].drop_nulls()) == {"teaching"}  # each lever against the start
    assert pl.read_parquet(decompose_dir / "practices.parquet").height > 0
    singles = drawn.filter(~pl.col("lever").is_in(["interaction", "all-levers"]))["effect"].sum()
    interaction = drawn.filter(pl.col("lever") == "interaction")["effect"][0]
    assert singles + interaction == pytest.approx(measured, rel=1e-5, abs=1e-6)


def test_every_run_directory_gets_its_stress_des_appendix(run_dir, psa_dir, decompose_dir):
    for directory in (run_dir, psa_dir, decompose_dir):
        text = (directory / "stress-des.md").read_text(encoding="utf-8")
        assert "STRESS-DES" in text and "6.1" in text


def test_report_is_self_contained(run_dir):
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == len(FIGURES)
    assert "http://" not in page and "https://" not in page  # nothing fetched from outside
    for text in (
        "Comparison",
        "teaching-reform − teaching",
        "Parameters and their sources",
        "manifest.json",
    ):
        assert text in page
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    assert "(figures/readmission_by_group.png)" in md


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)"
)
def test_report_opens_in_headless_chromium(run_dir, tmp_path):
    shot = tmp_path / "page.png"
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,2000",
            f"--screenshot={shot}",
            (run_dir / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.std() > 0.05  # the page rendered something
    assert not np.all(pixels > 0.98)


def _files(directory: Path) -> dict[str, str]:
    import hashlib

    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and (p.parent.name == "figures" or p.name.startswith("report."))
    }


def test_rebuilding_a_report_gives_byte_identical_figures(run_dir, tmp_path):
    from sim.report.html import write_report

    before = _files(run_dir)
    assert {f"figures/{n}.{e}" for n in FIGURES for e in ("png", "svg", "pdf", "csv")} <= set(
        before
    )
    copy = tmp_path / "run"  # the shared run stays read-only for tests in other processes
    shutil.copytree(run_dir, copy)
    write_report(copy)
    assert _files(copy) == before


@pytest.mark.parametrize("dead", [False, True], ids=["alive", "died"])
def test_figures_drawn_with_a_second_process_are_the_same_bytes(run_dir, tmp_path, dead):
    """The report's second drawing process takes figures from the back of the list; what
    it draws is byte for byte what one process draws. If it has died, every figure is
    still drawn (here)."""
    from sim.report.drawer import Drawer
    from sim.report.html import write_report

    before = _files(run_dir)
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    drawer = Drawer()
    try:
        drawer.wait_started()
        if dead:
            for process in list(drawer._pool._processes.values()):
                process.kill()
                process.join()
        write_report(copy, quiet=True, drawer=drawer)
        assert (drawer.drawn_there == 0) if dead else (drawer.drawn_there >= 1)
    finally:
        drawer.close()
    assert _files(copy) == before


def test_two_processes_claim_every_job_once_from_opposite_ends():
    import multiprocessing

    from sim.report.drawer import claim

    bounds = multiprocessing.get_context("spawn").Array("q", [0, 6])
    front, back = [], []
    for turn in range(10):
        i = claim(bounds, from_back=turn % 3 == 0)
        if i is None:
            break
        (back if turn % 3 == 0 else front).append(i)
    assert sorted(front + back) == list(range(7))
    assert front == sorted(front) and back == sorted(back, reverse=True)
    assert max(front) < min(back)
    assert claim(bounds, from_back=False) is None and claim(bounds, from_back=True) is None


def test_figure_cis_are_the_table_cis(run_dir):
    """One statistics path: what the figures draw is what the table prints."""
    import polars as pl

    from sim.outputs.summary import HEADLINE, comparison, whole_window

    kpis = pl.read_parquet(run_dir / "kpis.parquet")
    scenarios = list(dict.fromkeys(kpis["scenario"].to_list()))
    table = comparison(whole_window(kpis), scenarios, [k for k, _, _ in HEADLINE])
    figures = run_dir / "figures"
    diffs = pl.read_csv(figures / "paired_differences.csv")
    expected = table.filter(pl.col("diff").is_not_null())
    assert diffs.height == expected.height > 0
    for row in diffs.iter_rows(named=True):
        want = expected.filter(
            (pl.col("kpi") == row["kpi"]) & (pl.col("scenario") == row["scenario"])
        ).row(0, named=True)
        for col in ("diff", "diff_low", "diff_high"):
            assert row[col] == pytest.approx(want[col], rel=1e-5, abs=1e-9)
    rates = pl.read_csv(figures / "readmission_by_group.csv").filter(pl.col("group") == "all")
    for row in rates.iter_rows(named=True):
        want = table.filter(
            (pl.col("kpi") == "readmission_rate_30d") & (pl.col("scenario") == row["scenario"])
        ).row(0, named=True)
        for col in ("mean", "ci_low", "ci_high"):
            assert row[col] == pytest.approx(want[col], rel=1e-5)
    costs = pl.read_csv(figures / "costs_by_payer.csv")
    assert "Citizens" not in costs.columns and "cost_citizen_dkk" in costs["kpi"].to_list()
    for row in costs.iter_rows(named=True):
        want = table.filter(
            (pl.col("kpi") == row["kpi"]) & (pl.col("scenario") == row["scenario"])
        ).row(0, named=True)
        assert row["ci_low"] == pytest.approx(want["ci_low"], rel=1e-5)


def test_report_opens_with_the_answer_in_the_right_units(run_dir):
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    order = [md.index(h) for h in ("## The answer", "## Levers in force", "## Comparison")]
    assert order == sorted(order)
    answer = md[order[0] : order[1]]
    assert "percentage points (95% CI" in answer
    assert (
        "Compared with teaching, teaching-reform changes" in answer
        or "Compared with teaching, no headline measure of teaching-reform differs" in answer
    )
    levers = md[order[1] : order[2]]
    assert "from 2026-07-01" in levers and "| off |" in levers
    assert "pp [" in md  # the table's rate difference is in percentage points
    assert "e+0" not in md  # no 1.6e+06
    assert "DKK 1.43 m" in md  # budgets in DKK m (organisations.budget, 1,425,000)
    import re

    assert not re.search(r"-0(\.0+)?[\],]", md)  # no negative zero
    assert "](stress-des.md)" in md
    assert "**Figure 1. Paired differences" in md
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert 'alt="paired_differences"' not in page and 'alt="Forest plot' in page
    assert '<a href="stress-des.md">' in page


def test_validation_report_is_linked_from_a_run_inside_the_repository(tmp_path):
    from sim.report.html import _validation_link

    inside = ROOT / "results" / "published" / "teaching"
    assert _validation_link(inside) == "../../validation/report.html"
    assert _validation_link(tmp_path) is None


def test_formats_of_estimates():
    from sim.outputs.summary import difference_text, level_text

    assert difference_text("readmission_rate_30d", -0.0115, -0.02, -0.003) == (
        "-1.15 pp [-2.00, -0.30]"
    )
    assert level_text("deaths", 3.0, 0.0, 7.2, clipped=True) == "3 [0, 7]†"
    assert difference_text("deaths", -0.2, -0.4, 2.0) == "0 [0, 2]"
    assert difference_text("cost_total_dkk", -6.8e6, -12e6, -1e6) == "-6.8 [-12.0, -1.0]"


def test_level_cis_of_counts_are_clipped_at_zero_and_flagged():
    import polars as pl

    from sim.outputs.summary import comparison

    per_rep = pl.DataFrame(
        {
            "scenario": ["a"] * 3 + ["b"] * 3,
            "replication": [0, 1, 2] * 2,
            "deaths": [0.0, 0.0, 9.0, 1.0, 2.0, 3.0],
            "cost_state_dkk": [-5.0, 0.0, 9.0, 1.0, 2.0, 3.0],
        }
    )
    comp = comparison(per_rep, ["a", "b"], ["deaths", "cost_state_dkk"])
    deaths = comp.filter((pl.col("kpi") == "deaths") & (pl.col("scenario") == "a")).row(
        0, named=True
    )
    assert deaths["ci_low"] == 0.0 and deaths["clipped"]
    cost = comp.filter((pl.col("kpi") == "cost_state_dkk") & (pl.col("scenario") == "a"))
    assert cost["ci_low"][0] < 0 and not cost["clipped"][0]  # net costs may be negative


def test_manifest_hashes_every_output_file_without_absolute_paths(run_dir):
    import hashlib
    import json

    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    hashed = {v["file"]: v["sha256"] for v in manifest["outputs"].values()}
    files = {
        p.relative_to(run_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in run_dir.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert {"report.html", "report.md", "stress-des.md", "figures/costs_by_payer.pdf"} <= set(files)
    assert hashed == files
    assert manifest["outputs"]["kpis"]["file"] == "kpis.parquet"
    versions = {k.lower() for k in manifest["versions"]}
    assert {"matplotlib", "seaborn", "salib", "dask", "typer", "rich", "numba"} <= versions
    text = json.dumps(manifest)
    assert str(run_dir) not in text and str(ROOT) not in text
    assert manifest["command"][0] == "sektorsim"


def test_kpis_parquet_describes_itself(run_dir):
    import polars as pl

    from sim.outputs.tables import read_table_metadata

    kpis = pl.read_parquet(run_dir / "kpis.parquet")
    assert kpis.schema["admissions"] == pl.Int64 and kpis.schema["deaths"] == pl.Int64
    assert kpis.schema["hospital_bed_days"] == pl.Float64
    assert kpis.schema["period_start"] == pl.Date and kpis.schema["period_end"] == pl.Date
    q1 = kpis.filter(pl.col("period") == "2026Q1").row(0, named=True)
    assert str(q1["period_start"]) == "2026-01-01" and str(q1["period_end"]) == "2026-03-31"
    meta = read_table_metadata(run_dir / "kpis.parquet")
    assert set(meta["fields"]) == set(kpis.columns)
    assert meta["fields"]["area_level"]["unit"].startswith("national")
    assert meta["run"]["seed"] == 7 and meta["run"]["scenarios"] == [
        "teaching",
        "teaching-reform",
    ]
    assert "commit" in meta["run"]["code"]


def test_the_documented_polars_example_counts_each_patient_once(run_dir):
    import polars as pl

    from sim.outputs.summary import whole_window
    from sim.outputs.tables import data_dictionary

    text = data_dictionary()
    block = text.split("## kpis.parquet", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict = {}
    exec(block.replace("results/latest/kpis.parquet", str(run_dir / "kpis.parquet")), scope)
    got = scope["per_replication"].sort(["scenario", "replication"])
    want = whole_window(pl.read_parquet(run_dir / "kpis.parquet")).sort(["scenario", "replication"])
    assert got["admissions"].to_list() == want["admissions"].to_list()


def test_agents_parquet_periods_in_time_order(run_dir):
    import polars as pl

    agents = pl.read_parquet(run_dir / "agents.parquet")
    one = agents.filter((pl.col("scenario") == "teaching") & (pl.col("replication") == 0))[
        "period"
    ].unique(maintain_order=True)
    assert one[0].startswith("warmup") and one[-1] == "followup"
    assert one.to_list() == sorted(
        one.to_list(), key=lambda p: (p[:6] != "warmup", p == "followup")
    )
    assert "" not in agents["decision"].drop_nulls().to_list()
