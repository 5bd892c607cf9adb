"""The access matrix: every route of the coordinator's app × every visitor × every method.

The routes come from the app's URL map, so a new route is walked as soon as it exists and fails
until the policy below says who may open it. The policy is the issue's roles, written here, not
read from the code: the project team's editors change the plan and the baselines; viewers see
everything and change nothing; administrators manage users and see everything, editing nothing;
nobody signed out sees more than the sign-in pages. Every refusal is a 403 with an
`access.denied` entry in the access log and changes nothing; a signed-out visitor is sent to sign
in, a half-signed-in one to the second factor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from coordinator.rollout import plan
from coordinator.rollout.changes import generation
from coordinator.store.models import AccessEvent, Change, Milestone, Stage
from tests.coordinator.conftest import EDITOR, Built
from tests.web.conftest import WebClient

ANYONE, HALF, READERS, EDITORS, ADMINS = "anyone", "half", "readers", "editors", "admins"
POLICY = {
    "auth.sign_in": ANYONE,
    "auth.sign_out": ANYONE,
    "auth.two_factor": HALF,
    "auth.set_up_two_factor": HALF,
    "overview.favicon": ANYONE,
    "overview.index": READERS,
    "boroughs.index": READERS,
    "boroughs.show": READERS,
    "boroughs.edit": EDITORS,
    "boroughs.milestone_new": EDITORS,
    "boroughs.milestone_edit": EDITORS,
    "boroughs.milestone_remove": EDITORS,
    "boroughs.assessment_new": EDITORS,
    "boroughs.partner_edit": EDITORS,
    "boroughs.agreement_edit": EDITORS,
    "boroughs.funding_new": EDITORS,
    "boroughs.funding_edit": EDITORS,
    "boroughs.funding_remove": EDITORS,
    "boroughs.baseline_edit": EDITORS,
    "waves.index": READERS,
    "waves.edit": EDITORS,
    "funding.index": READERS,
    "funding.settings": EDITORS,
    "evaluation.index": READERS,
    "evaluation.borough": READERS,
    "evaluation.compare": READERS,
    "evaluation.received": READERS,
    "reports.index": READERS,
    "reports.show": READERS,
    "reports.pdf": READERS,
    "reports.csv": READERS,
    "history.index": READERS,
    "admin.users": ADMINS,
    "nodes.index": READERS,
    "nodes.revoke": ADMINS,
}
ROLE_GROUPS = {
    READERS: {"admin", "editor", "viewer"},
    EDITORS: {"editor"},
    ADMINS: {"admin"},
}
VISITORS = ("anonymous", "half", "admin", "editor", "viewer")


@dataclass(frozen=True)
class Route:
    endpoint: str
    rule: str
    methods: tuple[str, ...]


def routes(app: Flask) -> list[Route]:
    return sorted(
        (
            Route(
                rule.endpoint, rule.rule, tuple(sorted((rule.methods or set()) & {"GET", "POST"}))
            )
            for rule in app.url_map.iter_rules()
            if rule.endpoint != "static"
        ),
        key=lambda r: r.rule,
    )


@pytest.fixture
def hub(built: Built) -> dict[str, str]:
    """Objects for the URLs: a milestone and a funding row of Hackney, which is live (so the
    reports exist)."""
    with built.coordinator.unit_of_work() as db:
        from coordinator.rollout import read

        version = read.borough_detail(db, "hackney").summary.version
        plan.update_borough(
            db,
            EDITOR,
            "hackney",
            version,
            plan.BoroughPlan(Stage.HUB_LIVE, None, None, dt.date(2026, 1, 12)),
        )
        milestone = plan.add_milestone(
            db, EDITOR, "hackney", plan.MilestoneFields("Hub goes live", dt.date(2026, 1, 12))
        )
        funding = plan.add_funding(
            db,
            EDITOR,
            "hackney",
            plan.FundingFields(plan.FundingKind.PARTNER, "Children's services", 150_000),  # type: ignore[attr-defined]
        )
    return {
        "code": "hackney",
        "milestone_id": str(milestone),
        "funding_id": str(funding),
        "agency": "police",
        "kind": "isa",
        "wave_id": "1",
    }


def _path(route: Route, objects: dict[str, str]) -> str:
    path = route.rule
    for name, value in objects.items():
        value = "interim" if name == "kind" and route.endpoint.startswith("reports.") else value
        path = path.replace(f"<int:{name}>", value).replace(f"<{name}>", value)
    return path


def _client(app: Flask, built: Built, visitor: str, step: int) -> tuple[FlaskClient, str]:
    web = WebClient(app.test_client())
    if visitor == "half":
        web.give_password(built.users["editor"])
        page = web.get("/sign-in/two-factor")
    elif visitor != "anonymous":
        web.sign_in(built.users[visitor], steps_ahead=step)
        page = web.get("/boroughs")
    else:
        page = web.get("/sign-in")
    token = page.soup.select_one("input[name=csrf_token]")
    assert token is not None
    return web.client, str(token["value"])


def _state(built: Built) -> tuple[int, int, int]:
    with built.coordinator.reading() as db:
        return (
            generation(db),
            db.scalar(select(func.count()).select_from(Change)) or 0,
            db.scalar(select(func.count()).select_from(Milestone)) or 0,
        )


def _denials(built: Built) -> int:
    with built.coordinator.reading() as db:
        return (
            db.scalar(
                select(func.count())
                .select_from(AccessEvent)
                .where(AccessEvent.action == "access.denied")
            )
            or 0
        )


def test_every_route_has_a_rule_and_every_visitor_gets_what_the_policy_says(
    app: Flask, built: Built, hub: dict[str, str]
) -> None:
    found = routes(app)
    assert {r.endpoint for r in found} == set(POLICY), "a route without a rule, or a rule too many"
    clients = {v: _client(app, built, v, i % 2) for i, v in enumerate(VISITORS)}
    problems: list[str] = []
    count = 0
    for route in found:
        policy = POLICY[route.endpoint]
        path = _path(route, hub)
        for visitor, (client, token) in clients.items():
            for method in route.methods:
                count += 1
                if route.endpoint == "auth.sign_out":
                    continue  # it would end the visitor's session: test_web's
                before, denied = _state(built), _denials(built)
                data = {"csrf_token": token}
                response = client.get(path) if method == "GET" else client.post(path, data=data)
                status, location = response.status_code, response.headers.get("Location", "")
                allowed = (
                    policy == ANYONE
                    or (policy == HALF and visitor == "half")
                    or (policy in ROLE_GROUPS and visitor in ROLE_GROUPS[policy])
                )
                case = f"{method} {path} as {visitor}"
                if allowed:
                    if status not in (200, 302):
                        problems.append(f"{case}: {status}, expected to be served")
                elif visitor == "anonymous":
                    if not (status == 302 and "/sign-in" in location):
                        problems.append(
                            f"{case}: {status} {location}, expected to be sent to sign in"
                        )
                elif visitor == "half":
                    if not (status == 302 and "/sign-in" in location):
                        problems.append(f"{case}: {status} {location}, expected the second factor")
                elif policy == HALF:
                    if not (status == 302 and location.endswith("/")):
                        problems.append(f"{case}: {status} {location}, expected the overview")
                else:
                    if status != 403:
                        problems.append(f"{case}: {status}, expected 403")
                    elif _denials(built) != denied + 1:
                        problems.append(f"{case}: 403 without one access.denied entry")
                if method == "POST" and _state(built) != before:
                    problems.append(f"{case}: an empty form changed the plan")
    assert count > 100
    assert problems == []


def test_every_route_carries_a_permission_marker(app: Flask) -> None:
    from coordinator.web.permissions import permission_of

    unmarked = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and permission_of(app.view_functions[rule.endpoint]) is None
    ]
    assert unmarked == []
