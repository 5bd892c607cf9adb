"""The decision on a referral and the information product that carries it out of the hub.

The information product holds released items only. Every held or signposted item appears as a
signpost: the owning agency, its contact route and a reference, never the content.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor, require_manager
from node.disclosures.asking import received_items
from node.errors import ErrorCode
from node.firewall import AgencyContact, HubItem, ReleasedItem, Signpost, what_may_leave
from node.referrals.common import ReferralError, open_referral, record_event, require_text
from node.referrals.research import release_blocked
from node.store.models import (
    Agency,
    Contribution,
    Decision,
    Intervention,
    Outcome,
    Referral,
    ReferralStatus,
    ReleaseState,
    ResearchTask,
    utcnow,
)

OUTCOMES: dict[Outcome, str] = {
    Outcome.STRATEGY_DISCUSSION: "Strategy discussion (section 47)",
    Outcome.ASSESSMENT: "Child and family assessment (section 17) / Care Act assessment",
    Outcome.EARLY_HELP: "Early help",
    Outcome.REFERRAL_TO_AGENCY: "Referral to another agency",
    Outcome.MARAC: "Referral to MARAC",
    Outcome.NO_FURTHER_ACTION: "No further action",
}


def record_decision(
    session: Session,
    actor: Actor,
    referral_id: int,
    outcome: Outcome,
    rationale: str,
    *,
    referred_to: str = "",
    interventions: list[tuple[str, str]] | None = None,
    research_open_confirmed: bool = False,
    seen_version: int | None = None,
    now: dt.datetime | None = None,
) -> Decision:
    """The MASH manager decides; deciding after the deadline is recorded as a breach. Deciding
    while agencies are still researching needs `research_open_confirmed` (the page warns), and
    the decision records which agencies those were."""
    require_manager(actor)
    referral = open_referral(session, actor, referral_id, seen_version=seen_version)
    if referral.status is ReferralStatus.DECIDED:
        raise ReferralError(f"{referral.reference}: already decided", code=ErrorCode.CONFLICT)
    if referral.rag is None:
        raise ReferralError(
            f"{referral.reference}: set the RAG rating before deciding", code=ErrorCode.CONFLICT
        )
    rationale = require_text(rationale, "rationale", "explain the decision")
    if outcome is Outcome.REFERRAL_TO_AGENCY:
        referred_to = require_text(
            referred_to, "referred_to", "name the agency referred to", limit=200
        )
    now = now or utcnow()
    agencies = set(session.scalars(select(Agency.code)))
    for index, (agency, description) in enumerate(interventions or []):
        if agency not in agencies:
            raise ReferralError(
                f"{agency!r} is not a hub agency", field=f"interventions[{index}].agency"
            )
        require_text(
            description, f"interventions[{index}].description", "describe the intervention"
        )
    open_tasks = session.execute(
        select(ResearchTask.agency_code, Agency.name)
        .join(Agency, Agency.code == ResearchTask.agency_code)
        .where(ResearchTask.referral_id == referral.id, ResearchTask.completed_at.is_(None))
        .order_by(Agency.name)
    ).all()
    still_open = [code for code, _name in open_tasks]
    open_names = ", ".join(name for _code, name in open_tasks)
    if still_open and not research_open_confirmed:
        raise ReferralError(
            f"research is still open for {open_names}: confirm that you are deciding "
            "before they have finished",
            field="research_open_confirmed",
            code=ErrorCode.CONFLICT,
        )
    breached = referral.deadline_at is not None and now > referral.deadline_at
    decision = Decision(
        referral_id=referral.id,
        outcome=outcome,
        referred_to=referred_to.strip(),
        rationale=rationale,
        decided_by=actor.username,
        decided_at=now,
        deadline_at=referral.deadline_at,
        breached=breached,
        research_open=still_open,
    )
    session.add(decision)
    for agency, description in interventions or []:
        session.add(
            Intervention(
                referral_id=referral.id, agency_code=agency, description=description.strip()
            )
        )
    referral.status = ReferralStatus.DECIDED
    session.flush()
    record_event(
        session,
        actor,
        referral,
        "decision",
        f"Decided: {OUTCOMES[outcome]}"
        + (" — after the deadline (breach recorded)" if breached else "")
        + (f" — while research was still open for {open_names}" if still_open else ""),
        audit_detail={
            "outcome": outcome.value,
            "breached": breached,
            "research_open": still_open,
        },
    )
    return decision


@dataclass(frozen=True)
class ProductPerson:
    name: str
    date_of_birth: dt.date | None
    gender: str
    address: str  # the address and postcode as recorded, either of them alone if only one is
    relationship: str


@dataclass(frozen=True)
class InformationProduct:
    reference: str
    borough: str
    generated_at: dt.datetime
    generated_by: str
    pathway: str
    rag: str
    received_at: dt.datetime
    deadline_at: dt.datetime | None
    categories: tuple[str, ...]
    subjects: tuple[ProductPerson, ...]
    household: tuple[ProductPerson, ...]
    outcome: str
    referred_to: str
    rationale: str
    decided_at: dt.datetime
    decided_by: str
    breached: bool
    interventions: tuple[tuple[str, str], ...]
    released: tuple[ReleasedItem, ...]
    signposts: tuple[Signpost, ...]
    withheld_note: str  # why everything is signposted, when release is blocked


def information_product(
    session: Session, actor: Actor, referral_id: int, borough: str
) -> InformationProduct:
    """The information product of a decided referral. Each generation is audited."""
    referral = open_referral(session, actor, referral_id)
    decision = session.scalar(select(Decision).where(Decision.referral_id == referral.id))
    if decision is None:
        raise ReferralError(
            f"{referral.reference}: record the decision before issuing the information product",
            code=ErrorCode.CONFLICT,
        )
    agencies = {a.code: a for a in session.scalars(select(Agency))}
    blocked = release_blocked(session, referral)
    contributions = session.scalars(
        select(Contribution)
        .where(Contribution.referral_id == referral.id)
        .order_by(Contribution.id)
    )
    contacts = {code: AgencyContact(a.name, a.contact_route) for code, a in agencies.items()}
    items = [
        HubItem(
            c.agency_code,
            c.title,
            c.content,
            _reference(referral, c),
            c.release_state,
            c.lawful_basis,
            borough,
        )
        for c in contributions
    ]
    for received in received_items(session, referral.id):  # other boroughs' answers
        code = f"{received.borough_name}/{received.agency}"
        route = received.contact_route or f"through {received.borough_name} MASH"
        contacts[code] = AgencyContact(received.agency, route)
        state = ReleaseState.RELEASED if received.released else ReleaseState.SIGNPOSTED
        items.append(
            HubItem(
                code,
                received.title,
                received.content,
                received.reference,
                state,
                received.lawful_basis,
                received.borough_name,
            )
        )
    outgoing = what_may_leave(items, contacts, release_blocked=blocked is not None)
    people = [
        ProductPerson(
            f"{p.forenames} {p.surname}".strip(),
            p.date_of_birth,
            p.gender,
            ", ".join(part for part in (p.address.strip(), p.postcode.strip()) if part),
            p.relationship_,
        )
        for p in referral.people
    ]
    product = InformationProduct(
        reference=referral.reference,
        borough=borough,
        generated_at=utcnow(),
        generated_by=actor.username,
        pathway=referral.pathway.value,
        rag=referral.rag.value if referral.rag else "",
        received_at=referral.received_at,
        deadline_at=referral.deadline_at,
        categories=tuple(referral.categories),
        subjects=tuple(p for p, r in zip(people, referral.people, strict=True) if r.is_subject),
        household=tuple(
            p for p, r in zip(people, referral.people, strict=True) if not r.is_subject
        ),
        outcome=OUTCOMES[decision.outcome],
        referred_to=decision.referred_to,
        rationale=decision.rationale,
        decided_at=decision.decided_at,
        decided_by=decision.decided_by,
        breached=decision.breached,
        interventions=tuple(
            (agencies[i.agency_code].name, i.description)
            for i in session.scalars(
                select(Intervention).where(Intervention.referral_id == referral.id)
            )
        ),
        released=outgoing.released,
        signposts=outgoing.signposts,
        withheld_note=blocked or "",
    )
    audit.record(
        session,
        actor,
        "referral.product",
        object_ref=f"referral:{referral.reference}",
        purpose=referral.reference,
        detail={"released": len(outgoing.released), "signposts": len(outgoing.signposts)},
    )
    return product


def _reference(referral: Referral, item: Contribution) -> str:
    return item.agency_reference or f"{referral.reference}/{item.id}"
