"""What the front-door services share: loading a referral under the access rule, and its timeline."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor, require_referral_access
from node.errors import DomainError, ErrorCode
from node.store.models import Referral, ReferralEvent, ResearchTask, utcnow

TEXT_LIMIT = 20_000  # characters of free text in one field (the forms say so before we do)
# The steps that change the referral's own state, and so its version: a rating, a decision or a
# lawful basis made from an earlier version is refused. An agency's contributions, release
# decisions and research have versions of their own, so agencies working in parallel do not
# stop each other, or the manager.
REFERRAL_STEPS = frozenset(
    {"contact", "rag", "lawful-basis", "consent-withdrawn", "research-opened", "decision"}
)


class ReferralError(DomainError):
    """A step on a referral cannot be taken as asked (`field` names the input, if one is wrong)."""


class ChangedMeanwhile(ReferralError):
    """What the person acted on changed after they saw it: `by` changed it at `at`. Nothing of
    their step was done; the page shows it as it is now, with their answers kept."""

    code = ErrorCode.CONFLICT

    def __init__(self, what: str, by: str, at: dt.datetime) -> None:
        self.what, self.by, self.at = what, by, at
        super().__init__(
            f"{what} was changed by {by} at {at:%H:%M} UTC, after you opened it: "
            "check what changed, then send your answers again"
        )


def require_version(
    seen: int | None, current: int, what: str, by: str | None, at: dt.datetime | None
) -> None:
    """Refuse a change made from a version other than the current one (None: not checked, for
    callers acting on the state as it is, such as the demo's seeding)."""
    if seen is not None and seen != current:
        raise ChangedMeanwhile(what, by or "someone", at or utcnow())


def working_agencies(session: Session, referral_id: int) -> set[str]:
    return set(
        session.scalars(
            select(ResearchTask.agency_code).where(ResearchTask.referral_id == referral_id)
        )
    )


def open_referral(
    session: Session, actor: Actor, referral_id: int, *, seen_version: int | None = None
) -> Referral:
    """The referral, if the actor is in its secure room; otherwise AccessDenied.

    With `seen_version` (a step that changes the referral), the row is locked until the step
    commits and the step is refused (ChangedMeanwhile) if the referral moved on since then."""
    changing = seen_version is not None
    referral = session.get(
        Referral, referral_id, with_for_update=changing, populate_existing=changing
    )
    if referral is None:
        raise ReferralError(f"referral {referral_id}: no such referral", code=ErrorCode.NOT_FOUND)
    require_referral_access(actor, working_agencies(session, referral_id))
    if changing and seen_version != referral.version:
        last = session.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id, ReferralEvent.kind.in_(REFERRAL_STEPS))
            .order_by(ReferralEvent.id.desc())
            .limit(1)
        ).first()
        require_version(
            seen_version,
            referral.version,
            f"Referral {referral.reference}",
            last.actor if last else None,
            last.at if last else None,
        )
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
    """One step of the referral's timeline, and the same step in the audit log; a step of the
    referral's own state (`REFERRAL_STEPS`) moves its version on."""
    if kind in REFERRAL_STEPS:
        referral.version += 1
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
