"""Every page has a permission marker, and refusals are shown as 403 and audited."""

from __future__ import annotations

import json

import pytest
from flask import Blueprint, Flask
from sqlalchemy import select

from node import access, audit
from node.access import require_admin
from node.auth.sessions import SignedInUser
from node.store.models import AuditEntry, Role
from node.web import create_app
from node.web.permissions import Level, Permission, permission_of, public, roles, signed_in
from node.web.services import current_node, unit_of_work
from node.web.sessions import current_user
from tests.web.conftest import WebClient, WebNode


def test_every_route_carries_a_permission_marker(app: Flask) -> None:
    unmarked = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and permission_of(app.view_functions[rule.endpoint]) is None
    ]
    checked = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]

    assert len(checked) >= 5
    assert unmarked == []


def _app_with_test_pages(node: WebNode) -> Flask:
    """The real app plus a few pages that only tests have (registered before any request)."""
    app = create_app(node.config, testing=True)
    pages = Blueprint("test_pages", __name__)

    @pages.get("/admin-only")
    @roles(access.ADMINISTRATORS)
    def index() -> str:
        return "admin page"

    @pages.get("/unmarked")
    def unmarked() -> str:
        return "should never be seen"

    @pages.get("/service-refuses")
    @signed_in
    def service_refuses() -> str:
        user = current_user()
        assert user is not None
        with unit_of_work() as db:
            audit.record(db, user.actor, "test.work-before-refusal")
            require_admin(user.actor)
        return "not reached"

    app.register_blueprint(pages)
    return app


def _denials(node: WebNode) -> list[AuditEntry]:
    with node.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.action == "access.denied")
        return list(session.scalars(query))


def test_a_page_for_another_role_is_refused_with_403_and_audited(web_node: WebNode) -> None:
    app = _app_with_test_pages(web_node)
    web = WebClient(app.test_client())
    web.sign_in(web_node.users["manager"])

    refused = web.get("/admin-only", status=403)

    assert refused.title == "You do not have permission to see this page – Hackney MASH"
    [entry] = _denials(web_node)
    assert entry.actor == "manager"
    assert entry.object_ref == "endpoint:test_pages.index"
    assert json.loads(entry.detail)["endpoint"] == "test_pages.index"
    current_node(app).engine.dispose()


def test_the_right_role_gets_the_page_and_a_start_page_link_to_it(web_node: WebNode) -> None:
    app = _app_with_test_pages(web_node)
    admin = WebClient(app.test_client())
    manager = WebClient(app.test_client())

    admin_start = admin.sign_in(web_node.users["node.admin"])
    manager_start = manager.sign_in(web_node.users["manager"])

    assert admin.client.get("/admin-only").get_data(as_text=True) == "admin page"
    assert [a["href"] for a in admin_start.soup.select(".app-area-list a")] == ["/admin", "/audit"]
    manager_areas = [a["href"] for a in manager_start.soup.select(".app-area-list a")]
    assert "/admin" not in manager_areas and "/referrals" in manager_areas
    assert "hub's records and see which agencies hold" in manager_start.main_text
    assert "Search your agency's records" not in manager_start.main_text
    assert _denials(web_node) == []
    current_node(app).engine.dispose()


def test_a_page_without_a_marker_is_refused_even_when_signed_in(web_node: WebNode) -> None:
    app = _app_with_test_pages(web_node)
    web = WebClient(app.test_client())
    web.sign_in(web_node.users["node.admin"])

    web.get("/unmarked", status=403)

    assert (
        json.loads(_denials(web_node)[0].detail)["refused"] == "the page has no permission marker"
    )
    current_node(app).engine.dispose()


def test_a_refusal_by_a_domain_service_is_403_audited_and_its_work_undone(
    web_node: WebNode,
) -> None:
    app = _app_with_test_pages(web_node)
    web = WebClient(app.test_client())
    web.sign_in(web_node.users["police.pro"])

    web.get("/service-refuses", status=403)

    [entry] = _denials(web_node)
    assert entry.actor == "police.pro"
    assert "needs the role node-admin" in json.loads(entry.detail)["refused"]
    with web_node.sessions() as session:
        undone = select(AuditEntry).where(AuditEntry.action == "test.work-before-refusal")
        assert session.scalars(undone).all() == []
    current_node(app).engine.dispose()


def test_signed_out_visitors_are_sent_to_sign_in_not_refused(web_node: WebNode) -> None:
    app = _app_with_test_pages(web_node)
    web = WebClient(app.test_client())

    assert web.get("/admin-only", status=302).location == "/sign-in?next=/admin-only"
    assert _denials(web_node) == []
    current_node(app).engine.dispose()


@pytest.mark.parametrize(
    ("username", "areas"),
    [
        ("node.admin", ["/admin", "/audit"]),
        ("auditor", ["/admin", "/audit"]),
        ("manager", ["/referrals", "/search", "/subjects/candidates", "/assessment"]),
        ("analyst", ["/assessment"]),
        ("police.pro", ["/referrals", "/research", "/search", "/subjects/candidates"]),
    ],
)
def test_the_start_page_lists_what_each_role_can_do_and_every_link_opens(
    web: WebClient, web_node: WebNode, username: str, areas: list[str]
) -> None:
    start = web.sign_in(web_node.users[username])

    assert [a["href"] for a in start.soup.select(".app-area-list a")] == areas
    for link in start.soup.select("a[href]"):
        href = str(link["href"])
        if href.startswith("/") and not href.startswith("/static"):
            assert web.client.get(href).status_code in (200, 302), href


def _user(role: Role, done: bool = True) -> SignedInUser:
    return SignedInUser(1, 1, "u", "U", role, None, None, done, True)


def test_permission_markers_admit_whom_they_say() -> None:
    manager, pending = _user(Role.MASH_MANAGER), _user(Role.MASH_MANAGER, done=False)
    admin_only = Permission(Level.SIGNED_IN, frozenset({Role.NODE_ADMIN}))

    assert Permission(Level.PUBLIC).admits(None)
    assert not Permission(Level.SIGNED_IN).admits(None)
    assert not Permission(Level.SIGNED_IN).admits(pending)
    assert Permission(Level.SIGNED_IN).admits(manager)
    assert not admin_only.admits(manager)
    assert admin_only.admits(_user(Role.NODE_ADMIN))
    assert Permission(Level.SECOND_FACTOR_PENDING).admits(pending)
    assert not Permission(Level.SECOND_FACTOR_PENDING).admits(manager)


def test_a_view_cannot_be_given_two_markers() -> None:
    def view() -> str:
        return ""

    public(view)
    try:
        signed_in(view)
    except TypeError as exc:
        assert "already has a permission marker" in str(exc)
    else:
        raise AssertionError("a second marker should be refused")
