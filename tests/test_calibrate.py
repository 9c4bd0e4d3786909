"""`sektorsim calibrate` recovers parameter values from targets the model itself produced.

Synthetic truth: the teaching scenario is run at known values of two uncertain parameters
(post-discharge excess episodes, hospital beds per 1,000); its readmission rate, occupancy
and mean stay become the targets, with intervals of ±3 % of each value. Calibration starts
from the config's defaults with the same seed and replications (common random numbers),
so the objective is exactly zero at the truth.

Tolerance (delta method): a parameter is identified through the measure it moves most
(excess episodes -> readmission rate, beds -> occupancy). Away from the truth the runs'
event sequences diverge and the replication noise returns: the mean of R replications
differs from the truth's by noise of variance about 2·se², se² = s²/R. A fit whose
measure lies within two standard deviations, sqrt(sd² + 2·se²) with sd the target's,
lies within 2·sqrt(sd² + 2·se²) / |slope| of the true value; the slope is a finite
difference over a tenth of the range.
"""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.run.runner import load_scenario, simulate_system
from sim.studies.calibrate import calibrate, fit_parameters, load_targets, system_measures

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "configs" / "teaching.yaml"
SHORT = ["simulation.end=2026-07-01", "simulation.warmup_days=60"]
TRUTH = {"episodes.post_discharge.excess_episodes": 0.40, "settings.hospital.beds_per_1000": 4.3}
MEASURES = ("readmission_rate", "hospital_occupancy", "mean_stay_days")
PRIMARY = {
    "episodes.post_discharge.excess_episodes": "readmission_rate",
    "settings.hospital.beds_per_1000": "hospital_occupancy",
}
SEED, REPS = 5, 3
WIDTH = 0.03  # target intervals: ±3 % of the value


class Serial:
    """An executor that runs each task here, in order (the test needs no processes)."""

    map = staticmethod(map)


def replications_at(values: dict[str, float]) -> dict[str, np.ndarray]:
    spec = load_scenario(TEACHING, [*SHORT, *(f"{k}={v}" for k, v in values.items())])
    reps = [system_measures(simulate_system(spec, r, SEED)) for r in range(REPS)]
    return {m: np.array([rep[(m, "all")] for rep in reps]) for m in MEASURES}


def model_at(values: dict[str, float]) -> dict[str, float]:
    return {m: float(v.mean()) for m, v in replications_at(values).items()}


def synthetic_targets(path: Path) -> Path:
    truth = model_at(TRUTH)
    lines = ["name: synthetic", "targets:"]
    for m in MEASURES:
        value = truth[m]
        lines += [
            f"  {m}:",
            f"    measure: {m}",
            f"    value: {value!r}",
            f"    interval: [{value * (1 - WIDTH)!r}, {value * (1 + WIDTH)!r}]",
            "    confidence: H",
            "    source: the model itself at known parameter values",
        ]
    lines += [
        "fit:",
        "  parameters:",
        *(f"    - {k}" for k in TRUTH),
        f"  replications: {REPS}",
        f"  seed: {SEED}",
        "  max_evaluations: 60",
        f"  set: [{', '.join(SHORT)}]",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    targets = synthetic_targets(tmp_path_factory.mktemp("cal") / "targets.yaml")
    return targets, calibrate(TEACHING, targets, Serial())


def test_calibration_recovers_the_truth(fitted):
    targets, result = fitted
    spec = load_scenario(TEACHING, SHORT)
    at_truth = replications_at(TRUTH)
    for p, x in zip(fit_parameters(spec, list(TRUTH), str(targets)), result.best):
        step = 0.1 * (p.high - p.low)
        measure = PRIMARY[p.path]
        truth = at_truth[measure].mean()
        slope = (model_at({**TRUTH, p.path: TRUTH[p.path] + step})[measure] - truth) / step
        sd = WIDTH * truth / 1.959964
        se2 = at_truth[measure].var(ddof=1) / REPS
        tolerance = 2 * np.sqrt(sd**2 + 2 * se2) / abs(slope)
        assert abs(x - TRUTH[p.path]) <= tolerance, (
            f"{p.path}: fitted {x:.4f}, truth {TRUTH[p.path]} ± {tolerance:.4f}"
        )
    assert result.fit["inside"].all(), result.fit


def test_the_fit_stays_inside_the_ranges(fitted):
    targets, result = fitted
    history = result.history
    spec = load_scenario(TEACHING, SHORT)
    for p in fit_parameters(spec, list(TRUTH), str(targets)):
        assert history[p.path].min() >= p.low and history[p.path].max() <= p.high
    assert result.evaluations <= load_targets(targets).fit.max_evaluations + 1


def test_only_uncertain_parameters_can_be_fitted(tmp_path):
    targets = tmp_path / "t.yaml"
    targets.write_text(
        "name: x\ntargets:\n  r:\n    measure: readmission_rate\n    value: 0.18\n    interval: "
        "[0.15, 0.21]\n"
        "    confidence: M\n    source: test\nfit:\n  parameters: [population.male_share]\n  "
        "seed: 1\n"
    )
    result = CliRunner().invoke(
        app, ["calibrate", str(TEACHING), "--targets", str(targets), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "population.male_share is not marked uncertain" in result.output
    assert not (tmp_path / "o").exists()


def test_a_target_outside_its_own_interval_is_refused(tmp_path):
    targets = tmp_path / "t.yaml"
    targets.write_text(
        "name: x\ntargets:\n  r:\n    measure: readmission_rate\n    value: 0.3\n    interval: "
        "[0.15, 0.21]\n"
        "    confidence: M\n    source: test\nfit:\n  parameters: "
        "[episodes.post_discharge.excess_episodes]\n  seed: 1\n"
    )
    result = CliRunner().invoke(app, ["calibrate", str(TEACHING), "--targets", str(targets)])
    assert result.exit_code == 2
    assert "t.yaml" in result.output and "outside its interval" in result.output
