"""The store's match keys follow this release's key set: which set they come from, and
re-deriving them (with everything else normalised from a record's identity) when it changes.

Keys of different key sets never meet (their material starts with the version), so a store whose
keys come from an older set would stop linking and finding people. A release with a new key set
therefore refuses such a store until `mash-node init` has re-derived its keys. Re-deriving keeps
every subject and every decision on links: a key that the new set makes shared between two
subjects only raises a candidate for a professional, as an import would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor
from node.errors import DomainError, ErrorCode
from node.importing.prepare import NAME_COLUMNS, name_rows
from node.matching.keys import KEY_SET_VERSION, Identity, derive_packed_keys
from node.store.bulk import execute_many, write_rows
from node.store.models import MatchKey, PersonName, PersonRecord, StoreSetting, utcnow
from node.subjects import ImportLinker, LinkStats

SETTING = "match_key_set"
BATCH = 5_000

Progress = Callable[[int], None]


class KeysOutOfDate(DomainError):
    """The store's match keys come from another key set than this release's."""

    code = ErrorCode.UNAVAILABLE


@dataclass(frozen=True)
class Rederived:
    """What re-deriving did: from which key set, for how many records, and the candidates it raised."""

    from_version: int | None
    records: int
    keys: int
    candidates_raised: int


def stored_version(session: Session) -> int | None:
    """The key set the store's match keys come from, or None if it has none yet."""
    value = session.scalar(select(StoreSetting.value).where(StoreSetting.name == SETTING))
    return int(value) if value is not None else None


def require_current_keys(session: Session) -> None:
    """Refuse a store whose match keys come from another key set, saying what to do."""
    version = stored_version(session)
    if version == KEY_SET_VERSION or (version is None and not _has_keys(session)):
        return
    which = f"key set {version}" if version is not None else "an unrecorded key set"
    raise KeysOutOfDate(
        f"the store's match keys come from {which}, this release uses key set "
        f"{KEY_SET_VERSION}: run `mash-node init`, which re-derives them and keeps everything else"
    )


def _has_keys(session: Session) -> bool:
    return session.scalar(select(MatchKey.record_id).limit(1)) is not None


def note_current(session: Session) -> None:
    """Record that the store's keys come from this release's key set (an import calls this)."""
    setting = session.get(StoreSetting, SETTING)
    if setting is None:
        session.add(StoreSetting(name=SETTING, value=str(KEY_SET_VERSION)))
    else:
        setting.value = str(KEY_SET_VERSION)
    session.flush()


def rederive_if_needed(session: Session, progress: Progress | None = None) -> Rederived | None:
    """Re-derive every record's keys if they come from another key set; None if they don't."""
    version = stored_version(session)
    if version == KEY_SET_VERSION:
        return None
    has_records = session.scalar(select(PersonRecord.id).limit(1)) is not None
    if version is None and not has_records:
        return None  # nothing derived yet: the first import records the key set
    return rederive(session, Actor.system("init"), progress)


def rederive(session: Session, actor: Actor, progress: Progress | None = None) -> Rederived:
    """Derive again, from each record's identity as the agency sent it, its match keys, its
    name forms and its normalised postcode and NHS number; link as an import would (subjects
    kept, candidates raised); record the key set; audit it. In the caller's transaction."""
    from_version = stored_version(session)
    conn = session.connection()
    conn.execute(delete(MatchKey))
    conn.execute(delete(PersonName))
    stats = LinkStats()
    linker = ImportLinker(conn, stats, utcnow())
    records = keys = 0
    last_id = 0
    while True:
        batch = session.execute(
            select(
                PersonRecord.id,
                PersonRecord.forenames,
                PersonRecord.surname,
                PersonRecord.date_of_birth,
                PersonRecord.postcode,
                PersonRecord.nhs_number,
                PersonRecord.aliases,
            )
            .where(PersonRecord.id > last_id)
            .order_by(PersonRecord.id)
            .limit(BATCH)
        ).all()
        if not batch:
            break
        staged, names, normalised = [], [], []
        for record_id, forenames, surname, born, postcode, nhs_number, aliases in batch:
            identity = Identity.from_fields(
                forenames, surname, born, postcode, nhs_number, aliases or ()
            )
            packed = derive_packed_keys(identity)
            staged.append((record_id, *packed))
            keys += len(packed[1])
            names.extend((record_id, *name) for name in name_rows(identity))
            normalised.append((packed[0], identity.postcode, identity.nhs_number, record_id))
        execute_many(
            conn,
            "UPDATE person_records SET match_key_values = ?, postcode_norm = ?, "
            "nhs_number_norm = ? WHERE id = ?",
            normalised,
        )
        write_rows(
            conn,
            PersonName.__tablename__,
            ("record_id", *NAME_COLUMNS),
            names,
        )
        linker.stage(staged)
        records += len(batch)
        last_id = batch[-1][0]
        if progress:
            progress(len(batch))
    linker.finish()
    note_current(session)
    audit.record(
        session,
        actor,
        "match-keys.rederive",
        object_ref=f"key-set:{KEY_SET_VERSION}",
        detail={
            "from_key_set": from_version,
            "to_key_set": KEY_SET_VERSION,
            "records": records,
            "keys": keys,
            "candidates_raised": stats.candidates_raised,
        },
    )
    return Rederived(from_version, records, keys, stats.candidates_raised)


def count_records(session: Session) -> int:
    """How many person records re-deriving would go through (for a progress bar)."""
    return session.scalar(select(func.count()).select_from(PersonRecord)) or 0
