"""Recording a contact: who it is about, who sent it, what the concern is.

A contact names one or more subjects (the children, or the vulnerable adult, of concern) and the
members of their household. Each person is linked to an existing hub subject found by search, or
a new subject is created for them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.access import Actor, require_hub_member
from node.config import ReferralPolicy
from node.referrals.common import ReferralError, record_event, require_text
from node.store.models import (
    Agency,
    Pathway,
    Referral,
    ReferralPerson,
    ReferralStatus,
    Subject,
    utcnow,
)
from node.subjects import SubjectError, live_subject

CONCERN_CATEGORIES: dict[str, str] = {
    "neglect": "Neglect",
    "physical-abuse": "Physical abuse",
    "sexual-abuse": "Sexual abuse",
    "emotional-abuse": "Emotional abuse",
    "domestic-abuse": "Domestic abuse",
    "child-sexual-exploitation": "Child sexual exploitation",
    "child-criminal-exploitation": "Child criminal exploitation",
    "missing": "Missing",
    "radicalisation": "Radicalisation",
    "mental-health": "Mental health",
    "substance-misuse": "Substance misuse",
    "female-genital-mutilation": "Female genital mutilation",
    "honour-based-abuse": "Honour-based abuse",
    "modern-slavery": "Trafficking and modern slavery",
    "self-neglect": "Self-neglect",
    "financial-abuse": "Financial abuse",
}
SOURCE_KINDS: dict[str, str] = {
    "agency": "A partner agency",
    "public": "A member of the public",
    "other": "Other (anonymous, the person themselves, another borough)",
}
ADULT_AGE = 18


@dataclass(frozen=True)
class PersonDetails:
    surname: str
    forenames: str = ""
    date_of_birth: dt.date | None = None
    gender: str = ""
    address: str = ""
    postcode: str = ""
    is_subject: bool = True
    relationship: str = ""
    subject_id: int | None = None  # an existing hub subject chosen by search; None: a new one


@dataclass(frozen=True)
class NewContact:
    pathway: Pathway
    source_kind: str
    categories: tuple[str, ...]
    account: str
    people: tuple[PersonDetails, ...]
    source_agency: str | None = None
    source_name: str = ""
    source_contact: str = ""
    received_at: dt.datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


def record_contact(
    session: Session, actor: Actor, contact: NewContact, policy: ReferralPolicy
) -> Referral:
    """Record a new contact, awaiting triage. Every person is linked to a subject."""
    require_hub_member(actor)
    _validate(session, contact)
    received = contact.received_at or utcnow()
    referral = Referral(
        reference=_next_reference(session, policy.reference_prefix, received),
        pathway=contact.pathway,
        status=ReferralStatus.AWAITING_TRIAGE,
        received_at=received,
        source_kind=contact.source_kind,
        source_agency=contact.source_agency if contact.source_kind == "agency" else None,
        source_name=contact.source_name.strip(),
        source_contact=contact.source_contact.strip(),
        categories=list(contact.categories),
        account=contact.account.strip(),
        created_by=actor.username,
    )
    session.add(referral)
    session.flush()
    for person in contact.people:
        session.add(
            ReferralPerson(
                referral_id=referral.id,
                subject_id=_subject_for(session, person),
                is_subject=person.is_subject,
                relationship_=person.relationship.strip(),
                forenames=person.forenames.strip(),
                surname=person.surname.strip(),
                date_of_birth=person.date_of_birth,
                gender=person.gender.strip(),
                address=person.address.strip(),
                postcode=person.postcode.strip().upper(),
            )
        )
    session.flush()
    from node.cumulative_harm.flags import INTAKE, evaluate_people  # it reads the referrals

    evaluate_people(
        session,
        actor,
        policy.harm_rules,
        {p.subject_id for p in referral.people if p.subject_id is not None},
        INTAKE,
    )
    subjects = sum(1 for p in contact.people if p.is_subject)
    record_event(
        session,
        actor,
        referral,
        "contact",
        f"Contact recorded ({contact.pathway.value} pathway): {subjects} subject(s), "
        f"{len(contact.people) - subjects} household member(s)",
        audit_detail={"categories": list(contact.categories), "people": len(contact.people)},
    )
    return referral


def _validate(session: Session, contact: NewContact) -> None:
    require_text(contact.account, "account", "describe the concern")
    if contact.source_kind not in SOURCE_KINDS:
        raise ReferralError(f"must be one of {', '.join(SOURCE_KINDS)}", field="source_kind")
    if contact.source_kind == "agency":
        agency = session.get(Agency, contact.source_agency or "")
        if agency is None:
            raise ReferralError("choose the agency that sent the contact", field="source_agency")
    if not contact.categories:
        raise ReferralError("choose at least one concern category", field="categories")
    unknown = [c for c in contact.categories if c not in CONCERN_CATEGORIES]
    if unknown:
        raise ReferralError(f"unknown category {unknown[0]!r}", field="categories")
    subjects = [p for p in contact.people if p.is_subject]
    if not subjects:
        raise ReferralError("name at least one subject of the concern", field="people")
    today = dt.date.today()
    for index, person in enumerate(contact.people):
        where = f"people[{index}]"
        require_text(
            person.surname, f"{where}.surname", "enter the surname (or 'Unknown')", limit=200
        )
        born = person.date_of_birth
        if born is not None and born > today:
            raise ReferralError("must not be in the future", field=f"{where}.date_of_birth")
        if person.is_subject and born is not None:
            adult = _age(born, today) >= ADULT_AGE
            if contact.pathway is Pathway.CHILD and adult:
                raise ReferralError(
                    "a subject of a child referral is under 18; "
                    "use the adult pathway for a vulnerable adult",
                    field=f"{where}.date_of_birth",
                )
            if contact.pathway is Pathway.ADULT and not adult:
                raise ReferralError(
                    "the subject of an adult referral is 18 or over; use the child pathway",
                    field=f"{where}.date_of_birth",
                )


def _age(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _subject_for(session: Session, person: PersonDetails) -> int:
    if person.subject_id is not None:
        try:
            return live_subject(session, person.subject_id).id
        except SubjectError as exc:
            raise ReferralError(exc.message, field="subject", code=exc.code) from None
    subject = Subject()
    session.add(subject)
    session.flush()
    return subject.id


def _next_reference(session: Session, prefix: str, received: dt.datetime) -> str:
    """PREFIX-YYYY-NNNNN, numbered within the year (the write lock keeps numbers unique)."""
    stem = f"{prefix}-{received.year}-"
    latest = session.scalar(
        select(func.max(Referral.reference)).where(Referral.reference.like(f"{stem}%"))
    )
    number = int(latest.rsplit("-", 1)[1]) + 1 if latest else 1
    return f"{stem}{number:05d}"
