"""Verification never crashes on a stored value of the wrong type: it names the entry instead.

SQLite lets anyone who can write the store file put any value in any column (a BLOB in a text
column, text in an integer one, a NULL once the table is rebuilt without its constraints, a value
too large for its type). Such a value is tampering, and `verify_store` raises `AuditTampered`
for it, naming the entry, as it does for any other change; it never raises another exception.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import fields, replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor
from node.audit import AuditRecord, AuditTampered, Checkpoint
from node.store.db import make_engine, make_sessionmaker, transaction, upgrade
from node.store.models import Role
from tests.test_audit_tamper import CHECKPOINTS, ENTRIES, NODE, SIZE, TRUSTED

FUZZ = settings(deadline=None, database=None, max_examples=150)
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.binary(max_size=40),
    st.just("x" * 100_000),
    st.just(b"\xff\xfe"),
)


@FUZZ
@given(data=st.data())
def test_an_entry_field_of_any_type_is_named_never_raised_otherwise(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, SIZE - 1), label="index")
    name = data.draw(st.sampled_from([f.name for f in fields(AuditRecord)]), label="field")
    value = data.draw(ANY_VALUE.filter(lambda v: v != getattr(ENTRIES[index], name)))
    entries = list(ENTRIES)
    entries[index] = replace(entries[index], **{name: value})

    with pytest.raises(AuditTampered) as caught:
        audit.verify_log(iter(entries), CHECKPOINTS, TRUSTED)

    assert caught.value.seq == index + 1 or (name == "seq" and caught.value.seq is not None)


@FUZZ
@given(data=st.data())
def test_a_checkpoint_field_of_any_type_is_refused_never_raised_otherwise(
    data: st.DataObject,
) -> None:
    index = data.draw(st.integers(0, len(CHECKPOINTS) - 1), label="checkpoint")
    name = data.draw(st.sampled_from([f.name for f in fields(Checkpoint)]), label="field")
    value = data.draw(ANY_VALUE.filter(lambda v: v != getattr(CHECKPOINTS[index], name)))
    checkpoints = list(CHECKPOINTS)
    checkpoints[index] = replace(checkpoints[index], **{name: value})

    with pytest.raises(AuditTampered):
        audit.verify_log(iter(ENTRIES), checkpoints, TRUSTED)


# The same on a real SQLite store, its rows rewritten with raw SQL.


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A node.db with 12 committed entries, checkpointed at 5 and 10, its audit tables rebuilt
    without NOT NULL constraints (as anyone who can write the file can do)."""
    path = tmp_path_factory.mktemp("typed") / "node.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    actor = Actor("prof.police1", Role.AGENCY_PROFESSIONAL, "police")
    with transaction(make_sessionmaker(engine)) as session:
        for n in range(12):
            audit.record(session, actor, "record.view", object_ref=f"record:{n}", purpose="s47")
            audit.checkpoint_if_due(session, NODE, every=5)
    engine.dispose()
    with sqlite3.connect(path) as db:
        for table in ("audit_entries", "audit_checkpoints", "audit_head"):
            db.executescript(
                f"CREATE TABLE loose AS SELECT * FROM {table}; DROP TABLE {table};"
                f" ALTER TABLE loose RENAME TO {table};"
            )
    db.close()
    return path


SQL_VALUES = {
    "NULL": "NULL",
    "a BLOB": "x'00ff10'",
    "text as BLOB": "CAST('record.view' AS BLOB)",
    "bytes as text": "CAST(x'ff' AS TEXT)",
    "text": "'7x'",
    "numeric text": "'13'",
    "a real": "4.5",
    "a huge integer": "9223372036854775807",
    "too huge": "92233720368547758070",
    "negative": "-3",
    "a large text": "hex(zeroblob(200000))",
    "a large BLOB": "zeroblob(200000)",
}
ENTRY_COLUMNS = [f.name for f in fields(AuditRecord)]
CHECKPOINT_COLUMNS = [f.name for f in fields(Checkpoint)]


def _tamper_and_verify(store_file: Path, tmp_path: Path, statement: str) -> AuditTampered:
    copy = tmp_path / "copy.db"
    shutil.copy(store_file, copy)
    with sqlite3.connect(copy) as db:
        db.execute(statement)
    db.close()
    engine = make_engine(f"sqlite:///{copy}")
    try:
        with Session(engine) as session, pytest.raises(AuditTampered) as caught:
            audit.verify_store(session, TRUSTED, anchor=None)
    finally:
        engine.dispose()
    return caught.value


@pytest.mark.parametrize("kind", sorted(SQL_VALUES))
@pytest.mark.parametrize("column", ENTRY_COLUMNS)
def test_a_stored_entry_value_of_any_type_names_the_entry(
    store_file: Path, tmp_path: Path, column: str, kind: str
) -> None:
    value = SQL_VALUES[kind]
    error = _tamper_and_verify(
        store_file, tmp_path, f"UPDATE audit_entries SET {column} = {value} WHERE seq = 7"
    )
    if column == "seq":  # seq 7 is missing, or the entry moved before it: that place is named
        assert error.seq is not None and 1 <= error.seq <= 7
    else:
        assert error.seq == 7


@pytest.mark.parametrize("kind", sorted(SQL_VALUES))
@pytest.mark.parametrize("column", [*CHECKPOINT_COLUMNS, "head:size", "head:head_hash"])
def test_a_stored_checkpoint_or_head_value_of_any_type_is_refused(
    store_file: Path, tmp_path: Path, column: str, kind: str
) -> None:
    value = SQL_VALUES[kind]
    if column.startswith("head:"):
        statement = f"UPDATE audit_head SET {column.removeprefix('head:')} = {value}"
    else:
        statement = f"UPDATE audit_checkpoints SET {column} = {value} WHERE size = 5"
    _tamper_and_verify(store_file, tmp_path, statement)
