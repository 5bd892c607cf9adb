"""Who else is involved: the optional involvement columns of a persons extract, shown per agency
for a referral's subject and household, the record behind it only to its own agency."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from node.config import load_config, render_config
from node.importing.service import ImportRefused, import_files
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.referrals.triage import set_rag
from node.referrals.view import view_referral
from node.search import SearchQuery, search, view_subject
from node.store.models import Pathway, Rag
from tests.helpers import ADMIN, MANAGER, TYRONE, make_hub, professional, write_csv

MOTHER = {
    "forenames": "Marcia",
    "surname": "Campbell",
    "date_of_birth": "1988-01-12",
    "postcode": "N16 7AB",
    "nhs_number": "9434765870",
}


@pytest.fixture
def policy(tmp_path: Path):
    path = tmp_path / "node.toml"
    path.write_text(render_config("hackney", "Hackney", ["police"]), encoding="utf-8")
    return load_config(path).referrals


@pytest.fixture
def hub(session: Session, tmp_path: Path) -> Session:
    make_hub(session)
    extracts = {
        "childrens-social-care": [
            {
                "record_id": "C1",
                **TYRONE,
                "open_case": "Yes",
                "worker": "Dana Whitlock",
                "team": "Assessment team 2",
                "since": "03/09/2026",
            },
        ],
        "health": [
            {"record_id": "H1", **TYRONE, "open_case": "no", "worker": "Closed case worker"},
            {"record_id": "H2", **MOTHER, "open_case": "yes", "team": "Perinatal mental health"},
        ],
        "police": [{"record_id": "P1", **TYRONE}],  # holds a record, no involvement
    }
    for agency, rows in extracts.items():
        import_files(session, ADMIN, agency, [write_csv(tmp_path / f"{agency}.csv", rows)])
    return session


def _subject(session: Session, surname: str, forenames: str) -> int:
    found = search(session, MANAGER, SearchQuery(surname=surname, forenames=forenames), "test")
    return found.subjects[0].subject_id


def _referral(session: Session, policy) -> int:
    child = PersonDetails(
        surname="Campbell", forenames="Tyrone", subject_id=_subject(session, "Campbell", "Tyrone")
    )
    mother = PersonDetails(
        surname="Campbell",
        forenames="Marcia",
        is_subject=False,
        relationship="Mother",
        subject_id=_subject(session, "Campbell", "Marcia"),
    )
    referral = record_contact(
        session,
        MANAGER,
        NewContact(Pathway.CHILD, "public", ("neglect",), "Worry", (child, mother)),
        policy,
    )
    set_rag(session, MANAGER, referral.id, Rag.AMBER, "Check", policy)
    return referral.id


def test_the_referral_lists_each_agencys_open_involvement_for_subject_and_household(
    hub: Session, policy
) -> None:
    view = view_referral(hub, MANAGER, _referral(hub, policy))
    rows = {(i.person, i.agency): i for i in view.involvement}
    assert set(rows) == {
        ("Tyrone Campbell", "Children's social care"),
        ("Marcia Campbell", "Health"),
    }  # health's closed case and police's record without involvement are not involvement
    social_care = rows[("Tyrone Campbell", "Children's social care")]
    assert (social_care.worker, social_care.team) == ("Dana Whitlock", "Assessment team 2")
    assert social_care.since == dt.date(2026, 9, 3) and not social_care.household
    assert rows[("Marcia Campbell", "Health")].household
    assert all(i.record is None for i in view.involvement)  # the manager sees no agency's records


def test_the_record_behind_involvement_is_shown_to_its_own_agency_only(
    hub: Session, policy
) -> None:
    referral = _referral(hub, policy)
    view = view_referral(hub, professional("health"), referral)
    records = {i.agency: i.record for i in view.involvement}
    assert records == {"Children's social care": None, "Health": "H2"}


def test_the_subject_page_shows_the_household_without_names_to_a_professional(
    hub: Session, policy
) -> None:
    _referral(hub, policy)
    child = _subject(hub, "Campbell", "Tyrone")
    shown = view_subject(hub, professional("police"), child, "test")
    assert {(i.person, i.agency) for i in shown.involvement} == {
        ("This person", "Children's social care"),
        ("A member of the household", "Health"),
    }


def test_an_involvement_column_that_is_not_yes_or_no_is_refused_by_line_and_field(
    session: Session, tmp_path: Path
) -> None:
    make_hub(session)
    bad = write_csv(
        tmp_path / "bad.csv", [{"record_id": "X1", **TYRONE, "open_case": "maybe", "since": "soon"}]
    )
    with pytest.raises(ImportRefused) as refused:
        import_files(session, ADMIN, "police", [bad])
    text = "\n".join(str(e) for e in refused.value.errors)
    assert "bad.csv:2:open_case: must be yes or no" in text
    assert "bad.csv:2:since" in text
