"""Web fixtures: a hub node on SQLite with known users, its app, and a client that reads pages.

`build_node` is the shared builder (the browser tests use it too): a node directory with config,
keys, a migrated store, the agencies and one user per role, each with a known password and (but
for `newcomer`) a TOTP secret. It runs once per session; each test gets a copy (`web_node`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from bs4 import BeautifulSoup, Tag
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from node import users
from node.agencies import sync_agencies
from node.auth.totp import STEP_SECONDS, enrol_totp_for_demo
from node.config import NodeConfig, render_config
from node.keys import NodeKeys
from node.runtime import Node
from node.store.models import Role
from node.web import create_app
from node.web.services import current_node
from tests.helpers import ADMIN

AGENCIES = ["police", "childrens-social-care", "health", "education"]


@dataclass(frozen=True)
class WebUser:
    username: str
    display_name: str
    role: Role
    agency: str | None
    password: str
    totp_secret: str | None

    def code(self, steps_ahead: int = 0) -> str:
        """The code the user's app shows now (or `steps_ahead` 30-second steps from now)."""
        assert self.totp_secret is not None, f"{self.username} has no second factor"
        return pyotp.TOTP(self.totp_secret).at(time.time() + steps_ahead * STEP_SECONDS)


# username, name, role, agency, has a second factor
_PEOPLE: tuple[tuple[str, str, Role, str | None, bool], ...] = (
    ("manager", "Morgan Ashdown", Role.MASH_MANAGER, None, True),
    ("police.pro", "Priya Castell", Role.AGENCY_PROFESSIONAL, "police", True),
    ("health.pro", "Hollis Brennan", Role.AGENCY_PROFESSIONAL, "health", True),
    ("node.admin", "Ada Fenwick", Role.NODE_ADMIN, None, True),
    ("auditor", "Otis Merrow", Role.AUDITOR, None, True),
    ("analyst", "Anwen Gethin", Role.PARTNERSHIP_ANALYST, None, True),
    ("newcomer", "Nia Okafor", Role.AGENCY_PROFESSIONAL, "childrens-social-care", False),
)


@dataclass(frozen=True)
class WebNode:
    """An opened test node: its configuration, store sessions, keys and users."""

    directory: Path
    node: Node
    config: NodeConfig
    sessions: sessionmaker[Session]
    keys: NodeKeys
    users: dict[str, WebUser]


def build_node(
    directory: Path,
    *,
    secure_cookies: bool = False,
    borough: tuple[str, str] = ("hackney", "Hackney"),
    database_url: str | None = None,
) -> dict[str, WebUser]:
    """Create a node in `directory` (node.toml, data/; SQLite unless `database_url` says
    otherwise) and return its users."""
    directory.mkdir(parents=True, exist_ok=True)
    text = render_config(*borough, AGENCIES)
    if database_url is not None:
        text = text.replace("[hub]", f'database_url = "{database_url}"\n\n[hub]')
    text += f"\n[web]\nsecure_cookies = {'true' if secure_cookies else 'false'}\n"
    (directory / "node.toml").write_text(text, encoding="utf-8")
    people: dict[str, WebUser] = {}
    with Node.initialise(directory / "node.toml") as node, node.unit_of_work() as session:
        sync_agencies(session, node.config.agencies)
        for username, name, role, agency, enrolled in _PEOPLE:
            password = f"Correct-horse-{len(people)}-battery"
            users.add_user(
                session,
                ADMIN,
                username=username,
                display_name=name,
                role=role,
                agency_code=agency,
                password=password,
            )
            secret = enrol_totp_for_demo(session, node.keys, username) if enrolled else None
            people[username] = WebUser(username, name, role, agency, password, secret)
    return people


def open_node(directory: Path, people: dict[str, WebUser]) -> WebNode:
    node = Node.open(directory / "node.toml")
    return WebNode(
        directory=directory,
        node=node,
        config=node.config,
        sessions=node.sessions,
        keys=node.keys,
        users=people,
    )


@pytest.fixture(scope="session")
def web_node_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, WebUser]]:
    directory = tmp_path_factory.mktemp("web-node-template")
    return directory, build_node(directory)


@pytest.fixture
def web_node(
    web_node_template: tuple[Path, dict[str, WebUser]], tmp_path: Path
) -> Iterator[WebNode]:
    """A fresh copy of the template node for this test."""
    template, people = web_node_template
    directory = tmp_path / "node"
    shutil.copytree(template, directory)
    node = open_node(directory, people)
    yield node
    node.node.close()


@pytest.fixture
def app(web_node: WebNode) -> Iterator[Flask]:
    app = create_app(web_node.config, testing=True)
    yield app
    current_node(app).engine.dispose()


@pytest.fixture
def web(app: Flask) -> WebClient:
    return WebClient(app.test_client())


# --- reading pages like a user -----------------------------------------------------------------


@dataclass
class Page:
    """A response, parsed."""

    response: TestResponse
    soup: BeautifulSoup

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def location(self) -> str | None:
        return self.response.headers.get("Location")

    @property
    def main_text(self) -> str:
        main = self.soup.find("main")
        return " ".join((main or self.soup).get_text(" ").split())

    @property
    def title(self) -> str:
        return self.soup.title.get_text(strip=True) if self.soup.title else ""

    @property
    def error_messages(self) -> list[str]:
        summary = self.soup.select(".govuk-error-summary__list li")
        return [" ".join(item.get_text(" ").split()) for item in summary]

    @property
    def banners(self) -> list[str]:
        found = self.soup.select(".govuk-notification-banner__content")
        return [" ".join(item.get_text(" ").split()) for item in found]

    def form(self, selector: str = "main form") -> Tag:
        form = self.soup.select_one(selector)
        assert isinstance(form, Tag), f"no form {selector!r} on the page {self.title!r}"
        return form


class WebClient:
    """A Flask test client that asserts status codes and submits forms as a browser would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.last_path = "/"

    def get(self, path: str, *, status: int = 200) -> Page:
        self.last_path = path
        return self._page(self.client.get(path), status)

    def submit(
        self,
        page: Page,
        fields: dict[str, str],
        *,
        status: int = 302,
        form: str = "main form",
        path: str | None = None,
    ) -> Page:
        """Fill in and send a form of the page, with its hidden fields (the CSRF token)."""
        element = page.form(form)
        data: dict[str, Any] = {
            str(field["name"]): field.get("value", "")
            for field in element.select("input[type=hidden]")
        }
        data.update(fields)
        action = str(element.get("action") or path or self.last_path)
        return self._page(self.client.post(action, data=data), status)

    def post(self, path: str, data: dict[str, str], *, status: int) -> Page:
        return self._page(self.client.post(path, data=data), status)

    def follow(self, page: Page, *, status: int = 200) -> Page:
        assert page.location is not None, f"expected a redirect, got {page.status}"
        return self.get(page.location, status=status)

    def sign_in(self, user: WebUser, *, steps_ahead: int = 0) -> Page:
        """Sign in with password and code; returns the page signing in leads to."""
        done = self.give_password(user)
        assert done.location == "/sign-in/two-factor", done.location
        code_page = self.follow(done)
        finished = self.submit(code_page, {"code": user.code(steps_ahead)})
        return self.follow(finished)

    def give_password(self, user: WebUser, password: str | None = None, **kwargs: Any) -> Page:
        page = self.get("/sign-in")
        fields = {"username": user.username, "password": password or user.password}
        return self.submit(page, fields, **kwargs)

    def cookie(self) -> str | None:
        cookie = self.client.get_cookie("mash-session") or self.client.get_cookie(
            "__Host-mash-session"
        )
        return cookie.value if cookie else None

    def _page(self, response: TestResponse, status: int) -> Page:
        page = Page(response, BeautifulSoup(response.get_data(as_text=True), "html.parser"))
        assert response.status_code == status, (
            f"expected {status}, got {response.status_code} "
            f"({page.location or page.title}: {page.error_messages})"
        )
        return page
