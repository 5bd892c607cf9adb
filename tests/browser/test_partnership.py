"""Partnership intelligence in a real browser against the real server: the manager follows the
queue's cumulative-harm tag to its explanation and dismisses it with a reason (without
JavaScript), and sees on the referral which agencies are involved with the family; the
partnership analyst opens the strategic assessment and downloads its CSV and PDF. Every page is
photographed (test-artifacts/screenshots/5x-*.png); the analyst's, with JavaScript on, are
checked with axe too."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from node import users
from node.access import Actor
from node.auth.totp import enrol_totp_for_demo
from node.importing.service import import_files
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.runtime import Node
from node.store.models import Pathway, PersonRecord, Role, utcnow
from tests.browser.conftest import Problems, RunningNode, look_at, open_page
from tests.helpers import ADMIN, write_csv

PEOPLE = (
    ("partnership.manager", "Ife Balogun", Role.MASH_MANAGER),
    ("partnership.analyst", "Rhian Pryce", Role.PARTNERSHIP_ANALYST),
)
PASSWORD = "Partnership-correct-horse-battery"
WORKER = "Tomasz Wieczorek"


@pytest.fixture(scope="module")
def hub(running_node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Children's social care has the child open (worker and team); police, health and a school
    each raised a low-level concern about her in the last six weeks. Returns TOTP secrets."""
    folder = tmp_path_factory.mktemp("partnership-data")
    child = {"forenames": "Ottilie", "surname": "Marchetti", "date_of_birth": "2014-07-19"}
    csc = write_csv(
        folder / "csc.csv",
        [
            {
                "record_id": "ptnr-C1",
                **child,
                "open_case": "yes",
                "worker": WORKER,
                "team": "Child in Need team 3",
                "since": "2026-08-04",
            }
        ],
    )
    secrets = {}
    with Node.open(running_node.directory / "node.toml") as node, node.unit_of_work() as session:
        import_files(session, ADMIN, "childrens-social-care", [csc])
        subject = session.scalar(
            select(PersonRecord.subject_id).where(PersonRecord.agency_record_id == "ptnr-C1")
        )
        manager = Actor("partnership.setup", Role.MASH_MANAGER)
        for agency, days in (("police", 30), ("health", 14), ("education", 1)):
            record_contact(
                session,
                manager,
                NewContact(
                    pathway=Pathway.CHILD,
                    source_kind="agency",
                    source_agency=agency,
                    categories=("neglect",),
                    account="A low-level worry about Ottilie",
                    people=(
                        PersonDetails(surname="Marchetti", forenames="Ottilie", subject_id=subject),
                    ),
                    received_at=utcnow() - dt.timedelta(days=days),
                ),
                node.config.referrals,
            )
        for username, name, role in PEOPLE:
            users.add_user(
                session, ADMIN, username=username, display_name=name, role=role, password=PASSWORD
            )
            secrets[username] = enrol_totp_for_demo(session, node.keys, username)
    return secrets


@pytest.fixture
def tabs(browser: Browser, running_node: RunningNode) -> Iterator[dict[str, tuple[Page, Problems]]]:
    opened = {
        "partnership.manager": open_page(browser, running_node, javascript=False),
        "partnership.analyst": open_page(browser, running_node),
    }
    yield opened
    for tab, _ in opened.values():
        tab.context.close()


def sign_in(tab: Page, username: str, secret: str) -> None:
    tab.goto("/sign-in")
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Password", exact=True).fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_label("Enter the code from your authenticator app").fill(pyotp.TOTP(secret).now())
    tab.get_by_role("button", name="Continue").click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text("Signed in as")


def test_the_manager_dismisses_a_flag_and_the_analyst_exports_the_assessment(
    tabs: dict[str, tuple[Page, Problems]], hub: dict[str, str], tmp_path: Path
) -> None:
    manager, manager_problems = tabs["partnership.manager"]
    analyst, analyst_problems = tabs["partnership.analyst"]
    for username, (tab, _) in tabs.items():
        sign_in(tab, username, hub[username])

    # The queue flags Ottilie's contacts; the flag says which events raised it.
    manager.get_by_role("link", name="Contacts and referrals").click()
    flag = manager.locator("a.harm-flag", has_text="Three agencies in six weeks").first
    expect(flag).to_be_visible()
    look_at(manager, "50-queue-flagged", axe=False)
    flag.click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("Three agencies in six weeks")
    events = manager.get_by_role("table")
    for agency in ("Police", "Health", "Education"):
        expect(events).to_contain_text(agency)
    look_at(manager, "51-flag", axe=False)
    manager.get_by_role("button", name="Dismiss flag").click()
    expect(manager.locator(".govuk-error-summary")).to_contain_text(
        "Enter why the flag is dismissed"
    )
    manager.get_by_label("Why is this flag dismissed?").fill("Known: allocated social worker")
    manager.get_by_role("button", name="Dismiss flag").click()
    expect(manager.get_by_text("Flag dismissed. Your reason is kept with it.")).to_be_visible()
    expect(manager.locator("main")).to_contain_text("Known: allocated social worker")

    # The referral lists who is involved with her now.
    manager.get_by_role("link", name=re.compile(r"^HAC-\d{4}-\d{5}$")).first.click()
    involved = manager.locator("table.app-involvement")
    expect(involved).to_contain_text("Children's social care")
    expect(involved).to_contain_text(WORKER)
    look_at(manager, "52-referral-involvement", axe=False)
    assert manager_problems.messages == []

    # The analyst sees the assessment for this year, and nothing of the referrals.
    analyst.get_by_role("link", name="Strategic assessment").click()
    analyst.get_by_role("textbox", name="Period").fill(str(dt.date.today().year))
    analyst.get_by_role("button", name="Show").click()
    expect(analyst.get_by_role("heading", level=1)).to_have_text(
        f"Strategic assessment, {dt.date.today().year}"
    )
    expect(analyst.locator("figure.app-chart svg[role=img]").first).to_be_visible()
    expect(analyst.locator("main")).not_to_contain_text("Marchetti")
    look_at(analyst, "53-assessment")
    with analyst.expect_download() as download:
        analyst.get_by_role("link", name="Download as CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Contacts by source" in text
    assert not re.search(r",[1-4](,|\r?$)", text, re.MULTILINE)
    with analyst.expect_download() as download:
        analyst.get_by_role("link", name="Download as PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert analyst.request.get("/referrals").status == 403
    assert analyst_problems.messages == []
