"""Linking records into subjects, candidates, and reversible merges (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from node import subjects
from node.access import AccessDenied
from node.importing import service
from node.importing.service import import_files
from node.store.models import AuditEntry, CandidateStatus, MatchCandidate, PersonRecord, Subject
from tests.helpers import ADMIN, MANAGER, TYRONE, make_hub, professional, write_csv

BASE = TYRONE


@pytest.fixture
def hub(session: Session) -> Session:
    make_hub(session)
    return session


def load(session: Session, tmp_path: Path, agency: str, *people: dict[str, str]) -> None:
    rows = [dict(p, record_id=p.get("record_id", f"{agency}-{i}")) for i, p in enumerate(people)]
    import_files(session, ADMIN, agency, [write_csv(tmp_path / f"{agency}-{len(rows)}.csv", rows)])


def subject_of(session: Session, agency: str, record_id: str) -> int:
    subject = session.scalar(
        select(PersonRecord.subject_id).where(
            PersonRecord.agency_code == agency, PersonRecord.agency_record_id == record_id
        )
    )
    assert subject is not None
    return subject


def test_certain_matches_across_agencies_form_one_subject(hub: Session, tmp_path: Path) -> None:
    load(hub, tmp_path, "police", dict(BASE, forenames="TYRONE", nhs_number=""))
    load(hub, tmp_path, "health", BASE)
    load(
        hub, tmp_path, "education", dict(BASE, surname="campbell", postcode="n167ab", nhs_number="")
    )
    assert subject_of(hub, "police", "police-0") == subject_of(hub, "health", "health-0")
    assert subject_of(hub, "education", "education-0") == subject_of(hub, "health", "health-0")
    assert hub.scalars(select(MatchCandidate)).all() == []


def test_records_in_one_file_link_to_each_other(hub: Session, tmp_path: Path) -> None:
    load(hub, tmp_path, "police", BASE, dict(BASE, record_id="dup", nhs_number=""))
    assert subject_of(hub, "police", "police-0") == subject_of(hub, "police", "dup")


def test_weaker_match_is_a_candidate_not_a_link(hub: Session, tmp_path: Path) -> None:
    load(hub, tmp_path, "police", dict(BASE, nhs_number="", postcode="E8 1AB"))  # moved since
    load(hub, tmp_path, "housing", dict(BASE, nhs_number=""))
    a, b = subject_of(hub, "police", "police-0"), subject_of(hub, "housing", "housing-0")
    assert a != b
    candidate = hub.scalars(select(MatchCandidate)).one()
    assert {candidate.subject_a_id, candidate.subject_b_id} == {a, b}
    assert candidate.status is CandidateStatus.OPEN
    # Name and date of birth, and the name's beginnings and ending with it, all join them: the
    # candidate names the strongest, and of the strong ones the first in the key set's order.
    assert (candidate.key_class, candidate.strength) == ("name_dob", "strong")


def test_twins_are_not_linked_or_proposed(hub: Session, tmp_path: Path) -> None:
    load(
        hub,
        tmp_path,
        "education",
        dict(BASE, nhs_number=""),
        dict(BASE, forenames="Shanice", nhs_number=""),
    )
    assert subject_of(hub, "education", "education-0") != subject_of(
        hub, "education", "education-1"
    )
    assert hub.scalars(select(MatchCandidate)).all() == []


def test_existing_subjects_are_never_merged_automatically(hub: Session, tmp_path: Path) -> None:
    load(hub, tmp_path, "police", dict(BASE, nhs_number="", postcode="E8 1AB"))
    load(hub, tmp_path, "housing", dict(BASE, nhs_number="", postcode="E5 0LL"))
    police, housing = subject_of(hub, "police", "police-0"), subject_of(hub, "housing", "housing-0")
    # A GP record certainly matches both of them (same name, birth date and each postcode).
    load(
        hub,
        tmp_path,
        "health",
        dict(BASE, record_id="gp1", postcode="E8 1AB"),
        dict(BASE, record_id="gp2", postcode="E5 0LL", nhs_number="9434765919"),
    )
    assert subject_of(hub, "police", "police-0") == police
    assert subject_of(hub, "housing", "housing-0") == housing
    pair = {(c.subject_a_id, c.subject_b_id) for c in hub.scalars(select(MatchCandidate))}
    assert (min(police, housing), max(police, housing)) in pair


def test_confirm_merges_and_unmerge_restores_exactly(hub: Session, tmp_path: Path) -> None:
    load(hub, tmp_path, "police", dict(BASE, nhs_number="", postcode="E8 1AB"))
    load(hub, tmp_path, "housing", dict(BASE, nhs_number=""))
    before = {r.id: r.subject_id for r in hub.scalars(select(PersonRecord))}
    candidate = hub.scalars(select(MatchCandidate)).one()
    pro = professional("police")
    merge = subjects.confirm_candidate(hub, pro, candidate.id, "same person: moved house in 2025")
    after = {r.subject_id for r in hub.scalars(select(PersonRecord))}
    assert after == {merge.survivor_id}
    assert hub.get(Subject, merge.merged_id).merged_into_id == merge.survivor_id
    assert candidate.status is CandidateStatus.CONFIRMED
    subjects.unmerge(hub, MANAGER, merge.id, "confirmed in error")
    assert {r.id: r.subject_id for r in hub.scalars(select(PersonRecord))} == before
    assert hub.get(Subject, merge.merged_id).merged_into_id is None
    actions = hub.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions[-3:] == ["subject.merge", "candidate.confirmed", "subject.unmerge"]
    with pytest.raises(subjects.SubjectError, match="already undone"):
        subjects.unmerge(hub, MANAGER, merge.id, "again")


def test_rejected_candidate_is_not_raised_again(hub: Session, tmp_path: Path) -> None:
    load(hub, tmp_path, "police", dict(BASE, nhs_number="", postcode="E8 1AB"))
    load(hub, tmp_path, "housing", dict(BASE, nhs_number=""))
    candidate = hub.scalars(select(MatchCandidate)).one()
    subjects.reject_candidate(hub, MANAGER, candidate.id, "different people, checked")
    load(hub, tmp_path, "housing", dict(BASE, nhs_number="", address="re-sent"))
    assert [c.status for c in hub.scalars(select(MatchCandidate))] == [CandidateStatus.REJECTED]


def test_merge_needs_a_professional_and_a_reason(hub: Session, tmp_path: Path) -> None:
    load(hub, tmp_path, "police", dict(BASE, nhs_number="", postcode="E8 1AB"))
    load(hub, tmp_path, "housing", dict(BASE, nhs_number=""))
    a, b = subject_of(hub, "police", "police-0"), subject_of(hub, "housing", "housing-0")
    with pytest.raises(AccessDenied):
        subjects.merge_subjects(hub, ADMIN, a, b, "admin tidy-up")
    with pytest.raises(subjects.SubjectError, match="reason"):
        subjects.merge_subjects(hub, MANAGER, a, b, "  ")
    with pytest.raises(subjects.SubjectError, match="already one subject"):
        subjects.merge_subjects(hub, MANAGER, a, a, "same")


def test_merging_into_a_merged_subject_follows_to_the_survivor(
    hub: Session, tmp_path: Path
) -> None:
    load(hub, tmp_path, "police", dict(BASE, nhs_number="", postcode="E8 1AB"))
    load(hub, tmp_path, "housing", dict(BASE, nhs_number=""))
    load(hub, tmp_path, "probation", dict(BASE, nhs_number="", postcode="E2 7QQ"))
    a, b, c = (subject_of(hub, x, f"{x}-0") for x in ("police", "housing", "probation"))
    subjects.merge_subjects(hub, MANAGER, a, b, "one")
    merge = subjects.merge_subjects(hub, MANAGER, c, b, "two")  # b is now part of a
    assert (merge.survivor_id, merge.merged_id) == (c, a)
    assert {r.subject_id for r in hub.scalars(select(PersonRecord))} == {c}


@pytest.mark.parametrize("batch", [1, 1000])
def test_one_import_links_the_same_whatever_its_batches(
    hub: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(service, "BATCH", batch)
    load(
        hub,
        tmp_path,
        "health",
        dict(BASE, record_id="a", postcode="E8 1AB"),  # NHS number and date of birth
        dict(BASE, record_id="b", postcode="E5 0LL", nhs_number=""),  # name, DOB, postcode
        dict(BASE, record_id="c", postcode="E5 0LL"),  # certainly both a and b
    )
    assert len({subject_of(hub, "health", r) for r in "abc"}) == 1
    assert hub.scalars(select(MatchCandidate)).all() == []
    assert len(hub.scalars(select(Subject)).all()) == 1
