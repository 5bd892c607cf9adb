"""Subjects: agency records of one person linked together, and the professional's decisions on links.

Records that share a match key of certain strength are linked into one subject as they arrive.
Weaker shared keys, and certain keys that would join two existing subjects, become candidates
for a professional to confirm or reject: two subjects are never merged automatically. Every
merge records exactly which records moved, so that it can be undone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor, require_link_decision
from node.matching.keys import Identity, MatchKey, Strength
from node.store.bulk import allocate_ids, chunks, insert_many
from node.store.models import (
    CandidateStatus,
    MatchCandidate,
    PersonRecord,
    Subject,
    SubjectMerge,
    utcnow,
)
from node.store.models import MatchKey as MatchKeyRow

_RANK = {Strength.CERTAIN: 0, Strength.STRONG: 1, Strength.PROBABLE: 2}


class SubjectError(Exception):
    """A link decision cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class PendingRecord:
    """A record being written: its id, its subject if it already has one, and its keys."""

    record_id: int
    subject_id: int | None
    keys: Sequence[MatchKey]
    identity: Identity


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


def link_batch(
    session: Session, pending: Sequence[PendingRecord], stats: LinkStats
) -> dict[int, int]:
    """Give every pending record a subject and raise candidates; returns record id -> subject id.

    Records already in the store keep their subject. The keys of the pending records are looked
    up against the store (records written earlier in the same transaction included).
    """
    conn = session.connection()
    updating = {p.record_id for p in pending if p.subject_id is not None}
    stored = _stored_subjects(conn, [k.value for p in pending for k in p.keys], updating)

    # Certain keys: union the new records among themselves, then find the subjects they reach.
    union = _Union()
    first_with_key: dict[bytes, int] = {}
    for record in pending:
        if record.subject_id is not None:
            continue
        for key in record.keys:
            if key.strength is Strength.CERTAIN:
                other = first_with_key.setdefault(key.value, record.record_id)
                union.join(other, record.record_id)
    groups: dict[int, list[PendingRecord]] = defaultdict(list)
    for record in pending:
        if record.subject_id is None:
            groups[union.find(record.record_id)].append(record)

    assigned = {p.record_id: p.subject_id for p in pending if p.subject_id is not None}
    candidates: dict[tuple[int, int], tuple[int, str, str]] = {}
    new_groups = []
    for members in groups.values():
        reached = sorted(
            {
                subject
                for record in members
                for key in record.keys
                if key.strength is Strength.CERTAIN
                for subject in stored.get(key.value, ())
            }
        )
        if not reached:
            new_groups.append(members)
            continue
        for record in members:
            assigned[record.record_id] = reached[0]
        stats.records_linked += len(members)
        for other in reached[1:]:
            _propose(candidates, reached[0], other, "certain-conflict", Strength.CERTAIN)
    subject_ids = allocate_ids(conn, Subject.__table__, len(new_groups))
    now = utcnow()
    insert_many(conn, Subject.__table__, ("id", "created_at"), ((sid, now) for sid in subject_ids))
    for subject_id, members in zip(subject_ids, new_groups, strict=True):
        for record in members:
            assigned[record.record_id] = subject_id
        stats.records_linked += len(members) - 1 if len(members) > 1 else 0
    stats.subjects_created += len(new_groups)

    # Any other shared key between different subjects is a candidate.
    in_batch: dict[bytes, set[int]] = defaultdict(set)
    for record in pending:
        for key in record.keys:
            in_batch[key.value].add(assigned[record.record_id])
    for record in pending:
        mine = assigned[record.record_id]
        for key in record.keys:
            for other in stored.get(key.value, set()) | in_batch[key.value]:
                if other != mine:
                    _propose(candidates, mine, other, key.key_class, key.strength)
    stats.candidates_raised += _insert_candidates(conn, candidates)
    return {record_id: subject for record_id, subject in assigned.items() if subject is not None}


def _propose(
    candidates: dict[tuple[int, int], tuple[int, str, str]],
    a: int,
    b: int,
    key_class: str,
    strength: Strength,
) -> None:
    pair = (min(a, b), max(a, b))
    rank = _RANK[strength]
    if pair not in candidates or rank < candidates[pair][0]:
        candidates[pair] = (rank, key_class, strength.value)


def _stored_subjects(
    conn: Connection, values: list[bytes], excluding: set[int]
) -> dict[bytes, set[int]]:
    found: dict[bytes, set[int]] = defaultdict(set)
    unique = sorted(set(values))
    for chunk in chunks(unique, 900):
        rows = conn.execute(
            select(MatchKeyRow.key_value, MatchKeyRow.record_id, PersonRecord.subject_id)
            .join(PersonRecord, PersonRecord.id == MatchKeyRow.record_id)
            .where(MatchKeyRow.key_value.in_(chunk))
        )
        for value, record_id, subject_id in rows:
            if record_id not in excluding and subject_id is not None:
                found[value].add(subject_id)
    return found


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
        raise SubjectError(f"subject {subject_id}: no such subject")
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
        raise SubjectError(f"subjects {survivor_id} and {merged_id} are already one subject")
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
        raise SubjectError(f"merge {merge_id}: no such merge")
    if merge.undone_at is not None:
        raise SubjectError(f"merge {merge_id}: already undone on {merge.undone_at:%d %b %Y %H:%M}")
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
        raise SubjectError(f"candidate {candidate_id}: no such candidate")
    if candidate.status is not CandidateStatus.OPEN:
        raise SubjectError(f"candidate {candidate_id}: already {candidate.status.value}")
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
        raise SubjectError("reason: say why (it is kept with the decision)")
