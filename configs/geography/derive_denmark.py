"""Derive denmark.csv from the inputs listed in denmark.sources.yaml (steps 1-5 there).

Run from the project root: python configs/geography/derive_denmark.py
Standard library only. Reads municipalities_reform.csv (names, regions, councils).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

HERE = Path(__file__).parent
NATIONAL_2024 = 5961249  # Statistics Denmark, 1 Jan 2024
BANDS_2024 = (622952, 468230, 140272)  # BEFOLK2 1 Jan 2024: 65-74, 75-84, 85+
COUNCIL_THOUSANDS = {  # reform proposal Dec 2024, figure 9
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
CAP = 990  # max cut per council (stay within 1,000)
REGION_65 = {
    "Hovedstaden": 0.175,
    "Sjælland": 0.235,
    "Syddanmark": 0.225,
    "Nordjylland": 0.230,
    "Midtjylland": 0.200,
}
ANCHOR_65 = {
    "København": 0.105,
    "Aarhus": 0.150,
    "Læsø": 0.40,
    "Ærø": 0.37,
    "Samsø": 0.355,
    "Odsherred": 0.31,
    "Hørsholm": 0.30,
}
GP = 59.0  # ca. 3,500 FTE GPs / 5,961,249 x 100,000
# Official municipal counts (1 Jan 2023; Nordjylland 1 Jan 2020), shares within councils only.
BASE = {
    # Nordjylland 2020
    "Aalborg": 217075,
    "Brønderslev": 36304,
    "Frederikshavn": 59654,
    "Hjørring": 64483,
    "Jammerbugt": 38324,
    "Læsø": 1786,
    "Mariagerfjord": 41800,
    "Morsø": 20247,
    "Rebild": 30113,
    "Thisted": 43423,
    "Vesthimmerland": 36727,
    # Midtjylland 2023
    "Favrskov": 49408,
    "Hedensted": 47609,
    "Herning": 89952,
    "Holstebro": 58978,
    "Horsens": 96480,
    "Ikast-Brande": 42540,
    "Lemvig": 19371,
    "Norddjurs": 36978,
    "Odder": 23626,
    "Randers": 99931,
    "Ringkøbing-Skjern": 56348,
    "Samsø": 3775,
    "Silkeborg": 99400,
    "Skanderborg": 65138,
    "Skive": 45069,
    "Struer": 20794,
    "Syddjurs": 44207,
    "Viborg": 97731,
    "Aarhus": 361544,
    # Syddanmark 2023
    "Assens": 40944,
    "Billund": 27021,
    "Esbjerg": 115758,
    "Fanø": 3426,
    "Fredericia": 52173,
    "Faaborg-Midtfyn": 52253,
    "Haderslev": 55353,
    "Kerteminde": 23991,
    "Kolding": 94528,
    "Langeland": 12384,
    "Middelfart": 39961,
    "Nordfyn": 29726,
    "Nyborg": 32262,
    "Odense": 207762,
    "Svendborg": 59735,
    "Sønderborg": 74380,
    "Tønder": 36878,
    "Varde": 49995,
    "Vejen": 42924,
    "Vejle": 120949,
    "Ærø": 6008,
    "Aabenraa": 59002,
    # Sjaelland 2023
    "Faxe": 37344,
    "Greve": 51507,
    "Guldborgssund": 60231,
    "Holbæk": 73440,
    "Kalundborg": 48602,
    "Køge": 62458,
    "Lejre": 28930,
    "Lolland": 39921,
    "Næstved": 84574,
    "Odsherred": 32977,
    "Ringsted": 35906,
    "Roskilde": 90446,
    "Slagelse": 79728,
    "Solrød": 24216,
    "Sorø": 30444,
    "Stevns": 23692,
    "Vordingborg": 45441,
    # Hovedstaden 2023
    "Albertslund": 27530,
    "Allerød": 26061,
    "Ballerup": 50039,
    "Bornholm": 39602,
    "Brøndby": 37128,
    "Dragør": 14609,
    "Egedal": 45202,
    "Fredensborg": 41689,
    "Frederiksberg": 104664,
    "Frederikssund": 46117,
    "Furesø": 42077,
    "Gentofte": 74838,
    "Gladsaxe": 70001,
    "Glostrup": 23635,
    "Gribskov": 41547,
    "Halsnæs": 31466,
    "Helsingør": 63399,
    "Herlev": 29215,
    "Hillerød": 54159,
    "Hvidovre": 53443,
    "Høje-Taastrup": 55258,
    "Hørsholm": 24715,
    "Ishøj": 23457,
    "København": 653664,
    "Lyngby-Taarbæk": 58434,
    "Rudersdal": 57193,
    "Rødovre": 42563,
    "Tårnby": 43042,
    "Vallensbæk": 17031,
}


def largest_remainder(values: dict[str, float], total: int) -> dict[str, int]:
    out = {k: math.floor(v) for k, v in values.items()}
    for k in sorted(values, key=lambda k: values[k] - out[k], reverse=True)[
        : total - sum(out.values())
    ]:
        out[k] += 1
    return out


def council_targets() -> dict[str, int]:
    fig9 = {c: t * 1000 for c, t in COUNCIL_THOUSANDS.items()}
    cut = {c: 0.0 for c in fig9}
    free, rest = set(fig9), sum(fig9.values()) - NATIONAL_2024
    while rest > 1e-9:
        tot = sum(fig9[c] for c in free)
        over = [c for c in free if cut[c] + rest * fig9[c] / tot > CAP]
        if not over:
            for c in free:
                cut[c] += rest * fig9[c] / tot
            rest = 0.0
        else:
            for c in over:
                rest -= CAP - cut[c]
                cut[c] = CAP
                free.discard(c)
    return largest_remainder({c: fig9[c] - cut[c] for c in fig9}, NATIONAL_2024)


def main() -> None:
    rows = list(csv.DictReader(open(HERE / "municipalities_reform.csv", encoding="utf-8")))
    target = council_targets()
    base_sum: dict[str, int] = {}
    for r in rows:
        base_sum[r["health_council"]] = (
            base_sum.get(r["health_council"], 0) + BASE[r["municipality"]]
        )
    pop: dict[str, int] = {}
    for c in target:
        ms = {
            r["municipality"]: BASE[r["municipality"]] * target[c] / base_sum[c]
            for r in rows
            if r["health_council"] == c
        }
        pop.update(largest_remainder(ms, target[c]))
    share: dict[str, float] = {}
    for region, s in REGION_65.items():
        ms = [r["municipality"] for r in rows if r["region_current"] == region]
        anchors = [m for m in ms if m in ANCHOR_65]
        total = sum(pop[m] for m in ms)
        level = (s * total - sum(pop[m] * ANCHOR_65[m] for m in anchors)) / (
            total - sum(pop[m] for m in anchors)
        )
        for m in ms:
            share[m] = ANCHOR_65.get(m, level)
    norm = sum(BANDS_2024) / sum(pop[m] * share[m] for m in pop)
    bands = [
        largest_remainder({m: pop[m] * share[m] * norm * b / sum(BANDS_2024) for m in pop}, b)
        for b in BANDS_2024
    ]
    with open(HERE / "denmark.csv", "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(
            [
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
        )
        for r in rows:
            m = r["municipality"]
            out.writerow(
                [
                    m,
                    r["region_current"],
                    r["region_reform"],
                    r["health_council"],
                    pop[m],
                    bands[0][m],
                    bands[1][m],
                    bands[2][m],
                    GP,
                ]
            )


if __name__ == "__main__":
    main()
