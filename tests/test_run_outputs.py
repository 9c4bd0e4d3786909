"""`sektorsim run`: tidy KPI table, manifest, byte-identical reruns, common random numbers."""

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
TEACHING = str(ROOT / "configs" / "teaching.yaml")
REQUIRED = [
    "scenario",
    "replication",
    "period",
    "area_level",
    "area",
    "admissions",
    "readmissions_30d",
    "readmission_rate_30d",
    "hospital_bed_days",
    "delayed_discharge_days",
    "sop_admissions",
    "sop_bed_days",
    "home_treatment_episodes",
    "gp_contacts",
    "deaths",
    "mean_wait_sop_days",
    "cost_region_dkk",
    "cost_municipality_dkk",
    "cost_citizen_dkk",
]
runner = CliRunner()


def _run(out: Path, *extra: str) -> pl.DataFrame:
    result = runner.invoke(
        app,
        [
            "run",
            TEACHING,
            "--out",
            str(out),
            "--replications",
            "2",
            "--quiet",
            "--no-report",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return pl.read_parquet(out / "kpis.parquet")


def test_run_writes_tidy_table_and_manifest(tmp_path):
    df = _run(tmp_path / "a")
    assert set(REQUIRED) <= set(df.columns)
    assert (
        df.select(["scenario", "replication", "period", "area_level", "area", "group"])
        .is_duplicated()
        .sum()
        == 0
    )
    assert set(df["area_level"].unique()) == {
        "national",
        "region",
        "region_reform",
        "council",
        "municipality",
    }
    assert sorted(df["replication"].unique().to_list()) == [0, 1]
    nat = df.filter((pl.col("area_level") == "national") & (pl.col("group") == "all"))
    muni = df.filter((pl.col("area_level") == "municipality") & (pl.col("group") == "all"))
    # areas add up: national admissions = sum over municipalities, per replication and period
    joined = nat.join(
        muni.group_by(["replication", "period"]).agg(pl.col("admissions").sum().alias("m")),
        on=["replication", "period"],
    )
    assert (joined["admissions"] == joined["m"]).all()
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["replications"] == 2
    assert manifest["outputs"]["kpis"]["sha256"]
    assert manifest["scenarios"][0]["config"]["name"] == "teaching"
    assert manifest["versions"]["numba"]


def test_same_seed_gives_byte_identical_kpis(tmp_path):
    _run(tmp_path / "a")
    _run(tmp_path / "b", "--workers", "1")
    assert (tmp_path / "a" / "kpis.parquet").read_bytes() == (
        tmp_path / "b" / "kpis.parquet"
    ).read_bytes()
    _run(tmp_path / "c", "--seed", "8")
    assert (tmp_path / "a" / "kpis.parquet").read_bytes() != (
        tmp_path / "c" / "kpis.parquet"
    ).read_bytes()


def test_scenarios_share_random_numbers(tmp_path):
    # Two scenarios that differ only in name see identical numbers (common random numbers).
    copy = tmp_path / "same.yaml"
    copy.write_text(f"extends: {TEACHING}\nname: twin\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "run",
            TEACHING,
            str(copy),
            "--out",
            str(tmp_path / "o"),
            "--replications",
            "2",
            "--quiet",
            "--no-report",
        ],
    )
    assert result.exit_code == 0, result.output
    df = pl.read_parquet(tmp_path / "o" / "kpis.parquet")
    a = df.filter(pl.col("scenario") == "teaching").drop("scenario")
    b = df.filter(pl.col("scenario") == "twin").drop("scenario")
    assert a.equals(b)
