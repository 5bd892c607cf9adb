"""A referral's whole journey in a real browser against the real server: the manager records a
contact about a child (linked to the subject found by search) and rates it red; the police
professional adds and releases an incident; the health professional (without JavaScript) writes
a note and signposts it; the manager decides; the information product and its PDF carry the
police incident and a health signpost, never the health note. Each main page is checked with axe
and photographed (test-artifacts/screenshots/2x-*.png)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from node import users
from node.access import Actor
from node.auth.totp import enrol_totp_for_demo
from node.config import ReferralPolicy
from node.importing.service import import_files
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.referrals.triage import set_rag
from node.runtime import Node
from node.store.models import Pathway, Rag, Role, utcnow
from tests.browser.conftest import Problems, RunningNode, look_at, open_page
from tests.helpers import ADMIN, write_csv

POLICE_SUMMARY = "Officers attended a domestic incident at the home"
HEALTH_NOTE = "Mother disclosed a psychiatric diagnosis to her GP in October"
ACCOUNT = "Jayden told his teacher there was shouting at home and the door was broken."

# This test's own users, so that their one-time codes never meet the sign-in tests' ones.
PEOPLE = (
    ("journey.manager", "Maya Quarshie", Role.MASH_MANAGER, None),
    ("journey.police", "Pat Lindqvist", Role.AGENCY_PROFESSIONAL, "police"),
    ("journey.health", "Hana Mireault", Role.AGENCY_PROFESSIONAL, "health"),
)
PASSWORD = "Journey-correct-horse-battery"


@pytest.fixture(scope="module")
def hub(running_node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Seed the running node: police hold an incident on the child, health a record of him;
    and this test's users. Returns each user's TOTP secret."""
    folder = tmp_path_factory.mktemp("journey-data")
    child = {
        "forenames": "Jayden",
        "surname": "Okoro",
        "date_of_birth": "2016-05-12",
        "postcode": "E8 3PL",
    }
    police_people = write_csv(folder / "police-people.csv", [{"record_id": "jrny-P1", **child}])
    police_items = write_csv(
        folder / "police-items.csv",
        [
            {
                "item_ref": "jrny-CAD-4411",
                "record_id": "jrny-P1",
                "date": "2026-10-02",
                "category": "Domestic incident",
                "summary": POLICE_SUMMARY,
            }
        ],
    )
    health_people = write_csv(folder / "health-people.csv", [{"record_id": "jrny-H1", **child}])
    secrets = {}
    with Node.open(running_node.directory / "node.toml") as node, node.unit_of_work() as session:
        import_files(session, ADMIN, "police", [police_people, police_items])
        import_files(session, ADMIN, "health", [health_people])
        for username, name, role, agency in PEOPLE:
            users.add_user(
                session,
                ADMIN,
                username=username,
                display_name=name,
                role=role,
                agency_code=agency,
                password=PASSWORD,
            )
            secrets[username] = enrol_totp_for_demo(session, node.keys, username)
        _others_in_the_queue(session, node.config.referrals)
    return secrets


@pytest.fixture
def browsers(
    browser: Browser, running_node: RunningNode
) -> Iterator[dict[str, tuple[Page, Problems]]]:
    """One browser per person: the manager and police with JavaScript, health without."""
    tabs = {
        "journey.manager": open_page(browser, running_node),
        "journey.police": open_page(browser, running_node),
        "journey.health": open_page(browser, running_node, javascript=False),
    }
    yield tabs
    for tab, _ in tabs.values():
        tab.context.close()


def _others_in_the_queue(session: Session, policy: ReferralPolicy) -> None:
    """Two referrals already in the queue, so its page shows an overdue one and a near one."""
    manager = Actor("journey.setup", Role.MASH_MANAGER)
    for surname, hours_ago in (("Overdue", 5.0), ("Nearly", 3.5)):
        referral = record_contact(
            session,
            manager,
            NewContact(
                pathway=Pathway.CHILD,
                source_kind="public",
                categories=("neglect",),
                account="A neighbour reports the children are left alone at night",
                people=(PersonDetails(surname=surname, forenames="Sam"),),
                received_at=utcnow() - dt.timedelta(hours=hours_ago),
            ),
            policy,
        )
        set_rag(session, manager, referral.id, Rag.RED, "Young children alone", policy)


def sign_in(tab: Page, username: str, secret: str) -> None:
    tab.goto("/sign-in")
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Password", exact=True).fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_label("Enter the code from your authenticator app").fill(pyotp.TOTP(secret).now())
    tab.get_by_role("button", name="Continue").click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text("Signed in as")


def test_a_contact_becomes_a_decided_referral_and_its_information_product(
    browsers: dict[str, tuple[Page, Problems]], hub: dict[str, str], tmp_path: Path
) -> None:
    manager, manager_problems = browsers["journey.manager"]
    police, police_problems = browsers["journey.police"]
    health, health_problems = browsers["journey.health"]
    for username, (tab, _) in browsers.items():
        sign_in(tab, username, hub[username])

    # The manager records the contact, linking the child to the subject the hub already has.
    manager.get_by_role("link", name="Contacts and referrals").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("Contacts and referrals")
    manager.get_by_role("button", name="Record a contact").click()
    look_at(manager, "20-new-contact")
    manager.get_by_role("button", name="Find existing records").click()
    expect(manager.locator(".govuk-error-summary")).to_contain_text(
        "Enter the subject's last name, or 'Unknown'"
    )
    look_at(manager, "21-new-contact-errors")
    manager.get_by_label("A child, or children").check()
    manager.get_by_label("A partner agency").check()
    manager.get_by_label("Which agency?").select_option(label="Education")
    manager.get_by_label("Name of the person who made the contact").fill("Ms Adeyemi, teacher")
    manager.get_by_label("Domestic abuse").check()
    manager.get_by_label("What did they tell you?").fill(ACCOUNT)
    manager.locator("#people-0-forenames").fill("Jayden")
    manager.locator("#people-0-surname").fill("Okoro")
    manager.locator("#people-0-date_of_birth-day").fill("12")
    manager.locator("#people-0-date_of_birth-month").fill("5")
    manager.locator("#people-0-date_of_birth-year").fill("2016")
    manager.locator("#people-1-relationship").fill("Mother")
    manager.locator("#people-1-forenames").fill("Grace")
    manager.locator("#people-1-surname").fill("Okoro")
    manager.get_by_role("button", name="Find existing records").click()
    expect(manager.get_by_text("Held by Health (1 record), Police (1 record).")).to_be_visible()
    look_at(manager, "22-new-contact-records-found")
    manager.get_by_label(re.compile(r"Hub subject \d+")).check()
    manager.get_by_role("button", name="Record contact").click()
    heading = manager.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^Contact HAC-\d{4}-\d{5}$"))
    reference = heading.inner_text().removeprefix("Contact ")
    referral_url = manager.url
    look_at(manager, "23-contact")

    manager.get_by_label("Red").check()
    manager.get_by_label("Why this rating?").fill("Disclosure of violence at home")
    manager.get_by_role("button", name="Set the rating").click()
    expect(heading).to_have_text(f"Referral {reference}")
    manager.goto("/referrals")
    expect(manager.get_by_role("link", name=reference)).to_be_visible()
    expect(manager.locator(".moj-badge--red", has_text="Overdue")).to_be_visible()
    expect(manager.locator(".moj-badge", has_text="Due soon")).to_be_visible()
    look_at(manager, "24-queue")

    # Police add their incident and release it, with a reason and a lawful basis.
    police.get_by_role("link", name="Research").click()
    expect(police.get_by_role("link", name=reference)).to_be_visible()
    look_at(police, "25-research-tasks")
    police.get_by_role("link", name=reference).click()
    expect(police.get_by_text(POLICE_SUMMARY)).to_be_visible()
    look_at(police, "26-research")
    police.get_by_role("button", name=re.compile("Add to referral.*Domestic incident")).click()
    police.get_by_label("Release it").check()
    police.get_by_label("Lawful basis for the release").select_option(
        label="Children Act 1989 s47 (significant harm)"
    )
    police.get_by_label("Why?").fill("Necessary for the strategy discussion")
    police.get_by_role("button", name="Save the release decision").click()
    expect(police.locator(".govuk-notification-banner")).to_contain_text("released")
    police.get_by_role("button", name="Mark research complete").click()
    expect(police.get_by_role("heading", level=1)).to_have_text("Research")

    # Health, without JavaScript, write a note and signpost it: it never leaves the hub.
    health.goto(referral_url.replace("/referrals/", "/research/"))
    health.get_by_label("Title").fill("GP records")
    health.get_by_label("What your agency holds").fill(HEALTH_NOTE)
    health.get_by_role("button", name="Add to referral").click()
    health.get_by_label("Signpost it").check()
    health.get_by_label("Why?").fill("Caldicott: the GP decides, ask the health lead")
    health.get_by_role("button", name="Save the release decision").click()
    expect(health.locator(".govuk-notification-banner")).to_contain_text("signposted")
    look_at(health, "27-research-health-no-javascript", axe=False)

    # The manager decides: a strategy discussion, with a joint visit by the police.
    manager.goto(referral_url)
    expect(manager.get_by_text(HEALTH_NOTE)).to_be_visible()  # the secure room sees it all
    manager.get_by_label("Strategy discussion (section 47)").check()
    manager.get_by_label("Rationale").fill("Reasonable cause to suspect significant harm")
    manager.locator("#decision-interventions-0-agency").select_option(label="Police")
    manager.locator("#decision-interventions-0-description").fill("Joint visit with social care")
    manager.get_by_role("button", name="Record the decision").click()
    # Some agencies are still researching: the page warns and asks the manager to confirm.
    expect(manager.locator(".govuk-error-summary")).to_contain_text("Research is still open for")
    look_at(manager, "28-decision-with-research-open")
    manager.get_by_label("I am deciding before these agencies have finished their research").check()
    manager.get_by_role("button", name="Record the decision").click()
    expect(manager.get_by_text("Strategy discussion (section 47)").first).to_be_visible()
    expect(manager.get_by_text("while research was still open for").first).to_be_visible()
    look_at(manager, "28-referral-decided")

    manager.get_by_role("button", name="Open the information product").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text(f"Information product {reference}")
    product = manager.locator("main").inner_text()
    assert POLICE_SUMMARY in product and "MASH health lead" in product
    assert HEALTH_NOTE not in product and "GP records" not in product
    look_at(manager, "29-information-product")
    with manager.expect_download() as download:
        manager.get_by_role("button", name="Download as PDF").click()
    assert download.value.suggested_filename == f"information-product-{reference}.pdf"
    saved = tmp_path / "product.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    text = _pdf_text(saved)
    assert POLICE_SUMMARY in text and "Health" in text and "OFFICIAL-SENSITIVE" in text
    assert HEALTH_NOTE not in text and "GP records" not in text

    assert manager_problems.messages == police_problems.messages == health_problems.messages == []


def _pdf_text(path: Path) -> str:
    done = subprocess.run(
        ["/usr/bin/pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return " ".join(done.stdout.split())
