"""What the commands print: consoles, the comparison and PSA tables, JSON for scripts,
and the report files every run directory ends with."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import polars as pl

    from sim.report.drawer import Drawer

# polars, scipy and the report are imported by the functions that use them: `sektorsim
# --help` and commands that never simulate should not pay for them (issue 13).


class FigureFormat(StrEnum):
    png = "png"
    svg = "svg"
    pdf = "pdf"


class Engine(StrEnum):
    """numba: the compiled kernel; simpy: the readable reference model."""

    numba = "numba"
    simpy = "simpy"


class Backend(StrEnum):
    """local: processes on this machine; dask: a Dask cluster."""

    local = "local"
    dask = "dask"


#: Wide enough that a table piped into a file or another program is never wrapped.
PIPE_WIDTH = 400


def console(stderr: bool = False) -> Console:
    """A terminal gets its own width; a pipe or file gets PIPE_WIDTH columns (no wrapping
    inside a CI), unless COLUMNS says otherwise."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty() or "COLUMNS" in os.environ:
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=PIPE_WIDTH)


out = console()
err = console(stderr=True)


PSA_OUTCOMES = (
    ("readmissions_30d", "30-day readmissions"),
    ("delayed_discharge_days", "Delayed-discharge bed-days"),
    ("hospital_bed_days", "Hospital bed-days"),
    ("cost_region_dkk", "Cost, regions (DKK)"),
    ("cost_municipality_dkk", "Cost, municipalities (DKK)"),
    ("cost_total_dkk", "Cost, total (DKK)"),
)


def incremental_table(inc, draws: int) -> Table:
    """Across parameter draws: each scenario's paired difference, mean and 95% interval."""
    table = Table(
        title=f"Incremental outcomes vs baseline over {draws} parameter draws: mean [2.5%, 97.5%]",
        title_justify="left",
    )
    table.add_column("outcome")
    for scenario in inc["scenario"]:
        table.add_column(scenario, justify="right")
    for key, label in PSA_OUTCOMES:
        if f"{key}_mean" not in inc.columns:
            continue
        cells = [label]
        for row in inc.iter_rows(named=True):
            m, lo, hi = row[f"{key}_mean"], row[f"{key}_p2.5"], row[f"{key}_p97.5"]
            cells.append("–" if m is None else f"{m:+,.0f} [{lo:+,.0f}, {hi:+,.0f}]")
        table.add_row(*cells)
    for key, label in PSA_PLANE:
        if key in inc.columns:
            table.add_row(label, *("–" if v is None else f"{v:.0%}" for v in inc[key].to_list()))
    return table


#: The cost-effectiveness plane: shares of draws, never a ratio of draws.
PSA_PLANE = (
    ("share_cheaper_and_better", "Draws cheaper and better"),
    ("share_costlier_and_better", "Draws costlier and better"),
    ("share_cheaper_and_worse", "Draws cheaper and worse"),
    ("share_costlier_and_worse", "Draws costlier and worse"),
    ("probability_cost_effective_at_100000", "Cost-effective at DKK 100,000 a readmission"),
)


def summary_table(comp: pl.DataFrame, title: str) -> Table:
    """The headline comparison: each scenario's mean and CI, and paired differences."""
    from sim.outputs.summary import CLIPPED_NOTE, comparison_cells

    header, rows = comparison_cells(comp)
    table = Table(title=title, title_justify="left", show_lines=False, caption=CLIPPED_NOTE)
    for i, name in enumerate(header):
        table.add_column(name.replace(": ", "\n"), justify="left" if i == 0 else "right")
    for cells in rows:
        table.add_row(*cells)
    return table


def write_reports(
    run_dir: Path,
    formats: tuple[str, ...] | None = None,
    no_report: bool = False,
    quiet: bool = False,
    drawer: Drawer | None = None,
) -> Path | None:
    """The STRESS-DES appendix, figures and report (unless NO_REPORT; figures shared with
    DRAWER's process if given), then every file's hash into the manifest."""
    from sim.outputs.manifest import refresh_manifest
    from sim.report.stress_des import write_stress_des

    path = None
    if not no_report:
        from sim.report.html import FORMATS, write_report

        path = write_report(run_dir, formats or FORMATS, quiet, drawer)
    write_stress_des(run_dir)
    refresh_manifest(run_dir)
    return path


def finish(run_dir: Path, no_report: bool, quiet: bool, drawer: Drawer | None = None) -> None:
    """Every run directory gets its STRESS-DES appendix, and figures + report unless --no-report."""
    path = write_reports(run_dir, no_report=no_report, quiet=quiet, drawer=drawer)
    if path is not None and not quiet:
        out.print(f"Report: {path}", highlight=False)


def comparison_records(kpis: pl.DataFrame) -> list[dict]:
    """The headline comparison (national, reporting window) as JSON-ready rows."""
    from sim.outputs.summary import HEADLINE, comparison, whole_window

    names = list(dict.fromkeys(kpis["scenario"].to_list()))
    return comparison(whole_window(kpis), names, [k for k, _, _ in HEADLINE]).to_dicts()


def print_json(data: object) -> None:
    """JSON for scripts: plain stdout, no colour or wrapping."""

    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
