"""Experiment files: scenarios × parameter draws × replications, validated like configs.

A parameter draw is a set of `--set`-style overrides: one per grid point, Latin-hypercube
sample or probabilistic-sensitivity draw (from named scipy.stats distributions). Draws are
made from their own SeedSequence stream, so the same experiment always gets the same
draws; the patient streams do not depend on the draw (common random numbers).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, model_validator
from scipy import stats
from scipy.stats import qmc

from sim.config.loader import LineMap, Override, load_config
from sim.config.schema import Strict
from sim.errors import ConfigError, ExperimentError, Problem, TooLarge
from sim.rng import seed_sequence
from sim.run.preflight import MAX_TASKS
from sim.run.runner import ScenarioSpec, load_scenario

#: Every (scenario, draw) pair is a scenario loaded and validated up front (tens of ms
#: each): beyond this many the loading alone takes hours.
MAX_VARIANTS = 20_000

DISTRIBUTIONS = {
    "beta": stats.beta,
    "gamma": stats.gamma,
    "lognormal": stats.lognorm,
    "normal": stats.norm,
    "uniform": stats.uniform,
    "triangular": stats.triang,
}


class ScenarioRef(Strict):
    config: str = Field(description="Scenario YAML, relative to the experiment file.")
    set: list[str] = Field(default_factory=list, description="Overrides, as with --set.")


class LatinHypercube(Strict):
    samples: int = Field(ge=1)
    parameters: dict[str, tuple[float, float]] = Field(description="Field -> [low, high].")

    @model_validator(mode="after")
    def _ordered(self) -> LatinHypercube:
        for name, (low, high) in self.parameters.items():
            if low > high:
                raise ValueError(f"{name}: bounds must be [low, high], got [{low:g}, {high:g}]")
        return self


class Sweep(Strict):
    grid: dict[str, list[float]] = Field(
        default_factory=dict, description="Field -> values (all combinations)."
    )
    latin_hypercube: LatinHypercube | None = None


class Uncertain(Strict):
    distribution: Literal["beta", "gamma", "lognormal", "normal", "uniform", "triangular"]
    parameters: dict[str, float] = Field(description="scipy.stats arguments, e.g. {a: 20, b: 80}.")
    source: str | None = None
    assumption: str | None = None

    @model_validator(mode="after")
    def _valid(self) -> Uncertain:
        try:
            frozen = DISTRIBUTIONS[self.distribution](**self.parameters)
            value = float(frozen.ppf(0.5))
        except (TypeError, ValueError, OverflowError) as e:
            raise ValueError(f"{self.distribution}: {e}") from None
        if not np.isfinite(value):
            raise ValueError(f"{self.distribution} with {self.parameters} has no finite median")
        if not (self.source or self.assumption):
            raise ValueError("give the source of this distribution, or mark it as an assumption")
        return self


class PSA(Strict):
    draws: int = Field(ge=1)
    parameters: dict[str, Uncertain]


class Experiment(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    scenarios: list[ScenarioRef] = Field(min_length=1)
    baseline: str | None = Field(
        None, description="Scenario name differences are taken against (default: the first)."
    )
    replications: int = Field(ge=1)
    seed: int = Field(ge=0)
    sweep: Sweep | None = None
    psa: PSA | None = None
    outputs: list[Literal["kpis", "agents", "practices", "equity"]] = Field(
        default_factory=lambda: ["kpis", "agents", "practices", "equity"],
        description="Tables to write (kpis always). practices.parquet holds one row per "
        "general practice, period and task: drop it for large PSA batches; equity then "
        "covers municipalities and councils only.",
    )
    target_half_width: dict[str, float] = Field(
        default_factory=dict,
        description="KPI -> wanted 95% CI half-width, for the replications-needed table.",
    )

    @model_validator(mode="after")
    def _one_design(self) -> Experiment:
        if self.sweep is not None and self.psa is not None:
            raise ValueError("give either sweep or psa, not both")
        return self


@dataclass(frozen=True)
class ExperimentPlan:
    experiment: Experiment
    data: dict
    specs: list[ScenarioSpec]  # one per (scenario, draw), index = s * n_draws + d
    draws: list[dict[str, float]]
    scenario_names: list[str]

    @property
    def baseline(self) -> str:
        return self.experiment.baseline or self.scenario_names[0]

    def spec(self, scenario: int, draw: int) -> ScenarioSpec:
        return self.specs[scenario * len(self.draws) + draw]


def parameter_draws(exp: Experiment) -> list[dict[str, float]]:
    """The overrides of every parameter draw (one empty draw without sweep or PSA)."""
    rng = np.random.Generator(np.random.PCG64(seed_sequence(exp.seed, 0, "parameter-draws")))
    if exp.psa is not None:
        names = list(exp.psa.parameters)
        u = rng.random((exp.psa.draws, len(names)))
        frozen = [
            DISTRIBUTIONS[p.distribution](**p.parameters) for p in exp.psa.parameters.values()
        ]
        return [
            {n: float(f.ppf(u[i, j])) for j, (n, f) in enumerate(zip(names, frozen))}
            for i in range(exp.psa.draws)
        ]
    if exp.sweep is not None:
        draws: list[dict[str, float]] = [{}]
        if exp.sweep.grid:
            keys = list(exp.sweep.grid)
            draws = [
                dict(zip(keys, combo)) for combo in itertools.product(*exp.sweep.grid.values())
            ]
        if exp.sweep.latin_hypercube is not None:
            lhs = exp.sweep.latin_hypercube
            names = list(lhs.parameters)
            sample = qmc.LatinHypercube(d=len(names), seed=rng).random(lhs.samples)
            lows = np.array([lhs.parameters[n][0] for n in names])
            highs = np.array([lhs.parameters[n][1] for n in names])
            points = qmc.scale(sample, lows, highs) if len(names) else sample
            draws = [
                {**d, **{n: float(points[i, j]) for j, n in enumerate(names)}}
                for d in draws
                for i in range(lhs.samples)
            ]
        return draws
    return [{}]


def n_draws(exp: Experiment) -> int:
    """How many parameter draws the design asks for, without making them."""
    if exp.psa is not None:
        return exp.psa.draws
    if exp.sweep is not None:
        grid = math.prod(len(v) for v in exp.sweep.grid.values()) if exp.sweep.grid else 1
        lhs = exp.sweep.latin_hypercube
        return grid * (lhs.samples if lhs is not None else 1)
    return 1


def _check_size(exp: Experiment, path: Path, lines: LineMap) -> None:
    """TooLarge before drawing anything: the draws alone could exhaust memory."""
    draws = n_draws(exp)
    key = (
        "psa.draws" if exp.psa is not None else "sweep" if exp.sweep is not None else "replications"
    )
    file, line = lines.get(key, (str(path), None))
    n = len(exp.scenarios)
    variants, tasks = draws * n, draws * n * exp.replications
    what = f"{draws:,} parameter draws × {n} scenarios"
    if variants > MAX_VARIANTS:
        raise TooLarge([Problem(file, line, key, f"{what} = {variants:,} scenario variants to "
                                f"load; the limit is {MAX_VARIANTS:,}")])  # fmt: skip
    if tasks > MAX_TASKS:
        raise TooLarge([Problem(file, line, key, f"{what} × {exp.replications:,} replications = "
                                f"{tasks:,} tasks; the limit is {MAX_TASKS:,}")])  # fmt: skip


def _draw_origins(exp: Experiment, lines: LineMap, path: Path) -> dict[str, tuple[str, int | None]]:
    """Where in the experiment file each drawn field was named, for messages."""
    named: dict[str, list[str]] = {}
    if exp.psa is not None:
        named["psa.parameters"] = list(exp.psa.parameters)
    if exp.sweep is not None:
        named["sweep.grid"] = list(exp.sweep.grid)
        if exp.sweep.latin_hypercube is not None:
            named["sweep.latin_hypercube.parameters"] = list(exp.sweep.latin_hypercube.parameters)
    return {
        field: lines.get(f"{prefix}.{field}", (str(path), None))
        for prefix, fields in named.items()
        for field in fields
    }


def load_experiment(path: Path | str) -> ExperimentPlan:
    """Validate the experiment, its scenarios and every draw's overrides.

    Problems point into the experiment file (the line of the override or drawn field),
    under the heading 'Invalid experiment'; a design too large is TooLarge.
    """
    try:
        return _load_experiment(Path(path))
    except ConfigError as e:
        if type(e) is ConfigError:
            raise ExperimentError(e.problems) from None
        raise


def _load_experiment(path: Path) -> ExperimentPlan:
    loaded = load_config([path], Experiment)
    exp = loaded.config
    _check_size(exp, path, loaded.lines)
    draws = parameter_draws(exp)
    origins = _draw_origins(exp, loaded.lines, path)
    specs, names = [], []
    for i, ref in enumerate(exp.scenarios):
        where = loaded.lines.get(f"scenarios[{i}].config", (str(path), None))
        config = path.parent / ref.config
        if not config.is_file():
            raise ConfigError(
                [
                    Problem(
                        where[0],
                        where[1],
                        f"scenarios[{i}].config",
                        f"file {str(config)!r} not found",
                    )
                ]
            )
        sets = [
            Override(text, *loaded.lines.get(f"scenarios[{i}].set[{j}]", where))
            for j, text in enumerate(ref.set)
        ]
        for d in draws:
            drawn = [
                Override(f"{k}={v!r}", *origins.get(k, (str(path), None))) for k, v in d.items()
            ]
            specs.append(load_scenario(config, [*sets, *drawn]))
        names.append(specs[-1].name)
    if len(set(names)) != len(names):
        raise ConfigError(
            [Problem(str(path), None, "scenarios", f"scenario names must differ, got {names}")]
        )
    if exp.baseline is not None and exp.baseline not in names:
        where = loaded.lines.get("baseline", (str(path), None))
        raise ConfigError(
            [
                Problem(
                    where[0],
                    where[1],
                    "baseline",
                    f"no scenario named {exp.baseline!r}; have {names}",
                )
            ]
        )
    return ExperimentPlan(exp, loaded.data, specs, draws, names)
