"""Reading a referral: everything the secure room may see of it, and its timeline. Audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor
from node.referrals.common import open_referral
from node.referrals.research import release_blocked
from node.referrals.triage import basis_in_force
from node.store.models import (
    Contribution,
    Decision,
    Intervention,
    LawfulBasisRecord,
    RagChange,
    Referral,
    ReferralEvent,
    ResearchTask,
)


@dataclass(frozen=True)
class ReferralView:
    referral: Referral
    rag_history: tuple[RagChange, ...]
    tasks: tuple[ResearchTask, ...]
    contributions: tuple[Contribution, ...]
    decision: Decision | None
    interventions: tuple[Intervention, ...]
    bases: tuple[LawfulBasisRecord, ...]
    basis_in_force: LawfulBasisRecord | None
    release_blocked: str | None
    events: tuple[ReferralEvent, ...]


def view_referral(session: Session, actor: Actor, referral_id: int) -> ReferralView:
    referral = open_referral(session, actor, referral_id)

    def rows(model: type, order: object) -> tuple:
        return tuple(
            session.scalars(select(model).where(model.referral_id == referral.id).order_by(order))
        )

    view = ReferralView(
        referral=referral,
        rag_history=rows(RagChange, RagChange.id),
        tasks=rows(ResearchTask, ResearchTask.agency_code),
        contributions=rows(Contribution, Contribution.id),
        decision=session.scalar(select(Decision).where(Decision.referral_id == referral.id)),
        interventions=rows(Intervention, Intervention.id),
        bases=rows(LawfulBasisRecord, LawfulBasisRecord.id),
        basis_in_force=basis_in_force(session, referral),
        release_blocked=release_blocked(session, referral),
        events=rows(ReferralEvent, ReferralEvent.id),
    )
    audit.record(
        session,
        actor,
        "referral.view",
        object_ref=f"referral:{referral.reference}",
        purpose=referral.reference,
    )
    return view
