"""Coordinator fixtures: a coordinator built in a directory (config, key, CA and TLS identity,
migrated store, the seeded plan) with one user per role, its web app, and a client that reads
pages (tests/web/conftest.py's WebClient, which is the node's and the coordinator's alike).

`build_coordinator` is the shared builder (the browser and gRPC tests use it too); it runs once
per session on SQLite and each test gets a copy (`coordinator_dir`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from coordinator import users
from coordinator.access import Actor
from coordinator.auth.totp import enrol_for_demo
from coordinator.config import load_config, render_config
from coordinator.rollout.seed import seed
from coordinator.runtime import Coordinator
from coordinator.store.db import make_engine, upgrade
from coordinator.store.models import Role
from coordinator.web import create_app
from coordinator.web.services import current_coordinator
from mash_common import ca
from tests.web.conftest import WebClient, WebUser

ADMIN = Actor("admin", Role.ADMINISTRATOR)
EDITOR = Actor("editor", Role.EDITOR)
VIEWER = Actor("viewer", Role.VIEWER)

# username, name, role, has a second factor
PEOPLE: tuple[tuple[str, str, Role, bool], ...] = (
    ("admin", "Ada Quist", Role.ADMINISTRATOR, True),
    ("editor", "Edith Marlow", Role.EDITOR, True),
    ("second.editor", "Sid Okonkwo", Role.EDITOR, True),
    ("viewer", "Vera Lind", Role.VIEWER, True),
    ("newcomer", "Nat Pryce", Role.VIEWER, False),
)


def build_coordinator(
    directory: Path,
    *,
    database_url: str | None = None,
    web_port: int = 0,
    grpc_port: int = 0,
    people: tuple[tuple[str, str, Role, bool], ...] = PEOPLE,
) -> dict[str, WebUser]:
    """Create a coordinator in `directory` (coordinator.toml, data/, ca/) with the seeded plan
    and `people`; returns them with their passwords and TOTP secrets."""
    directory.mkdir(parents=True, exist_ok=True)
    text = render_config(web_port=web_port, grpc_port=grpc_port, secure=False)
    if database_url is not None:
        text = text.replace(
            '# database_url = "postgresql+psycopg://mash@127.0.0.1:5432/mash_coordinator"',
            f'database_url = "{database_url}"',
        )
    (directory / "coordinator.toml").write_text(text, encoding="utf-8")
    config = load_config(directory / "coordinator.toml")
    ca.init_ca(config.grpc.ca_dir)
    ca.issue_coordinator_with_key(config.grpc.ca_dir, config.tls_dir)
    found: dict[str, WebUser] = {}
    with Coordinator.initialise(config) as coordinator, coordinator.unit_of_work() as session:
        seed(session)
        users.create_first_admin(
            session,
            username="bootstrap",
            display_name="Bootstrap",
            password="First-admin-pass-2026",
        )
        for username, name, role, enrolled in people:
            password = f"Correct-horse-{len(found)}-battery"
            users.add_user(
                session, ADMIN, username=username, display_name=name, role=role, password=password
            )
            secret = enrol_for_demo(session, coordinator.keys, username) if enrolled else None
            found[username] = WebUser(username, name, role, None, password, secret)  # type: ignore[arg-type]
    return found


@dataclass(frozen=True)
class Built:
    directory: Path
    coordinator: Coordinator
    users: dict[str, WebUser]

    @property
    def config_path(self) -> Path:
        return self.directory / "coordinator.toml"


@pytest.fixture(scope="session")
def coordinator_template(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, WebUser]]:
    directory = tmp_path_factory.mktemp("coordinator-template")
    return directory, build_coordinator(directory)


@pytest.fixture
def built(coordinator_template: tuple[Path, dict[str, WebUser]], tmp_path: Path) -> Iterator[Built]:
    """A fresh copy of the template coordinator for this test, opened."""
    template, people = coordinator_template
    directory = tmp_path / "coordinator"
    shutil.copytree(template, directory)
    config = load_config(directory / "coordinator.toml")
    opened = Coordinator.open(config)
    yield Built(directory, opened, people)
    opened.close()


@pytest.fixture
def app(built: Built) -> Iterator[Flask]:
    app = create_app(built.coordinator.config, testing=True)
    yield app
    current_coordinator(app).engine.dispose()


@pytest.fixture
def web(app: Flask) -> WebClient:
    return WebClient(app.test_client())


def client_for(app: Flask, user: WebUser, steps_ahead: int = 0) -> WebClient:
    """A client signed in as `user`."""
    client = WebClient(app.test_client())
    client.sign_in(user, steps_ahead=steps_ahead)
    return client


# --- store tests on both databases, each in a rolled-back transaction --------------------------


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def coordinator_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A migrated, seeded coordinator store, once per backend per run."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('coordinator-store') / 'coordinator.db'}"
        engine = make_engine(url)
        upgrade(engine)
        with Session(engine) as session, session.begin():
            seed(session)
        yield engine
        engine.dispose()
    else:
        from tests.conftest import fresh_pg_database

        with fresh_pg_database("mash_coord_test") as url:
            engine = make_engine(url)
            upgrade(engine)
            with Session(engine) as session, session.begin():
                seed(session)
            yield engine
            engine.dispose()


@pytest.fixture
def db(coordinator_engine) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    """A session in a transaction rolled back after the test; commits become savepoints."""
    with coordinator_engine.connect() as connection:
        outer = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            yield session
        outer.rollback()
