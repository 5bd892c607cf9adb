"""Whether a rule fires for a person on a history of events, and which events raised it.

Pure: no store, no clock. A rule reads only what it names (`Rule.kind`, `count`, `days` and, for
the categories kind, `categories`), from events inside its window ending on `today`; the events
returned are every event in the window that the rule counted, so that the flag explains itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from node.cumulative_harm.rules import Kind, Rule

CONTACT, ITEM = "contact", "item"
RAG_ORDER = {"green": 1, "amber": 2, "red": 3}


@dataclass(frozen=True)
class Event:
    """A contact naming a person, or an agency's item on one of the person's records."""

    on: dt.date
    ref: str  # a contact's referral reference, or "item:<id>"
    kind: str  # CONTACT | ITEM
    subject_id: int
    agency: str | None  # the contact's source agency (None: not an agency), or the item's owner
    categories: tuple[str, ...] = ()  # a contact's concern categories, or the item's category
    rag: str | None = None  # a contact's rating, once rated


@dataclass(frozen=True)
class History:
    """What the rules may read: contacts naming each person as a subject of concern, agencies'
    items on each person's records, and each person's household (others named with them)."""

    contacts: Mapping[int, Sequence[Event]] = field(default_factory=dict)
    items: Mapping[int, Sequence[Event]] = field(default_factory=dict)
    household: Mapping[int, frozenset[int]] = field(default_factory=dict)


def evaluate(rule: Rule, subject: int, history: History, today: dt.date) -> tuple[Event, ...]:
    """The events that raise `rule` for `subject` on `today`, oldest first; empty: not raised."""
    since = today - dt.timedelta(days=rule.days)

    def within(events: Sequence[Event]) -> list[Event]:
        return sorted((e for e in events if since < e.on <= today), key=_when)

    if rule.kind is Kind.AGENCIES:
        found = [e for e in within(history.contacts.get(subject, ())) if e.agency]
        return tuple(found) if len({e.agency for e in found}) >= rule.count else ()
    if rule.kind is Kind.REPEAT:
        found = within(history.contacts.get(subject, ()))
        return tuple(found) if len({e.ref for e in found}) >= rule.count else ()
    if rule.kind is Kind.ESCALATING:
        return _rising_run(within(history.contacts.get(subject, ())), rule.count)
    if rule.kind is Kind.HOUSEHOLD:
        return _household(rule, subject, history, within)
    return _categories(rule, within(history.items.get(subject, ())))


def _when(event: Event) -> tuple[dt.date, str]:
    """Events in the order they happened (a contact's references rise through a day)."""
    return event.on, event.ref


def _rising_run(contacts: list[Event], count: int) -> tuple[Event, ...]:
    """The latest run of rated contacts, each rated higher than the one before, if long enough."""
    rated = [e for e in contacts if e.rag in RAG_ORDER]
    best: list[Event] = []
    run: list[Event] = []
    for event in rated:
        if run and RAG_ORDER[event.rag or ""] > RAG_ORDER[run[-1].rag or ""]:
            run.append(event)
        else:
            run = [event]
        if len(run) >= count and len(run) >= len(best):
            best = list(run)
    return tuple(best)


def _household(
    rule: Rule,
    subject: int,
    history: History,
    within: Callable[[Sequence[Event]], list[Event]],
) -> tuple[Event, ...]:
    """Contacts about others of the household that do not name the person as a subject."""
    own = {e.ref for e in within(history.contacts.get(subject, ()))}
    found: dict[str, Event] = {}
    for member in sorted(history.household.get(subject, frozenset()) - {subject}):
        for event in within(history.contacts.get(member, ())):
            if event.ref not in own:
                found.setdefault(event.ref, event)
    return tuple(sorted(found.values(), key=_when)) if len(found) >= rule.count else ()


def _categories(rule: Rule, items: list[Event]) -> tuple[Event, ...]:
    """Items of the named categories: every category seen, from `count` agencies or more."""
    named = {c.casefold() for c in rule.categories}
    found = [e for e in items if e.categories and e.categories[0].casefold() in named]
    seen = {e.categories[0].casefold() for e in found}
    agencies = {e.agency for e in found}
    return tuple(found) if seen == named and len(agencies) >= rule.count else ()
