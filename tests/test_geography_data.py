"""The shipped geography files are complete and consistent with their sources."""

import csv
from pathlib import Path

GEO = Path(__file__).resolve().parent.parent / "configs" / "geography"

# Health-council populations in thousands, reform proposal 2024 (seeds/002, figure 9).
COUNCILS = {
    "Vendsyssel": 160, "Limfjorden": 432, "Kronjylland": 230, "Horsens": 235, "Aarhus": 372,
    "Vestjylland": 287, "Midt": 244, "Fyn": 466, "Trekantsområdet": 310, "Sydvestjylland": 238,
    "Sønderjylland": 225, "Hovedstaden": 806, "Hovedstaden Syd og Vest": 304, "Hovedstaden Nord": 477,
    "Nordsjælland": 332, "Østsjælland og øerne": 437, "Midt- og Vestsjælland": 416,
}


def _rows(name):
    with open(GEO / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_national_geography_is_complete():
    rows = _rows("denmark.csv")
    assert len(rows) == 98 and len({r["municipality"] for r in rows}) == 98
    assert len({r["region_current"] for r in rows}) == 5
    assert len({r["region_reform"] for r in rows}) == 4
    assert {r["health_council"] for r in rows} == set(COUNCILS)


def test_populations_match_the_sources():
    rows = _rows("denmark.csv")
    total = sum(int(r["population"]) for r in rows)
    assert abs(total - 5_961_249) / 5_961_249 < 0.01
    for council, thousands in COUNCILS.items():
        s = sum(int(r["population"]) for r in rows if r["health_council"] == council)
        assert abs(s / 1000 - thousands) / thousands < 0.015, council
    old = sum(int(r["pop_65_74"]) + int(r["pop_75_84"]) + int(r["pop_85plus"]) for r in rows)
    assert 0.19 < old / total < 0.22  # 65+ about 20.5 % in 2024 (Statistics Denmark)
    for r in rows:
        assert int(r["pop_65_74"]) + int(r["pop_75_84"]) + int(r["pop_85plus"]) < int(r["population"])
        assert 45 <= float(r["gp_capacity_per_100k"]) <= 66


def test_every_column_has_evidence():
    text = (GEO / "denmark.sources.yaml").read_text(encoding="utf-8")
    header = _rows("denmark.csv")[0].keys()
    for column in header:
        assert f"\n{column}:" in "\n" + text, column


def test_teaching_geography_is_small():
    rows = _rows("teaching.csv")
    assert len(rows) == 3 and len({r["health_council"] for r in rows}) == 1
