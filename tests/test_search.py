"""Search and subject views under the firewall, every one audited (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from node.access import AccessDenied
from node.importing.service import import_files
from node.search import SearchError, SearchQuery, search, view_subject
from node.store.models import AuditEntry
from tests.helpers import ADMIN, AUDITOR, MANAGER, make_hub, professional, write_csv

JOHN = {
    "record_id": "J",
    "forenames": "John",
    "surname": "Smith",
    "date_of_birth": "2015-03-14",
    "postcode": "E8 1AB",
    "nhs_number": "9434765919",
    "aliases": "Johnny Brown",
}
OTHER = {
    "record_id": "O",
    "forenames": "Priya",
    "surname": "Patel",
    "date_of_birth": "2009-11-30",
    "postcode": "N16 0AA",
}


@pytest.fixture
def hub(session: Session, tmp_path: Path) -> Session:
    make_hub(session)
    for agency in ("police", "health", "education"):
        people = write_csv(tmp_path / f"{agency}.csv", [JOHN, OTHER])
        items = write_csv(
            tmp_path / f"{agency}-items.csv",
            [
                {
                    "item_ref": f"{agency}-1",
                    "record_id": "J",
                    "date": "2026-01-05",
                    "category": "Concern",
                    "summary": f"{agency} summary about John",
                    "detail": "secret detail",
                }
            ],
        )
        import_files(session, ADMIN, agency, [people, items])
    return session


def run(session: Session, actor, **criteria: str):
    return search(session, actor, SearchQuery(**criteria), purpose="MASH-2026-0001")


@pytest.mark.parametrize(
    "criteria",
    [
        {"forenames": "Jon", "surname": "Smyth"},
        {"forenames": "JOHNNY", "surname": "smith"},
        {"forenames": "Smith", "surname": "John"},  # forename and surname swapped
        {"forenames": "Johnny", "surname": "Brown"},  # alias
        {"surname": "Smith"},
        {"date_of_birth": "14/03/2015"},
        {"postcode": "e81ab"},
        {"nhs_number": "943 476 5919"},
        {"surname": "Smith", "date_of_birth": "2015-03-14", "postcode": "E8 1AB"},
    ],
)
def test_finds_john_by_any_criteria(hub: Session, criteria: dict[str, str]) -> None:
    results = run(hub, MANAGER, **criteria)
    assert len(results.subjects) == 1
    assert results.subjects[0].holdings == {"education": 1, "health": 1, "police": 1}


def test_criteria_narrow(hub: Session) -> None:
    assert run(hub, MANAGER, surname="Smith", date_of_birth="2009-11-30").subjects == ()


def test_professional_sees_own_agency_records_and_counts_for_others(hub: Session) -> None:
    (view,) = run(hub, professional("police"), surname="Smith").subjects
    assert [r.agency_code for r in view.own_records] == ["police"]
    assert view.own_records[0].items[0].summary == "police summary about John"
    assert view.holdings == {"education": 1, "health": 1, "police": 1}


def test_manager_sees_counts_only(hub: Session) -> None:
    (view,) = run(hub, MANAGER, surname="Smith").subjects
    assert view.own_records == ()


@pytest.mark.parametrize("actor", [ADMIN, AUDITOR])
def test_administrators_and_auditors_cannot_search(hub: Session, actor) -> None:
    with pytest.raises(AccessDenied):
        run(hub, actor, surname="Smith")


def test_every_search_and_view_is_audited_with_its_purpose(hub: Session) -> None:
    pro = professional("health")
    (view,) = run(hub, pro, surname="Smith").subjects
    view_subject(hub, pro, view.subject_id, purpose="strategy discussion prep")
    entries = hub.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(2)).all()
    viewed, searched = entries
    assert (searched.action, searched.actor, searched.purpose) == (
        "search",
        pro.username,
        "MASH-2026-0001",
    )
    detail = json.loads(searched.detail)
    assert detail["criteria"] == {"surname": "Smith"}
    assert detail["subjects"] == [view.subject_id]
    assert (viewed.action, viewed.object_ref, viewed.purpose) == (
        "subject.view",
        f"subject:{view.subject_id}",
        "strategy discussion prep",
    )


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"forenames": "John"}, "surname"),
        ({}, "give at least one"),
        ({"nhs_number": "9434765918"}, "nhs_number"),
        ({"nhs_number": "12"}, "nhs_number"),
        ({"date_of_birth": "31/02/2015"}, "date_of_birth"),
        ({"postcode": "nowhere"}, "postcode"),
    ],
)
def test_bad_criteria_name_the_field(hub: Session, criteria: dict[str, str], field: str) -> None:
    with pytest.raises(SearchError, match=field):
        run(hub, MANAGER, **criteria)


def test_purpose_is_required(hub: Session) -> None:
    with pytest.raises(SearchError, match="purpose"):
        search(hub, MANAGER, SearchQuery(surname="Smith"), purpose=" ")
