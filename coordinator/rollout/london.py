"""The facts of the founding report (DESIGN.md section 1) as the data `init` seeds, never as logic:
every one of them is editable afterwards (or, for the framework levels and partner agencies, a
row of the store).

London has 33 local authorities, the City of London included; 14 boroughs are considering the
model; the pilot of up to six boroughs puts two hubs live by November and the other four by
January, then the remaining eight, then the rest of London over three to four years. Police cost
£50,000-£100,000 a hub; partners fund the rest. Grid positions place each authority on a tile
map of London (column, row), roughly where it lies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Authority:
    code: str
    name: str
    short_name: str
    column: int
    row: int
    considering: bool = False


AUTHORITIES: tuple[Authority, ...] = (
    Authority("enfield", "Enfield", "ENF", 3, 0),
    Authority("harrow", "Harrow", "HRW", 1, 1, considering=True),
    Authority("barnet", "Barnet", "BNT", 2, 1),
    Authority("haringey", "Haringey", "HGY", 3, 1, considering=True),
    Authority("waltham-forest", "Waltham Forest", "WTH", 4, 1, considering=True),
    Authority("hillingdon", "Hillingdon", "HIL", 0, 2),
    Authority("brent", "Brent", "BRT", 1, 2, considering=True),
    Authority("camden", "Camden", "CMD", 2, 2),
    Authority("islington", "Islington", "ISL", 3, 2, considering=True),
    Authority("hackney", "Hackney", "HCK", 4, 2, considering=True),
    Authority("redbridge", "Redbridge", "RED", 5, 2),
    Authority("havering", "Havering", "HAV", 6, 2),
    Authority("ealing", "Ealing", "EAL", 0, 3),
    Authority("kensington-and-chelsea", "Kensington and Chelsea", "KNS", 1, 3, considering=True),
    Authority("westminster", "Westminster", "WST", 2, 3, considering=True),
    Authority("city-of-london", "City of London", "CTY", 3, 3),
    Authority("tower-hamlets", "Tower Hamlets", "TOW", 4, 3, considering=True),
    Authority("newham", "Newham", "NWM", 5, 3),
    Authority("barking-and-dagenham", "Barking and Dagenham", "BDG", 6, 3),
    Authority("hounslow", "Hounslow", "HNS", 0, 4),
    Authority("hammersmith-and-fulham", "Hammersmith and Fulham", "HMS", 1, 4, considering=True),
    Authority("wandsworth", "Wandsworth", "WND", 2, 4),
    Authority("lambeth", "Lambeth", "LAM", 3, 4, considering=True),
    Authority("southwark", "Southwark", "SWK", 4, 4, considering=True),
    Authority("greenwich", "Greenwich", "GRN", 5, 4),
    Authority("bexley", "Bexley", "BXL", 6, 4),
    Authority("richmond-upon-thames", "Richmond upon Thames", "RCH", 1, 5),
    Authority("merton", "Merton", "MRT", 2, 5),
    Authority("croydon", "Croydon", "CRD", 3, 5),
    Authority("lewisham", "Lewisham", "LSH", 4, 5, considering=True),
    Authority("bromley", "Bromley", "BRM", 5, 5),
    Authority("kingston-upon-thames", "Kingston upon Thames", "KIN", 1, 6),
    Authority("sutton", "Sutton", "STN", 2, 6, considering=True),
)


@dataclass(frozen=True)
class WaveSeed:
    number: int
    name: str
    description: str
    planned_hubs: int | None
    is_pilot: bool
    target_date: dt.date | None


# Target dates are the plan's words made into days (November, January, then "over 3-4 years");
# the project team sets the real ones.
WAVES: tuple[WaveSeed, ...] = (
    WaveSeed(1, "Pilot wave 1", "Two pilot hubs live by November", 2, True, dt.date(2026, 11, 30)),
    WaveSeed(
        2,
        "Pilot wave 2",
        "The other four pilot hubs live by January",
        4,
        True,
        dt.date(2027, 1, 31),
    ),
    WaveSeed(
        3,
        "Wave 3",
        "The remaining eight of the fourteen boroughs considering the model",
        8,
        False,
        dt.date(2027, 12, 31),
    ),
    WaveSeed(
        4,
        "Rest of London",
        "The rest of London's 33 local authorities, over three to four years",
        19,
        False,
        dt.date(2030, 11, 30),
    ),
)

# The progression framework, from standard provision to a full MASH-style co-location; partners
# join a hub incrementally, built to local context.
FRAMEWORK_LEVELS: tuple[tuple[int, str, str], ...] = (
    (1, "Standard provision", "Each agency screens its own referrals; no shared front door"),
    (2, "Single point of contact", "One front door with agreed information sharing by request"),
    (3, "Virtual hub", "Core partners research each contact together, linked virtually"),
    (4, "Partial co-location", "Police, social care and health co-located; others linked"),
    (5, "Full MASH-style co-location", "Every partner agency co-located in one secure room"),
)

PARTNER_AGENCIES: tuple[tuple[str, str], ...] = (
    ("police", "Police"),
    ("childrens-social-care", "Children's social care"),
    ("health", "Health"),
    ("mental-health", "Mental health"),
    ("education", "Education"),
    ("housing", "Housing"),
    ("yot", "Youth offending team"),
    ("probation", "Probation"),
    ("adult-social-care", "Adult social care"),
    ("ambulance-service", "Ambulance service"),
)

POLICE_COST_MIN = 50_000
POLICE_COST_MAX = 100_000
AMBER_DAYS = 14  # a milestone due within this many days, not yet done, is amber
