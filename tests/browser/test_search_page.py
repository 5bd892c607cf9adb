"""Searching in a real browser: a police professional finds a person by a misspelt name, sees
police records in full and health only as a count, gets errors on the right fields, and reviews
a possible duplicate. Each page is checked with axe (WCAG 2.2 A and AA) and photographed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Browser, Page, StorageState, expect

from node import users
from node.auth.totp import enrol_totp_for_demo
from node.importing.service import import_files
from node.runtime import Node
from node.store.models import Role
from tests.browser.conftest import ACTION_TIMEOUT_MS, Problems, RunningNode, look_at
from tests.helpers import ADMIN, write_csv

USERNAME = "search.pro"
PASSWORD = "Search-pages-9-battery"
PURPOSE = "MASH-2026-0042"
TYLER = {
    "forenames": "Tyler",
    "surname": "Mensah",
    "date_of_birth": "2014-06-02",
    "postcode": "E8 3PL",
    "nhs_number": "9434765919",
}
AMARA = {"forenames": "Amara", "surname": "Boateng", "date_of_birth": "2011-02-20"}


@pytest.fixture(scope="module")
def searcher(running_node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A police professional of our own (so no other test's sign-in uses up their codes), and
    police and health records in the running node: one person both hold, and a possible
    duplicate. Returns the user's TOTP secret."""
    folder = tmp_path_factory.mktemp("search-extracts")
    police = write_csv(
        folder / "police.csv",
        [
            dict(TYLER, record_id="srch-P1", aliases="Ty Mensah", address="4 Mare Street"),
            dict(AMARA, record_id="srch-P2", postcode="N16 7AB"),
        ],
    )
    police_items = write_csv(
        folder / "police-items.csv",
        [
            {
                "item_ref": "srch-P1-1",
                "record_id": "srch-P1",
                "date": "2025-11-03",
                "category": "Domestic incident",
                "summary": "Officers attended a domestic incident at the home",
                "detail": "Shouting heard by neighbours.\nTyler was present and unhurt.",
                "sensitivity": "sensitive",
            },
            {
                "item_ref": "srch-P1-2",
                "record_id": "srch-P1",
                "date": "2024-02-11",
                "category": "Missing episode",
                "summary": "Reported missing overnight, found next morning",
            },
        ],
    )
    health = write_csv(
        folder / "health.csv",
        [
            dict(TYLER, record_id="srch-H1"),
            dict(AMARA, record_id="srch-H2", postcode="E5 0LL"),
        ],
    )
    with Node.open(running_node.directory / "node.toml") as node, node.unit_of_work() as session:
        import_files(session, ADMIN, "police", [police, police_items])
        import_files(session, ADMIN, "health", [health])
        users.add_user(
            session,
            ADMIN,
            username=USERNAME,
            display_name="Sam Okoye",
            role=Role.AGENCY_PROFESSIONAL,
            agency_code="police",
            password=PASSWORD,
        )
        return enrol_totp_for_demo(session, node.keys, USERNAME)


@pytest.fixture(scope="module")
def signed_in(browser: Browser, running_node: RunningNode, searcher: str) -> StorageState:
    """The searcher signed in once (a TOTP code works once): each test starts from its cookies."""
    context = browser.new_context(base_url=running_node.base_url)
    try:
        _sign_in(context.new_page(), searcher)
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture
def signed_in_tab(
    browser: Browser, running_node: RunningNode, signed_in: StorageState
) -> Iterator[tuple[Page, Problems]]:
    context = browser.new_context(base_url=running_node.base_url, storage_state=signed_in)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    opened = context.new_page()
    problems = Problems()
    opened.on("console", problems.console)
    opened.on("pageerror", problems.exception)
    yield opened, problems
    context.close()


def _sign_in(tab: Page, secret: str) -> None:
    tab.goto("/sign-in")
    tab.get_by_label("Username").fill(USERNAME)
    tab.get_by_label("Password", exact=True).fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_label("Enter the code from your authenticator app").fill(pyotp.TOTP(secret).now())
    tab.get_by_role("button", name="Continue").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Signed in as Sam Okoye")


def test_a_professional_finds_a_person_by_a_misspelt_name(
    signed_in_tab: tuple[Page, Problems],
) -> None:
    tab, problems = signed_in_tab
    tab.goto("/")
    tab.get_by_role("link", name="Search records").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Search records")
    look_at(tab, "30-search-form")

    tab.get_by_label("Forenames").fill("Tylar")
    tab.get_by_label("Surname").fill("Mensa")
    tab.get_by_label("Purpose or referral reference").fill(PURPOSE)
    tab.get_by_role("button", name="Search", exact=True).click()

    expect(tab.get_by_role("heading", name="1 subject found")).to_be_visible()
    card = tab.locator(".govuk-summary-card")
    expect(card.get_by_role("heading", level=3)).to_contain_text("Tyler Mensah")
    expect(card).to_contain_text("Police (1)")
    expect(card).to_contain_text("Health (1)")
    expect(card.get_by_text("Officers attended a domestic incident at the home")).to_be_visible()
    expect(card.get_by_text("Tyler was present and unhurt.")).to_be_visible()
    expect(card).to_contain_text("ask them through the referral")
    assert urlsplit(tab.url).query == ""  # the search went in the body, not the address
    look_at(tab, "31-search-results")

    tab.set_viewport_size({"width": 375, "height": 800})
    look_at(tab, "32-search-results-mobile", axe=False)
    tab.set_viewport_size({"width": 1280, "height": 720})

    card.get_by_role("button", name=re.compile("View on its own page")).click()
    expect(tab.get_by_role("heading", level=1)).to_have_text(re.compile(r"Subject \d+"))
    expect(tab.get_by_text("Reported missing overnight, found next morning")).to_be_visible()
    look_at(tab, "33-subject")
    assert problems.messages == []


def test_search_errors_are_shown_on_their_fields_accessibly(
    signed_in_tab: tuple[Page, Problems],
) -> None:
    tab, problems = signed_in_tab
    tab.goto("/search")

    tab.get_by_label("Forenames").fill("Tyler")
    tab.get_by_label("Day").fill("31")
    tab.get_by_label("Month").fill("2")
    tab.get_by_label("Year").fill("2014")
    tab.get_by_role("button", name="Search", exact=True).click()

    summary = tab.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Date of birth must be a real date")
    expect(summary).to_contain_text("Enter the purpose or the referral reference")
    expect(summary).to_be_focused()  # GOV.UK Frontend moves focus to the summary
    look_at(tab, "34-search-errors")

    summary.get_by_role("link", name="Date of birth must be a real date").click()
    expect(tab.locator("#date_of_birth-day")).to_be_focused()

    tab.get_by_label("Day").fill("")
    tab.get_by_label("Month").fill("")
    tab.get_by_label("Year").fill("")
    tab.get_by_label("Purpose or referral reference").fill(PURPOSE)
    tab.get_by_role("button", name="Search", exact=True).click()
    expect(tab.locator("#surname-error")).to_contain_text("a name search needs the surname")
    look_at(tab, "35-search-service-error")
    assert problems.messages == []


def test_a_possible_duplicate_is_reviewed(signed_in_tab: tuple[Page, Problems]) -> None:
    tab, problems = signed_in_tab
    tab.goto("/search")
    tab.get_by_role("link", name="Review possible duplicates").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Possible duplicates")
    link = tab.locator(".govuk-summary-card").filter(has_text="Name and date of birth").first
    expect(link).to_contain_text("Strong")
    look_at(tab, "36-possible-duplicates")

    link.get_by_role("button", name="Reject: not the same person").click()
    expect(tab.locator(".govuk-error-summary")).to_contain_text(
        "Enter the reason for your decision"
    )
    look_at(tab, "37-possible-duplicates-error")

    link = tab.locator(".govuk-summary-card").filter(has_text="Name and date of birth").first
    link.get_by_label("Reason for your decision").fill("Same child: the school confirms the move")
    link.get_by_role("button", name="Confirm: same person").click()
    expect(tab.locator(".govuk-notification-banner")).to_contain_text(
        "has been merged into subject"
    )
    merge = tab.locator(".govuk-summary-card").filter(has_text="the school confirms the move")
    look_at(tab, "38-merge-to-undo")

    merge.get_by_label("Reason for undoing the merge").fill("Confirmed in error")
    merge.get_by_role("button", name=re.compile("Undo merge")).click()
    expect(tab.locator(".govuk-notification-banner")).to_contain_text("undone")
    assert problems.messages == []
