"""A MASH manager in Lambeth checks the other boroughs from a referral's page, in Chromium, with
real node processes: Hackney holds information on the child, Southwark holds nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, expect

from node import users
from node.access import Actor
from node.auth.totp import enrol_totp_for_demo
from node.importing.service import import_files
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.referrals.triage import set_rag
from node.runtime import Node
from node.store.models import Pathway, Rag, Role, utcnow
from tests.browser.conftest import look_at
from tests.federation.nodes import Served, local_federation, serving, wait_for_filters
from tests.helpers import ADMIN, write_csv

PASSWORD = "Borough-check-pass-phrase-3"
CHILD = {
    "forenames": "Amara",
    "surname": "Nwosu",
    "date_of_birth": "2015-06-12",
    "postcode": "E8 2LX",
    "nhs_number": "9434765870",
}


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Served]]:
    root = tmp_path_factory.mktemp("browser-federation")
    nodes = local_federation(
        root, [("hackney", "Hackney"), ("lambeth", "Lambeth"), ("southwark", "Southwark")]
    )
    hackney = nodes[0]
    people = write_csv(root / "police.csv", [{"record_id": "P-1", **CHILD}])
    with Node.open(hackney.config_path) as node, node.unit_of_work(ADMIN) as session:
        import_files(session, ADMIN, "police", [people])
    with serving(nodes) as served:
        wait_for_filters(nodes)
        yield served


def _manager_with_referral(served: Served) -> tuple[str, int]:
    with Node.open(served.local.config_path) as node, node.unit_of_work() as session:
        users.add_user(
            session,
            ADMIN,
            username="lambeth.manager",
            display_name="Lola Adeyemi",
            role=Role.MASH_MANAGER,
            password=PASSWORD,
        )
        secret = enrol_totp_for_demo(session, node.keys, "lambeth.manager")
        manager = Actor("lambeth.manager", Role.MASH_MANAGER)
        referral = record_contact(
            session,
            manager,
            NewContact(
                pathway=Pathway.CHILD,
                source_kind="agency",
                source_agency="education",
                categories=("neglect",),
                account="New pupil from Hackney, arrives hungry.",
                people=(
                    PersonDetails(
                        surname="Nwosu",
                        forenames="Amara",
                        date_of_birth=dt.date(2015, 6, 12),
                        postcode="SE11 5QY",
                    ),
                ),
                received_at=utcnow() - dt.timedelta(minutes=10),
            ),
            node.config.referrals,
        )
        set_rag(session, manager, referral.id, Rag.RED, "New to the borough", node.config.referrals)
        return secret, referral.id


def test_a_manager_checks_the_other_boroughs_from_a_referral(
    browser: Browser, federation: dict[str, Served], tmp_path: Path
) -> None:
    lambeth = federation["lambeth"]
    secret, referral_id = _manager_with_referral(lambeth)
    context = browser.new_context(base_url=lambeth.web_url)
    tab = context.new_page()
    try:
        tab.goto("/sign-in")
        tab.get_by_label("Username").fill("lambeth.manager")
        tab.get_by_label("Password", exact=True).fill(PASSWORD)
        tab.get_by_role("button", name="Sign in").click()
        tab.get_by_label("Enter the code from your authenticator app").fill(
            pyotp.TOTP(secret).now()
        )
        tab.get_by_role("button", name="Continue").click()
        tab.goto(f"/referrals/{referral_id}")
        expect(tab.locator("#other-boroughs")).to_be_visible()
        tab.get_by_role("button", name="Check other boroughs").click()
        table = tab.locator("#other-boroughs + table")
        expect(table).to_contain_text("Hackney")
        expect(table.locator("tr", has_text="Hackney")).to_contain_text("Holds information")
        expect(table.locator("tr", has_text="Southwark")).to_contain_text("Holds nothing")
        expect(tab.locator(".govuk-notification-banner")).to_contain_text("Hackney may hold")
        expect(tab.get_by_text("Checked other boroughs.").first).to_be_visible()
        look_at(tab, "40-referral-other-boroughs")
    finally:
        context.close()
