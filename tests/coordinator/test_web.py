"""The coordinator's pages as the central project team uses them: signing in with TOTP, the
London overview, a borough's page, editing a milestone (and two editors at once), entering a
baseline, the evaluation pages and the reports, with the security headers on every response."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from coordinator.cli import main
from coordinator.evaluation.demo_data import write_demo_data
from coordinator.rollout import plan
from coordinator.store.models import AccessEvent
from mash_common.auth import throttle
from tests.coordinator.conftest import EDITOR, Built, client_for
from tests.web.conftest import WebClient


def test_first_sign_in_sets_up_the_authenticator_then_opens_the_overview(
    web: WebClient, built: Built
) -> None:
    newcomer = built.users["newcomer"]
    done = web.give_password(newcomer)
    assert done.location == "/sign-in/set-up-two-factor"
    page = web.follow(done)
    secret = page.soup.select_one("#secret-key").get_text().replace(" ", "")  # type: ignore[union-attr]

    wrong = web.submit(page, {"code": "000000"}, status=200)
    finished = web.submit(wrong, {"code": pyotp.TOTP(secret).now()})
    overview = web.follow(finished)

    assert page.soup.select_one(".app-qr-code svg") is not None
    assert "The code is not right" in " ".join(wrong.error_messages)
    assert overview.title.startswith("London overview")
    assert "33" in overview.main_text


def test_a_wrong_password_is_refused_and_guessing_is_slowed_for_that_user_only(
    app: Flask, built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor, colleague = built.users["editor"], built.users["second.editor"]
    web = WebClient(app.test_client())
    for _ in range(throttle.PAIR_FREE):
        refused = web.give_password(editor, "Not-the-password-1", status=200)
        assert "The username or password is not right" in refused.main_text
    paused = web.give_password(editor, status=429)
    colleague_in = WebClient(app.test_client()).give_password(colleague)  # same address

    monkeypatch.setenv("MASH_USER", "admin")
    monkeypatch.setenv("MASH_PASSWORD", built.users["admin"].password)
    lifted = main(["--config", str(built.config_path), "user", "lift-delays", "editor"])
    editor_in = web.give_password(editor)

    assert "Too many attempts" in paused.title
    assert "Try again in 30 seconds" in paused.main_text
    assert colleague_in.response.status_code == 302
    assert lifted == 0 and editor_in.response.status_code == 302
    with built.coordinator.reading() as session:
        actions = session.scalars(select(AccessEvent.action)).all()
    assert "sign-in.delays-lifted" in actions


def test_every_page_has_strict_security_headers(app: Flask, built: Built) -> None:
    viewer = client_for(app, built.users["viewer"])
    response = viewer.client.get("/")
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)

    assert nonce is not None and f'nonce="{nonce.group(1)}"' in response.get_data(as_text=True)
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_overview_lists_late_milestones_latest_first_and_maps_every_authority(
    app: Flask, built: Built
) -> None:
    with built.coordinator.unit_of_work() as db:
        for code, title, due in (
            ("brent", "ISA signed", dt.date(2026, 9, 1)),
            ("sutton", "Good practice visit", dt.date(2026, 3, 1)),
            ("harrow", "Far off", dt.date(2030, 1, 1)),
        ):
            plan.add_milestone(db, EDITOR, code, plan.MilestoneFields(title, due))
    viewer = client_for(app, built.users["viewer"])

    page = viewer.get("/")
    late = [
        " ".join(row.get_text(" ").split()) for row in page.soup.select("#late ~ table tbody tr")
    ]
    tiles = page.soup.select("#london-map svg a")

    assert [row.split(" ")[0] for row in late] == ["Sutton", "Brent"]
    assert len(tiles) == 33
    assert tiles[0]["href"].startswith("/boroughs/")
    assert page.soup.select("#london-map table tbody tr")  # the map's data table
    assert page.soup.select("#wave-timeline table tbody tr")


def test_editing_a_milestone_is_shown_in_the_boroughs_history(app: Flask, built: Built) -> None:
    with built.coordinator.unit_of_work() as db:
        milestone = plan.add_milestone(
            db, EDITOR, "lambeth", plan.MilestoneFields("Secure room ready", dt.date(2026, 10, 1))
        )
    editor = client_for(app, built.users["editor"])
    form = editor.get(f"/milestones/{milestone}/edit")

    saved = editor.submit(
        form,
        {
            "title": "Secure room and systems ready",
            "due_on-day": "1",
            "due_on-month": "10",
            "due_on-year": "2026",
            "completed_on-day": "3",
            "completed_on-month": "11",
            "completed_on-year": "2026",
        },
    )
    page = editor.follow(saved)
    history = " ".join(page.soup.select_one("#history").find_next("ol").get_text(" ").split())  # type: ignore[union-attr]

    assert saved.location == "/boroughs/lambeth#milestones"
    assert "Milestone “Secure room and systems ready” saved" in " ".join(page.banners)
    assert "Changed by editor" in history
    assert "Milestone: Secure room ready → Secure room and systems ready" in history
    assert "Done: (none) → 3 November 2026" in history


def test_the_second_of_two_editors_is_told_who_changed_it_and_keeps_what_they_typed(
    app: Flask, built: Built
) -> None:
    with built.coordinator.unit_of_work() as db:
        milestone = plan.add_milestone(
            db, EDITOR, "lambeth", plan.MilestoneFields("EIA consultation", dt.date(2026, 12, 1))
        )
    first = client_for(app, built.users["editor"])
    second = client_for(app, built.users["second.editor"], steps_ahead=1)
    first_form = first.get(f"/milestones/{milestone}/edit")
    second_form = second.get(f"/milestones/{milestone}/edit")
    due = {"due_on-day": "1", "due_on-month": "12", "due_on-year": "2026"}

    first.submit(first_form, {"title": "EIA consultation opened", **due})
    clash = second.submit(second_form, {"title": "EIA consultation closed", **due}, status=200)
    again = second.submit(clash, {"title": "EIA consultation closed", **due})

    message = " ".join(clash.error_messages)
    assert "changed by editor on" in message and "Your changes are still in the form" in message
    assert clash.soup.select_one("#title")["value"] == "EIA consultation closed"  # type: ignore[index]
    assert "EIA consultation opened" in clash.soup.select_one(".app-conflict").get_text()  # type: ignore[union-attr]
    assert again.location == "/boroughs/lambeth#milestones"


def test_a_baseline_is_refused_naming_the_field_then_entered(app: Flask, built: Built) -> None:
    editor = client_for(app, built.users["editor"])
    form = editor.get("/boroughs/brent/baseline")
    fields = {
        "period_from-day": "1", "period_from-month": "2", "period_from-year": "2026",
        "period_to-day": "28", "period_to-month": "2", "period_to-year": "2026",
        "sample_size": "240",
        "red_contacts": "35", "red_mean_days": "1.4", "red_median_days": "1",
        "amber_contacts": "160", "amber_mean_days": "3.2", "amber_median_days": "3",
        "green_contacts": "290", "green_mean_days": "six", "green_median_days": "5",
    }  # fmt: skip

    refused = editor.submit(form, fields, status=200)
    saved = editor.submit(refused, {**fields, "green_mean_days": "6.1"})
    page = editor.follow(saved)
    table = " ".join(page.soup.select_one("#baseline ~ table").get_text(" ").split())  # type: ignore[union-attr]

    assert refused.error_messages == [
        "Green: mean turnaround, working days must be a number, like 2.5"
    ]
    assert refused.soup.select_one("#red_contacts")["value"] == "35"  # type: ignore[index]
    assert "Green 290.0 6.1 5.0" in table
    assert "1 February 2026 to 28 February 2026, 240 contacts" in table


def test_the_evaluation_pages_and_the_reports_come_from_the_stored_figures(
    app: Flask, built: Built, tmp_path: Path
) -> None:
    with built.coordinator.unit_of_work() as db:
        write_demo_data(db, months=24, until=dt.date(2026, 11, 1))
    viewer = client_for(app, built.users["viewer"])

    london = viewer.get("/evaluation?from=2025-01&to=2025-12")
    compare = viewer.get("/evaluation/compare")
    borough = viewer.get("/evaluation/boroughs/hackney")
    odd = viewer.get("/evaluation?from=someday")
    csv = viewer.client.get("/reports/interim.csv")
    pdf = viewer.client.get("/reports/interim.pdf")
    (tmp_path / "interim.pdf").write_bytes(pdf.data)
    text = subprocess.run(
        ["/usr/bin/pdftotext", "-layout", str(tmp_path / "interim.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert "London, January 2025 to December 2025" in london.main_text
    assert len(london.soup.select("figure.app-chart svg[role=img]")) >= 8
    assert all(f.select_one("table") for f in london.soup.select("figure.app-chart"))
    assert "synthetic demonstration data" in london.main_text
    assert "Pilot waves" in compare.main_text and "Before and after" in compare.main_text
    assert "Hackney" in borough.title
    assert "Choose the months from the lists" in odd.main_text
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert csv.data.startswith(b"section,borough,month,measure,category,value,basis,note")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert "Interim evaluation report" in text
    assert "Method" in text and "fewer than 5" in text
    assert "Contacts and referrals each month" in text


def test_signing_out_ends_the_session_on_the_server(app: Flask, built: Built) -> None:
    viewer = client_for(app, built.users["viewer"])
    page = viewer.get("/boroughs")

    viewer.submit(page, {}, form="form[action='/sign-out']", path="/sign-out")
    after = viewer.client.get("/boroughs")

    assert after.status_code == 302 and "/sign-in" in after.headers["Location"]
