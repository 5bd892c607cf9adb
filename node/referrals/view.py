"""Reading a referral: everything the secure room may see of it, and its timeline. Audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from node import audit
from node.access import (
    Actor,
    permits,
    require_borough_check,
    require_harm_flags,
    require_hub_member,
    require_manager,
    works_referral,
)
from node.cumulative_harm.flags import FlagSummary, open_flags_by_referral
from node.disclosures.asking import Askable, askable, received_items, requests_of
from node.involvement import Involvement, Person, involvement
from node.referrals.borough_checks import latest_checks
from node.referrals.common import open_referral
from node.referrals.research import release_blocked
from node.referrals.triage import basis_in_force
from node.store.models import (
    Agency,
    BoroughCheck,
    Contribution,
    Decision,
    Intervention,
    LawfulBasisRecord,
    OutgoingDisclosure,
    Pathway,
    RagChange,
    ReceivedItem,
    Referral,
    ReferralEvent,
    ReferralStatus,
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
    borough_checks: tuple[BoroughCheck, ...]  # the latest answer of each borough on each subject
    askable: tuple[Askable, ...]  # subjects a borough said it holds something on
    requests: tuple[OutgoingDisclosure, ...]  # this hub's requests to other boroughs
    received: tuple[ReceivedItem, ...]  # what they released or signposted in answer
    involvement: tuple[Involvement, ...] = ()  # agencies involved with its people now
    harm_flags: tuple[FlagSummary, ...] = ()  # open cumulative-harm flags (the manager's only)


def view_referral(session: Session, actor: Actor, referral_id: int) -> ReferralView:
    referral = open_referral(session, actor, referral_id)

    def rows(model: type, order: object) -> tuple:
        return tuple(
            session.scalars(select(model).where(model.referral_id == referral.id).order_by(order))
        )

    referral.people  # noqa: B018 - the people are read here, in the audited transaction
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
        borough_checks=tuple(latest_checks(session, referral.id)),
        askable=tuple(askable(session, referral.id)),
        requests=tuple(requests_of(session, referral.id)),
        received=tuple(received_items(session, referral.id)),
        involvement=involvement(
            session,
            actor,
            [
                Person(p.subject_id, f"{p.forenames} {p.surname}".strip(), not p.is_subject)
                for p in referral.people
                if p.subject_id is not None
            ],
        ),
        harm_flags=tuple(open_flags_by_referral(session, [referral.id]).get(referral.id, ()))
        if permits(require_harm_flags, actor)
        else (),
    )
    audit.record(
        session,
        actor,
        "referral.view",
        object_ref=f"referral:{referral.reference}",
        purpose=referral.reference,
    )
    return view


@dataclass(frozen=True)
class Actions:
    """What the actor may do on a referral as it stands: pages offer only these steps (and the
    services still check each one when it is taken)."""

    rate: bool  # set or review the RAG rating
    record_basis: bool  # adults: record consent or another lawful basis
    withdraw_consent: bool
    research: bool  # the actor's agency works the referral: research, contribute, release
    decide: bool
    product: bool  # the information product can be issued
    check_boroughs: bool  # ask the other boroughs about its subjects


def actions(actor: Actor, view: ReferralView) -> Actions:
    """The steps open to `actor` on the referral `view` shows, by the same rules the services use."""
    referral = view.referral
    open_ = referral.status is not ReferralStatus.DECIDED
    manager = permits(require_manager, actor)
    consent_in_force = any(b.kind == "consent" and b.withdrawn_at is None for b in view.bases)
    return Actions(
        rate=manager and open_,
        record_basis=manager and referral.pathway is Pathway.ADULT,
        withdraw_consent=consent_in_force and permits(require_hub_member, actor),
        research=works_referral(actor, {task.agency_code for task in view.tasks}),
        decide=manager and open_ and referral.rag is not None,
        product=view.decision is not None,
        check_boroughs=permits(require_borough_check, actor),
    )


def agency_names(session: Session, *, active_only: bool = False) -> dict[str, str]:
    """The hub's agencies, code to name, in name order (not personal data: no audit)."""
    statement = select(Agency.code, Agency.name).order_by(Agency.name)
    if active_only:
        statement = statement.where(Agency.active)
    return {code: name for code, name in session.execute(statement)}
