"""Recording a contact from the form: finding each person's existing records, then the contact.

The flow, which works without JavaScript:

1. The user fills in the contact and its people (the subject, and up to three more people, each
   a household member or another subject; empty rows are ignored) and presses "Find existing
   records".
2. For each person, the hub's subjects are searched by surname and date of birth (by surname and
   first names when no date is known), audited with the intake purpose. The form comes back with
   each person's matches as radios: a subject found (which agencies hold records on it, and the
   user's own agency's matching records in full, for a professional), or "New person".
3. The user chooses, and presses "Record contact". The searches run again, so a choice is only
   accepted if it still matches the person's details as sent; then `record_contact` links each
   person to the chosen subject or a new one. Its refusals go on the field they name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from node.access import Actor
from node.errors import DomainError
from node.referrals.intake import NewContact, PersonDetails
from node.search import SearchError, SearchQuery, SubjectView, search
from node.store.models import Pathway
from node.web.referrals.display import hub_date
from node.web.referrals.forms import NEW_PERSON, ContactForm, PersonForm, options
from node.web.refusals import show_refusal

PURPOSE = "Recording a new contact: finding existing records of the people named"


@dataclass(frozen=True)
class Match:
    """A subject found for a person of the contact, as the person choosing sees it."""

    value: str
    label: str
    hint: str


def person_rows(form: ContactForm) -> list[tuple[int, PersonForm]]:
    """The rows that name someone, with their row number on the form."""
    rows = [(index, entry.form) for index, entry in enumerate(form.people.entries)]
    return [(index, person) for index, person in rows if not person.is_blank()]


def find_matches(
    db: Session, actor: Actor, form: ContactForm, agencies: Mapping[str, str]
) -> dict[int, list[Match]]:
    """Search the hub for each person named (their rows must be valid); a refusal of the search
    goes on the person's field."""
    found: dict[int, list[Match]] = {}
    for index, person in person_rows(form):
        if person.errors:
            continue  # its details must be put right first
        born = person.date_of_birth.data
        query = SearchQuery(
            surname=person.surname.data or "",
            date_of_birth=born.isoformat() if born else "",
            forenames="" if born else person.forenames.data or "",
        )
        try:
            results = search(db, actor, query, PURPOSE)
        except SearchError as exc:
            show_refusal(person, exc)
            continue
        found[index] = [_match(subject, agencies) for subject in results.subjects]
        person.match.choices = options(
            [(m.value, m.label) for m in found[index]] + [(NEW_PERSON, "New person")]
        )
    return found


def match_radios(form: ContactForm, found: Mapping[int, list[Match]]) -> dict[int, dict[str, Any]]:
    """For each person searched, the parameters of the GOV.UK radios choosing their record."""
    radios: dict[int, dict[str, Any]] = {}
    for index, person in person_rows(form):
        if index not in found:
            continue
        matches = found[index]
        chosen = person.match.data
        items: list[dict[str, Any]] = [
            {
                "value": m.value,
                "text": m.label,
                "hint": {"text": m.hint},
                "checked": chosen == m.value,
            }
            for m in matches
        ]
        if matches:
            items.append({"divider": "or"})
        items.append(
            {
                "value": NEW_PERSON,
                "text": "New person",
                "hint": {"text": "Not one of these: the hub starts a new record for them"},
                "checked": chosen == NEW_PERSON or not matches,
            }
        )
        name = " ".join(p for p in (person.forenames.data, person.surname.data) if p)
        on = "last name and date of birth" if person.date_of_birth.data else "name"
        radios[index] = {
            "name": person.match.name,
            "idPrefix": person.match.name,
            "fieldset": {
                "legend": {
                    "text": f"Existing records for {name or 'this person'}",
                    "classes": "govuk-fieldset__legend--s",
                }
            },
            "hint": {
                "text": f"Matched on {on}. Choose the record that is this person, if one is."
                if matches
                else "No existing records match this person."
            },
            "errorMessage": {"text": person.match.errors[0]} if person.match.errors else None,
            "items": items,
        }
    return radios


def check_choices(form: ContactForm, found: Mapping[int, list[Match]]) -> bool:
    """Whether every person named has a choice among their current matches (else say so); a
    person with no matches is a new person."""
    ok = True
    for index, person in person_rows(form):
        if index not in found:
            ok = False  # the search itself was refused: its message is on the row
            continue
        offered = {match.value for match in found[index]} | {NEW_PERSON}
        if not found[index] and not person.match.data:
            person.match.data = NEW_PERSON  # nothing found: the only choice is a new person
        chosen = person.match.data
        if chosen not in offered:
            person.match.errors = [
                *person.match.errors,
                "Choose one of the records found, or 'New person'"
                if not chosen
                else "The details changed since the search: choose again from the records found",
            ]
            ok = False
    return ok


def new_contact(form: ContactForm) -> tuple[NewContact, list[int]]:
    """The contact as the service takes it, and the form rows its people came from."""
    rows = person_rows(form)
    people = tuple(
        PersonDetails(
            surname=person.surname.data or "",
            forenames=person.forenames.data or "",
            date_of_birth=person.date_of_birth.data,
            gender=person.gender.data or "",
            address=person.address.data or "",
            postcode=person.postcode.data or "",
            is_subject=index == 0 or person.role.data == "subject",
            relationship="" if index == 0 else person.relationship.data or "",
            subject_id=None if person.match.data in (None, NEW_PERSON) else int(person.match.data),
        )
        for index, person in rows
    )
    contact = NewContact(
        pathway=Pathway(form.pathway.data),
        source_kind=form.source_kind.data or "",
        source_agency=form.source_agency.data or None,
        source_name=form.source_name.data or "",
        source_contact=form.source_contact.data or "",
        categories=tuple(form.categories.data or ()),
        account=form.account.data or "",
        people=people,
    )
    return contact, [index for index, _ in rows]


def show_contact_refusal(form: ContactForm, error: DomainError, rows: list[int]) -> None:
    """Put `record_contact`'s refusal on its field (`people[1]` is the second row sent)."""
    show_refusal(form, error, rows={"people": rows})


def require_subject(form: ContactForm) -> bool:
    """The first row is the subject of the concern: it must name someone."""
    first = form.people.entries[0].form
    if first.is_blank():
        first.surname.errors = [
            *first.surname.errors,
            "Enter the subject's last name, or 'Unknown'",
        ]
        return False
    return True


def _match(subject: SubjectView, agencies: Mapping[str, str]) -> Match:
    held = ", ".join(
        f"{agencies.get(code, code)} ({count} record{'s' if count != 1 else ''})"
        for code, count in subject.holdings.items()
    )
    own = "; ".join(
        " ".join(
            part
            for part in (
                f"{record.agency_record_id}:",
                f"{record.forenames} {record.surname}".strip(),
                f"born {hub_date(record.date_of_birth)}" if record.date_of_birth else "",
                record.postcode,
            )
            if part
        )
        for record in subject.own_records
    )
    hint = f"Held by {held}." + (f" Your agency's records: {own}." if own else "")
    return Match(str(subject.subject_id), f"Hub subject {subject.subject_id}", hint)
