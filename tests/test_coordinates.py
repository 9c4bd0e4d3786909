"""The municipal seat coordinates are complete and geographically plausible.

Standard library and pytest only (no `sim` imports). See
configs/geography/coordinates.sources.md for what the points are (approximate
administrative seats, ±5 km) and what they are used for.
"""

import csv
import math
from pathlib import Path

import pytest

GEO = Path(__file__).resolve().parent.parent / "configs" / "geography"

HEADER = ["municipality", "latitude", "longitude"]

# Denmark's bounding box (degrees, WGS84).
LAT_MIN, LAT_MAX = 54.5, 57.8
LON_MIN, LON_MAX = 8.0, 15.2

# Minimum distance between two seats, km; smaller only where that is real.
MIN_KM = 1.0
CLOSE_PAIRS_KM = {frozenset({"København", "Frederiksberg"}): 0.5}

EARTH_RADIUS_KM = 6371.0088


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return next(csv.reader(f))


def points(path: Path) -> dict[str, tuple[float, float]]:
    rows = read_rows(path)
    return {r["municipality"]: (float(r["latitude"]), float(r["longitude"])) for r in rows}


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def centroid(pts: list[tuple[float, float]]) -> tuple[float, float]:
    return (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))


def too_close(pts: dict[str, tuple[float, float]]) -> list[tuple[str, str, float]]:
    names = list(pts)
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            km = haversine_km(pts[a], pts[b])
            if km < CLOSE_PAIRS_KM.get(frozenset({a, b}), MIN_KM):
                out.append((a, b, km))
    return out


@pytest.fixture(scope="module")
def denmark() -> list[dict[str, str]]:
    return read_rows(GEO / "denmark.csv")


@pytest.fixture(scope="module")
def coords() -> dict[str, tuple[float, float]]:
    return points(GEO / "coordinates.csv")


def test_header():
    assert read_header(GEO / "coordinates.csv") == HEADER
    assert read_header(GEO / "teaching_coordinates.csv") == HEADER


def test_every_municipality_exactly_once_same_spelling_and_order(denmark):
    names = [r["municipality"] for r in read_rows(GEO / "coordinates.csv")]
    expected = [r["municipality"] for r in denmark]
    assert len(expected) == 98
    assert len(names) == len(set(names)), "duplicate municipality"
    assert names == expected


def test_four_decimals():
    for r in read_rows(GEO / "coordinates.csv") + read_rows(GEO / "teaching_coordinates.csv"):
        for col in ("latitude", "longitude"):
            assert len(r[col].split(".")[1]) == 4, (r["municipality"], col, r[col])


def test_inside_denmark_bounding_box(coords):
    for name, (lat, lon) in coords.items():
        assert LAT_MIN <= lat <= LAT_MAX, (name, lat)
        assert LON_MIN <= lon <= LON_MAX, (name, lon)


def test_bornholm_is_the_only_one_east_of_13(coords):
    assert [name for name, (_, lon) in coords.items() if lon > 13.0] == ["Bornholm"]


REGION_BANDS = {
    # region: (lat_min, lat_max, lon_min, lon_max) for the centroid of its seats
    "Nordjylland": (56.5, LAT_MAX, LON_MIN, LON_MAX),
    "Midtjylland": (55.8, 56.8, LON_MIN, LON_MAX),
    "Syddanmark": (LAT_MIN, 56.0, LON_MIN, 11.0),
    "Hovedstaden": (55.5, LAT_MAX, 11.9, LON_MAX),  # without Bornholm
    "Sjælland": (LAT_MIN, 56.1, 10.9, LON_MAX),
}


@pytest.mark.parametrize("region", sorted(REGION_BANDS))
def test_region_centroid_in_plausible_band(region, denmark, coords):
    pts = [
        coords[r["municipality"]]
        for r in denmark
        if r["region_current"] == region and r["municipality"] != "Bornholm"
    ]
    assert pts, region
    lat, lon = centroid(pts)
    lat_min, lat_max, lon_min, lon_max = REGION_BANDS[region]
    assert lat_min < lat < lat_max, (region, lat)
    assert lon_min < lon < lon_max, (region, lon)


def test_all_regions_have_a_band(denmark):
    assert {r["region_current"] for r in denmark} == set(REGION_BANDS)


def test_no_two_seats_too_close(coords):
    assert too_close(coords) == []


def test_too_close_detects_duplicates():
    pts = {"A": (56.0, 9.0), "B": (56.0, 9.001), "København": (55.6761, 12.5683)}
    pts["Frederiksberg"] = (55.6761, 12.5783)  # about 0.63 km: allowed for this pair only
    assert [(a, b) for a, b, _ in too_close(pts)] == [("A", "B")]


def test_haversine_known_distance():
    # Aarhus-Aalborg seats are about 100 km apart in a straight line.
    assert 95 < haversine_km((56.1567, 10.2108), (57.0488, 9.9217)) < 105


def test_teaching_file_covers_teaching_municipalities():
    teaching = [r["municipality"] for r in read_rows(GEO / "teaching.csv")]
    names = [r["municipality"] for r in read_rows(GEO / "teaching_coordinates.csv")]
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(teaching)


def test_teaching_points_in_jutland_15_to_40_km_apart():
    pts = points(GEO / "teaching_coordinates.csv")
    for name, (lat, lon) in pts.items():
        assert 54.8 < lat < 57.6 and 8.0 < lon < 10.7, (name, lat, lon)
    names = list(pts)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert 15 <= haversine_km(pts[a], pts[b]) <= 40, (a, b)
