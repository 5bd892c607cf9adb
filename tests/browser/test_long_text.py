"""Free text as people really type it: 10,000 characters without a space must wrap, not widen the
referral page (it once made it 60,000 pixels wide), and the forms say how much text is allowed."""

from __future__ import annotations

import datetime as dt

import pyotp
from playwright.sync_api import Browser, expect

from node import users
from node.access import Actor
from node.auth.totp import enrol_totp_for_demo
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.referrals.triage import set_rag
from node.runtime import Node
from node.store.models import Pathway, Rag, Role, utcnow
from tests.browser.conftest import RunningNode, look_at, open_page
from tests.helpers import ADMIN

USERNAME = "wide.manager"
PASSWORD = "Long-text-pass-phrase-7"
UNBROKEN = "x" * 10_000


def _referral_with_long_text(node_dir: object) -> tuple[int, str]:
    with Node.open(node_dir / "node.toml") as node, node.unit_of_work() as session:  # type: ignore[operator]
        users.add_user(
            session,
            ADMIN,
            username=USERNAME,
            display_name="Wren Ashby",
            role=Role.MASH_MANAGER,
            password=PASSWORD,
        )
        secret = enrol_totp_for_demo(session, node.keys, USERNAME)
        manager = Actor(USERNAME, Role.MASH_MANAGER)
        referral = record_contact(
            session,
            manager,
            NewContact(
                pathway=Pathway.CHILD,
                source_kind="public",
                categories=("neglect",),
                account=UNBROKEN,
                people=(PersonDetails(surname="Wideman", forenames="Ola"),),
                received_at=utcnow() - dt.timedelta(minutes=5),
            ),
            node.config.referrals,
        )
        set_rag(session, manager, referral.id, Rag.AMBER, UNBROKEN[:5000], node.config.referrals)
        return referral.id, secret


def test_an_unbroken_string_wraps_instead_of_widening_the_page(
    browser: Browser, running_node: RunningNode
) -> None:
    referral_id, secret = _referral_with_long_text(running_node.directory)
    tab, problems = open_page(browser, running_node)
    tab.set_viewport_size({"width": 1280, "height": 900})
    tab.goto("/sign-in")
    tab.get_by_label("Username").fill(USERNAME)
    tab.get_by_label("Password", exact=True).fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_label("Enter the code from your authenticator app").fill(pyotp.TOTP(secret).now())
    tab.get_by_role("button", name="Continue").click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text("Signed in as")

    tab.goto(f"/referrals/{referral_id}")
    expect(tab.get_by_role("heading", level=1)).to_contain_text("Referral")
    widths = tab.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"
    look_at(tab, "referral-with-long-text", axe=False)

    # The form says how much is allowed, on the field, rather than storing anything longer.
    tab.locator("#rating-reason").fill("y" * 20_001)
    tab.get_by_role("radio", name="Red").check()
    tab.get_by_role("button", name="Change the rating").click()
    expect(tab.locator(".govuk-error-summary")).to_contain_text("20000 characters or fewer")
    assert problems.messages == []
    tab.context.close()
