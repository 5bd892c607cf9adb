"""The audit log in the store, on SQLite and PostgreSQL: append, chain, roll back, sign, export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, insert, select, text
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor
from node.audit import AuditTampered
from node.keys import NodeKeys, ensure_keys, load_keys, verify_signature
from node.store.db import make_sessionmaker
from node.store.models import Agency, AuditCheckpoint, AuditEntry, AuditHead, Role

PROFESSIONAL = Actor("prof.police1", Role.AGENCY_PROFESSIONAL, "police")
MANAGER = Actor("manager1", Role.MASH_MANAGER)


def _keys(directory: Path) -> NodeKeys:
    ensure_keys(directory)
    return load_keys(directory)


@pytest.fixture
def keys(tmp_path: Path) -> NodeKeys:
    return _keys(tmp_path / "keys")


def _record_some(session: Session, count: int, start: int = 0) -> list[audit.AuditRecord]:
    return [
        audit.record(
            session,
            PROFESSIONAL if n % 2 else MANAGER,
            "record.view",
            object_ref=f"record:{n}",
            purpose=f"referral R-{n}",
            detail={"n": n},
        )
        for n in range(start, start + count)
    ]


def _stored(session: Session) -> list[audit.AuditRecord]:
    return list(audit.entries(session))


def test_appended_entries_are_stored_and_verify(session: Session, keys: NodeKeys) -> None:
    written = _record_some(session, 3)
    audit.checkpoint(session, keys)
    later = _record_some(session, 2, start=3)

    report = audit.verify_store(session, [bytes(keys.verify_key)], anchor=None)

    assert _stored(session) == [*written, *later]
    assert [entry.seq for entry in written] == [1, 2, 3]
    assert (report.size, report.head_hash) == (5, later[-1].chain_hash)
    assert (report.checkpoints_checked, report.last_checkpoint_size) == (1, 3)
    assert (report.unanchored, report.unanchored_since) == (2, later[0].at)


def test_a_log_with_entries_and_no_checkpoint_is_refused(session: Session) -> None:
    assert audit.verify_store(session, trusted_keys=[], anchor=None).size == 0
    _record_some(session, 3)

    with pytest.raises(AuditTampered, match="no signed checkpoint vouches") as caught:
        audit.verify_store(session, trusted_keys=[], anchor=None)
    assert caught.value.seq == 1


def test_each_entry_links_to_the_one_before(session: Session) -> None:
    written = _record_some(session, 4)

    previous = bytes(32)
    for entry in written:
        assert entry.chain_hash == audit.link_hash(previous, audit.leaf_hash(entry))
        previous = entry.chain_hash
    head = session.execute(select(AuditHead.size, AuditHead.head_hash)).one()
    assert (head.size, bytes(head.head_hash)) == (4, written[-1].chain_hash)


def test_fields_are_recorded_as_given(session: Session) -> None:
    at = dt.datetime(2024, 3, 1, 9, 30, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    entry = audit.record(
        session,
        Actor.system("checkpoint"),
        "node.init",
        object_ref="node:hackney",
        purpose="set-up",
        detail={"on": dt.date(2024, 2, 29), "role": Role.AUDITOR, "name": "Zoë"},
        at=at,
    )

    assert (entry.actor, entry.actor_role, entry.actor_agency) == (
        "system:checkpoint",
        "system",
        "",
    )
    assert entry.at == "2024-03-01T08:30:00.000005Z"
    assert entry.detail == '{"name":"Zoë","on":"2024-02-29","role":"auditor"}'
    assert _stored(session) == [entry]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"at": dt.datetime(2024, 3, 1, 9, 30)}, "timezone-aware"),
        ({"detail": {"when": {1, 2}}}, "JSON types"),
        ({"object_ref": "x" * 201}, "object_ref is 201 characters"),
    ],
)
def test_bad_entries_are_refused_and_nothing_is_appended(
    session: Session, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        audit.record(session, MANAGER, "record.view", **kwargs)  # type: ignore[arg-type]

    assert _stored(session) == []


def test_entry_rolls_back_with_the_callers_transaction(session: Session, keys: NodeKeys) -> None:
    session.add(Agency(code="audit-kept", name="Kept"))
    audit.record(session, MANAGER, "agency.add", object_ref="agency:audit-kept")
    session.commit()

    session.add(Agency(code="audit-lost", name="Lost"))
    audit.record(session, MANAGER, "agency.add", object_ref="agency:audit-lost")
    session.rollback()

    assert [entry.object_ref for entry in _stored(session)] == ["agency:audit-kept"]
    assert session.get(Agency, "audit-lost") is None
    after = audit.record(session, MANAGER, "agency.view", object_ref="agency:audit-kept")
    assert after.seq == 2
    audit.checkpoint(session, keys)
    assert audit.verify_store(session, [bytes(keys.verify_key)], anchor=None).size == 2


def test_checkpoint_is_signed_stored_and_verified(session: Session, keys: NodeKeys) -> None:
    written = _record_some(session, 4)

    signed = audit.checkpoint(session, keys)

    assert (signed.size, signed.head_hash) == (4, written[-1].chain_hash)
    assert signed.verify_key == bytes(keys.verify_key)
    message = audit.checkpoint_message(signed.size, signed.head_hash, signed.signed_at)
    assert message.startswith(b"mash-audit-checkpoint/v1\n\x00\x00\x00\x00\x00\x00\x00\x04")
    verify_signature(signed.verify_key, message, signed.signature)
    report = audit.verify_store(session, trusted_keys=[bytes(keys.verify_key)], anchor=None)
    assert (report.checkpoints_checked, report.last_checkpoint_size, report.unanchored) == (1, 4, 0)


def test_checkpoint_is_skipped_until_the_log_grows(session: Session, keys: NodeKeys) -> None:
    _record_some(session, 2)
    first = audit.checkpoint(session, keys)

    assert audit.checkpoint(session, keys) == first
    _record_some(session, 1, start=2)
    second = audit.checkpoint(session, keys)

    assert second.size == 3
    assert session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 2
    assert audit.latest_checkpoint(session) == second


def test_checkpoint_from_an_untrusted_key_is_refused(
    session: Session, keys: NodeKeys, tmp_path: Path
) -> None:
    _record_some(session, 2)
    audit.checkpoint(session, keys)
    stranger = _keys(tmp_path / "stranger")

    with pytest.raises(AuditTampered, match="not trusted"):
        audit.verify_store(session, trusted_keys=[bytes(stranger.verify_key)], anchor=None)


def test_checkpoint_if_due_counts_entries_since_the_last(session: Session, keys: NodeKeys) -> None:
    _record_some(session, 2)
    assert audit.checkpoint_if_due(session, keys, every=3) is None

    _record_some(session, 1, start=2)
    due = audit.checkpoint_if_due(session, keys, every=3)
    assert due is not None
    assert due.size == 3

    _record_some(session, 2, start=3)
    assert audit.checkpoint_if_due(session, keys, every=3) is None
    _record_some(session, 1, start=5)
    assert audit.checkpoint_if_due(session, keys, every=3).size == 6  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="at least 1"):
        audit.checkpoint_if_due(session, keys, every=0)


def test_checkpoint_refuses_to_sign_a_truncated_log(session: Session, keys: NodeKeys) -> None:
    _record_some(session, 3)
    audit.checkpoint(session, keys)
    session.execute(text("DELETE FROM audit_entries WHERE seq = 3"))
    session.execute(text("UPDATE audit_head SET size = 2"))

    with pytest.raises(AuditTampered, match="cut from the end"):
        audit.checkpoint(session, keys)


UTC = dt.UTC
EXPORT_TIMES = [
    dt.datetime(2024, 3, 1, 10, 0, tzinfo=UTC),  # before the range
    dt.datetime(2024, 3, 2, 0, 0, tzinfo=UTC),  # first moment of the range
    dt.datetime(2024, 3, 2, 23, 59, 59, 999999, tzinfo=UTC),  # last moment of the range
    dt.datetime(2024, 3, 3, 0, 0, tzinfo=UTC),  # after the range
    dt.datetime(2024, 3, 3, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),  # 23:30 UTC on 2nd
]


def _record_export_entries(session: Session) -> None:
    for n, at in enumerate(EXPORT_TIMES, start=1):
        audit.record(
            session,
            PROFESSIONAL,
            "record.view",
            object_ref=f"record:{n}",
            purpose="=HYPERLINK(1)" if n == 3 else f"referral R-{n}",
            detail={"n": n},
            at=at,
        )


def test_export_csv_holds_the_days_entries_with_who_when_what_why(session: Session) -> None:
    _record_export_entries(session)
    out = io.StringIO(newline="")

    count = audit.export(session, dt.date(2024, 3, 2), dt.date(2024, 3, 2), out, fmt="csv")

    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert count == len(rows) == 3
    assert list(rows[0]) == [
        "seq", "at", "actor", "actor_role", "actor_agency",
        "action", "object_ref", "purpose", "detail",
    ]  # fmt: skip
    assert [row["seq"] for row in rows] == ["2", "3", "5"]
    assert rows[0] == {
        "seq": "2",
        "at": "2024-03-02T00:00:00.000000Z",
        "actor": "prof.police1",
        "actor_role": "agency-professional",
        "actor_agency": "police",
        "action": "record.view",
        "object_ref": "record:2",
        "purpose": "referral R-2",
        "detail": '{"n":2}',
    }
    assert rows[1]["purpose"] == "'=HYPERLINK(1)"  # not run as a formula by a spreadsheet


def test_export_jsonl_holds_every_entry_in_a_wider_range(session: Session) -> None:
    _record_export_entries(session)
    out = io.StringIO()

    count = audit.export(session, dt.date(2024, 3, 1), dt.date(2024, 3, 3), out, fmt="jsonl")

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(lines) == 5
    assert [line["seq"] for line in lines] == [1, 2, 3, 4, 5]
    assert lines[4]["at"] == "2024-03-02T23:30:00.000000Z"
    assert lines[2]["purpose"] == "=HYPERLINK(1)"
    assert lines[0]["detail"] == {"n": 1}
    assert audit.export(session, dt.date(2024, 3, 4), dt.date(2024, 3, 9), io.StringIO()) == 0


def test_export_refuses_a_backwards_range_or_unknown_format(session: Session) -> None:
    with pytest.raises(ValueError, match="before it starts"):
        audit.export(session, dt.date(2024, 3, 2), dt.date(2024, 3, 1), io.StringIO())
    with pytest.raises(ValueError, match="format"):
        audit.export(session, dt.date(2024, 3, 1), dt.date(2024, 3, 1), io.StringIO(), fmt="xml")


def test_verify_store_detects_an_entry_edited_with_raw_sql(session: Session) -> None:
    _record_some(session, 5)
    session.execute(text("UPDATE audit_entries SET purpose = 'nothing to see' WHERE seq = 3"))

    with pytest.raises(AuditTampered, match="chain hash") as caught:
        audit.verify_store(session, trusted_keys=[], anchor=None)
    assert caught.value.seq == 3


def test_verify_store_detects_an_entry_deleted_with_raw_sql(session: Session) -> None:
    _record_some(session, 5)
    session.execute(text("DELETE FROM audit_entries WHERE seq = 2"))

    with pytest.raises(AuditTampered, match="missing") as caught:
        audit.verify_store(session, trusted_keys=[], anchor=None)
    assert caught.value.seq == 2


def test_verify_store_detects_the_last_entry_deleted_behind_the_head(session: Session) -> None:
    _record_some(session, 5)
    session.execute(text("DELETE FROM audit_entries WHERE seq = 5"))

    with pytest.raises(AuditTampered, match="head says the log has 5") as caught:
        audit.verify_store(session, trusted_keys=[], anchor=None)
    assert caught.value.seq == 5


def test_verify_store_detects_an_entry_added_beyond_the_head(session: Session) -> None:
    written = _record_some(session, 2)
    forged = audit.relink(written[-1].chain_hash, replace(written[-1], seq=3, purpose="forged"))
    session.execute(insert(AuditEntry).values(asdict(forged)))

    with pytest.raises(AuditTampered, match="beyond the audit head") as caught:
        audit.verify_store(session, trusted_keys=[], anchor=None)
    assert caught.value.seq == 3


@pytest.fixture
def committed_log(engine: Engine) -> Iterator[Engine]:
    """The shared test store, its audit tables emptied again after a test that commits for real."""
    yield engine
    with engine.begin() as connection:
        for model in (AuditCheckpoint, AuditEntry, AuditHead):
            connection.execute(delete(model))


def test_concurrent_appenders_get_one_unbroken_chain(committed_log: Engine, keys: NodeKeys) -> None:
    factory = make_sessionmaker(committed_log)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            for n in range(15):
                with factory.begin() as db:
                    audit.record(db, MANAGER, "record.view", object_ref=f"w{worker}:{n}")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=append, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with factory() as db:
        audit.checkpoint(db, keys)
        report = audit.verify_store(db, [bytes(keys.verify_key)], anchor=None)
        refs = {entry.object_ref for entry in audit.entries(db)}
    assert report.size == 60
    assert refs == {f"w{worker}:{n}" for worker in range(4) for n in range(15)}
