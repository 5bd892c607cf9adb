"""Research and the firewall: each agency contributes what it holds and decides what may leave.

Inside the hub, every contribution is visible to the members working the referral (the secure
room). Whether an item may leave the hub is decided only by its owning agency's professional,
with a reason and a lawful basis: `held` (the default), `released`, or `signposted`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from node import audit
from node.access import (
    Actor,
    require_own_agency_data,
    require_release_decision,
    require_researcher,
)
from node.errors import ErrorCode
from node.referrals.common import (
    ReferralError,
    open_referral,
    record_event,
    require_text,
    require_version,
)
from node.referrals.triage import basis_in_force
from node.store.models import (
    Contribution,
    InformationItem,
    Pathway,
    PersonRecord,
    Referral,
    ReferralStatus,
    ReleaseState,
    ResearchTask,
    utcnow,
)
from node.subjects import live_subject


def add_contribution(
    session: Session,
    actor: Actor,
    referral_id: int,
    *,
    title: str = "",
    content: str = "",
    source_item_id: int | None = None,
    item_ref: str = "",
    agency_reference: str = "",
    unlinked_reason: str = "",
) -> Contribution:
    """An agency professional adds what their agency holds: one of its items (by id, or by the
    agency's reference), or a written note.

    An item must be about someone in the referral (its record linked to one of the referral's
    subjects or household); otherwise the professional gives the reason it is relevant
    (`unlinked_reason`), which the timeline and the audit log keep.
    """
    referral = open_referral(session, actor, referral_id)
    agency = require_researcher(actor)
    if item_ref.strip():
        source_item_id = _own_item_id_by_reference(session, agency, item_ref.strip())
    item = _own_item(session, actor, source_item_id)  # the firewall before the referral's state
    if referral.status is not ReferralStatus.IN_RESEARCH:
        raise ReferralError(
            f"{referral.reference}: research is not open ({referral.status.value})",
            code=ErrorCode.CONFLICT,
        )
    unlinked_reason = unlinked_reason.strip()
    linked = item is None or _about_the_referrals_people(session, referral, item)
    if not linked and not unlinked_reason:
        raise ReferralError(
            f"{item.item_ref if item else 'this item'} is not about anyone in this referral: "
            "say why it is relevant to add it",
            field="unlinked_reason",
        )
    if item is not None:
        title = title.strip() or f"{item.category}: {item.summary}"
        content = content.strip() or "\n\n".join(
            part for part in (f"{item.occurred_on:%d %B %Y}: {item.summary}", item.detail) if part
        )
        agency_reference = agency_reference.strip() or item.item_ref
    contribution = Contribution(
        referral_id=referral.id,
        agency_code=agency,
        source_item_id=source_item_id,
        title=require_text(title, "title", "give the item a title")[:300],
        content=require_text(content, "content", "write what your agency holds"),
        agency_reference=agency_reference.strip()[:100],
        created_by=actor.username,
    )
    session.add(contribution)
    session.flush()
    summary = f"{agency} added an item (held)"
    detail: dict[str, object] = {"contribution": contribution.id, "source_item": source_item_id}
    if not linked:
        summary += f", not about anyone in this referral: {unlinked_reason}"
        detail["unlinked_reason"] = unlinked_reason
    record_event(session, actor, referral, "contribution", summary, audit_detail=detail)
    return contribution


def _own_item_id_by_reference(session: Session, agency: str, item_ref: str) -> int:
    found = session.scalar(
        select(InformationItem.id).where(
            InformationItem.agency_code == agency, InformationItem.item_ref == item_ref
        )
    )
    if found is None:
        raise ReferralError(f"your agency holds no item {item_ref!r}", field="item_ref")
    return found


def referral_subject_ids(session: Session, referral: Referral) -> set[int]:
    """The hub subjects of the referral's people (subjects and household), as they stand now
    (a subject merged since the contact was recorded counts as the one it is part of)."""
    return {
        live_subject(session, person.subject_id).id
        for person in referral.people
        if person.subject_id is not None
    }


def _about_the_referrals_people(
    session: Session, referral: Referral, item: InformationItem
) -> bool:
    subject_id = session.scalar(
        select(PersonRecord.subject_id).where(PersonRecord.id == item.record_id)
    )
    return subject_id in referral_subject_ids(session, referral)


def _own_item(session: Session, actor: Actor, item_id: int | None) -> InformationItem | None:
    """The actor's own agency's item to contribute (None for a written note); an attempt on
    another agency's records is refused, whatever the state of the referral."""
    if item_id is None:
        return None
    item = session.get(InformationItem, item_id)
    require_own_agency_data(actor, item.agency_code if item is not None else "")
    assert item is not None  # an unknown item belongs to no agency: refused above
    return item


def set_release(
    session: Session,
    actor: Actor,
    contribution_id: int,
    state: ReleaseState,
    reason: str,
    lawful_basis: str = "",
    *,
    referral_id: int | None = None,
    seen_version: int | None = None,
) -> bool:
    """The owning agency decides whether its item leaves the hub. Audited with its reason.
    Returns whether anything changed: the same decision again writes nothing.

    `referral_id`, when given (a page's URL names it), is the referral the item must be on;
    `seen_version` is the item's version the decision was made from (refused if it moved on).
    """
    contribution = session.get(
        Contribution, contribution_id, with_for_update=True, populate_existing=True
    )
    if contribution is None or referral_id not in (None, contribution.referral_id):
        raise ReferralError(
            f"contribution {contribution_id}: no such item on this referral",
            code=ErrorCode.NOT_FOUND,
        )
    referral = open_referral(session, actor, contribution.referral_id)
    require_release_decision(actor, contribution.agency_code)
    require_version(
        seen_version,
        contribution.version,
        f"The release decision on '{contribution.title}'",
        contribution.decided_by,
        contribution.decided_at,
    )
    if state is not ReleaseState.HELD:
        reason = require_text(reason, "reason", "say why (necessary and proportionate)")
    if state is ReleaseState.RELEASED:
        lawful_basis = require_text(
            lawful_basis, "lawful_basis", "name the lawful basis for release"
        )
        refusal = release_blocked(session, referral)
        if refusal:
            raise ReferralError(refusal, code=ErrorCode.CONFLICT)
    previous = contribution.release_state
    reason = reason.strip()
    lawful_basis = lawful_basis.strip() if state is ReleaseState.RELEASED else ""
    if (previous, contribution.release_reason, contribution.lawful_basis) == (
        state,
        reason,
        lawful_basis,
    ):
        return False
    contribution.release_state = state
    contribution.release_reason = reason
    contribution.lawful_basis = lawful_basis
    contribution.version += 1
    contribution.decided_by = actor.username
    contribution.decided_at = utcnow()
    record_event(
        session,
        actor,
        referral,
        "release",
        f"{contribution.agency_code} item {contribution.id}: "
        + (f"{previous.value} → {state.value}" if previous is not state else f"{state.value}")
        + (f" ({contribution.lawful_basis})" if contribution.lawful_basis else "")
        + (", reason changed" if previous is state else ""),
        audit_detail={
            "contribution": contribution.id,
            "from": previous.value,
            "to": state.value,
            "lawful_basis": contribution.lawful_basis,
        },
    )
    return True


def release_blocked(session: Session, referral: Referral) -> str | None:
    """Why nothing may be released on this referral now, or None."""
    if referral.pathway is not Pathway.ADULT:
        return None
    if basis_in_force(session, referral) is not None:
        return None
    return (
        "This adult's consent has been withdrawn (or no lawful basis is recorded), so none of "
        "their information can be released. Record another lawful basis with its reason first."
    )


def complete_task(
    session: Session, actor: Actor, referral_id: int, *, seen_version: int | None = None
) -> ResearchTask:
    """The agency's research on this referral is done (`seen_version`: of the agency's task)."""
    referral = open_referral(session, actor, referral_id)
    agency = require_researcher(actor)
    task = session.scalar(
        select(ResearchTask)
        .where(ResearchTask.referral_id == referral.id, ResearchTask.agency_code == agency)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert task is not None  # open_referral checked the agency works this referral
    require_version(
        seen_version,
        task.version,
        f"Your agency's research on {referral.reference}",
        task.completed_by,
        task.completed_at,
    )
    if task.completed_at is not None:
        raise ReferralError(
            f"{referral.reference}: your agency's research is already complete",
            code=ErrorCode.CONFLICT,
        )
    task.completed_at = utcnow()
    task.completed_by = actor.username
    task.version += 1
    record_event(session, actor, referral, "research-complete", f"{agency} research complete")
    return task


@dataclass(frozen=True)
class OwnItem:
    """One of the actor's own agency's items about the people of a referral, to contribute."""

    item_id: int
    record_ref: str
    person: str
    occurred_on: dt.date
    category: str
    summary: str
    sensitivity: str
    item_ref: str = ""  # the agency's own reference of the item (e.g. a police CAD number)


def own_items_for_referral(session: Session, actor: Actor, referral_id: int) -> list[OwnItem]:
    """The actor's own agency's items on the referral's subjects and household. Audited."""
    referral = open_referral(session, actor, referral_id)
    agency = require_researcher(actor)
    subject_ids = referral_subject_ids(session, referral)
    rows = session.execute(
        select(InformationItem, PersonRecord)
        .join(PersonRecord, PersonRecord.id == InformationItem.record_id)
        .where(
            PersonRecord.subject_id.in_(subject_ids),
            PersonRecord.agency_code == agency,
        )
        .order_by(InformationItem.occurred_on.desc())
    ).all()
    items = [
        OwnItem(
            item.id,
            record.agency_record_id,
            f"{record.forenames} {record.surname}".strip(),
            item.occurred_on,
            item.category,
            item.summary,
            item.sensitivity,
            item.item_ref,
        )
        for item, record in rows
    ]
    audit.record(
        session,
        actor,
        "research.records",
        object_ref=f"referral:{referral.reference}",
        purpose=referral.reference,
        detail={"items_shown": len(items)},
    )
    return items
