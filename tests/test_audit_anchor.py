"""The checkpoint file beside the keys: what it holds, and the store tamperings it exposes.

Each test opens a real node (SQLite store, keys, checkpoint file) with `Node.initialise`, acts
through its units of work as the CLI does (a checkpoint after every unit) or, where the web's
interval matters, appends without one, and tampers with the store file by raw SQL, as anyone who
can write the store but not the keys directory can.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor
from node.audit import AuditTampered, CheckpointFile, CheckpointFileError, VerifyReport
from node.audit.chain import ZERO_HASH, AuditRecord
from node.config import render_config
from node.keys import verify_signature
from node.runtime import Node

ACTOR = Actor.system("anchor-test")


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    (tmp_path / "node.toml").write_text(render_config("hackney", "Hackney", ["police"]))
    with Node.initialise(tmp_path / "node.toml") as opened:
        yield opened


def _work(node: Node, count: int, what: str = "record.view") -> None:
    """`count` units of work of one entry each, checkpointed as the CLI does."""
    for n in range(count):
        with node.unit_of_work() as session:
            audit.record(session, ACTOR, what, object_ref=f"record:{n}")


def _append_only(node: Node, count: int) -> None:
    """`count` entries committed without a checkpoint (as the web does between checkpoints)."""
    with node.sessions() as session, session.begin():
        for n in range(count):
            audit.record(session, ACTOR, "record.view", object_ref=f"web:{n}")


def _verify(node: Node) -> VerifyReport:
    with node.reading() as session:
        return audit.verify_store(session, [bytes(node.keys.verify_key)], anchor=node.anchor)


def _tampered(node: Node) -> AuditTampered:
    with pytest.raises(AuditTampered) as caught:
        _verify(node)
    return caught.value


def _sql(node: Node, script: str) -> None:
    with sqlite3.connect(node.config.data_dir / "node.db") as db:
        db.executescript(script)
    db.close()


def _rechain(node: Node, start: int = 1) -> None:
    """Recompute the chain from entry `start`, renumbering from there, and move the head: what
    anyone who can write the store can do after changing entries."""
    with sqlite3.connect(node.config.data_dir / "node.db") as db:
        rows = db.execute(
            "SELECT seq, at, actor, actor_role, actor_agency, action, object_ref, purpose,"
            " detail, chain_hash FROM audit_entries ORDER BY seq"
        ).fetchall()
        db.execute("DELETE FROM audit_entries WHERE seq >= ?", (start,))
        previous = bytes(rows[start - 2][9]) if start > 1 else ZERO_HASH
        kept = [row for row in rows if row[0] >= start]
        for seq, row in enumerate(kept, start=start):
            entry = audit.relink(previous, AuditRecord(seq, *row[1:9], chain_hash=b""))
            db.execute(
                "INSERT INTO audit_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (entry.seq, entry.at, entry.actor, entry.actor_role, entry.actor_agency,
                 entry.action, entry.object_ref, entry.purpose, entry.detail, entry.chain_hash),
            )  # fmt: skip
            previous = entry.chain_hash
        size = start - 1 + len(kept)
        db.execute("UPDATE audit_head SET size = ?, head_hash = ?", (size, previous))
    db.close()


def _file_lines(node: Node) -> list[list[str]]:
    return [line.split(" ") for line in node.anchor.path.read_text().splitlines()]


def _rows(node: Node, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(node.config.data_dir / "node.db") as db:
        rows = db.execute(query).fetchall()
    db.close()
    return rows


def _chain_hex(node: Node, size: int) -> str:
    if size == 0:
        return ZERO_HASH.hex()
    (chain,) = _rows(node, f"SELECT chain_hash FROM audit_entries WHERE seq = {size}")[0]
    return bytes(chain).hex()  # type: ignore[arg-type]


def test_the_file_holds_every_checkpoint_as_signed_each_marked_committed(node: Node) -> None:
    _work(node, 4)

    lines = _file_lines(node)
    stored = _rows(node, "SELECT size, signature FROM audit_checkpoints ORDER BY id")
    filed = [line for line in lines[1:] if line[0] == "checkpoint"]
    assert lines[0] == ["mash-audit-checkpoints/v1"]
    assert [int(line[1]) for line in filed] == [size for size, _ in stored] == [1, 2, 3, 4]
    for line, (_size, signature) in zip(filed, stored, strict=True):
        size, head, signed_at, key = int(line[1]), line[2], line[3], line[4]
        message = audit.checkpoint_message(size, bytes.fromhex(head), signed_at)
        verify_signature(bytes.fromhex(key), message, bytes.fromhex(line[5]))  # the file alone
        assert bytes.fromhex(line[5]) == signature
        assert (int(line[6]), line[7]) == (size - 1, _chain_hex(node, size - 1))  # its base
    assert [line[2] for line in lines if line[0] == "committed"] == [line[5] for line in filed]
    report = _verify(node)
    assert (report.size, report.filed, report.uncommitted, report.unanchored) == (4, 4, 0, 0)
    assert stat.S_IMODE(node.anchor.path.stat().st_mode) == 0o600


def test_a_log_rechained_after_its_checkpoint_rows_were_deleted_is_caught(node: Node) -> None:
    _work(node, 6)
    _sql(node, "UPDATE audit_entries SET purpose = 'nothing here' WHERE seq = 3;"
               " DELETE FROM audit_checkpoints;")  # fmt: skip
    _rechain(node)

    error = _tampered(node)

    assert error.seq == 3 and "chain recomputed" in error.reason
    _sql(node, "DELETE FROM audit_entries WHERE seq > 2; UPDATE audit_head SET size = 2,"
               " head_hash = (SELECT chain_hash FROM audit_entries WHERE seq = 2)")  # fmt: skip
    assert "cut from the end" in _tampered(node).reason  # and the tail cut back to what is true


def test_a_tail_cut_with_the_checkpoints_that_covered_it_is_caught(node: Node) -> None:
    _work(node, 8)
    _sql(node, "DELETE FROM audit_entries WHERE seq > 5; DELETE FROM audit_checkpoints"
               " WHERE size > 5; UPDATE audit_head SET size = 5,"
               " head_hash = (SELECT chain_hash FROM audit_entries WHERE seq = 5)")  # fmt: skip

    error = _tampered(node)

    assert error.seq == 6 and "cut from the end" in error.reason


def test_checkpoint_rows_deleted_from_an_intact_log_are_caught(node: Node) -> None:
    _work(node, 5)
    _sql(node, "DELETE FROM audit_checkpoints WHERE size = 3")

    error = _tampered(node)

    assert "has lost the checkpoint of 3 entries" in error.reason and "line" in error.reason


def test_a_replayed_checkpoint_row_is_caught(node: Node) -> None:
    _work(node, 4)
    _sql(node, "INSERT INTO audit_checkpoints (size, head_hash, signed_at, verify_key, signature)"
               " SELECT size, head_hash, signed_at, verify_key, signature"
               " FROM audit_checkpoints WHERE size = 2")  # fmt: skip

    assert "a row was replayed" in _tampered(node).reason


def test_a_validly_signed_row_the_file_never_recorded_is_caught(node: Node) -> None:
    _work(node, 3)
    with node.sessions() as session, session.begin():  # signed, but not filed
        audit.record(session, ACTOR, "record.view")
        audit.checkpoint(session, node.keys)

    assert "never recorded" in _tampered(node).reason


def test_work_that_never_committed_leaves_a_checkpoint_verify_accepts(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    _work(node, 3)
    failures = iter([RuntimeError("the disk is full")])

    def commit_fails_once(self: Session) -> None:
        if (failure := next(failures, None)) is not None:
            raise failure
        original_commit(self)

    original_commit = Session.commit
    monkeypatch.setattr(Session, "commit", commit_fails_once)
    with pytest.raises(RuntimeError, match="disk is full"):
        _work(node, 1, "lost.work")  # filed and fsynced, then the commit fails

    report = _verify(node)
    assert (report.size, report.filed, report.uncommitted) == (3, 4, 1)
    _work(node, 2)  # the node carries on from the log as committed
    report = _verify(node)
    assert (report.size, report.filed, report.uncommitted) == (5, 6, 1)
    assert "lost.work" not in str(_rows(node, "SELECT action FROM audit_entries"))


def test_uncommitted_work_still_vouches_for_the_log_it_began_from(node: Node) -> None:
    """Between checkpoints (the web signs one every N entries) entries are not signed; a unit
    of work that filed a checkpoint and then failed still pins the log it began from."""
    _work(node, 2)
    _append_only(node, 3)  # entries 3-5: committed, not yet checkpointed
    with node.sessions() as session:
        session.begin()
        audit.record(session, ACTOR, "lost.work")
        audit.checkpoint(session, node.keys, node.anchor)  # based on 5 entries
        session.rollback()
    assert _verify(node).uncommitted == 1
    _sql(node, "DELETE FROM audit_entries WHERE seq > 3; UPDATE audit_head SET size = 3,"
               " head_hash = (SELECT chain_hash FROM audit_entries WHERE seq = 3)")  # fmt: skip

    error = _tampered(node)

    assert error.seq == 4 and "did not commit, begun from a log of 5 entries" in error.reason


def test_a_commit_whose_mark_was_lost_is_marked_by_the_next_checkpoint(node: Node) -> None:
    _work(node, 2)
    with node.sessions() as session, session.begin():  # the process dies after the commit
        audit.record(session, ACTOR, "record.view")
        audit.checkpoint(session, node.keys, node.anchor)
    assert _verify(node).uncommitted == 0  # unmarked, but the store holds it

    _work(node, 1)  # the next checkpoint finds it in the store and marks it

    lines = _file_lines(node)
    assert [line[1] for line in lines if line[0] == "committed"] == ["1", "2", "3", "4"]
    _sql(node, "DELETE FROM audit_checkpoints WHERE size = 3")
    assert "has lost the checkpoint of 3 entries" in _tampered(node).reason


def test_the_node_refuses_to_sign_over_a_store_that_lost_a_committed_checkpoint(
    node: Node,
) -> None:
    _work(node, 4)
    _sql(node, "DELETE FROM audit_checkpoints WHERE size = 4")

    with pytest.raises(AuditTampered, match="has lost the checkpoint of 4 entries"):
        _work(node, 1)


def test_a_line_cut_short_by_a_crash_is_ignored_then_removed(node: Node) -> None:
    _work(node, 2)
    whole = node.anchor.path.read_bytes()
    with node.anchor.path.open("ab") as handle:
        handle.write(b"checkpoint 3 5e")  # the process died while writing

    assert _verify(node).filed == 2
    _work(node, 1)

    assert node.anchor.path.read_bytes().startswith(whole + b"checkpoint 3 ")
    assert _verify(node).filed == 3


@pytest.mark.parametrize(
    ("damage", "found"),
    [
        (b"checkpoint 3 nothex\n", "line 6 is a checkpoint record with 2 fields"),
        (b"committed 9 " + b"ab" * 64 + b"\n", "line 6 marks a checkpoint the file does not hold"),
        (b"rewritten\n", "line 6 is not a checkpoint file record"),
    ],
)
def test_a_damaged_checkpoint_file_is_reported_with_its_line(
    node: Node, damage: bytes, found: str
) -> None:
    _work(node, 2)
    with node.anchor.path.open("ab") as handle:
        handle.write(damage)

    assert found in _tampered(node).reason


def test_a_checkpoint_file_open_to_others_is_refused(node: Node) -> None:
    _work(node, 1)
    os.chmod(node.anchor.path, 0o644)

    with pytest.raises(CheckpointFileError, match="chmod 600"):
        _verify(node)
    with pytest.raises(CheckpointFileError, match="chmod 600"):
        _work(node, 1)


def test_a_store_from_before_the_file_is_refused_until_init_starts_it(node: Node) -> None:
    _work(node, 3)
    node.anchor.path.unlink()  # as a node upgraded from before the file has it
    config = node.config

    with pytest.raises(CheckpointFileError, match="run `mash-node init`"):
        Node.open(config)
    with Node.initialise(config) as upgraded:
        report = _verify(upgraded)
        assert (report.size, report.checkpoints_checked, report.filed) == (3, 3, 3)
        _work(upgraded, 1)
        assert _verify(upgraded).filed == 4


def test_init_refuses_to_start_the_file_from_a_tampered_store(node: Node) -> None:
    _work(node, 3)
    node.anchor.path.unlink()
    _sql(node, "UPDATE audit_entries SET actor = 'someone' WHERE seq = 2")

    with pytest.raises(AuditTampered, match="audit entry 2"):
        Node.initialise(node.config)
    assert not node.anchor.path.exists()


def test_verify_while_the_node_works_never_reports_tampering(node: Node) -> None:
    """The file is read before and after the store, so work committed meanwhile (filed before
    its commit, marked after) is never mistaken for tampering."""
    stop = threading.Event()
    problems: list[BaseException] = []

    def work() -> None:
        try:
            while not stop.is_set():
                _work(node, 1)
                _append_only(node, 1)
        except BaseException as exc:  # pragma: no cover - reported below
            problems.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    try:
        sizes = [_verify(node).size for _ in range(40)]
    finally:
        stop.set()
        worker.join()
    assert problems == []
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]


def test_a_checkpoint_time_with_a_space_is_never_filed(tmp_path: Path, node: Node) -> None:
    _work(node, 1)
    with node.reading() as session:
        latest = audit.latest_checkpoint(session)
    assert latest is not None
    with pytest.raises(ValueError, match="without spaces"):
        CheckpointFile(tmp_path / "other").append(replace(latest, signed_at="a b"), 0, ZERO_HASH)


def test_the_tail_holds_the_last_records_of_a_long_file(tmp_path: Path, node: Node) -> None:
    _work(node, 12)
    whole = node.anchor.read()
    for size in (1000, 4000):  # each a few lines' worth; the first line read is cut off
        tail = node.anchor.tail(size)
        last = [record.checkpoint for record in whole.records[-len(tail.records) :]]
        assert 0 < len(tail.records) < len(whole.records)
        assert [record.checkpoint for record in tail.records] == last
        assert {r.checkpoint.signature for r in tail.records} <= whole.committed
        assert tail.is_committed(whole.records[-1].checkpoint)


@pytest.mark.parametrize(
    ("script", "found"),
    [
        ("DROP TABLE audit_checkpoints", "no audit_checkpoints table"),
        ("ALTER TABLE audit_entries RENAME COLUMN purpose TO why", "lost its column(s) purpose"),
        ("DROP TABLE audit_head", "no audit_head table"),
    ],
)
def test_an_audit_table_dropped_or_altered_is_tampering(
    node: Node, script: str, found: str
) -> None:
    _work(node, 2)
    _sql(node, script)

    assert found in _tampered(node).reason


def test_a_checkpoint_file_that_is_not_a_file_is_refused(node: Node) -> None:
    node.anchor.path.unlink()
    node.anchor.path.mkdir()

    with pytest.raises(CheckpointFileError, match="not a file"):
        _verify(node)


def test_work_filed_after_the_callers_transaction_began_is_not_tampering(node: Node) -> None:
    """SQLite shows a transaction the store as it was at its first read, which may be older
    than the checkpoint file; verify reads the store in a transaction of its own, begun after
    the file was read, so work committed and filed meanwhile is not mistaken for tampering."""
    _work(node, 2)
    with node.reading() as session:
        session.execute(text("SELECT size FROM audit_head")).one()  # its snapshot starts here
        _work(node, 1)  # committed, filed and marked after it
        _append_only(node, 1)
        with node.sessions() as other:
            other.begin()
            audit.record(other, ACTOR, "record.view")
            audit.checkpoint(other, node.keys, node.anchor)  # filed, based on 4 entries
            report = audit.verify_store(session, [bytes(node.keys.verify_key)], anchor=node.anchor)
            other.rollback()
    assert (report.size, report.filed, report.uncommitted) == (4, 4, 1)
    assert (report.checkpoints_checked, report.unanchored) == (3, 1)


def test_two_processes_appending_in_turn_still_checkpoint_every_interval(tmp_path: Path) -> None:
    """Each process's watch knows only a lower bound of the latest checkpoint; whichever
    append makes one due must still sign it, whoever signed the one before."""
    text_ = render_config("hackney", "Hackney", ["police"]).replace(
        "[node]\n", "[node]\naudit_checkpoint_every = 5\n", 1
    )
    (tmp_path / "node.toml").write_text(text_)
    Node.initialise(tmp_path / "node.toml").close()
    with Node.open(tmp_path / "node.toml") as web, Node.open(tmp_path / "node.toml") as other:
        for n in range(23):
            with (web if n % 3 else other).unit_of_work() as session:
                audit.record(session, ACTOR, "record.view", object_ref=f"record:{n}")
        with web.reading() as session:
            sizes = sorted(session.scalars(text("SELECT size FROM audit_checkpoints")))
            log_size = session.scalar(text("SELECT size FROM audit_head"))
    assert sizes and log_size >= 23
    # One checkpoint every 5 entries, the first at 5 (or the one `init` signed), none missed.
    assert all(later - earlier == 5 for earlier, later in itertools.pairwise(sizes)), sizes
    assert log_size - sizes[-1] < 5, (log_size, sizes)
    assert web.watch.checkpointed > 0 and other.watch.checkpointed > 0
