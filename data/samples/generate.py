#!/usr/bin/env python3
"""Regenerate the sample data files of the embedded Kansas City program.

    python data/samples/generate.py            # rewrites data/samples/*.csv
    python data/samples/generate.py --out DIR  # writes them to DIR instead (the tests compare)

Every file is derived from its Table Schema in ``schemas/<id>.schema.json`` (field order, types and
constraints) plus the per-dataset spec below (row count, id format, date range, realistic value lists),
with a ``random.Random`` seeded by the dataset id: the output is byte-identical on every run and platform.
Standard library only, so it runs before the project is installed.

Four files are deliberately flawed (``FLAWS``) so validation has something to find; each flaw is
documented in ``data/samples/README.md`` and checked by ``tests/test_samples.py``. The values are
invented: addresses are plausible Kansas City blocks, businesses are made up, no person is named.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import io
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCHEMA_DIR = ROOT / "schemas"

Row = dict[str, Any]
Hook = Callable[[random.Random, Row, int], None]

# ----------------------------------------------------------------------------- value lists
STREETS = [
    "Troost Ave", "Prospect Ave", "Main St", "Broadway Blvd", "The Paseo", "Wornall Rd", "Ward Pkwy",
    "Independence Ave", "Truman Rd", "E 31st St", "E 39th St", "W 47th St", "E 63rd St", "E 75th St",
    "E 85th St", "Blue Ridge Blvd", "Linwood Blvd", "Armour Blvd", "Gillham Rd", "Holmes Rd", "State Line Rd",
    "N Oak Trfy", "NE Barry Rd", "N Antioch Rd", "Red Bridge Rd", "E Bannister Rd", "Van Brunt Blvd",
    "Swope Pkwy", "Benton Blvd", "Cleveland Ave", "Grand Blvd", "Oak St", "Locust St", "Charlotte St",
    "Holly St", "Summit St", "Southwest Trfy", "Brush Creek Blvd", "Meyer Blvd", "Noland Rd", "NW 72nd St",
    "N Brighton Ave", "E 12th St", "E 18th St", "Westport Rd", "Belleview Ave", "Woodland Ave", "Indiana Ave",
]
NEIGHBORHOODS = [
    "Westport", "Crossroads", "Brookside", "Waldo", "Midtown", "Hyde Park", "Northeast", "Blue Valley",
    "Marlborough", "Ivanhoe", "Columbus Park", "River Market", "Country Club Plaza", "Westside", "Volker",
    "Rockhill", "Armour Hills", "Santa Fe", "Troost Lake", "Oak Park", "Town Fork Creek", "Swope Park Campus",
    "Blue Hills", "Longfellow", "Squier Park", "Lykins", "Pendleton Heights", "Briarcliff", "Gashland",
    "Red Bridge", "Ruskin Heights", "Hickman Mills", "Dunbar", "Boston Heights", "Wendell Phillips",
]
ZIPS = [
    "64105", "64106", "64108", "64109", "64110", "64111", "64112", "64113", "64114", "64116", "64117",
    "64118", "64119", "64120", "64123", "64124", "64125", "64126", "64127", "64128", "64129", "64130",
    "64131", "64132", "64133", "64134", "64136", "64137", "64138", "64139", "64145", "64146", "64151",
    "64152", "64153", "64154", "64155", "64156", "64157", "64158", "64161", "64163", "64164", "64165",
]
VENDORS = [
    "Blue River Paving LLC", "Heartland Pipe & Supply Inc.", "Missouri Valley Electric Co.",
    "Prairie Fire Consulting Group", "Riverbend Environmental Services", "Midwest Fleet Parts Inc.",
    "Crown Center Office Supply", "Kaw Point Engineering PC", "Northland Landscape Co.",
    "Show-Me Janitorial Services", "Gateway Analytics LLC", "Plaza Uniform Company", "Union Hill Builders Inc.",
    "KC Asphalt Partners", "Cardinal Traffic Systems", "Arrowhead Software Inc.",
]
BUSINESS_A = ["Crossroads", "Westport", "Brookside", "River Market", "Union Hill", "Northland", "Blue Valley",
              "Prospect", "Waldo", "Gateway", "Heartland", "Boulevard", "Plaza", "Midtown", "Swope"]
BUSINESS_B = ["Taco", "Barbecue", "Bakery", "Coffee", "Grocery", "Pho", "Pizza", "Diner", "Market",
              "Kitchen", "Burger", "Tea House", "Deli", "Creamery", "Noodle Bar"]
BUSINESS_C = ["Co.", "LLC", "& Sons Inc.", "House", "Shop", "Company", "Express", "Place"]
OFFENSE_CODES = {
    "Aggravated Assault": "13A", "Simple Assault": "13B", "Burglary": "220", "Robbery": "120",
    "Stealing from Auto": "23F", "Auto Theft": "240", "Vandalism": "290", "Shoplifting": "23C", "Fraud": "26A",
    "Drug Violation": "35A", "Homicide": "09A", "Arson": "200",
}
OFFENSE_WEIGHTS = [9, 16, 10, 5, 14, 12, 13, 8, 6, 5, 1, 1]

# ----------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class Spec:
    """How to fill one dataset's file beyond what its schema says."""

    rows: int
    key: str  # str.format pattern for the row identifier, with {n}
    start: dt.date
    end: dt.date
    key_start: int = 1
    key_step: tuple[int, int] = (1, 1)  # gap between consecutive ids (min, max)
    choices: dict[str, list[Any]] = field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    weights: dict[str, list[int]] = field(default_factory=dict)  # weights for an enum or a choices list
    true_rate: dict[str, float] = field(default_factory=dict)
    after: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # field: (earlier field, min, max days)
    days: dict[str, tuple[str, str]] = field(default_factory=dict)  # field = whole days between two dates
    blank: dict[str, float] = field(default_factory=dict)  # blank rate for optional fields (default 0.03)
    hook: Hook | None = None
    sort_by: str | None = None  # rows in a natural order (by a date); ids are then assigned in that order
    key_fn: Callable[[Row, int], str] | None = None  # builds the id from the row and the running number


def add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + y, m + 1, min(day.day, calendar.monthrange(day.year + y, m + 1)[1]))


def _days_between(row: Row, a: str, b: str) -> int | None:
    if isinstance(row.get(a), dt.date) and isinstance(row.get(b), dt.date):
        first, second = row[a], row[b]
        if isinstance(first, dt.datetime) != isinstance(second, dt.datetime):
            return None
        return (second - first).days
    return None


def chain(*hooks: Hook) -> Hook:
    """Run several hooks in order (a grid hook, then the dataset's own)."""

    def hook(rng: random.Random, row: Row, i: int) -> None:
        for h in hooks:
            h(rng, row, i)

    return hook


def month_code(m: dt.date, c: str) -> str:
    return f"{m:%Y-%m}-{c[:3].upper()}"


def carrier_code(m: dt.date, c: str) -> str:
    return f"{m:%Y-%m}-{CARRIER_CODES[c]}"


def zoning_key(row: Row, n: int) -> str:
    kind = {"Rezoning": "ZN", "Variance": "BZA"}.get(row["case_type"], "CPC")
    return f"CD-{kind}-{row['filed_date'].year}-{n:05d}"


def grid_hook(month_field: str, cat_field: str, cats: list[str], key_fmt: Callable[[dt.date, str], str],
              start: dt.date) -> Hook:
    """Rows as month × category (aggregate datasets): the i-th row is one month and one category."""

    def hook(rng: random.Random, row: Row, i: int) -> None:
        month = add_months(start, i // len(cats))
        cat = cats[i % len(cats)]
        row[month_field] = month
        row[cat_field] = cat
        row["__key__"] = key_fmt(month, cat)

    return hook


# ----------------------------------------------------------------------------- per-dataset hooks


def h_311(rng: random.Random, row: Row, i: int) -> None:
    opened = row["open_date_time"]
    if row["current_status"] in {"resolved", "closed", "Closed", "canceled"}:
        hours = rng.randint(1, 24 * 45)
        resolved = opened + dt.timedelta(hours=hours, minutes=rng.randint(0, 59))
        row["resolved_date"] = resolved
        row["days_to_close"] = round((resolved - opened).total_seconds() / 86400, 2)
        row["last_updated"] = resolved + dt.timedelta(minutes=rng.randint(1, 600))
    else:
        row["resolved_date"] = None
        row["days_to_close"] = None
        row["last_updated"] = opened + dt.timedelta(hours=rng.randint(1, 24 * 10))
    sub = {
        "A Pothole": ["Street", "Alley", "Bridge Deck"], "Graffiti": ["Public Property", "Private Property"],
        "Animal Services": ["Stray Dog", "Barking Dog", "Dead Animal Pickup"],
        "Dangerous Buildings": ["Open to Entry", "Collapsed Structure"], "Homeless Camp": ["Encampment"],
        "Trash / Recycling": ["Missed Trash", "Missed Recycling", "Bulky Item"],
        "Streetlight Out": ["Single Light", "Multiple Lights"], "Water Leak": ["Street", "Meter Box"],
        "Illegal Dumping": ["Tires", "Household Debris", "Construction Debris"],
        "Property Violation": ["Tall Grass/Weeds", "Trash and Debris", "Inoperable Vehicle"],
    }[row["issue_type"]]
    row["issue_sub_type"] = rng.choice(sub)
    row["department_work_group"] = {
        "A Pothole": "Public Works - Street Maintenance", "Graffiti": "Neighborhoods - Graffiti Abatement",
        "Animal Services": "Neighborhoods - Animal Services",
        "Dangerous Buildings": "Neighborhoods - Dangerous Buildings",
        "Homeless Camp": "Neighborhoods - Homeless Services", "Trash / Recycling": "Public Works - Solid Waste",
        "Streetlight Out": "Public Works - Street Lighting", "Water Leak": "KC Water - Distribution",
        "Illegal Dumping": "Public Works - Solid Waste", "Property Violation": "Neighborhoods - Code Enforcement",
    }[row["issue_type"]]
    if rng.random() < 0.6:
        row["workorder_"] = None


def h_311_legacy(rng: random.Random, row: Row, i: int) -> None:
    row["creation_year"] = row["creation_date"].year
    if row["status"] in {"OPEN", "ASSIG"}:
        row["closed_date"] = None
    if row["closed_date"] is None:
        row["days_to_close"] = None
        row["exceeded_est_timeframe"] = None
    else:
        row["days_to_close"] = (row["closed_date"] - row["creation_date"]).days
        row["exceeded_est_timeframe"] = row["days_to_close"] > 14
    row["request_type"] = {
        "Public Works": ["Pothole", "Street Sign Down", "Snow Removal"],
        "Neighborhoods": ["Trash in Yard", "Tall Grass", "Abandoned Vehicle"],
        "KC Water": ["Water Main Break", "Sewer Backup", "Fire Hydrant Leak"],
        "Parks & Recreation": ["Tree Trimming", "Park Maintenance"],
        "Health": ["Restaurant Complaint", "Mosquito Control"],
        "Solid Waste": ["Missed Trash Pickup", "Bulky Item Pickup", "Recycling Cart"],
    }[row["department"]][rng.randrange(2)]
    row["work_group"] = row["department"] + " - " + rng.choice(["North", "Central", "South", "East"])


def h_crime(date_field: str, time_field: str) -> Hook:
    def hook(rng: random.Random, row: Row, i: int) -> None:
        row["ibrs"] = OFFENSE_CODES[row["offense"]]
        if row["offense"] not in {"Aggravated Assault", "Robbery", "Homicide"}:
            row["firearm_used_flag"] = False
        if "from_date" in row and row.get("from_date") is not None:
            row["from_date"] = row[date_field] - dt.timedelta(days=rng.choice([0, 0, 0, 1, 2, 7]))
        row["address"] = f"{rng.randint(1, 120) * 100} {rng.choice(STREETS).upper()}"

    return hook


def h_water_main(rng: random.Random, row: Row, i: int) -> None:
    if row["repaired_date"] is not None:
        row["repaired_date"] = row["reported_date"] + dt.timedelta(days=int(row["repair_hours"] // 24))
    if row["main_diameter_in"] >= 16:
        row["boil_advisory"] = rng.random() < 0.4
    row["customers_affected"] = rng.randint(0, 40) * (2 if row["main_diameter_in"] >= 12 else 1)


def h_hydrant(rng: random.Random, row: Row, i: int) -> None:
    flow = row.get("flow_gpm")
    if flow is None:
        row["nfpa_color"] = None
    else:
        row["nfpa_color"] = "Blue" if flow >= 1500 else "Green" if flow >= 1000 else "Orange" if flow >= 500 else "Red"


def h_on_time(rng: random.Random, row: Row, i: int) -> None:
    scheduled = row["scheduled_departures"]
    row["on_time_departures"] = int(scheduled * rng.uniform(0.68, 0.92))
    row["cancelled"] = rng.randint(0, max(1, scheduled // 40))
    row["on_time_percent"] = round(100 * row["on_time_departures"] / scheduled, 1)


def h_survey(rng: random.Random, row: Row, i: int) -> None:
    row["satisfied"] = int(row["responses"] * rng.uniform(0.55, 0.9))
    row["percent_satisfied"] = round(100 * row["satisfied"] / row["responses"], 1)
    row["met_target"] = row["percent_satisfied"] >= 70


def h_court(rng: random.Random, row: Row, i: int) -> None:
    row["cases_disposed"] = int(row["cases_filed"] * rng.uniform(0.7, 1.15))


def h_lead(rng: random.Random, row: Row, i: int) -> None:
    elevated = int(row["children_tested"] * rng.uniform(0.005, 0.09))
    row["elevated_count"] = elevated
    row["percent_elevated"] = round(100 * elevated / row["children_tested"], 1)


def h_kcstat(rng: random.Random, row: Row, i: int) -> None:
    measures = {
        "Finance & Governance": ("311 service requests closed on time (%)", 85),
        "Housing & Healthy Communities": ("Code violations resolved within 90 days (%)", 75),
        "Infrastructure & Accessibility": ("Potholes filled within 3 days (%)", 80),
        "Planning, Zoning & Economic Development": ("Building permits issued within target days (%)", 90),
        "Public Safety": ("Fire and EMS calls answered within 9 minutes (%)", 90),
    }
    name, target = measures[row["goal"]]
    row["measure"] = name
    row["target"] = float(target)
    row["actual"] = round(target + rng.uniform(-15, 8), 1)
    row["on_track"] = row["actual"] >= target


def h_budget(rng: random.Random, row: Row, i: int) -> None:
    adopted = row["adopted_budget"]
    row["actual_expenditure"] = round(adopted * rng.uniform(0.6, 1.05), 2)


def h_lab(rng: random.Random, row: Row, i: int) -> None:
    unit, lo, hi, action = {
        "Total Chlorine": ("mg/L", 0.2, 3.8, 4.0), "Turbidity": ("NTU", 0.02, 0.6, 1.0),
        "pH": ("pH units", 7.2, 9.6, 99.0), "Lead": ("ug/L", 0.0, 18.0, 15.0), "Copper": ("ug/L", 0.0, 900.0, 1300.0),
        "Total Coliform": ("present/absent", 0.0, 1.0, 0.5), "Fluoride": ("mg/L", 0.4, 0.9, 4.0),
    }[row["analyte"]]
    row["unit"] = unit
    value = float(rng.random() < 0.02) if row["analyte"] == "Total Coliform" else round(rng.uniform(lo, hi), 3)
    row["result"] = value
    row["exceeds_action_level"] = value > action


def h_amenities(rng: random.Random, row: Row, i: int) -> None:
    row["park_id"] = f"P{rng.randint(1, 220):04d}"


def h_parks(rng: random.Random, row: Row, i: int) -> None:
    names = ["Swope", "Loose", "Penn Valley", "Jacob L. Loose", "Roanoke", "Sunnyside", "Spring Valley",
             "Budd", "Kessler", "Minor", "Hodge", "Line Creek", "Tiffany Springs", "Gillham", "Mill Creek",
             "Theis", "Harmon", "Blue Valley", "Cleveland", "Garrison", "Seven Oaks", "Sycamore", "Lakewood"]
    base = names[i % len(names)]
    sides = ["North", "South", "East", "West", "Annex", "Commons"]
    suffix = "" if i < len(names) else f" {sides[(i // len(names)) % len(sides)]}"
    kind = row["park_type"]
    word = {"Boulevard": "Boulevard", "Parkway": "Parkway", "Greenway": "Greenway"}.get(kind, "Park")
    row["park_name"] = f"{base}{suffix} {word}"


def h_resurfacing(rng: random.Random, row: Row, i: int) -> None:
    year = row["program_year"]
    if row["status"] == "Complete":
        row["completion_date"] = dt.date(year, rng.randint(4, 11), rng.randint(1, 28))
    else:
        row["completion_date"] = None
        row["program_year"] = rng.choice([2026, 2027]) if row["status"] == "Planned" else 2026


def h_violations(rng: random.Random, row: Row, i: int) -> None:
    if row["status"] == "Open":
        row["date_closed"] = None
    elif row["date_closed"] is not None and row["date_closed"] > _d("2026-11-20"):
        row["date_closed"] = _d("2026-11-20")


def h_parcels(rng: random.Random, row: Row, i: int) -> None:
    zoning = {
        "Single Family": ["R-6", "R-7.5", "R-2.5", "R-80"], "Multi Family": ["R-1.5", "R-2.5", "UR"],
        "Commercial": ["B1-1", "B3-2", "B4-5", "DC-15"], "Industrial": ["M1-5", "M3-5"],
        "Vacant": ["R-6", "R-7.5", "B3-2", "M1-5"], "Institutional": ["R-6", "B3-2", "UR"], "Parks": ["R-6", "R-80"],
    }
    if row["land_use"] is not None and row["zoning"] is not None:
        row["zoning"] = rng.choice(zoning[row["land_use"]])
    if row["land_use"] == "Single Family":
        row["land_area_sqft"] = round(rng.uniform(3000, 15000), 2)
        row["assessed_value"] = rng.randint(8000, 90000)


def h_contracts(rng: random.Random, row: Row, i: int) -> None:
    # contract sizes span four orders of magnitude: draw them log-uniformly, to the cent
    row["contract_amount"] = round(10 ** rng.uniform(3.7, 6.9), 2)


def h_permits(rng: random.Random, row: Row, i: int) -> None:
    if row["status"] in {"Applied", "In Review", "Withdrawn"}:
        row["issued_date"] = None
    row["work_description"] = {
        "Residential New": "New single-family dwelling", "Residential Alteration": "Kitchen and bath remodel",
        "Commercial New": "New commercial building shell", "Commercial Alteration": "Tenant finish",
        "Demolition": "Demolish structure", "Sign": "Wall sign", "Fence": "Six-foot privacy fence",
    }[row["permit_type"]]


def h_fleet(rng: random.Random, row: Row, i: int) -> None:
    year = row["model_year"]
    row["in_service_date"] = dt.date(min(year + rng.randint(0, 1), 2026), rng.randint(1, 10), rng.randint(1, 28))
    if row["fuel_type"] == "Electric":
        row["annual_fuel_cost"] = 0.0


# ----------------------------------------------------------------------------- specs


def _d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


CARRIERS = ["Southwest", "American", "Delta", "United", "Alaska", "Spirit", "Frontier", "Allegiant", "Air Canada"]
CARRIER_CODES = {"Southwest": "WN", "American": "AA", "Delta": "DL", "United": "UA", "Alaska": "AS",
                 "Spirit": "NK", "Frontier": "F9", "Allegiant": "G4", "Air Canada": "AC"}
COURT_CATS = ["Traffic", "General Ordinance", "Housing", "Domestic Violence", "Parking", "Animal"]
ISSUES = ["A Pothole", "Graffiti", "Animal Services", "Dangerous Buildings", "Homeless Camp", "Trash / Recycling",
          "Streetlight Out", "Water Leak", "Illegal Dumping", "Property Violation"]
GOALS = ["Finance & Governance", "Housing & Healthy Communities", "Infrastructure & Accessibility",
         "Planning, Zoning & Economic Development", "Public Safety"]

SPECS: dict[str, Spec] = {
    "311-call-center-reported-issues": Spec(
        rows=480, key="{n:07d}", key_start=2210450, key_step=(1, 40), start=_d("2025-06-01"), end=_d("2026-11-20"),
        weights={"current_status": [3, 4, 2, 6, 4, 5, 10, 2, 30, 30, 4],
                 "report_source": [50, 25, 15, 3, 1, 6], "source_category": [80, 12, 6, 2]},
        choices={"workorder_": [f"WO{n}" for n in range(25000100, 25000900, 7)]},
        hook=h_311, sort_by="open_date_time"),
    "311-call-center-service-requests-2007-2021": Spec(
        rows=400, key="{n:07d}", key_start=1580010, key_step=(1, 90), start=_d("2018-01-01"), end=_d("2021-03-15"),
        weights={"status": [6, 4, 6, 80, 4], "source": [60, 25, 5, 8, 2]},
        after={"closed_date": ("creation_date", 0, 45)}, hook=h_311_legacy, sort_by="creation_date"),
    "kcpd-crime-data-2025": Spec(
        rows=520, key="KC25{n:06d}", key_step=(3, 150), start=_d("2025-01-01"), end=_d("2025-12-31"),
        weights={"offense": OFFENSE_WEIGHTS}, true_rate={"firearm_used_flag": 0.35},
        blank={"location": 0.05, "beat": 0.02}, hook=h_crime("reported_date", "reported_time"),
        sort_by="reported_date"),
    "kcpd-crime-data-2024": Spec(
        rows=500, key="KC24{n:06d}", key_step=(3, 150), start=_d("2024-01-01"), end=_d("2024-12-31"),
        weights={"offense": OFFENSE_WEIGHTS}, true_rate={"firearm_used_flag": 0.35},
        blank={"location": 0.05, "beat": 0.02}, hook=h_crime("report_date", "report_time"), sort_by="report_date"),
    "property-violations": Spec(
        rows=450, key="PV{n:07d}", key_start=2301000, key_step=(1, 30), start=_d("2023-01-01"), end=_d("2026-11-20"),
        choices={"violation_code": ["56-112", "56-113", "56-201", "56-202", "56-235", "56-303", "48-031", "48-033"]},
        weights={"status": [30, 50, 15, 5]}, after={"date_closed": ("date_opn", 5, 180)}, hook=h_violations,
        sort_by="date_opn"),
    "land-bank-properties": Spec(
        rows=360, key="JA{n:017d}", key_start=29620070200000000, key_step=(100000, 9000000), start=_d("2012-01-01"),
        end=_d("2026-10-31"), ranges={"asking_price": (500, 45000)}, weights={"property_class": [60, 25, 12, 3]},
        true_rate={"available_for_sale": 0.55}, sort_by="acquired_date"),
    "parcels": Spec(
        rows=500, key="JA{n:017d}", key_start=28110010100000000, key_step=(10000, 3000000), start=_d("2020-01-01"),
        end=_d("2026-01-01"), ranges={"land_area_sqft": (1500, 87000), "assessed_value": (3000, 900000),
                                      "kiva_pin": (1000, 999999)},
        weights={"land_use": [55, 12, 10, 4, 12, 4, 3]}, hook=h_parcels),
    "city-contracts": Spec(
        rows=300, key="EV{n:07d}", key_start=2100100, key_step=(1, 25), start=_d("2021-05-01"), end=_d("2026-10-31"),
        ranges={"contract_amount": (5000, 4500000)},
        choices={"description": ["Street resurfacing services", "Water meter replacement", "Janitorial services",
                                 "Fleet parts and repair", "Software maintenance and support", "Tree trimming",
                                 "Engineering design services", "Uniforms and protective equipment",
                                 "Traffic signal maintenance", "Environmental testing laboratory services",
                                 "Office supplies", "Sewer lining rehabilitation"]},
        after={"end_date": ("start_date", 180, 1460)}, blank={"end_date": 0.0}, hook=h_contracts),
    "water-quality-sampling-results": Spec(
        rows=420, key="WQ-{n:06d}", key_start=240001, start=_d("2025-01-01"), end=_d("2026-11-15"),
        hook=h_lab, sort_by="sample_date",
        choices={"site_code": [f"DS-{n:03d}" for n in range(1, 61)]}),
    "street-resurfacing-projects": Spec(
        rows=260, key="", key_fn=lambda row, n: f"SR-{row['program_year']}-{n:03d}",
        start=_d("2021-04-01"), end=_d("2026-11-01"),
        ranges={"lane_miles": (0.2, 6.5), "program_year": (2022, 2026)},
        weights={"status": [20, 15, 65]}, hook=h_resurfacing),
    "fire-ems-incident-response-times": Spec(
        rows=560, key="F26-{n:06d}", key_start=100, key_step=(1, 60), start=_d("2026-01-01"), end=_d("2026-11-20"),
        weights={"incident_type": [8, 70, 3, 4, 8, 7]}, ranges={"response_seconds": (160, 900)},
        sort_by="alarm_datetime"),
    "park-locations": Spec(
        rows=220, key="P{n:04d}", start=_d("2020-01-01"), end=_d("2026-01-01"), ranges={"acres": (0.3, 1800)},
        weights={"park_type": [55, 20, 5, 8, 7, 5]}, true_rate={"has_playground": 0.6, "has_restroom": 0.3},
        hook=h_parks),
    "building-permits": Spec(
        rows=480, key="", key_start=2500100, key_step=(1, 20), start=_d("2025-01-01"),
        end=_d("2026-11-20"), ranges={"estimated_value": (800, 2500000)},
        weights={"status": [10, 12, 30, 35, 8, 5]}, after={"issued_date": ("applied_date", 1, 60)},
        hook=h_permits, sort_by="applied_date",
        key_fn=lambda row, n: "BLD{}{:07d}".format(row["permit_type"][:3].upper(), n)),
    "city-budget-expenditures": Spec(
        rows=400, key="EX{n:08d}", key_start=20190001, key_step=(1, 40), start=_d("2019-05-01"), end=_d("2026-04-30"),
        ranges={"adopted_budget": (25000, 95000000), "fiscal_year": (2019, 2026)}, hook=h_budget),
    "mci-passenger-traffic": Spec(
        rows=9 * 36, key="", start=_d("2023-10-01"), end=_d("2026-09-30"),
        ranges={"enplaned": (3000, 260000), "deplaned": (3000, 260000), "cargo_lbs": (0, 2500000)},
        hook=grid_hook("month", "carrier", CARRIERS, carrier_code, _d("2023-10-01"))),
    "kcstat-performance-measures": Spec(
        rows=5 * 44, key="", start=_d("2015-01-01"), end=_d("2026-09-30"),
        hook=lambda rng, row, i: _kcstat_grid(rng, row, i)),
    "municipal-court-monthly-case-filings": Spec(
        rows=6 * 48, key="", start=_d("2022-11-01"), end=_d("2026-10-31"),
        ranges={"cases_filed": (40, 9000), "median_days_to_disposition": (7, 140)},
        hook=chain(grid_hook("month", "case_type", COURT_CATS, month_code, _d("2022-11-01")), h_court)),
    "childhood-lead-testing-by-zip": Spec(
        rows=11 * 30, key="", start=_d("2015-01-01"), end=_d("2025-12-31"), ranges={"children_tested": (11, 1400)},
        hook=lambda rng, row, i: _lead_grid(rng, row, i)),
    "water-main-breaks": Spec(
        rows=420, key="WMB-{n:05d}", key_start=10001, key_step=(1, 3), start=_d("2015-01-01"), end=_d("2026-11-20"),
        ranges={"repair_hours": (2, 96), "install_year": (1895, 2012)},
        weights={"main_diameter_in": [6, 40, 25, 8, 10, 4, 2, 2, 2, 1], "main_material": [62, 18, 10, 6, 4]},
        true_rate={"boil_advisory": 0.05}, blank={"repaired_date": 0.02, "repair_hours": 0.0},
        hook=h_water_main, sort_by="reported_date"),
    "streetlight-outages": Spec(
        rows=380, key="SL-{n:06d}", key_start=510001, key_step=(1, 9), start=_d("2025-06-01"), end=_d("2026-11-20"),
        weights={"light_type": [45, 48, 7], "owner": [70, 30]},
        after={"repaired_date": ("reported_date", 0, 40)}, days={"days_out": ("reported_date", "repaired_date")},
        sort_by="reported_date"),
    "trees-planted": Spec(
        rows=340, key="TP-{n:06d}", key_start=30001, start=_d("2023-03-01"), end=_d("2026-11-15"),
        ranges={"caliper_in": (1.0, 2.5)}, sort_by="planted_date"),
    "fire-hydrant-inspections": Spec(
        rows=450, key="HI-{n:06d}", key_start=880001, start=_d("2025-11-01"), end=_d("2026-11-20"),
        ranges={"static_pressure_psi": (38, 120), "flow_gpm": (300, 2600)}, true_rate={"in_service": 0.96},
        hook=h_hydrant, sort_by="inspection_date"),
    "mci-airline-on-time-performance": Spec(
        rows=9 * 24, key="", start=_d("2024-10-01"), end=_d("2026-09-30"), ranges={"scheduled_departures": (30, 2600)},
        hook=chain(grid_hook("month", "carrier", CARRIERS, carrier_code, _d("2024-10-01")), h_on_time)),
    "city-fleet-vehicles": Spec(
        rows=420, key="{n:05d}", key_start=10020, key_step=(1, 12), start=_d("2000-01-01"), end=_d("2026-11-01"),
        ranges={"model_year": (2004, 2026), "odometer_miles": (800, 185000), "annual_fuel_cost": (300, 42000)},
        weights={"fuel_type": [52, 28, 8, 9, 3]}, hook=h_fleet),
    "311-customer-satisfaction-survey": Spec(
        rows=10 * 24, key="", start=_d("2024-11-01"), end=_d("2026-10-31"), ranges={"responses": (20, 900)},
        hook=chain(grid_hook("month", "issue_type", ISSUES, lambda m, c: f"{m:%Y-%m}-{ISSUES.index(c) + 1:02d}",
                             _d("2024-11-01")), h_survey)),
    "pothole-repair-requests": Spec(
        rows=400, key="PH-{n:06d}", key_start=260001, key_step=(1, 4), start=_d("2026-01-05"), end=_d("2026-11-20"),
        after={"repaired_date": ("reported_date", 0, 12)}, days={"days_to_repair": ("reported_date", "repaired_date")},
        sort_by="reported_date"),
    "food-establishment-inspections": Spec(
        rows=380, key="FI-{n:06d}", key_start=410001, key_step=(1, 5), start=_d("2025-07-01"), end=_d("2026-11-20"),
        weights={"inspection_type": [60, 20, 15, 5], "result": [60, 28, 10, 2]},
        ranges={"critical_violations": (0, 6)}, sort_by="inspection_date"),
    "dangerous-buildings": Spec(
        rows=300, key="DB{n:06d}", key_start=180001, key_step=(1, 7), start=_d("2019-01-01"), end=_d("2026-11-15"),
        ranges={"estimated_demolition_cost": (8000, 65000)}, weights={"demolition_status": [35, 15, 35, 8, 7]},
        sort_by="date_declared"),
    "zoning-cases": Spec(
        rows=320, key="", key_start=10001, key_step=(1, 6), start=_d("2022-01-01"), end=_d("2026-11-15"),
        after={"hearing_date": ("filed_date", 20, 90)}, weights={"decision": [40, 30, 8, 10, 12]},
        hook=lambda rng, row, i: _zoning(rng, row, i), sort_by="filed_date", key_fn=zoning_key),
    "kcpd-use-of-force-incidents": Spec(
        rows=280, key="UOF-{n:06d}", key_start=240001, key_step=(1, 3), start=_d("2024-01-01"), end=_d("2026-09-30"),
        weights={"force_type": [62, 18, 8, 3, 6, 3]}, true_rate={"subject_injured": 0.35, "officer_injured": 0.15},
        sort_by="incident_date"),
    "business-licenses-active": Spec(
        rows=450, key="BL{n:07d}", key_start=1000101, key_step=(1, 50), start=_d("2020-01-02"), end=_d("2026-11-15"),
        choices={"naics_code": ["722511", "722513", "445110", "812111", "541110", "238220", "531110", "811111",
                                "448140", "621210", "561720", "454110"]},
        hook=lambda rng, row, i: row.__setitem__("license_year", row["issued_date"].year), sort_by="issued_date"),
    "combined-sewer-overflow-events": Spec(
        rows=240, key="CSO-{n:05d}", key_start=21001, start=_d("2024-03-01"), end=_d("2026-11-15"),
        choices={"outfall": [f"OF{n:03d}" for n in (1, 4, 7, 9, 12, 15, 20, 22, 31, 45, 59, 61, 69, 74, 88)]},
        ranges={"duration_hours": (0.2, 30), "volume_mg": (0.01, 48), "rainfall_in": (0.3, 4.8)},
        sort_by="start_datetime"),
    "municipal-court-active-warrant-counts": Spec(
        rows=6 * 40, key="", start=_d("2023-07-01"), end=_d("2026-10-31"),
        ranges={"active_warrants": (150, 42000), "warrants_recalled": (10, 3000)},
        hook=grid_hook("month", "charge_category", COURT_CATS, month_code, _d("2023-07-01"))),
    "park-amenities": Spec(
        rows=260, key="AM-{n:05d}", key_start=10001, start=_d("2020-01-01"), end=_d("2026-01-01"),
        ranges={"installed_year": (1965, 2025)}, true_rate={"ada_accessible": 0.55}, hook=h_amenities),
}


def _kcstat_grid(rng: random.Random, row: Row, i: int) -> None:
    quarter = add_months(_d("2015-10-01"), 3 * (i // 5))
    goal = GOALS[i % 5]
    row["quarter_start"] = quarter
    row["goal"] = goal
    row["__key__"] = f"KCS-{101 + GOALS.index(goal)}-{quarter.year}Q{(quarter.month - 1) // 3 + 1}"
    h_kcstat(rng, row, i)


def _lead_grid(rng: random.Random, row: Row, i: int) -> None:
    zips = ZIPS[:30]
    year = 2015 + i // len(zips)
    row["year"] = year
    row["zip_code"] = zips[i % len(zips)]
    row["__key__"] = f"{year}-{row['zip_code']}"
    h_lead(rng, row, i)


def _zoning(rng: random.Random, row: Row, i: int) -> None:
    if row["hearing_date"] is not None and row["hearing_date"] > _d("2026-11-27"):
        row["hearing_date"] = None
    if row["hearing_date"] is None:
        row["decision"] = "Pending"


# ----------------------------------------------------------------------------- deliberate flaws
# (kind, frictionless row number (header = 1), field or None, value). Keep in step with README.md.
FLAWS: dict[str, list[tuple[str, int, str | None, str]]] = {
    "pothole-repair-requests": [
        ("cell", 42, "reported_date", "2026-02-30"),
        ("cell", 117, "repaired_date", "06/14/2026"),
    ],
    "food-establishment-inspections": [
        ("duplicate-key", 58, "inspection_id", "57"),
        ("cell", 203, "result", "Passed"),
    ],
    "dangerous-buildings": [
        ("cell", 77, "estimated_demolition_cost", "TBD"),
        ("cell", 150, "address", ""),
    ],
    "park-amenities": [
        ("cell", 31, "park_id", ""),
        ("extra-cell", 96, None, "see notes"),
    ],
}

# ----------------------------------------------------------------------------- generic filling


def location(rng: random.Random) -> tuple[float, float]:
    """A point inside Kansas City, Missouri (lat, lon), weighted toward the urban core."""
    lat = rng.triangular(38.84, 39.32, 39.07)
    lon = rng.triangular(-94.70, -94.40, -94.56)
    return round(lat, 6), round(lon, 6)


def pick(rng: random.Random, values: list[Any], weights: list[int] | None) -> Any:
    return rng.choices(values, weights=weights)[0] if weights else rng.choice(values)


def string_value(rng: random.Random, name: str, spec: Spec) -> str:
    if name in spec.choices:
        return pick(rng, spec.choices[name], spec.weights.get(name))
    if name == "address" or name.endswith("_address"):
        return f"{rng.randint(1, 129) * 100 + rng.randint(0, 98)} {rng.choice(STREETS)}"
    if name in {"street_name", "from_street", "to_street"}:
        return rng.choice(STREETS)
    if name == "council_district":
        return str(rng.randint(1, 6))
    if name == "zip_code":
        return rng.choice(ZIPS)
    if name == "neighborhood":
        return rng.choice(NEIGHBORHOODS)
    if name == "beat":
        return f"{rng.randint(1, 6)}{rng.randint(10, 99)}"
    if name in {"reported_time", "report_time"}:
        return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    if name == "first_unit":
        return f"{rng.choice('EEEMMTQ')}{rng.randint(1, 45)}"
    if name == "zoning":
        return rng.choice(["R-6", "R-7.5", "R-2.5", "R-1.5", "R-80", "B1-1", "B3-2", "B4-5", "M1-5", "M3-5",
                           "DC-15", "UR"])
    if name == "hydrant_id":
        return f"H{rng.randint(100000, 999999)}"
    if name == "pole_id":
        return f"{rng.randint(100000, 999999)}"
    if name == "establishment_id":
        return f"FE{rng.randint(10000, 99999)}"
    if name in {"establishment_name", "business_name"}:
        return f"{rng.choice(BUSINESS_A)} {rng.choice(BUSINESS_B)} {rng.choice(BUSINESS_C)}"
    if name == "vendor":
        return rng.choice(VENDORS)
    if name in {"violation_description"}:
        return rng.choice(["Tall grass and weeds", "Trash and debris in yard", "Peeling paint", "Open to entry",
                           "Inoperable vehicle", "Roof in disrepair", "Broken windows", "Missing gutters"])
    if name in {"issue_sub_type", "department_work_group", "request_type", "work_group", "work_description",
                "measure", "park_name", "park_id", "workorder_", "site_code", "ibrs"}:
        return ""  # filled by the dataset's hook
    raise SystemExit(f"generate.py: no rule for string field '{name}' — add choices to its Spec")


def random_date(rng: random.Random, spec: Spec) -> dt.date:
    return spec.start + dt.timedelta(days=rng.randint(0, (spec.end - spec.start).days))


def field_value(rng: random.Random, f: dict[str, Any], spec: Spec, row: Row) -> Any:
    name, kind = f["name"], f["type"]
    c = f.get("constraints", {})
    if "enum" in c:
        return pick(rng, c["enum"], spec.weights.get(name))
    if kind == "string":
        return string_value(rng, name, spec)
    if kind in {"integer", "year"}:
        lo, hi = spec.ranges.get(name, (c.get("minimum", 0), c.get("maximum", 500)))
        return rng.randint(int(lo), int(hi))
    if kind == "number":
        if name in {"latitude", "longitude"}:
            return row["__loc__"][0 if name == "latitude" else 1]
        lo, hi = spec.ranges.get(name, (c.get("minimum", 0), c.get("maximum", 1000)))
        return round(rng.uniform(lo, hi), 2)
    if kind == "boolean":
        return rng.random() < spec.true_rate.get(name, 0.3)
    if kind == "date":
        if name in spec.after:
            base, lo_d, hi_d = spec.after[name]
            return row[base] + dt.timedelta(days=rng.randint(lo_d, hi_d))
        return random_date(rng, spec)
    if kind == "datetime":
        day = random_date(rng, spec)
        return dt.datetime(day.year, day.month, day.day, rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
    if kind == "geopoint":
        return row["__loc__"]
    raise SystemExit(f"generate.py: unsupported type {kind!r} for '{name}'")


def render(value: Any, f: dict[str, Any]) -> str:
    """A Python value as the CSV cell its schema field expects."""
    if value is None:
        return ""
    kind, fmt = f["type"], f.get("format", "default")
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "geopoint":
        lat, lon = value
        return f"{lon:.6f}, {lat:.6f}"
    if kind == "date":
        return value.strftime(fmt) if fmt.startswith("%") else value.isoformat()
    if kind == "datetime":
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if kind == "number" and isinstance(value, float):
        if f["name"] in {"latitude", "longitude"}:
            return f"{value:.6f}"
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


def build_rows(dataset_id: str, schema: dict[str, Any], spec: Spec) -> list[list[str]]:
    rng = random.Random(f"kcdata-samples:{dataset_id}")  # noqa: S311 -- reproducible samples, not secrets
    fields = schema["fields"]
    key = schema["primaryKey"][0]
    rows: list[Row] = []
    for i in range(spec.rows):
        row: Row = {"__loc__": location(rng), "__key__": None}
        for f in fields:
            required = f.get("constraints", {}).get("required", False)
            value = None if f["name"] == key else field_value(rng, f, spec, row)
            located = f["type"] == "geopoint" or f["name"] in {"latitude", "longitude"}
            if not (required or located) and f["name"] != key and rng.random() < spec.blank.get(f["name"], 0.03):
                value = None
            row[f["name"]] = value
        if rng.random() < spec.blank.get("location", 0.02):  # not geocoded: every location column is empty
            for f in fields:
                if f["type"] == "geopoint" or f["name"] in {"latitude", "longitude"}:
                    row[f["name"]] = None
        if spec.hook is not None:
            spec.hook(rng, row, i)
        for name, (first, second) in spec.days.items():
            row[name] = _days_between(row, first, second)
        for f in fields:
            if row[f["name"]] == "":
                row[f["name"]] = None
        rows.append(row)
    if spec.sort_by:
        sort_by = spec.sort_by
        rows.sort(key=lambda r: r[sort_by])
    n = spec.key_start
    for row in rows:
        if row["__key__"] is None:  # aggregate datasets get their key from the hook
            row["__key__"] = spec.key_fn(row, n) if spec.key_fn else spec.key.format(n=n)
            n += rng.randint(*spec.key_step)
        row[key] = row["__key__"]
    return [[render(r[f["name"]], f) for f in fields] for r in rows]


def apply_flaws(dataset_id: str, header: list[str], cells: list[list[str]]) -> None:
    for kind, row_number, field_name, value in FLAWS.get(dataset_id, []):
        row = cells[row_number - 2]
        if kind == "cell":
            row[header.index(str(field_name))] = value
        elif kind == "duplicate-key":
            col = header.index(str(field_name))
            row[col] = cells[int(value) - 2][col]
        elif kind == "extra-cell":
            row.append(value)


def render_file(dataset_id: str) -> bytes:
    schema = json.loads((SCHEMA_DIR / f"{dataset_id}.schema.json").read_text(encoding="utf-8"))
    header = [f["name"] for f in schema["fields"]]
    cells = build_rows(dataset_id, schema, SPECS[dataset_id])
    apply_flaws(dataset_id, header, cells)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(cells)
    return buf.getvalue().encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write the CSV files to (default: here)")
    parser.add_argument("ids", nargs="*", help="only these dataset ids (default: all)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for dataset_id in args.ids or sorted(SPECS):
        (args.out / f"{dataset_id}.csv").write_bytes(render_file(dataset_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
