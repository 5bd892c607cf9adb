"""A store's match keys follow the release's key set: recorded on import, refused when older,
re-derived by init with subjects kept and new shared keys raised as candidates."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from node import match_key_set
from node.importing.service import import_files
from node.matching.keys import KEY_SET_VERSION
from node.store.models import (
    AuditEntry,
    MatchCandidate,
    MatchKey,
    PersonName,
    PersonRecord,
    StoreSetting,
)
from tests.helpers import ADMIN, TYRONE, make_hub, write_csv


@pytest.fixture
def hub(session: Session, tmp_path: Path) -> Session:
    make_hub(session)
    people = [
        dict(TYRONE, record_id="P1"),
        dict(TYRONE, record_id="P2", forenames="Shanice", nhs_number=""),  # his twin sister
    ]
    import_files(session, ADMIN, "police", [write_csv(tmp_path / "police.csv", people)])
    health = [dict(TYRONE, record_id="H1", postcode="E8 1AB")]
    import_files(session, ADMIN, "health", [write_csv(tmp_path / "health.csv", health)])
    return session


def _keys(session: Session) -> set[tuple[bytes, int]]:
    return set(session.execute(select(MatchKey.key_value, MatchKey.record_id)))


def _names(session: Session) -> set[tuple[object, ...]]:
    rows = session.execute(
        select(
            PersonName.record_id,
            PersonName.forename_norm,
            PersonName.surname_norm,
            PersonName.forename_phonetic,
            PersonName.surname_phonetic,
            PersonName.is_alias,
        )
    )
    return {tuple(row) for row in rows}


def _age(session: Session, version: int) -> None:
    """Make the store look as if its keys came from another key set: other keys, wrong norms."""
    session.execute(update(StoreSetting).values(value=str(version)))
    session.execute(delete(MatchKey).where(MatchKey.record_id > 1))
    session.execute(insert(MatchKey).values(key_value=b"\x00" * 16, record_id=2))
    session.execute(update(PersonRecord).values(postcode_norm=None, match_key_values=b""))
    session.execute(update(PersonName).values(surname_phonetic="X000"))


def test_an_import_records_the_key_set_its_keys_come_from(hub: Session) -> None:
    assert match_key_set.stored_version(hub) == KEY_SET_VERSION
    match_key_set.require_current_keys(hub)  # no error


def test_a_store_with_older_keys_is_refused_naming_init(hub: Session) -> None:
    _age(hub, KEY_SET_VERSION - 1)
    older = rf"key set {KEY_SET_VERSION - 1}, .* run `mash-node init`"
    with pytest.raises(match_key_set.KeysOutOfDate, match=older):
        match_key_set.require_current_keys(hub)


def test_rederiving_gives_what_a_fresh_import_gives_and_keeps_every_subject(hub: Session) -> None:
    keys, names = _keys(hub), _names(hub)
    records = {
        row.id: (row.subject_id, row.postcode_norm, row.match_key_values)
        for row in hub.scalars(select(PersonRecord))
    }
    candidates = {(c.subject_a_id, c.subject_b_id) for c in hub.scalars(select(MatchCandidate))}
    _age(hub, KEY_SET_VERSION - 1)

    done = match_key_set.rederive_if_needed(hub)

    assert done is not None and done.from_version == KEY_SET_VERSION - 1
    assert done.records == 3 and done.keys == len(keys)
    assert _keys(hub) == keys
    assert _names(hub) == names
    assert {
        row.id: (row.subject_id, row.postcode_norm, row.match_key_values)
        for row in hub.scalars(select(PersonRecord))
    } == records
    assert {(c.subject_a_id, c.subject_b_id) for c in hub.scalars(select(MatchCandidate))} == (
        candidates
    )
    assert match_key_set.stored_version(hub) == KEY_SET_VERSION
    entry = hub.scalars(select(AuditEntry).where(AuditEntry.action == "match-keys.rederive")).one()
    assert f"key-set:{KEY_SET_VERSION}" == entry.object_ref
    assert match_key_set.rederive_if_needed(hub) is None  # once is enough


def test_a_key_the_new_set_shares_raises_a_candidate_never_a_link(hub: Session) -> None:
    police = hub.scalar(select(PersonRecord).where(PersonRecord.agency_record_id == "P1"))
    health = hub.scalar(select(PersonRecord).where(PersonRecord.agency_record_id == "H1"))
    assert police is not None and health is not None
    # Under the "old" key set these two were not even candidates, and sat in two subjects.
    hub.execute(update(PersonRecord).where(PersonRecord.id == health.id).values(subject_id=None))
    hub.execute(
        update(PersonRecord)
        .where(PersonRecord.id == health.id)
        .values(subject_id=_new_subject(hub))
    )
    hub.query(MatchCandidate).delete()
    _age(hub, KEY_SET_VERSION - 1)

    match_key_set.rederive_if_needed(hub)

    hub.expire_all()
    assert health.subject_id != police.subject_id  # never merged automatically
    pairs = {(c.subject_a_id, c.subject_b_id) for c in hub.scalars(select(MatchCandidate))}
    assert tuple(sorted((police.subject_id, health.subject_id))) in pairs


def _new_subject(session: Session) -> int:
    from node.store.models import Subject

    subject = Subject()
    session.add(subject)
    session.flush()
    return subject.id


def test_an_empty_store_records_nothing_until_its_first_import(session: Session) -> None:
    make_hub(session)
    assert match_key_set.rederive_if_needed(session) is None
    assert match_key_set.stored_version(session) is None


def test_keys_from_an_unrecorded_key_set_are_refused_then_re_derived(hub: Session) -> None:
    keys = _keys(hub)
    hub.query(StoreSetting).delete()
    with pytest.raises(match_key_set.KeysOutOfDate, match="an unrecorded key set"):
        match_key_set.require_current_keys(hub)
    done = match_key_set.rederive_if_needed(hub)
    assert done is not None and done.from_version is None
    assert _keys(hub) == keys
    match_key_set.require_current_keys(hub)
