"""Engines and sessions for SQLite (WAL, synchronous=FULL) and PostgreSQL, and schema upgrades.

A SQLite store file is created readable and writable by its owner only (0600); SQLite gives its
WAL and shared-memory files the mode of the store file, so they are private too.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import stat
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, Table, create_engine, event, make_url
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.orm import Session, sessionmaker

from mash_common.schema import schema_problem, schema_state, upgrade_to_head
from node.errors import DomainError, ErrorCode

MIGRATIONS = Path(__file__).with_name("migrations")
PRIVATE_FILE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal", ".writers")  # files SQLite and we keep beside it
BUSY_TIMEOUT_S = 30.0
READ_ONLY = "mash_read_only"  # execution option: this engine's transactions only read


def make_engine(url: str, *, share_queue: bool = False, **kwargs: Any) -> Engine:
    """An engine for the node store. SQLite gets WAL, full fsync and write-locking transactions.

    `share_queue` (SQLite): write transactions also take turns, in the kernel, with those of the
    other processes that say so (web server workers), through a lock file beside the store;
    other processes, such as the CLI, are met in SQLite's busy handler as before.
    """
    if url.startswith("sqlite"):
        database = make_url(url).database
        if (path := sqlite_path(url)) is not None:
            _create_private(path)
        shared = share_queue and database not in (None, "", ":memory:")
        attributes = {
            "queue": WriteQueue(),
            "shared_lock": _lock_file(Path(str(database) + ".writers")) if shared else None,
        }
        factory = type("QueuedConnection", (_QueuedConnection,), attributes)
        connect_args = {"timeout": BUSY_TIMEOUT_S, "factory": factory}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, **kwargs)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite store's URL, or None for an in-memory store (or not SQLite)."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    if database in (None, "", ":memory:") or str(database).startswith("file:"):
        return None
    return Path(str(database))


def make_private(url: str) -> list[Path]:
    """Make a SQLite store's file and the files beside it (WAL, shared memory, journal, the
    writers' lock) readable by the owner only, as a store made before this rule needs; returns
    the files whose mode changed."""
    database = sqlite_path(url)
    if database is None:
        return []
    changed = []
    for path in (database, *(Path(str(database) + end) for end in SQLITE_COMPANIONS)):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode != PRIVATE_FILE:
            os.chmod(path, PRIVATE_FILE)
            changed.append(path)
    return changed


def _create_private(database: Path) -> None:
    """Create the store file, empty and 0600, before SQLite would create it with the umask's
    mode (0644 by default); an existing file is left as it is."""
    if database.exists() or not database.parent.is_dir():
        return  # SQLite opens it, or reports the missing folder itself
    with suppress(FileExistsError):  # made meanwhile by another process
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


def read_only(engine: Engine) -> Engine:
    """The same store for transactions that only read: on SQLite they neither take the write
    lock nor queue for it (WAL readers see the last commit), and any write in them fails."""
    return engine.execution_options(**{READ_ONLY: True})


class WriteQueue:
    """A first-come, first-served lock for one process's write transactions on one SQLite store.

    SQLite lets one writer in at a time; the others wait in its busy handler, which polls with
    growing sleeps (up to 100 ms), so under load a waiter can lose to newcomers again and again.
    Threads of this process queue here in order instead, and only the head of the queue asks
    SQLite for the lock (other processes, such as the CLI, are still served by the busy timeout).
    The lock is handed to the next waiter directly on release, so it may be released by any
    thread (a pooled connection can be returned from another thread).
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self, timeout: float = BUSY_TIMEOUT_S) -> None:
        """Wait for our turn; raise sqlite3.OperationalError (as SQLite would) after `timeout`."""
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=timeout):
            return  # handed over by `release`: we hold it now
        with self._mutex:
            if turn in self._waiters:
                self._waiters.remove(turn)
                raise sqlite3.OperationalError("database is locked (waited for other writers)")
        # Handed over just as the wait timed out: we hold it after all.

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # the next in line now holds it
            else:
                self._held = False


def _lock_file(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)


class _QueuedConnection(sqlite3.Connection):
    """A pysqlite connection whose write transactions first queue in the engine's WriteQueue (and
    then for the lock file shared with other worker processes, if any), and leave once they
    commit, roll back or the connection closes."""

    queue: WriteQueue  # set per engine by make_engine
    shared_lock: int | None  # the lock file's descriptor, or None
    _queued = False
    _shared = False
    _read_only = False

    def begin(self, *, write: bool) -> None:
        if not write:
            self.execute("PRAGMA query_only=ON")
            self._read_only = True
            self.execute("BEGIN")
            return
        self.queue.acquire()
        self._queued = True
        try:
            if self.shared_lock is not None:
                # The head of this process's queue waits its turn with the other workers' heads
                # (blocked in the kernel, woken in order of release, not polling); each holder
                # is bounded by SQLite's busy timeout.
                fcntl.flock(self.shared_lock, fcntl.LOCK_EX)
                self._shared = True
            # Take SQLite's write lock at the start, so two writers queue instead of failing
            # mid-way (the audit chain needs appends in one order).
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._leave()
            raise

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._leave()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._read_only = False  # nothing to reset on a closed connection
            self._leave()

    def _leave(self) -> None:
        if self._shared:
            self._shared = False
            fcntl.flock(self.shared_lock, fcntl.LOCK_UN)  # type: ignore[arg-type]
        if self._queued:
            self._queued = False
            self.queue.release()
        if self._read_only:
            self._read_only = False
            self.execute("PRAGMA query_only=OFF")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, say when transactions begin (pysqlite's default is wrong).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")  # the busy timeout: connect_args above
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = not connection.get_execution_options().get(READ_ONLY, False)
        connection.connection.dbapi_connection.begin(write=write)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits together at the end, or not at all."""
    with factory() as session, session.begin():
        yield session


def upsert_insert(dialect: str, table: Table) -> Any:
    """An INSERT on `table` that takes ON CONFLICT clauses, for a database of `dialect`
    ("sqlite" or "postgresql", which spell them alike): build it once per dialect and execute
    it with each row's values."""
    return (postgresql.insert if dialect == "postgresql" else sqlite_dialect.insert)(table)


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


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
    problem = schema_problem(schema_state(alembic_config(engine), engine), "mash-node init")
    if problem:
        raise StoreOutOfDate(problem)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (safe to run on an up-to-date store); refuse a
    store that a newer release has migrated."""
    problem = upgrade_to_head(alembic_config(engine), engine, "mash-node init")
    if problem:
        raise StoreOutOfDate(problem)
