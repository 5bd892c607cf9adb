"""Disclosure between two real node processes, in Chromium: Lambeth's manager checks the other
boroughs and asks Hackney for what it holds on a child; Hackney's manager matches the child,
its police professional releases an item and its health professional declines one, and the
manager sends the answer; Lambeth's information product then holds the police item and a
signpost to Hackney's health, not the health content (page and PDF)."""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from node import users
from node.access import Actor
from node.auth.totp import enrol_totp_for_demo
from node.importing.service import import_files
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.referrals.outcome import record_decision
from node.referrals.triage import set_rag
from node.runtime import Node
from node.store.models import Outcome, Pathway, Rag, Role, utcnow
from tests.browser.conftest import look_at
from tests.federation.nodes import Served, local_federation, serving, wait_for_filters
from tests.helpers import ADMIN, write_csv

PASSWORD = "Disclosure-journey-pass-9"
CHILD = {
    "forenames": "Tobi",
    "surname": "Okonkwo",
    "date_of_birth": "2014-02-17",
    "postcode": "E8 3RL",
    "nhs_number": "9434765919",
}
POLICE_SUMMARY = "Officers called to a fight between the adults at home"
HEALTH_SUMMARY = "Seen at A&E with bruising to the upper arm"


@dataclass
class Person:
    username: str
    secret: str


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Served]]:
    root = tmp_path_factory.mktemp("browser-disclosure")
    nodes = local_federation(root, [("hackney", "Hackney"), ("lambeth", "Lambeth")])
    hackney = nodes[0]
    for agency, ref, summary in (
        ("police", "CAD-4410", POLICE_SUMMARY),
        ("health", "ED-2291", HEALTH_SUMMARY),
    ):
        people = write_csv(root / f"{agency}.csv", [{"record_id": f"{agency}-1", **CHILD}])
        items = write_csv(
            root / f"{agency}-items.csv",
            [
                {
                    "item_ref": ref,
                    "record_id": f"{agency}-1",
                    "date": "2026-09-14",
                    "category": "Incident",
                    "summary": summary,
                    "detail": f"{summary}, in full",
                }
            ],
        )
        with Node.open(hackney.config_path) as node, node.unit_of_work(ADMIN) as session:
            import_files(session, ADMIN, agency, [people, items])
    with serving(nodes) as served:
        wait_for_filters(nodes)
        yield served


def _user(served: Served, username: str, role: Role, agency: str | None = None) -> Person:
    with Node.open(served.local.config_path) as node, node.unit_of_work() as session:
        users.add_user(
            session,
            ADMIN,
            username=username,
            display_name=username.replace(".", " ").title(),
            role=role,
            agency_code=agency,
            password=PASSWORD,
        )
        return Person(username, enrol_totp_for_demo(session, node.keys, username))


def _referral(served: Served) -> int:
    manager = Actor("lambeth.manager", Role.MASH_MANAGER)
    with Node.open(served.local.config_path) as node, node.unit_of_work() as session:
        referral = record_contact(
            session,
            manager,
            NewContact(
                pathway=Pathway.CHILD,
                source_kind="agency",
                source_agency="education",
                categories=("physical-abuse",),
                account="New pupil, moved from Hackney, flinches when approached.",
                people=(
                    PersonDetails(
                        surname=CHILD["surname"],
                        forenames=CHILD["forenames"],
                        date_of_birth=dt.date.fromisoformat(CHILD["date_of_birth"]),
                        postcode="SE11 4AA",
                    ),
                ),
                received_at=utcnow() - dt.timedelta(minutes=5),
            ),
            node.config.referrals,
        )
        set_rag(session, manager, referral.id, Rag.RED, "Signs of harm", node.config.referrals)
        return referral.id


def _signed_in(browser: Browser, served: Served, person: Person) -> tuple[BrowserContext, Page]:
    context = browser.new_context(base_url=served.web_url, accept_downloads=True)
    tab = context.new_page()
    tab.goto("/sign-in")
    tab.get_by_label("Username").fill(person.username)
    tab.get_by_label("Password", exact=True).fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_label("Enter the code from your authenticator app").fill(
        pyotp.TOTP(person.secret).now()
    )
    tab.get_by_role("button", name="Continue").click()
    expect(tab.get_by_role("heading", level=1)).to_be_visible()
    return context, tab


def _open_request(tab: Page) -> None:
    tab.goto("/disclosures")
    tab.get_by_role("link", name="Lambeth").first.click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text("Request from Lambeth")


def test_a_disclosure_from_check_to_information_product(
    browser: Browser, federation: dict[str, Served], tmp_path: Path
) -> None:
    lambeth, hackney = federation["lambeth"], federation["hackney"]
    asker = _user(lambeth, "lambeth.manager", Role.MASH_MANAGER)
    manager = _user(hackney, "hackney.manager", Role.MASH_MANAGER)
    police = _user(hackney, "hackney.police", Role.AGENCY_PROFESSIONAL, "police")
    health = _user(hackney, "hackney.health", Role.AGENCY_PROFESSIONAL, "health")
    referral_id = _referral(lambeth)
    contexts = []
    try:
        # Lambeth checks, and asks Hackney
        context, lam = _signed_in(browser, lambeth, asker)
        contexts.append(context)
        lam.goto(f"/referrals/{referral_id}")
        lam.get_by_role("button", name="Check other boroughs").click()
        lam.get_by_role("link", name="Ask Hackney for what it holds on Tobi Okonkwo").click()
        expect(lam.get_by_label("Red: within hours, around the clock")).to_be_checked()
        lam.get_by_label("Why is it necessary and proportionate to ask?").fill(
            "A child new to Lambeth with signs of physical harm: his history is needed today."
        )
        lam.get_by_label("Lawful basis for asking").select_option(
            "Children Act 1989 s47 (significant harm)"
        )
        look_at(lam, "50-disclosure-ask")
        lam.get_by_role("button", name="Send the request").click()
        expect(lam.locator(".govuk-notification-banner")).to_contain_text("sent to Hackney")
        requests = lam.locator("#requests + table")
        expect(requests).to_contain_text("Awaiting answer", timeout=15_000)

        # Hackney's manager matches the child
        context, hac = _signed_in(browser, hackney, manager)
        contexts.append(context)
        hac.goto("/disclosures")
        expect(hac.locator("#incoming + table")).to_contain_text("Lambeth")
        look_at(hac, "51-disclosure-queue")
        _open_request(hac)
        expect(hac.locator("main")).to_contain_text("Tobi Okonkwo")
        expect(hac.locator("main")).to_contain_text("Agrees on date of birth, surname")
        look_at(hac, "52-disclosure-match")
        hac.get_by_label("Hub subject", exact=False).first.check()
        hac.get_by_role("button", name="Confirm the match").click()
        expect(hac.locator("#items + p + table")).to_contain_text("Awaiting decision")
        expect(hac.locator("main")).not_to_contain_text(POLICE_SUMMARY)  # not the manager's

        # Police releases its item; health declines
        for person, choice, basis in (
            (police, "Release it", "Children Act 1989 s47 (significant harm)"),
            (health, "Decline: send a signpost to your agency only", None),
        ):
            context, pro = _signed_in(browser, hackney, person)
            contexts.append(context)
            _open_request(pro)
            pro.get_by_label(choice).check()
            pro.get_by_label("Why?").fill("Necessary and proportionate for a red referral")
            if basis:
                pro.get_by_label("Lawful basis for the release").select_option(basis)
            if person is police:
                look_at(pro, "53-disclosure-item-decision")
            pro.get_by_role("button", name="Save the decision").click()
            expect(pro.locator(".govuk-notification-banner")).to_be_visible()

        # The manager sends the answer
        hac.reload()
        hac.get_by_label("A note to the asking hub (optional)").fill("Call us on red cases.")
        hac.get_by_role("button", name="Send the answer to Lambeth").click()
        expect(hac.locator(".govuk-notification-banner")).to_contain_text("answer is sent")

        # Lambeth has it in the referral, and in its information product
        deadline = time.monotonic() + 20
        while "Information from other boroughs" not in lam.content():
            assert time.monotonic() < deadline, "the answer did not arrive"
            lam.wait_for_timeout(300)
            lam.goto(f"/referrals/{referral_id}")
        expect(lam.locator("main")).to_contain_text(POLICE_SUMMARY)
        expect(lam.locator("#from-other-boroughs ~ table").first).to_contain_text("ED-2291")
        expect(lam.locator("main")).not_to_contain_text(HEALTH_SUMMARY)
        look_at(lam, "54-disclosure-answered")
        with Node.open(lambeth.local.config_path) as node, node.unit_of_work() as session:
            record_decision(
                session,
                Actor("lambeth.manager", Role.MASH_MANAGER),
                referral_id,
                Outcome.STRATEGY_DISCUSSION,
                "Threshold met",
                research_open_confirmed=True,
            )
        lam.goto(f"/referrals/{referral_id}/information-product")
        product = lam.locator("main")
        expect(product).to_contain_text("Police, Hackney")
        expect(product).to_contain_text(POLICE_SUMMARY)
        signposts = lam.locator("h2:has-text('Signposts') + p + table")
        expect(signposts).to_contain_text("Health, Hackney")
        expect(signposts).to_contain_text("ED-2291")
        expect(product).not_to_contain_text(HEALTH_SUMMARY)
        look_at(lam, "55-disclosure-product")
        pdf = lam.request.get(f"/referrals/{referral_id}/information-product.pdf")
        assert pdf.ok
        path = tmp_path / "product.pdf"
        path.write_bytes(pdf.body())
        text = " ".join(
            subprocess.run(
                ["/usr/bin/pdftotext", str(path), "-"], capture_output=True, text=True, check=True
            ).stdout.split()
        )
        assert POLICE_SUMMARY in text and "Police, Hackney" in text
        assert "Health, Hackney" in text and "ED-2291" in text
        assert HEALTH_SUMMARY not in text
    finally:
        for context in contexts:
            context.close()
