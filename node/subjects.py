"""Subjects: agency records of one person linked together, and the professional's decisions on links.

Records that share a match key of certain strength are linked into one subject as they arrive.
Weaker shared keys, and certain keys that would join two existing subjects, become candidates
for a professional to confirm or reject: two subjects are never merged automatically. Every
merge records exactly which records moved, so that it can be undone.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor, require_link_decision
from node.errors import DomainError, ErrorCode
from node.matching.key_classes import KEY_CLASSES, Strength
from node.matching.keys import CLASS_NAMES, KEY_WIDTH, STRENGTHS
from node.store.bulk import allocate_ids, chunks, execute_many, insert_many, write_rows
from node.store.models import (
    CandidateStatus,
    MatchCandidate,
    PersonRecord,
    Subject,
    SubjectMerge,
    utcnow,
)

_RANK = {Strength.CERTAIN: 0, Strength.STRONG: 1, Strength.PROBABLE: 2}
# Of equally strong classes joining two subjects, the candidate names the first of these.
_ORDER = {name: i for i, name in enumerate(["certain-conflict", *(c.name for c in KEY_CLASSES)])}


class SubjectError(DomainError):
    """A link decision cannot be made as asked; the message says why."""


@dataclass
class LinkStats:
    subjects_created: int = 0
    records_linked: int = 0
    candidates_raised: int = 0


@dataclass
class _Union:
    parent: dict[int, int] = field(default_factory=dict)

    def find(self, item: int) -> int:
        root = item
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while item != root:
            self.parent[item], item = root, self.parent.get(item, item)
        return root

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


# The import's match keys are staged until its end, one row a record: (record id, its keys' values
# end to end, one letter a key for its class); at the end one statement spreads them into a row
# a key, in key order. A row a key from Python would cost several times more. Temporary tables:
# never in the store's files or its WAL.
_PACKED = "import_packed_keys"
_STAGE = "import_keys"
_NUMBERS = "import_key_numbers"
_TEMP_TABLES = (_PACKED, _STAGE, _NUMBERS)


class ImportLinker:
    """Links one import's records into subjects, set-wise, when all its rows are written.

    While the rows stream in, each new record is written with a new subject of its own and its
    keys are staged. At the end a few set-wise queries find the keys that the import shares
    within itself or with the store; only those records are looked at in Python. Records sharing
    a certain key form one group, which joins the subject it reaches in the store (the lowest
    when it reaches several: the others become candidates, never merged automatically) or else
    the subject of its first record. Any other shared key between different subjects is a
    candidate. Every other new record keeps the subject it was written with. Records already in
    the store (re-imported ones included) keep their subject. The result is the same whatever
    the batch size: the whole import is linked as one batch.
    """

    def __init__(self, conn: Connection, stats: LinkStats, created_at: Any) -> None:
        """created_at: the new subjects' creation time, as the driver takes it."""
        self.conn = conn
        self.stats = stats
        self.now = created_at
        self.sqlite = conn.dialect.name == "sqlite"
        self.records: list[int] = []  # the records new in this import, as runs: start, end, ...
        self.most_keys = 0
        for name in _TEMP_TABLES:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {'temp.' if self.sqlite else ''}{name}")
        blob = "BLOB" if self.sqlite else "BYTEA"
        conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {_PACKED} (record_id INTEGER NOT NULL, "
            f"key_values {blob} NOT NULL, key_classes VARCHAR(200) NOT NULL)"
        )

    def new_subjects(self, records: Sequence[int]) -> Sequence[int]:
        """Write a subject for each record this import is about to write, and return their ids:
        the record's own subject, unless finish finds it is one person with other records (the
        record then moves to their subject and its own is deleted, never having been seen)."""
        subjects = allocate_ids(self.conn, Subject.__table__, len(records))
        rows = [(subject_id, self.now) for subject_id in subjects]
        write_rows(self.conn, Subject.__tablename__, ("id", "created_at"), rows)
        self._add_runs(self.records, records)
        return subjects

    def stage(self, rows: list[tuple[int, bytes, str]]) -> None:
        """Stage the keys of written records: (record id, *derive_packed_keys(its identity))."""
        write_rows(self.conn, _PACKED, ("record_id", "key_values", "key_classes"), rows)
        self.most_keys = max(self.most_keys, max((len(r[2]) for r in rows), default=0))

    def _spread(self) -> None:
        """One row a key (value, record, class letter), in key order: on SQLite a table clustered
        on the key, filled by one sort; on PostgreSQL a table and an index sorted once."""
        conn = self.conn
        conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {_NUMBERS} (n INTEGER PRIMARY KEY, at INTEGER NOT NULL)"
        )
        write_rows(
            conn, _NUMBERS, ("n", "at"), [(n, n * KEY_WIDTH + 1) for n in range(self.most_keys)]
        )
        spread = (
            f"SELECT substr(p.key_values, n.at, {KEY_WIDTH}) AS key_value, p.record_id, "  # noqa: S608
            f"substr(p.key_classes, n.n + 1, 1) AS key_class FROM {_PACKED} p "
            f"JOIN {_NUMBERS} n ON n.n < length(p.key_classes)"
        )
        if self.sqlite:
            conn.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {_STAGE} (key_value BLOB NOT NULL, "
                "record_id INTEGER NOT NULL, key_class VARCHAR(1) NOT NULL, "
                "PRIMARY KEY (key_value, record_id)) WITHOUT ROWID"
            )
            with _sorting(conn):
                conn.exec_driver_sql(f"INSERT INTO {_STAGE} {spread} ORDER BY 1, 2")
        else:
            conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {_STAGE} AS {spread}")
            conn.exec_driver_sql(f"CREATE INDEX {_STAGE}_sorted ON {_STAGE} (key_value, record_id)")
            conn.exec_driver_sql(f"ANALYZE {_STAGE}")
        conn.exec_driver_sql(f"DROP TABLE {_PACKED}")

    def finish(self) -> None:
        """Link the staged records, raise candidates, and move the keys into match_keys."""
        conn = self.conn
        self._spread()
        store_empty = conn.exec_driver_sql("SELECT 1 FROM match_keys LIMIT 1").first() is None
        shared = conn.exec_driver_sql(
            f"SELECT i.key_value, p.id, p.subject_id, i.key_class FROM {_STAGE} i "  # noqa: S608
            "JOIN person_records p ON p.id = i.record_id "
            f"WHERE i.key_value IN (SELECT key_value FROM {_STAGE} "
            "GROUP BY key_value HAVING count(*) > 1)"
        ).all()
        stored = []
        if not store_empty:
            stored = conn.exec_driver_sql(
                "SELECT i.key_value, p.id, p.subject_id, i.key_class, q.subject_id "  # noqa: S608
                f"FROM {_STAGE} i JOIN match_keys m ON m.key_value = i.key_value "
                "JOIN person_records q ON q.id = m.record_id "
                "JOIN person_records p ON p.id = i.record_id "
                "WHERE q.subject_id IS NOT NULL"
            ).all()
        self._link(shared, stored)
        self._move_keys()
        for name in (_STAGE, _NUMBERS):
            conn.exec_driver_sql(f"DROP TABLE {name}")

    @staticmethod
    def _in_runs(runs: list[int], value: int) -> bool:
        return bisect.bisect_right(runs, value) % 2 == 1

    @staticmethod
    def _add_runs(runs: list[int], values: Sequence[int]) -> None:
        for value in values:
            if runs and runs[-1] == value:
                runs[-1] = value + 1
            else:
                runs += [value, value + 1]

    def _link(self, shared: Sequence[Any], stored: Sequence[Any]) -> None:
        # A node is a subject (id > 0) or a record new in this import (minus its id), whose
        # subject is its own until it is grouped here.
        holders: dict[bytes, set[int]] = defaultdict(set)  # key -> every node holding it
        ours: dict[bytes, set[int]] = defaultdict(set)  # key -> nodes of this import's records
        classes: dict[bytes, str] = {}
        for value, record, subject, letter, *other in (*shared, *stored):
            node = -record if self._in_runs(self.records, record) else subject
            holders[value].add(node)
            holders[value].update(other)
            ours[value].add(node)
            classes[value] = CLASS_NAMES[letter]
        new = {node for nodes in ours.values() for node in nodes if node < 0}
        union = _Union()
        reached: dict[int, set[int]] = defaultdict(set)  # new record -> older subjects reached
        for value, nodes in holders.items():
            if STRENGTHS[classes[value]] is not Strength.CERTAIN:
                continue
            fresh = sorted(nodes & new)
            for node in fresh[1:]:
                union.join(fresh[0], node)
            if fresh:
                reached[fresh[0]].update(nodes - new)
        groups: dict[int, list[int]] = defaultdict(list)
        for node in new:
            groups[union.find(node)].append(node)
        found = {
            root: sorted({old for member in members for old in reached.get(member, ())})
            for root, members in groups.items()
        }
        # Every new record gets its subject here, in record order: its group's older subject,
        # or one new subject a group (the first record of the group draws it), or its own.
        final = self._assign_subjects({m: root for root, ms in groups.items() for m in ms}, found)
        candidates: dict[tuple[int, int], tuple[int, str, str]] = {}
        for root in groups:
            for other in found[root][1:]:
                _propose(candidates, found[root][0], other, "certain-conflict", Strength.CERTAIN)
        for value, nodes in holders.items():
            everyone = {final.get(n, n) for n in nodes}
            if len(everyone) < 2:
                continue
            key_class = classes[value]
            for mine in {final.get(n, n) for n in ours[value]}:
                for other in everyone - {mine}:
                    _propose(candidates, mine, other, key_class, STRENGTHS[key_class])
        self.stats.candidates_raised += _insert_candidates(self.conn, candidates)

    def _assign_subjects(
        self, group_of: dict[int, int], found: dict[int, list[int]]
    ) -> dict[int, int]:
        """Move each grouped new record into its group's subject: the older subject the group
        reached, else the subject of the group's first record (in record order). The subjects
        left empty are deleted. Returns the final subject of every grouped record (by node)."""
        conn = self.conn
        records = sorted(-node for node in group_of)
        own: dict[int, int] = {}
        for chunk in chunks(records, 900):
            rows = conn.execute(
                select(PersonRecord.id, PersonRecord.subject_id).where(PersonRecord.id.in_(chunk))
            )
            own.update((record_id, subject_id) for record_id, subject_id in rows)
        drawn: dict[int, int] = {}
        final: dict[int, int] = {}
        moves: list[tuple[int, int]] = []
        for record_id in records:
            root = group_of[-record_id]
            subject = found[root][0] if found[root] else drawn.setdefault(root, own[record_id])
            final[-record_id] = subject
            if subject != own[record_id]:
                moves.append((subject, record_id))
        execute_many(conn, "UPDATE person_records SET subject_id = ? WHERE id = ?", moves)
        emptied = [(own[record_id],) for _, record_id in moves]
        execute_many(conn, "DELETE FROM subjects WHERE id = ?", emptied)
        new_records = sum(self.records[1::2]) - sum(self.records[::2])  # run ends less starts
        self.stats.subjects_created += new_records - len(moves)
        self.stats.records_linked += len(moves)
        return final

    def _move_keys(self) -> None:
        # Sorted by key, the keys go into match_keys' B-tree in one ordered pass.
        self.conn.exec_driver_sql(
            "INSERT INTO match_keys (key_value, record_id) "  # noqa: S608
            f"SELECT key_value, record_id FROM {_STAGE} ORDER BY key_value, record_id"
        )


# SQLite sorts in runs as large as the page cache, merged at the end. Runs of 2 MB sorted by two
# helper threads (the worker that prepared the rows has finished by then) sorted a million
# records' keys in 4.4 s where one thread with the import's 96 MB cache took 10.7 s, in a fifth
# of the memory (measured 2026-11-25; the runs fit the processor's caches).
_SORT_CACHE_KB = 2048
_SORT_THREADS = 2


@contextmanager
def _sorting(conn: Connection) -> Iterator[None]:
    """SQLite settings for one large sort, set back afterwards."""
    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    threads = conn.exec_driver_sql("PRAGMA threads").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{_SORT_CACHE_KB}")
    conn.exec_driver_sql(f"PRAGMA threads = {_SORT_THREADS}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA threads = {int(threads)}")
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")


def _propose(
    candidates: dict[tuple[int, int], tuple[int, str, str]],
    a: int,
    b: int,
    key_class: str,
    strength: Strength,
) -> None:
    """Keep, for a pair of subjects, the strongest class that joins them; of equally strong ones
    the first in the key set's order (the more exact), so that the reviewer reads the same words
    whatever order the keys came in."""
    pair = (min(a, b), max(a, b))
    rank = _RANK[strength] * len(_ORDER) + _ORDER[key_class]
    if pair not in candidates or rank < candidates[pair][0]:
        candidates[pair] = (rank, key_class, strength.value)


def _insert_candidates(
    conn: Connection, candidates: dict[tuple[int, int], tuple[int, str, str]]
) -> int:
    if not candidates:
        return 0
    known: set[tuple[int, int]] = set()
    pairs = sorted(candidates)
    for chunk in chunks(sorted({a for a, _ in pairs}), 900):
        known.update(
            (a, b)
            for a, b in conn.execute(
                select(MatchCandidate.subject_a_id, MatchCandidate.subject_b_id).where(
                    MatchCandidate.subject_a_id.in_(chunk)
                )
            )
        )
    fresh = [pair for pair in pairs if pair not in known]
    now = utcnow()
    insert_many(
        conn,
        MatchCandidate.__table__,
        ("subject_a_id", "subject_b_id", "key_class", "strength", "status", "reason", "created_at"),
        (
            (a, b, candidates[(a, b)][1], candidates[(a, b)][2], CandidateStatus.OPEN, "", now)
            for a, b in fresh
        ),
    )
    return len(fresh)


# --- the professional's decisions -------------------------------------------------------------


def live_subject(session: Session, subject_id: int) -> Subject:
    """The subject as it stands now, following merges to the survivor."""
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise SubjectError(f"subject {subject_id}: no such subject", code=ErrorCode.NOT_FOUND)
    seen = {subject.id}
    while subject.merged_into_id is not None:
        subject = session.get(Subject, subject.merged_into_id)
        assert subject is not None
        if subject.id in seen:
            raise SubjectError(f"subject {subject_id}: merge history loops")
        seen.add(subject.id)
    return subject


def holdings(session: Session, subject_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """How many records each agency holds on each subject (counts only, never content)."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for chunk in chunks(sorted(set(subject_ids)), 900):
        rows = session.execute(
            select(PersonRecord.subject_id, PersonRecord.agency_code, func.count())
            .where(PersonRecord.subject_id.in_(chunk))
            .group_by(PersonRecord.subject_id, PersonRecord.agency_code)
        )
        for subject_id, agency_code, count in rows:
            counts[subject_id][agency_code] = count
    return counts


def recent_merges(session: Session, actor: Actor, limit: int = 20) -> list[SubjectMerge]:
    """The latest merges not undone, newest first: the ones a professional may want to undo."""
    require_link_decision(actor)
    return list(
        session.scalars(
            select(SubjectMerge)
            .where(SubjectMerge.undone_at.is_(None))
            .order_by(SubjectMerge.merged_at.desc(), SubjectMerge.id.desc())
            .limit(limit)
        )
    )


def list_candidates(
    session: Session, actor: Actor, status: CandidateStatus = CandidateStatus.OPEN
) -> list[MatchCandidate]:
    require_link_decision(actor)
    return list(
        session.scalars(
            select(MatchCandidate)
            .where(MatchCandidate.status == status)
            .order_by(MatchCandidate.id)
        )
    )


def merge_subjects(
    session: Session, actor: Actor, survivor_id: int, merged_id: int, reason: str
) -> SubjectMerge:
    """Move every record of one subject into another, recording which moved. Audited."""
    require_link_decision(actor)
    _require_reason(reason)
    survivor = live_subject(session, survivor_id)
    merged = live_subject(session, merged_id)
    if survivor.id == merged.id:
        raise SubjectError(
            f"subjects {survivor_id} and {merged_id} are already one subject",
            code=ErrorCode.CONFLICT,
        )
    record_ids = list(
        session.scalars(select(PersonRecord.id).where(PersonRecord.subject_id == merged.id))
    )
    session.execute(
        update(PersonRecord).where(PersonRecord.id.in_(record_ids)).values(subject_id=survivor.id)
    )
    merged.merged_into_id = survivor.id
    merge = SubjectMerge(
        survivor_id=survivor.id,
        merged_id=merged.id,
        record_ids=record_ids,
        reason=reason.strip(),
        merged_by=actor.username,
    )
    session.add(merge)
    session.flush()
    audit.record(
        session,
        actor,
        "subject.merge",
        object_ref=f"subject:{survivor.id}",
        purpose=reason.strip(),
        detail={"merge": merge.id, "merged_subject": merged.id, "records": record_ids},
    )
    return merge


def unmerge(session: Session, actor: Actor, merge_id: int, reason: str) -> SubjectMerge:
    """Undo a merge exactly: the records it moved go back to the subject they came from."""
    require_link_decision(actor)
    _require_reason(reason)
    merge = session.get(SubjectMerge, merge_id)
    if merge is None:
        raise SubjectError(f"merge {merge_id}: no such merge", code=ErrorCode.NOT_FOUND)
    if merge.undone_at is not None:
        raise SubjectError(
            f"merge {merge_id}: already undone on {merge.undone_at:%d %b %Y %H:%M}",
            code=ErrorCode.CONFLICT,
        )
    merged = session.get(Subject, merge.merged_id)
    assert merged is not None
    session.execute(
        update(PersonRecord)
        .where(PersonRecord.id.in_(merge.record_ids))
        .values(subject_id=merged.id)
    )
    merged.merged_into_id = None
    merge.undone_by = actor.username
    merge.undone_at = utcnow()
    merge.undo_reason = reason.strip()
    for candidate in session.scalars(
        select(MatchCandidate).where(
            MatchCandidate.status == CandidateStatus.CONFIRMED,
            MatchCandidate.subject_a_id.in_([merge.survivor_id, merge.merged_id]),
            MatchCandidate.subject_b_id.in_([merge.survivor_id, merge.merged_id]),
        )
    ):
        candidate.status = CandidateStatus.REJECTED
        candidate.reason = f"merge undone: {reason.strip()}"
    session.flush()
    audit.record(
        session,
        actor,
        "subject.unmerge",
        object_ref=f"subject:{merged.id}",
        purpose=reason.strip(),
        detail={"merge": merge.id, "survivor": merge.survivor_id, "records": merge.record_ids},
    )
    return merge


def confirm_candidate(
    session: Session, actor: Actor, candidate_id: int, reason: str
) -> SubjectMerge:
    """The professional confirms two subjects are one person: they are merged."""
    candidate = _open_candidate(session, actor, candidate_id)
    merge = merge_subjects(session, actor, candidate.subject_a_id, candidate.subject_b_id, reason)
    _decide(session, actor, candidate, CandidateStatus.CONFIRMED, reason)
    return merge


def reject_candidate(session: Session, actor: Actor, candidate_id: int, reason: str) -> None:
    """The professional says two subjects are different people: never proposed again."""
    candidate = _open_candidate(session, actor, candidate_id)
    _require_reason(reason)
    _decide(session, actor, candidate, CandidateStatus.REJECTED, reason)


def _open_candidate(session: Session, actor: Actor, candidate_id: int) -> MatchCandidate:
    require_link_decision(actor)
    candidate = session.get(MatchCandidate, candidate_id)
    if candidate is None:
        raise SubjectError(f"candidate {candidate_id}: no such candidate", code=ErrorCode.NOT_FOUND)
    if candidate.status is not CandidateStatus.OPEN:
        raise SubjectError(
            f"candidate {candidate_id}: already {candidate.status.value}", code=ErrorCode.CONFLICT
        )
    return candidate


def _decide(
    session: Session,
    actor: Actor,
    candidate: MatchCandidate,
    status: CandidateStatus,
    reason: str,
) -> None:
    candidate.status = status
    candidate.decided_by = actor.username
    candidate.decided_at = utcnow()
    candidate.reason = reason.strip()
    session.flush()
    audit.record(
        session,
        actor,
        f"candidate.{status.value}",
        object_ref=f"candidate:{candidate.id}",
        purpose=reason.strip(),
        detail={"subjects": [candidate.subject_a_id, candidate.subject_b_id]},
    )


def _require_reason(reason: str) -> None:
    if not reason.strip():
        raise SubjectError("say why (it is kept with the decision)", field="reason")
