"""`sektorsim run`: load, simulate, write the run directory, print the summary."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from rich.console import Console

from sim.files import staged_directory, write_json
from sim.outputs.equity import EQUITY_FILE, PRACTICES_FILE, write_spread_tables
from sim.outputs.manifest import MANIFEST, build_manifest, code_revision
from sim.outputs.summary import HEADLINE, comparison, whole_window
from sim.outputs.tables import AGENTS, KPIS, run_metadata, tidy_agents, write_table
from sim.run.preflight import check_run
from sim.run.runner import check_same_geography, load_scenario, run_replications

KPIS_FILE = "kpis.parquet"
AGENTS_FILE = "agents.parquet"


def execute_run(
    configs: list[Path],
    out_dir: Path,
    replications: int | None,
    seed: int | None,
    engine: str,
    workers: int,
    overrides: list[str],
    quiet: bool,
    console: Console,
    force: bool = False,
) -> pl.DataFrame:
    from sim.cli.console import summary_table

    specs = [load_scenario(p, overrides) for p in configs]  # every input error before any work
    check_same_geography(specs)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        from sim.errors import ConfigError

        raise ConfigError.single("name", f"scenario names must differ, got {names}")
    seed = specs[0].scenario.simulation.seed if seed is None else seed
    reps = specs[0].scenario.simulation.replications if replications is None else replications
    what = f"{reps:,} replications × {len(specs)} scenarios"
    check_run(specs, reps * len(specs), workers, what, out_dir, force)
    label = f"{' vs '.join(names)} ({engine})"
    kpis, agent_tables, practices = run_replications(
        specs, reps, seed, label, console, quiet, engine, workers
    )
    agents = tidy_agents(pl.concat(agent_tables))

    run_info = {
        "seed": seed,
        "replications": reps,
        "engine": engine,
        "overrides": overrides,
        "scenarios": [s.record() for s in specs],
    }
    with staged_directory(out_dir) as stage:
        meta = run_metadata(run_info, code_revision())
        write_table(kpis, stage / KPIS_FILE, KPIS, meta)
        write_table(agents, stage / AGENTS_FILE, AGENTS, meta)
        outputs = {
            "kpis": stage / KPIS_FILE,
            "agents": stage / AGENTS_FILE,
            **write_spread_tables(stage, kpis, practices, names, meta),
        }
        manifest = build_manifest("run", run_info, outputs)
        write_json(manifest, stage / MANIFEST)

    if not quiet:
        comp = comparison(whole_window(kpis), names, [k for k, _, _ in HEADLINE])
        first = specs[0].scenario.simulation
        console.print(
            summary_table(
                comp, f"sektorsim — {first.start} to {first.end}, {reps} replications, seed {seed}"
            )
        )
        console.print(
            f"Wrote {out_dir / KPIS_FILE} ({kpis.height:,} rows), {AGENTS_FILE}, "
            f"{PRACTICES_FILE}, {EQUITY_FILE} and {MANIFEST}"
        )
    return kpis
