"""Derive denmark.csv: documents exactly how the national geography was built.

Run from the project root: python configs/geography/derive_denmark.py
Inputs: the municipality → region/council table and council populations of the reform
proposal (seeds/002, figure 9), embedded below; approximate 2024 municipal populations
(an assumption, used only for shares within a council); national age shares (Statistics
Denmark) with regional and urban/island factors (assumptions, see denmark.sources.yaml).
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).parent
NATIONAL_POPULATION = 5_961_249  # Statistics Denmark, 1 Jan 2024
# National age shares 2024 (Statistics Denmark; 65+ ≈ 20.5 %, 80+ ≈ 5.3 %): 65-74, 75-84, 85+
BAND_SHARES = (0.115, 0.068, 0.023)
# Assumed relative share of 65+ by current region (CALIBRATION.md: Hovedstaden 17-18 %,
# Sjælland, Nordjylland, Syddanmark 22-24 %).
REGION_FACTOR = {"Hovedstaden": 0.86, "Sjælland": 1.12, "Syddanmark": 1.07, "Nordjylland": 1.10, "Midtjylland": 0.98}
URBAN = {"København": 0.62, "Frederiksberg": 0.72, "Aarhus": 0.72, "Odense": 0.82, "Aalborg": 0.80}
ISLAND = {"Læsø", "Samsø", "Ærø", "Fanø", "Langeland", "Bornholm", "Lolland", "Morsø", "Odsherred"}
ISLAND_FACTOR = 1.35
# GP doctor capacity per 100,000 need-weighted inhabitants by reform region (assumption
# within the 45-66 range of the reform's figure 6).
GP_BY_REGION = {"Østdanmark": 55.0, "Nordjylland": 52.0, "Midtjylland": 57.0, "Syddanmark": 55.0}
GP_SJAELLAND = 48.0  # the Sjælland part of Østdanmark has the lowest coverage (figure 6)
GP_CAPITAL = 62.0  # Hovedstaden councils

COUNCIL_THOUSANDS = {  # seeds/002 figure 9
    "Vendsyssel": 160, "Limfjorden": 432, "Kronjylland": 230, "Horsens": 235, "Aarhus": 372,
    "Vestjylland": 287, "Midt": 244, "Fyn": 466, "Trekantsområdet": 310, "Sydvestjylland": 238,
    "Sønderjylland": 225, "Hovedstaden": 806, "Hovedstaden Syd og Vest": 304, "Hovedstaden Nord": 477,
    "Nordsjælland": 332, "Østsjælland og øerne": 437, "Midt- og Vestsjælland": 416,
}
# Approximate inhabitants (thousands) 2024, used only as shares within each council.
APPROX_THOUSANDS = {
    "Hjørring": 64.0, "Brønderslev": 37.2, "Læsø": 1.7, "Frederikshavn": 58.8, "Aalborg": 222.5,
    "Vesthimmerland": 36.5, "Jammerbugt": 38.2, "Morsø": 19.6, "Rebild": 30.9, "Thisted": 43.0,
    "Mariagerfjord": 41.7, "Randers": 99.5, "Favrskov": 50.6, "Norddjurs": 37.0, "Syddjurs": 43.9,
    "Horsens": 98.5, "Hedensted": 47.7, "Odder": 23.8, "Skanderborg": 64.9, "Aarhus": 367.1,
    "Samsø": 3.7, "Herning": 90.0, "Holstebro": 59.5, "Ikast-Brande": 42.0, "Lemvig": 19.5,
    "Ringkøbing-Skjern": 56.3, "Struer": 20.6, "Viborg": 98.4, "Skive": 45.9, "Silkeborg": 100.3,
    "Odense": 209.0, "Assens": 41.0, "Faaborg-Midtfyn": 51.5, "Nordfyn": 29.7, "Kerteminde": 24.0,
    "Ærø": 5.9, "Langeland": 12.1, "Nyborg": 32.5, "Svendborg": 59.2, "Kolding": 95.0,
    "Fredericia": 52.0, "Middelfart": 39.9, "Vejle": 122.0, "Esbjerg": 115.9, "Fanø": 3.5,
    "Varde": 50.0, "Vejen": 42.7, "Billund": 27.0, "Sønderborg": 73.9, "Tønder": 37.0,
    "Haderslev": 55.7, "Aabenraa": 58.7, "København": 660.8, "Frederiksberg": 104.5,
    "Bornholm": 38.9, "Hvidovre": 54.2, "Dragør": 14.8, "Tårnby": 43.9, "Albertslund": 28.3,
    "Brøndby": 39.2, "Glostrup": 23.5, "Høje-Taastrup": 58.6, "Ishøj": 23.5, "Vallensbæk": 17.0,
    "Herlev": 30.5, "Ballerup": 52.1, "Gentofte": 75.0, "Gladsaxe": 70.5, "Lyngby-Taarbæk": 57.0,
    "Rødovre": 41.4, "Egedal": 44.3, "Furesø": 41.5, "Rudersdal": 57.5, "Hillerød": 53.8,
    "Allerød": 26.4, "Fredensborg": 41.5, "Frederikssund": 46.5, "Gribskov": 41.6, "Halsnæs": 31.6,
    "Helsingør": 63.5, "Hørsholm": 25.0, "Køge": 63.5, "Solrød": 23.8, "Greve": 51.8,
    "Roskilde": 90.5, "Stevns": 23.2, "Faxe": 37.7, "Vordingborg": 45.6, "Guldborgssund": 60.3,
    "Lolland": 40.4, "Slagelse": 80.0, "Holbæk": 73.5, "Næstved": 84.5, "Ringsted": 36.0,
    "Sorø": 30.3, "Odsherred": 33.0, "Kalundborg": 48.5, "Lejre": 29.4,
}


def main() -> None:
    rows = list(csv.DictReader(open(HERE / "municipalities_reform.csv", encoding="utf-8")))
    scale = NATIONAL_POPULATION / (1000 * sum(COUNCIL_THOUSANDS.values()))
    council_sum = {}
    for r in rows:
        council_sum[r["health_council"]] = council_sum.get(r["health_council"], 0.0) + APPROX_THOUSANDS[r["municipality"]]
    pop = {
        r["municipality"]: APPROX_THOUSANDS[r["municipality"]] / council_sum[r["health_council"]]
        * COUNCIL_THOUSANDS[r["health_council"]] * 1000 * scale
        for r in rows
    }
    weight = {}
    for r in rows:
        m = r["municipality"]
        w = REGION_FACTOR[r["region_current"]] * URBAN.get(m, 1.0) * (ISLAND_FACTOR if m in ISLAND else 1.0)
        weight[m] = w
    norm = sum(pop[m] * weight[m] for m in pop) / NATIONAL_POPULATION
    with open(HERE / "denmark.csv", "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["municipality", "region_current", "region_reform", "health_council", "population",
                      "pop_65_74", "pop_75_84", "pop_85plus", "gp_capacity_per_100k"])
        for r in rows:
            m = r["municipality"]
            bands = [round(pop[m] * share * weight[m] / norm) for share in BAND_SHARES]
            if r["health_council"].startswith("Hovedstaden"):
                gp = GP_CAPITAL
            elif r["region_current"] == "Sjælland":
                gp = GP_SJAELLAND
            else:
                gp = GP_BY_REGION[r["region_reform"]]
            out.writerow([m, r["region_current"], r["region_reform"], r["health_council"], round(pop[m]), *bands, gp])


if __name__ == "__main__":
    main()
