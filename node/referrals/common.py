"""What the front-door services share: loading a referral under the access rule, and its timeline."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor, require_referral_access
from node.errors import DomainError, ErrorCode
from node.store.models import Referral, ReferralEvent, ResearchTask

TEXT_LIMIT = 20_000  # characters of free text in one field (the forms say so before we do)


class ReferralError(DomainError):
    """A step on a referral cannot be taken as asked (`field` names the input, if one is wrong)."""


def working_agencies(session: Session, referral_id: int) -> set[str]:
    return set(
        session.scalars(
            select(ResearchTask.agency_code).where(ResearchTask.referral_id == referral_id)
        )
    )


def open_referral(session: Session, actor: Actor, referral_id: int) -> Referral:
    """The referral, if the actor is in its secure room; otherwise AccessDenied."""
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise ReferralError(f"referral {referral_id}: no such referral", code=ErrorCode.NOT_FOUND)
    require_referral_access(actor, working_agencies(session, referral_id))
    return referral


def record_event(
    session: Session,
    actor: Actor,
    referral: Referral,
    kind: str,
    summary: str,
    *,
    audit_detail: dict[str, object] | None = None,
) -> None:
    """One step of the referral's timeline, and the same step in the audit log."""
    session.add(
        ReferralEvent(referral_id=referral.id, actor=actor.username, kind=kind, summary=summary)
    )
    session.flush()
    audit.record(
        session,
        actor,
        f"referral.{kind}",
        object_ref=f"referral:{referral.reference}",
        purpose=referral.reference,
        detail=audit_detail or {},
    )


def require_text(value: str, field: str, what: str, *, limit: int = TEXT_LIMIT) -> str:
    """The text, stripped, if it says something and is not longer than `limit` characters."""
    value = value.strip()
    if not value:
        raise ReferralError(what, field=field)
    if len(value) > limit:
        raise ReferralError(f"must be {limit:,} characters or fewer", field=field)
    return value
