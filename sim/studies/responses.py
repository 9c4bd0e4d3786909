"""Natural experiments the model must reproduce: how a measure responds when settings
change, from a settled baseline.

A response names the settings before and after (as `--set` overrides of one config) and,
where the world has shown it, the observed relative change with its interval. The model's
answer is the paired relative change over the reporting window (common random numbers),
with a Student-t interval over replications. Denmark's own experiment is the delayed-
discharge payment of 1 January 2017 (configs/denmark/targets.yaml, `responses`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field, model_validator

from sim.config.schema import Strict
from sim.outputs.summary import mean_ci, whole_window
from sim.run.runner import Task, load_scenario, run_tasks


class Response(Strict):
    measure: Literal["delayed_discharge_days", "admissions", "readmissions_30d", "sop_bed_days"]
    before: list[str] = Field(default_factory=list, description="Overrides before the change.")
    after: list[str] = Field(default_factory=list, description="Overrides after the change.")
    value: float | None = Field(None, description="Observed relative change (e.g. -0.45).")
    interval: tuple[float, float] | None = None
    confidence: Literal["H", "M", "L"] | None = None
    source: str = Field(description="Where the observation (or the question) comes from.")

    @model_validator(mode="after")
    def _check(self) -> Response:
        if self.before == self.after:
            raise ValueError("before and after name the same settings: nothing changes")
        if (self.value is None) != (self.interval is None):
            raise ValueError("an observed response needs both value and interval")
        if self.interval is not None and not self.interval[0] <= self.value <= self.interval[1]:
            raise ValueError(f"value {self.value} lies outside its interval {self.interval}")
        return self


def measure_response(
    config: Path,
    response: Response,
    seed: int,
    replications: int,
    common: list[str],
    workers: int = 1,
    executor=None,
    on_done: Callable | None = None,
) -> dict:
    """The model's relative change of `response.measure` (after vs before), paired."""
    specs = [
        load_scenario(config, [*common, *response.before, "name=before"]),
        load_scenario(config, [*common, *response.after, "name=after"]),
    ]
    tasks = [Task(i, r) for r in range(replications) for i in range(2)]
    tables = run_tasks(specs, tasks, seed, workers=workers, executor=executor, on_done=on_done)
    kpis = pl.concat([t.kpis for t in tables])
    per_rep = whole_window(kpis).sort("replication")
    before = per_rep.filter(pl.col("scenario") == "before")[response.measure].to_numpy()
    after = per_rep.filter(pl.col("scenario") == "after")[response.measure].to_numpy()
    change, lo, hi = mean_ci((after - before) / np.maximum(before, 1e-9))
    return {
        "measure": response.measure,
        "before_mean": float(before.mean()),
        "after_mean": float(after.mean()),
        "model_change": change,
        "model_low": lo,
        "model_high": hi,
        "observed": response.value,
        "observed_low": None if response.interval is None else response.interval[0],
        "observed_high": None if response.interval is None else response.interval[1],
        "inside": None
        if response.interval is None
        else bool(response.interval[0] <= change <= response.interval[1]),
        "source": " ".join(response.source.split()),
    }
