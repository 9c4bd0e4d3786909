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
    "readmission_by_group",
    "hospital_over_time",
    "care_near_home",
    "costs_by_payer",
    "councils_readmission",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "run"
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(ROOT / "configs" / "teaching.yaml"),
            str(ROOT / "configs" / "teaching-reform.yaml"),
            "--out",
            str(out),
            "--replications",
            "2",
            "--quiet",
            "--set",
            "simulation.end=2026-10-01",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


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
    assert_valid_figure(decompose_dir / "figures" / "lever_waterfall.png")
    assert "lever_waterfall" in (decompose_dir / "report.html").read_text(encoding="utf-8")


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
    assert "![readmission_by_group](figures/readmission_by_group.png)" in md


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
