"""What the link review page shows: the open candidate links and the recent merges, each subject
with the agencies holding records on it as counts (nothing a record says).

The candidates, merges and record counts come from `node.subjects`; what the shared key was, in
words, from the key set's own labels (`node.matching.key_classes`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from node.access import Actor
from node.agencies import AgencyDefinition
from node.matching.key_classes import label
from node.store.models import MatchCandidate
from node.subjects import holdings as record_holdings
from node.subjects import list_candidates, live_subject, recent_merges
from node.web.search.present import Holding, holdings

RECENT_MERGES = 20

STRENGTH_TAGS = {
    "certain": "govuk-tag--green",
    "strong": "govuk-tag--blue",
    "probable": "govuk-tag--yellow",
}


@dataclass(frozen=True)
class SubjectSide:
    subject_id: int
    holdings: tuple[Holding, ...]
    merged_into: int | None  # the subject it is now part of, if it has been merged since


@dataclass(frozen=True)
class CandidateCard:
    candidate_id: int
    first: SubjectSide
    second: SubjectSide
    shared: str
    strength: str
    strength_class: str
    raised_on: str


@dataclass(frozen=True)
class MergeCard:
    merge_id: int
    survivor: SubjectSide
    merged_id: int
    records_moved: int
    reason: str
    merged_by: str
    merged_at: str


@dataclass(frozen=True)
class Board:
    candidates: tuple[CandidateCard, ...]
    merges: tuple[MergeCard, ...]


def review_board(
    session: Session, actor: Actor, agencies: Mapping[str, AgencyDefinition], zone: ZoneInfo
) -> Board:
    """The open candidate links, oldest first, and the most recent merges not undone; times
    are shown in the hub's time zone."""
    candidates = list_candidates(session, actor)
    merges = recent_merges(session, actor, RECENT_MERGES)
    ids = {c.subject_a_id for c in candidates} | {c.subject_b_id for c in candidates}
    ids |= {merge.survivor_id for merge in merges}
    counts = record_holdings(session, sorted(ids))
    live = {subject_id: live_subject(session, subject_id).id for subject_id in ids}

    def side(subject_id: int) -> SubjectSide:
        now = live[subject_id]
        return SubjectSide(
            subject_id=subject_id,
            holdings=holdings(counts.get(subject_id, {}), agencies, None),
            merged_into=now if now != subject_id else None,
        )

    return Board(
        candidates=tuple(_candidate_card(c, side, zone) for c in candidates),
        merges=tuple(
            MergeCard(
                merge_id=merge.id,
                survivor=side(merge.survivor_id),
                merged_id=merge.merged_id,
                records_moved=len(merge.record_ids),
                reason=merge.reason,
                merged_by=merge.merged_by,
                merged_at=local_time(merge.merged_at, zone),
            )
            for merge in merges
        ),
    )


def local_time(moment: dt.datetime, zone: ZoneInfo) -> str:
    """A moment as people in the hub read it: "5 January 2026 at 14:03"."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    local = aware.astimezone(zone)
    return f"{local.day} {local:%B %Y} at {local:%H:%M}"


def _candidate_card(
    candidate: MatchCandidate, side: Callable[[int], SubjectSide], zone: ZoneInfo
) -> CandidateCard:
    return CandidateCard(
        candidate_id=candidate.id,
        first=side(candidate.subject_a_id),
        second=side(candidate.subject_b_id),
        shared=label(candidate.key_class),
        strength=candidate.strength,
        strength_class=STRENGTH_TAGS.get(candidate.strength, "govuk-tag--grey"),
        raised_on=local_time(candidate.created_at, zone),
    )
