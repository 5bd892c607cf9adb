"""The classes of match key described in words (a placeholder until key set 3 describes each
class once beside its definition): `label` turns a class name into what a hub worker reads."""

from __future__ import annotations

_LABELS = {
    "nhs_dob": "NHS number and date of birth",
    "name_dob_postcode": "Name, date of birth and postcode",
    "nhs": "NHS number",
    "name_dob": "Name and date of birth",
    "name_dob_swapped": "Name, and date of birth with day and month swapped",
    "phonetic_dob": "Names that sound alike, and date of birth",
    "short_name_bday_postcode": "Forename, surname initial, day and month of birth, and postcode",
    "nhs_near_surname": "NHS number (or one a single slip away) and a surname that sounds alike",
}


def label(name: str) -> str:
    """The words for a key class, or its name if it has none."""
    return _LABELS.get(name, name.replace("_", " "))
