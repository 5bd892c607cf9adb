"""Cumulative-harm rules: they fire and do not fire on constructed histories, read only what they
name, clear when one event below the threshold goes, and their flags are raised on intake,
explained without another agency's content, dismissed with a reason and audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from node.access import AccessDenied
from node.config import ConfigError, load_config, render_config
from node.cumulative_harm.evaluate import CONTACT, ITEM, Event, History, evaluate
from node.cumulative_harm.flags import (
    IMPORT_KINDS,
    NIGHTLY,
    FlagError,
    dismiss_flag,
    evaluate_all,
    view_flag,
)
from node.cumulative_harm.rules import DEFAULT_RULES, Kind, Rule, RuleSet
from node.importing.service import import_files
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.referrals.triage import queue
from node.store.models import AuditEntry, HarmFlag, HarmFlagState, Pathway
from tests.helpers import ADMIN, MANAGER, TYRONE, make_hub, professional, write_csv

TODAY = dt.date(2026, 12, 6)
AGENCIES = ("police", "health", "education", "housing", "probation", "yot")
RULES = {
    Kind.AGENCIES: Rule("three-agencies", Kind.AGENCIES, 3, 42, "Three agencies"),
    Kind.REPEAT: Rule("repeat", Kind.REPEAT, 3, 365, "Repeat contacts"),
    Kind.ESCALATING: Rule("rising", Kind.ESCALATING, 3, 90, "Rising RAG"),
    Kind.HOUSEHOLD: Rule("household", Kind.HOUSEHOLD, 2, 90, "Household"),
    Kind.CATEGORIES: Rule(
        "missing-and-ae",
        Kind.CATEGORIES,
        2,
        90,
        "Missing and A&E",
        ("Missing person", "Emergency attendance"),
    ),
}
CHILD, SIBLING, STRANGER = 1, 2, 3


def contact(ref: str, days_ago: int, agency: str | None, subject: int = CHILD, rag=None) -> Event:
    on = TODAY - dt.timedelta(days=days_ago)
    return Event(on, ref, CONTACT, subject, agency, ("neglect",), rag)


def item(ref: str, days_ago: int, agency: str, category: str, subject: int = CHILD) -> Event:
    return Event(TODAY - dt.timedelta(days=days_ago), ref, ITEM, subject, agency, (category,))


def history(contacts=(), items=(), household=None) -> History:
    by_subject: dict[int, list[Event]] = {}
    for event in contacts:
        by_subject.setdefault(event.subject_id, []).append(event)
    held: dict[int, list[Event]] = {}
    for event in items:
        held.setdefault(event.subject_id, []).append(event)
    return History(by_subject, held, household or {})


# --- each kind fires, and does not, on constructed histories -------------------------------------


def test_three_agencies_within_six_weeks_fire_and_two_or_a_late_third_do_not() -> None:
    rule = RULES[Kind.AGENCIES]
    three = [contact("A", 40, "police"), contact("B", 20, "health"), contact("C", 1, "education")]
    assert evaluate(rule, CHILD, history(three), TODAY) == tuple(sorted(three, key=lambda e: e.on))
    assert evaluate(rule, CHILD, history(three[:2]), TODAY) == ()
    late = [*three[:2], contact("C", 43, "education")]  # outside the six weeks
    assert evaluate(rule, CHILD, history(late), TODAY) == ()
    same = [*three[:2], contact("C", 1, "health")]  # two agencies, three contacts
    assert evaluate(rule, CHILD, history(same), TODAY) == ()
    public = [*three[:2], contact("C", 1, None)]  # a member of the public is not an agency
    assert evaluate(rule, CHILD, history(public), TODAY) == ()


def test_repeat_contacts_within_a_year() -> None:
    rule = RULES[Kind.REPEAT]
    three = [contact("A", 300, None), contact("B", 100, "police"), contact("C", 2, None)]
    assert len(evaluate(rule, CHILD, history(three), TODAY)) == 3
    assert evaluate(rule, CHILD, history([*three[1:], contact("A", 366, None)]), TODAY) == ()


def test_escalating_rag_needs_each_contact_rated_higher_than_the_one_before() -> None:
    rule = RULES[Kind.ESCALATING]
    rising = [
        contact("A", 60, None, rag="green"),
        contact("B", 30, None, rag="amber"),
        contact("C", 5, None, rag="red"),
    ]
    assert evaluate(rule, CHILD, history(rising), TODAY) == tuple(rising)
    falling = [replace(rising[0], rag="red"), rising[1], replace(rising[2], rag="green")]
    assert evaluate(rule, CHILD, history(falling), TODAY) == ()
    broken = [rising[0], replace(rising[1], rag="green"), rising[2]]
    assert evaluate(rule, CHILD, history(broken), TODAY) == ()


def test_household_counts_contacts_about_others_not_naming_the_person() -> None:
    rule = RULES[Kind.HOUSEHOLD]
    about_sibling = [contact("A", 10, "police", SIBLING), contact("B", 5, None, SIBLING)]
    household = {CHILD: frozenset({SIBLING}), SIBLING: frozenset({CHILD})}
    found = evaluate(rule, CHILD, history(about_sibling, household=household), TODAY)
    assert {e.ref for e in found} == {"A", "B"}
    # The same contacts naming the child as well are the child's own, not the household's.
    own = [*about_sibling, contact("B", 5, None, CHILD)]
    assert evaluate(rule, CHILD, history(own, household=household), TODAY) == ()
    # A stranger's contacts are nobody's household.
    strangers = [contact("A", 10, "police", STRANGER), contact("B", 5, None, STRANGER)]
    assert evaluate(rule, CHILD, history(strangers, household=household), TODAY) == ()


def test_categories_need_every_named_category_from_enough_agencies() -> None:
    rule = RULES[Kind.CATEGORIES]
    both = [
        item("i1", 30, "police", "Missing person"),
        item("i2", 3, "health", "emergency attendance"),
    ]
    assert len(evaluate(rule, CHILD, history(items=both), TODAY)) == 2
    one_agency = [both[0], item("i2", 3, "police", "Emergency attendance")]
    assert evaluate(rule, CHILD, history(items=one_agency), TODAY) == ()
    one_category = [both[0], item("i2", 3, "health", "Missing person")]
    assert evaluate(rule, CHILD, history(items=one_category), TODAY) == ()


# --- properties ----------------------------------------------------------------------------------

days_ago = st.integers(min_value=-30, max_value=800)
agencies = st.one_of(st.none(), st.sampled_from(AGENCIES))
rags = st.one_of(st.none(), st.sampled_from(("green", "amber", "red")))
categories = st.sampled_from(
    ("Missing person", "Emergency attendance", "Domestic incident", "Dental", "missing PERSON")
)


@st.composite
def events(draw, subject: int) -> Event:
    ref = f"R{draw(st.integers(0, 40))}"
    if draw(st.booleans()):
        return contact(ref, draw(days_ago), draw(agencies), subject, draw(rags))
    return item(
        f"item:{ref}", draw(days_ago), draw(st.sampled_from(AGENCIES)), draw(categories), subject
    )


@st.composite
def histories(draw) -> History:
    drawn = draw(st.lists(st.one_of(events(CHILD), events(SIBLING), events(STRANGER)), max_size=25))
    household = {CHILD: frozenset({SIBLING}), SIBLING: frozenset({CHILD})}
    return history(
        [e for e in drawn if e.kind == CONTACT], [e for e in drawn if e.kind == ITEM], household
    )


def unnamed(rule: Rule, base: History, noise: list[Event]) -> History:
    """`base` with events added that this rule does not name: items for the rules on contacts,
    contacts and items of other categories for the categories rule, anything outside the window,
    and anything about a stranger outside the household."""
    outside = [
        replace(e, on=TODAY - dt.timedelta(days=rule.days + 1 + i)) for i, e in enumerate(noise)
    ]
    extra = [replace(e, subject_id=STRANGER) for e in noise] + outside
    if rule.kind is Kind.CATEGORIES:
        named = {c.casefold() for c in rule.categories}
        extra += [
            replace(e, categories=("Dental",)) if e.kind == ITEM else e
            for e in noise
            if e.kind == CONTACT or e.categories[0].casefold() not in named
        ]
        extra += [replace(e, kind=CONTACT, ref=f"X{e.ref}") for e in noise if e.kind == ITEM]
    else:
        extra += [e for e in noise if e.kind == ITEM]
    contacts = {s: list(v) for s, v in base.contacts.items()}
    items = {s: list(v) for s, v in base.items.items()}
    for event in extra:
        (contacts if event.kind == CONTACT else items).setdefault(event.subject_id, []).append(
            event
        )
    return History(contacts, items, base.household)


@settings(max_examples=300, deadline=None, database=None)
@given(
    kind=st.sampled_from(list(Kind)),
    base=histories(),
    noise=st.lists(st.one_of(events(CHILD), events(SIBLING)), max_size=12),
)
def test_a_flag_never_depends_on_data_the_rule_does_not_name(kind, base, noise) -> None:
    rule = RULES[kind]
    assert evaluate(rule, CHILD, unnamed(rule, base, noise), TODAY) == evaluate(
        rule, CHILD, base, TODAY
    )


@st.composite
def just_enough(draw) -> tuple[Rule, History]:
    """A history on which a rule fires with exactly the events its threshold needs."""
    kind = draw(st.sampled_from(list(Kind)))
    rule = RULES[kind]
    ages = sorted(
        draw(
            st.lists(
                st.integers(0, rule.days - 1), min_size=rule.count, max_size=rule.count, unique=True
            )
        ),
        reverse=True,
    )
    chosen = draw(st.permutations(AGENCIES))
    if kind is Kind.AGENCIES:
        return rule, history([contact(f"R{i}", a, chosen[i]) for i, a in enumerate(ages)])
    if kind is Kind.REPEAT:
        return rule, history([contact(f"R{i}", a, draw(agencies)) for i, a in enumerate(ages)])
    if kind is Kind.ESCALATING:
        levels = ("green", "amber", "red")
        return rule, history([contact(f"R{i}", a, None, rag=levels[i]) for i, a in enumerate(ages)])
    if kind is Kind.HOUSEHOLD:
        household = {CHILD: frozenset({SIBLING})}
        return rule, history(
            [contact(f"R{i}", a, None, SIBLING) for i, a in enumerate(ages)], household=household
        )
    named = list(rule.categories)
    return rule, history(
        items=[item(f"i{i}", a, chosen[i], named[i % len(named)]) for i, a in enumerate(ages)]
    )


@settings(max_examples=300, deadline=None, database=None)
@given(case=just_enough(), data=st.data())
def test_removing_any_one_event_of_a_flag_just_at_its_threshold_clears_it(case, data) -> None:
    rule, full = case
    raised = evaluate(rule, CHILD, full, TODAY)
    assert len(raised) == rule.count
    gone = data.draw(st.sampled_from(raised))
    less = History(
        {s: [e for e in v if e != gone] for s, v in full.contacts.items()},
        {s: [e for e in v if e != gone] for s, v in full.items.items()},
        full.household,
    )
    assert evaluate(rule, CHILD, less, TODAY) == ()


# --- configuration --------------------------------------------------------------------------------


def _config(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "node.toml"
    path.write_text(render_config("hackney", "Hackney", ["police"]) + extra, encoding="utf-8")
    return path


def test_rules_come_from_the_config_with_their_version(tmp_path: Path) -> None:
    assert load_config(_config(tmp_path, "")).referrals.harm_rules == DEFAULT_RULES
    rules = load_config(
        _config(
            tmp_path,
            "\n[referrals.cumulative_harm]\nversion = 4\n"
            '[[referrals.cumulative_harm.rules]]\nkey = "two-agencies"\nkind = "agencies"\n'
            'count = 2\ndays = 14\ntitle = "Two agencies in a fortnight"\n',
        )
    ).referrals.harm_rules
    assert rules == RuleSet(
        4, (Rule("two-agencies", Kind.AGENCIES, 2, 14, "Two agencies in a fortnight"),)
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("version = 0\n", "version"),
        (
            'version = 1\n[[referrals.cumulative_harm.rules]]\nkey = "x"\nkind = "vibes"\ncount = 2\ndays = 3\n',
            "kind",
        ),
        (
            'version = 1\n[[referrals.cumulative_harm.rules]]\nkey = "x"\n'
            'kind = "repeat-contacts"\ncount = 1\ndays = 3\n',
            "count",
        ),
        (
            'version = 1\n[[referrals.cumulative_harm.rules]]\nkey = "x"\nkind = "categories"\ncount = 2\ndays = 3\n',
            "categories",
        ),
    ],
)
def test_a_bad_rule_is_refused_naming_its_setting(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        load_config(_config(tmp_path, "\n[referrals.cumulative_harm]\n" + text))


# --- flags in the store ------------------------------------------------------------------------

KID = PersonDetails(surname="Okafor", forenames="Amara", date_of_birth=dt.date(2016, 2, 1))


@pytest.fixture
def policy(tmp_path: Path):
    return load_config(_config(tmp_path, "")).referrals


@pytest.fixture
def hub(session: Session, tmp_path: Path) -> Session:
    make_hub(session)
    return session


def _contact(session: Session, policy, agency: str, days_ago: int, subject_id: int | None = None):
    received = dt.datetime.combine(
        dt.date.today() - dt.timedelta(days=days_ago), dt.time(10), tzinfo=dt.UTC
    )
    return record_contact(
        session,
        MANAGER,
        NewContact(
            pathway=Pathway.CHILD,
            source_kind="agency",
            source_agency=agency,
            categories=("neglect",),
            account="Low-level worry about the child",
            people=(replace(KID, subject_id=subject_id),),
            received_at=received,
        ),
        policy,
    )


def _three_agencies(session: Session, policy):
    first = _contact(session, policy, "police", 30)
    subject = first.people[0].subject_id
    _contact(session, policy, "health", 12, subject)
    third = _contact(session, policy, "education", 2, subject)
    return subject, third


def _flags(session: Session, subject: int) -> list[HarmFlag]:
    return list(
        session.scalars(
            select(HarmFlag).where(
                HarmFlag.subject_id == subject, HarmFlag.rule_key == "three-agencies"
            )
        )
    )


def _actions(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_the_third_agencys_contact_raises_a_flag_on_the_managers_queue(
    hub: Session, policy
) -> None:
    first = _contact(hub, policy, "police", 30)
    subject = first.people[0].subject_id
    _contact(hub, policy, "health", 12, subject)
    assert _flags(hub, subject) == []
    third = _contact(hub, policy, "education", 2, subject)
    (flag,) = _flags(hub, subject)
    assert flag.state is HarmFlagState.OPEN and flag.raised_on == "intake"
    assert [e["agency"] for e in flag.events] == ["police", "health", "education"]
    assert len(_actions(hub, "harm-flag.raise")) >= 1
    entries = {e.referral.id: e for e in queue(hub, MANAGER, policy)}
    shown = {f.id: f.title for f in entries[third.id].harm_flags}
    assert shown[flag.id] == "Three agencies in six weeks"
    assert "Repeat contacts within a year" in shown.values()  # three contacts: this fires too
    # Flags are the manager's: a professional's queue never carries them.
    for entry in queue(hub, professional("education"), policy):
        assert entry.harm_flags == ()


def test_a_flag_explains_each_event_by_agency_and_date_and_is_audited_when_viewed(
    hub: Session, policy, tmp_path: Path
) -> None:
    subject, third = _three_agencies(hub, policy)
    (flag,) = _flags(hub, subject)
    shown = view_flag(hub, MANAGER, flag.id)
    assert [line.agency for line in shown.events] == ["Police", "Health", "Education"]
    assert all(line.referral_id for line in shown.events)
    assert third.reference in {line.what.split()[-1] for line in shown.events}
    assert _actions(hub, "harm-flag.view")[-1].object_ref == f"harm-flag:{flag.id}"
    with pytest.raises(AccessDenied):
        view_flag(hub, professional("police"), flag.id)


def test_an_items_category_is_shown_to_its_agency_only(
    hub: Session, policy, tmp_path: Path
) -> None:
    people = write_csv(tmp_path / "p.csv", [{"record_id": "P1", **TYRONE}])
    recent = (dt.date.today() - dt.timedelta(days=5)).isoformat()
    for agency, category in (("police", "Missing episode"), ("health", "A&E attendance")):
        items = write_csv(
            tmp_path / f"{agency}.csv",
            [
                {
                    "item_ref": f"{agency}-1",
                    "record_id": "P1",
                    "date": recent,
                    "category": category,
                    "summary": f"secret {agency} summary",
                }
            ],
        )
        import_files(hub, ADMIN, agency, [people, items])
    subject = hub.scalar(select(HarmFlag.subject_id).limit(1))
    assert subject is None  # nobody named in a contact yet: the rules look at contacted people
    from node.search import SearchQuery, search

    (found,) = search(hub, MANAGER, SearchQuery(surname="Campbell"), "intake").subjects
    _contact(hub, policy, "education", 1, found.subject_id)
    (flag,) = hub.scalars(select(HarmFlag).where(HarmFlag.rule_key == "missing-and-emergency"))
    to_manager = view_flag(hub, MANAGER, flag.id)
    assert {line.agency for line in to_manager.events} == {"Police", "Health"}
    assert all("seen by its agency only" in line.what for line in to_manager.events)
    assert not any("secret" in line.what for line in to_manager.events)


def test_dismissal_needs_a_reason_is_audited_and_holds_until_a_new_event(
    hub: Session, policy
) -> None:
    subject, _ = _three_agencies(hub, policy)
    (flag,) = _flags(hub, subject)
    with pytest.raises(FlagError, match="say why"):
        dismiss_flag(hub, MANAGER, flag.id, "  ")
    with pytest.raises(AccessDenied):
        dismiss_flag(hub, professional("police"), flag.id, "known")
    dismiss_flag(hub, MANAGER, flag.id, "Known to social care: allocated worker", flag.version)
    assert flag.state is HarmFlagState.DISMISSED and flag.dismissed_by == "manager"
    assert _actions(hub, "harm-flag.dismiss")[-1].object_ref == f"harm-flag:{flag.id}"
    evaluate_all(hub, MANAGER, policy.harm_rules, NIGHTLY)
    assert [f.state for f in _flags(hub, subject)] == [HarmFlagState.DISMISSED]
    _contact(hub, policy, "housing", 1, subject)  # a fourth agency: something new to see
    states = sorted(f.state.value for f in _flags(hub, subject))
    assert states == ["dismissed", "open"]


def test_a_flag_clears_when_its_events_leave_the_window(hub: Session, policy) -> None:
    subject, _ = _three_agencies(hub, policy)
    (flag,) = _flags(hub, subject)
    later = dt.date.today() + dt.timedelta(days=20)  # the police contact is now 50 days old
    done = evaluate_all(hub, MANAGER, policy.harm_rules, NIGHTLY, today=later)
    assert flag.state is HarmFlagState.CLEARED and done.cleared >= 1
    assert _actions(hub, "harm-flag.clear")
    assert _actions(hub, "harm-rules.evaluate")[-1].detail.count('"nightly"') == 1


def test_after_an_import_only_the_rules_that_read_agencies_items_are_evaluated(
    hub: Session, policy
) -> None:
    """An import changes agencies' records and items, never a contact: the contact rules' flags
    are left for the nightly evaluation."""
    subject, _ = _three_agencies(hub, policy)
    (flag,) = _flags(hub, subject)
    later = dt.date.today() + dt.timedelta(days=20)  # the three-agency rule no longer fires then
    evaluate_all(hub, MANAGER, policy.harm_rules, "import", today=later, kinds=IMPORT_KINDS)
    assert flag.state is HarmFlagState.OPEN
    evaluate_all(hub, MANAGER, policy.harm_rules, NIGHTLY, today=later)
    assert flag.state is HarmFlagState.CLEARED
