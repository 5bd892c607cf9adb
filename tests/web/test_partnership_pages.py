"""Partnership intelligence in the web UI: the manager follows a cumulative-harm flag from the
queue to its explanation and dismisses it with a reason; the partnership analyst opens the
strategic assessment and exports it as HTML, PDF and CSV, with no count from 1 to 4 anywhere,
and opens nothing else."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from bs4 import BeautifulSoup
from sqlalchemy import select

from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.store.models import AuditEntry, HarmFlag, HarmFlagState, Pathway
from tests.helpers import MANAGER
from tests.web.conftest import WebClient, WebNode

SMALL = re.compile(r"^[1-4]$")


def three_agencies(node: WebNode) -> int:
    """Three agencies' contacts about one child in a month; returns the last referral's id."""
    subject = None
    for days, agency in ((25, "police"), (10, "health"), (1, "childrens-social-care")):
        with node.node.unit_of_work() as session:
            referral = record_contact(
                session,
                MANAGER,
                NewContact(
                    Pathway.CHILD,
                    "agency",
                    ("neglect",),
                    "Low-level worry",
                    (PersonDetails(surname="Varga", forenames="Lili", subject_id=subject),),
                    source_agency=agency,
                    received_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days),
                ),
                node.config.referrals,
            )
            subject = referral.people[0].subject_id
            last = referral.id
    return last


def test_the_manager_follows_a_flag_from_the_queue_and_dismisses_it_with_a_reason(
    web: WebClient, web_node: WebNode
) -> None:
    three_agencies(web_node)
    web.sign_in(web_node.users["manager"])
    queue = web.get("/referrals")
    link = next(a for a in queue.soup.select("a.harm-flag") if "Three agencies" in a.get_text())
    flag = web.get(str(link["href"]))
    text = flag.main_text
    assert "Three agencies in six weeks" in text
    for agency in ("Police", "Health", "Children's social care"):
        assert agency in text
    refused = web.submit(flag, {"reason": ""}, status=200)
    assert "Enter why the flag is dismissed" in refused.error_messages[0]
    done = web.follow(web.submit(flag, {"reason": "Known: an allocated social worker"}))
    assert "Dismissed" in done.main_text and "allocated social worker" in done.main_text
    with web_node.sessions() as db:
        dismissed = db.scalars(
            select(HarmFlag).where(HarmFlag.state == HarmFlagState.DISMISSED)
        ).one()
        actions = set(db.scalars(select(AuditEntry.action)))
    assert dismissed.dismissed_by == "manager"
    assert {"harm-flag.raise", "harm-flag.view", "harm-flag.dismiss"} <= actions


def test_a_professional_cannot_open_a_flag(web: WebClient, web_node: WebNode) -> None:
    three_agencies(web_node)
    with web_node.sessions() as db:
        flag_id = db.scalars(select(HarmFlag.id)).first()
    web.sign_in(web_node.users["police.pro"])
    web.get(f"/cumulative-harm/flags/{flag_id}", status=403)
    assert not web.get("/referrals").soup.select("a.harm-flag")


def test_the_analyst_exports_the_assessment_with_small_counts_suppressed(
    web: WebClient, web_node: WebNode
) -> None:
    three_agencies(web_node)
    year = str(dt.date.today().year)
    web.sign_in(web_node.users["analyst"])
    page = web.get(f"/assessment?period={year}")
    assert page.soup.select("figure.app-chart svg[role=img]")
    assert page.soup.select("figure.app-chart table caption")
    assert not page.soup.select("main script")  # the charts are drawn on the server
    cells = [c.get_text(strip=True) for c in page.soup.select("figure table td")]
    assert cells and not [c for c in cells if SMALL.match(c)]
    assert "Varga" not in page.main_text and "Lili" not in page.main_text
    exported = web.client.get(f"/assessment/export.csv?period={year}")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert not [cell for row in rows for cell in row[2:] if SMALL.match(cell)]
    assert any(row[:2] == ["Contacts by source", "Total"] for row in rows)
    html = web.client.get(f"/assessment/export.html?period={year}&theme=neglect")
    document = BeautifulSoup(html.get_data(as_text=True), "html.parser")
    assert html.status_code == 200 and "Problem profile: Neglect" in document.get_text()
    exported_cells = [c.get_text(strip=True) for c in document.select("table td")]
    assert exported_cells and not [c for c in exported_cells if SMALL.match(c)]
    assert "*" in exported_cells  # three contacts: hidden, and marked
    pdf = web.client.get(f"/assessment/export.pdf?period={year}&theme=neglect")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    with web_node.sessions() as db:
        formats = list(
            db.scalars(select(AuditEntry.detail).where(AuditEntry.action == "assessment.generate"))
        )
    assert [f for f in formats if '"csv"' in f] and [f for f in formats if '"pdf"' in f]
    # The analyst sees aggregates only: no queue, no search, no referral.
    web.get("/referrals", status=403)
    web.get("/search", status=403)
