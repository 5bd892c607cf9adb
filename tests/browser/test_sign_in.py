"""Signing in with a real browser: first sign-in with set-up of the authenticator app, the
second-factor page, the start page and signing out, each page checked with axe and photographed."""

from __future__ import annotations

import re

import pyotp
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Problems, RunningNode, look_at, open_page


def _give_password(page: Page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_new_user_sets_up_their_app_reaches_the_start_page_and_signs_out(
    page: tuple[Page, Problems], running_node: RunningNode
) -> None:
    tab, problems = page
    user = running_node.users["newcomer"]

    tab.goto("/")
    expect(tab).to_have_url(re.compile(r"/sign-in$"))
    expect(tab.get_by_role("heading", level=1)).to_have_text("Sign in to Hackney MASH")
    expect(tab.get_by_role("button", name="Show password")).to_be_visible()  # JS ran under CSP
    look_at(tab, "01-sign-in")

    _give_password(tab, user.username, user.password)
    expect(tab).to_have_url(re.compile(r"/sign-in/set-up-two-factor$"))
    expect(tab.locator(".app-qr-code svg")).to_be_visible()
    look_at(tab, "02-set-up-two-factor")

    tab.get_by_text("I cannot scan the QR code").click()
    secret = tab.locator("#secret-key").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    look_at(tab, "03-set-up-two-factor-key-shown")
    tab.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    tab.get_by_role("button", name="Continue").click()

    expect(tab).to_have_url(re.compile(r"/$"))
    expect(tab.get_by_role("heading", level=1)).to_have_text("Signed in as Nia Okafor")
    expect(tab.get_by_text("Children's social care")).to_be_visible()
    look_at(tab, "04-start")

    tab.get_by_role("button", name="Sign out").click()
    expect(tab).to_have_url(re.compile(r"/sign-in$"))
    expect(tab.get_by_text("You have signed out.")).to_be_visible()
    look_at(tab, "05-signed-out")
    tab.goto("/")
    expect(tab).to_have_url(re.compile(r"/sign-in$"))
    assert problems.messages == []


def test_an_enrolled_user_gives_password_and_code_with_errors_shown_accessibly(
    page: tuple[Page, Problems], running_node: RunningNode
) -> None:
    tab, problems = page
    user = running_node.users["manager"]
    tab.goto("/sign-in")

    _give_password(tab, user.username, "not-the-right-password")
    expect(tab.locator(".govuk-error-summary")).to_contain_text(
        "The username or password is not right"
    )
    look_at(tab, "06-sign-in-error")

    _give_password(tab, user.username, user.password)
    expect(tab).to_have_url(re.compile(r"/sign-in/two-factor$"))
    look_at(tab, "07-two-factor")
    tab.get_by_label("Enter the code from your authenticator app").fill("12345")
    tab.get_by_role("button", name="Continue").click()
    expect(tab.locator(".govuk-error-summary")).to_contain_text("Enter the code as 6 digits")
    look_at(tab, "08-two-factor-error")

    tab.get_by_label("Enter the code from your authenticator app").fill(user.code())
    tab.get_by_role("button", name="Continue").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Signed in as Morgan Ashdown")
    expect(tab.get_by_text("MASH manager")).to_be_visible()
    assert problems.messages == []


def test_signing_in_and_out_works_without_javascript(
    browser: Browser, running_node: RunningNode
) -> None:
    tab, problems = open_page(browser, running_node, javascript=False)
    user = running_node.users["police.pro"]
    try:
        tab.goto("/sign-in")
        _give_password(tab, user.username, user.password)
        tab.get_by_label("Enter the code from your authenticator app").fill(user.code())
        tab.get_by_role("button", name="Continue").click()
        expect(tab.get_by_role("heading", level=1)).to_have_text("Signed in as Priya Castell")
        tab.set_viewport_size({"width": 375, "height": 800})
        look_at(tab, "09-start-no-javascript-mobile", axe=False)
        tab.get_by_role("button", name="Sign out").click()
        expect(tab.get_by_text("You have signed out.")).to_be_visible()
        assert problems.messages == []
    finally:
        tab.context.close()
