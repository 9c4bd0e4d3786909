"""Self-describing outputs: Parquet metadata from the registry, the generated data
dictionary, agents' periods in time order."""

from pathlib import Path

import polars as pl

from sim.measures import COUNTER_MEASURES
from sim.outputs.tables import (
    AGENTS,
    KPIS,
    data_dictionary,
    fields,
    read_table_metadata,
    tidy_agents,
    write_table,
)

ROOT = Path(__file__).resolve().parent.parent


def test_docs_outputs_md_is_generated_from_the_registry():
    committed = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    assert committed == data_dictionary(), (
        "docs/outputs.md is stale: .venv/bin/python -m sim.outputs.tables > docs/outputs.md"
    )


def test_every_counter_is_in_the_dictionary_with_its_type():
    text = data_dictionary()
    for m in COUNTER_MEASURES:
        kind = "Int64" if m.unit == "count" else "Float64"
        assert f"| `{m.name}` | {kind} | {m.unit} |" in text
    assert '(pl.col("area_level") == "national")' in text


def test_parquet_metadata_round_trips(tmp_path):
    df = pl.DataFrame({"scenario": ["a"], "admissions": [3], "readmission_rate_30d": [0.1]})
    run = {"seed": 7, "scenarios": ["a"], "code": {"commit": "abc", "dirty": False}}
    write_table(df, tmp_path / "k.parquet", KPIS, run)
    assert pl.read_parquet(tmp_path / "k.parquet").equals(df)
    meta = read_table_metadata(tmp_path / "k.parquet")
    assert meta["table"] == KPIS and meta["run"] == run
    assert meta["fields"]["admissions"]["unit"] == "count"
    assert meta["fields"]["readmission_rate_30d"]["unit"] == "share of discharges"
    assert set(meta["fields"]) == set(df.columns)
    assert meta["docs"] == "docs/outputs.md"
    # same frame, same run: same bytes
    write_table(df, tmp_path / "k2.parquet", KPIS, run)
    assert (tmp_path / "k.parquet").read_bytes() == (tmp_path / "k2.parquet").read_bytes()


def test_agents_periods_in_time_order_and_no_decision_is_null():
    agents = pl.DataFrame(
        {
            "scenario": ["s"] * 5,
            "draw": [0] * 5,
            "replication": [0] * 5,
            "period": ["followup", "2026Q1", "warmup-2025Q4", "2026Q2", "warmup-2025Q3"],
            "agent_type": ["region"] * 5,
            "agent": ["R"] * 5,
            "decision": ["", "keep", "", "cut", "invest"],
        }
    )
    tidy = tidy_agents(agents)
    assert tidy["period"].to_list() == [
        "warmup-2025Q3",
        "warmup-2025Q4",
        "2026Q1",
        "2026Q2",
        "followup",
    ]
    assert tidy["decision"].to_list() == ["invest", None, "keep", "cut", None]
    assert [m.name for m, _ in fields(AGENTS)][-1] == "decision"


def test_stepup_use_is_reported_apart_from_stepdown(teaching_run_dir):
    """Step-up admissions and step-down placements add up to every intermediate-care
    admission; beds used for step-up are part of the beds used, never more than provided."""
    kpis = pl.read_parquet(teaching_run_dir / "kpis.parquet").filter(
        pl.col("sop_bed_days_provided") > 0
    )
    assert kpis.height
    total = kpis["sop_stepup_admissions"] + kpis["sop_stepdowns"]
    assert (total == kpis["sop_admissions"]).all()
    assert (kpis["sop_stepup_admissions"] >= 0).all()
    assert (kpis["sop_stepup_occupancy"] <= kpis["sop_occupancy"] + 1e-12).all()
    # beds are provided where they stand and used by whoever they serve: only a whole
    # area's patients, all groups, fill exactly the beds provided to it
    national = kpis.filter((pl.col("area_level") == "national") & (pl.col("group") == "all"))
    assert (national["sop_occupancy"] <= 1.0 + 1e-9).all()
    assert national["sop_stepup_occupancy"].min() > 0
