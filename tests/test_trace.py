"""`sektorsim trace`: a fixed seed gives a fixed pathway, and tracing never changes a run."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.flow import kernel as kn
from sim.run.runner import load_scenario, simulate_system
from sim.run.trace import candidates

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "configs" / "teaching.yaml"
SNAPSHOT = Path(__file__).parent / "data" / "trace_teaching_seed7.json"
ARGS = ["trace", str(TEACHING), "--patients", "3", "--seed", "7", "--json"]


@pytest.fixture(scope="module")
def spec():
    return load_scenario(TEACHING)


def test_trace_of_a_fixed_seed_matches_the_snapshot():
    """Regenerate after a deliberate model change: sektorsim trace configs/teaching.yaml
    --patients 3 --seed 7 --json > tests/data/trace_teaching_seed7.json
    (and say so in CHANGELOG.md)."""
    result = CliRunner().invoke(app, ARGS)
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    got["scenario"] = "teaching"
    assert got == json.loads(SNAPSHOT.read_text())


def test_tracing_does_not_change_the_numbers(spec):
    plain = simulate_system(spec, 0, 7)
    traced = simulate_system(spec, 0, 7, trace=lambda inputs: candidates(7, 0, inputs.cohort.size))
    assert traced.engine.trace_log.shape[0] > 0
    np.testing.assert_array_equal(plain.engine.counts, traced.engine.counts)


def test_each_traced_pathway_is_a_connected_chain(spec):
    """Every change starts where the previous one ended, time never goes back, and the dead
    stay dead."""
    system = simulate_system(spec, 0, 7, trace=lambda inputs: candidates(7, 0, inputs.cohort.size))
    log = system.engine.trace_log
    for p in system.engine.arrays["tr_ids"]:
        rows = log[log[:, kn.TR_PATIENT] == p]
        place, t = (kn.HOME if p < system.inputs.cohort.size else kn.UNBORN), 0.0
        for row in rows:
            assert row[kn.TR_TIME] >= t
            assert place != kn.DEAD
            assert row[kn.TR_FROM] == place
            place, t = row[kn.TR_TO], row[kn.TR_TIME]


def test_trace_counts_admissions_like_the_kernel(spec):
    """Tracing every patient of a small run: admissions and readmissions in the trace equal
    the kernel's counters (same 30-day rule, counted once per discharge)."""
    from sim.flow import counters as K

    small = load_scenario(TEACHING, ["simulation.end=2026-04-01", "simulation.warmup_days=0"])
    system = simulate_system(small, 0, 3, trace=lambda inputs: np.arange(inputs.max_patients))
    log = system.engine.trace_log
    entering = np.isin(log[:, kn.TR_TO], (kn.HOSPITAL, kn.QUEUE)) & ~np.isin(
        log[:, kn.TR_FROM], (kn.HOSPITAL, kn.QUEUE)
    )
    assert entering.sum() == system.engine.counts[..., K.ADMISSIONS].sum()
    readmissions = 0
    for p in np.unique(log[:, kn.TR_PATIENT]):
        last = None
        for row, enters in zip(
            log[log[:, kn.TR_PATIENT] == p], entering[log[:, kn.TR_PATIENT] == p]
        ):
            if enters and last is not None and row[kn.TR_TIME] - last <= kn.READMISSION_DAYS:
                readmissions += 1
                last = None  # one readmission per discharge
            if row[kn.TR_FROM] == kn.HOSPITAL and row[kn.TR_TO] in (kn.HOME, kn.SOP, kn.HT):
                last = row[kn.TR_TIME]
    assert readmissions == system.engine.counts[..., K.READMISSIONS].sum()
