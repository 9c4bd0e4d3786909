"""Natural-experiment responses (sim/studies/responses.py) and their declarations."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sim.studies.calibrate import load_targets
from sim.studies.responses import Response, measure_response

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "configs" / "teaching.yaml"


def test_the_2017_payment_change_is_declared_with_its_source():
    responses = load_targets(ROOT / "configs" / "denmark" / "targets.yaml").responses
    r = responses["delayed_payment_2017"]
    assert r.measure == "delayed_discharge_days" and r.value < 0
    assert "1737" in r.source and "docs/sources.md#delayed-discharge-payment" in r.source


@pytest.mark.parametrize(
    "fields",
    [
        {"after": ["x=1"], "value": -0.4, "source": "s"},  # value without interval
        {"after": ["x=1"], "value": 0.4, "interval": (-0.6, -0.3), "source": "s"},  # outside
        {"before": ["x=1"], "after": ["x=1"], "source": "s"},  # nothing changes
    ],
)
def test_a_malformed_response_is_refused(fields):
    with pytest.raises(ValidationError):
        Response(measure="delayed_discharge_days", **fields)


def test_under_the_fixed_rule_a_price_moves_money_not_patients():
    """Capacities do not react to prices under `fixed`, and nothing else in the flow reads
    the delayed-day payment: the paired response is exactly zero (the null case)."""
    response = Response(
        measure="delayed_discharge_days",
        after=[
            "costs.delayed_discharge_day_dkk=9300",
            "costs.delayed_discharge_late_day_dkk=14000",
        ],
        source="test",
    )
    got = measure_response(
        TEACHING, response, seed=5, replications=2, common=["simulation.end=2026-07-01"]
    )
    assert got["before_mean"] > 0
    assert got["model_change"] == 0.0
