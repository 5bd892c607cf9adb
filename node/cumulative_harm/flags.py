"""Raising, clearing, showing and dismissing cumulative-harm flags, from the store's history.

Rules are evaluated for everyone named in a contact within the longest rule's window: on intake
(the contact's people and their household), on import and nightly (everyone). A flag stays open
while its rule fires; it clears when the rule stops firing; a dismissed flag stays dismissed
until an event it did not hold raises the rule again. Raising, clearing, viewing and dismissing
are audited. A flag is advice for the MASH manager, never a decision.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor, own_agency, require_harm_flags
from node.cumulative_harm.evaluate import CONTACT, ITEM, Event, History, evaluate
from node.cumulative_harm.rules import Kind, RuleSet
from node.errors import DomainError, ErrorCode
from node.referrals.common import require_version
from node.store.models import (
    Agency,
    HarmFlag,
    HarmFlagState,
    InformationItem,
    PersonRecord,
    Referral,
    ReferralPerson,
    ReferralStatus,
    Subject,
    utcnow,
)

INTAKE, IMPORT, NIGHTLY = "intake", "import", "nightly"


class FlagError(DomainError):
    """A flag step cannot be taken as asked."""


@dataclass(frozen=True)
class Evaluated:
    """What one evaluation did: people evaluated, flags raised, updated, cleared, left open."""

    people: int
    raised: int
    updated: int
    cleared: int
    open: int


# --- evaluating ---------------------------------------------------------------------------------


# What an import can change: agencies' items (and which subject a new record joins), never a
# contact, so after an import only the rules that read items are evaluated.
IMPORT_KINDS = frozenset({Kind.CATEGORIES})


def evaluate_all(
    session: Session,
    actor: Actor,
    rules: RuleSet,
    trigger: str,
    today: dt.date | None = None,
    kinds: frozenset[Kind] | None = None,
) -> Evaluated:
    """Evaluate every rule (or those of `kinds`) for everyone named in a contact within the
    longest window (import, nightly)."""
    return _evaluate(session, actor, rules, trigger, None, today or dt.date.today(), kinds)


def evaluate_people(
    session: Session,
    actor: Actor,
    rules: RuleSet,
    subjects: Iterable[int],
    trigger: str = INTAKE,
    today: dt.date | None = None,
) -> Evaluated:
    """Evaluate every rule for these people and their households (a contact just recorded)."""
    return _evaluate(session, actor, rules, trigger, set(subjects), today or dt.date.today())


def _evaluate(
    session: Session,
    actor: Actor,
    rules: RuleSet,
    trigger: str,
    subjects: set[int] | None,
    today: dt.date,
    kinds: frozenset[Kind] | None = None,
) -> Evaluated:
    kept: frozenset[str] = frozenset()  # rules not evaluated now: their flags stay as they are
    if kinds is not None:
        kept = frozenset(r.key for r in rules.rules if r.kind not in kinds)
        rules = RuleSet(rules.version, tuple(r for r in rules.rules if r.kind in kinds))
    if not rules.rules:
        return Evaluated(0, 0, 0, 0, 0)
    history, people = gather(session, rules, today, subjects)
    found: dict[tuple[int, str], tuple[Event, ...]] = {}
    household_rules = tuple(r for r in rules.rules if r.kind is Kind.HOUSEHOLD)
    for subject in people:
        # Only the household rule reads anything but the person's own contacts and items.
        own = subject in history.contacts or subject in history.items
        for rule in rules.rules if own else household_rules:
            events = evaluate(rule, subject, history, today)
            if events:
                found[(subject, rule.key)] = events
    return _reconcile(session, actor, rules, trigger, people, found, subjects is None, kept)


def gather(
    session: Session, rules: RuleSet, today: dt.date, subjects: set[int] | None = None
) -> tuple[History, set[int]]:
    """The history the rules read, and the people to evaluate: everyone named in a contact
    received within the longest window (or only `subjects` and their households)."""
    longest = max(rule.days for rule in rules.rules)
    since = dt.datetime.combine(today - dt.timedelta(days=longest), dt.time(), tzinfo=dt.UTC)
    merged = _survivors(session)
    people = (
        select(
            ReferralPerson.referral_id,
            ReferralPerson.subject_id,
            ReferralPerson.is_subject,
        )
        .join(Referral, Referral.id == ReferralPerson.referral_id)
        .where(Referral.received_at >= since, ReferralPerson.subject_id.is_not(None))
    )
    evaluated: set[int] | None = None
    if subjects is not None:
        # The people and their households are evaluated; their households' households are read
        # too, so that each evaluated person's household is whole.
        evaluated = _named_with(session, {merged.get(s, s) for s in subjects})
        wanted = _named_with(session, evaluated)
        people = people.where(
            ReferralPerson.referral_id.in_(
                select(ReferralPerson.referral_id).where(ReferralPerson.subject_id.in_(wanted))
            )
        )
    rows = session.execute(people).all()
    referral_ids = {row.referral_id for row in rows}
    contacts = _contacts(session, since, referral_ids if subjects is not None else None)
    by_referral: dict[int, set[int]] = defaultdict(set)
    history_contacts: dict[int, list[Event]] = defaultdict(list)
    for referral_id, subject_id, is_subject in rows:
        subject = merged.get(subject_id, subject_id)
        by_referral[referral_id].add(subject)
        contact = contacts.get(referral_id)
        if is_subject and contact is not None:
            history_contacts[subject].append(
                Event(
                    contact.on,
                    contact.ref,
                    CONTACT,
                    subject,
                    contact.agency,
                    contact.categories,
                    contact.rag,
                )
            )
    household: dict[int, set[int]] = defaultdict(set)
    for named_together in by_referral.values():
        for subject in named_together:
            household[subject] |= named_together - {subject}
    if evaluated is None:
        evaluated = set(household)
    items = _items(session, rules, today, evaluated, merged, subjects is None)
    return (
        History(
            contacts=history_contacts,
            items=items,
            household={s: frozenset(h) for s, h in household.items()},
        ),
        evaluated,
    )


def _named_with(session: Session, subjects: set[int]) -> set[int]:
    """The people, and everyone named in a contact with any of them."""
    named = select(ReferralPerson.referral_id).where(ReferralPerson.subject_id.in_(subjects))
    found = session.scalars(
        select(ReferralPerson.subject_id).where(ReferralPerson.referral_id.in_(named))
    )
    return subjects | {s for s in found if s is not None}


def _survivors(session: Session) -> dict[int, int]:
    """Merged subjects to the subject they now are (merges are few)."""
    links = dict(
        session.execute(
            select(Subject.id, Subject.merged_into_id).where(Subject.merged_into_id.is_not(None))
        ).all()
    )
    final: dict[int, int] = {}
    for start in links:
        current, seen = start, {start}
        while current in links and links[current] not in seen:
            current = links[current]
            seen.add(current)
        final[start] = current
    return final


def _contacts(session: Session, since: dt.datetime, ids: set[int] | None) -> dict[int, Event]:
    statement = select(
        Referral.id,
        Referral.reference,
        Referral.received_at,
        Referral.source_agency,
        Referral.categories,
        Referral.rag,
    ).where(Referral.received_at >= since)
    if ids is not None:
        statement = statement.where(Referral.id.in_(ids))
    return {
        row.id: Event(
            row.received_at.date(),
            row.reference,
            CONTACT,
            0,
            row.source_agency,
            tuple(row.categories or ()),
            row.rag.value if row.rag else None,
        )
        for row in session.execute(statement)
    }


def _items(
    session: Session,
    rules: RuleSet,
    today: dt.date,
    subjects: set[int],
    merged: dict[int, int],
    everyone: bool,
) -> dict[int, list[Event]]:
    """Agencies' items of the categories some rule names, on the people's records: only what a
    rule names is read (the category and date, never an item's content)."""
    wanted = [r for r in rules.rules if r.kind is Kind.CATEGORIES]
    if not wanted or not subjects:
        return {}
    categories = sorted({c.casefold() for r in wanted for c in r.categories})
    since = today - dt.timedelta(days=max(r.days for r in wanted))
    statement = (
        select(
            PersonRecord.subject_id,
            InformationItem.id,
            InformationItem.agency_code,
            InformationItem.occurred_on,
            InformationItem.category,
        )
        .join(PersonRecord, PersonRecord.id == InformationItem.record_id)
        .where(
            InformationItem.occurred_on > since,
            InformationItem.occurred_on <= today,
            func.lower(InformationItem.category).in_(categories),
        )
    )
    if not everyone:
        statement = statement.where(PersonRecord.subject_id.in_(subjects))
    found: dict[int, list[Event]] = defaultdict(list)
    for subject_id, item_id, agency, on, category in session.execute(statement):
        subject = merged.get(subject_id, subject_id)
        if subject in subjects:
            found[subject].append(Event(on, f"item:{item_id}", ITEM, subject, agency, (category,)))
    return found


def _reconcile(
    session: Session,
    actor: Actor,
    rules: RuleSet,
    trigger: str,
    people: set[int],
    found: dict[tuple[int, str], tuple[Event, ...]],
    everyone: bool,
    kept: frozenset[str] = frozenset(),
) -> Evaluated:
    now = utcnow()
    statement = select(HarmFlag).where(HarmFlag.state != HarmFlagState.CLEARED)
    if not everyone:
        statement = statement.where(HarmFlag.subject_id.in_(people))
    open_flags: dict[tuple[int, str], HarmFlag] = {}
    dismissed: dict[tuple[int, str], set[str]] = defaultdict(set)
    for flag in session.scalars(statement):
        key = (flag.subject_id, flag.rule_key)
        if flag.state is HarmFlagState.OPEN:
            open_flags[key] = flag
        else:
            dismissed[key] |= {e["ref"] for e in flag.events}
    raised = updated = cleared = 0
    for (subject, rule_key), events in found.items():
        rule = rules.rule(rule_key)
        assert rule is not None
        stored = [_stored(e) for e in events]
        refs = {e.ref for e in events}
        flag = open_flags.pop((subject, rule_key), None)
        if flag is not None:
            if flag.events != stored or flag.rules_version != rules.version:
                flag.events, flag.rules_version = stored, rules.version
                flag.rule_title, flag.rule_description = rule.title, rule.description
                updated += 1
            flag.evaluated_at = now
            continue
        if refs <= dismissed.get((subject, rule_key), set()):
            continue  # dismissed already, and nothing new since
        flag = HarmFlag(
            subject_id=subject,
            rule_key=rule_key,
            rules_version=rules.version,
            rule_title=rule.title,
            rule_description=rule.description,
            state=HarmFlagState.OPEN,
            events=stored,
            raised_on=trigger,
            raised_at=now,
            evaluated_at=now,
        )
        session.add(flag)
        session.flush()
        raised += 1
        audit.record(
            session,
            actor,
            "harm-flag.raise",
            object_ref=f"harm-flag:{flag.id}",
            detail={
                "subject": subject,
                "rule": rule_key,
                "rules_version": rules.version,
                "events": len(events),
                "on": trigger,
            },
        )
    for (subject, rule_key), flag in open_flags.items():
        if rule_key in kept or (subject not in people and rules.rule(rule_key) is not None):
            continue  # not evaluated this time
        flag.state, flag.cleared_at = HarmFlagState.CLEARED, now
        flag.version += 1
        cleared += 1
        audit.record(
            session,
            actor,
            "harm-flag.clear",
            object_ref=f"harm-flag:{flag.id}",
            detail={"subject": subject, "rule": rule_key, "rules_version": rules.version},
        )
    still_open = session.scalar(
        select(func.count()).select_from(HarmFlag).where(HarmFlag.state == HarmFlagState.OPEN)
    )
    if everyone:
        audit.record(
            session,
            actor,
            "harm-rules.evaluate",
            detail={
                "on": trigger,
                "rules_version": rules.version,
                "people": len(people),
                "raised": raised,
                "cleared": cleared,
            },
        )
    return Evaluated(len(people), raised, updated, cleared, int(still_open or 0))


def _stored(event: Event) -> dict[str, object]:
    return {
        "kind": event.kind,
        "ref": event.ref,
        "on": event.on.isoformat(),
        "agency": event.agency,
        "subject": event.subject_id,
        "categories": list(event.categories),
        "rag": event.rag,
    }


# --- the queue, the flag's page, and its dismissal -------------------------------------------


@dataclass(frozen=True)
class FlagSummary:
    id: int
    title: str


def open_flags_by_referral(
    session: Session, referral_ids: Iterable[int]
) -> dict[int, list[FlagSummary]]:
    """The open flags on anyone named in each referral (for the manager's queue; not audited
    here: the queue's own entry counts them)."""
    ids = list(referral_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(ReferralPerson.referral_id, HarmFlag.id, HarmFlag.rule_title)
        .join(HarmFlag, HarmFlag.subject_id == ReferralPerson.subject_id)
        .where(ReferralPerson.referral_id.in_(ids), HarmFlag.state == HarmFlagState.OPEN)
        .order_by(HarmFlag.id)
    )
    found: dict[int, list[FlagSummary]] = defaultdict(list)
    for referral_id, flag_id, title in rows:
        if all(f.id != flag_id for f in found[referral_id]):
            found[referral_id].append(FlagSummary(flag_id, title))
    return dict(found)


@dataclass(frozen=True)
class EventLine:
    """One event of a flag as the viewer may see it: its agency and date always; a contact's
    reference; an item's category only for its own agency's professionals."""

    on: dt.date
    kind: str
    agency: str  # the agency's name, or how the contact came
    what: str
    referral_id: int | None = None


@dataclass(frozen=True)
class ReferralLine:
    id: int
    reference: str
    open: bool
    person: str  # the person's name as the contact gave it


@dataclass(frozen=True)
class FlagView:
    id: int
    title: str
    description: str
    rules_version: int
    state: HarmFlagState
    raised_on: str
    raised_at: dt.datetime
    events: tuple[EventLine, ...]
    referrals: tuple[ReferralLine, ...]
    dismissed_by: str | None
    dismissed_at: dt.datetime | None
    dismissal_reason: str
    version: int


def view_flag(session: Session, actor: Actor, flag_id: int) -> FlagView:
    """A flag explained: its rule, and each event with its agency and date (audited)."""
    require_harm_flags(actor)
    flag = _flag(session, flag_id)
    names = {code: name for code, name in session.execute(select(Agency.code, Agency.name))}
    references = [e["ref"] for e in flag.events if e["kind"] == CONTACT]
    referral_ids = {
        reference: rid
        for reference, rid in session.execute(
            select(Referral.reference, Referral.id).where(Referral.reference.in_(references))
        )
    }
    mine = own_agency(actor)
    lines = []
    for event in flag.events:
        agency = names.get(event["agency"] or "", event["agency"] or "not an agency")
        if event["kind"] == CONTACT:
            what = f"Contact {event['ref']}" + (
                " (about a household member)" if event["subject"] != flag.subject_id else ""
            )
            lines.append(
                EventLine(
                    dt.date.fromisoformat(event["on"]),
                    CONTACT,
                    agency,
                    what,
                    referral_ids.get(event["ref"]),
                )
            )
        else:
            category = event["categories"][0] if event["agency"] == mine else None
            what = (
                f"A record of “{category}”"
                if category
                else "A record of a category this rule names (seen by its agency only)"
            )
            lines.append(EventLine(dt.date.fromisoformat(event["on"]), ITEM, agency, what))
    people = session.execute(
        select(Referral.id, Referral.reference, Referral.status, ReferralPerson)
        .join(ReferralPerson, ReferralPerson.referral_id == Referral.id)
        .where(ReferralPerson.subject_id == flag.subject_id)
        .order_by(Referral.received_at.desc())
    ).all()
    referrals = tuple(
        ReferralLine(
            rid,
            reference,
            status is not ReferralStatus.DECIDED,
            f"{person.forenames} {person.surname}".strip(),
        )
        for rid, reference, status, person in people
    )
    audit.record(
        session,
        actor,
        "harm-flag.view",
        object_ref=f"harm-flag:{flag.id}",
        detail={"subject": flag.subject_id, "rule": flag.rule_key},
    )
    return FlagView(
        flag.id,
        flag.rule_title,
        flag.rule_description,
        flag.rules_version,
        flag.state,
        flag.raised_on,
        flag.raised_at,
        tuple(sorted(lines, key=lambda line: line.on)),
        referrals,
        flag.dismissed_by,
        flag.dismissed_at,
        flag.dismissal_reason,
        flag.version,
    )


def dismiss_flag(
    session: Session, actor: Actor, flag_id: int, reason: str, seen_version: int | None = None
) -> None:
    """The MASH manager dismisses an open flag, saying why (audited; the flag is kept)."""
    require_harm_flags(actor)
    flag = _flag(session, flag_id)
    require_version(seen_version, flag.version, "The flag", flag.dismissed_by, flag.dismissed_at)
    if flag.state is not HarmFlagState.OPEN:
        raise FlagError(
            f"the flag is {flag.state.value} already", field="reason", code=ErrorCode.CONFLICT
        )
    if not reason.strip():
        raise FlagError("say why the flag is dismissed", field="reason")
    if len(reason) > 2_000:
        raise FlagError("the reason must be 2,000 characters or fewer", field="reason")
    flag.state = HarmFlagState.DISMISSED
    flag.dismissed_by, flag.dismissed_at = actor.username, utcnow()
    flag.dismissal_reason = reason.strip()
    flag.version += 1
    audit.record(
        session,
        actor,
        "harm-flag.dismiss",
        object_ref=f"harm-flag:{flag.id}",
        detail={"subject": flag.subject_id, "rule": flag.rule_key, "reason_chars": len(reason)},
    )


def _flag(session: Session, flag_id: int) -> HarmFlag:
    flag = session.get(HarmFlag, flag_id)
    if flag is None:
        raise FlagError(f"no flag {flag_id}", code=ErrorCode.NOT_FOUND)
    return flag
