"""SQLite write transactions queue in order in the process; read-only transactions neither queue
nor write."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from node.store.bulk import write_packed
from node.store.db import WriteQueue, make_engine, make_private, read_only
from tests.conftest import fresh_pg_database


@pytest.fixture
def store(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    return engine


def test_writers_get_the_lock_in_the_order_they_asked(store: Engine) -> None:
    order: list[int] = []
    holder = store.connect()
    holder.begin()  # holds the write lock while the others line up

    def write(number: int) -> None:
        with store.begin() as connection:
            order.append(number)
            connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": number})

    threads = []
    for number in range(8):
        thread = threading.Thread(target=write, args=(number,))
        thread.start()
        threads.append(thread)
        time.sleep(0.02)  # each is waiting before the next asks
    holder.rollback()
    holder.close()
    for thread in threads:
        thread.join(timeout=10)
    assert order == list(range(8))
    with store.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 8


def write_in_a_thread(engine: Engine, value: int) -> threading.Event:
    """Insert a value into t from another thread; the event is set once it is committed."""
    done = threading.Event()

    def write() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (:value)"), {"value": value})
        done.set()

    threading.Thread(target=write).start()
    return done


def test_the_lock_is_free_again_after_commit_rollback_and_a_failed_statement(
    store: Engine,
) -> None:
    with store.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
    with pytest.raises(OperationalError), store.begin() as connection:
        connection.execute(text("INSERT INTO no_such_table VALUES (1)"))
    connection = store.connect()
    connection.begin()
    connection.close()  # returned to the pool mid-transaction: rolled back
    done = write_in_a_thread(store, 2)
    assert done.wait(timeout=5), "a writer still waits: the lock was not given back"


def test_a_waiter_gives_up_after_the_timeout_and_leaves_the_queue() -> None:
    queue = WriteQueue()
    queue.acquire()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        queue.acquire(timeout=0.05)
    queue.release()
    queue.acquire(timeout=0.05)  # nobody left in line ahead of us
    queue.release()


def test_read_only_transactions_read_while_a_writer_holds_the_lock_and_cannot_write(
    store: Engine,
) -> None:
    with store.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
    writer = store.connect()
    writer.begin()
    writer.execute(text("INSERT INTO t VALUES (2)"))  # not committed: readers see 1 row
    try:
        started = time.perf_counter()
        with read_only(store).begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
        assert time.perf_counter() - started < 1.0
        with pytest.raises(OperationalError, match="readonly"), read_only(store).begin() as c:
            c.execute(text("INSERT INTO t VALUES (3)"))
    finally:
        writer.rollback()
        writer.close()
    with store.begin() as connection:  # the same pooled connection writes again afterwards
        connection.execute(text("INSERT INTO t VALUES (4)"))
        assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 2


def test_another_process_still_waits_in_the_busy_handler(store: Engine, tmp_path: Path) -> None:
    other = sqlite3.connect(
        tmp_path / "store.db", timeout=30, isolation_level=None, check_same_thread=False
    )
    other.execute("BEGIN IMMEDIATE")  # as the CLI would, from another process
    released = threading.Timer(0.3, other.rollback)
    released.start()
    started = time.perf_counter()
    with store.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
    assert time.perf_counter() - started >= 0.25
    other.close()


def test_workers_sharing_the_queue_take_turns_through_the_lock_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    first, second = make_engine(url, share_queue=True), make_engine(url, share_queue=True)
    with first.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    assert (tmp_path / "store.db.writers").exists()
    holder = first.connect()
    holder.begin()
    holder.execute(text("INSERT INTO t VALUES (1)"))
    done = write_in_a_thread(second, 2)
    assert not done.wait(timeout=0.3), "the other worker wrote while the first held the lock"
    holder.commit()
    holder.close()
    assert done.wait(timeout=5)
    with second.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 2


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_store_and_its_wal_files_are_the_owners_only(tmp_path: Path) -> None:
    before = os.umask(0o022)  # the usual umask, under which SQLite would make 0644 files
    try:
        engine = make_engine(f"sqlite:///{tmp_path / 'node.db'}", share_queue=True)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (n INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
        files = sorted(p.name for p in tmp_path.iterdir())
        modes = {p.name: _mode(p) for p in tmp_path.iterdir()}
        engine.dispose()
    finally:
        os.umask(before)
    assert files == ["node.db", "node.db-shm", "node.db-wal", "node.db.writers"]
    assert modes == dict.fromkeys(files, 0o600)


def test_make_private_tightens_a_store_made_before_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (n INTEGER)")
        for name in ("node.db", "node.db-wal", "node.db-shm"):
            os.chmod(tmp_path / name, 0o644)
        changed = make_private(f"sqlite:///{path}")
        assert sorted(p.name for p in changed) == ["node.db", "node.db-shm", "node.db-wal"]
        assert {_mode(tmp_path / p.name) for p in changed} == {0o600}
    db.close()
    assert make_private(f"sqlite:///{path}") == []  # nothing left to change
    assert make_private("sqlite://") == make_private("postgresql://db/x") == []


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_packed_rows_are_cut_apart_as_written(backend: str, tmp_path: Path) -> None:
    if backend == "postgresql":
        with fresh_pg_database("mash_packed") as url:
            _packed_rows_round_trip(make_engine(url))
    else:
        _packed_rows_round_trip(make_engine(f"sqlite:///{tmp_path / 'packed.db'}"))


def _packed_rows_round_trip(engine: Engine) -> None:
    keys = [os.urandom(16) for _ in range(1_000)]
    prfs = [os.urandom(8) for _ in keys]
    blob = "BLOB" if engine.dialect.name == "sqlite" else "BYTEA"
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE TABLE packed (n INTEGER, k {blob}, p {blob})")
            written = write_packed(
                conn, "packed", {"n": 7}, {"k": (b"".join(keys), 16), "p": (b"".join(prfs), 8)}
            )
            assert write_packed(conn, "packed", {"n": 8}, {"k": (b"", 16)}) == 0
            with pytest.raises(ValueError, match="packed: packed columns of unequal length"):
                write_packed(conn, "packed", {}, {"k": (b"x" * 32, 16), "p": (b"y" * 8, 8)})
            with pytest.raises(ValueError, match="not of whole rows"):
                write_packed(conn, "packed", {}, {"k": (b"x" * 17, 16)})
            rows = conn.exec_driver_sql("SELECT n, k, p FROM packed").all()
        assert written == len(keys)
        assert sorted((n, bytes(k), bytes(p)) for n, k, p in rows) == sorted(
            (7, k, p) for k, p in zip(keys, prfs, strict=True)
        )
    finally:
        engine.dispose()
