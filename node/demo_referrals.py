"""Demo referrals: a few contacts in different states, worked through the real services.

Used by the demo only. Every step goes through the same domain services as the web UI, so the
demo's audit log and timelines are what real use would produce.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.access import Actor
from node.config import ReferralPolicy
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.referrals.outcome import record_decision
from node.referrals.research import add_contribution, own_items_for_referral, set_release
from node.referrals.triage import record_lawful_basis, set_rag
from node.store.models import (
    InformationItem,
    Outcome,
    Pathway,
    PersonRecord,
    Rag,
    Referral,
    ReleaseState,
    Role,
    utcnow,
)

MANAGER = Actor("manager", Role.MASH_MANAGER)


def _pro(agency: str) -> Actor:
    return Actor(agency, Role.AGENCY_PROFESSIONAL, agency)


def seed_referrals(session: Session, policy: ReferralPolicy) -> int:
    """Create the demo referrals unless the hub already has referrals. Returns how many: one of
    them is flagged for cumulative harm (three agencies' contacts about one child)."""
    if session.scalar(select(func.count()).select_from(Referral)):
        return 0
    children = _known_children(session, 4)
    adult = _known_adult(session)
    if len(children) < 4 or adult is None:
        return 0
    now = utcnow()

    # 0. Two earlier low-level concerns about the first child, each closed on its own: with the
    # school's contact below, three agencies in six weeks raise a cumulative-harm flag.
    for agency, days, category, account, outcome in (
        (
            "police",
            33,
            "missing",
            "Reported missing overnight by the carer; found the next morning at a friend's flat.",
            Outcome.NO_FURTHER_ACTION,
        ),
        (
            "health",
            12,
            "neglect",
            "Brought to the emergency department late at night with a minor burn; the "
            "explanation was plausible.",
            Outcome.EARLY_HELP,
        ),
    ):
        earlier = record_contact(
            session,
            MANAGER,
            NewContact(
                pathway=Pathway.CHILD,
                source_kind="agency",
                source_agency=agency,
                categories=(category,),
                account=account,
                people=(children[0],),
                received_at=now - dt.timedelta(days=days),
            ),
            policy,
        )
        set_rag(session, MANAGER, earlier.id, Rag.GREEN, "Low-level concern", policy)
        record_decision(
            session,
            MANAGER,
            earlier.id,
            outcome,
            "Below the threshold for a statutory response on its own.",
            research_open_confirmed=True,
            now=earlier.received_at + dt.timedelta(hours=20),
        )

    # 1. A school's contact, just arrived, awaiting triage (and flagged: see 0).
    record_contact(
        session,
        MANAGER,
        NewContact(
            pathway=Pathway.CHILD,
            source_kind="agency",
            source_agency="education",
            categories=("neglect",),
            account="Class teacher reports the child has come to school hungry and in the same "
            "clothes all week, and was collected late three times.",
            people=(children[0],),
            received_at=now - dt.timedelta(minutes=40),
        ),
        policy,
    )

    # 2. A police domestic-abuse notification, rated red, research under way.
    red = record_contact(
        session,
        MANAGER,
        NewContact(
            pathway=Pathway.CHILD,
            source_kind="agency",
            source_agency="police",
            categories=("domestic-abuse", "physical-abuse"),
            account="Police attended a domestic incident overnight; the child was present and "
            "has a visible bruise to the cheek.",
            people=(children[1],),
            received_at=now - dt.timedelta(hours=2, minutes=30),
        ),
        policy,
    )
    set_rag(session, MANAGER, red.id, Rag.RED, "Injury to a child at a domestic incident", policy)
    _contribute(session, red, "police", release=True)
    health = add_contribution(
        session,
        _pro("health"),
        red.id,
        title="GP and health visitor records",
        content="Registered with the local practice; two missed immunisation appointments.",
    )
    set_release(
        session, _pro("health"), health.id, ReleaseState.SIGNPOSTED, "Caldicott: ask the GP"
    )

    # 3. An amber referral from a member of the public, research just opened.
    amber = record_contact(
        session,
        MANAGER,
        NewContact(
            pathway=Pathway.CHILD,
            source_kind="public",
            source_name="Neighbour (asked not to be named to the family)",
            categories=("emotional-abuse",),
            account="Neighbour hears shouting at the child most evenings and the child is often "
            "outside alone after dark.",
            people=(children[2],),
            received_at=now - dt.timedelta(hours=20),
        ),
        policy,
    )
    set_rag(session, MANAGER, amber.id, Rag.AMBER, "Ongoing concern, no immediate risk", policy)
    _contribute(session, amber, "police", release=False)

    # 4. Decided: strategy discussion, with an information product to issue.
    decided = record_contact(
        session,
        MANAGER,
        NewContact(
            pathway=Pathway.CHILD,
            source_kind="agency",
            source_agency="health",
            categories=("physical-abuse",),
            account="A&E reports an unexplained fracture in a young child.",
            people=(children[3],),
            received_at=now - dt.timedelta(days=1, hours=3),
        ),
        policy,
    )
    set_rag(session, MANAGER, decided.id, Rag.RED, "Unexplained injury to a young child", policy)
    _contribute(session, decided, "police", release=True)
    record_decision(
        session,
        MANAGER,
        decided.id,
        Outcome.STRATEGY_DISCUSSION,
        "Reasonable cause to suspect significant harm: strategy discussion with police and health.",
        interventions=[
            ("police", "Joint visit with social care"),
            ("health", "Child protection medical"),
        ],
        research_open_confirmed=True,  # a red referral: the strategy discussion cannot wait
        now=decided.received_at + dt.timedelta(hours=3),
    )

    # 5. A vulnerable adult: rated, waiting for consent or another lawful basis.
    adult_referral = record_contact(
        session,
        MANAGER,
        NewContact(
            pathway=Pathway.ADULT,
            source_kind="agency",
            source_agency="housing",
            categories=("self-neglect",),
            account="Housing officer found the flat without heating and the tenant confused.",
            people=(adult,),
            received_at=now - dt.timedelta(hours=5),
        ),
        policy,
    )
    set_rag(
        session, MANAGER, adult_referral.id, Rag.AMBER, "Self-neglect, needs assessment", policy
    )
    record_lawful_basis(
        session, MANAGER, adult_referral.id, "consent", "", "Tenant agreed on the phone"
    )
    return 7


def _contribute(session: Session, referral: Referral, agency: str, *, release: bool) -> None:
    actor = _pro(agency)
    items = own_items_for_referral(session, actor, referral.id)
    if not items:
        return
    contribution = add_contribution(session, actor, referral.id, source_item_id=items[0].item_id)
    if release:
        set_release(
            session,
            actor,
            contribution.id,
            ReleaseState.RELEASED,
            "Necessary and proportionate for the child's safety",
            "Children Act 1989 s47 (significant harm)",
        )


def _person(record: PersonRecord) -> PersonDetails:
    return PersonDetails(
        surname=record.surname,
        forenames=record.forenames,
        date_of_birth=record.date_of_birth,
        gender=record.gender,
        address=record.address,
        postcode=record.postcode,
        subject_id=record.subject_id,
    )


def _known_children(session: Session, count: int) -> list[PersonDetails]:
    """Children the police hold items on, so the demo research finds something."""
    cutoff = dt.date.today().replace(year=dt.date.today().year - 17)
    records = session.scalars(
        select(PersonRecord)
        .where(
            PersonRecord.agency_code == "police",
            PersonRecord.date_of_birth > cutoff,
            PersonRecord.id.in_(select(InformationItem.record_id)),
        )
        .order_by(PersonRecord.id)
        .limit(count)
    ).all()
    return [replace(_person(r), relationship="") for r in records]


def _known_adult(session: Session) -> PersonDetails | None:
    cutoff = dt.date.today().replace(year=dt.date.today().year - 25)
    record = session.scalars(
        select(PersonRecord)
        .where(PersonRecord.agency_code == "adult-social-care", PersonRecord.date_of_birth < cutoff)
        .order_by(PersonRecord.id)
        .limit(1)
    ).first()
    return _person(record) if record else None


MOVED_CHILD_ACCOUNT = "joined this term from"  # how the demo finds its moved child's referral


def seed_moved_child_referral(
    session: Session, policy: ReferralPolicy, child: PersonDetails, from_borough: str
) -> str | None:
    """A school's contact about a child who moved here from `from_borough` (the demo's way into
    "Check other boroughs"), once; returns its reference (the one made before, on a later run)."""
    account = (
        f"New pupil who {MOVED_CHILD_ACCOUNT} {from_borough}: arrives hungry, flinches when "
        "approached, and says the family left because of 'trouble at home'."
    )
    made = session.scalar(select(Referral.reference).where(Referral.account == account))
    if made is not None:
        return made
    referral = record_contact(
        session,
        MANAGER,
        NewContact(
            pathway=Pathway.CHILD,
            source_kind="agency",
            source_agency="education",
            categories=("neglect", "domestic-abuse"),
            account=account,
            people=(child,),
            received_at=utcnow() - dt.timedelta(minutes=25),
        ),
        policy,
    )
    set_rag(session, MANAGER, referral.id, Rag.RED, "New to the borough, signs of harm", policy)
    return referral.reference


def subject_of(session: Session, child: PersonDetails, nhs_number: str) -> int | None:
    """The hub subject of this child's records here, found by NHS number, if any."""
    return session.scalar(
        select(PersonRecord.subject_id)
        .where(PersonRecord.nhs_number_norm == nhs_number.replace(" ", ""))
        .limit(1)
    )
