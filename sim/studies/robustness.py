"""Is the reform's answer robust to what we had to assume? (validation report, section 6)

- `pressure_sweep`: the headline effect on 30-day readmissions (reform − today, paired)
  at the default bed-pressure curve and at each end of the range of each of its three
  parameters: the answer must not hinge on one of them (there is no threshold to sit
  under any more, but the curve's position and steepness are assumptions).
- `responses`: the natural experiments of `configs/denmark/targets.yaml` (the 2017
  delayed-discharge payment), the model's paired response next to the observation.
- `warmup`: when today's regime settles (MSER), against when reporting starts.

All run the national configuration at a reduced population with the shipped decision
rule; `quick` shrinks them for the test suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from sim.config.evidence import rows
from sim.outputs.summary import mean_ci, whole_window
from sim.run.runner import Task, load_scenario, run_tasks
from sim.studies.calibrate import load_targets
from sim.studies.responses import measure_response
from sim.studies.sensitivity import QUICK_AREA
from sim.studies.warmup import settled_from, warmup_series

SEED = 2029
PRESSURE = ("midpoint", "width", "max_share")


@dataclass(frozen=True)
class Size:
    overrides: tuple[str, ...]
    replications: int


def size(quick: bool) -> Size:
    """A sixth of the country as whole health councils; quick: four small municipalities."""
    if quick:
        short = ("simulation.warmup_days=365", "simulation.end=2027-01-01")
        return Size((QUICK_AREA, *short, "regime.reform_date=2026-07-01"), 2)
    return Size(("population.scale=0.1",), 6)


def _common(s: Size) -> list[str]:
    return list(s.overrides)


def pressure_sweep(root: Path, quick: bool, workers: int = 1) -> dict[str, list[dict]]:
    """Reform effect on readmissions at each end of each pressure parameter's range, and
    the reform's change in deaths at the default curve, by mechanism."""
    s = size(quick)
    today = root / "configs" / "denmark" / "current.yaml"
    reform = root / "configs" / "denmark" / "reform.yaml"
    documented = {r["parameter"]: r for r in rows(load_scenario(today, _common(s)).scenario)}
    points: list[tuple[str, str, list[str]]] = [("default", "", [])]
    for name in PRESSURE:
        path = f"settings.hospital.pressure.{name}"
        low, high = (float(x) for x in documented[path]["range"].split("–"))
        points += [(name, f"{low:g}", [f"{path}.value={low!r}"]),
                   (name, f"{high:g}", [f"{path}.value={high!r}"])]  # fmt: skip
    specs, tasks = [], []
    for i, (_, _, sets) in enumerate(points):
        for j, config in enumerate((today, reform)):
            specs.append(load_scenario(config, [*_common(s), *sets, f"name=p{i}s{j}"]))
            tasks += [Task(len(specs) - 1, r) for r in range(s.replications)]
    kpis = pl.concat([t.kpis for t in run_tasks(specs, tasks, SEED, workers=workers)])
    per_rep = whole_window(kpis).sort("replication")
    out = []
    for i, (name, value, _) in enumerate(points):
        a = per_rep.filter(pl.col("scenario") == f"p{i}s0")
        b = per_rep.filter(pl.col("scenario") == f"p{i}s1")
        effect, lo, hi = mean_ci((b["readmissions_30d"] - a["readmissions_30d"]).to_numpy())
        rate, rlo, rhi = mean_ci(
            (b["readmission_rate_30d"] - a["readmission_rate_30d"]).to_numpy() * 100
        )
        premature = float(a["premature_discharges"].mean() / max(a["discharges"].mean(), 1))
        out.append(
            {
                "parameter": name,
                "value": value,
                "readmissions": effect,
                "readmissions_low": lo,
                "readmissions_high": hi,
                "rate_points": rate,
                "rate_low": rlo,
                "rate_high": rhi,
                "premature_share_today": premature,
            }
        )
    default = (
        per_rep.filter(pl.col("scenario") == "p0s0"),
        per_rep.filter(pl.col("scenario") == "p0s1"),
    )
    rr = load_scenario(today, _common(s)).scenario.mortality.setting_rr
    return {
        "pressure": out,
        "deaths": deaths_by_mechanism(*default),
        "setting_rr": {k: v.value for k, v in rr},
    }


#: The reform's change in deaths, cause by cause: every death is one of these.
DEATH_CAUSES = (
    ("acute episode, treated in hospital", "deaths_episode", "deaths_episode_outside_hospital"),
    ("acute episode, treated outside hospital", "deaths_episode_outside_hospital", None),
    ("in the weeks after a survived episode", "deaths_post_episode", None),
)


def deaths_by_mechanism(today: pl.DataFrame, reform: pl.DataFrame) -> list[dict]:
    """Paired change in deaths (reform − today) by cause, with the episodes that drive them.

    Background mortality is what remains of `deaths`; it moves only with who is alive.
    Where an episode is treated changes its deaths only through `mortality.setting_rr`;
    with every relative risk 1, a change in episode deaths is a change in grave episodes."""

    def cause(frame: pl.DataFrame, counter: str, minus: str | None) -> np.ndarray:
        value = frame[counter].to_numpy().astype(float)
        return value - frame[minus].to_numpy() if minus else value

    rows_ = []
    for label, counter, minus in DEATH_CAUSES:
        rows_.append(_paired(label, cause(today, counter, minus), cause(reform, counter, minus)))
    explained = ("deaths_episode", "deaths_post_episode")
    background = [
        frame["deaths"].to_numpy().astype(float) - sum(frame[c].to_numpy() for c in explained)
        for frame in (today, reform)
    ]
    rows_.append(_paired("background (age, frailty)", *background))
    rows_.append(_paired("all deaths", today["deaths"].to_numpy(), reform["deaths"].to_numpy()))
    rows_.append(
        _paired("acute episodes (drive the first three)", today["episodes"], reform["episodes"])
    )
    return rows_


def _paired(label: str, today, reform) -> dict:
    a, b = np.asarray(today, dtype=float), np.asarray(reform, dtype=float)
    effect, lo, hi = mean_ci(b - a)
    return {"mechanism": label, "today": a.mean(), "reform": b.mean(), "change": effect,
            "change_low": lo, "change_high": hi}  # fmt: skip


def responses(root: Path, quick: bool, workers: int = 1) -> list[dict]:
    """Every declared natural-experiment response, measured paired from a settled state."""
    s = size(quick)
    targets = load_targets(root / "configs" / "denmark" / "targets.yaml")
    config = root / "configs" / "denmark" / "current.yaml"
    common = _common(s)
    return [
        {"response": name, **measure_response(config, r, SEED, s.replications, common, workers)}
        for name, r in targets.responses.items()
    ]


def warmup(root: Path, quick: bool) -> dict:
    """MSER truncation point of today's regime's quarterly series, against reporting start."""
    s = size(quick)
    spec = load_scenario(root / "configs" / "denmark" / "current.yaml", _common(s))
    series = warmup_series(spec, SEED, s.replications)
    labels = series["labels"].tolist()
    settled = {
        name: labels[settled_from(series[name])]
        for name in ("admissions_per_day", "delayed_days_per_day", "sop_beds")
    }
    return {
        "first_reported": labels[series["first_reported"]],
        "settled": settled,
        "in_time": all(labels.index(v) <= series["first_reported"] for v in settled.values()),
        "means": {
            name: np.round(series[name].mean(axis=0), 2).tolist()
            for name in ("admissions_per_day", "delayed_days_per_day", "sop_beds")
        },
        "labels": labels,
    }
