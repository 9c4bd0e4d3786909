"""How much does the headline reform effect depend on the parameters we assumed?

The effect is the paired difference in the national 30-day readmission rate over the
reporting window (reform minus current, percentage points), with common random numbers
(same seed and replications for every parameter point), on a reduced national
configuration with the shipped decision rule: whole health councils at full density
(`population.scale`), so queues keep their real size. Every parameter whose evidence is an
assumption, with a scalar value and a documented range, is varied — costs included, since
the organisations weigh them — except those of a decision rule not in use: one at a time
to both ends of its range (tornado), and jointly with Morris elementary-effects screening.
Whether the Morris ranking is more than noise is measured, not assumed: the trajectories
are split in two halves and the two rankings compared (Spearman's rho).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from sim.config.evidence import rows
from sim.config.schema import Scenario
from sim.outputs.summary import whole_window
from sim.progress import Pace
from sim.run.runner import Task, load_scenario, run_tasks

SEED = 7
KPI = "readmission_rate_30d"
CURRENT = Path("configs") / "denmark" / "current.yaml"
REFORM = Path("configs") / "denmark" / "reform.yaml"
#: Rule parameters: inert unless their rule is the one configured.
RULE_PREFIXES = {"budget": "organisations.budget.", "incentive": "organisations.incentive."}
#: The parameters quick mode keeps (the ones most directly on the readmission pathway).
QUICK_PARAMETERS = (
    "episodes.post_discharge.excess_episodes",
    "settings.responsibility.resolve",
    "regime.reform.team_slots_per_1000",
    "settings.hospital.beds_per_1000",
)
#: Quick mode: four small municipalities of two councils of one region (seconds, not
#: minutes; for tests of the report, not for conclusions).
QUICK_AREA = "geography.municipalities=[Læsø, Brønderslev, Morsø, Rebild]"


@dataclass(frozen=True)
class Design:
    """Run sizes and the reduced configuration both scenarios share."""

    replications: int
    noise_replications: int
    trajectories: int
    overrides: tuple[str, ...]  # both scenarios
    reform_overrides: tuple[str, ...]  # the reform on top
    max_parameters: int | None


def design(quick: bool) -> Design:
    """Full: a sixth of the country as whole councils, two years of warm-up, the reform from
    the start of one reported year; twenty Morris trajectories, so that each half of ten
    gives a ranking to compare with the other (ten in all left the top five unsettled:
    split-half rho 0.53, two of the top five shared)."""
    reform = ("regime.reform_date=2026-01-01",)
    if quick:
        short = (QUICK_AREA, "simulation.warmup_days=365", "simulation.end=2026-07-01")
        return Design(1, 3, 2, short, reform, len(QUICK_PARAMETERS))
    reduced = ("population.scale=0.1", "simulation.warmup_days=730", "simulation.end=2027-01-01")
    return Design(1, 8, 20, reduced, reform, None)


@dataclass(frozen=True)
class Parameter:
    name: str
    value: float
    low: float
    high: float


def _varied(scenario: Scenario, name: str) -> bool:
    rule = scenario.organisations.decision_rule
    return not any(name.startswith(p) for r, p in RULE_PREFIXES.items() if r != rule)


def parameters(root: Path, quick: bool) -> list[Parameter]:
    """Assumed scalar parameters with a range (dict-valued ones and inert ones skipped)."""
    spec = load_scenario(root / CURRENT)
    out = []
    for r in rows(spec.scenario):
        if r["evidence"] != "assumption" or not r["range"] or ":" in r["value"]:
            continue
        if not _varied(spec.scenario, r["parameter"]):
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


def _rate(kpis: pl.DataFrame) -> float:
    return float(whole_window(kpis)[KPI][0])


def _effects(
    root: Path,
    points: list[dict[str, float]],
    reps: list[int],
    d: Design,
    workers: int,
    on_done: Callable[[], None] = lambda: None,
) -> list[np.ndarray]:
    """Paired reform effect (points) per replication for every parameter point, in one batch."""
    specs, tasks = [], []
    for values, n in zip(points, reps):
        sets = [f"{k}={v!r}" for k, v in values.items()]
        for path, extra in ((CURRENT, d.overrides), (REFORM, (*d.overrides, *d.reform_overrides))):
            specs.append(load_scenario(root / path, [*extra, *sets]))
            tasks.extend(Task(len(specs) - 1, r) for r in range(n))
    results = iter(
        run_tasks(
            specs, tasks, SEED, engine="numba", workers=workers, on_done=lambda t, r: on_done()
        )
    )
    out = []
    for n in reps:
        base, reform = ([_rate(next(results)[0]) for _ in range(n)] for _ in range(2))
        out.append(100.0 * (np.array(reform) - np.array(base)))
    return out


def _morris(problem: dict, x: np.ndarray, y: np.ndarray) -> list[dict]:
    from SALib.analyze import morris as ma

    si = ma.analyze(problem, x, y, num_levels=4, seed=SEED)
    rows_ = [
        {"parameter": n, "mu_star": float(m), "mu_star_conf": float(c), "sigma": float(s)}
        for n, m, c, s in zip(si["names"], si["mu_star"], si["mu_star_conf"], si["sigma"])
    ]
    return sorted(rows_, key=lambda r: -r["mu_star"])


def ranking_agreement(problem: dict, x: np.ndarray, y: np.ndarray, trajectories: int) -> dict:
    """Morris on each half of the trajectories: Spearman's rho between the two μ* rankings
    and how many of the first five agree. Noise alone gives rho near 0."""
    from scipy.stats import spearmanr

    if trajectories < 4:
        return {"rho": None, "top5_shared": None}
    per = len(x) // trajectories
    cut = (trajectories // 2) * per
    halves = [_morris(problem, x[:cut], y[:cut]), _morris(problem, x[cut:], y[cut:])]
    mu = [{r["parameter"]: r["mu_star"] for r in h} for h in halves]
    names = problem["names"]
    rho = spearmanr([mu[0][n] for n in names], [mu[1][n] for n in names]).statistic
    top = [{r["parameter"] for r in h[:5]} for h in halves]
    return {"rho": float(rho), "top5_shared": len(top[0] & top[1])}


def run_sensitivity(root: Path, quick: bool, workers: int, progress: Callable[[str], None]) -> dict:
    """OAT at both ends of each range and Morris screening, batched in one parallel run."""
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
    return {
        "kpi": KPI,
        "unit": "percentage points",
        "seed": SEED,
        "replications": d.replications,
        "trajectories": d.trajectories,
        "overrides": list(d.overrides),
        "reform_overrides": list(d.reform_overrides),
        "parameters": [p.__dict__ for p in params],
        "base_effect": base,
        "noise_se": noise_se,
        "noise_replications": d.noise_replications,
        "oat": oat,
        "morris": _morris(problem, morris_x, y),
        "ranking": ranking_agreement(problem, morris_x, y, d.trajectories),
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
        xlabel="reform effect on the 30-day readmission rate (reform − current, points)",
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
        xlabel="points (change in the reform effect over the full range)",
        title="Morris screening of the reform effect",
    )
    ax.legend(frameon=False, fontsize=8)
    return fig
