"""Engines and sessions for SQLite (WAL, synchronous=FULL) and PostgreSQL, and schema upgrades.

The coordinator is one process (its web threads and its gRPC threads) and writes rarely (an
edit, a node's monthly report): on SQLite a write transaction takes the write lock at its start
(`BEGIN IMMEDIATE`), so two writers queue in SQLite's busy handler instead of failing half-way;
a transaction that only reads takes no lock and may not write (`PRAGMA query_only`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from coordinator.errors import DomainError, ErrorCode
from mash_common.schema import schema_problem, schema_state, upgrade_to_head

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_S = 30.0
READ_ONLY = "mash_read_only"  # execution option: this engine's transactions only read


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the coordinator's store."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, **kwargs)


def read_only(engine: Engine) -> Engine:
    """The same store for transactions that only read."""
    return engine.execution_options(**{READ_ONLY: True})


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy, not the driver, begins
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        raw = connection.connection.dbapi_connection
        if connection.get_execution_options().get(READ_ONLY, False):
            raw.execute("PRAGMA query_only=ON")
            raw.execute("BEGIN")
        else:
            raw.execute("PRAGMA query_only=OFF")
            raw.execute("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


class StoreOutOfDate(DomainError):
    """The store's schema is not the one this release of the code works with."""

    code = ErrorCode.UNAVAILABLE


def require_current(engine: Engine) -> None:
    """Refuse to work on a store whose schema is behind (or ahead of) this release."""
    problem = schema_problem(schema_state(alembic_config(engine), engine), "mash-coordinator init")
    if problem:
        raise StoreOutOfDate(problem)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (safe to run on an up-to-date store); refuse a
    store that a newer release has migrated."""
    problem = upgrade_to_head(alembic_config(engine), engine, "mash-coordinator init")
    if problem:
        raise StoreOutOfDate(problem)
