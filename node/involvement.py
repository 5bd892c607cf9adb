"""Who else is involved: the open involvement agencies' extracts carry on their person records
(`open_case`, `worker`, `team`, `since`), for the people of a referral or a subject's household.

The fact of involvement (agency, allocated worker, team, since when, the agency's contact route)
is seen by the hub members working the referral, so the hub sees duplication and gaps in what is
being done for a family; the record behind it (its reference) only by its own agency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.access import Actor, own_agency, require_hub_member
from node.store.models import Agency, PersonRecord, ReferralPerson
from node.subjects import live_subject

COLUMNS = ("open_case", "worker", "team", "since")  # the optional columns of a persons extract
YES, NO = "yes", "no"


@dataclass(frozen=True)
class Person:
    subject_id: int
    name: str  # as the viewer may see it
    household: bool  # False: a subject of concern


@dataclass(frozen=True)
class Involvement:
    person: str
    household: bool
    agency: str  # the agency's name
    contact_route: str
    worker: str
    team: str
    since: dt.date | None
    record: str | None  # the agency's record reference: for its own professionals only


def involvement(
    session: Session, actor: Actor, people: Sequence[Person]
) -> tuple[Involvement, ...]:
    """Each agency's open involvement with each person, subjects of concern first."""
    require_hub_member(actor)
    by_subject: dict[int, list[Person]] = {}
    for person in people:
        by_subject.setdefault(live_subject(session, person.subject_id).id, []).append(person)
    if not by_subject:
        return ()
    agencies = {
        code: (name, route)
        for code, name, route in session.execute(
            select(Agency.code, Agency.name, Agency.contact_route)
        )
    }
    mine = own_agency(actor)
    found = []
    for subject_id, code, reference, extra in session.execute(
        select(
            PersonRecord.subject_id,
            PersonRecord.agency_code,
            PersonRecord.agency_record_id,
            PersonRecord.extra,
        )
        .where(PersonRecord.subject_id.in_(by_subject))
        .order_by(PersonRecord.agency_code, PersonRecord.id)
    ):
        extra = extra or {}
        open_case = extra.get("open_case")
        if open_case == NO or not (open_case == YES or extra.get("worker") or extra.get("team")):
            continue
        since = extra.get("since")
        name, route = agencies.get(code, (code, ""))
        for person in by_subject[subject_id]:
            found.append(
                Involvement(
                    person.name,
                    person.household,
                    name,
                    route,
                    extra.get("worker", ""),
                    extra.get("team", ""),
                    dt.date.fromisoformat(since) if since else None,
                    reference if code == mine else None,
                )
            )
    return tuple(sorted(found, key=lambda i: (i.household, i.person, i.agency)))


def household_of(session: Session, subject_id: int, *, names: bool) -> list[Person]:
    """The subject and everyone named with them in a contact (their names only if `names`:
    a contact's people are the secure room's to see)."""
    named = select(ReferralPerson.referral_id).where(ReferralPerson.subject_id == subject_id)
    people = [Person(subject_id, "This person", False)]
    seen = {subject_id}
    for other, forenames, surname in session.execute(
        select(ReferralPerson.subject_id, ReferralPerson.forenames, ReferralPerson.surname)
        .where(ReferralPerson.referral_id.in_(named), ReferralPerson.subject_id.is_not(None))
        .order_by(ReferralPerson.id)
    ):
        if other in seen:
            continue
        seen.add(other)
        label = f"{forenames} {surname}".strip() if names else "A member of the household"
        people.append(Person(other, label, True))
    return people
