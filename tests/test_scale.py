"""`population.scale` is neutral (issue 11): a reduced run simulates whole health councils
at full density, so a council's per-1,000 results do not depend on the scale.

Thinning every area (the old meaning of the scale) shrank every queue — at 0.25 a
municipality's four beds became one — and moved home-treatment episodes per 1,000 to a
fifth and premature discharges up by a third. Here one region (Nordjylland, two councils)
runs whole and at 0.25 (Vendsyssel alone); Vendsyssel's per-1,000 KPIs are compared by
Welch's t-test on the per-replication values, Bonferroni over the KPIs at a family alpha of
0.01. Independent streams: the two runs simulate different populations.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from sim.flow.inputs import simulated_geography
from sim.run.runner import Task, load_scenario, run_tasks

ROOT = Path(__file__).resolve().parent.parent
CURRENT = ROOT / "configs" / "denmark" / "current.yaml"
NORDJYLLAND = (
    "[Hjørring,Brønderslev,Læsø,Frederikshavn,Aalborg,Vesthimmerland,Jammerbugt,Morsø,"
    "Rebild,Thisted,Mariagerfjord]"
)
REPLICATIONS = 4
PER_1000 = (
    "admissions",
    "readmissions_30d",
    "deaths",
    "sop_bed_days",
    "home_treatment_episodes",
    "premature_discharges",
    "ht_blocked",
    "hospital_bed_days",
)
FAMILY_ALPHA = 0.01


def test_a_quarter_of_denmark_is_whole_councils_from_every_region():
    spec = load_scenario(CURRENT, ["population.scale=0.25"])
    full, part = spec.geography, simulated_geography(spec.scenario, spec.geography)
    share = part.pop_by_band.sum() / full.pop_by_band.sum()
    assert 0.2 < share < 0.3
    assert set(part.region_reform_of.tolist()) == set(full.region_reform_of.tolist())
    for council in set(part.council_of.tolist()):
        whole = {
            m for m, c in zip(full.municipalities, full.council_of, strict=True) if c == council
        }
        kept = {
            m for m, c in zip(part.municipalities, part.council_of, strict=True) if c == council
        }
        assert kept == whole


def test_scale_one_simulates_everything():
    spec = load_scenario(CURRENT)
    assert simulated_geography(spec.scenario, spec.geography).n == spec.geography.n


def _per_1000(scale: float) -> dict[str, np.ndarray]:
    spec = load_scenario(
        CURRENT,
        [
            f"population.scale={scale}",
            f"geography.municipalities={NORDJYLLAND}",
            "simulation.end=2027-01-01",
        ],
    )
    tables = run_tasks([spec], [Task(0, r) for r in range(REPLICATIONS)], seed=11)
    rows = (
        pl.concat([t.kpis for t in tables])
        .filter(
            (pl.col("area_level") == "council")
            & (pl.col("area") == "Vendsyssel")
            & (pl.col("group") == "all")
        )
        .group_by("replication")
        .agg(pl.col(*PER_1000, "person_days").sum())
        .sort("replication")
    )
    years = rows["person_days"].to_numpy() / 365.25
    return {k: rows[k].to_numpy() / years * 1000.0 for k in PER_1000}


@pytest.fixture(scope="module")
def both() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    return _per_1000(1.0), _per_1000(0.25)


@pytest.mark.parametrize("kpi", PER_1000)
def test_a_council_looks_the_same_at_any_scale(both, kpi):
    whole, quarter = both
    assert len(whole[kpi]) == len(quarter[kpi]) == REPLICATIONS
    p = stats.ttest_ind(whole[kpi], quarter[kpi], equal_var=False).pvalue
    assert p > FAMILY_ALPHA / len(PER_1000), (
        f"Vendsyssel's {kpi} per 1,000 a year: {whole[kpi].mean():.2f} in the whole region, "
        f"{quarter[kpi].mean():.2f} at scale 0.25 (p = {p:.2g})"
    )


def test_a_geography_with_one_council_per_region_refuses_a_scale():
    from sim.errors import ConfigError

    with pytest.raises(ConfigError, match="one health council per region"):
        load_scenario(ROOT / "configs" / "teaching.yaml", ["population.scale=0.5"])
