"""Municipalities and the areas they belong to, read from a CSV with clear errors."""

from __future__ import annotations

import csv
import dataclasses
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import ConfigError, Problem

COLUMNS = (
    "municipality",
    "region_current",
    "region_reform",
    "health_council",
    "population",
    "pop_65_74",
    "pop_75_84",
    "pop_85plus",
    "gp_capacity_per_100k",
)
_INT_COLUMNS = ("population", "pop_65_74", "pop_75_84", "pop_85plus")


@dataclass(frozen=True)
class Geography:
    """Municipalities (the atoms) and their council and regions, as parallel arrays."""

    municipalities: tuple[str, ...]
    councils: tuple[str, ...]
    regions_current: tuple[str, ...]
    regions_reform: tuple[str, ...]
    council_of: np.ndarray  # municipality -> council index
    region_current_of: np.ndarray
    region_reform_of: np.ndarray
    population: np.ndarray  # inhabitants
    pop_by_band: np.ndarray  # (municipality, 3) for 65_74, 75_84, 85plus
    gp_capacity_per_100k: np.ndarray
    #: great-circle km between municipal seats; zeros when no coordinates are given
    distance_km: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.municipalities)

    def distances(self) -> np.ndarray:
        """Km between municipalities (n × n); all zero without coordinates."""
        return np.zeros((self.n, self.n)) if self.distance_km is None else self.distance_km

    def subset(self, names: list[str]) -> Geography:
        """Only the named municipalities (areas keep their full name lists)."""
        index = {m: i for i, m in enumerate(self.municipalities)}
        idx = np.array([index[n] for n in names], dtype=np.int64)
        return Geography(
            municipalities=tuple(names),
            councils=self.councils,
            regions_current=self.regions_current,
            regions_reform=self.regions_reform,
            council_of=self.council_of[idx],
            region_current_of=self.region_current_of[idx],
            region_reform_of=self.region_reform_of[idx],
            population=self.population[idx],
            pop_by_band=self.pop_by_band[idx],
            gp_capacity_per_100k=self.gp_capacity_per_100k[idx],
            distance_km=None if self.distance_km is None else self.distance_km[np.ix_(idx, idx)],
        )

    def whole_councils(self, share: float) -> Geography:
        """About `share` of the population as whole health councils at full density.

        Thinning every area instead would shrink every queue: a municipality's three beds
        become one, blocking rises and per-1,000 results drift with the scale. Whole councils
        keep their hospital, beds and teams at their real size. Per reform region, the
        councils whose share of the region's 65+ is closest to `share`, plus the distance of
        their age mix from the region's (so the sample stays representative); at least one
        council per region.
        """
        if share >= 1.0:
            return self
        keep: list[int] = []
        for region in np.unique(self.region_reform_of):
            councils = np.unique(self.council_of[self.region_reform_of == region])
            bands = np.array(
                [self.pop_by_band[self.council_of == c].sum(axis=0) for c in councils], float
            )
            total = bands.sum(axis=0)
            best, chosen = math.inf, ()
            for size in range(1, len(councils) + 1):
                for combo in itertools.combinations(range(len(councils)), size):
                    part = bands[list(combo)].sum(axis=0)
                    score = abs(part.sum() / total.sum() - share) + float(
                        np.abs(part / part.sum() - total / total.sum()).sum()
                    )
                    if score < best - 1e-12:
                        best, chosen = score, combo
            keep += [int(councils[i]) for i in chosen]
        mask = np.isin(self.council_of, keep)
        return self.subset([m for m, k in zip(self.municipalities, mask, strict=True) if k])

    def with_coordinates(self, path: Path, field: str = "geography.coordinates") -> Geography:
        """Distances from a CSV of municipality,latitude,longitude (every municipality)."""
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                rows = list(csv.reader(fh))
        except (OSError, UnicodeDecodeError, csv.Error) as err:
            raise ConfigError(
                [Problem(str(path), None, field, f"cannot read coordinates: {err}")]
            ) from None
        header = ("municipality", "latitude", "longitude")
        if not rows or tuple(rows[0]) != header:
            raise ConfigError([Problem(str(path), 1, field, f"expected header {','.join(header)}")])
        found: dict[str, tuple[float, float]] = {}
        problems: list[Problem] = []
        for lineno, row in enumerate(rows[1:], start=2):
            if not row:
                continue
            try:
                lat, lon = float(row[1]), float(row[2])
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise ValueError
            except (ValueError, IndexError):
                problems.append(
                    Problem(str(path), lineno, field, f"expected latitude and longitude, got {row}")
                )
                continue
            found[row[0]] = (lat, lon)
        missing = [m for m in self.municipalities if m not in found]
        if missing:
            problems.append(Problem(str(path), None, field, f"no coordinates for {missing}"))
        if problems:
            raise ConfigError(problems)
        lat, lon = np.radians(np.array([found[m] for m in self.municipalities])).T
        dlat, dlon = lat[:, None] - lat[None, :], lon[:, None] - lon[None, :]
        a = (
            np.sin(dlat / 2) ** 2
            + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
        )
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
        return dataclasses.replace(self, distance_km=km)


#: mean Earth radius (IUGG), for great-circle distances
EARTH_RADIUS_KM = 6371.0


def _codes(values: list[str]) -> tuple[tuple[str, ...], np.ndarray]:
    names = tuple(dict.fromkeys(values))
    lookup = {n: i for i, n in enumerate(names)}
    return names, np.array([lookup[v] for v in values], dtype=np.int64)


#: Largest believable value per column: more people than any country's municipality, or
#: more GPs than inhabitants, is a typo that would otherwise overflow the model's arrays.
MAX_COUNT = {**dict.fromkeys(_INT_COLUMNS, 1e8), "gp_capacity_per_100k": 1e5}


def _bad_count(text: str, limit: float) -> str | None:
    """Why a count cell is unusable, or None."""
    try:
        value = float(text)
    except ValueError:
        return f"expected a number >= 0, got {text!r}"
    if not math.isfinite(value):
        return f"expected a finite number >= 0, got {text!r}"
    if value < 0:
        return f"expected a number >= 0, got {text!r}"
    if value > limit:
        return f"{text} is implausible: at most {limit:,.0f}"
    return None


def load_geography(path: Path, field: str = "geography.file") -> Geography:
    """Read a geography CSV; every problem names the file, the line and the column."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ConfigError(
            [Problem(str(path), None, field, f"cannot read geography file: {err}")]
        ) from None
    if not rows or tuple(rows[0]) != COLUMNS:
        got = ",".join(rows[0]) if rows else "(empty file)"
        raise ConfigError(
            [Problem(str(path), 1, field, f"expected header {','.join(COLUMNS)}; got {got}")]
        )
    problems: list[Problem] = []
    records: list[dict[str, str]] = []
    seen: set[str] = set()
    for lineno, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(COLUMNS):
            problems.append(
                Problem(
                    str(path), lineno, field, f"expected {len(COLUMNS)} columns, got {len(row)}"
                )
            )
            continue
        rec = dict(zip(COLUMNS, row))
        if rec["municipality"] in seen:
            problems.append(
                Problem(str(path), lineno, field, f"municipality {rec['municipality']!r} repeated")
            )
        seen.add(rec["municipality"])
        for col in ("municipality", "region_current", "region_reform", "health_council"):
            if not rec[col].strip():
                problems.append(Problem(str(path), lineno, f"{field}:{col}", "empty name"))
        for col in (*_INT_COLUMNS, "gp_capacity_per_100k"):
            problem = _bad_count(rec[col], MAX_COUNT[col])
            if problem:
                problems.append(Problem(str(path), lineno, f"{field}:{col}", problem))
        records.append(rec)
    if not records and not problems:
        problems.append(Problem(str(path), 2, field, "no municipalities in the file"))
    if problems:
        raise ConfigError(problems)
    councils, council_of = _codes([r["health_council"] for r in records])
    reg_cur, reg_cur_of = _codes([r["region_current"] for r in records])
    reg_ref, reg_ref_of = _codes([r["region_reform"] for r in records])
    return Geography(
        municipalities=tuple(r["municipality"] for r in records),
        councils=councils,
        regions_current=reg_cur,
        regions_reform=reg_ref,
        council_of=council_of,
        region_current_of=reg_cur_of,
        region_reform_of=reg_ref_of,
        population=np.array([float(r["population"]) for r in records]),
        pop_by_band=np.array(
            [[float(r[c]) for c in ("pop_65_74", "pop_75_84", "pop_85plus")] for r in records]
        ),
        gp_capacity_per_100k=np.array([float(r["gp_capacity_per_100k"]) for r in records]),
    )
