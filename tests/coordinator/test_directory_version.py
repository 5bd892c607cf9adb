"""The directory's version under enrolments at once: a deployment enrols its boroughs in
parallel, and the first enrolments on a new coordinator both find no version row yet. Each must
get a version of its own (one waits for the other), never a database error."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from coordinator.nodes.directory import bump_version, current_version
from coordinator.store.db import make_engine, upgrade
from tests.conftest import fresh_pg_database

NOW = dt.datetime(2026, 12, 6, 11, 30, tzinfo=dt.UTC)


@pytest.fixture
def empty_directory() -> Iterator[Engine]:
    """A migrated coordinator store on PostgreSQL on which nothing has enrolled yet."""
    with fresh_pg_database("mash_coordinator_directory") as url:
        engine = make_engine(url)
        upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.mark.postgres
def test_two_first_enrolments_at_once_each_get_their_own_version(
    empty_directory: Engine,
) -> None:
    versions: list[int] = []
    errors: list[BaseException] = []
    second_started = threading.Event()

    def second_enrolment() -> None:
        try:
            with Session(empty_directory) as session, session.begin():
                second_started.set()
                versions.append(bump_version(session, NOW))  # waits for the first to commit
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    with Session(empty_directory) as first, first.begin():
        versions.append(bump_version(first, NOW))  # the row made, not yet committed
        thread = threading.Thread(target=second_enrolment)
        thread.start()
        second_started.wait(10)
        thread.join(0.5)  # the second is blocked on the first's new row
        assert thread.is_alive(), "the second enrolment did not wait for the first"
    thread.join(30)
    assert not errors, errors
    assert versions == [1, 2]
    with Session(empty_directory) as session:
        assert current_version(session) == 2
