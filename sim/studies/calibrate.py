"""`sektorsim calibrate`: fit the uncertain parameters to published targets.

Simulated method of moments: the distance between the model's measures (mean over a
fixed set of replications, common random numbers at every point, so the objective is a
deterministic function of the parameters) and the targets, each weighted by its stated
uncertainty (the target interval read as a 95% interval). The parameters move only
inside the ranges their configs give; they are searched on the unit cube with bounded
Nelder-Mead (scipy), whose evaluations run in parallel over replications through the
batch executors (local processes or Dask).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field, model_validator
from scipy.optimize import minimize

from sim.config.evidence import walk
from sim.config.loader import load_config
from sim.config.schema import Strict
from sim.constants import DAYS_PER_YEAR
from sim.errors import ConfigError, Problem
from sim.outputs.summary import mean_ci
from sim.run.runner import ScenarioSpec, load_scenario, read_and_release, simulate_system
from sim.studies.responses import Response

Measure = Literal[
    "readmission_rate",
    "mean_stay_days",
    "hospital_occupancy",
    "admissions_per_1000_year",
    "deaths_per_1000_year",
    "delayed_discharge_days_per_year",
    "sop_mean_stay_days",
    "mortality_30d_after_admission",
    "practice_readmission_p10",
    "practice_readmission_p90",
    "not_modelled",
]
Z95 = 1.959964
DIGITS = 6  # decimals of a calibrated value


class Target(Strict):
    measure: Measure
    group: Literal["all", "copd", "diabetes", "heart", "back", "multimorbid", "other"] = "all"
    value: float
    interval: tuple[float, float] = Field(
        description="The stated uncertainty, read as a 95% interval."
    )
    confidence: Literal["H", "M", "L"]
    source: str
    why_not_modelled: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Target:
        lo, hi = self.interval
        if not lo <= self.value <= hi:
            raise ValueError(f"value {self.value} lies outside its interval [{lo}, {hi}]")
        if (self.measure == "not_modelled") != (self.why_not_modelled is not None):
            raise ValueError(
                "a target the model cannot measure needs measure: not_modelled and why_not_modelled"
            )
        return self

    @property
    def sd(self) -> float:
        return (self.interval[1] - self.interval[0]) / (2 * Z95)


class Fit(Strict):
    parameters: list[str] = Field(
        min_length=1, description="Dotted paths of parameters with an assumption range."
    )
    replications: int = Field(2, ge=1)
    seed: int = Field(ge=0)
    max_evaluations: int = Field(80, ge=1)
    set: list[str] = Field(
        default_factory=list, description="Overrides for the calibration runs, as --set."
    )


class Targets(Strict):
    name: str
    description: str = ""
    targets: dict[str, Target]
    #: natural experiments: how a measure responds to a change of settings (validation only)
    responses: dict[str, Response] = Field(default_factory=dict)
    fit: Fit


@dataclass(frozen=True)
class Parameter:
    """A parameter to fit: a scalar moves inside [low, high]; a table is scaled by a
    factor inside [low, high] (its range is a multiplier)."""

    path: str
    low: float
    high: float
    table: dict[str, float] | None
    start: float
    why: str  # the assumption the range comes from

    def values(self, x: float) -> float | dict[str, float]:
        """What the config gets at x, rounded as the calibrated file writes it, so the fit
        reported is the fit of the file."""
        if self.table is None:
            return round(x, DIGITS)
        return {k: round(v * x, DIGITS) for k, v in self.table.items()}

    def overrides(self, x: float) -> list[str]:
        value = self.values(x)
        if isinstance(value, dict):
            return [f"{self.path}.value.{k}={v!r}" for k, v in value.items()]
        return [f"{self.path}={value!r}"]

    def to_unit(self, x: float) -> float:
        return (x - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        return self.low + float(np.clip(u, 0.0, 1.0)) * (self.high - self.low)


def fit_parameters(spec: ScenarioSpec, paths: list[str], where: str) -> list[Parameter]:
    """Look up every parameter to fit; it must exist and carry an assumption with a range."""
    found = dict(walk(spec.scenario))
    out = []
    for path in paths:
        p = found.get(path)
        if p is None:
            raise ConfigError(
                [
                    Problem(
                        where, None, "fit.parameters", f"no parameter {path!r} in {spec.files[0]}"
                    )
                ]
            )
        if not (p.assumption and p.range):
            raise ConfigError(
                [
                    Problem(
                        where,
                        None,
                        "fit.parameters",
                        f"{path} is not marked uncertain (needs assumption: and range:)",
                    )
                ]
            )
        value = p.value
        table = dict(value) if isinstance(value, dict) else None
        out.append(
            Parameter(
                path,
                float(p.range[0]),
                float(p.range[1]),
                table,
                1.0 if table else float(value),
                " ".join(p.assumption.split()),
            )
        )
    return out


def system_measures(system) -> dict[tuple[str, str], float]:
    """Every measure a target can name, over the reporting window, nationally and per group."""
    from sim.flow.counters import C
    from sim.flow.inputs import GROUPS as FLOW_GROUPS
    from sim.measures import MEASURES

    periods = system.inputs.periods
    rep = [k for k, p in enumerate(periods) if p.reported]
    counts = system.engine.counts[rep].sum(axis=(0, 1))  # group × counter
    years = sum(periods[k].end - periods[k].start for k in rep) / DAYS_PER_YEAR
    bed_days = sum(
        float(system.applied[k].hospital_beds.sum()) * (periods[k].end - periods[k].start)
        for k in rep
    )
    out: dict[tuple[str, str], float] = {}
    for g, name in [(None, "all"), *enumerate(FLOW_GROUPS)]:
        c = counts.sum(axis=0) if g is None else counts[g]

        def ratio(a: str, b: str, c: np.ndarray = c) -> float:
            return float(c[C[a]] / c[C[b]]) if c[C[b]] > 0 else math.nan

        out[("readmission_rate", name)] = ratio(*MEASURES["readmission_rate_30d"].ratio)
        out[("mean_stay_days", name)] = ratio(*MEASURES["mean_stay_days"].ratio)
        out[("sop_mean_stay_days", name)] = ratio(*MEASURES["sop_mean_stay_days"].ratio)
        out[("mortality_30d_after_admission", name)] = ratio(
            *MEASURES["mortality_30d_after_admission"].ratio
        )
        out[("admissions_per_1000_year", name)] = (
            ratio("admissions", "person_days") * DAYS_PER_YEAR * 1000
        )
        out[("deaths_per_1000_year", name)] = ratio("deaths", "person_days") * DAYS_PER_YEAR * 1000
        out[("delayed_discharge_days_per_year", name)] = (
            float(c[C["delayed_discharge_days"]]) / years
        )
        out[("hospital_occupancy", name)] = (
            float(c[C["hospital_bed_days"]]) / bed_days if g is None else math.nan
        )
    p10, p90 = practice_spread(system)
    out[("practice_readmission_p10", "all")] = p10
    out[("practice_readmission_p90", "all")] = p90
    return out


def practice_spread(system) -> tuple[float, float]:
    """p10 and p90 across general practices of their observed annual 30-day readmission
    rates of the 65+ (complete calendar years of the reporting window, averaged over the
    years), as `sim.outputs.practices.readmission_spread` reads practices.parquet."""
    counted = getattr(system.engine, "practice_counts", None)
    if counted is None:
        return math.nan, math.nan
    from sim.flow.counters import P_DISCHARGES, P_READMISSIONS

    periods = system.inputs.periods
    years: dict[str, list[int]] = {}
    for k, p in enumerate(periods):
        if p.reported:
            years.setdefault(p.label[:4], []).append(k)
    lows, highs = [], []
    for ks in years.values():
        if sum(periods[k].end - periods[k].start for k in ks) < 360.0:
            continue
        year = counted[ks].sum(axis=0)
        disc, readm = year[:, P_DISCHARGES], year[:, P_READMISSIONS]
        rates = readm[disc > 0] / disc[disc > 0]
        if rates.size:
            lows.append(float(np.quantile(rates, 0.1)))
            highs.append(float(np.quantile(rates, 0.9)))
    if not lows:
        return math.nan, math.nan
    return float(np.mean(lows)), float(np.mean(highs))


def _measure_task(args: tuple) -> dict[tuple[str, str], float]:
    spec, replication, seed = args
    return read_and_release(simulate_system(spec, replication, seed), system_measures)


def measure(
    spec: ScenarioSpec, seed: int, replications: int, pool
) -> list[dict[tuple[str, str], float]]:
    """Every measure of each replication, the replications run by the executor."""
    return list(pool.map(_measure_task, [(spec, r, seed) for r in range(replications)]))


def check_targets(
    config: Path, targets_file: Path, pool, replications: int | None = None, seed: int | None = None
) -> pl.DataFrame:
    """The fit table of a config as it is (no fitting): does the shipped default land the
    targets?"""
    spec_t = load_targets(targets_file)
    spec = load_scenario(config, spec_t.fit.set)
    sim = spec.scenario.simulation
    reps = measure(spec, sim.seed if seed is None else seed, replications or sim.replications, pool)
    return fit_table(spec_t, reps)


@dataclass
class Calibration:
    """The fitted values, the search history and the fit at the optimum."""

    parameters: list[Parameter]
    best: list[float]
    history: pl.DataFrame
    fit: pl.DataFrame
    evaluations: int


def load_targets(path: Path) -> Targets:
    return load_config([path], Targets).config


def calibrate(
    config: Path,
    targets_file: Path,
    pool,
    on_evaluation: Callable[[int, float], None] | None = None,
    max_evaluations: int | None = None,
) -> Calibration:
    """Minimise the weighted distance to the targets over the unit cube of the fitted parameters."""
    spec_t = load_targets(targets_file)
    fit = spec_t.fit
    base = load_scenario(config, fit.set)
    params = fit_parameters(base, fit.parameters, str(targets_file))
    used = {k: t for k, t in spec_t.targets.items() if t.measure != "not_modelled"}
    budget = max_evaluations or fit.max_evaluations
    cache: dict[tuple[float, ...], tuple[float, list[dict]]] = {}
    rows: list[dict] = []

    def evaluate(x: list[float]) -> tuple[float, list[dict]]:
        key = tuple(round(v, 12) for v in x)
        if key in cache:
            return cache[key]
        spec = load_scenario(
            config, [*fit.set, *[o for p, v in zip(params, x) for o in p.overrides(v)]]
        )
        reps = measure(spec, fit.seed, fit.replications, pool)
        loss = 0.0
        for t in used.values():
            model = float(np.nanmean([m[(t.measure, t.group)] for m in reps]))
            loss += ((model - t.value) / t.sd) ** 2 if math.isfinite(model) else 1e6
        cache[key] = (loss, reps)
        rows.append(
            {"evaluation": len(rows), "loss": loss, **{p.path: v for p, v in zip(params, x)}}
        )
        if on_evaluation:
            on_evaluation(len(rows), loss)
        return loss, reps

    start = np.array([p.to_unit(p.start) for p in params])
    result = minimize(
        lambda u: evaluate([p.from_unit(v) for p, v in zip(params, u)])[0],
        start,
        method="Nelder-Mead",
        bounds=[(0.0, 1.0)] * len(params),
        options={
            "maxfev": budget,
            "xatol": 1e-3,
            "fatol": 1e-3,
            "initial_simplex": _simplex(start),
        },
    )
    best = [p.from_unit(v) for p, v in zip(params, result.x)]
    _, reps = evaluate(best)
    return Calibration(params, best, pl.DataFrame(rows), fit_table(spec_t, reps), len(rows))


def _simplex(start: np.ndarray, step: float = 0.25) -> np.ndarray:
    """A first simplex a quarter of each range wide, stepping inwards from the bounds."""
    points = [start]
    for i in range(start.size):
        p = start.copy()
        p[i] = p[i] + step if p[i] + step <= 1.0 else p[i] - step
        points.append(p)
    return np.array(points)


def fit_table(spec_t: Targets, reps: list[dict]) -> pl.DataFrame:
    """Model (mean and 95% CI over replications) against each target and its interval."""
    rows = []
    for key, t in spec_t.targets.items():
        if t.measure == "not_modelled":
            mean = lo = hi = None
            inside = None
        else:
            mean, lo, hi = mean_ci(np.array([m[(t.measure, t.group)] for m in reps]))
            inside = bool(t.interval[0] <= mean <= t.interval[1])
        rows.append(
            {
                "target": key,
                "measure": t.measure,
                "group": t.group,
                "model_mean": mean,
                "model_low": lo,
                "model_high": hi,
                "target_value": t.value,
                "target_low": t.interval[0],
                "target_high": t.interval[1],
                "inside": inside,
                "confidence": t.confidence,
                "source": t.source,
                "note": t.why_not_modelled or "",
            }
        )
    schema = {
        "model_mean": pl.Float64,
        "model_low": pl.Float64,
        "model_high": pl.Float64,
        "inside": pl.Boolean,
    }
    return pl.DataFrame(rows, schema_overrides=schema)


def calibrated_yaml(result: Calibration, extends: str, command: str, seed: int) -> str:
    """The calibrated parameter file: each fitted value with the command that produced it
    (no date: the same command gives the same bytes; the run's manifest has the time)."""
    lines = [
        "# Written by `sektorsim calibrate`: do not edit by hand; rerun the command below.",
        f"# {command}",
        f"extends: {extends}",
        "name: calibrated",
        f"description: The parameters of {Path(extends).name} fitted to the calibration targets.",
    ]
    tree: dict = {}
    for p, x in zip(result.parameters, result.best):
        note = (
            f"{p.why.rstrip('.')}. Calibrated (seed {seed}, {result.evaluations} evaluations) "
            "inside this range"
        )
        why = note if p.table is None else f"{note} as a factor on each entry (factor {x:.4f})"
        entry = {"value": p.values(x), "assumption": why, "range": [p.low, p.high]}
        node = tree
        *parents, leaf = p.path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = entry
    return "\n".join(lines) + "\n" + _dump(tree)


def _dump(tree: dict) -> str:
    import io

    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = None
    yaml.width = 200
    buf = io.StringIO()
    yaml.dump(tree, buf)
    return buf.getvalue()


def check_config(
    config: Path, targets: Path, backend: str, workers: int, scheduler: str | None
) -> pl.DataFrame:
    """Evaluate a config against the targets without fitting (`calibrate --check`)."""
    from sim.run.batch import executor
    from sim.run.runner import compile_kernel

    load_scenario(config, load_targets(targets).fit.set)  # every input error before any work
    compile_kernel()
    with executor(backend, workers, scheduler) as pool:
        return check_targets(config, targets, pool)
