"""Every tampering of an honest audit log is caught by verify_log, and named where it is an edit.

The honest log is built with the same functions the node uses (no database): 64 entries with a
checkpoint every 10 entries and one at the end. Hypothesis then applies one random tampering to a
copy. The one change the design cannot catch, a well-formed entry appended after the last
checkpoint, is shown by its own test rather than generated.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.encoding import RawEncoder
from nacl.public import PrivateKey
from nacl.signing import SigningKey
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor
from node.audit import AuditRecord, AuditTampered, Checkpoint
from node.keys import NodeKeys
from node.store.db import make_engine, make_sessionmaker, transaction, upgrade
from node.store.models import Role


def _node_keys(seed: int) -> NodeKeys:
    return NodeKeys(
        signing=SigningKey(bytes([seed]) * 32, encoder=RawEncoder),
        box=PrivateKey(bytes([seed + 1]) * 32),
        oprf_epoch=1,
        oprf=bytes(32),
    )


NODE = _node_keys(1)
ATTACKER = _node_keys(7)
TRUSTED = [bytes(NODE.verify_key)]
SIZE = 64
EVERY = 10
START = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)
ACTORS = [
    ("prof.police1", "agency-professional", "police"),
    ("manager1", "mash-manager", ""),
    ("system:checkpoint", "system", ""),
    ("prof.health2", "agency-professional", "health"),
]
EDITABLE = [field.name for field in fields(AuditRecord)]


def _honest_entries() -> list[AuditRecord]:
    entries, previous = [], audit.chain.ZERO_HASH
    for seq in range(1, SIZE + 1):
        actor, role, agency = ACTORS[seq % len(ACTORS)]
        entry = audit.next_record(
            previous,
            seq=seq,
            at=audit.format_time(START + dt.timedelta(minutes=seq, microseconds=seq)),
            actor=actor,
            actor_role=role,
            actor_agency=agency,
            action=("record.view", "search", "release", "export")[seq % 4],
            object_ref=f"referral:R-{seq // 3}",
            purpose=f"s47 enquiry {seq // 5}" if seq % 2 else "",
            detail=audit.canonical_detail({"n": seq, "note": "Zoë" if seq % 7 == 0 else ""}),
        )
        entries.append(entry)
        previous = entry.chain_hash
    return entries


def _honest_checkpoints(entries: list[AuditRecord]) -> list[Checkpoint]:
    sizes = [*range(EVERY, SIZE + 1, EVERY), SIZE]
    return [
        audit.sign_checkpoint(NODE, size, entries[size - 1].chain_hash, entries[size - 1].at)
        for size in dict.fromkeys(sizes)
    ]


ENTRIES = _honest_entries()
CHECKPOINTS = _honest_checkpoints(ENTRIES)
TAMPER = settings(deadline=None, database=None)


def _tampered(entries: list[AuditRecord], checkpoints: list[Checkpoint]) -> AuditTampered:
    with pytest.raises(AuditTampered) as caught:
        audit.verify_log(iter(entries), checkpoints, TRUSTED)
    return caught.value


def _rechained(entries: list[AuditRecord], start: int) -> list[AuditRecord]:
    """Renumber entries from index `start` on and recompute their chain, as an attacker can."""
    result = entries[:start]
    previous = result[-1].chain_hash if result else audit.chain.ZERO_HASH
    for index, entry in enumerate(entries[start:], start=start):
        result.append(audit.relink(previous, replace(entry, seq=index + 1)))
        previous = result[-1].chain_hash
    return result


def test_the_honest_log_verifies() -> None:
    report = audit.verify_log(iter(ENTRIES), CHECKPOINTS, TRUSTED)

    assert (report.size, report.head_hash) == (SIZE, ENTRIES[-1].chain_hash)
    assert report.checkpoints_checked == len(CHECKPOINTS) == 7
    assert (report.last_checkpoint_size, report.unanchored) == (SIZE, 0)


def test_a_well_formed_append_after_the_last_checkpoint_is_not_detectable() -> None:
    """The documented limit: an entry added after the last checkpoint looks like any append."""
    appended = audit.relink(ENTRIES[-1].chain_hash, replace(ENTRIES[-1], seq=SIZE + 1))

    report = audit.verify_log(iter([*ENTRIES, appended]), CHECKPOINTS, TRUSTED)

    assert (report.size, report.unanchored) == (SIZE + 1, 1)


def _different(original: object) -> st.SearchStrategy[object]:
    if isinstance(original, int):
        values: st.SearchStrategy[object] = st.integers(min_value=-5, max_value=10**12)
    elif isinstance(original, bytes):
        values = st.one_of(
            st.binary(min_size=32, max_size=32),
            st.integers(0, 255).map(lambda bit: _flip(original, bit)),
            st.binary(max_size=40),
        )
    else:
        values = st.one_of(
            st.text(max_size=30),
            st.just(original + " "),
            st.just(original.replace("0", "1", 1)),  # e.g. one digit of a time
            st.just(original.upper()),
        )
    return values.filter(lambda value: value != original)


def _flip(data: bytes, bit: int) -> bytes:
    index = (bit // 8) % len(data)
    return data[:index] + bytes([data[index] ^ (1 << (bit % 8))]) + data[index + 1 :]


@TAMPER
@given(data=st.data())
def test_an_edit_of_any_field_of_any_entry_is_named(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, SIZE - 1), label="index")
    name = data.draw(st.sampled_from(EDITABLE), label="field")
    value = data.draw(_different(getattr(ENTRIES[index], name)), label="new value")
    entries = list(ENTRIES)
    entries[index] = replace(entries[index], **{name: value})

    error = _tampered(entries, CHECKPOINTS)

    assert error.seq == index + 1
    assert ("chain hash" if name != "seq" else "expected seq") in error.reason


@TAMPER
@given(deleted=st.sets(st.integers(0, SIZE - 1), min_size=1, max_size=12))
def test_deleting_entries_is_named_at_the_first_missing(deleted: set[int]) -> None:
    entries = [entry for index, entry in enumerate(ENTRIES) if index not in deleted]

    error = _tampered(entries, CHECKPOINTS)

    assert error.seq == min(deleted) + 1


def _forged_entry(data: st.DataObject, seq: int) -> AuditRecord:
    return AuditRecord(
        seq=seq,
        at=audit.format_time(data.draw(st.datetimes(timezones=st.just(dt.UTC)), label="at")),
        actor=data.draw(st.sampled_from([a for a, _, _ in ACTORS]), label="actor"),
        actor_role="mash-manager",
        actor_agency="",
        action=data.draw(st.sampled_from(["record.view", "release"]), label="action"),
        object_ref=data.draw(st.text(max_size=20), label="object_ref"),
        purpose=data.draw(st.text(max_size=20), label="purpose"),
        detail=audit.canonical_detail({"forged": True}),
        chain_hash=b"",
    )


@TAMPER
@given(data=st.data())
def test_a_forged_entry_inserted_and_rechained_is_caught(data: st.DataObject) -> None:
    position = data.draw(st.integers(0, SIZE - 1), label="insert before index")
    forged = _forged_entry(data, position + 1)
    entries = _rechained([*ENTRIES[:position], forged, *ENTRIES[position:]], position)

    error = _tampered(entries, CHECKPOINTS)

    assert "different log" in error.reason


@TAMPER
@given(data=st.data())
def test_a_forged_entry_inserted_without_renumbering_is_caught(data: st.DataObject) -> None:
    position = data.draw(st.integers(0, SIZE), label="insert before index")
    seq = data.draw(st.integers(-2, SIZE + 3), label="seq")
    previous = ENTRIES[position - 1].chain_hash if position else audit.chain.ZERO_HASH
    forged = audit.relink(previous, _forged_entry(data, seq))

    error = _tampered([*ENTRIES[:position], forged, *ENTRIES[position:]], CHECKPOINTS)

    assert error.seq is not None
    assert error.seq <= position + 2


@TAMPER
@given(
    pair=st.lists(st.integers(0, SIZE - 1), min_size=2, max_size=2, unique=True),
    renumber=st.booleans(),
)
def test_two_entries_swapped_are_caught(pair: list[int], renumber: bool) -> None:
    first, second = sorted(pair)
    entries = list(ENTRIES)
    entries[first], entries[second] = entries[second], entries[first]
    if renumber:
        entries = _rechained(entries, first)

    error = _tampered(entries, CHECKPOINTS)

    # Renumbered and re-chained, the first entry after the last checkpoint that still vouches
    # is named (the swap is somewhere from there to the next checkpoint).
    assert error.seq == (first // EVERY * EVERY + 1 if renumber else first + 1)


@TAMPER
@given(cut=st.integers(1, SIZE))
def test_a_truncated_tail_is_caught(cut: int) -> None:
    error = _tampered(ENTRIES[: SIZE - cut], CHECKPOINTS)

    assert error.seq == SIZE - cut + 1
    assert "cut from the end" in error.reason


@TAMPER
@given(pair=st.lists(st.integers(0, len(CHECKPOINTS) - 1), min_size=2, max_size=2, unique=True))
def test_checkpoint_signatures_swapped_are_caught(pair: list[int]) -> None:
    first, second = pair
    checkpoints = list(CHECKPOINTS)
    checkpoints[first] = replace(CHECKPOINTS[first], signature=CHECKPOINTS[second].signature)
    checkpoints[second] = replace(CHECKPOINTS[second], signature=CHECKPOINTS[first].signature)

    error = _tampered(ENTRIES, checkpoints)

    assert "signature" in error.reason


@TAMPER
@given(data=st.data())
def test_a_checkpoint_field_edited_is_caught(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(CHECKPOINTS) - 1), label="checkpoint")
    name = data.draw(st.sampled_from([f.name for f in fields(Checkpoint)]), label="field")
    value = data.draw(_different(getattr(CHECKPOINTS[index], name)), label="new value")
    checkpoints = list(CHECKPOINTS)
    checkpoints[index] = replace(checkpoints[index], **{name: value})

    error = _tampered(ENTRIES, checkpoints)

    assert any(word in error.reason for word in ("signature", "not trusted", "damaged"))


ATTACKS: dict[str, Callable[[int, int], tuple[list[AuditRecord], list[Checkpoint]]]] = {}


def _attack(function: Callable[[int, int], tuple[list[AuditRecord], list[Checkpoint]]]) -> None:
    ATTACKS[function.__name__] = function


@_attack
def forged_extra_checkpoint(index: int, _cut: int) -> tuple[list[AuditRecord], list[Checkpoint]]:
    honest = CHECKPOINTS[index]
    forged = audit.sign_checkpoint(ATTACKER, honest.size, honest.head_hash, honest.signed_at)
    return ENTRIES, [*CHECKPOINTS, forged]


@_attack
def checkpoint_replaced(index: int, _cut: int) -> tuple[list[AuditRecord], list[Checkpoint]]:
    entries = _rechained([*ENTRIES[:index], *ENTRIES[index + 1 :]], index)
    checkpoints = _honest_checkpoints_by(ATTACKER, entries)
    return entries, checkpoints


@_attack
def claims_the_node_key(index: int, _cut: int) -> tuple[list[AuditRecord], list[Checkpoint]]:
    honest = CHECKPOINTS[index]
    forged = audit.sign_checkpoint(ATTACKER, honest.size, honest.head_hash, honest.signed_at)
    checkpoints = list(CHECKPOINTS)
    checkpoints[index] = replace(forged, verify_key=honest.verify_key)
    return ENTRIES, checkpoints


@_attack
def tail_cut_and_resigned(_index: int, cut: int) -> tuple[list[AuditRecord], list[Checkpoint]]:
    entries = ENTRIES[: SIZE - cut]
    kept = [cp for cp in CHECKPOINTS if cp.size <= len(entries)]
    head = entries[-1].chain_hash if entries else audit.chain.ZERO_HASH
    resigned = audit.sign_checkpoint(ATTACKER, len(entries), head, "2024-05-02T00:00:00.000000Z")
    return entries, [*kept, replace(resigned, verify_key=CHECKPOINTS[-1].verify_key)]


def _honest_checkpoints_by(keys: NodeKeys, entries: list[AuditRecord]) -> list[Checkpoint]:
    return [
        audit.sign_checkpoint(keys, cp.size, entries[cp.size - 1].chain_hash, cp.signed_at)
        for cp in CHECKPOINTS
        if cp.size <= len(entries)
    ]


@TAMPER
@given(
    attack=st.sampled_from(sorted(ATTACKS)),
    index=st.integers(0, len(CHECKPOINTS) - 2),
    cut=st.integers(1, SIZE),
)
def test_checkpoints_forged_without_the_node_key_are_caught(
    attack: str, index: int, cut: int
) -> None:
    entries, checkpoints = ATTACKS[attack](index, cut)

    error = _tampered(entries, checkpoints)

    assert "not trusted" in error.reason or "signature" in error.reason


def test_verify_log_streams_in_constant_memory() -> None:
    """Entries come from a generator and are not kept: memory does not grow with the log."""

    def generated(count: int) -> Iterator[AuditRecord]:
        previous = audit.chain.ZERO_HASH
        for seq in range(1, count + 1):
            entry = audit.relink(previous, replace(ENTRIES[seq % SIZE], seq=seq, detail="x" * 500))
            previous = entry.chain_hash
            yield entry

    tracemalloc.start()
    try:
        report = audit.verify_log(generated(5000), [], TRUSTED)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert report.size == 5000
    assert peak < 200_000  # 5000 kept entries would take well over 2 MB


# A real store file, tampered with raw SQL on a copy.

SQL_TAMPERING = {
    "edit": ("UPDATE audit_entries SET purpose = 'nothing to see' WHERE seq = 7", 7),
    "edit time": ("UPDATE audit_entries SET at = '2020-01-01T00:00:00.000000Z' WHERE seq = 3", 3),
    "copy hash": (
        "UPDATE audit_entries SET chain_hash = (SELECT chain_hash FROM audit_entries WHERE seq = 4)"
        " WHERE seq = 5",
        5,
    ),
    "delete": ("DELETE FROM audit_entries WHERE seq = 12", 12),
    "truncate, head moved": (
        "DELETE FROM audit_entries WHERE seq > 25;"
        " UPDATE audit_head SET size = 25,"
        " head_hash = (SELECT chain_hash FROM audit_entries WHERE seq = 25)",
        26,
    ),
    "truncate after checkpoint": ("DELETE FROM audit_entries WHERE seq > 31", 32),
    "insert before start": (
        "INSERT INTO audit_entries SELECT 0, at, actor, actor_role, actor_agency, action,"
        " object_ref, purpose, detail, chain_hash FROM audit_entries WHERE seq = 1",
        1,
    ),
    "checkpoint edit": ("UPDATE audit_checkpoints SET size = size + 1 WHERE size = 20", None),
}


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A node.db with 33 committed entries, checkpointed every 10 and at 30."""
    path = tmp_path_factory.mktemp("node") / "node.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    actor = Actor("prof.police1", Role.AGENCY_PROFESSIONAL, "police")
    with transaction(make_sessionmaker(engine)) as session:
        for n in range(33):
            audit.record(session, actor, "record.view", object_ref=f"record:{n}", purpose="s47")
            audit.checkpoint_if_due(session, NODE, every=10)
    engine.dispose()
    return path


def _verify_file(path: Path) -> audit.VerifyReport:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as session:
            return audit.verify_store(session, TRUSTED, anchor=None)
    finally:
        engine.dispose()


@pytest.mark.parametrize("case", sorted(SQL_TAMPERING))
def test_a_copied_store_file_tampered_with_raw_sql_is_caught(
    store_file: Path, tmp_path: Path, case: str
) -> None:
    statement, seq = SQL_TAMPERING[case]
    copy = tmp_path / "copy.db"
    shutil.copy(store_file, copy)
    with sqlite3.connect(copy) as connection:
        connection.executescript(statement)
    connection.close()

    with pytest.raises(AuditTampered) as caught:
        _verify_file(copy)

    assert caught.value.seq == seq
    report = _verify_file(store_file)
    assert (report.size, report.checkpoints_checked, report.last_checkpoint_size) == (33, 3, 30)
