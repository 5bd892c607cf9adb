"""The front door's domain rules: intake, triage, research, the firewall, decision, product."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from node.access import AccessDenied
from node.config import load_config, render_config
from node.importing.service import import_files
from node.referrals.common import ReferralError
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.referrals.outcome import information_product, record_decision
from node.referrals.research import (
    add_contribution,
    complete_task,
    own_items_for_referral,
    set_release,
)
from node.referrals.triage import queue, record_lawful_basis, set_rag, withdraw_consent
from node.referrals.view import actions, agency_names, view_referral
from node.search import SearchQuery, search
from node.store.models import (
    AuditEntry,
    Outcome,
    Pathway,
    Rag,
    ReferralStatus,
    ReleaseState,
)
from tests.helpers import ADMIN, AUDITOR, MANAGER, make_hub, professional, write_csv

POLICE, HEALTH, EDUCATION = (
    professional("police"),
    professional("health"),
    professional("education"),
)
CHILD = PersonDetails(
    surname="Smith", forenames="John", date_of_birth=dt.date(2015, 3, 14), postcode="E8 1AB"
)
MOTHER = PersonDetails(surname="Smith", forenames="Jane", is_subject=False, relationship="Mother")
RECEIVED = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)  # a Monday morning


@pytest.fixture
def policy(tmp_path: Path):
    path = tmp_path / "node.toml"
    path.write_text(render_config("hackney", "Hackney", ["police"]), encoding="utf-8")
    return load_config(path).referrals


@pytest.fixture
def hub(session: Session, tmp_path: Path) -> Session:
    make_hub(session)
    people = write_csv(
        tmp_path / "p.csv",
        [
            {
                "record_id": "P1",
                "forenames": "John",
                "surname": "Smith",
                "date_of_birth": "2015-03-14",
                "postcode": "E8 1AB",
            }
        ],
    )
    items = write_csv(
        tmp_path / "i.csv",
        [
            {
                "item_ref": "CAD-7",
                "record_id": "P1",
                "date": "2026-10-01",
                "category": "Domestic incident",
                "summary": "Police attended home",
            }
        ],
    )
    import_files(session, ADMIN, "police", [people, items])
    import_files(session, ADMIN, "health", [people])
    return session


def contact(
    session: Session, policy, pathway: Pathway = Pathway.CHILD, people=(CHILD, MOTHER), **kw
):
    details = dict(
        pathway=pathway,
        source_kind="agency",
        source_agency="education",
        categories=("neglect",),
        account="Child arrived hungry three days running",
        people=people,
        received_at=RECEIVED,
    )
    details.update(kw)
    return record_contact(session, MANAGER, NewContact(**details), policy)


def test_contact_links_people_to_subjects_and_is_numbered(hub: Session, policy) -> None:
    (found,) = search(hub, MANAGER, SearchQuery(surname="Smith"), "intake").subjects
    first = contact(
        hub,
        policy,
        people=(PersonDetails(**{**CHILD.__dict__, "subject_id": found.subject_id}), MOTHER),
    )
    second = contact(hub, policy)
    assert (first.reference, second.reference) == ("HAC-2026-00001", "HAC-2026-00002")
    assert first.status is ReferralStatus.AWAITING_TRIAGE
    assert first.people[0].subject_id == found.subject_id
    assert first.people[1].subject_id not in (
        None,
        found.subject_id,
    )  # a new subject for the mother


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"account": "  "}, "account"),
        ({"categories": ()}, "categories"),
        ({"categories": ("bad-luck",)}, "categories"),
        ({"source_agency": "fire"}, "source_agency"),
        ({"people": (MOTHER,)}, "people"),
        (
            {"people": (PersonDetails(surname="Old", date_of_birth=dt.date(1980, 1, 1)),)},
            "date_of_birth",
        ),
        ({"pathway": Pathway.ADULT}, "date_of_birth"),  # the child subject is under 18
    ],
)
def test_bad_contacts_name_the_field(hub: Session, policy, changes: dict, field: str) -> None:
    with pytest.raises(ReferralError, match=field):
        contact(hub, policy, **changes)


def test_triage_sets_deadline_opens_research_and_records_changes(hub: Session, policy) -> None:
    referral = contact(hub, policy)
    set_rag(hub, MANAGER, referral.id, Rag.AMBER, "neglect concerns, no immediate risk", policy)
    assert referral.status is ReferralStatus.IN_RESEARCH
    assert referral.deadline_at == dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)  # 3 working days
    set_rag(hub, MANAGER, referral.id, Rag.RED, "police report of injuries", policy)
    assert referral.deadline_at == RECEIVED + dt.timedelta(hours=4)
    view = view_referral(hub, MANAGER, referral.id)
    assert [c.rag for c in view.rag_history] == [Rag.AMBER, Rag.RED]
    assert len(view.tasks) == 9  # one per agency of the hub
    with pytest.raises(ReferralError, match="reason"):
        set_rag(hub, MANAGER, referral.id, Rag.GREEN, " ", policy)
    with pytest.raises(AccessDenied):
        set_rag(hub, POLICE, referral.id, Rag.GREEN, "not mine to rate", policy)


def test_the_firewall_journey(hub: Session, policy) -> None:
    (found,) = search(hub, MANAGER, SearchQuery(surname="Smith"), "intake").subjects
    referral = contact(
        hub,
        policy,
        people=(PersonDetails(**{**CHILD.__dict__, "subject_id": found.subject_id}), MOTHER),
    )
    set_rag(hub, MANAGER, referral.id, Rag.RED, "injuries", policy)
    (own,) = own_items_for_referral(hub, POLICE, referral.id)
    assert own.category == "Domestic incident"
    police_item = add_contribution(hub, POLICE, referral.id, source_item_id=own.item_id)
    health_item = add_contribution(
        hub, HEALTH, referral.id, title="GP records", content="Diagnosis X, medication Y"
    )
    held_item = add_contribution(
        hub, EDUCATION, referral.id, title="Attendance", content="Attendance 61%"
    )
    assert (
        police_item.release_state is ReleaseState.HELD and police_item.agency_reference == "CAD-7"
    )
    # Nobody but the owning agency decides its release: not the manager, not another agency.
    for actor in (MANAGER, HEALTH, ADMIN):
        with pytest.raises(AccessDenied):
            set_release(
                hub, actor, police_item.id, ReleaseState.RELEASED, "x", "Children Act 1989 s47"
            )
    with pytest.raises(ReferralError, match="lawful_basis"):
        set_release(hub, POLICE, police_item.id, ReleaseState.RELEASED, "necessary for s47", "")
    set_release(
        hub,
        POLICE,
        police_item.id,
        ReleaseState.RELEASED,
        "necessary for s47",
        "Children Act 1989 s47",
    )
    set_release(hub, HEALTH, health_item.id, ReleaseState.SIGNPOSTED, "Caldicott: ask the named GP")
    complete_task(hub, POLICE, referral.id)
    with pytest.raises(ReferralError, match="record the decision"):
        information_product(hub, MANAGER, referral.id, "Hackney")
    decision = record_decision(
        hub,
        MANAGER,
        referral.id,
        Outcome.STRATEGY_DISCUSSION,
        "Significant harm",
        interventions=[("police", "Joint visit today")],
        research_open_confirmed=True,
        now=RECEIVED + dt.timedelta(hours=5),
    )
    assert decision.breached  # red: 4 hours
    product = information_product(hub, MANAGER, referral.id, "Hackney")
    assert [r.content for r in product.released] == ["01 October 2026: Police attended home"]
    assert {(s.agency, s.reference) for s in product.signposts} == {
        ("Health", f"{referral.reference}/{health_item.id}"),
        ("Education", f"{referral.reference}/{held_item.id}"),
    }
    text = repr(product)
    assert "Diagnosis X" not in text and "Attendance 61%" not in text
    assert product.interventions == (("Police", "Joint visit today"),)
    actions = hub.scalars(
        select(AuditEntry.action).where(AuditEntry.purpose == referral.reference)
    ).all()
    assert "referral.release" in actions and "referral.product" in actions


def test_secure_room_is_the_agencies_working_the_referral(hub: Session, policy) -> None:
    referral = contact(hub, policy)
    with pytest.raises(AccessDenied):  # no research tasks yet: only the manager
        view_referral(hub, POLICE, referral.id)
    set_rag(hub, MANAGER, referral.id, Rag.GREEN, "low", policy)
    assert view_referral(hub, POLICE, referral.id).referral.id == referral.id
    for actor in (ADMIN, AUDITOR):
        with pytest.raises(AccessDenied):
            view_referral(hub, actor, referral.id)


def test_professionals_contribute_only_their_own_agency_records(hub: Session, policy) -> None:
    (found,) = search(hub, MANAGER, SearchQuery(surname="Smith"), "intake").subjects
    referral = contact(
        hub, policy, people=(PersonDetails(**{**CHILD.__dict__, "subject_id": found.subject_id}),)
    )
    set_rag(hub, MANAGER, referral.id, Rag.GREEN, "low", policy)
    (police_own,) = own_items_for_referral(hub, POLICE, referral.id)
    assert (
        own_items_for_referral(hub, HEALTH, referral.id) == []
    )  # health holds a record but no items
    with pytest.raises(AccessDenied):
        add_contribution(hub, HEALTH, referral.id, source_item_id=police_own.item_id)
    with pytest.raises(AccessDenied):
        add_contribution(hub, MANAGER, referral.id, title="t", content="c")


def test_adult_pathway_needs_a_lawful_basis_and_withdrawal_stops_release(
    hub: Session, policy
) -> None:
    adult = PersonDetails(surname="Jones", forenames="Mary", date_of_birth=dt.date(1950, 5, 5))
    referral = contact(
        hub, policy, pathway=Pathway.ADULT, people=(adult,), categories=("self-neglect",)
    )
    set_rag(hub, MANAGER, referral.id, Rag.AMBER, "self-neglect", policy)
    assert referral.status is ReferralStatus.AWAITING_LAWFUL_BASIS
    with pytest.raises(ReferralError, match="reason"):
        record_lawful_basis(hub, MANAGER, referral.id, "other", "Vital interests", "")
    record_lawful_basis(hub, MANAGER, referral.id, "consent", "", "")
    assert referral.status is ReferralStatus.IN_RESEARCH
    item = add_contribution(
        hub, HEALTH, referral.id, title="Falls", content="Three falls this month"
    )
    set_release(hub, HEALTH, item.id, ReleaseState.RELEASED, "needed", "Consent")
    withdraw_consent(hub, MANAGER, referral.id, "Told the social worker by phone on 24 Nov")
    other = add_contribution(hub, HEALTH, referral.id, title="Meds", content="Missed medication")
    with pytest.raises(ReferralError, match="consent has been withdrawn"):
        set_release(hub, HEALTH, other.id, ReleaseState.RELEASED, "needed", "Consent")
    record_decision(
        hub,
        MANAGER,
        referral.id,
        Outcome.ASSESSMENT,
        "Care Act assessment",
        research_open_confirmed=True,
    )
    product = information_product(hub, MANAGER, referral.id, "Hackney")
    assert product.released == () and len(product.signposts) == 2
    assert "withdrawn" in product.withheld_note


def test_queue_orders_by_time_left_and_flags_breaches(hub: Session, policy) -> None:
    untriaged = contact(hub, policy)
    green = contact(hub, policy)
    red = contact(hub, policy)
    set_rag(hub, MANAGER, green.id, Rag.GREEN, "low", policy)
    set_rag(hub, MANAGER, red.id, Rag.RED, "high", policy)
    now = RECEIVED + dt.timedelta(hours=3, minutes=30)
    entries = queue(hub, MANAGER, policy, now=now)
    assert [e.referral.id for e in entries] == [untriaged.id, red.id, green.id]
    assert entries[1].clock.near_breach and not entries[1].clock.breached
    later = queue(hub, MANAGER, policy, now=RECEIVED + dt.timedelta(hours=5))
    assert later[1].clock.breached
    assert [e.referral.id for e in queue(hub, POLICE, policy, now=now)] == [red.id, green.id]


def test_pages_are_offered_only_the_steps_the_services_allow(hub: Session, policy) -> None:
    referral = contact(hub, policy)
    untriaged = actions(MANAGER, view_referral(hub, MANAGER, referral.id))
    assert (untriaged.rate, untriaged.decide, untriaged.product) == (True, False, False)
    set_rag(hub, MANAGER, referral.id, Rag.RED, "injuries", policy)
    manager = actions(MANAGER, view_referral(hub, MANAGER, referral.id))
    police = actions(POLICE, view_referral(hub, POLICE, referral.id))
    assert (manager.rate, manager.decide, manager.research) == (True, True, False)
    assert (police.rate, police.decide, police.research) == (False, False, True)
    assert not manager.record_basis and not police.withdraw_consent  # a child: no consent step
    record_decision(
        hub,
        MANAGER,
        referral.id,
        Outcome.NO_FURTHER_ACTION,
        "No concerns found",
        research_open_confirmed=True,
    )
    decided = actions(MANAGER, view_referral(hub, MANAGER, referral.id))
    assert (decided.rate, decided.decide, decided.product) == (False, False, True)


def test_an_adults_consent_steps_follow_the_consent_in_force(hub: Session, policy) -> None:
    adult = PersonDetails(surname="Jones", forenames="Mary", date_of_birth=dt.date(1950, 5, 5))
    referral = contact(
        hub, policy, pathway=Pathway.ADULT, people=(adult,), categories=("self-neglect",)
    )
    set_rag(hub, MANAGER, referral.id, Rag.AMBER, "self-neglect", policy)
    before = actions(MANAGER, view_referral(hub, MANAGER, referral.id))
    assert before.record_basis and not before.withdraw_consent
    record_lawful_basis(hub, MANAGER, referral.id, "consent", "", "")
    assert actions(HEALTH, view_referral(hub, HEALTH, referral.id)).withdraw_consent
    withdraw_consent(hub, HEALTH, referral.id, "Told the GP on 24 Nov")
    assert not actions(MANAGER, view_referral(hub, MANAGER, referral.id)).withdraw_consent
    assert next(iter(agency_names(hub))) == "adult-social-care"  # by name: Adult social care first


def test_own_items_carry_the_agencys_item_reference(hub: Session, policy) -> None:
    (found,) = search(hub, MANAGER, SearchQuery(surname="Smith"), "intake").subjects
    child = PersonDetails(**{**CHILD.__dict__, "subject_id": found.subject_id})
    referral = contact(hub, policy, people=(child,))
    set_rag(hub, MANAGER, referral.id, Rag.GREEN, "low", policy)
    (own,) = own_items_for_referral(hub, POLICE, referral.id)
    assert (own.record_ref, own.item_ref) == ("P1", "CAD-7")


def test_a_release_named_through_another_referral_is_refused(hub: Session, policy) -> None:
    first, second = contact(hub, policy), contact(hub, policy)
    set_rag(hub, MANAGER, first.id, Rag.RED, "injuries", policy)
    set_rag(hub, MANAGER, second.id, Rag.GREEN, "low", policy)
    item = add_contribution(hub, POLICE, first.id, title="Incident", content="Attended")
    with pytest.raises(ReferralError, match="no such item on this referral"):
        set_release(hub, POLICE, item.id, ReleaseState.SIGNPOSTED, "x", referral_id=second.id)
    assert item.release_state is ReleaseState.HELD
    set_release(hub, POLICE, item.id, ReleaseState.SIGNPOSTED, "ask us", referral_id=first.id)
    assert item.release_state is ReleaseState.SIGNPOSTED


def test_another_agency_item_is_refused_even_when_research_is_closed(hub: Session, policy) -> None:
    (found,) = search(hub, MANAGER, SearchQuery(surname="Smith"), "intake").subjects
    child = PersonDetails(**{**CHILD.__dict__, "subject_id": found.subject_id})
    referral = contact(hub, policy, people=(child,))
    set_rag(hub, MANAGER, referral.id, Rag.GREEN, "low", policy)
    (police_own,) = own_items_for_referral(hub, POLICE, referral.id)
    record_decision(
        hub,
        MANAGER,
        referral.id,
        Outcome.NO_FURTHER_ACTION,
        "Nothing to do",
        research_open_confirmed=True,
    )
    with pytest.raises(AccessDenied):  # the firewall answers before "research is not open"
        add_contribution(hub, HEALTH, referral.id, source_item_id=police_own.item_id)
    with pytest.raises(ReferralError, match="research is not open"):
        add_contribution(hub, POLICE, referral.id, source_item_id=police_own.item_id)


def test_only_the_agencies_chosen_at_triage_research_and_see_the_referral(
    hub: Session, policy
) -> None:
    referral = contact(hub, policy)
    set_rag(hub, MANAGER, referral.id, Rag.AMBER, "Injury", policy, agencies=["police", "health"])
    assert sorted(t.agency_code for t in view_referral(hub, MANAGER, referral.id).tasks) == [
        "health",
        "police",
    ]
    view_referral(hub, HEALTH, referral.id)
    with pytest.raises(AccessDenied):
        view_referral(hub, EDUCATION, referral.id)
    assert [e.referral.id for e in queue(hub, EDUCATION, policy)] == []

    set_rag(
        hub, MANAGER, referral.id, Rag.AMBER, "School raised more", policy, agencies=["education"]
    )
    view_referral(hub, EDUCATION, referral.id)  # brought in at the review
    assert [e.referral.id for e in queue(hub, EDUCATION, policy)] == [referral.id]
    with pytest.raises(ReferralError, match="not an agency of this hub"):
        set_rag(hub, MANAGER, referral.id, Rag.RED, "More", policy, agencies=["fire-brigade"])


def test_without_a_choice_the_rating_decides_who_researches(hub: Session, policy) -> None:
    green = contact(hub, policy)
    set_rag(hub, MANAGER, green.id, Rag.GREEN, "Low level", policy)
    red = contact(hub, policy)
    set_rag(hub, MANAGER, red.id, Rag.RED, "Serious", policy)
    researching = {
        r.id: sorted(t.agency_code for t in view_referral(hub, MANAGER, r.id).tasks)
        for r in (green, red)
    }
    assert researching[green.id] == ["childrens-social-care", "education", "health", "police"]
    assert len(researching[red.id]) == len(agency_names(hub, active_only=True)) == 9
