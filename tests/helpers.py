"""Small builders shared by the store tests: a hub with agencies and users, and extract files."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from sqlalchemy.orm import Session

from node.access import Actor
from node.agencies import STANDARD_AGENCIES, sync_agencies
from node.store.models import Role

ADMIN = Actor("admin", Role.NODE_ADMIN)
MANAGER = Actor("manager", Role.MASH_MANAGER)
AUDITOR = Actor("auditor", Role.AUDITOR)
# One child's identity as agencies hold it, for tests of linking.
TYRONE = {
    "forenames": "Tyrone",
    "surname": "Campbell",
    "date_of_birth": "2012-05-09",
    "postcode": "N16 7AB",
    "nhs_number": "9434765919",
}


def professional(agency: str) -> Actor:
    return Actor(f"{agency}-pro", Role.AGENCY_PROFESSIONAL, agency)


def make_hub(session: Session) -> None:
    sync_agencies(session, list(STANDARD_AGENCIES.values()))


def write_csv(path: Path, rows: Iterable[Mapping[str, object]]) -> Path:
    rows = list(rows)
    header: list[str] = []
    for row in rows:
        header.extend(key for key in row if key not in header)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: Iterable[Mapping[str, object]]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return path
