"""How much does the headline reform effect depend on the parameters we assumed?

The effect is the paired difference in national 30-day readmissions over the reporting
window, teaching-reform minus teaching, with common random numbers (same seed and
replications for every parameter point). Every parameter whose evidence is an assumption,
with a scalar value and a documented range, is varied: one at a time to both ends of its
range (tornado), and jointly with the Morris elementary-effects screening method.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from sim.config.evidence import rows
from sim.outputs.summary import whole_window
from sim.progress import Pace
from sim.run.runner import Task, load_scenario, run_tasks

SEED = 7
KPI = "readmissions_30d"
#: Not varied: costs do not change flows; organisations.* only act under the incentive and
#: budget decision rules, and the teaching configs use the fixed rule.
SKIP_PREFIXES = ("costs.", "organisations.")
#: The parameters quick mode keeps (the ones most directly on the readmission pathway).
QUICK_PARAMETERS = (
    "episodes.post_discharge.excess_episodes",
    "settings.responsibility.resolve",
    "regime.reform.team_slots_per_1000",
    "settings.hospital.beds_per_1000",
)


@dataclass(frozen=True)
class Parameter:
    name: str
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Design:
    """Run sizes: quick mode shrinks everything so the report builds in under a minute."""

    replications: int
    noise_replications: int
    trajectories: int
    baseline_overrides: tuple[str, ...]
    reform_overrides: tuple[str, ...]
    max_parameters: int | None


def design(quick: bool) -> Design:
    if quick:
        short = ("simulation.end=2026-07-01",)
        return Design(
            1, 3, 2, short, (*short, "regime.reform_date=2026-01-01"), len(QUICK_PARAMETERS)
        )
    return Design(
        8, 16, 4, (), (), None
    )  # 8 replications: an effect's noise SE near 10 readmissions


def parameters(root: Path, quick: bool) -> list[Parameter]:
    """Assumed scalar parameters with a range (dict-valued ones, costs and inert ones skipped)."""
    spec = load_scenario(root / "configs" / "teaching.yaml")
    out = []
    for r in rows(spec.scenario):
        if r["evidence"] != "assumption" or not r["range"] or ":" in r["value"]:
            continue
        if r["parameter"].startswith(SKIP_PREFIXES):
            continue
        try:
            low, high = (float(x) for x in r["range"].split("–"))
            value = float(r["value"])
        except ValueError:
            continue
        if high > low:
            out.append(Parameter(r["parameter"], value, low, high))
    if quick:
        keep = [p for name in QUICK_PARAMETERS for p in out if p.name == name]
        out = keep or out[: len(QUICK_PARAMETERS)]
    return out


def _effects(
    root: Path,
    points: list[dict[str, float]],
    reps: list[int],
    d: Design,
    workers: int,
    on_done: Callable[[], None] = lambda: None,
) -> list[np.ndarray]:
    """Paired reform effect per replication for every parameter point, all points in one batch."""
    specs, tasks = [], []
    for values, n in zip(points, reps):
        sets = [f"{k}={v!r}" for k, v in values.items()]
        for path, extra in (
            ("teaching.yaml", d.baseline_overrides),
            ("teaching-reform.yaml", d.reform_overrides),
        ):
            specs.append(load_scenario(root / "configs" / path, [*extra, *sets]))
            tasks.extend(Task(len(specs) - 1, r) for r in range(n))
    results = iter(
        run_tasks(
            specs, tasks, SEED, engine="numba", workers=workers, on_done=lambda t, r: on_done()
        )
    )
    out = []
    for n in reps:
        base, reform = (
            [float(whole_window(next(results)[0])[KPI].sum()) for _ in range(n)] for _ in range(2)
        )
        out.append(np.array(reform) - np.array(base))
    return out


def run_sensitivity(root: Path, quick: bool, workers: int, progress: Callable[[str], None]) -> dict:
    """OAT at both ends of each range and Morris screening, batched in one parallel run."""
    from SALib.analyze import morris as ma
    from SALib.sample import morris as ms

    d = design(quick)
    params = parameters(root, quick)
    problem = {
        "num_vars": len(params),
        "names": [p.name for p in params],
        "bounds": [[p.low, p.high] for p in params],
    }
    morris_x = ms.sample(problem, N=d.trajectories, num_levels=4, seed=SEED)
    points: list[dict[str, float]] = [{}]
    for p in params:
        points += [{p.name: p.low}, {p.name: p.high}]
    points += [{p.name: float(x) for p, x in zip(params, row)} for row in morris_x]
    what = f"sensitivity: {len(points)} parameter points × 2 scenarios × {d.replications} "
    progress(what + "replication(s)")
    # the base point with more replications measures the noise of an effect estimated
    # from d.replications
    reps = [d.noise_replications] + [d.replications] * (len(points) - 1)
    pace = Pace(2 * sum(reps))
    per_rep = _effects(
        root, points, reps, d, workers, lambda: progress(f"{what}replication(s), {pace.tick()}")
    )
    noise_se = float(per_rep[0].std(ddof=1) / np.sqrt(d.replications))
    effects = np.array([float(e[: d.replications].mean()) for e in per_rep])
    base = float(effects[0])
    oat = []
    for i, p in enumerate(params):
        lo, hi = float(effects[1 + 2 * i]), float(effects[2 + 2 * i])
        oat.append(
            {
                "parameter": p.name,
                "value": p.value,
                "low": p.low,
                "high": p.high,
                "effect_low": lo,
                "effect_high": hi,
                "swing": abs(hi - lo),
            }
        )
    oat.sort(key=lambda r: -r["swing"])
    y = effects[1 + 2 * len(params) :]
    si = ma.analyze(problem, morris_x, y, num_levels=4, seed=SEED)
    morris = [
        {"parameter": n, "mu_star": float(m), "mu_star_conf": float(c), "sigma": float(s)}
        for n, m, c, s in zip(si["names"], si["mu_star"], si["mu_star_conf"], si["sigma"])
    ]
    morris.sort(key=lambda r: -r["mu_star"])
    return {
        "kpi": KPI,
        "seed": SEED,
        "replications": d.replications,
        "trajectories": d.trajectories,
        "baseline_overrides": list(d.baseline_overrides),
        "reform_overrides": list(d.reform_overrides),
        "parameters": [p.__dict__ for p in params],
        "base_effect": base,
        "noise_se": noise_se,
        "noise_replications": d.noise_replications,
        "oat": oat,
        "morris": morris,
        "points": len(points),
    }


def tornado(plt, result: dict):
    """Effect at each end of each range, sorted by swing, around the base effect."""
    oat = result["oat"][::-1]
    base = result["base_effect"]
    fig, ax = plt.subplots(figsize=(9, 0.38 * len(oat) + 1.6))
    ys = np.arange(len(oat))
    for y, r in zip(ys, oat):
        ax.barh(y - 0.17, r["effect_low"] - base, left=base, color="#4c72b0", height=0.34)
        ax.barh(y + 0.17, r["effect_high"] - base, left=base, color="#dd8452", height=0.34)
    ax.axvline(base, color="0.2", lw=1)
    noise = 2 * result["noise_se"]
    ax.axvspan(base - noise, base + noise, color="0.85", zorder=0, label="±2 SE simulation noise")
    ax.set_yticks(ys, [r["parameter"] for r in oat], fontsize=8)
    ax.set(
        xlabel="reform effect on 30-day readmissions (reform − current, readmissions per window)",
        title="One-at-a-time sensitivity of the reform effect",
    )
    ax.legend(
        handles=[plt.Rectangle((0, 0), 1, 1, color=c) for c in ("#4c72b0", "#dd8452", "0.85")],
        labels=["low end of range", "high end of range", "±2 SE simulation noise"],
        frameon=False,
        loc="best",
        fontsize=8,
    )
    return fig


def morris_chart(plt, result: dict):
    df = pl.DataFrame(result["morris"])[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.38 * df.height + 1.6))
    ys = np.arange(df.height)
    ax.barh(
        ys - 0.2,
        df["mu_star"],
        height=0.4,
        xerr=df["mu_star_conf"],
        label="μ* (mean |elementary effect|)",
    )
    ax.barh(ys + 0.2, df["sigma"], height=0.4, label="σ (interaction / non-linearity)")
    ax.set_yticks(ys, df["parameter"].to_list(), fontsize=8)
    ax.set(
        xlabel="readmissions per window (change in reform effect over the full range)",
        title="Morris screening of the reform effect",
    )
    ax.legend(frameon=False, fontsize=8)
    return fig
