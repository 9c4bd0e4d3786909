"""The shipped geography files are complete and consistent with their sources.

Standard library only, and independent of files outside the repository: the reference
totals are embedded.
Each check is a plain function of the rows, so it can be exercised on broken data too.
"""

import csv
from pathlib import Path

GEO = Path(__file__).resolve().parent.parent / "configs" / "geography"

HEADER = [
    "municipality",
    "region_current",
    "region_reform",
    "health_council",
    "population",
    "pop_65_74",
    "pop_75_84",
    "pop_85plus",
    "gp_capacity_per_100k",
]
BANDS = ("pop_65_74", "pop_75_84", "pop_85plus")

# Health-council populations in thousands: reform proposal "Sundhed tæt på dig" (Dec 2024),
# figure 9 "17 sundhedsråd" (docs/sources.md#council-populations;
# configs/geography/denmark.sources.yaml).
COUNCIL_THOUSANDS = {
    "Vendsyssel": 160,
    "Limfjorden": 432,
    "Kronjylland": 230,
    "Horsens": 235,
    "Aarhus": 372,
    "Vestjylland": 287,
    "Midt": 244,
    "Fyn": 466,
    "Trekantsområdet": 310,
    "Sydvestjylland": 238,
    "Sønderjylland": 225,
    "Hovedstaden": 806,
    "Hovedstaden Syd og Vest": 304,
    "Hovedstaden Nord": 477,
    "Nordsjælland": 332,
    "Østsjælland og øerne": 437,
    "Midt- og Vestsjælland": 416,
}
NATIONAL_2024 = 5_961_249  # inhabitants 1 Jan 2024, Statistics Denmark


def _read(name):
    with open(GEO / name, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def check_national_structure(header, rows):
    assert header == HEADER, header
    assert len(rows) == 98, len(rows)
    assert len({r["municipality"] for r in rows}) == 98, "municipality names repeat"
    assert len({r["region_current"] for r in rows}) == 5
    assert len({r["region_reform"] for r in rows}) == 4
    assert {r["health_council"] for r in rows} == set(COUNCIL_THOUSANDS)


def check_age_bands(rows):
    for r in rows:
        bands = [int(r[c]) for c in BANDS]
        assert min(bands) >= 0, r["municipality"]
        assert sum(bands) < int(r["population"]), r["municipality"]


def check_populations(rows):
    total = sum(int(r["population"]) for r in rows)
    assert abs(total - NATIONAL_2024) <= 0.01 * NATIONAL_2024, total
    for council, thousands in COUNCIL_THOUSANDS.items():
        s = sum(int(r["population"]) for r in rows if r["health_council"] == council)
        assert abs(s - 1000 * thousands) <= 0.015 * 1000 * thousands, (council, s)
    old = sum(int(r[c]) for r in rows for c in BANDS)
    assert 0.19 < old / total < 0.22, old / total  # 65+ about 20.5-20.7 % in 2024


def check_gp_capacity(rows):
    for r in rows:
        assert 40.0 <= float(r["gp_capacity_per_100k"]) <= 70.0, r["municipality"]


def check_teaching(header, rows):
    assert header == HEADER, header
    assert len(rows) == 3, len(rows)
    assert len({r["health_council"] for r in rows}) == 1
    check_age_bands(rows)
    check_gp_capacity(rows)


def test_national_geography_structure():
    check_national_structure(*_read("denmark.csv"))


def test_age_bands_below_population():
    check_age_bands(_read("denmark.csv")[1])


def test_council_and_national_populations_match_sources():
    check_populations(_read("denmark.csv")[1])


def test_gp_capacity_within_plausible_range():
    check_gp_capacity(_read("denmark.csv")[1])


def test_every_column_has_evidence():
    text = "\n" + (GEO / "denmark.sources.yaml").read_text(encoding="utf-8")
    for column in HEADER:
        assert f"\n{column}:" in text, column


def test_teaching_geography_is_small():
    check_teaching(*_read("teaching.csv"))
