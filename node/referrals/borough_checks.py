"""Checking other boroughs for the subjects of a referral (DESIGN section 6): which match keys to
ask with, and what each borough answered, kept on the referral and its timeline.

A subject is asked about with the keys of the details in the contact and of every agency record
linked to their hub subject, so the check finds what the hub's own linking would. The network
round happens between the two transactions here (`people_to_check`, then `record_answers`), so
no store lock is held while peers answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor, require_borough_check
from node.federation.asking import HOLDS, NOT_ANSWERED, NOTHING, Asker, BoroughAnswer, Why
from node.matching.key_classes import label as key_label
from node.matching.keys import Identity, MatchKey, derive_keys
from node.matching.normalise import DateError
from node.referrals.common import ReferralError, open_referral, record_event
from node.store.models import BoroughCheck, PersonRecord, Referral, ReferralPerson
from node.subjects import live_subject

MAX_KEYS = 48  # a subject's keys asked about at once (a person has at most a dozen, their
# records' variants a few dozen more)


@dataclass(frozen=True)
class PersonToCheck:
    person_id: int
    name: str
    keys: tuple[MatchKey, ...]


def identity_keys(identities: Sequence[Identity], limit: int = MAX_KEYS) -> tuple[MatchKey, ...]:
    """The distinct match keys of some identities of one person, strongest first."""
    found: dict[bytes, MatchKey] = {}
    for identity in identities:
        for key in derive_keys(identity):
            found.setdefault(key.value, key)
    ordered = sorted(found.values(), key=lambda key: -key.strength.rank)
    return tuple(ordered[:limit])


def check_other_boroughs(
    transaction: Callable[[], AbstractContextManager[Session]],
    asker: Asker,
    actor: Actor,
    referral_id: int,
    pseudonym: str,
) -> list[tuple[PersonToCheck, list[BoroughAnswer]]]:
    """ "Check other boroughs" for a referral: its subjects' keys read in one `transaction`, every
    peer asked with no store lock held, the answers recorded in another; returns them.
    `pseudonym` is the actor's, as the peers are told it."""
    with transaction() as session:
        people = people_to_check(session, actor, referral_id)
        referral = session.get_one(Referral, referral_id)
        why = Why(
            referral.reference,
            f"MASH {referral.pathway.value} referral {referral.reference}",
            pseudonym,
        )
    answers = [(person, asker.check(person.keys, why)) for person in people]
    with transaction() as session:
        record_answers(session, actor, referral_id, answers)
    return answers


def people_to_check(session: Session, actor: Actor, referral_id: int) -> list[PersonToCheck]:
    """The referral's subjects with the keys to ask about them with (the MASH manager's step)."""
    require_borough_check(actor)
    referral = open_referral(session, actor, referral_id)
    people = []
    for person in referral.people:
        if not person.is_subject:
            continue
        identities = [_identity(person)]
        if person.subject_id is not None:
            subject = live_subject(session, person.subject_id)
            for record in session.scalars(
                select(PersonRecord).where(PersonRecord.subject_id == subject.id)
            ):
                identities.append(
                    Identity.from_fields(
                        record.forenames,
                        record.surname,
                        record.date_of_birth,
                        record.postcode,
                        record.nhs_number,
                        record.aliases,
                    )
                )
        name = f"{person.forenames} {person.surname}".strip() or "the subject"
        people.append(PersonToCheck(person.id, name, identity_keys(identities)))
    return people


def record_answers(
    session: Session,
    actor: Actor,
    referral_id: int,
    answers: Sequence[tuple[PersonToCheck, Sequence[BoroughAnswer]]],
) -> None:
    """Keep what each borough answered about each subject, as one step of the timeline."""
    require_borough_check(actor)
    referral = open_referral(session, actor, referral_id)
    lines = []
    counts = {HOLDS: 0, NOTHING: 0, NOT_ANSWERED: 0, "refused": 0}
    for person, person_answers in answers:
        for answer in person_answers:
            counts[answer.outcome] = counts.get(answer.outcome, 0) + 1
            session.add(
                BoroughCheck(
                    referral_id=referral.id,
                    referral_person_id=person.person_id,
                    borough=answer.borough,
                    borough_name=answer.name,
                    outcome=answer.outcome,
                    key_class=answer.key_class,
                    strength=answer.strength,
                    detail=answer.detail[:500],
                    checked_by=actor.username,
                )
            )
        said = "; ".join(in_words(answer) for answer in person_answers)
        lines.append(f"{person.name}: {said or 'no boroughs to ask'}")
    record_event(
        session,
        actor,
        referral,
        "borough-check",
        "Checked other boroughs. " + " ".join(lines),
        audit_detail={"people": len(answers), **counts},
    )


def in_words(answer: BoroughAnswer) -> str:
    """ "Hackney holds information (matched on a certain key: NHS number and date of birth)"."""
    if answer.outcome == HOLDS:
        label = key_label(answer.key_class)
        if answer.strength == "probable":
            return f"{answer.name} may hold information (matched only on a weaker key: {label})"
        return f"{answer.name} holds information (matched on a {answer.strength} key: {label})"
    if answer.outcome == NOTHING:
        return f"{answer.name} holds nothing"
    if answer.outcome == NOT_ANSWERED:
        return f"{answer.name} did not answer ({answer.detail})"
    return f"{answer.name} refused ({answer.detail})"


def record_enquiry(
    session: Session,
    actor: Actor,
    purpose: str,
    criteria: Sequence[dict[str, str]],
    answers: Sequence[Sequence[BoroughAnswer]],
) -> None:
    """Audit a check made outside a referral (`mash-node check`): who asked about whom, why,
    and what came back, in this node's own log (the boroughs asked log the asking only)."""
    require_borough_check(actor)
    if not purpose.strip():
        raise ReferralError(
            "give the referral reference or the reason for the check", field="purpose"
        )
    counts: dict[str, int] = {}
    for person_answers in answers:
        for answer in person_answers:
            counts[answer.outcome] = counts.get(answer.outcome, 0) + 1
    audit.record(
        session,
        actor,
        "federation.check-asked",
        purpose=purpose[:500],
        detail={"people": len(criteria), "criteria": list(criteria)[:20], **counts},
    )


def latest_checks(session: Session, referral_id: int) -> list[BoroughCheck]:
    """The answers of the latest check of each subject with each borough (not personal data
    beyond what the referral page shows; read within its audited view)."""
    rows = session.scalars(
        select(BoroughCheck)
        .where(BoroughCheck.referral_id == referral_id)
        .order_by(BoroughCheck.checked_at.desc(), BoroughCheck.id.desc())
    )
    latest: dict[tuple[int | None, str], BoroughCheck] = {}
    for row in rows:
        latest.setdefault((row.referral_person_id, row.borough), row)
    return sorted(latest.values(), key=lambda row: (row.referral_person_id or 0, row.borough_name))


def _identity(person: ReferralPerson) -> Identity:
    try:
        return Identity.from_fields(
            person.forenames, person.surname, person.date_of_birth, person.postcode, None
        )
    except DateError:
        return Identity.from_fields(person.forenames, person.surname, None, person.postcode, None)
