"""Self-describing output tables: kpis.parquet and agents.parquet carry, in the Parquet
file's key-value metadata, what every column means (label, unit, description, from
`sim/measures.py`) and which run made them (seed, scenarios, code revision).
`docs/outputs.md`, the data dictionary, is generated from the same registry
(`python -m sim.outputs.tables > docs/outputs.md`; a test keeps them equal).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from sim.measures import (
    AGENT_FIELDS,
    COST_MEASURES,
    COUNTER_MEASURES,
    EQUITY_FIELDS,
    KEY_FIELDS,
    PRACTICE_FIELDS,
    RATE_MEASURES,
    Measure,
)

KPIS = "kpis"
AGENTS = "agents"
PRACTICES = "practices"
EQUITY = "equity"
#: Parquet key-value metadata keys.
META_TABLE = "sektorsim.table"
META_FIELDS = "sektorsim.fields"
META_RUN = "sektorsim.run"
META_DOCS = "sektorsim.docs"
DOCS = "docs/outputs.md"

_KEY_TYPES = {
    "scenario": "String",
    "draw": "Int64",
    "replication": "Int64",
    "period": "String",
    "period_start": "Date",
    "period_end": "Date",
    "period_days": "Float64",
    "area_level": "String",
    "area": "String",
    "group": "String",
}
_AGENT_TYPES = {
    "draw": "Int64",
    "replication": "Int64",
    "decides": "Boolean",
    "sop_beds_per_1000": "Float64",
    "ht_slots_per_1000": "Float64",
    "net_cost_dkk": "Float64",
    "shortage_cost_dkk": "Float64",
}

_PRACTICE_TYPES = {
    "scenario": "String",
    "draw": "Int64",
    "replication": "Int64",
    "period": "String",
    "practice": "Int64",
    "municipality": "String",
    "council": "String",
    "admissions": "Int64",
    "discharges": "Int64",
    "readmissions_30d": "Int64",
}
_EQUITY_TYPES = {
    "draw": "Int64",
    "value": "Float64",
    "ci_low": "Float64",
    "ci_high": "Float64",
    "replications": "Int64",
}


def is_count(m: Measure) -> bool:
    """Counters in whole units are stored as integers (Int64); bed-days etc. are not whole."""
    return m.kind == "counter" and m.unit == "count"


def fields(table: str) -> tuple[tuple[Measure, str], ...]:
    """Every column of TABLE in order, with its Parquet type."""
    if table == AGENTS:
        return tuple((m, _AGENT_TYPES.get(m.name, "String")) for m in AGENT_FIELDS)
    if table == PRACTICES:
        return tuple((m, _PRACTICE_TYPES.get(m.name, "Float64")) for m in PRACTICE_FIELDS)
    if table == EQUITY:
        return tuple((m, _EQUITY_TYPES.get(m.name, "String")) for m in EQUITY_FIELDS)
    out = [(m, _KEY_TYPES[m.name]) for m in KEY_FIELDS]
    out += [(m, "Int64" if is_count(m) else "Float64") for m in COUNTER_MEASURES]
    out += [(m, "Float64") for m in (*RATE_MEASURES, *COST_MEASURES)]
    return tuple(out)


def field_metadata(table: str, columns: list[str]) -> dict[str, dict[str, str]]:
    known = {m.name: m for m, _ in fields(table)}
    return {
        c: {"label": known[c].label, "unit": known[c].unit, "description": known[c].description}
        for c in columns
        if c in known
    }


def write_table(df: pl.DataFrame, path: Path, table: str, run: dict | None = None) -> None:
    """Write DF like `files.write_parquet` (atomic, fixed compression, no timestamps) with
    the field descriptions and the run in the key-value metadata."""
    metadata = {
        META_TABLE: table,
        META_FIELDS: json.dumps(field_metadata(table, df.columns), ensure_ascii=False),
        META_RUN: json.dumps(run or {}, sort_keys=True, default=str, ensure_ascii=False),
        META_DOCS: DOCS,
    }
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    df.write_parquet(tmp, compression="zstd", compression_level=3, metadata=metadata)
    os.replace(tmp, path)


def read_table_metadata(path: Path) -> dict:
    """The table name, field descriptions and run of a file written by `write_table`."""
    raw = pl.read_parquet_metadata(path)
    return {
        "table": raw.get(META_TABLE),
        "fields": json.loads(raw.get(META_FIELDS, "{}")),
        "run": json.loads(raw.get(META_RUN, "{}")),
        "docs": raw.get(META_DOCS),
    }


def run_metadata(info: dict, code: dict) -> dict:
    """What a table says about its run: no dates, so a rerun gives the same bytes."""
    from sim import __version__

    return {
        "seed": info.get("seed"),
        "replications": info.get("replications"),
        "engine": info.get("engine"),
        "overrides": info.get("overrides"),
        "scenarios": [s["name"] for s in info.get("scenarios", [])],
        "sektorsim": __version__,
        "code": code,
    }


def tidy_agents(agents: pl.DataFrame) -> pl.DataFrame:
    """Periods in time order (warmup first, followup last) and `decision` null when none."""
    order = (
        pl.when(pl.col("period").str.starts_with("warmup"))
        .then(0)
        .when(pl.col("period") == "followup")
        .then(2)
        .otherwise(1)
    )
    return (
        agents.with_columns(
            pl.when(pl.col("decision") == "")
            .then(None)
            .otherwise(pl.col("decision"))
            .alias("decision")
        )
        .with_columns(order.alias("_order"))
        .sort(
            ["scenario", "draw", "replication", "_order", "period", "agent_type", "agent"],
            maintain_order=True,
        )
        .drop("_order")
    )


def _md_rows(table: str) -> list[str]:
    lines = ["| column | type | unit | description |", "|---|---|---|---|"]
    for m, kind in fields(table):
        desc = m.description if m.label == m.name else f"{m.label}. {m.description}"
        lines.append(f"| `{m.name}` | {kind} | {m.unit} | {desc.replace('|', '/')} |")
    return lines


def data_dictionary() -> str:
    """The text of docs/outputs.md."""
    lines = [
        "# Outputs: data dictionary",
        "",
        "<!-- Generated by sim.outputs.tables.data_dictionary() from sim/measures.py; do not",
        "     edit. Regenerate: .venv/bin/python -m sim.outputs.tables > docs/outputs.md -->",
        "",
        "A run directory holds `kpis.parquet`, `agents.parquet`, `practices.parquet`,",
        "`equity.parquet`, `manifest.json`, `stress-des.md`, `report.html`/`report.md` and",
        "`figures/` (each figure as PNG, SVG, PDF and the numbers it draws as CSV). The",
        "Parquet files describe themselves: their",
        f"key-value metadata holds `{META_FIELDS}` (label, unit and description of every",
        f"column, as below), `{META_RUN}` (seed, replications, engine, scenarios, code",
        f"revision) and `{META_TABLE}`:",
        "",
        "```python",
        "import json",
        "import polars as pl",
        "",
        'meta = pl.read_parquet_metadata("results/latest/kpis.parquet")',
        f'fields = json.loads(meta["{META_FIELDS}"])',
        'fields["readmissions_30d"]["unit"]  # "count"',
        "```",
        "",
        "## kpis.parquet",
        "",
        "One row per scenario × parameter draw × replication × reporting period × area ×",
        "patient group. **One table holds five area levels** (`area_level`: national,",
        "region, region_reform, council, municipality) and every level counts the same",
        "patients, and `group` holds `all` beside the six groups: summing over all rows counts",
        "each patient ten times or more. Filter one level and one grouping first:",
        "",
        "```python",
        "import polars as pl",
        "",
        'kpis = pl.read_parquet("results/latest/kpis.parquet")',
        "national = kpis.filter(",
        '    (pl.col("area_level") == "national") & (pl.col("group") == "all"),',
        '    pl.col("draw") == 0,',
        ")",
        "per_replication = national.group_by(",
        '    "scenario", "replication", maintain_order=True',
        ').agg(pl.col("admissions").sum())  # admissions over the reporting window',
        "```",
        "",
        "Counts are integers (Int64); bed-days, days and person-days are sums of fractional",
        "days (Float64). Rates are null, not 0, where their denominator is 0; recompute a",
        "rate over several periods from its numerator and denominator, never by averaging.",
        "Costs are DKK over the period.",
        "",
        *_md_rows(KPIS),
        "",
        "## agents.parquet",
        "",
        "The Mesa organisations, one row per agent × planning period, periods in time order",
        "(warm-up periods first, `followup` last).",
        "",
        *_md_rows(AGENTS),
        "",
        "## practices.parquet",
        "",
        "One row per scenario × parameter draw × replication × reporting period × general",
        "practice (`sektorsim run`; the SimPy engine writes no rows). Patients belong to a",
        "practice of their municipality (docs/model.md section 4); the counters are those of",
        "the practice's patients aged 65+ at the time (a readmission at the age of its index",
        "discharge), so they add up to the KPI table's totals for the 65+. The calibration",
        "target on the spread of practices' readmission rates reads the observed rate per",
        "practice and calendar year (`sim.outputs.practices.readmission_spread`).",
        "",
        *_md_rows(PRACTICES),
        "",
        "## equity.parquet",
        "",
        "Who gains and who loses (docs/model.md section 9), over the whole reporting window:",
        "the spread of rates across municipalities, councils and practices per scenario, a",
        "Theil index, and each council's paired difference from the first scenario.",
        "",
        *_md_rows(EQUITY),
        "",
        "## manifest.json",
        "",
        "Everything needed to rerun the run and check it (`sektorsim replay RUN_DIR`): the",
        "resolved config of every scenario, the geography file and its hash, seed,",
        "replications, engine, `--set` overrides, the version of Python and of every",
        "dependency, the code revision, and `outputs`: the SHA-256 of every file in the run",
        "directory (tables, figures, reports), by path relative to the directory.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    sys.stdout.write(data_dictionary())
