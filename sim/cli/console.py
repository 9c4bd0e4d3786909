"""What the commands print: consoles, the comparison and PSA tables, JSON for scripts,
and the report files every run directory ends with."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table

from sim.outputs.summary import HEADLINE, MILLIONS, comparison, format_estimate, whole_window

out = Console()
err = Console(stderr=True)


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

    scenarios = list(dict.fromkeys(comp["scenario"].to_list()))
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("KPI (reporting window, national)")
    for i, s in enumerate(scenarios):
        table.add_column(f"{s}\nmean [95% CI]", justify="right")
        if i:
            table.add_column(f"{s} − {scenarios[0]}\npaired [95% CI]", justify="right")
    labels = {k: (label, fmt) for k, label, fmt in HEADLINE}
    for kpi in dict.fromkeys(comp["kpi"].to_list()):
        label, fmt = labels[kpi]
        scale = 1e-6 if kpi in MILLIONS else 1.0
        cells = [label]
        for row in comp.filter(comp["kpi"] == kpi).iter_rows(named=True):
            cells.append(format_estimate(fmt, row["mean"], row["ci_low"], row["ci_high"], scale))
            if row["scenario"] != scenarios[0]:
                cells.append(
                    format_estimate(
                        fmt, row["diff"], row["diff_low"], row["diff_high"], scale, signed=True
                    )
                )
        table.add_row(*cells)
    return table


def finish(run_dir: Path, no_report: bool, quiet: bool) -> None:
    """Every run directory gets its STRESS-DES appendix, and figures + report unless --no-report."""
    from sim.report.stress_des import write_stress_des

    write_stress_des(run_dir)
    if not no_report:
        from sim.report.html import write_report

        path = write_report(run_dir)
        if not quiet:
            out.print(f"Report: {path}", highlight=False)


def comparison_records(kpis: pl.DataFrame) -> list[dict]:
    """The headline comparison (national, reporting window) as JSON-ready rows."""

    names = list(dict.fromkeys(kpis["scenario"].to_list()))
    return comparison(whole_window(kpis), names, [k for k, _, _ in HEADLINE]).to_dicts()


def print_json(data: object) -> None:
    """JSON for scripts: plain stdout, no colour or wrapping."""

    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
