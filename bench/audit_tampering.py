"""Audit tampering: random tamperings of a real stored log, each judged by the real `audit verify`.

Run: .venv/bin/python -m bench.audit_tampering [--trials 10000] [--seed 1] [--via cli|store]

A node is built once in `bench/out/audit-tampering/node/` (SQLite store, keys, checkpoint file)
through its own units of work: CLI-like work (a checkpoint after every unit), a unit of work that
files its checkpoint and then fails to commit, web-like work (a checkpoint every 10 entries) and,
last, a few entries after the last checkpoint. Backups of the store are taken on the way.

Each trial copies that store, applies one random tampering of one kind (below) with raw SQL, as
anyone who can write the store file but not the keys folder can, and runs `mash-node audit verify`
on it (`--via cli`, the default: the command in this process, exit status and output; `--via
store`: `verify_store` alone, faster). Independently of verify, the trial's store is compared with
the original: *unchanged* (the tampering undid itself, e.g. SQLite stored '7' back as 7), *not
detectable from the node alone* (the README's first case: the log up to the last checkpoint and
every checkpoint row are the original's, and what follows is a well-formed continuation of it
with the head moved to match, which the node itself could have written), or *must be detected*.
Verify's answer is then one of: detected (exit 3, one line), intact (exit 0), or a crash
(any other exit or exception). A miss (intact where it must detect) or a false alarm (detected
where nothing changed) is a failure, as is any crash.

Kinds: edit (one field of one entry), edit + re-chain (the chain recomputed after it and the head
moved), delete (entries, with or without renumbering and re-chaining), insert (a forged entry,
with or without re-chaining), reorder (two entries swapped, with or without re-chaining),
truncate (the tail, with or without the head moved and the checkpoint rows that covered it),
checkpoints deleted (some or all, with or without the log re-chained), checkpoints replayed (a
row repeated, an older row's values over a newer one's, newer rows replaced by an older one),
whole log re-chained (entries edited and the whole chain recomputed, with or without the
checkpoint rows), types (a value of another type in an entry, checkpoint or head row: NULL, a
BLOB for text, text for a number, a real, an oversized or non-UTF-8 value), head (the head row
moved, damaged, repeated or deleted), restore (the store put back from an older backup), tail
(well-formed changes after the last checkpoint: cut, rewritten, appended).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.import_throughput import OUT, format_table, machine_lines
from node import audit
from node.access import Actor
from node.audit.chain import ZERO_HASH, AuditRecord
from node.config import render_config
from node.runtime import Node
from node.store.db import make_engine
from node.store.models import Role

NODE_DIR = OUT / "audit-tampering" / "node"
EVERY = 10  # the web-like stretch's checkpoint interval
ENTRY_COLUMNS = (
    "seq", "at", "actor", "actor_role", "actor_agency",
    "action", "object_ref", "purpose", "detail", "chain_hash",
)  # fmt: skip
TEXT_COLUMNS = ENTRY_COLUMNS[1:9]
CHECKPOINT_COLUMNS = ("size", "head_hash", "signed_at", "verify_key", "signature")
ACTORS = (
    Actor("prof.police1", Role.AGENCY_PROFESSIONAL, "police"),
    Actor("manager1", Role.MASH_MANAGER),
    Actor("prof.health2", Role.AGENCY_PROFESSIONAL, "health"),
    Actor.system("checkpoint"),
)
SQL_VALUES = (
    "NULL", "x'00ff10'", "CAST(x'ff' AS TEXT)", "'7x'", "'13'", "4.5", "-3",
    "9223372036854775807", "92233720368547758070", "hex(zeroblob(100000))", "zeroblob(100000)",
)  # fmt: skip

UNCHANGED, UNDETECTABLE, MUST_DETECT = "unchanged", "not detectable from the node alone", "must"


@dataclass(frozen=True)
class Built:
    """The node built once: its config, the pristine store, its backups, and what it holds."""

    config: Path
    store: Path
    backups: tuple[Path, ...]
    entries: int  # entries in the log
    anchored: int  # entries up to the last checkpoint
    checkpoints: int


@dataclass
class Tally:
    """Outcomes of one kind of tampering."""

    trials: int = 0
    detected: int = 0
    documented: int = 0  # intact, and not detectable from the node alone (README)
    unchanged: int = 0  # intact, and nothing had changed
    caught_anyway: int = 0  # detected though it was one of the undetectable kind
    missed: int = 0
    false_alarms: int = 0
    crashes: int = 0
    examples: list[str] = field(default_factory=list)

    def failures(self) -> int:
        return self.missed + self.false_alarms + self.crashes


# --- the node ------------------------------------------------------------------------------------


def build(directory: Path = NODE_DIR, seed: int = 1) -> Built:
    """Build the node in `directory` (replacing what is there) and return what it holds."""
    rng = random.Random(seed)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    config = directory / "node.toml"
    config.write_text(
        render_config("hackney", "Hackney", ["police", "health"])
        .replace('data_dir = "data"\n', f'data_dir = "data"\naudit_checkpoint_every = {EVERY}\n'),
        encoding="utf-8",
    )  # fmt: skip
    backups = []
    with Node.initialise(config) as cli_node:  # signs a checkpoint after every unit of work
        for unit in range(30):
            _unit(cli_node, rng, rng.randint(1, 3), f"cli-{unit}")
            if unit in (9, 19):
                backups.append(_backup(cli_node, directory / f"backup-{unit}.db"))
        with cli_node.sessions() as session:  # filed, then the commit fails
            session.begin()
            audit.record(session, ACTORS[0], "record.view", object_ref="lost")
            audit.checkpoint(session, cli_node.keys, cli_node.anchor)
            session.rollback()
        for unit in range(30, 40):
            _unit(cli_node, rng, rng.randint(1, 3), f"cli-{unit}")
    with Node.open(config) as web_node:  # a checkpoint every EVERY entries
        for unit in range(47):
            _unit(web_node, rng, 1, f"web-{unit}")
            if unit == 25:
                backups.append(_backup(web_node, directory / "backup-web.db"))
    store = directory / "data" / "node.db"
    _compact(store)
    with sqlite3.connect(store) as db:
        (entries,) = db.execute("SELECT size FROM audit_head").fetchone()
        (anchored, checkpoints) = db.execute(
            "SELECT max(size), count(*) FROM audit_checkpoints"
        ).fetchone()
    db.close()
    pristine = directory / "pristine.db"
    shutil.copy(store, pristine)
    return Built(config, pristine, tuple(backups), entries, anchored, checkpoints)


def _unit(node: Node, rng: random.Random, entries: int, ref: str) -> None:
    with node.unit_of_work() as session:
        for n in range(entries):
            actor = rng.choice(ACTORS)
            audit.record(
                session,
                actor,
                rng.choice(("record.view", "search", "release", "export", "referral.triage")),
                object_ref=f"referral:{ref}-{n}",
                purpose=rng.choice(("", "s47 enquiry", "MASH-2026-0142", "Zoë's referral")),
                detail={"n": n, "note": rng.choice(("", "“quoted”", "line\nbreak"))},
            )


def _backup(node: Node, path: Path) -> Path:
    source = sqlite3.connect(node.config.data_dir / "node.db")
    target = sqlite3.connect(path)
    with target:
        source.backup(target)
    source.close()
    target.close()
    return path


def _compact(store: Path) -> None:
    """Fold the WAL into the store file, so a copy of the file is the whole store."""
    with sqlite3.connect(store) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


# --- tamperings ----------------------------------------------------------------------------------


Tamper = Callable[[random.Random, sqlite3.Connection, Built], str]
KINDS: dict[str, Tamper] = {}


def kind(name: str) -> Callable[[Tamper], Tamper]:
    def register(function: Tamper) -> Tamper:
        KINDS[name] = function
        return function

    return register


def _seq(rng: random.Random, built: Built) -> int:
    """An entry, a third of the time one after the last checkpoint."""
    if rng.random() < 1 / 3:
        return rng.randint(built.anchored + 1, built.entries)
    return rng.randint(1, built.entries)


def _text_change(rng: random.Random, value: str) -> str:
    """A different text: a space added, a digit or letter changed, cut short or replaced."""
    changes = (value + " ", value.upper(), "nothing to see", value[:-1], value.replace("0", "1", 1))
    return rng.choice([change for change in changes if change != value])


def _edit_field(rng: random.Random, db: sqlite3.Connection, seq: int) -> str:
    column = rng.choice(TEXT_COLUMNS)
    with _text(db):
        (value,) = db.execute(
            f"SELECT {column} FROM audit_entries WHERE seq = ?", (seq,)
        ).fetchone()
    db.execute(
        f"UPDATE audit_entries SET {column} = ? WHERE seq = ?", (_text_change(rng, value), seq)
    )
    return f"{column} of {seq}"


@contextlib.contextmanager
def _text(db: sqlite3.Connection) -> Iterator[None]:
    """Read text as str (the trial connection reads it as bytes, to compare rows exactly)."""
    db.text_factory = str
    try:
        yield
    finally:
        db.text_factory = bytes


def _loosen(db: sqlite3.Connection) -> None:
    """Rebuild the audit tables without their constraints (anyone with the file can)."""
    for table in ("audit_entries", "audit_checkpoints", "audit_head"):
        db.execute(f"CREATE TABLE loose AS SELECT * FROM {table}")
        db.execute(f"DROP TABLE {table}")
        db.execute(f"ALTER TABLE loose RENAME TO {table}")


def rechain(db: sqlite3.Connection, start: int = 1) -> None:
    """Renumber the entries from `start` on in their stored order, recompute their chain from
    the entry before, and move the head to the end: what the attacker does to hide a change."""
    with _text(db):
        rows = db.execute(
            f"SELECT {', '.join(ENTRY_COLUMNS)} FROM audit_entries ORDER BY seq"
        ).fetchall()
    before = [row for row in rows if row[0] < start]
    previous = bytes(before[-1][9]) if before else ZERO_HASH
    db.execute("DELETE FROM audit_entries WHERE seq >= ?", (start,))
    seq = start - 1
    for row in rows[len(before) :]:
        seq += 1
        entry = audit.relink(previous, AuditRecord(seq, *row[1:9], chain_hash=b""))
        db.execute(
            f"INSERT INTO audit_entries ({', '.join(ENTRY_COLUMNS)}) VALUES ({', '.join('?' * 10)})",
            (entry.seq, entry.at, entry.actor, entry.actor_role, entry.actor_agency, entry.action,
             entry.object_ref, entry.purpose, entry.detail, entry.chain_hash),
        )  # fmt: skip
        previous = entry.chain_hash
    move_head(db)


def move_head(db: sqlite3.Connection) -> None:
    """Point the head at the last entry."""
    row = db.execute(
        "SELECT seq, chain_hash FROM audit_entries ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    size, head = row if row is not None else (0, ZERO_HASH)
    db.execute("UPDATE audit_head SET size = ?, head_hash = ?", (size, head))


def _forged(rng: random.Random, seq: int) -> tuple[object, ...]:
    return (
        seq, "2026-11-30T23:59:59.000000Z", "manager1", "mash-manager", "", "release",
        f"referral:forged-{rng.randint(0, 99)}", "none", '{"forged":true}', bytes(32),
    )  # fmt: skip


def _make_room(db: sqlite3.Connection, seq: int) -> None:
    """Shift entries from `seq` on one place up (from the end, so the key stays unique)."""
    for (moved,) in db.execute(
        "SELECT seq FROM audit_entries WHERE seq >= ? ORDER BY seq DESC", (seq,)
    ).fetchall():
        db.execute("UPDATE audit_entries SET seq = ? WHERE seq = ?", (moved + 1, moved))


@kind("edit")
def _edit(rng: random.Random, db: sqlite3.Connection, built: Built) -> str:
    return _edit_field(rng, db, _seq(rng, built))


@kind("edit + re-chain")
def _edit_rechain(rng: random.Random, db: sqlite3.Connection, built: Built) -> str:
    seq = _seq(rng, built)
    what = _edit_field(rng, db, seq)
    rechain(db, seq)
    return what + ", re-chained"


@kind("delete")
def _delete(rng: random.Random, db: sqlite3.Connection, built: Built) -> str:
    gone = sorted({_seq(rng, built) for _ in range(rng.randint(1, 3))})
    db.executemany("DELETE FROM audit_entries WHERE seq = ?", [(seq,) for seq in gone])
    if rng.random() < 0.5:
        rechain(db, gone[0])
        return f"{gone}, renumbered and re-chained"
    return f"{gone}"


@kind("insert")
def _insert(rng: random.Random, db: sqlite3.Connection, built: Built) -> str:
    seq = rng.randint(1, built.entries + 1)
    _make_room(db, seq)
    db.execute(f"INSERT INTO audit_entries VALUES ({', '.join('?' * 10)})", _forged(rng, seq))
    if rng.random() < 0.6:
        rechain(db, seq)
        return f"before {seq}, re-chained"
    if rng.random() < 0.5:
        move_head(db)
        return f"before {seq}, head moved"
    return f"before {seq}"


@kind("reorder")
def _reorder(rng: random.Random, db: sqlite3.Connection, built: Built) -> str:
    first, second = sorted(rng.sample(range(1, built.entries + 1), 2))
    db.execute("UPDATE audit_entries SET seq = -1 WHERE seq = ?", (first,))
    db.execute("UPDATE audit_entries SET seq = ? WHERE seq = ?", (first, second))
    db.execute("UPDATE audit_entries SET seq = ? WHERE seq = -1", (second,))
    if rng.random() < 0.5:
        rechain(db, first)
        return f"{first} <-> {second}, re-chained"
    return f"{first} <-> {second}"


@kind("truncate")
def _truncate(rng: random.Random, db: sqlite3.Connection, built: Built) -> str:
    keep = rng.randint(0, built.entries - 1)
    db.execute("DELETE FROM audit_entries WHERE seq > ?", (keep,))
    what = f"to {keep}"
    if rng.random() < 0.7:
        move_head(db)
        what += ", head moved"
    if rng.random() < 0.5:
        db.execute("DELETE FROM audit_checkpoints WHERE size > ?", (keep,))
        what += ", with its checkpoints"
    return what


@kind("checkpoints deleted")
def _checkpoints_deleted(rng: random.Random, db: sqlite3.Connection, built: Built) -> str:
    ids = [row[0] for row in db.execute("SELECT id FROM audit_checkpoints")]
    gone = ids if rng.random() < 0.3 else rng.sample(ids, rng.randint(1, len(ids)))
    db.executemany("DELETE FROM audit_checkpoints WHERE id = ?", [(i,) for i in gone])
    what = f"{len(gone)} of {len(ids)}"
    if rng.random() < 0.4:
        seq = _seq(rng, built)
        what += ", " + _edit_field(rng, db, seq) + ", re-chained"
        rechain(db, seq)
    return what


@kind("checkpoints replayed")
def _checkpoints_replayed(rng: random.Random, db: sqlite3.Connection, built: Built) -> str:
    ids = [row[0] for row in db.execute("SELECT id FROM audit_checkpoints ORDER BY id")]
    columns = ", ".join(CHECKPOINT_COLUMNS)
    older, newer = sorted(rng.sample(ids, 2))
    how = rng.choice(("repeated", "over a newer", "newer replaced"))
    if how == "repeated":
        db.execute(
            f"INSERT INTO audit_checkpoints ({columns}) SELECT {columns} FROM audit_checkpoints"
            " WHERE id = ?",
            (rng.choice(ids),),
        )
    elif how == "over a newer":
        values = db.execute(f"SELECT {columns} FROM audit_checkpoints WHERE id = ?", (older,))
        db.execute(
            "UPDATE audit_checkpoints SET size = ?, head_hash = ?, signed_at = ?,"
            " verify_key = ?, signature = ? WHERE id = ?",
            (*values.fetchone(), newer),
        )
    else:
        db.execute("DELETE FROM audit_checkpoints WHERE id >= ?", (newer,))
        db.execute(
            f"INSERT INTO audit_checkpoints ({columns}) SELECT {columns} FROM audit_checkpoints"
            " WHERE id = ?",
            (older,),
        )
    return how


@kind("whole log re-chained")
def _rechain_all(rng: random.Random, db: sqlite3.Connection, built: Built) -> str:
    edits = [_edit_field(rng, db, _seq(rng, built)) for _ in range(rng.randint(1, 3))]
    rechain(db, 1)
    if rng.random() < 0.5:
        db.execute("DELETE FROM audit_checkpoints")
        edits.append("checkpoints deleted")
    return ", ".join(edits)


@kind("types")
def _types(rng: random.Random, db: sqlite3.Connection, built: Built) -> str:
    _loosen(db)
    value = rng.choice(SQL_VALUES)
    table = rng.choice(("audit_entries", "audit_entries", "audit_checkpoints", "audit_head"))
    if table == "audit_entries":
        column, seq = rng.choice(ENTRY_COLUMNS), _seq(rng, built)
        db.execute(f"UPDATE audit_entries SET {column} = {value} WHERE seq = {seq}")
        return f"entry {seq} {column} = {value}"
    if table == "audit_checkpoints":
        column = rng.choice(CHECKPOINT_COLUMNS)
        (row,) = rng.choice(db.execute("SELECT rowid FROM audit_checkpoints").fetchall())
        db.execute(f"UPDATE audit_checkpoints SET {column} = {value} WHERE rowid = {row}")
        return f"checkpoint {column} = {value}"
    column = rng.choice(("size", "head_hash", "id"))
    db.execute(f"UPDATE audit_head SET {column} = {value}")
    return f"head {column} = {value}"


@kind("head")
def _head(rng: random.Random, db: sqlite3.Connection, built: Built) -> str:
    how = rng.choice(("size", "hash", "deleted", "repeated"))
    if how == "size":
        size = rng.choice((built.entries - 1, built.entries + 1, 0, built.anchored))
        db.execute("UPDATE audit_head SET size = ?", (size,))
    elif how == "hash":
        seq = rng.randint(1, built.entries - 1)  # any entry's but the last
        db.execute(
            "UPDATE audit_head SET head_hash = (SELECT chain_hash FROM audit_entries"
            " WHERE seq = ?)",
            (seq,),
        )
    elif how == "deleted":
        db.execute("DELETE FROM audit_head")
    else:
        _loosen(db)
        db.execute("INSERT INTO audit_head SELECT * FROM audit_head")
    return how


@kind("restore")
def _restore(rng: random.Random, db: sqlite3.Connection, built: Built) -> str:
    backup = rng.choice(built.backups)
    db.execute("COMMIT")  # a backup is copied outside a transaction
    source = sqlite3.connect(backup)
    source.backup(db)
    source.close()
    db.execute("BEGIN")
    return backup.name


@kind("tail")
def _tail(rng: random.Random, db: sqlite3.Connection, built: Built) -> str:
    how = rng.choice(("cut", "rewritten", "appended"))
    if how == "cut":
        keep = rng.randint(built.anchored, built.entries - 1)
        db.execute("DELETE FROM audit_entries WHERE seq > ?", (keep,))
        move_head(db)
        return f"cut to {keep}"
    if how == "rewritten":
        seq = rng.randint(built.anchored + 1, built.entries)
        what = _edit_field(rng, db, seq)
        rechain(db, seq)
        return f"{what} rewritten"
    for _ in range(rng.randint(1, 3)):
        (last,) = db.execute("SELECT max(seq) FROM audit_entries").fetchone()
        db.execute(
            f"INSERT INTO audit_entries VALUES ({', '.join('?' * 10)})", _forged(rng, last + 1)
        )
    rechain(db, built.entries + 1)
    return "appended"


# --- judging -------------------------------------------------------------------------------------


def _rows(db: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every audit row as SQLite quotes it (its type and value), entries by seq."""
    quoted = {
        "audit_entries": ", ".join(f"quote({c})" for c in ENTRY_COLUMNS),
        "audit_checkpoints": ", ".join(f"quote({c})" for c in CHECKPOINT_COLUMNS),
        "audit_head": "quote(id), quote(size), quote(head_hash)",
    }
    return {
        table: sorted(db.execute(f"SELECT {columns} FROM {table}").fetchall(), key=repr)
        for table, columns in quoted.items()
    }


def judge(original: sqlite3.Connection, tampered: sqlite3.Connection, built: Built) -> str:
    """UNCHANGED, UNDETECTABLE (the README's first undetectable case) or MUST_DETECT, from the
    rows alone (not from verify)."""
    before, after = _rows(original), _rows(tampered)
    if before == after:
        return UNCHANGED
    if before["audit_checkpoints"] != after["audit_checkpoints"]:
        return MUST_DETECT
    old = {row[0]: row for row in before["audit_entries"]}
    new = {row[0]: row for row in after["audit_entries"]}
    if any(new.get(key) != old[key] for key in old if _int(key) <= built.anchored):
        return MUST_DETECT
    return UNDETECTABLE if _well_formed_continuation(tampered, built) else MUST_DETECT


def _int(quoted: object) -> int:
    return int(quoted) if isinstance(quoted, bytes) and quoted.isdigit() else -1  # type: ignore[arg-type]


def _well_formed_continuation(db: sqlite3.Connection, built: Built) -> bool:
    """Whether the entries after the last checkpoint continue the chain as the node writes it,
    with the head at their end: a log the node itself could have written."""
    types = db.execute(
        "SELECT count(*) FROM audit_entries WHERE typeof(seq) != 'integer' OR typeof(chain_hash)"
        " != 'blob' OR length(chain_hash) != 32 OR "
        + " OR ".join(f"typeof({c}) != 'text'" for c in TEXT_COLUMNS)
    ).fetchone()[0]
    heads = db.execute(
        "SELECT id, size, head_hash FROM audit_head WHERE typeof(size) = 'integer'"
        " AND typeof(head_hash) = 'blob'"
    ).fetchall()
    total = db.execute("SELECT count(*) FROM audit_head").fetchone()[0]
    if types or total != 1 or len(heads) != 1 or heads[0][0] != 1:
        return False
    try:
        with _text(db):
            rows = db.execute(
                f"SELECT {', '.join(ENTRY_COLUMNS)} FROM audit_entries ORDER BY seq"
            ).fetchall()
    except sqlite3.OperationalError:  # text that is not UTF-8
        return False
    seqs = [row[0] for row in rows]
    if seqs != list(range(1, len(rows) + 1)) or len(rows) < built.anchored:
        return False
    previous = bytes(rows[built.anchored - 1][9]) if built.anchored else ZERO_HASH
    for row in rows[built.anchored :]:
        entry = AuditRecord(*row[:9], chain_hash=bytes(row[9]))
        if audit.link_hash(previous, audit.leaf_hash(entry)) != entry.chain_hash:
            return False
        previous = entry.chain_hash
    return heads[0][1] == len(rows) and bytes(heads[0][2]) == previous


# --- verifying -----------------------------------------------------------------------------------


def verify_cli(built: Built) -> tuple[str, str]:
    """Run `mash-node audit verify` in this process: ("detected" | "intact" | "crash", detail)."""
    from node.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--config", str(built.config), "audit", "verify"])
    except BaseException as exc:  # a crash is what is counted here
        return "crash", f"{type(exc).__name__}: {exc}"
    lines = err.getvalue().splitlines()
    if code == 3 and len(lines) == 1 and lines[0].startswith("AUDIT LOG FAILED VERIFICATION"):
        return "detected", lines[0]
    if code == 0:
        return "intact", out.getvalue().splitlines()[0]
    return "crash", f"exit {code}: {err.getvalue().strip()[:300]}"


def verify_store(built: Built) -> tuple[str, str]:
    """Run `verify_store` on the store with the checkpoint file, as the command does."""
    from sqlalchemy.orm import Session

    from node.keys import load_keys

    keys = load_keys(built.config.parent / "data" / "keys")
    engine = make_engine(f"sqlite:///{built.config.parent / 'data' / 'node.db'}")
    try:
        with Session(engine) as session, session.begin():
            anchor = audit.CheckpointFile.beside(built.config.parent / "data" / "keys")
            report = audit.verify_store(session, [bytes(keys.verify_key)], anchor=anchor)
        return "intact", f"{report.size} entries"
    except audit.AuditTampered as exc:
        return "detected", str(exc)
    except BaseException as exc:
        return "crash", f"{type(exc).__name__}: {exc}"
    finally:
        engine.dispose()


VERIFIERS = {"cli": verify_cli, "store": verify_store}


@contextlib.contextmanager
def _trial_store(built: Built) -> Iterator[Path]:
    """The node's store file replaced by a fresh copy of the pristine one."""
    data = built.config.parent / "data"
    for leftover in data.glob("node.db*"):
        leftover.unlink()
    shutil.copy(built.store, data / "node.db")
    yield data / "node.db"


def run(built: Built, trials: int, seed: int, via: str = "cli") -> dict[str, Tally]:
    """`trials` random tamperings, kinds in turn; returns each kind's tally."""
    rng = random.Random(seed)
    verify = VERIFIERS[via]
    tallies = {name: Tally() for name in KINDS}
    original = sqlite3.connect(built.store)
    original.text_factory = bytes
    names = list(KINDS)
    for trial in range(trials):
        name = names[trial % len(names)]
        with _trial_store(built) as path:
            db = sqlite3.connect(path, isolation_level=None)
            db.text_factory = bytes
            db.execute("PRAGMA synchronous = OFF")  # a scratch copy: no need to wait for the disk
            db.execute("BEGIN")
            what = KINDS[name](rng, db, built)
            db.execute("COMMIT")
            expected = judge(original, db, built)
            db.close()
            outcome, detail = verify(built)
        _count(tallies[name], expected, outcome, f"{name}: {what} -> {outcome}: {detail}")
    original.close()
    return tallies


def _count(tally: Tally, expected: str, outcome: str, example: str) -> None:
    tally.trials += 1
    failed = False
    if outcome == "crash":
        tally.crashes += 1
        failed = True
    elif outcome == "detected":
        if expected == UNCHANGED:
            tally.false_alarms += 1
            failed = True
        elif expected == UNDETECTABLE:
            tally.caught_anyway += 1
        else:
            tally.detected += 1
    elif expected == MUST_DETECT:
        tally.missed += 1
        failed = True
    elif expected == UNDETECTABLE:
        tally.documented += 1
    else:
        tally.unchanged += 1
    if failed and len(tally.examples) < 5:
        tally.examples.append(example)


def report(tallies: dict[str, Tally]) -> list[str]:
    """The table of outcomes by kind, the totals and the target line."""
    header = (
        "kind", "trials", "detected", "not detectable (README)", "unchanged",
        "missed", "false alarms", "crashes",
    )  # fmt: skip
    total = Tally()
    rows = []
    for name, tally in tallies.items():
        rows.append(
            (name, tally.trials, tally.detected + tally.caught_anyway, tally.documented,
             tally.unchanged, tally.missed, tally.false_alarms, tally.crashes)
        )  # fmt: skip
        for attribute in ("trials", "detected", "documented", "unchanged", "caught_anyway",
                          "missed", "false_alarms", "crashes"):  # fmt: skip
            setattr(total, attribute, getattr(total, attribute) + getattr(tally, attribute))
    rows.append(
        ("all", total.trials, total.detected + total.caught_anyway, total.documented,
         total.unchanged, total.missed, total.false_alarms, total.crashes)
    )  # fmt: skip
    must = total.detected + total.missed
    share = 100 * total.detected / must if must else 100.0
    met = total.failures() == 0
    lines = [format_table(header, rows), ""]
    lines.append(
        f"detected {total.detected:,} of the {must:,} tamperings that must be detected "
        f"({share:.2f} %); {total.documented:,} not detectable from the node alone, as the README "
        f"says ({total.caught_anyway:,} more of that kind detected anyway); {total.unchanged:,} "
        f"left the store unchanged; {total.crashes} crashes; {total.false_alarms} false alarms"
    )
    lines.append(
        "target (100 % detected except those the README names as undetectable from the node "
        f"alone; 0 crashes of verify): {'met' if met else 'NOT MET'}"
    )
    for tally in tallies.values():
        lines.extend(f"  failure: {example}" for example in tally.examples)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--via", choices=sorted(VERIFIERS), default="cli")
    args = parser.parse_args(argv)
    print("\n".join(machine_lines()), flush=True)
    started = time.perf_counter()
    built = build(seed=args.seed)
    print(
        f"store: {built.entries} entries, {built.checkpoints} checkpoints (the last at "
        f"{built.anchored} entries), one unit of work filed and never committed, "
        f"{len(built.backups)} backups; built in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    started = time.perf_counter()
    tallies = run(built, args.trials, args.seed, args.via)
    elapsed = time.perf_counter() - started
    print(f"{args.trials:,} trials via {args.via} in {elapsed:.0f} s (seed {args.seed})")
    print("\n".join(report(tallies)))
    summary = {name: vars(tally) | {"examples": tally.examples} for name, tally in tallies.items()}
    (OUT / "audit-tampering" / "last-run.json").write_text(json.dumps(summary, indent=1))
    return 0 if all(tally.failures() == 0 for tally in tallies.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
