"""The search and link review pages, read like a user would: who sees what under the firewall,
that every search is audited with its purpose, errors on the right fields, no personal data in
any URL, and confirming, rejecting and undoing links with a reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
from flask import Flask, request
from sqlalchemy import select

from node.importing.service import import_files
from node.store.models import AuditEntry, CandidateStatus, MatchCandidate, PersonRecord
from tests.helpers import ADMIN, write_csv
from tests.web.conftest import Page, WebClient, WebNode

PURPOSE = "MASH-2026-0042"
TYLER = {
    "forenames": "Tyler",
    "surname": "Mensah",
    "date_of_birth": "2014-06-02",
    "postcode": "E8 3PL",
    "nhs_number": "4857773457",
}
AMARA = {"forenames": "Amara", "surname": "Boateng", "date_of_birth": "2011-02-20"}
POLICE_ITEM = "Officers attended a domestic incident at the home"
POLICE_DETAIL = "Shouting heard by neighbours."
HEALTH_ITEM = "Missed two immunisation appointments"
HEALTH_DETAIL = "Mother said she could not get time off work."
# Everything personal these tests put in or type in, in the forms URLs could carry it in.
PERSONAL = (
    "Tyler",
    "Tylar",
    "Mensah",
    "Mensa",
    "Amara",
    "Boateng",
    "2014-06-02",
    "2/6/2014",
    "E8 3PL",
    "E83PL",
    "4857773457",
    "485 777 3457",
    "Mare Street",
    "Ty Mensah",
)


@dataclass(frozen=True)
class Hub:
    """The seeded node: Tyler held by police and health, Amara possibly held by both."""

    node: WebNode
    tyler: int


@pytest.fixture
def hub(web_node: WebNode, tmp_path: Path) -> Hub:
    police = write_csv(
        tmp_path / "police.csv",
        [
            dict(
                TYLER,
                record_id="P-1",
                aliases="Ty Mensah",
                address="4 Mare Street",
                warning_marker="Violence towards officers",
            ),
            dict(AMARA, record_id="P-2", postcode="N16 7AB"),
        ],
    )
    police_items = write_csv(
        tmp_path / "police-items.csv",
        [
            {
                "item_ref": "P-1-1",
                "record_id": "P-1",
                "date": "2025-11-03",
                "category": "Domestic incident",
                "summary": POLICE_ITEM,
                "detail": f"{POLICE_DETAIL}\nTyler was present and unhurt.",
                "sensitivity": "sensitive",
            }
        ],
    )
    health = write_csv(
        tmp_path / "health.csv",
        [dict(TYLER, record_id="H-1"), dict(AMARA, record_id="H-2", postcode="E5 0LL")],
    )
    health_items = write_csv(
        tmp_path / "health-items.csv",
        [
            {
                "item_ref": "H-1-1",
                "record_id": "H-1",
                "date": "2025-09-14",
                "category": "Immunisation",
                "summary": HEALTH_ITEM,
                "detail": HEALTH_DETAIL,
            }
        ],
    )
    with web_node.node.unit_of_work() as session:
        import_files(session, ADMIN, "police", [police, police_items])
        import_files(session, ADMIN, "health", [health, health_items])
        tyler = session.scalar(
            select(PersonRecord.subject_id).where(PersonRecord.agency_record_id == "P-1")
        )
    assert tyler is not None
    return Hub(web_node, tyler)


@pytest.fixture
def requested(app: Flask) -> Iterator[list[str]]:
    """Every URL the test client asks for, query string included (registered before any)."""
    seen: list[str] = []
    app.before_request(lambda: seen.append(request.full_path))
    yield seen


def search(web: WebClient, **fields: str) -> Page:
    """Fill in the search form and send it; the results come back in the response."""
    page = web.get("/search")
    return web.submit(page, fields, status=200)


def audit_entries(node: WebNode, action: str) -> list[AuditEntry]:
    with node.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        return list(session.scalars(query))


def field_error(page: Page, field_id: str) -> str:
    """The error message shown on a field (GOV.UK puts it at `<id>-error`)."""
    message = page.soup.select_one(f"#{field_id}-error")
    return " ".join(message.get_text(" ").split()) if message else ""


# --- who sees what -----------------------------------------------------------------------------


def test_a_police_professional_sees_police_records_in_full_and_health_as_a_count(
    hub: Hub, web: WebClient
) -> None:
    web.sign_in(hub.node.users["police.pro"])

    found = search(web, forenames="Tylar", surname="Mensa", purpose=PURPOSE)

    text = found.main_text
    assert "1 subject found" in text
    assert "Held by Police (1) , Health (1)" in text
    for shown in (
        "Police record P-1",
        "Tyler Mensah",
        "Ty Mensah",
        "2 June 2014",
        "4 Mare Street",
        "E8 3PL",
        "485 777 3457",
        "Warning marker Violence towards officers",
        POLICE_ITEM,
        POLICE_DETAIL,
        "3 November 2025 : Domestic incident",
        "Sensitive",
    ):
        assert shown in text, shown
    assert HEALTH_ITEM not in text
    assert HEALTH_DETAIL not in text
    assert "H-1" not in text
    assert "Health holds records on this person" in text
    assert "ask them through the referral" in text


def test_a_mash_manager_sees_which_agencies_hold_records_and_nothing_they_say(
    hub: Hub, web: WebClient
) -> None:
    web.sign_in(hub.node.users["manager"])

    found = search(
        web, surname="Mensah", purpose=PURPOSE, **{"date_of_birth-day": "2", **_month_year()}
    )

    text = found.main_text
    assert "1 subject found" in text
    assert "Held by Health (1) , Police (1)" in text
    assert "Health and Police hold records on this person" in text
    for hidden in (POLICE_ITEM, HEALTH_ITEM, "4 Mare Street", "485 777 3457", "Ty Mensah"):
        assert hidden not in text, hidden
    assert found.soup.select(".moj-timeline") == []


def _month_year() -> dict[str, str]:
    return {"date_of_birth-month": "6", "date_of_birth-year": "2014"}


@pytest.mark.parametrize("username", ["node.admin", "auditor"])
@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("/search", "search.index"),
        ("/search/subjects/1", "search.subject"),
        ("/subjects/candidates", "subjects.candidates"),
    ],
)
def test_administrators_and_auditors_are_refused_and_it_is_audited(
    web_node: WebNode, web: WebClient, username: str, path: str, endpoint: str
) -> None:
    web.sign_in(web_node.users[username])

    refused = web.get(path, status=403)

    assert refused.title.startswith("You do not have permission to see this page")
    [denied] = audit_entries(web_node, "access.denied")
    assert (denied.actor, denied.object_ref) == (username, f"endpoint:{endpoint}")
    assert audit_entries(web_node, "search") == []


def test_the_start_page_links_the_search_for_those_who_may_search(
    web_node: WebNode, web: WebClient
) -> None:
    start = web.sign_in(web_node.users["health.pro"])

    assert "/search" in [link["href"] for link in start.soup.select(".app-area-list a")]


def test_the_subject_page_asks_why_before_it_shows_anything(hub: Hub, web: WebClient) -> None:
    web.sign_in(hub.node.users["police.pro"])

    asked = web.get(f"/search/subjects/{hub.tyler}")
    no_purpose = web.submit(asked, {"purpose": ""}, status=200)
    shown = web.submit(asked, {"purpose": PURPOSE}, status=200)

    assert "Tyler" not in asked.main_text
    assert no_purpose.error_messages == ["Enter the purpose or the referral reference"]
    assert "Tyler" not in no_purpose.main_text
    assert POLICE_ITEM in shown.main_text
    assert HEALTH_ITEM not in shown.main_text
    assert len(audit_entries(hub.node, "subject.view")) == 1
    token = str(asked.form().select_one("input[name=csrf_token]")["value"])
    web.post("/search/subjects/999999", {"csrf_token": token, "purpose": PURPOSE}, status=404)


# --- audit, purpose and errors -----------------------------------------------------------------


def test_every_search_and_subject_view_is_audited_with_its_purpose(
    hub: Hub, web: WebClient
) -> None:
    web.sign_in(hub.node.users["police.pro"])

    found = search(web, forenames="Tylar", surname="Mensa", purpose=PURPOSE)
    viewed = web.submit(found, {}, form=".govuk-summary-card form", status=200)

    [searched] = audit_entries(hub.node, "search")
    assert (searched.actor, searched.purpose) == ("police.pro", PURPOSE)
    detail = json.loads(searched.detail)
    assert detail["criteria"] == {"forenames": "Tylar", "surname": "Mensa"}
    assert detail["subjects"] == [hub.tyler]
    [view] = audit_entries(hub.node, "subject.view")
    assert (view.actor, view.purpose, view.object_ref) == (
        "police.pro",
        PURPOSE,
        f"subject:{hub.tyler}",
    )
    assert POLICE_ITEM in viewed.main_text


def test_a_search_without_a_purpose_is_refused_on_the_purpose_field(
    hub: Hub, web: WebClient
) -> None:
    web.sign_in(hub.node.users["police.pro"])

    refused = search(web, surname="Mensah", purpose="   ")

    assert refused.title.startswith("Error: Search records")
    assert refused.error_messages == ["Enter the purpose or the referral reference"]
    assert field_error(refused, "purpose") == "Error: Enter the purpose or the referral reference"
    assert refused.soup.select_one(".govuk-error-summary a")["href"] == "#purpose"
    assert "subject found" not in refused.main_text
    assert audit_entries(hub.node, "search") == []


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"forenames": "Tyler"}, "surname", "Surname: a name search needs the surname"),
        ({"nhs_number": "943 476 5918"}, "nhs_number", "NHS number: fails its check digit"),
        ({"nhs_number": "12"}, "nhs_number", "NHS number: an NHS number is ten digits"),
        ({"postcode": "nowhere"}, "postcode", "Postcode: not a UK postcode"),
        (
            {"date_of_birth-day": "2", "date_of_birth-month": "6"},
            "date_of_birth",
            "Date of birth must include a year",
        ),
        (
            {"date_of_birth-day": "31", "date_of_birth-month": "2", "date_of_birth-year": "2014"},
            "date_of_birth",
            "Date of birth must be a real date",
        ),
        (
            {"date_of_birth-day": "2", "date_of_birth-month": "6", "date_of_birth-year": "14"},
            "date_of_birth",
            "Year must include 4 numbers",
        ),
    ],
)
def test_what_the_search_refuses_is_shown_on_the_field_it_names(
    hub: Hub, web: WebClient, fields: dict[str, str], field_id: str, message: str
) -> None:
    web.sign_in(hub.node.users["manager"])

    refused = search(web, purpose=PURPOSE, **fields)

    assert field_error(refused, field_id).startswith(f"Error: {message}")
    [summary] = refused.error_messages
    assert summary.startswith(message)
    anchor = refused.soup.select_one(".govuk-error-summary a")["href"]
    assert refused.soup.select_one(str(anchor)) is not None, anchor
    assert audit_entries(hub.node, "search") == []


def test_a_search_with_no_criteria_says_what_to_give(hub: Hub, web: WebClient) -> None:
    web.sign_in(hub.node.users["manager"])

    refused = search(web, purpose=PURPOSE)

    assert refused.error_messages == [
        "Give at least one of: surname, date of birth, postcode, NHS number"
    ]
    assert refused.title.startswith("Error:")


def test_more_than_fifty_matches_asks_to_narrow_the_search(
    web_node: WebNode, web: WebClient, tmp_path: Path
) -> None:
    people = [
        {
            "record_id": f"E-{n}",
            "forenames": "Pupil",
            "surname": f"Number{chr(65 + n // 26)}{chr(65 + n % 26)}",
            "date_of_birth": f"2012-01-{1 + n % 28:02d}",
            "postcode": "N1 1AA",
        }
        for n in range(55)
    ]
    with web_node.node.unit_of_work() as session:
        import_files(session, ADMIN, "education", [write_csv(tmp_path / "e.csv", people)])
    web.sign_in(web_node.users["manager"])

    found = search(web, postcode="n11aa", purpose=PURPOSE)

    assert "More than 50 subjects match: narrow your search." in found.main_text
    assert len(found.soup.select(".govuk-summary-card")) == 50


def test_results_are_never_given_for_a_get_or_without_the_form_token(
    hub: Hub, web: WebClient
) -> None:
    web.sign_in(hub.node.users["police.pro"])

    asked = web.get("/search?surname=Mensah&purpose=x")
    web.post("/search", {"surname": "Mensah", "purpose": PURPOSE}, status=400)

    assert "subject found" not in asked.main_text
    assert audit_entries(hub.node, "search") == []


# --- no personal data in URLs ------------------------------------------------------------------


def test_no_page_puts_personal_data_in_a_url(
    hub: Hub, web: WebClient, requested: list[str]
) -> None:
    web.sign_in(hub.node.users["police.pro"])
    pages = [web.get("/search")]
    pages.append(
        search(
            web,
            forenames="Tylar",
            surname="Mensa",
            postcode="E83PL",
            nhs_number="485 777 3457",
            purpose=PURPOSE,
            **{"date_of_birth-day": "2", **_month_year()},
        )
    )
    pages.append(web.submit(pages[-1], {}, form=".govuk-summary-card form", status=200))
    pages.append(search(web, forenames="Tyler", purpose=PURPOSE))  # an error page
    pages.append(web.get(f"/search/subjects/{hub.tyler}"))
    pages.append(web.get("/subjects/candidates"))

    urls = list(requested)
    for page in pages:
        assert page.status == 200
        assert page.soup.select_one("main form[method=get]") is None
        urls += [str(tag["href"]) for tag in page.soup.select("[href]")]
        urls += [str(tag["action"]) for tag in page.soup.select("form[action]")]
        urls += [str(tag["src"]) for tag in page.soup.select("[src]")]
        urls += [str(tag["formaction"]) for tag in page.soup.select("[formaction]")]
    assert any(url.startswith("/search/subjects/") for url in urls)
    for url in urls:
        readable = unquote_plus(url).lower()
        leaked = [value for value in PERSONAL if value.lower() in readable]
        assert leaked == [], url


# --- candidate links ---------------------------------------------------------------------------


def _candidate(node: WebNode) -> MatchCandidate:
    with node.sessions() as session:
        return session.scalars(select(MatchCandidate)).one()


def _subjects_of(node: WebNode) -> dict[str, int | None]:
    with node.sessions() as session:
        rows = session.execute(select(PersonRecord.agency_record_id, PersonRecord.subject_id))
        return {record_id: subject_id for record_id, subject_id in rows}


def test_a_link_is_confirmed_with_a_reason_and_the_merge_undone(hub: Hub, web: WebClient) -> None:
    candidate = _candidate(hub.node)
    before = _subjects_of(hub.node)
    card = f"#candidate-{candidate.id}"
    field = f"candidate-{candidate.id}"
    web.sign_in(hub.node.users["police.pro"])

    review = web.get("/subjects/candidates")
    text = " ".join(review.soup.select_one(card).get_text(" ").split())
    assert "Name and date of birth Strong" in text
    assert "Police (1)" in text and "Health (1)" in text
    assert "Amara" not in review.main_text  # counts only, even of the viewer's own agency

    no_reason = web.submit(
        review, {f"{field}-decision": "confirm"}, form=f"{card} form", status=200
    )
    assert no_reason.error_messages == ["Enter the reason for your decision"]
    assert field_error(no_reason, f"{field}-reason").endswith("Enter the reason for your decision")
    assert _subjects_of(hub.node) == before

    done = web.submit(
        review,
        {f"{field}-reason": "Same child: school confirms the move", f"{field}-decision": "confirm"},
        form=f"{card} form",
    )
    merged = web.follow(done)
    assert "has been merged into subject" in merged.banners[0]
    assert _subjects_of(hub.node)["P-2"] == _subjects_of(hub.node)["H-2"]
    assert _candidate(hub.node).status is CandidateStatus.CONFIRMED
    assert merged.soup.select(".govuk-summary-card[id^=candidate-]") == []
    [merge_card] = merged.soup.select(".govuk-summary-card[id^=merge-]")
    merge_id = str(merge_card["id"]).removeprefix("merge-")
    assert "Same child: school confirms the move" in merge_card.get_text()

    undo_form = f"#merge-{merge_id} form"
    no_undo_reason = web.submit(merged, {}, form=undo_form, status=200)
    assert no_undo_reason.error_messages == ["Enter the reason for undoing the merge"]
    undone = web.follow(
        web.submit(merged, {f"merge-{merge_id}-reason": "Confirmed in error"}, form=undo_form)
    )
    assert f"Merge {merge_id} undone" in undone.banners[0]
    assert _subjects_of(hub.node) == before
    actions = [entry.action for entry in audit_entries(hub.node, "subject.unmerge")]
    assert actions == ["subject.unmerge"]
    [confirmed] = audit_entries(hub.node, "candidate.confirmed")
    assert confirmed.purpose == "Same child: school confirms the move"


def test_a_link_is_rejected_with_a_reason(hub: Hub, web: WebClient) -> None:
    candidate = _candidate(hub.node)
    field = f"candidate-{candidate.id}"
    web.sign_in(hub.node.users["manager"])
    review = web.get("/subjects/candidates")

    rejected = web.follow(
        web.submit(
            review,
            {
                f"{field}-reason": "Different children, checked with school",
                f"{field}-decision": "reject",
            },
            form=f"#{field} form",
        )
    )

    assert "will not be proposed as one person again" in rejected.banners[0]
    assert _candidate(hub.node).status is CandidateStatus.REJECTED
    [entry] = audit_entries(hub.node, "candidate.rejected")
    assert (entry.actor, entry.purpose) == ("manager", "Different children, checked with school")
    assert "There are no links to review." in rejected.main_text


def test_a_decision_on_a_link_already_decided_is_explained(hub: Hub, web: WebClient) -> None:
    candidate = _candidate(hub.node)
    field = f"candidate-{candidate.id}"
    web.sign_in(hub.node.users["manager"])
    review = web.get("/subjects/candidates")
    fields = {f"{field}-reason": "Different children", f"{field}-decision": "reject"}
    web.submit(review, fields, form=f"#{field} form")

    again = web.submit(review, fields, form=f"#{field} form", status=200)

    assert again.error_messages == [f"Candidate {candidate.id}: already rejected"]
