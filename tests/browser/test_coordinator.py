"""The coordinator in a real browser against the real server (`mash-coordinator serve`, with two
years of synthetic figures): the London overview, a borough's page, editing a milestone (its
history shows the change), entering a baseline, downloading the interim report (its PDF's text
checked), a page without JavaScript, and axe-core clean on every page. Screenshots in
test-artifacts/screenshots/c*.png."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from coordinator.evaluation.demo_data import write_demo_data
from coordinator.runtime import Coordinator
from coordinator.store.models import EnrolledNode, NodeHeartbeat, Role
from tests.browser.conftest import ACTION_TIMEOUT_MS, Problems, axe_violations, look_at
from tests.coordinator.conftest import build_coordinator
from tests.coordinator.processes import coordinator_process
from tests.web.conftest import WebUser

PEOPLE = (
    ("c.editor", "Edith Marlow", Role.EDITOR, True),
    ("c.viewer", "Vera Lind", Role.VIEWER, True),
)
NOT_LIVE = "waltham-forest"  # in wave 3 of the demo plan, live within the demo's two years


@dataclass(frozen=True)
class Site:
    base_url: str
    users: dict[str, WebUser]
    directory: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("browser-coordinator")
    people = build_coordinator(directory, people=PEOPLE)
    with (
        Coordinator.open(directory / "coordinator.toml") as coordinator,
        coordinator.unit_of_work() as db,
    ):
        write_demo_data(db, months=24)
        _nodes(db)
    with coordinator_process(directory) as running:
        yield Site(running.web_url, people, directory)


def _nodes(db: Session) -> None:
    """Two enrolled nodes for the Nodes page: Hackney live with a heartbeat, Lambeth revoked."""
    now = dt.datetime.now(dt.UTC)
    for index, borough in enumerate(("hackney", "lambeth")):
        db.add(
            EnrolledNode(
                borough=borough,
                endpoint=f"{borough}-mash.example.org:50051",
                verify_key=bytes([index + 1]) * 32,
                box_key=bytes([index + 2]) * 32,
                oprf_public_key=bytes([index + 3]) * 32,
                oprf_epoch=1,
                certificate_pem="-",
                certificate_sha256=bytes([index]) * 32,
                token_id=f"{index:016x}",
                enrolled_at=now,
                revoked_at=now if borough == "lambeth" else None,
                revoked_by="admin" if borough == "lambeth" else None,
                revoked_reason="Key copied off the server" if borough == "lambeth" else None,
            )
        )
    db.add(
        NodeHeartbeat(
            borough="hackney", received_at=now, software_version="0.1.0", key_set_version=3,
            filter_epoch=1, filter_size=1234, reports_queued=0, requests_undelivered=1,
            requests_open=2, answers_undelivered=0, last_import_at=now, directory_version=3,
        )
    )  # fmt: skip


def _sign_in(
    browser: Browser, site: Site, username: str, *, javascript: bool = True, step: int = 0
) -> tuple[Page, Problems]:
    context = browser.new_context(
        base_url=site.base_url, java_script_enabled=javascript, accept_downloads=True
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    tab = context.new_page()
    problems = Problems()
    tab.on("console", problems.console)
    tab.on("pageerror", problems.exception)
    user = site.users[username]
    tab.goto("/")
    tab.get_by_label("Username").fill(user.username)
    tab.get_by_label("Password", exact=True).fill(user.password)
    tab.get_by_role("button", name="Sign in").click()
    assert user.totp_secret is not None
    tab.get_by_label("Enter the code from your authenticator app").fill(
        pyotp.TOTP(user.totp_secret).at(dt.datetime.now(dt.UTC).timestamp() + 30 * step)
    )
    tab.get_by_role("button", name="Continue").click()
    expect(tab).to_have_url(re.compile(r"/$"))
    return tab, problems


@pytest.fixture(scope="module")
def editor(browser: Browser, site: Site) -> Iterator[tuple[Page, Problems]]:
    tab, problems = _sign_in(browser, site, "c.editor")
    yield tab, problems
    tab.context.close()


def test_the_overview_shows_london_at_a_glance(editor: tuple[Page, Problems]) -> None:
    tab, problems = editor
    tab.goto("/")

    expect(tab.get_by_role("heading", level=1)).to_have_text("London overview")
    expect(tab.locator("#london-map svg a")).to_have_count(33)
    expect(tab.get_by_role("heading", name="Late milestones")).to_be_visible()
    expect(tab.get_by_role("img", name="The waves on a timeline")).to_be_visible()
    expect(tab.locator("#stage-counts table")).to_be_visible()
    look_at(tab, "c01-overview")
    tab.locator("#london-map svg a[href$='/lambeth']").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Lambeth")
    assert problems.messages == []


def test_a_boroughs_page_has_its_plan_figures_and_history(editor: tuple[Page, Problems]) -> None:
    tab, problems = editor
    tab.goto("/boroughs/lambeth")

    for section in ("Place in the rollout", "Milestones", "Progression framework", "Partner agencies",
                    "Agreements", "Funding", "Baseline before go-live", "Figures", "History"):  # fmt: skip
        expect(tab.get_by_role("heading", name=section, exact=True)).to_be_visible()
    expect(tab.get_by_role("img", name="Contacts and referrals each month")).to_be_visible()
    expect(tab.locator("#history ~ ol li").first).to_contain_text("system:demo-data")
    look_at(tab, "c02-borough")
    assert problems.messages == []


def test_an_editor_changes_a_milestone_and_its_history_shows_the_change(
    editor: tuple[Page, Problems],
) -> None:
    tab, problems = editor
    tab.goto("/boroughs/lambeth")
    row = tab.locator("#milestones ~ div table tbody tr", has_text="Interim review")
    row.get_by_role("link", name="Change").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Change the milestone")
    look_at(tab, "c03-milestone-form")

    tab.get_by_label("Milestone", exact=True).fill("Interim review with the borough's partners")
    tab.locator("#due_on-day").fill("31")
    tab.locator("#due_on-month").fill("2")
    tab.get_by_role("button", name="Save").click()
    expect(tab.locator(".govuk-error-summary")).to_contain_text("Due date must be a real date")
    expect(tab.get_by_label("Milestone", exact=True)).to_have_value(
        "Interim review with the borough's partners"
    )
    tab.locator("#due_on-day").fill("27")
    tab.get_by_role("button", name="Save").click()

    expect(tab.locator(".govuk-notification-banner")).to_contain_text("saved")
    latest = tab.locator("#history ~ ol li").first
    expect(latest).to_contain_text("changed by c.editor", ignore_case=True)
    expect(latest).to_contain_text(
        "Milestone: Interim review → Interim review with the borough's partners"
    )
    look_at(tab, "c04-milestone-saved")
    assert problems.messages == []


def test_an_editor_enters_a_baseline(editor: tuple[Page, Problems]) -> None:
    tab, problems = editor
    tab.goto(f"/boroughs/{NOT_LIVE}")
    tab.get_by_role("link", name=re.compile("baseline")).first.click()
    for field, value in (
        ("#period_from-day", "3"), ("#period_from-month", "3"), ("#period_from-year", "2025"),
        ("#period_to-day", "28"), ("#period_to-month", "3"), ("#period_to-year", "2025"),
        ("#sample_size", "210"),
        ("#red_contacts", "31"), ("#red_mean_days", "1.6"), ("#red_median_days", "1.1"),
        ("#amber_contacts", "140"), ("#amber_mean_days", "3.6"), ("#amber_median_days", "3"),
        ("#green_contacts", "260"), ("#green_mean_days", "6.4"), ("#green_median_days", "5.5"),
    ):  # fmt: skip
        tab.locator(field).fill(value)
    look_at(tab, "c05-baseline-form")
    tab.get_by_role("button", name="Save").click()

    expect(tab.locator(".govuk-notification-banner")).to_contain_text("baseline is saved")
    table = tab.locator("#baseline ~ table")
    expect(table).to_contain_text("3 March 2025 to 28 March 2025, 210 contacts")
    expect(table.locator("tr", has_text="Amber")).to_contain_text("140.0")
    assert problems.messages == []


def test_the_interim_report_downloads_as_a_pdf_with_its_figures(
    editor: tuple[Page, Problems], tmp_path: Path
) -> None:
    tab, problems = editor
    tab.goto("/reports")
    look_at(tab, "c06-reports")
    with tab.expect_download(timeout=60_000) as download:
        tab.get_by_role("link", name="Download the interim report as PDF").click()
    saved = tmp_path / "interim.pdf"
    download.value.save_as(saved)
    text = " ".join(
        subprocess.run(
            ["/usr/bin/pdftotext", "-layout", str(saved), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    )

    assert download.value.suggested_filename.startswith("mash-interim-evaluation-report")
    assert "Interim evaluation report" in text
    assert "Method" in text and "suppressed" in text
    assert "Contacts and referrals each month" in text
    assert "Before and after go-live" in text
    assert problems.messages == []


def test_pages_work_without_javascript(browser: Browser, site: Site) -> None:
    tab, problems = _sign_in(browser, site, "c.viewer", javascript=False, step=1)
    try:
        tab.goto("/evaluation")
        tab.get_by_label("From", exact=True).select_option("2025-06")
        tab.get_by_label("To", exact=True).select_option("2025-11")
        tab.get_by_role("button", name="Show").click()
        expect(tab.get_by_role("heading", level=1)).to_contain_text("June 2025 to November 2025")
        expect(tab.locator("#contacts table tbody tr")).to_have_count(6)
        look_at(tab, "c07-evaluation-no-js", axe=False)
    finally:
        tab.context.close()


def test_every_page_is_clean_under_axe(editor: tuple[Page, Problems]) -> None:
    tab, problems = editor
    tab.goto("/boroughs/lambeth")
    milestone = tab.locator("a[href^='/milestones/'][href$='/edit']").first.get_attribute("href")
    funding = tab.locator("a[href^='/funding/'][href$='/edit']").first.get_attribute("href")
    assert milestone and funding
    pages = [
        "/", "/boroughs", "/boroughs/lambeth", f"/boroughs/{NOT_LIVE}", "/boroughs/lambeth/plan",
        "/boroughs/lambeth/milestones/new", milestone, milestone.replace("/edit", "/remove"),
        "/boroughs/lambeth/framework/new", "/boroughs/lambeth/partners/police",
        "/boroughs/lambeth/agreements/eia", "/boroughs/lambeth/funding/new", funding,
        funding.replace("/edit", "/remove"), "/boroughs/lambeth/baseline", "/waves", "/waves/1/edit",
        "/funding", "/settings", "/evaluation", "/evaluation/boroughs/lambeth",
        "/evaluation/compare", "/evaluation/received", "/reports", "/reports/interim",
        "/reports/final", "/history", "/nodes",
    ]  # fmt: skip
    found = {}
    for path in pages:
        tab.goto(path)
        violations = axe_violations(tab)
        if violations:
            found[path] = violations
    tab.goto("/boroughs/lambeth/milestones/new")
    tab.get_by_role("button", name="Save").click()  # a form with errors
    found_errors = axe_violations(tab)
    look_at(tab, "c08-form-errors", axe=False)

    assert found == {}
    assert found_errors == []
    assert problems.messages == []
