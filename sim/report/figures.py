"""Figures of a run directory (seaborn/matplotlib), one function per figure.

Every figure: title, axis labels with units, 95% confidence intervals over replications
where it shows an estimate, and a source line naming the run. Functions return the path
written, or None when the run has nothing to show for that figure.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen
import matplotlib.pyplot as plt
import numpy as np
import polars as pl
import seaborn as sns

from sim.files import read_parquet
from sim.outputs.summary import whole_window

PAYER_COLUMNS = {
    "cost_region_dkk": "Regions",
    "cost_municipality_dkk": "Municipalities",
    "cost_citizen_dkk": "Citizens",
    "cost_state_dkk": "State grants",
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


def _style() -> None:
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    plt.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight", "axes.titleweight": "bold"})


def _save(fig: plt.Figure, out: Path, name: str, source: str, formats: tuple[str, ...]) -> Path:
    fig.text(
        0.0, -0.09, source, fontsize=8, color="0.35", ha="left", va="top", transform=fig.transFigure
    )
    for ext in formats:
        fig.savefig(out / f"{name}.{ext}")
    plt.close(fig)
    return out / f"{name}.png"


def readmission_by_group(
    kpis: pl.DataFrame, out: Path, source: str, formats=("png",)
) -> Path | None:
    rows = []
    for group in GROUP_LABELS:
        per = whole_window(kpis, "national", group)
        rows.append(
            per.select(
                "scenario",
                "replication",
                pl.lit(GROUP_LABELS[group]).alias("group"),
                (pl.col("readmission_rate_30d") * 100).alias("rate"),
            )
        )
    df = pl.concat(rows).drop_nulls("rate").to_pandas()
    if df.empty:
        return None
    fig, ax = plt.subplots(figsize=(9, 4.5))
    sns.barplot(df, x="group", y="rate", hue="scenario", errorbar=("ci", 95), capsize=0.1, ax=ax)
    ax.set(
        title="30-day readmission rate by patient group",
        xlabel="",
        ylabel="readmissions per 100 discharges (%)",
    )
    ax.tick_params(axis="x", rotation=20)
    ax.legend(title="scenario", frameon=False)
    return _save(fig, out, "readmission_by_group", source, formats)


def hospital_over_time(kpis: pl.DataFrame, out: Path, source: str, formats=("png",)) -> Path | None:
    df = (
        kpis.filter((pl.col("area_level") == "region_reform") & (pl.col("group") == "all"))
        .select(
            "scenario",
            "replication",
            "period",
            "area",
            (pl.col("hospital_bed_days") / pl.col("period_days")).alias(
                "beds occupied (mean per day)"
            ),
            "delayed_discharge_days",
        )
        .to_pandas()
    )
    if df.empty:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharex=True)
    for ax, col, title in (
        (axes[0], "beds occupied (mean per day)", "Hospital beds occupied"),
        (axes[1], "delayed_discharge_days", "Delayed-discharge bed-days"),
    ):
        sns.lineplot(
            df,
            x="period",
            y=col,
            hue="area",
            style="scenario",
            errorbar=("ci", 95),
            marker="o",
            ax=ax,
        )
        ax.set(
            title=f"{title}, by region",
            xlabel="quarter",
            ylabel=col if col != "delayed_discharge_days" else "bed-days per quarter",
        )
        ax.tick_params(axis="x", rotation=45)
        ax.legend(fontsize=7, frameon=False)
    return _save(fig, out, "hospital_over_time", source, formats)


def care_near_home(kpis: pl.DataFrame, out: Path, source: str, formats=("png",)) -> Path | None:
    df = (
        kpis.filter((pl.col("area_level") == "national") & (pl.col("group") == "all"))
        .select("scenario", "replication", "period", "sop_admissions", "home_treatment_episodes")
        .unpivot(
            index=["scenario", "replication", "period"],
            variable_name="service",
            value_name="per quarter",
        )
        .to_pandas()
    )
    if df.empty:
        return None
    df["service"] = df["service"].map(
        {
            "sop_admissions": "Intermediate-care admissions",
            "home_treatment_episodes": "Home-treatment episodes",
        }
    )
    grid = sns.relplot(
        df,
        x="period",
        y="per quarter",
        hue="scenario",
        col="service",
        kind="line",
        errorbar=("ci", 95),
        marker="o",
        facet_kws={"sharey": False},
        height=4,
        aspect=1.3,
    )
    grid.set_titles("{col_name}")
    grid.set_axis_labels("quarter", "per quarter (national)")
    for ax in grid.axes.flat:
        ax.tick_params(axis="x", rotation=45)
    grid.figure.suptitle("Care near home", y=1.03, fontweight="bold")
    return _save(grid.figure, out, "care_near_home", source, formats)


def costs_by_payer(kpis: pl.DataFrame, out: Path, source: str, formats=("png",)) -> Path | None:
    per = whole_window(kpis)
    cols = [c for c in PAYER_COLUMNS if c in per.columns]
    if not cols:
        return None
    means = per.group_by("scenario", maintain_order=True).agg(
        [(pl.col(c).mean() / 1e6).alias(PAYER_COLUMNS[c]) for c in cols]
    )
    pdf = means.to_pandas().set_index("scenario")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    pdf.plot(kind="bar", stacked=True, ax=ax, width=0.6)
    ax.axhline(0, color="0.2", linewidth=0.8)
    ax.set(title="Net cost by payer (reporting window)", xlabel="", ylabel="DKK million")
    ax.tick_params(axis="x", rotation=0)
    ax.legend(title="payer", frameon=False, bbox_to_anchor=(1.0, 1.0), loc="upper left")
    return _save(fig, out, "costs_by_payer", source, formats)


def councils_small_multiples(
    kpis: pl.DataFrame, out: Path, source: str, formats=("png",)
) -> Path | None:
    df = (
        kpis.filter((pl.col("area_level") == "council") & (pl.col("group") == "all"))
        .select(
            "scenario",
            "replication",
            "period",
            "area",
            (pl.col("readmission_rate_30d") * 100).alias("readmission %"),
        )
        .drop_nulls()
        .to_pandas()
    )
    if df.empty:
        return None
    n = df["area"].nunique()
    grid = sns.relplot(
        df,
        x="period",
        y="readmission %",
        hue="scenario",
        col="area",
        col_wrap=min(6, n),
        kind="line",
        errorbar=("ci", 95),
        height=2.2,
        aspect=1.2,
    )
    grid.set_titles("{col_name}", size=9)
    grid.set_axis_labels("quarter", "readmission %")
    for ax in grid.axes.flat:
        ax.tick_params(axis="x", rotation=90, labelsize=7)
    grid.figure.suptitle("30-day readmission rate by health council", y=1.02, fontweight="bold")
    return _save(grid.figure, out, "councils_readmission", source, formats)


def lever_waterfall(
    decomposition: pl.DataFrame, out: Path, source: str, formats=("png",)
) -> Path | None:
    d = decomposition.filter(pl.col("kpi") == "readmissions_30d")
    singles = d.filter(~pl.col("lever").is_in(["all-levers"]))
    if singles.height == 0:
        return None
    labels, effects = singles["lever"].to_list(), singles["effect"].to_list()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    running = 0.0
    for i, effect in enumerate(effects):
        ax.bar(i, effect, bottom=running, color=sns.color_palette()[0 if effect < 0 else 3])
        running += effect
    ax.bar(len(labels), running, color="0.4")
    ax.set_xticks(range(len(labels) + 1), [*labels, "all levers"], rotation=30, ha="right")
    ax.axhline(0, color="0.2", linewidth=0.8)
    ax.set(
        title="What each lever carries: change in 30-day readmissions",
        ylabel="readmissions vs start",
    )
    return _save(fig, out, "lever_waterfall", source, formats)


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


def cost_effect(analysis: pl.DataFrame, out: Path, source: str, formats=("png",)) -> Path | None:
    """Each parameter draw as a point (readmissions avoided, extra cost), and the
    acceptability curve: the share of draws where the scenario is worth it at a price λ
    per readmission avoided (net benefit λ·avoided − extra cost > 0)."""
    inc = _incremental(analysis)
    if inc.height < 2 or inc["draw"].n_unique() < 2:
        return None
    df = inc.to_pandas()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    sns.scatterplot(df, x="avoided", y="extra_cost_m", hue="scenario", ax=left)
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
        right.plot([lam / 1000 for lam in lambdas], share, label=scenario)
    right.set(
        title="Cost-effectiveness acceptability curve",
        ylim=(-0.02, 1.02),
        xlabel="willingness to pay per readmission avoided (DKK thousand)",
        ylabel="share of draws with positive net benefit",
    )
    right.legend(title="scenario", frameon=False)
    return _save(fig, out, "cost_effect", source, formats)


def tornado(
    analysis: pl.DataFrame, draws: list[dict[str, float]], out: Path, source: str, formats=("png",)
) -> Path | None:
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
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(names) + 2))
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
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return _save(fig, out, "tornado", source, formats)


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


FIGURES: tuple[Callable, ...] = (
    readmission_by_group,
    hospital_over_time,
    care_near_home,
    costs_by_payer,
    councils_small_multiples,
)


def make_figures(
    run_dir: Path, source: str, draws: list[dict[str, float]], formats: tuple[str, ...] = ("png",)
) -> list[Path]:
    """Draw every figure the run's tables support into RUN_DIR/figures/.

    Every table is read (and checked) before the folder is made, so a damaged run
    directory gets an error and no half-filled figures/.
    """
    kpis = read_parquet(run_dir / "kpis.parquet").filter(pl.col("draw") == 0)
    decomposition = run_dir / "decomposition.parquet"
    levers = read_parquet(decomposition) if decomposition.is_file() else None
    analysis = run_dir / "analysis.parquet"
    table = read_parquet(analysis) if analysis.is_file() and len(draws) > 1 else None
    _style()
    out = run_dir / "figures"
    out.mkdir(exist_ok=True)
    made = [f(kpis, out, source, formats) for f in FIGURES]
    if levers is not None:
        made.append(lever_waterfall(levers, out, source, formats))
    if table is not None:
        made += [
            cost_effect(table, out, source, formats),
            tornado(table, draws, out, source, formats),
        ]
    return [p for p in made if p is not None]
