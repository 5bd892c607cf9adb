"""The audit log in the store: append in the caller's transaction, checkpoint, verify the store.

Appends are serialised on the single `AuditHead` row (``SELECT ... FOR UPDATE`` on PostgreSQL; on
SQLite every transaction already begins with ``BEGIN IMMEDIATE``), so entries get seq 1, 2, 3, ...
in one order and each links to the one before. An entry commits or rolls back with the action it
records. The node checkpoints after every CLI command and every `audit_checkpoint_every` entries,
and appends each checkpoint to its checkpoint file (`node.audit.anchor`) before the transaction
commits; `verify_store` holds the store to that file (`node.audit.anchored`). Entries after the
last checkpoint can still be rewritten unnoticed from the node alone, which is why checkpoints
will also go to the coordinator.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    String,
    bindparam,
    func,
    insert,
    inspect,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from node.access import Actor
from node.audit.anchor import CheckpointFile, CheckpointFileError, FileContents
from node.audit.anchored import check_against_file, check_not_bare, vouchers
from node.audit.chain import (
    ZERO_HASH,
    AuditRecord,
    Checkpoint,
    canonical_detail,
    format_time,
    next_record,
    sign_checkpoint,
)
from node.audit.verify import (
    AuditTampered,
    InvalidText,
    VerifyReport,
    check_checkpoint_types,
    describe,
    verify_log,
)
from node.keys import NodeKeys
from node.store.db import dialect_of, read_only, upsert_insert
from node.store.models import AuditCheckpoint, AuditEntry, AuditHead, utcnow

log = logging.getLogger(__name__)

HEAD_ID = 1
REFUSED = "access.denied"
_APPENDED = "mash_audit_appended"  # session.info key: this session appended an entry
_SIZE = "mash_audit_size"  # session.info key: the log's size after the session's last append
_BASE = "mash_audit_base"  # session.info key: (transaction, size, head) before its first append
_FILED = "mash_audit_filed"  # session.info key: checkpoints filed, awaiting the commit
SYSTEM_ROLE = "system"
PEER_ROLE = "peer-node"
CHUNK_SIZE = 2000


def _raw(column: Any) -> Any:
    """A column read as the database returns it, without SQLAlchemy's conversion (which fails
    on a value of the wrong type), so that verification can name such a value as tampering."""
    return type_coerce(column, NullType()).label(column.key)


_ENTRY_COLUMNS = tuple(
    _raw(column)
    for column in (
        AuditEntry.seq,
        AuditEntry.at,
        AuditEntry.actor,
        AuditEntry.actor_role,
        AuditEntry.actor_agency,
        AuditEntry.action,
        AuditEntry.object_ref,
        AuditEntry.purpose,
        AuditEntry.detail,
        AuditEntry.chain_hash,
    )
)
_CHECKPOINT_COLUMNS = tuple(
    _raw(column)
    for column in (
        AuditCheckpoint.size,
        AuditCheckpoint.head_hash,
        AuditCheckpoint.signed_at,
        AuditCheckpoint.verify_key,
        AuditCheckpoint.signature,
    )
)
_HEAD_COLUMNS = (_raw(AuditHead.size), _raw(AuditHead.head_hash))

# Built once: appends are frequent and building a statement costs more than running it.
_INSERT_ENTRY = insert(AuditEntry.__table__)
_MOVE_HEAD = (
    update(AuditHead.__table__)
    .where(AuditHead.id == HEAD_ID)
    .values(size=bindparam("new_size"), head_hash=bindparam("new_hash"))
)
_LOCK_HEAD = select(*_HEAD_COLUMNS).where(AuditHead.id == HEAD_ID).with_for_update()


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    object_ref: str = "",
    purpose: str = "",
    detail: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditRecord:
    """Append one entry to the audit log, in the caller's transaction, and return it.

    `at` is a timezone-aware datetime (default: now). `detail` must be JSON-serialisable (dates
    and enums are written as strings). A system actor (no role) is recorded with role "system".
    """
    fields = {
        "at": format_time(at if at is not None else utcnow()),
        "actor": actor.username,
        "actor_role": actor.role.value if actor.role is not None else _non_role(actor),
        "actor_agency": actor.agency_code or "",
        "action": action,
        "object_ref": object_ref,
        "purpose": purpose,
        "detail": canonical_detail(detail),
    }
    _check_lengths(fields)
    size, head = _lock_head(session)
    _note_base(session, size, head)
    entry = next_record(head, seq=size + 1, **fields)
    session.execute(_INSERT_ENTRY, asdict(entry))
    session.execute(_MOVE_HEAD, {"new_size": entry.seq, "new_hash": entry.chain_hash})
    session.info[_APPENDED] = True
    session.info[_SIZE] = entry.seq
    return entry


def _non_role(actor: Actor) -> str:
    """How an actor without a hub role is recorded: a peer borough's node, or this node itself."""
    return PEER_ROLE if actor.borough else SYSTEM_ROLE


def record_refusal(
    session: Session,
    actor: Actor,
    why: str,
    *,
    object_ref: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditRecord:
    """The `access.denied` entry of a refused step: who was refused what, and why."""
    return record(
        session, actor, REFUSED, object_ref=object_ref, detail={**(detail or {}), "refused": why}
    )


def appended(session: Session) -> bool:
    """Whether this session has appended to the log (so a checkpoint may have come due)."""
    return bool(session.info.get(_APPENDED))


def checkpoint(
    session: Session, keys: NodeKeys, anchor: CheckpointFile | None = None
) -> Checkpoint:
    """Sign and store a checkpoint of the log as it stands; if it has not grown, return the last.

    With `anchor` (the node's checkpoint file), the checkpoint is also appended there and
    fsynced before this returns, so before the caller commits; after the commit the caller
    calls `confirm_committed`. Refuses (AuditTampered) to sign a log that does not extend the
    last checkpoint, or a store that lacks a checkpoint the file says was committed.
    """
    size, head = _lock_head(session)
    latest = latest_checkpoint(session)
    if latest is not None:
        check_checkpoint_types(latest)
        _check_grown_from(session, latest, size, head)
    if anchor is not None:
        _settle(session, anchor, latest)
    if latest is not None and latest.size == size and latest.verify_key == bytes(keys.verify_key):
        return latest
    signed = sign_checkpoint(keys, size, head, format_time(utcnow()))
    session.execute(insert(AuditCheckpoint).values(asdict(signed)))
    if anchor is not None:
        anchor.append(signed, *_unit_base(session, size, head))
        session.info.setdefault(_FILED, []).append(signed)
    log.info("audit checkpoint signed at size %d", size)
    return signed


@dataclass
class CheckpointWatch:
    """What a process knows of the log between its transactions: a size the latest committed
    checkpoint has reached at least (checkpoints are only ever added, and the log only grows),
    so that an append that cannot have made one due need not look."""

    checkpointed: int = 0


def checkpoint_if_due(
    session: Session,
    keys: NodeKeys,
    every: int,
    anchor: CheckpointFile | None = None,
    watch: CheckpointWatch | None = None,
) -> Checkpoint | None:
    """Checkpoint when at least `every` entries were appended since the last checkpoint. With
    `watch`, an append fewer than `every` entries past what the watch knows is checkpointed
    returns at once (the latest checkpoint is at least that far, so none is due); the watch
    learns the latest committed checkpoint whenever this looks."""
    if every < 1:
        raise ValueError(f"checkpoint interval must be at least 1 entry; got {every}")
    appended_to = session.info.get(_SIZE)
    if watch is not None and appended_to is not None and appended_to - watch.checkpointed < every:
        return None
    size, _head = _lock_head(session)
    latest = latest_checkpoint(session)
    if watch is not None and latest is not None:
        watch.checkpointed = max(watch.checkpointed, latest.size)  # committed by whoever made it
    if size - (latest.size if latest is not None else 0) < every:
        return None
    return checkpoint(session, keys, anchor)


def confirm_committed(session: Session, anchor: CheckpointFile) -> None:
    """After the session's commit: mark the checkpoints it filed as committed in the file."""
    anchor.confirm(session.info.pop(_FILED, []))


def forget_filed(session: Session) -> None:
    """After a rollback: the checkpoints the session filed stay in the file, uncommitted."""
    session.info.pop(_FILED, None)


def require_checkpoint_file(session: Session, anchor: CheckpointFile) -> None:
    """Refuse a store with signed checkpoints whose checkpoint file is missing (a store from
    before the file, until `mash-node init` starts it)."""
    if anchor.exists():
        return
    count = session.scalar(select(func.count()).select_from(AuditCheckpoint))
    if count:
        raise CheckpointFileError(
            f"{anchor.path}: the audit checkpoint file is missing, but the store holds {count} "
            "signed checkpoint(s); run `mash-node init`, which starts the file from them once "
            "the log verifies"
        )


def start_checkpoint_file(
    session: Session, anchor: CheckpointFile, trusted_keys: Collection[bytes]
) -> int:
    """Create the checkpoint file if it is missing, holding the store's checkpoints (marked
    committed) once the log verifies against them; returns how many it wrote. Trust on first
    use: a store rewritten before this runs is caught only by the coordinator's copies."""
    if anchor.exists():
        return 0
    verify_store(session, trusted_keys, anchor=None)
    query = select(*_CHECKPOINT_COLUMNS).order_by(AuditCheckpoint.id)
    stored = [_to_checkpoint(row) for row in session.execute(query)]
    anchor.start([(cp, cp.size, cp.head_hash) for cp in stored])
    return len(stored)


def latest_checkpoint(session: Session) -> Checkpoint | None:
    """The checkpoint of the most entries (the newest of those, if several)."""
    row = session.execute(
        select(*_CHECKPOINT_COLUMNS)
        .order_by(AuditCheckpoint.size.desc(), AuditCheckpoint.id.desc())
        .limit(1)
    ).one_or_none()
    return _to_checkpoint(row) if row is not None else None


def verify_store(
    session: Session, trusted_keys: Collection[bytes], *, anchor: CheckpointFile | None
) -> VerifyReport:
    """Verify the stored log against its checkpoints, its head row and the node's checkpoint
    file (`anchor`; None checks the store alone, in `session`); raise AuditTampered at the
    first fault.

    With the file, the store is read in a read-only transaction of its own, begun after the file
    was read (a SQLite transaction sees the store as at its first read, and the session may have
    read already), and the file is read again afterwards (see `node.audit.anchored`). The
    checkpoints are read before the head, and the entries up to the head, so work committed
    while this runs is neither misread as tampering nor verified until the next run.
    """
    if anchor is None:
        return _verify_in(session, trusted_keys, None, FileContents())
    first = anchor.read()
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with Session(read_only(engine)) as reading, reading.begin():
        return _verify_in(reading, trusted_keys, anchor, first)


def _verify_in(
    session: Session,
    trusted_keys: Collection[bytes],
    anchor: CheckpointFile | None,
    first: FileContents,
) -> VerifyReport:
    _check_tables(session)
    with _text_as_stored(session):
        query = select(*_CHECKPOINT_COLUMNS).order_by(AuditCheckpoint.id)
        stored = [_to_checkpoint(row) for row in session.execute(query)]
        size, head = _read_head(session)
        second = anchor.read(first) if anchor is not None else first
        report = verify_log(
            entries(session, AuditEntry.seq <= size), vouchers(stored, first), trusted_keys
        )
    if report.size != size:
        raise AuditTampered(
            report.size + 1,
            f"the audit head says the log has {size} entries but it ends after {report.size}: "
            "entries were cut from the end",
        )
    if report.head_hash != head:
        raise AuditTampered(size, "the audit head's hash differs from the chain's end")
    _check_nothing_beyond_head(session)
    if anchor is not None:
        report = check_against_file(
            stored,
            first,
            second,
            report,
            trusted_keys,
            lambda seq: _chain_hash_at(session, seq),
            str(anchor.path),
        )
    check_not_bare(report)
    return report


def entries(
    session: Session, *where: ColumnElement[bool], chunk_size: int = CHUNK_SIZE
) -> Iterator[AuditRecord]:
    """The stored entries matching `where`, in seq order, read `chunk_size` rows at a time."""
    last: int | None = None
    while True:
        query = select(*_ENTRY_COLUMNS).where(*where).order_by(AuditEntry.seq).limit(chunk_size)
        if last is not None:
            query = query.where(AuditEntry.seq > last)
        rows = session.execute(query).all()
        for row in rows:
            yield _to_record(row)
        if len(rows) < chunk_size:
            return
        last = rows[-1].seq


def _check_tables(session: Session) -> None:
    """The audit tables must be there with their columns (a dropped one is tampering too)."""
    inspector = inspect(session.connection())
    for model in (AuditEntry, AuditHead, AuditCheckpoint):
        table = model.__table__
        if not inspector.has_table(table.name):
            raise AuditTampered(None, f"the store has no {table.name} table: it was dropped")
        present = {column["name"] for column in inspector.get_columns(table.name)}
        missing = sorted(set(table.columns.keys()) - present)
        if missing:
            raise AuditTampered(
                None, f"the store's {table.name} table has lost its column(s) {', '.join(missing)}"
            )


def _note_base(session: Session, size: int, head: bytes) -> None:
    """Remember the log as it was before this transaction's first append."""
    transaction = session.get_transaction()
    noted = session.info.get(_BASE)
    if noted is None or noted[0] is not transaction:
        session.info[_BASE] = (transaction, size, head)


def _unit_base(session: Session, size: int, head: bytes) -> tuple[int, bytes]:
    """The log as committed when this transaction began: before its first append, or as it
    stands (`size`, `head`) if it appended nothing."""
    noted = session.info.get(_BASE)
    if noted is not None and noted[0] is session.get_transaction():
        return noted[1], noted[2]
    return size, head


def _settle(session: Session, anchor: CheckpointFile, latest: Checkpoint | None) -> None:
    """Before filing a checkpoint: the newest one the file says committed must be in the store,
    and the store's latest, if the file holds it unmarked (its process died before marking it),
    is marked now."""
    tail = anchor.tail()
    marked = [r.checkpoint for r in tail.records if tail.is_committed(r.checkpoint)]
    if marked and marked[-1] != latest and not _is_stored(session, marked[-1]):
        lost = marked[-1]
        raise AuditTampered(
            None,
            f"the store has lost the checkpoint of {lost.size} entries signed at "
            f"{lost.signed_at}, which {anchor.path} records as committed; "
            "run `mash-node audit verify`",
        )
    unmarked = latest is not None and not tail.is_committed(latest)
    if unmarked and any(record.checkpoint == latest for record in tail.records):
        anchor.confirm([latest])  # type: ignore[list-item]  # not None: unmarked


def _is_stored(session: Session, point: Checkpoint) -> bool:
    found = session.scalar(
        select(func.count())
        .select_from(AuditCheckpoint)
        .where(AuditCheckpoint.signature == point.signature)
    )
    return bool(found)


@contextmanager
def _text_as_stored(session: Session) -> Iterator[None]:
    """On SQLite, read text that is not UTF-8 as InvalidText rather than fail the read (SQLite
    lets any bytes be stored as text); PostgreSQL refuses such text when it is written."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.dbapi_connection
    before = driver.text_factory
    driver.text_factory = _decode_text
    try:
        yield
    finally:
        driver.text_factory = before


def _decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return InvalidText(data)  # type: ignore[return-value]  # verify names it as tampering


def _check_lengths(fields: dict[str, str]) -> None:
    for name, value in fields.items():
        column_type = AuditEntry.__table__.c[name].type
        limit = column_type.length if isinstance(column_type, String) else None
        if limit is not None and len(value) > limit:
            raise ValueError(f"audit {name} is {len(value)} characters; at most {limit} are kept")


def _lock_head(session: Session) -> tuple[int, bytes]:
    """The log's size and head hash, with the head row locked until the transaction ends."""
    row = _only_head(session.execute(_LOCK_HEAD).all())
    if row is None:
        _create_head(session)
        row = _only_head(session.execute(_LOCK_HEAD).all())
    return _head_values(row)


def _create_head(session: Session) -> None:
    """Create the head row of an empty log (a concurrent first append makes this a no-op)."""
    table = AuditHead.__table__
    values = {"id": HEAD_ID, "size": 0, "head_hash": ZERO_HASH}
    statement = upsert_insert(dialect_of(session), table).values(values).on_conflict_do_nothing()
    created = session.execute(statement.returning(table.c.id)).first() is not None
    present = session.scalar(select(func.count()).select_from(AuditEntry))
    if created and present:
        raise AuditTampered(
            None, f"the audit head row is missing but the log holds {present} entries"
        )


def _read_head(session: Session) -> tuple[int, bytes]:
    row = _only_head(session.execute(select(*_HEAD_COLUMNS).where(AuditHead.id == HEAD_ID)).all())
    return (0, ZERO_HASH) if row is None else _head_values(row)


def _only_head(rows: list[Any]) -> Any:
    """The one head row, or None; a repeated head row (its key removed by hand) is tampering."""
    if len(rows) > 1:
        raise AuditTampered(None, f"the audit head row is there {len(rows)} times")
    return rows[0] if rows else None


def _head_values(row: Any) -> tuple[int, bytes]:
    """The head row's size and hash, refused as tampering if either has the wrong type."""
    size, head = row.size, _as_bytes(row.head_hash)
    if type(size) is not int or size < 0:
        raise AuditTampered(
            None, f"the audit head row is damaged: its size is stored as {describe(size)}"
        )
    if type(head) is not bytes or len(head) != len(ZERO_HASH):
        raise AuditTampered(
            None, f"the audit head row is damaged: its hash is stored as {describe(head)}"
        )
    return size, head


def _check_grown_from(session: Session, latest: Checkpoint, size: int, head: bytes) -> None:
    """Refuse to sign a log that is not the last checkpointed one plus new entries."""
    if size < latest.size:
        raise AuditTampered(
            size + 1,
            f"the log has {size} entries but was checkpointed at {latest.size}: "
            "entries were cut from the end; run `mash-node audit verify`",
        )
    stored = head if size == latest.size else _chain_hash_at(session, latest.size)
    if stored != latest.head_hash:
        raise AuditTampered(
            latest.size or None,
            "the log no longer matches its last checkpoint; run `mash-node audit verify`",
        )


def _chain_hash_at(session: Session, seq: int) -> bytes:
    if seq == 0:
        return ZERO_HASH
    value = _as_bytes(
        session.scalar(select(_raw(AuditEntry.chain_hash)).where(AuditEntry.seq == seq))
    )
    return value if type(value) is bytes else b""


def _check_nothing_beyond_head(session: Session) -> None:
    """No entry may lie beyond the head (appends move the head in the same transaction)."""
    highest = session.scalar(select(func.max(AuditEntry.seq)))
    size, _head = _read_head(session)
    if highest is not None and (not isinstance(highest, int) or highest > size):
        raise AuditTampered(
            size + 1, f"an entry with seq {highest!r} lies beyond the audit head at {size}"
        )


def _as_bytes(value: Any) -> Any:
    """A BLOB as bytes (drivers may give a memoryview); any other value as it is."""
    return bytes(value) if isinstance(value, memoryview | bytearray) else value


def _to_record(row: Any) -> AuditRecord:
    """The entry as stored, each value of whatever type the store holds (verify checks them)."""
    return AuditRecord(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        actor_role=row.actor_role,
        actor_agency=row.actor_agency,
        action=row.action,
        object_ref=row.object_ref,
        purpose=row.purpose,
        detail=row.detail,
        chain_hash=_as_bytes(row.chain_hash),
    )


def _to_checkpoint(row: Any) -> Checkpoint:
    """The checkpoint as stored, each value of whatever type the store holds (verify checks)."""
    return Checkpoint(
        size=row.size,
        head_hash=_as_bytes(row.head_hash),
        signed_at=row.signed_at,
        verify_key=_as_bytes(row.verify_key),
        signature=_as_bytes(row.signature),
    )
