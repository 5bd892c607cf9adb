"""The referral pages as their users meet them: the contact form and its errors, the queue, the
referral page's steps offered only to whom they apply, the research page and the firewall, and the
information product as a page and a PDF that carry released items and only signposts for the rest.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from mash_common.web.pdf import StaticOnly, render_pdf
from node.access import Actor
from node.auth import sessions as auth_sessions
from node.importing.service import import_files
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.referrals.outcome import record_decision
from node.referrals.research import add_contribution, own_items_for_referral, set_release
from node.referrals.triage import record_lawful_basis, set_rag, withdraw_consent
from node.search import SearchQuery, search
from node.store.models import (
    AuditEntry,
    Contribution,
    Outcome,
    OutgoingDisclosure,
    OutgoingState,
    Pathway,
    Rag,
    RagChange,
    Referral,
    ReferralPerson,
    ReleaseState,
    Role,
    User,
    WebSession,
    utcnow,
)
from node.web import create_app, sessions
from node.web.services import current_node
from tests.helpers import ADMIN, write_csv
from tests.web.conftest import Page, WebClient, WebNode

MANAGER = Actor("manager", Role.MASH_MANAGER)
POLICE = Actor("police.pro", Role.AGENCY_PROFESSIONAL, "police")
HEALTH = Actor("health.pro", Role.AGENCY_PROFESSIONAL, "health")
CHILD = PersonDetails(
    surname="Okoro", forenames="Jayden", date_of_birth=dt.date(2016, 5, 12), postcode="E8 3PL"
)
MOTHER = PersonDetails(surname="Okoro", forenames="Grace", is_subject=False, relationship="Mother")
POLICE_SUMMARY = "Officers attended a domestic incident at the home"
HEALTH_SECRET = "Mother disclosed a psychiatric diagnosis to her GP"


@pytest.fixture
def node(web_node: WebNode, tmp_path: Path) -> WebNode:
    """The test node with police and health records on the child (police hold one incident)."""
    person = {
        "forenames": "Jayden",
        "surname": "Okoro",
        "date_of_birth": "2016-05-12",
        "postcode": "E8 3PL",
    }
    police_people = write_csv(tmp_path / "police-people.csv", [{"record_id": "P-1", **person}])
    police_items = write_csv(
        tmp_path / "police-items.csv",
        [
            {
                "item_ref": "CAD-4411",
                "record_id": "P-1",
                "date": "2026-10-02",
                "category": "Domestic incident",
                "summary": POLICE_SUMMARY,
            }
        ],
    )
    health_people = write_csv(tmp_path / "health-people.csv", [{"record_id": "H-1", **person}])
    with web_node.node.unit_of_work() as session:
        import_files(session, ADMIN, "police", [police_people, police_items])
        import_files(session, ADMIN, "health", [health_people])
    return web_node


@pytest.fixture
def app(node: WebNode) -> Iterator[Flask]:
    app = create_app(node.config, testing=True)
    yield app
    current_node(app).engine.dispose()


def client(app: Flask, node: WebNode, username: str) -> WebClient:
    """A browser signed in as `username` with both factors. Signing in itself is tested in
    test_auth; here a session is started directly, sparing each test the password hashing."""
    web = WebClient(app.test_client())
    with node.node.unit_of_work() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        token = auth_sessions.start(session, user, utcnow())
        started = session.scalars(
            select(WebSession).where(WebSession.token_hash == auth_sessions.token_hash(token))
        ).one()
        token = auth_sessions.complete_second_factor(session, started.id)
    with web.client.session_transaction() as cookie:
        cookie[sessions.TOKEN_KEY] = token
    return web


def referral_in(node: WebNode, *, rag: Rag | None = Rag.RED, **changes: object) -> int:
    """A referral made through the services, linked to the child's hub subject."""
    with node.node.unit_of_work() as session:
        (found,) = search(session, MANAGER, SearchQuery(surname="Okoro"), "test set-up").subjects
        child = PersonDetails(**{**CHILD.__dict__, "subject_id": found.subject_id})
        details: dict[str, object] = {
            "pathway": Pathway.CHILD,
            "source_kind": "agency",
            "source_agency": "education",
            "categories": ("domestic-abuse",),
            "account": "Jayden told his teacher there was shouting and a broken door at home",
            "people": (child, MOTHER),
            **changes,
        }
        referral = record_contact(session, MANAGER, NewContact(**details), node.config.referrals)
        if rag is not None:
            set_rag(
                session, MANAGER, referral.id, rag, "Disclosure at school", node.config.referrals
            )
        return referral.id


def send(
    web: WebClient,
    page: Page,
    fields: dict[str, str | list[str]],
    *,
    form: str = "main form",
    status: int = 302,
) -> Page:
    """Submit a form of the page as a browser would: every control with its current value (empty
    text boxes too, checked boxes only), then the given fields set or replaced."""
    element = page.form(form)
    data: dict[str, list[str]] = {}
    for control in element.select("input, select, textarea"):
        name = control.get("name")
        if not name or control.name == "button":
            continue
        kind = control.get("type", "text")
        if kind in ("radio", "checkbox") and not control.has_attr("checked"):
            continue
        if control.name == "select":
            chosen = control.select_one("option[selected]") or control.select_one("option")
            value = str(chosen.get("value", "")) if chosen else ""
        elif control.name == "textarea":
            value = control.get_text()
        else:
            value = str(control.get("value", ""))
        data.setdefault(str(name), []).append(
            value.strip("\n") if control.name == "textarea" else value
        )
    for name, value in fields.items():
        data[name] = value if isinstance(value, list) else [value]
    action = str(element.get("action") or web.last_path)
    return web._page(web.client.post(action, data=data), status)


def errors_by_field(page: Page) -> dict[str, str]:
    """Each error summary entry's link target, with its text; every target must exist."""
    found = {}
    for link in page.soup.select(".govuk-error-summary__list a"):
        target = str(link["href"]).removeprefix("#")
        assert page.soup.find(id=target) is not None, f"the error links to no element #{target}"
        found[target] = " ".join(link.get_text().split())
    return found


def field_error(page: Page, field_id: str) -> str:
    """The error message shown at the field itself (GOV.UK: `<id>-error`)."""
    message = page.soup.find(id=f"{field_id}-error")
    assert message is not None, f"no error message at #{field_id}"
    return " ".join(message.get_text(" ").split()).removeprefix("Error: ")


CONTACT = {
    "pathway": "child",
    "source_kind": "agency",
    "source_agency": "education",
    "source_name": "Ms Adeyemi, class teacher",
    "categories": "domestic-abuse",
    "account": "Jayden told his teacher there was shouting and a broken door at home.",
    "people-0-forenames": "Jayden",
    "people-0-surname": "Okoro",
    "people-0-date_of_birth": ["12", "5", "2016"],  # day, month, year: one name, three boxes
    "people-1-forenames": "Grace",
    "people-1-surname": "Okoro",
    "people-1-role": "household",
    "people-1-relationship": "Mother",
}


def test_a_contact_is_recorded_with_its_child_linked_to_the_existing_subject(
    app: Flask, node: WebNode
) -> None:
    manager = client(app, node, "manager")
    form = manager.get("/referrals/new")
    assert [b.get_text(strip=True) for b in form.soup.select("main form button")] == [
        "Find existing records"
    ]

    found = send(manager, form, {**CONTACT, "action": "find"}, status=200)
    child_choices = found.soup.select("input[name=people-0-match]")
    mother_choices = found.soup.select("input[name=people-1-match]")
    assert [c["value"] for c in child_choices][-1] == "new"
    (subject_id,) = [str(c["value"]) for c in child_choices if c["value"] != "new"]
    assert "Held by Health (1 record), Police (1 record)." in found.main_text
    assert [c["value"] for c in mother_choices] == ["new"]  # nobody holds anything on her

    recorded = send(
        manager,
        found,
        {**CONTACT, "action": "record", "people-0-match": subject_id, "people-1-match": "new"},
    )
    page = manager.follow(recorded)

    year = utcnow().year
    assert (
        page.soup.h1 is not None
        and page.soup.h1.get_text(strip=True) == f"Contact HAC-{year}-00001"
    )
    people = page.soup.select("#people ~ table tbody tr")
    assert (
        "Jayden Okoro" in people[0].get_text() and f"Subject {subject_id}" in people[0].get_text()
    )
    assert "Household: Mother" in people[1].get_text()
    assert "Contact recorded" in page.soup.select_one(".moj-timeline").get_text()
    with node.sessions() as session:
        purposes = session.scalars(
            select(AuditEntry.purpose).where(AuditEntry.action == "search")
        ).all()
    assert len(purposes) == 4 and all("new contact" in p for p in purposes)  # 2 people, 2 steps


def test_the_contact_forms_errors_are_shown_on_their_fields(app: Flask, node: WebNode) -> None:
    manager = client(app, node, "manager")
    form = manager.get("/referrals/new")

    empty = send(manager, form, {"action": "record"}, status=200)

    assert empty.title.startswith("Error: Record a contact")
    assert errors_by_field(empty) == {
        "pathway": "Choose whether the contact is about a child or an adult",
        "source_kind": "Choose who made the contact",
        "categories": "Choose at least one concern category",
        "account": "Describe the concern",
        "people-0-surname": "Enter the subject's last name, or 'Unknown'",
    }
    assert field_error(empty, "account") == "Describe the concern"

    bad_date = send(
        manager,
        form,
        {**CONTACT, "people-0-date_of_birth": ["31", "2", "2016"], "action": "find"},
        status=200,
    )
    assert errors_by_field(bad_date) == {
        "people-0-date_of_birth-day": "Date of birth must be a real date, like 27 3 2015"
    }

    # The service's own rules come back on the field they name: an adult is not a child.
    adult = send(
        manager,
        form,
        {
            **CONTACT,
            "people-0-date_of_birth": ["1", "1", "1990"],
            "people-0-match": "new",
            "people-1-match": "new",
            "action": "record",
        },
        status=200,
    )
    assert errors_by_field(adult) == {
        "people-0-date_of_birth-day": "A subject of a child referral is under 18; "
        "use the adult pathway for a vulnerable adult"
    }
    no_agency = send(
        manager,
        form,
        {
            **CONTACT,
            "source_agency": "",
            "people-0-match": "new",
            "people-1-match": "new",
            "action": "record",
        },
        status=200,
    )
    assert field_error(no_agency, "source_agency") == "Choose the agency that sent the contact"


def test_a_household_member_found_after_the_search_must_be_chosen_for(
    app: Flask, node: WebNode
) -> None:
    manager = client(app, node, "manager")
    form = manager.get("/referrals/new")

    unchosen = send(manager, form, {**CONTACT, "action": "record"}, status=200)

    assert errors_by_field(unchosen) == {
        "people-0-match": "Choose one of the records found, or 'New person'"
    }


def test_the_queue_puts_contacts_first_then_least_time_left_and_flags_the_overdue(
    app: Flask, node: WebNode
) -> None:
    late = referral_in(node, received_at=utcnow() - dt.timedelta(hours=5))  # red: 4 hours
    untriaged = referral_in(node, rag=None)
    soon = referral_in(node, received_at=utcnow() - dt.timedelta(hours=3, minutes=50))
    manager = client(app, node, "manager")

    queue = manager.get("/referrals")

    rows = queue.soup.select("table[data-module=moj-sortable-table] tbody tr")
    links = [str(row.a["href"]) for row in rows if row.a]
    assert links == [f"/referrals/{untriaged}", f"/referrals/{late}", f"/referrals/{soon}"]
    assert "Not yet rated" in rows[0].get_text()
    assert rows[1].select_one(".moj-badge--red").get_text(strip=True) == "Overdue"
    assert "Overdue by 1 hour" in rows[1].get_text()
    assert rows[2].select_one(".moj-badge").get_text(strip=True) == "Due soon"
    assert queue.soup.select_one("a.govuk-button[href='/referrals/new']") is not None


def test_the_queue_flags_a_referral_whose_request_to_another_borough_is_overdue(
    app: Flask, node: WebNode
) -> None:
    waiting, overdue = referral_in(node), referral_in(node)
    with node.node.unit_of_work() as session:
        for referral_id, hours in ((waiting, 2), (overdue, -1)):  # deadline from now
            person = session.scalars(
                select(ReferralPerson.id).where(ReferralPerson.referral_id == referral_id)
            ).first()
            session.add(
                OutgoingDisclosure(
                    idempotency_key=f"queue-{referral_id}",
                    referral_id=referral_id,
                    referral_person_id=person,
                    holder="lambeth",
                    holder_name="Lambeth",
                    state=OutgoingState.ACKNOWLEDGED,
                    urgency=Rag.RED,
                    reason="Needed",
                    lawful_basis="Children Act 1989 s47 (significant harm)",
                    sealed_body=b"sealed",
                    requested_by="manager",
                    deadline_at=utcnow() + dt.timedelta(hours=hours),
                )
            )

    queue = client(app, node, "manager").get("/referrals")

    flagged = {
        str(row.a["href"]): row.get_text(" ", strip=True)
        for row in queue.soup.select("table tbody tr")
        if row.a
    }
    assert "Answer overdue from Lambeth" in flagged[f"/referrals/{overdue}"]
    assert "Answer overdue" not in flagged[f"/referrals/{waiting}"]


def test_manager_steps_are_not_offered_to_professionals_and_refused_if_tried(
    app: Flask, node: WebNode
) -> None:
    referral_id = referral_in(node)
    manager = client(app, node, "manager")
    police = client(app, node, "police.pro")
    steps = ("rating", "decision")

    mine = manager.get(f"/referrals/{referral_id}")
    theirs = police.get(f"/referrals/{referral_id}")

    actions = [str(f["action"]) for f in mine.soup.select("main form")]
    assert [f"/referrals/{referral_id}/{step}" for step in steps] == actions
    assert theirs.soup.select("main form") == []
    assert theirs.soup.select_one(f"a[href='/research/{referral_id}']") is not None
    for step in steps:
        police.post(
            f"/referrals/{referral_id}/{step}",
            {"csrf_token": _csrf(theirs), f"{step}-csrf_token": _csrf(theirs)},
            status=403,
        )
    with node.sessions() as session:
        refused = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "access.denied")
        ).all()
    assert [(e.actor, json.loads(e.detail)["endpoint"]) for e in refused] == [
        ("police.pro", "referrals.rate"),
        ("police.pro", "referrals.decide"),
    ]


def test_a_professional_whose_agency_is_not_working_the_referral_is_refused(
    app: Flask, node: WebNode
) -> None:
    contact_id = referral_in(node, rag=None)  # no research opened yet: only the manager
    police = client(app, node, "police.pro")

    for path in (f"/referrals/{contact_id}", f"/research/{contact_id}"):
        refused = police.get(path, status=403)
        assert "Okoro" not in refused.main_text
    assert f"/referrals/{contact_id}" not in police.get("/referrals").response.get_data(
        as_text=True
    )


def test_the_manager_rates_and_decides_with_errors_on_the_fields(app: Flask, node: WebNode) -> None:
    referral_id = referral_in(node, rag=None)
    manager = client(app, node, "manager")
    page = manager.get(f"/referrals/{referral_id}")

    no_reason = send(manager, page, {"rating-rag": "red"}, form="#rating-form", status=200)
    assert errors_by_field(no_reason) == {"rating-reason": "Say why this rating"}
    rated = manager.follow(
        send(
            manager,
            page,
            {"rating-rag": "red", "rating-reason": "Injury seen"},
            form="#rating-form",
        )
    )
    assert rated.soup.h1.get_text(strip=True).startswith("Referral HAC-")
    assert "rated red" in " ".join(rated.banners)

    no_rationale = send(
        manager,
        rated,
        {
            "decision-outcome": "strategy-discussion",
            "decision-interventions-1-description": "Visit",
        },
        form="#decision-form",
        status=200,
    )
    assert errors_by_field(no_rationale) == {"decision-rationale": "Explain the decision"}
    no_agency = send(
        manager,
        rated,
        {
            "decision-outcome": "strategy-discussion",
            "decision-rationale": "Reasonable cause to suspect significant harm",
            "decision-interventions-1-description": "Joint visit today",
        },
        form="#decision-form",
        status=200,
    )
    assert errors_by_field(no_agency) == {
        "decision-interventions-1-agency": "'' is not a hub agency"
    }
    decision = {
        "decision-outcome": "strategy-discussion",
        "decision-rationale": "Reasonable cause to suspect significant harm",
        "decision-interventions-1-agency": "police",
        "decision-interventions-1-description": "Joint visit today",
    }
    warned = send(manager, rated, decision, form="#decision-form", status=200)
    assert "Research is still open for Children's social care, Education, Health, Police" in (
        warned.main_text
    )
    assert errors_by_field(warned) == {
        "decision-research_open_confirmed": "Research is still open for Children's social care, "
        "Education, Health, Police: confirm that you are deciding before they have finished"
    }
    decided = manager.follow(
        send(
            manager,
            warned,
            {**decision, "decision-research_open_confirmed": "y"},
            form="#decision-form",
        )
    )
    assert "Strategy discussion (section 47)" in decided.main_text
    assert "while research was still open for Children's social care" in decided.main_text
    assert decided.soup.select_one(f"a[href='/referrals/{referral_id}/information-product']")
    assert decided.soup.select("main form") == []  # decided: no rating or decision forms


def test_research_adds_an_item_and_only_its_agency_decides_its_release(
    app: Flask, node: WebNode
) -> None:
    referral_id = referral_in(node)
    police = client(app, node, "police.pro")
    health = client(app, node, "health.pro")

    research = police.get(f"/research/{referral_id}")
    assert POLICE_SUMMARY in research.main_text
    assert "Okoro" in health.get(f"/research/{referral_id}").main_text
    assert POLICE_SUMMARY not in health.get(f"/research/{referral_id}").main_text

    added = police.follow(send(police, research, {}, form="form[action$='/items']"))
    assert "Added" in added.soup.select_one("#records ~ table").get_text()
    with node.sessions() as session:
        (item,) = session.scalars(select(Contribution)).all()
    selector = f"form[action$='/contributions/{item.id}/release']"
    no_basis = send(
        police,
        added,
        {f"item-{item.id}-state": "released", f"item-{item.id}-reason": "Needed for s47"},
        form=selector,
        status=200,
    )
    assert errors_by_field(no_basis) == {
        f"item-{item.id}-lawful_basis": "Name the lawful basis for release"
    }
    released = police.follow(
        send(
            police,
            added,
            {
                f"item-{item.id}-state": "released",
                f"item-{item.id}-reason": "Needed for s47",
                f"item-{item.id}-lawful_basis": "Children Act 1989 s47 (significant harm)",
            },
            form=selector,
        )
    )
    assert "Released" in released.soup.select_one(f"#item-{item.id}").get_text()

    # The health professional sees the item in the secure room but cannot decide its release.
    room = health.get(f"/referrals/{referral_id}")
    assert POLICE_SUMMARY in room.main_text
    health.post(
        f"/research/{referral_id}/contributions/{item.id}/release",
        {
            "csrf_token": _csrf(room),
            f"item-{item.id}-version": "2",
            f"item-{item.id}-state": "held",
            f"item-{item.id}-reason": "",
        },
        status=403,
    )
    with node.sessions() as session:
        assert session.get_one(Contribution, item.id).release_state is ReleaseState.RELEASED


def test_withdrawn_consent_is_explained_on_the_referral_page(app: Flask, node: WebNode) -> None:
    adult = PersonDetails(surname="Marsh", forenames="Edith", date_of_birth=dt.date(1941, 2, 3))
    referral_id = referral_in(
        node, rag=Rag.AMBER, pathway=Pathway.ADULT, people=(adult,), categories=("self-neglect",)
    )
    with node.node.unit_of_work() as session:
        record_lawful_basis(session, MANAGER, referral_id, "consent", "", "")
        withdraw_consent(session, MANAGER, referral_id, "Told her GP on 24 November")
    manager = client(app, node, "manager")

    page = manager.get(f"/referrals/{referral_id}")

    warning = page.soup.select_one(".govuk-warning-text")
    assert warning is not None and "consent has been withdrawn" in warning.get_text()
    assert "Told her GP on 24 November" in page.main_text
    assert page.soup.select_one("#basis-form") is not None  # another basis can be recorded
    assert page.soup.select_one("#withdraw-form") is None  # no consent in force to withdraw


def test_an_adults_research_opens_once_consent_is_recorded_on_the_page(
    app: Flask, node: WebNode
) -> None:
    adult = PersonDetails(surname="Marsh", forenames="Edith", date_of_birth=dt.date(1941, 2, 3))
    referral_id = referral_in(
        node, rag=Rag.AMBER, pathway=Pathway.ADULT, people=(adult,), categories=("self-neglect",)
    )
    manager = client(app, node, "manager")
    page = manager.get(f"/referrals/{referral_id}")
    assert "Awaiting lawful basis" in page.main_text

    other = send(manager, page, {"basis-kind": "other"}, form="#basis-form", status=200)
    assert errors_by_field(other) == {"basis-lawful_basis": "Name the lawful basis"}
    consented = manager.follow(send(manager, page, {"basis-kind": "consent"}, form="#basis-form"))

    assert "In research" in consented.main_text and "In force" in consented.main_text
    assert consented.soup.select_one("#withdraw-form") is not None


def _worked_referral(node: WebNode) -> tuple[int, str]:
    """A decided referral: police released their incident, health signposted a note."""
    referral_id = referral_in(node)
    with node.node.unit_of_work() as session:
        (own,) = own_items_for_referral(session, POLICE, referral_id)
        police_item = add_contribution(session, POLICE, referral_id, source_item_id=own.item_id)
        set_release(
            session,
            POLICE,
            police_item.id,
            ReleaseState.RELEASED,
            "Needed for the strategy discussion",
            "Children Act 1989 s47 (significant harm)",
        )
        note = add_contribution(
            session, HEALTH, referral_id, title="GP records", content=HEALTH_SECRET
        )
        set_release(session, HEALTH, note.id, ReleaseState.SIGNPOSTED, "Caldicott: ask the GP")
        record_decision(
            session,
            MANAGER,
            referral_id,
            Outcome.STRATEGY_DISCUSSION,
            "Significant harm",
            research_open_confirmed=True,
        )
        return referral_id, session.get_one(Referral, referral_id).reference


def test_the_information_product_page_and_pdf_carry_released_items_and_signposts_only(
    app: Flask, node: WebNode, tmp_path: Path
) -> None:
    referral_id, reference = _worked_referral(node)
    manager = client(app, node, "manager")

    page = manager.get(f"/referrals/{referral_id}/information-product")
    response = manager.client.get(f"/referrals/{referral_id}/information-product.pdf")

    assert page.main_text.startswith("OFFICIAL-SENSITIVE") and page.main_text.endswith(
        "OFFICIAL-SENSITIVE"
    )
    assert POLICE_SUMMARY in page.main_text and HEALTH_SECRET not in page.main_text
    signposts = page.soup.select("h2:-soup-contains('Signposts') ~ table tbody tr")
    assert [" ".join(row.get_text(" ").split()) for row in signposts] == [
        f"Health, Hackney MASH health lead (Caldicott guidance) {reference}/2"
    ]  # each agency labelled with its borough (another's items come labelled with theirs)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="information-product-{reference}.pdf"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"%PDF")
    text = pdf_text(response.data, tmp_path)
    assert POLICE_SUMMARY in text and "Health" in text and "OFFICIAL-SENSITIVE" in text
    assert HEALTH_SECRET not in text and "GP records" not in text
    with node.sessions() as session:
        generated = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "referral.product")
        ).all()
    assert [e.actor for e in generated] == ["manager", "manager"]  # the page, then the PDF


def test_the_product_waits_for_the_decision(app: Flask, node: WebNode) -> None:
    referral_id = referral_in(node)
    manager = client(app, node, "manager")

    sent_back = manager.get(f"/referrals/{referral_id}/information-product", status=302)

    assert sent_back.location == f"/referrals/{referral_id}"
    shown = manager.follow(sent_back)
    assert shown.banners == []  # a refusal is never a success banner
    (problem,) = shown.soup.select(".govuk-error-summary")
    assert "record the decision before issuing the information product" in problem.get_text()

    manager.get("/referrals/99999/information-product", status=404)  # no "no such" banner
    manager.get("/referrals/99999/information-product.pdf", status=404)


def test_the_pdf_renderer_reads_the_static_folder_and_nothing_else(tmp_path: Path) -> None:
    static = tmp_path / "static"
    static.mkdir()
    (static / "print.css").write_text("body { color: #0b0c0c }", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not for the PDF", encoding="utf-8")
    fetcher = StaticOnly(static)

    fetched = fetcher.fetch((static / "print.css").as_uri())

    assert fetched.read() == b"body { color: #0b0c0c }"
    fetched.close()
    for refused in (
        (tmp_path / "secret.txt").as_uri(),
        f"{static.as_uri()}/../secret.txt",
        "https://example.org/print.css",
    ):
        with pytest.raises(ValueError, match="only the static files"):
            fetcher.fetch(refused)
    assert render_pdf("<p>OFFICIAL-SENSITIVE</p>", static).startswith(b"%PDF")


def pdf_text(data: bytes, folder: Path) -> str:
    path = folder / "product.pdf"
    path.write_bytes(data)
    done = subprocess.run(
        ["/usr/bin/pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return " ".join(done.stdout.split())


def _csrf(page: Page) -> str:
    token = page.soup.select_one("input[name$=csrf_token]")
    assert token is not None
    return str(token["value"])


def test_a_change_made_meanwhile_is_never_silently_replaced(app: Flask, node: WebNode) -> None:
    """Two managers rate one referral from the pages they opened: the second is told who changed
    it and when, sees the referral as it is now with their answers kept, and sends again."""
    referral_id = referral_in(node)
    first, second = client(app, node, "manager"), client(app, node, "manager")
    first_page = first.get(f"/referrals/{referral_id}")
    second_page = second.get(f"/referrals/{referral_id}")

    send(
        first,
        first_page,
        {"rating-rag": "amber", "rating-reason": "Mother now safe"},
        form="#rating-form",
    )
    stale = send(
        second,
        second_page,
        {"rating-rag": "green", "rating-reason": "Family moved to a refuge"},
        form="#rating-form",
        status=200,
    )
    (problem,) = stale.error_messages
    assert problem.startswith("Referral HAC-2026-00001 was changed by manager on")
    assert "Rating changed from red to AMBER: Mother now safe" in stale.main_text  # as it is now
    kept = stale.form("#rating-form")
    assert kept.select_one("textarea[name=rating-reason]").get_text() == "Family moved to a refuge"
    assert kept.select_one("input[name=rating-rag][value=green]").has_attr("checked")

    again = send(second, stale, {}, form="#rating-form")  # the kept answers, now from this version
    assert "rated green" in " ".join(second.follow(again).banners)
    with node.sessions() as session:
        changes = [
            (c.rag.value, c.reason)
            for c in session.scalars(select(RagChange).where(RagChange.referral_id == referral_id))
        ]
    assert changes[1:] == [("amber", "Mother now safe"), ("green", "Family moved to a refuge")]


def test_a_release_decision_made_meanwhile_is_never_silently_replaced(
    app: Flask, node: WebNode
) -> None:
    referral_id = referral_in(node)
    with node.node.unit_of_work() as session:
        item = add_contribution(session, POLICE, referral_id, title="Call-out", content="Noise")
    first, second = client(app, node, "police.pro"), client(app, node, "police.pro")
    first_page, second_page = (c.get(f"/research/{referral_id}") for c in (first, second))
    prefix = f"item-{item.id}"
    send(
        first,
        first_page,
        {f"{prefix}-state": "signposted", f"{prefix}-reason": "Ask the MASH police desk"},
        form=f"#{prefix} form",
    )
    stale = send(
        second,
        second_page,
        {f"{prefix}-state": "held", f"{prefix}-reason": ""},
        form=f"#{prefix} form",
        status=200,
    )
    assert "The release decision on 'Call-out' was changed by police.pro" in stale.error_messages[0]
    with node.sessions() as session:
        assert session.get_one(Contribution, item.id).release_state is ReleaseState.SIGNPOSTED


def test_the_manager_chooses_who_researches_and_only_they_see_the_referral(
    app: Flask, node: WebNode
) -> None:
    referral_id = referral_in(node, rag=None)
    manager = client(app, node, "manager")
    page = manager.get(f"/referrals/{referral_id}")
    offered = [box["value"] for box in page.soup.select("input[name=rating-agencies]")]
    assert sorted(offered) == ["childrens-social-care", "education", "health", "police"]
    assert "Only the agencies you choose see this referral" in page.main_text

    rated = send(
        manager,
        page,
        {"rating-rag": "amber", "rating-reason": "Bruising seen", "rating-agencies": ["police"]},
        form="#rating-form",
    )
    assert "Research opened for Police" in manager.follow(rated).main_text
    client(app, node, "police.pro").get(f"/referrals/{referral_id}")
    client(app, node, "health.pro").get(f"/referrals/{referral_id}", status=403)
