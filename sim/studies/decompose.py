"""Lever by lever: how much of the reform's effect each lever carries.

From a starting bundle (today's), run one scenario per lever switched on alone and one
with all of them, with common random numbers; each lever's effect is its paired
difference from the start, its share that effect over the all-levers difference. The
remainder (all − sum of single levers) is the levers' interaction.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table

from sim.config.schema import Levers
from sim.files import staged_directory, write_json, write_parquet
from sim.outputs.equity import write_spread_tables
from sim.outputs.manifest import MANIFEST, build_manifest, code_revision
from sim.outputs.summary import mean_ci, whole_window
from sim.outputs.tables import KPIS, run_metadata, write_table
from sim.run.preflight import check_run
from sim.run.runner import load_scenario, run_replications

LEVERS: tuple[str, ...] = tuple(Levers.model_fields)
OUTCOMES: tuple[tuple[str, str], ...] = (
    ("readmissions_30d", "30-day readmissions"),
    ("hospital_bed_days", "Hospital bed-days"),
    ("delayed_discharge_days", "Delayed-discharge bed-days"),
    ("cost_total_dkk", "Total cost (DKK)"),
)


def decomposition(per_rep: pl.DataFrame, base: str, levers: list[str]) -> pl.DataFrame:
    rows = []
    ref = per_rep.filter(pl.col("scenario") == base).sort("replication")
    everything = per_rep.filter(pl.col("scenario") == "all-levers").sort("replication")
    for kpi, _ in OUTCOMES:
        total = float((everything[kpi] - ref[kpi]).mean())
        singles = 0.0
        for lever in [*levers, "all-levers"]:
            name = lever if lever == "all-levers" else f"lever-{lever}"
            cur = per_rep.filter(pl.col("scenario") == name).sort("replication")
            d, lo, hi = mean_ci((cur[kpi] - ref[kpi]).to_numpy())
            if lever != "all-levers":
                singles += d
            rows.append(
                {
                    "kpi": kpi,
                    "lever": lever,
                    "effect": d,
                    "ci_low": lo,
                    "ci_high": hi,
                    "share": d / total if total else None,
                }
            )
        rows.append(
            {
                "kpi": kpi,
                "lever": "interaction",
                "effect": total - singles,
                "ci_low": None,
                "ci_high": None,
                "share": (total - singles) / total if total else None,
            }
        )
    return pl.DataFrame(
        rows, schema_overrides={"ci_low": pl.Float64, "ci_high": pl.Float64, "share": pl.Float64}
    )


def execute_decompose(
    config: Path,
    out_dir: Path,
    replications: int | None,
    seed: int | None,
    workers: int,
    overrides: list[str],
    quiet: bool,
    console: Console,
    force: bool = False,
) -> pl.DataFrame:

    base = load_scenario(config, overrides)
    levers = list(LEVERS)
    specs = [base]
    for lever in levers:
        specs.append(
            load_scenario(
                config, [*overrides, f"name=lever-{lever}", f"regime.levers.{lever}=true"]
            )
        )
    specs.append(
        load_scenario(
            config, [*overrides, "name=all-levers", *[f"regime.levers.{x}=true" for x in levers]]
        )
    )
    seed = base.scenario.simulation.seed if seed is None else seed
    reps = base.scenario.simulation.replications if replications is None else replications
    what = f"{reps:,} replications × {len(specs)} lever scenarios"
    check_run(specs, reps * len(specs), workers, what, out_dir, force)
    label = f"decompose {base.name} ({len(specs)} scenarios)"
    kpis, _, practices = run_replications(specs, reps, seed, label, console, quiet, workers=workers)
    table = decomposition(whole_window(kpis), base.name, levers)
    with staged_directory(out_dir) as stage:
        info = {
            "seed": seed,
            "replications": reps,
            "engine": "numba",
            "overrides": overrides,
            "scenarios": [s.record() for s in specs],
        }
        meta = run_metadata(info, code_revision())
        outputs = {"kpis": stage / "kpis.parquet"}
        write_table(kpis, outputs["kpis"], KPIS, meta)
        names = [s.name for s in specs]  # each lever's equity differences from the start
        outputs |= write_spread_tables(stage, kpis, practices, names, meta)
        outputs["decomposition"] = stage / "decomposition.parquet"
        write_parquet(table, outputs["decomposition"])
        write_json(build_manifest("decompose", info, outputs), stage / MANIFEST)
    if not quiet:
        console.print(decomposition_table(table))
    return table


def decomposition_table(table: pl.DataFrame) -> Table:
    out = Table(
        title="Effect of each lever switched on alone: paired difference from the start "
        "[95% CI] (share of the all-levers effect)",
        title_justify="left",
    )
    out.add_column("lever")
    for _, label in OUTCOMES:
        out.add_column(label.replace("(DKK)", "(DKK m)"), justify="right")
    for lever in dict.fromkeys(table["lever"].to_list()):
        cells = [lever]
        for kpi, _ in OUTCOMES:
            row = table.filter((pl.col("kpi") == kpi) & (pl.col("lever") == lever)).row(
                0, named=True
            )
            scale, fmt = (1e-6, "{:+,.1f}") if kpi.startswith("cost_") else (1.0, "{:+,.0f}")
            cell = fmt.format(row["effect"] * scale)
            if row["ci_low"] is not None:
                low, high = (fmt.format(row[k] * scale) for k in ("ci_low", "ci_high"))
                cell += f" [{low}, {high}]"
            if row["share"] is not None:
                cell += f" ({row['share']:.0%})"
            cells.append(cell)
        out.add_row(*cells)
    return out
