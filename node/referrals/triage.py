"""Triage: the MASH manager's RAG rating, its deadline, the adult pathway's lawful basis, the queue.

The first rating opens a research task for the agencies the manager chooses (by default those the
hub's policy names for the rating); only their professionals see the referral, and a later rating
may bring more agencies in. For a vulnerable adult the research opens only once consent, or
another lawful basis with its reason, is recorded; if consent is withdrawn, nothing more can be
released.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from node import audit
from node.access import (
    Actor,
    permits,
    queue_filter,
    require_harm_flags,
    require_hub_member,
    require_manager,
)
from node.config import ReferralPolicy
from node.cumulative_harm.flags import FlagSummary, open_flags_by_referral
from node.errors import ErrorCode
from node.referrals.common import ReferralError, open_referral, record_event, require_text
from node.referrals.deadlines import Clock, clock, decision_deadline
from node.store.models import (
    Agency,
    LawfulBasisRecord,
    Pathway,
    Rag,
    RagChange,
    Referral,
    ReferralStatus,
    ResearchTask,
    utcnow,
)

LAWFUL_BASES: tuple[str, ...] = (
    "Children Act 1989 s47 (significant harm)",
    "Children Act 1989 s17 (child in need)",
    "Children Act 2004 s11 (duty to safeguard)",
    "Care Act 2014 s42 (adult safeguarding enquiry)",
    "Consent",
    "Vital interests",
    "Prevention or detection of crime",
    "Public task (UK GDPR article 6(1)(e))",
)


def set_rag(
    session: Session,
    actor: Actor,
    referral_id: int,
    rag: Rag,
    reason: str,
    policy: ReferralPolicy,
    *,
    agencies: Sequence[str] | None = None,
    seen_version: int | None = None,
) -> Referral:
    """Set or review the RAG rating; the deadline runs from when the contact was received.

    `agencies` are those that research it (default at the first rating: the policy's for the
    rating); at a review, any not yet researching are brought in, none is taken out."""
    require_manager(actor)
    referral = open_referral(session, actor, referral_id, seen_version=seen_version)
    hub = list(session.scalars(select(Agency.code).where(Agency.active).order_by(Agency.code)))
    if agencies is not None:
        strangers = [code for code in agencies if code not in hub]
        if strangers:
            raise ReferralError(f"{strangers[0]!r} is not an agency of this hub", field="agencies")
    reason = require_text(reason, "reason", "say why this rating")
    if referral.status is ReferralStatus.DECIDED:
        raise ReferralError(
            f"{referral.reference}: already decided; the rating can no longer change",
            code=ErrorCode.CONFLICT,
        )
    first = referral.rag is None
    if referral.rag is rag and not _newcomers(referral, agencies):
        raise ReferralError(f"the referral is already rated {rag.value}", field="rag")
    previous = referral.rag
    referral.rag = rag
    referral.deadline_at = decision_deadline(referral.received_at, rag, policy)
    session.add(
        RagChange(
            referral_id=referral.id,
            rag=rag,
            reason=reason,
            deadline_at=referral.deadline_at,
            changed_by=actor.username,
        )
    )
    verb = "Rated" if first else f"Rating changed from {previous.value if previous else ''} to"
    record_event(
        session,
        actor,
        referral,
        "rag",
        f"{verb} {rag.value.upper()}: {reason}",
        audit_detail={"rag": rag.value, "previous": previous.value if previous else None},
    )
    if first:
        referral.research_agencies = sorted(
            agencies if agencies else policy.default_researchers(rag.value, hub)
        )
        _after_triage(session, actor, referral)
    elif agencies:
        newcomers = _newcomers(referral, agencies)
        referral.research_agencies = sorted({*referral.research_agencies, *newcomers})
        if newcomers and referral.status is ReferralStatus.IN_RESEARCH:
            _open_research(session, actor, referral, newcomers)
    return referral


def _newcomers(referral: Referral, agencies: Sequence[str] | None) -> list[str]:
    return sorted(set(agencies or ()) - set(referral.research_agencies))


def record_lawful_basis(
    session: Session,
    actor: Actor,
    referral_id: int,
    kind: str,
    lawful_basis: str,
    reason: str,
    *,
    seen_version: int | None = None,
) -> LawfulBasisRecord:
    """For an adult: record consent, or another lawful basis with its reason."""
    require_manager(actor)
    referral = open_referral(session, actor, referral_id, seen_version=seen_version)
    if referral.pathway is not Pathway.ADULT:
        raise ReferralError(
            "lawful basis: recorded for the adult pathway only", code=ErrorCode.CONFLICT
        )
    if kind not in ("consent", "other"):
        raise ReferralError("must be 'consent' or 'other'", field="kind")
    if kind == "consent":
        lawful_basis = "Consent"
    lawful_basis = require_text(lawful_basis, "lawful_basis", "name the lawful basis", limit=200)
    if kind == "other":
        reason = require_text(reason, "reason", "say why this basis applies without consent")
    record = LawfulBasisRecord(
        referral_id=referral.id,
        kind=kind,
        lawful_basis=lawful_basis,
        reason=reason.strip(),
        recorded_by=actor.username,
    )
    session.add(record)
    record_event(
        session,
        actor,
        referral,
        "lawful-basis",
        "Consent recorded" if kind == "consent" else f"Lawful basis recorded: {lawful_basis}",
        audit_detail={"kind": kind, "basis": lawful_basis},
    )
    if referral.status is ReferralStatus.AWAITING_LAWFUL_BASIS:
        _open_research(session, actor, referral, referral.research_agencies)
    return record


def withdraw_consent(
    session: Session,
    actor: Actor,
    referral_id: int,
    reason: str,
    *,
    seen_version: int | None = None,
) -> None:
    """The adult withdraws consent: nothing more of theirs is released."""
    require_hub_member(actor)
    referral = open_referral(session, actor, referral_id, seen_version=seen_version)
    reason = require_text(reason, "reason", "record how and when consent was withdrawn")
    consent = session.scalar(
        select(LawfulBasisRecord).where(
            LawfulBasisRecord.referral_id == referral.id,
            LawfulBasisRecord.kind == "consent",
            LawfulBasisRecord.withdrawn_at.is_(None),
        )
    )
    if consent is None:
        raise ReferralError(
            "consent: there is no consent in force on this referral", code=ErrorCode.CONFLICT
        )
    consent.withdrawn_at = utcnow()
    consent.withdrawn_by = actor.username
    consent.withdrawal_reason = reason
    record_event(session, actor, referral, "consent-withdrawn", f"Consent withdrawn: {reason}")


def basis_in_force(session: Session, referral: Referral) -> LawfulBasisRecord | None:
    """The lawful basis an adult's information is shared on now (None: none, or withdrawn)."""
    return session.scalar(
        select(LawfulBasisRecord)
        .where(
            LawfulBasisRecord.referral_id == referral.id,
            LawfulBasisRecord.withdrawn_at.is_(None),
        )
        .order_by(LawfulBasisRecord.id.desc())
        .limit(1)
    )


def _after_triage(session: Session, actor: Actor, referral: Referral) -> None:
    if referral.pathway is Pathway.ADULT and basis_in_force(session, referral) is None:
        referral.status = ReferralStatus.AWAITING_LAWFUL_BASIS
        return
    _open_research(session, actor, referral, referral.research_agencies)


def _open_research(
    session: Session, actor: Actor, referral: Referral, agencies: Sequence[str]
) -> None:
    """Open a research task for each of `agencies` (their professionals now see the referral)."""
    names = {code: name for code, name in session.execute(select(Agency.code, Agency.name))}
    for code in agencies:
        session.add(ResearchTask(referral_id=referral.id, agency_code=code))
    referral.status = ReferralStatus.IN_RESEARCH
    session.flush()
    listed = ", ".join(sorted(names.get(code, code) for code in agencies))
    record_event(
        session,
        actor,
        referral,
        "research-opened",
        f"Research opened for {listed}",
        audit_detail={"agencies": list(agencies)},
    )


@dataclass(frozen=True)
class QueueEntry:
    referral: Referral
    clock: Clock | None  # None until rated
    overdue_requests: tuple[str, ...] = ()  # boroughs past their deadline to answer a request
    harm_flags: tuple[FlagSummary, ...] = ()  # open cumulative-harm flags (the manager's only)


def queue(
    session: Session, actor: Actor, policy: ReferralPolicy, now: dt.datetime | None = None
) -> list[QueueEntry]:
    """Open referrals, least time left first; contacts awaiting triage head the list."""
    visible = queue_filter(actor)
    now = now or utcnow()
    statement = select(Referral).where(Referral.status != ReferralStatus.DECIDED)
    if visible is not None:
        statement = statement.where(visible)
    from node.disclosures.asking import overdue_by_referral  # it builds on triage's rules

    overdue = overdue_by_referral(session, now)
    referrals = list(session.scalars(statement))
    flags = (
        open_flags_by_referral(session, [r.id for r in referrals])
        if permits(require_harm_flags, actor)
        else {}
    )
    entries = [
        QueueEntry(
            r,
            clock(r.deadline_at, now, policy) if r.deadline_at else None,
            tuple(sorted(overdue.get(r.id, ()))),
            tuple(flags.get(r.id, ())),
        )
        for r in referrals
    ]
    entries.sort(
        key=lambda e: (
            e.clock is not None,
            e.clock.remaining if e.clock else dt.timedelta(0),
            e.referral.received_at,
        )
    )
    audit.record(
        session,
        actor,
        "queue.view",
        detail={"referrals": len(entries), "harm_flags": sum(len(e.harm_flags) for e in entries)},
    )
    return entries
