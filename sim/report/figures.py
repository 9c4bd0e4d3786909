"""Figures of a run directory (matplotlib), one function per figure.

One statistics path: every interval drawn is the Student-t 95% CI over replications from
`sim.outputs.summary` (`mean_ci`, `ci_table`, `comparison`), the same numbers as the
report's table; each figure writes the numbers it draws beside it as CSV.
Scenario is colour in every figure; areas are facets; legends sit outside the data; the
reform's start is a dashed line. Rebuilding gives the same bytes (no dates, a fixed SVG
hash salt). Functions return a `Drawn` (path, caption, alt text) or None when the run has
nothing to show for that figure.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only, no screen
import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from matplotlib.transforms import offset_copy

from sim.files import read_parquet
from sim.measures import MEASURES, label
from sim.outputs.summary import (
    HEADLINE,
    MILLIONS,
    POINTS,
    ci_table,
    comparison,
    whole_window,
)
from sim.progress import task_bar

if TYPE_CHECKING:
    from sim.report.drawer import Drawer


def _import_seaborn():
    """seaborn, without importing scipy.stats and ipywidgets at its import (issue 13).

    seaborn imports scipy.stats for its kernel density estimates and ipywidgets for
    notebook widgets, about a second together on the teaching machine; these figures use
    neither. Both are hidden while seaborn is imported; its KDE then gets scipy's
    `gaussian_kde` on first use, so seaborn works as usual if anything draws one.
    """
    if "seaborn" in sys.modules:
        return sys.modules["seaborn"]
    hidden = [m for m in ("scipy.stats", "ipywidgets") if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None  # an ImportError for `from m import ...` while seaborn loads
    try:
        import seaborn
        import seaborn._statistics as statistics
    finally:
        for m in hidden:
            if sys.modules.get(m, ()) is None:
                del sys.modules[m]
    if statistics._no_scipy:

        def gaussian_kde(*args, **kwargs):
            from scipy.stats import gaussian_kde as kde

            return kde(*args, **kwargs)

        statistics.gaussian_kde, statistics._no_scipy = gaussian_kde, False
    return seaborn


sns = _import_seaborn()

#: The formats written by default; the report embeds the PNG.
FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
DPI = 300
PAYER_COLUMNS = {
    "cost_region_dkk": "Regions",
    "cost_municipality_dkk": "Municipalities",
    "cost_citizen_dkk": "Citizens",
    "cost_state_dkk": "State grants",
    "cost_total_dkk": "Total (resource cost)",
}
GROUP_LABELS = {
    "copd": "COPD",
    "diabetes": "Type-2 diabetes",
    "heart": "Heart disease",
    "back": "Low back pain",
    "multimorbid": "Multimorbid",
    "other": "Other 65+",
    "all": "All",
}
CI_NOTE = "Error bars and bands: Student-t 95% CIs over replications (as in the table)."


@dataclass(frozen=True)
class Context:
    """What every figure needs besides the data: the source line, the scenarios in order
    (their colours), the reform's start and the formats to write."""

    source: str
    scenarios: tuple[str, ...]
    reform_date: dt.date | None = None
    period: str = "quarter"
    formats: tuple[str, ...] = FORMATS
    replications: int = 0
    colours: dict[str, tuple] = field(default_factory=dict)

    def colour(self, scenario: str):
        if scenario in self.colours:
            return self.colours[scenario]
        palette = sns.color_palette("colorblind", max(len(self.scenarios), 1))
        i = self.scenarios.index(scenario) if scenario in self.scenarios else 0
        return palette[i % len(palette)]


@dataclass(frozen=True)
class Drawn:
    path: Path  # the PNG
    title: str
    caption: str
    alt: str


def _style() -> None:
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.1)
    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": DPI,
            "savefig.bbox": "tight",
            "axes.titleweight": "bold",
            "axes.titlesize": 10,
            "axes.labelsize": 9,
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "legend.fontsize": 9,
            "figure.titlesize": 12,
            "svg.hashsalt": "sektorsim",  # stable ids in SVG
            "pdf.fonttype": 42,
        }
    )


#: Fixed metadata: no creation dates, so the bytes depend on the data only.
METADATA = {
    "png": {"Software": "sektorsim (matplotlib)"},
    "svg": {"Date": None, "Creator": "sektorsim (matplotlib)"},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": "sektorsim (matplotlib)"},
}


def _save(
    fig: plt.Figure,
    out: Path,
    name: str,
    ctx: Context,
    data: pl.DataFrame,
    title: str,
    caption: str,
    alt: str,
) -> Drawn:
    below = offset_copy(fig.transFigure, fig=fig, y=-4, units="points")
    fig.text(0.0, 0.0, ctx.source, fontsize=7, color="0.35", ha="left", va="top", transform=below)
    # Lay out and crop once, then render each format from that: savefig would otherwise
    # redo the constrained layout and the tight box in every format (two draws, not one).
    fig.draw_without_rendering()
    crop = fig.get_tightbbox().padded(plt.rcParams["savefig.pad_inches"])
    fig.set_layout_engine("none")
    for ext in ctx.formats:
        fig.savefig(out / f"{name}.{ext}", metadata=METADATA.get(ext), bbox_inches=crop)
    plt.close(fig)
    data.write_csv(out / f"{name}.csv")
    return Drawn(out / f"{name}.png", title, caption, alt)


def _legend(fig: plt.Figure, ctx: Context, scenarios: Sequence[str], extra=()) -> None:
    """One legend for the whole figure, above the panels, never on the data."""
    handles = [
        plt.Line2D([], [], color=ctx.colour(s), marker="o", linewidth=2, label=s) for s in scenarios
    ]
    handles += list(extra)
    fig.legend(
        handles=handles,
        loc="outside right upper",
        title="scenario",
        frameon=False,
    )


def _grid(n: int, max_cols: int, panel=(3.4, 2.6), rows_of: int | None = None):
    """A grid of N panels that grows with N (no tiny panel in an empty image)."""
    cols = max(1, min(n, max_cols))
    rows = rows_of or math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(panel[0] * cols + 2.2, panel[1] * rows + 1.2),
        layout="constrained",
        squeeze=False,
    )
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _ordered_periods(df: pl.DataFrame) -> list[str]:
    if "period_start" in df.columns:
        order = df.select("period", "period_start").unique().sort("period_start")
        return order["period"].to_list()
    return sorted(df["period"].unique().to_list())


def _reform_line(ax, ctx: Context, periods: list[str], with_label: bool = False) -> None:
    """A dashed line at the start of the period in which the reform starts."""
    if ctx.reform_date is None:
        return
    from sim.flow.inputs import period_label

    start = period_label(ctx.reform_date, ctx.period)
    if start not in periods or periods.index(start) == 0:
        return
    ax.axvline(periods.index(start) - 0.5, color="0.25", linestyle="--", linewidth=1)
    if with_label:
        ax.annotate(
            f"reform from {ctx.reform_date}",
            (periods.index(start) - 0.5, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3),
            textcoords="offset points",
            fontsize=7,
            va="top",
            color="0.25",
        )


def _reform_handle(ctx: Context) -> list:
    if ctx.reform_date is None:
        return []
    return [
        plt.Line2D(
            [], [], color="0.25", linestyle="--", linewidth=1, label=f"reform ({ctx.reform_date})"
        )
    ]


def _bands(ax, ci: pl.DataFrame, ctx: Context, periods: list[str], scale: float = 1.0) -> None:
    """Mean per period as a line with its CI as a band, one colour per scenario."""
    x_of = {p: i for i, p in enumerate(periods)}
    for scenario in ctx.scenarios:
        part = ci.filter(pl.col("scenario") == scenario)
        if part.height == 0:
            continue
        part = part.with_columns(
            pl.col("period").replace_strict(x_of, return_dtype=pl.Int64).alias("_x")
        ).sort("_x")
        x = part["_x"].to_numpy()
        c = ctx.colour(scenario)
        ax.plot(x, part["mean"].to_numpy() * scale, color=c, marker="o", markersize=3)
        lo, hi = part["ci_low"].to_numpy() * scale, part["ci_high"].to_numpy() * scale
        if not np.all(np.isnan(lo)):
            ax.fill_between(x, lo, hi, color=c, alpha=0.2, linewidth=0)
    ax.set_xticks(range(len(periods)), periods, rotation=45, ha="right")
    ax.set_xlim(-0.3, len(periods) - 0.7)


def _bars(ax, ci: pl.DataFrame, ctx: Context, category: str, categories: list, scale=1.0):
    """Grouped bars (one per scenario) with their CIs as error bars."""
    width = 0.8 / max(len(ctx.scenarios), 1)
    for j, scenario in enumerate(ctx.scenarios):
        part = ci.filter(pl.col("scenario") == scenario)
        if part.height == 0:
            continue
        rows = {r[category]: r for r in part.iter_rows(named=True)}
        xs, means, errs = [], [], [[], []]
        for i, cat in enumerate(categories):
            if cat not in rows:
                continue
            r = rows[cat]
            xs.append(i - 0.4 + width * (j + 0.5))
            means.append(r["mean"] * scale)
            lo = r["ci_low"] if r["ci_low"] is not None else float("nan")
            hi = r["ci_high"] if r["ci_high"] is not None else float("nan")
            errs[0].append(abs(r["mean"] - lo) * scale if lo == lo else 0.0)
            errs[1].append(abs(hi - r["mean"]) * scale if hi == hi else 0.0)
        ax.bar(xs, means, width=width * 0.95, color=ctx.colour(scenario))
        ax.errorbar(xs, means, yerr=errs, fmt="none", ecolor="0.15", capsize=2, linewidth=0.9)
    ax.axhline(0, color="0.2", linewidth=0.8)


def _unit_of_difference(kpi: str) -> str:
    if kpi in POINTS:
        return "percentage points"
    if kpi in MILLIONS:
        return "DKK million"
    return MEASURES[kpi].unit if kpi in MEASURES else ""


def paired_differences(kpis: pl.DataFrame, out: Path, ctx: Context) -> Drawn | None:
    """Each headline KPI's paired difference (scenario − the first) with its CI, in the
    KPI's natural unit: the figure that answers "does it change?" directly."""
    if len(ctx.scenarios) < 2:
        return None
    comp = comparison(whole_window(kpis), ctx.scenarios, [k for k, _, _ in HEADLINE]).filter(
        pl.col("diff").is_not_null()
    )
    if comp.height == 0:
        return None
    names = list(dict.fromkeys(comp["kpi"].to_list()))
    others = [s for s in ctx.scenarios[1:] if s in comp["scenario"].to_list()]
    fig, axes = _grid(len(names), 4, panel=(3.2, 0.5 + 0.35 * len(others)))
    for ax, kpi in zip(axes, names):
        scale = 100.0 if kpi in POINTS else (1e-6 if kpi in MILLIONS else 1.0)
        part = comp.filter(pl.col("kpi") == kpi)
        for i, scenario in enumerate(others):
            r = part.filter(pl.col("scenario") == scenario).row(0, named=True)
            d = r["diff"] * scale
            lo, hi = r["diff_low"], r["diff_high"]
            err = None if lo is None or lo != lo else [[d - lo * scale], [hi * scale - d]]
            ax.errorbar(
                d, -i, xerr=err, fmt="o", color=ctx.colour(scenario), capsize=3, markersize=4
            )
        ax.axvline(0, color="0.3", linewidth=0.8)
        ax.set_yticks([])
        ax.set_ylim(-len(others) + 0.4, 0.6)
        ax.set_title(label(kpi), fontsize=8, loc="left")
        ax.set_xlabel(_unit_of_difference(kpi), fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
        lim = max(abs(v) for v in ax.get_xlim())
        ax.set_xlim(-lim, lim)  # zero in the middle: left is less, right is more
    title = f"Paired differences, {' / '.join(others)} − {ctx.scenarios[0]}"
    fig.suptitle(title, fontweight="bold")
    _legend(fig, ctx, others)
    data = comp.select("kpi", "scenario", "diff", "diff_low", "diff_high")
    return _save(
        fig,
        out,
        "paired_differences",
        ctx,
        data,
        title,
        f"Change in each headline KPI when moving from {ctx.scenarios[0]} to "
        f"{' / '.join(others)} over the reporting window (national), as the mean paired "
        "difference over replications (common random numbers) with its Student-t 95% CI. "
        "Rates in percentage points, costs in DKK million. A CI that does not cross the zero "
        "line is a change the replications resolve; overlapping per-scenario CIs elsewhere "
        "do not mean 'no effect'.",
        f"Forest plot of paired differences with 95% confidence intervals for {len(names)} "
        "KPIs, one panel each, zero line in the middle.",
    )


def readmission_by_group(kpis: pl.DataFrame, out: Path, ctx: Context) -> Drawn | None:
    frames = []
    for group in GROUP_LABELS:
        per = whole_window(kpis, "national", group).drop_nulls("readmission_rate_30d")
        if per.height:
            frames.append(
                ci_table(per, ["scenario"], "readmission_rate_30d").with_columns(
                    pl.lit(group).alias("group")
                )
            )
    if not frames:
        return None
    ci = pl.concat(frames)
    groups = [g for g in GROUP_LABELS if g in ci["group"].to_list()]
    fig, ax = plt.subplots(figsize=(9, 4.2), layout="constrained")
    _bars(ax, ci, ctx, "group", groups, scale=100.0)
    ax.set_xticks(range(len(groups)), [GROUP_LABELS[g] for g in groups], rotation=20, ha="right")
    ax.set(xlabel="", ylabel="readmissions per 100 discharges (%)")
    title = "30-day readmission rate by patient group"
    fig.suptitle(title, fontweight="bold")
    _legend(fig, ctx, ctx.scenarios)
    return _save(
        fig,
        out,
        "readmission_by_group",
        ctx,
        ci.select("group", "scenario", "mean", "ci_low", "ci_high", "clipped", "n"),
        title,
        "30-day readmission rate (readmissions per 100 discharges) over the reporting window, "
        "nationally, by patient group and scenario; error bars are 95% CIs over replications "
        "(cut at 0 where they would go below). For the difference between scenarios see the "
        "paired-difference figure.",
        "Grouped bar chart of the 30-day readmission rate per patient group, one bar per "
        "scenario, with 95% confidence intervals.",
    )


def hospital_over_time(kpis: pl.DataFrame, out: Path, ctx: Context) -> Drawn | None:
    df = kpis.filter((pl.col("area_level") == "region_reform") & (pl.col("group") == "all"))
    if df.height == 0:
        return None
    df = df.with_columns((pl.col("hospital_bed_days") / pl.col("period_days")).alias("beds"))
    periods = _ordered_periods(df)
    areas = list(dict.fromkeys(df.sort("area")["area"].to_list()))
    measures = (
        ("beds", "Hospital beds occupied", "beds occupied (mean per day)"),
        ("delayed_discharge_days", "Delayed-discharge bed-days", "bed-days per period"),
    )
    if len(areas) == 1:  # one region: the two measures side by side
        fig, axes = _grid(2, 2)
    else:
        fig, axes = _grid(len(measures) * len(areas), len(areas), rows_of=len(measures))
    data = []
    for m, (col, title, ylabel) in enumerate(measures):
        ci = ci_table(df, ["scenario", "area", "period"], col)
        data.append(ci.with_columns(pl.lit(col).alias("measure")))
        for a, area in enumerate(areas):
            ax = axes[m * len(areas) + a]
            _bands(ax, ci.filter(pl.col("area") == area), ctx, periods)
            _reform_line(ax, ctx, periods)
            ax.set_title(f"{title} — {area}", fontsize=8, loc="left")
            ax.set_ylabel(ylabel if a == 0 or len(areas) == 1 else "")
            ax.set_ylim(bottom=0)
    title = "Hospital beds and delayed discharges by region (reform regions)"
    fig.suptitle(title, fontweight="bold")
    _legend(fig, ctx, ctx.scenarios, _reform_handle(ctx))
    return _save(
        fig,
        out,
        "hospital_over_time",
        ctx,
        pl.concat(data).select(
            "measure", "area", "period", "scenario", "mean", "ci_low", "ci_high"
        ),
        title,
        "Per reporting period and region (the reform's regions): mean hospital beds occupied "
        "per day (top) and delayed-discharge bed-days (bottom), lines = scenario means, bands "
        "= 95% CIs over replications; the dashed line marks the start of the period in which "
        "the reform takes effect.",
        f"Line charts over {len(periods)} periods for {len(areas)} region(s), one colour per "
        "scenario with shaded confidence bands, and a dashed vertical reform-start line.",
    )


def care_near_home(kpis: pl.DataFrame, out: Path, ctx: Context) -> Drawn | None:
    df = kpis.filter((pl.col("area_level") == "national") & (pl.col("group") == "all"))
    if df.height == 0:
        return None
    periods = _ordered_periods(df)
    services = ("sop_admissions", "home_treatment_episodes")
    fig, axes = _grid(len(services), 2)
    data = []
    for ax, col in zip(axes, services):
        ci = ci_table(df, ["scenario", "period"], col)
        data.append(ci.with_columns(pl.lit(col).alias("measure")))
        _bands(ax, ci, ctx, periods)
        _reform_line(ax, ctx, periods)
        ax.set_title(label(col), fontsize=9, loc="left")
        ax.set_ylabel("per period (national)")
        ax.set_ylim(bottom=0)
    title = "Care near home"
    fig.suptitle(title, fontweight="bold")
    _legend(fig, ctx, ctx.scenarios, _reform_handle(ctx))
    return _save(
        fig,
        out,
        "care_near_home",
        ctx,
        pl.concat(data).select("measure", "period", "scenario", "mean", "ci_low", "ci_high"),
        title,
        "Intermediate-care admissions and home-treatment episodes per reporting period, "
        "nationally; lines = scenario means, bands = 95% CIs over replications, dashed line = "
        "reform start.",
        "Two line charts over time, one colour per scenario with confidence bands.",
    )


def costs_by_payer(kpis: pl.DataFrame, out: Path, ctx: Context) -> Drawn | None:
    per = whole_window(kpis)
    cols = [c for c in PAYER_COLUMNS if c in per.columns]
    if not cols:
        return None
    comp = comparison(per, ctx.scenarios, cols)
    fig, axes = _grid(len(cols), len(cols), panel=(2.3, 3.0))
    for ax, col in zip(axes, cols):
        _bars(ax, comp.filter(pl.col("kpi") == col), ctx, "kpi", [col], scale=1e-6)
        ax.set_xticks([])
        ax.set_title(PAYER_COLUMNS[col], fontsize=9, loc="left")
    axes[0].set_ylabel("DKK million (reporting window)")
    title = "Net cost by payer"
    fig.suptitle(title, fontweight="bold")
    _legend(fig, ctx, ctx.scenarios)
    return _save(
        fig,
        out,
        "costs_by_payer",
        ctx,
        comp.select(
            "kpi", "scenario", "mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high"
        ),
        title,
        "Net cost of each payer over the reporting window (what it pays minus what it "
        "receives, DKK million), and the resource cost of all activity, capacity provided, "
        "packages and investment, whoever pays; one panel per payer "
        "on its own scale so that small payers (citizens) stay visible; error bars are 95% CIs "
        "over replications.",
        f"{len(cols)} bar-chart panels, one per payer, one bar per scenario with 95% "
        "confidence intervals.",
    )


def councils_small_multiples(kpis: pl.DataFrame, out: Path, ctx: Context) -> Drawn | None:
    df = kpis.filter((pl.col("area_level") == "council") & (pl.col("group") == "all")).drop_nulls(
        "readmission_rate_30d"
    )
    if df.height == 0:
        return None
    periods = _ordered_periods(df)
    ci = ci_table(df, ["scenario", "area", "period"], "readmission_rate_30d")
    areas = sorted(ci["area"].unique().to_list())
    cols = 4 if len(areas) > 6 else 3
    fig, axes = _grid(len(areas), cols, panel=(3.4, 2.5) if len(areas) > 1 else (6.0, 3.5))
    for i, (ax, area) in enumerate(zip(axes, areas)):
        _bands(ax, ci.filter(pl.col("area") == area), ctx, periods, scale=100.0)
        _reform_line(ax, ctx, periods)
        ax.set_title(area, fontsize=8, loc="left")
        ax.set_ylabel("readmissions per 100 discharges (%)" if i % cols == 0 else "")
        ax.set_ylim(bottom=0)
    title = "30-day readmission rate by health council"
    fig.suptitle(title, fontweight="bold")
    _legend(fig, ctx, ctx.scenarios, _reform_handle(ctx))
    return _save(
        fig,
        out,
        "councils_readmission",
        ctx,
        ci.select("area", "period", "scenario", "mean", "ci_low", "ci_high", "clipped"),
        title,
        "30-day readmission rate (%) per reporting period in each health council; lines = "
        "scenario means, bands = 95% CIs over replications (cut at 0), dashed line = reform "
        "start.",
        f"Small multiples: {len(areas)} line chart(s), one per health council, one colour per "
        "scenario.",
    )


def lever_waterfall(decomposition: pl.DataFrame, out: Path, ctx: Context) -> Drawn | None:
    """Single-lever effects, the interaction (measured all-levers − their sum) and the
    measured all-levers effect with its CI: the bars add up to the measured total."""
    d = decomposition.filter(pl.col("kpi") == "readmissions_30d")
    singles = d.filter(~pl.col("lever").is_in(["all-levers", "interaction"]))
    total = d.filter(pl.col("lever") == "all-levers")
    if singles.height == 0 or total.height == 0:
        return None
    everything = total.row(0, named=True)
    interaction = everything["effect"] - sum(singles["effect"].to_list())
    fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
    running = 0.0
    names = singles["lever"].to_list()
    for i, r in enumerate(singles.iter_rows(named=True)):
        colour = sns.color_palette("colorblind")[2 if r["effect"] < 0 else 3]
        ax.bar(i, r["effect"], bottom=running, color=colour)
        if r["ci_low"] is not None and r["ci_low"] == r["ci_low"]:
            top = running + r["effect"]
            ax.errorbar(
                i,
                top,
                yerr=[[r["effect"] - r["ci_low"]], [r["ci_high"] - r["effect"]]],
                fmt="none",
                ecolor="0.15",
                capsize=2,
                linewidth=0.8,
            )
        running += r["effect"]
    n = len(names)
    ax.bar(n, interaction, bottom=running, color="0.75", hatch="//", edgecolor="0.4")
    ax.bar(n + 1, everything["effect"], color="0.35")
    if everything["ci_low"] is not None and everything["ci_low"] == everything["ci_low"]:
        ax.errorbar(
            n + 1,
            everything["effect"],
            yerr=[
                [everything["effect"] - everything["ci_low"]],
                [everything["ci_high"] - everything["effect"]],
            ],
            fmt="none",
            ecolor="0.15",
            capsize=3,
        )
    ax.set_xticks(
        range(n + 2),
        [*names, "interaction", "all levers (measured)"],
        rotation=30,
        ha="right",
    )
    ax.axhline(0, color="0.2", linewidth=0.8)
    ax.set_ylabel("change in 30-day readmissions vs the start")
    title = "What each lever carries: change in 30-day readmissions"
    fig.suptitle(title, fontweight="bold")
    data = pl.concat(
        [
            singles.select("lever", "effect", "ci_low", "ci_high"),
            pl.DataFrame(
                {
                    "lever": ["interaction", "all-levers"],
                    "effect": [interaction, everything["effect"]],
                    "ci_low": [None, everything["ci_low"]],
                    "ci_high": [None, everything["ci_high"]],
                },
                schema={
                    "lever": pl.String,
                    "effect": pl.Float64,
                    "ci_low": pl.Float64,
                    "ci_high": pl.Float64,
                },
            ),
        ]
    )
    return _save(
        fig,
        out,
        "lever_waterfall",
        ctx,
        data,
        title,
        "Each lever switched on alone: its paired effect on 30-day readmissions over the "
        "reporting window (error bars: 95% CIs), stacked; the hatched bar is the interaction "
        "(the measured all-levers effect minus the sum of single-lever effects) and the last "
        "bar the measured effect of all levers together with its CI.",
        f"Waterfall chart of {n} single-lever effects, an interaction bar and the measured "
        "all-levers bar.",
    )


def _incremental(analysis: pl.DataFrame) -> pl.DataFrame:
    """Per scenario and parameter draw: readmissions avoided and extra cost vs the baseline."""
    return (
        analysis.filter(
            pl.col("diff").is_not_null()
            & pl.col("kpi").is_in(["readmissions_30d", "cost_total_dkk"])
        )
        .pivot(on="kpi", index=["scenario", "draw"], values="diff")
        .select(
            "scenario",
            "draw",
            (-pl.col("readmissions_30d")).alias("avoided"),
            (pl.col("cost_total_dkk") / 1e6).alias("extra_cost_m"),
        )
    )


def cost_effect(analysis: pl.DataFrame, out: Path, ctx: Context) -> Drawn | None:
    """Each parameter draw as a point (readmissions avoided, extra cost), and the
    acceptability curve: the share of draws where the scenario is worth it at a price λ
    per readmission avoided (net benefit λ·avoided − extra cost > 0)."""
    inc = _incremental(analysis)
    if inc.height < 2 or inc["draw"].n_unique() < 2:
        return None
    df = inc.to_pandas()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    for scenario, part in df.groupby("scenario", sort=False):
        left.scatter(part["avoided"], part["extra_cost_m"], color=ctx.colour(scenario), s=14)
    left.axhline(0, color="0.3", linewidth=0.8)
    left.axvline(0, color="0.3", linewidth=0.8)
    left.set(
        title="Cost and effect per parameter draw",
        xlabel="30-day readmissions avoided (reporting window)",
        ylabel="extra total cost (DKK million)",
    )
    ratios = (df["extra_cost_m"] * 1e6 / df["avoided"].where(df["avoided"] > 0)).abs().dropna()
    top = max(float(ratios.quantile(0.9)) * 2 if len(ratios) else 0.0, 100_000.0)
    lambdas = [top * i / 100 for i in range(101)]
    for scenario, part in df.groupby("scenario", sort=False):
        share = [
            ((lam * part["avoided"] - part["extra_cost_m"] * 1e6) > 0).mean() for lam in lambdas
        ]
        right.plot([lam / 1000 for lam in lambdas], share, color=ctx.colour(scenario))
    right.set(
        title="Cost-effectiveness acceptability curve",
        ylim=(-0.02, 1.02),
        xlabel="willingness to pay per readmission avoided (DKK thousand)",
        ylabel="share of draws with positive net benefit",
    )
    fig.suptitle("Cost and effect over parameter draws", fontweight="bold")
    _legend(fig, ctx, list(dict.fromkeys(df["scenario"])))
    return _save(
        fig,
        out,
        "cost_effect",
        ctx,
        inc,
        "Cost and effect over parameter draws",
        "Left: each parameter draw's mean paired difference vs the baseline scenario, 30-day "
        "readmissions avoided against extra total cost (DKK million). Right: the "
        "cost-effectiveness acceptability curve, the share of draws with positive net benefit "
        "at each willingness to pay per readmission avoided.",
        f"Scatter plot of {inc.height} draws and an acceptability curve per scenario.",
    )


def tornado(
    analysis: pl.DataFrame, draws: list[dict[str, float]], out: Path, ctx: Context
) -> Drawn | None:
    """How far the effect on readmissions moves when one parameter goes from its 10th to its
    90th percentile over the draws, the others at their means (a linear metamodel fitted to
    the draws: enough for ranking, and says so)."""
    inc = _incremental(analysis)
    names = sorted({k for d in draws for k in d})
    if not names or inc.height == 0:
        return None
    scenario = inc["scenario"][0]
    part = inc.filter(pl.col("scenario") == scenario).sort("draw")
    if part.height <= len(names) + 1:
        return None  # too few draws to fit one slope per parameter
    x = np.array([[draws[d].get(n, np.nan) for n in names] for d in part["draw"]], dtype=float)
    y = -part["avoided"].to_numpy()  # change in readmissions vs baseline
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    centre = float(design.mean(axis=0) @ coef)
    lo, hi = np.percentile(x, 10, axis=0), np.percentile(x, 90, axis=0)
    swings = sorted(
        (
            (n, coef[i + 1] * (lo[i] - x[:, i].mean()), coef[i + 1] * (hi[i] - x[:, i].mean()))
            for i, n in enumerate(names)
        ),
        key=lambda r: abs(r[2] - r[1]),
    )
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(names) + 2), layout="constrained")
    for row, (_name, at_lo, at_hi) in enumerate(swings):
        ax.barh(
            row,
            at_lo,
            left=centre,
            color=sns.color_palette()[0],
            label="at the 10th percentile" if row == 0 else None,
        )
        ax.barh(
            row,
            at_hi,
            left=centre,
            color=sns.color_palette()[3],
            label="at the 90th percentile" if row == 0 else None,
        )
    ax.axvline(centre, color="0.2", linewidth=0.8)
    ax.set_yticks(range(len(swings)), [n for n, _, _ in swings], fontsize=8)
    ax.set(
        title=f"Tornado: what moves the effect of {scenario} on 30-day readmissions",
        xlabel=f"change in readmissions vs baseline (linear fit over {part.height} draws)",
    )
    fig.legend(frameon=False, fontsize=8, loc="outside lower center", ncols=2)
    data = pl.DataFrame(
        {
            "parameter": [n for n, _, _ in swings],
            "at_p10": [float(lo) for _, lo, _ in swings],
            "at_p90": [float(hi) for _, _, hi in swings],
            "centre": [centre] * len(swings),
        }
    )
    return _save(
        fig,
        out,
        "tornado",
        ctx,
        data,
        f"Tornado: effect of {scenario} on 30-day readmissions",
        "How far the paired effect on 30-day readmissions moves when one parameter goes from "
        "its 10th to its 90th percentile over the draws, the others at their means (a linear "
        "metamodel over the draws: enough for ranking).",
        f"Horizontal tornado bars for {len(swings)} parameters, widest at the top.",
    )


def calibration_fit(fit: pl.DataFrame) -> plt.Figure:
    """Each target's interval and the model's mean with its 95% CI, as a ratio to the target
    (sektorsim calibrate's fit.png and the validation report)."""
    from sim.measures import TARGET_LABELS

    _style()
    rows = fit.filter(pl.col("model_mean").is_not_null())
    fig, ax = plt.subplots(figsize=(9, 0.55 * rows.height + 1.8))
    for i, r in enumerate(rows.iter_rows(named=True)):
        v = r["target_value"]
        ax.plot(
            [r["target_low"] / v, r["target_high"] / v],
            [i, i],
            color="0.75",
            linewidth=8,
            solid_capstyle="butt",
            label="target interval" if i == 0 else None,
        )
        lo, hi = r["model_low"], r["model_high"]
        err = (
            None
            if lo is None or lo != lo
            else [[(r["model_mean"] - lo) / v], [(hi - r["model_mean"]) / v]]
        )
        ax.errorbar(
            r["model_mean"] / v,
            i,
            xerr=err,
            fmt="o",
            color="C0" if r["inside"] else "C3",
            label="model, 95% CI" if i == 0 else None,
        )
    labels = [
        f"{r['target']}: {TARGET_LABELS.get(r['measure'], r['measure'])}"
        + (f" ({r['group']})" if r["group"] != "all" else "")
        for r in rows.iter_rows(named=True)
    ]
    ax.set_yticks(range(rows.height), labels, fontsize=8)
    ax.axvline(1.0, color="0.3", linewidth=0.8)
    ax.set(title="Calibration: model vs targets", xlabel="value / target value")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    fig.text(
        0.0,
        -0.02,
        "Grey: the target's stated interval. Red: the model misses it.",
        fontsize=8,
        color="0.35",
        transform=fig.transFigure,
    )
    return fig


def practice_targets() -> dict[str, float]:
    """The published deciles of practices' 65+ readmission (configs/denmark/targets.yaml)."""
    from ruamel.yaml import YAML

    from sim.config.shipped import shipped_root

    path = shipped_root() / "configs" / "denmark" / "targets.yaml"
    if not path.is_file():
        return {}
    targets = YAML(typ="safe").load(path.read_text(encoding="utf-8")).get("targets", {})
    return {
        key: float(t["value"])
        for key, t in targets.items()
        if key in ("practice_readmission_p10", "practice_readmission_p90")
    }


def practice_readmission(practices: pl.DataFrame, out: Path, ctx: Context) -> Drawn | None:
    """The distribution of practices' observed annual 65+ readmission rates per scenario,
    with the published best and worst deciles."""
    from sim.outputs.practices import practice_years, readmission_spread

    per_year = practice_years(practices)
    if per_year.height == 0:
        return None
    per_year = per_year.with_columns(
        (100.0 * pl.col("readmissions_30d") / pl.col("discharges")).alias("rate")
    )
    spread = readmission_spread(practices)
    fig, (ax,) = _grid(1, 1, panel=(6.4, 3.4))
    top = float(per_year["rate"].quantile(0.995) or 50.0)
    bins = np.linspace(0.0, max(top, 30.0), 41)
    for scenario in ctx.scenarios:
        rates = per_year.filter(pl.col("scenario") == scenario)["rate"].to_numpy()
        if rates.size == 0:
            continue
        ax.hist(
            rates,
            bins=bins,
            histtype="step",
            linewidth=1.6,
            color=ctx.colour(scenario),
            density=True,
        )
        sp = spread.filter(pl.col("scenario") == scenario)
        for q in ("p10", "p90"):
            ax.axvline(
                100.0 * float(sp[q].mean()),
                color=ctx.colour(scenario),
                linewidth=1.0,
                linestyle=":",
            )
    published = practice_targets()
    lo, hi = published.get("practice_readmission_p10"), published.get("practice_readmission_p90")
    extra = []
    if lo is not None and hi is not None:
        ax.axvspan(0, 100.0 * lo, color="0.85", zorder=0)
        ax.axvspan(100.0 * hi, bins[-1], color="0.85", zorder=0)
        extra = [
            plt.Rectangle(
                (0, 0), 1, 1, color="0.85", label="published best / worst decile (target)"
            )
        ]
    ax.set_xlim(0, bins[-1])
    ax.set_xlabel("30-day readmission of the practice's patients 65+ in a year (%)")
    ax.set_ylabel("density of practices")
    title = "30-day readmission rate across general practices"
    fig.suptitle(title, fontweight="bold")
    _legend(fig, ctx, ctx.scenarios, extra)
    table = spread.group_by("scenario", maintain_order=True).agg(
        pl.col("p10").mean(),
        pl.col("p50").mean(),
        pl.col("p90").mean(),
        pl.col("mean").mean(),
        pl.col("discharges_per_practice").mean(),
        pl.col("practices").mean(),
    )
    return _save(
        fig,
        out,
        "practices_readmission",
        ctx,
        table,
        title,
        "Observed 30-day readmission rate of each general practice's patients aged 65+ per "
        "calendar year (every replication and complete year pooled; a run shorter than a year: "
        "its whole window; the binomial noise of "
        "small practices included, as in the published indicator); dotted lines = the "
        "scenario's 10th and 90th percentiles; grey = beyond the published best decile "
        "(< 11 %) and worst decile (> 22 %) of 2018 (configs/denmark/targets.yaml).",
        "Histogram outlines, one per scenario, of practices' annual readmission rates.",
    )


def equity_councils(equity: pl.DataFrame, out: Path, ctx: Context) -> Drawn | None:
    """Who gains and who loses: each council's paired difference in admissions per 1,000."""
    measure = "admissions_per_1000_year"
    df = equity.filter(
        (pl.col("kind") == "difference") & (pl.col("measure") == measure) & (pl.col("draw") == 0)
    )
    if df.height == 0:
        return None
    others = list(dict.fromkeys(df["scenario"].to_list()))
    fig, axes = _grid(len(others), 2, panel=(5.0, 0.22 * df["area"].n_unique() + 1.2))
    for ax, other in zip(axes, others):
        part = df.filter(pl.col("scenario") == other).sort("value")
        y = np.arange(part.height)
        x = part["value"].to_numpy()
        lo, hi = part["ci_low"].to_numpy(), part["ci_high"].to_numpy()
        has_ci = ~np.isnan(lo)
        ax.errorbar(
            x,
            y,
            xerr=np.where(has_ci, [x - lo, hi - x], 0.0),
            fmt="o",
            color=ctx.colour(other),
            markersize=3,
            linewidth=1,
        )
        ax.axvline(0.0, color="0.3", linewidth=0.8)
        ax.set_yticks(y, part["area"].to_list(), fontsize=7)
        ax.set_xlabel(f"admissions per 1,000 a year, {other} − {part['baseline'][0]}")
        better = int(((hi < 0) & has_ci).sum())
        worse = int(((lo > 0) & has_ci).sum())
        ax.set_title(f"{better} councils better off, {worse} worse off", fontsize=8, loc="left")
    title = "Who gains: change in admissions per 1,000 by health council"
    fig.suptitle(title, fontweight="bold")
    return _save(
        fig,
        out,
        "equity_councils",
        ctx,
        df.select("scenario", "baseline", "area", "value", "ci_low", "ci_high", "replications"),
        title,
        "Paired difference (scenario − baseline) in acute admissions per 1,000 patients a "
        "year over the reporting window, per health council, with 95% CIs over "
        "replications; a council is better (worse) off when its interval lies wholly below "
        "(above) 0. The spread of rates across municipalities, councils and practices is in "
        "equity.parquet.",
        "Dot plot with error bars, one row per health council, sorted by the difference.",
    )


FIGURES: tuple[Callable, ...] = (
    paired_differences,
    readmission_by_group,
    hospital_over_time,
    care_near_home,
    costs_by_payer,
    councils_small_multiples,
)


def reform_date(manifest: dict) -> dt.date | None:
    """The earliest reform date of a scenario with any lever on (None if none)."""
    dates = [
        dt.date.fromisoformat(str(s["config"]["regime"]["reform_date"]))
        for s in manifest.get("scenarios", [])
        if any(s["config"].get("regime", {}).get("levers", {}).values())
    ]
    return min(dates) if dates else None


def context(manifest: dict, source: str, formats: tuple[str, ...] = FORMATS) -> Context:
    scenarios = tuple(dict.fromkeys(s["name"] for s in manifest["scenarios"]))
    first = manifest["scenarios"][0]["config"].get("simulation", {})
    return Context(
        source=source,
        scenarios=scenarios,
        reform_date=reform_date(manifest),
        period=first.get("period", "quarter"),
        formats=formats,
        replications=manifest.get("replications", 0),
    )


def figure_jobs(
    run_dir: Path, ctx: Context, draws: list[dict[str, float]]
) -> list[Callable[[], Drawn | None]]:
    """One call per figure the run's tables support, in the report's order, with the
    figures' style set.

    Every table is read (and checked) here, before any figure is drawn, so a damaged run
    directory gets an error and no half-filled figures/.
    """
    kpis = read_parquet(run_dir / "kpis.parquet").filter(pl.col("draw") == 0)
    decomposition = run_dir / "decomposition.parquet"
    levers = read_parquet(decomposition) if decomposition.is_file() else None
    practices_file, equity_file = run_dir / "practices.parquet", run_dir / "equity.parquet"
    practices = (
        read_parquet(practices_file).filter(pl.col("draw") == 0)
        if practices_file.is_file()
        else None
    )
    equity = read_parquet(equity_file) if equity_file.is_file() else None
    analysis = run_dir / "analysis.parquet"
    table = read_parquet(analysis) if analysis.is_file() and len(draws) > 1 else None
    _style()
    out = run_dir / "figures"
    present = tuple(s for s in ctx.scenarios if s in set(kpis["scenario"].to_list()))
    extra = tuple(s for s in dict.fromkeys(kpis["scenario"].to_list()) if s not in present)
    from dataclasses import replace

    ctx = replace(ctx, scenarios=present + extra)
    jobs: list[Callable[[], Drawn | None]] = [partial(f, kpis, out, ctx) for f in FIGURES]
    if practices is not None:
        jobs.append(partial(practice_readmission, practices, out, ctx))
    if equity is not None:
        jobs.append(partial(equity_councils, equity, out, ctx))
    if levers is not None:
        jobs.append(partial(lever_waterfall, levers, out, ctx))
    if table is not None:
        jobs += [partial(cost_effect, table, out, ctx), partial(tornado, table, draws, out, ctx)]
    return jobs


def make_figures(
    run_dir: Path,
    ctx: Context,
    draws: list[dict[str, float]],
    quiet: bool = False,
    drawer: Drawer | None = None,
) -> list[Drawn]:
    """Draw every figure the run's tables support into RUN_DIR/figures/ (a progress bar on
    a terminal unless `quiet`: a national report takes several seconds), sharing them
    with DRAWER's process if given (the same bytes either way)."""
    jobs = figure_jobs(run_dir, ctx, draws)
    (run_dir / "figures").mkdir(exist_ok=True)
    with task_bar("figures", len(jobs), quiet) as advance:
        if drawer is None:
            made = []
            for job in jobs:
                made.append(job())
                advance()
        else:
            made = drawer.share(jobs, partial(figure_jobs, run_dir, ctx, draws), advance)
    return [p for p in made if p is not None]
