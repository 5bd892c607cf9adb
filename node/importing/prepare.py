"""Preparing a persons file for writing: rows validated, normalised and keyed, in file order.

The work here needs no database, so a large file is prepared in a worker process (spawned)
while the importing process writes the batches before it. Whenever the importing process would
wait for the worker (while it starts, or when writing gets ahead) it prepares the next batch the
worker has not begun itself, so both cores stay busy however fast each side is. A small file is
prepared in the importing process alone, by the same code. Every bad row is reported, in file
order; once a file has a bad row its later rows are only validated. The worker ends with the
importing process however that ends, SIGKILL included (`end_with_parent`).
"""

from __future__ import annotations

import ctypes
import json
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import types
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from node.importing.rows import BadRow, RowError, RowInvalid, open_rows, parse_person
from node.matching.keys import Identity, derive_packed_keys, name_forms

UNUSED_POSTCODE = "postcode is not a UK postcode, so it is not used for matching"
UNUSED_NHS_NUMBER = (
    "NHS number is not valid (check digit or placeholder), so it never links records: "
    "at most it suggests possible matches"
)
WARNED_LINES = 5  # lines named for each kind of warning a file raises (all are counted)
WORKER_MIN_BYTES = 4 << 20  # below this a worker's start-up costs more than it saves
# Collector thresholds while importing: millions of short-lived objects that form no cycles,
# which Python's defaults would scan over and over.
GC_THRESHOLDS = (200_000, 50, 100)
_QUEUE_DEPTH = 3  # batches prepared ahead of the writer: bounds the memory used
_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies
WATCH_S = 0.5  # where the kernel cannot end a worker with its parent, how often it looks
EXIT_ORPHANED = 70  # a worker that found its importing process gone
_READ_AHEAD = 2  # batches the importing process prepares while it waits for the worker's

# The person_records columns a prepared row carries, in this order, after the id, subject and
# times that the writer adds.
DATA_COLUMNS = (
    "agency_code",
    "agency_record_id",
    "forenames",
    "surname",
    "aliases",
    "date_of_birth",
    "gender",
    "address",
    "postcode",
    "nhs_number",
    "extra",
    "postcode_norm",
    "nhs_number_norm",
)


class PreparedPerson(NamedTuple):
    """One valid person row as the writer needs it: column values ready for the driver, its
    name forms (person_names columns after record_id) and its match keys, packed."""

    line: int
    record_id: str
    data: tuple[Any, ...]
    names: list[tuple[Any, ...]]
    keys: tuple[bytes, str]


@dataclass
class Prepared:
    """A batch of a file: its valid rows (none once the file had a bad row), its bad rows'
    errors in file order, how many rows it covered and how far into the file it ends, the bytes
    read since the batch before, the warnings it raised, and its number in the file."""

    persons: list[PreparedPerson] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    position: int = 0
    bytes_read: int = 0
    warnings: dict[str, int] = field(default_factory=dict)
    warned_at: dict[str, list[int]] = field(default_factory=dict)  # the first lines of each
    number: int = 0
    skipped: bool = False  # read through, not prepared: another process prepares it


# Whether this process prepares a batch, asked at its first row (batch numbers from 0). A batch
# it does not prepare is read through (its rows counted) and, for the importing process, yielded
# without persons and with `skipped` set: the worker sends it prepared.
Owner = Callable[[int], bool]


def _all(_number: int) -> bool:
    return True


def prepare_persons(
    path: Path,
    agency: str,
    dates_as_text: bool,
    batch: int,
    owns: Owner = _all,
    yield_skipped: bool = False,
    keep_going: bool = False,
) -> Iterator[Prepared]:
    """Read, validate and key a persons file; yields its batches of `batch` rows (the last one
    shorter) that this process `owns` (and, with `yield_skipped`, the others as marked, empty).
    Once a row is bad the later ones are only validated, unless `keep_going` (bad rows are
    set aside and the others imported).

    `dates_as_text` writes dates as ISO text (what SQLite stores), else as dates (PostgreSQL).
    Repeated record ids are not looked for here: checked_batches does it, seeing every batch.
    """
    read = [0]

    def on_read(count: int) -> None:
        read[0] += count

    _kind, rows = open_rows(path, on_read)
    name = str(path)
    failed = False
    number = 0
    mine = False
    out = Prepared(number=number)
    for line, raw in rows:
        if out.rows == 0:
            mine = owns(number)
        out.rows += 1
        if not mine:
            pass
        elif isinstance(raw, BadRow):
            out.errors.append(RowError(name, line, raw.field, raw.reason))
            failed = not keep_going
        else:
            try:
                row = parse_person(line, raw)
            except RowInvalid as exc:
                out.errors.extend(RowError(name, line, f, reason) for f, reason in exc.errors)
                failed = not keep_going
            else:
                if failed:  # nothing will be written: only its record id, for the repeat check
                    out.persons.append(PreparedPerson(line, row.record_id, (), [], (b"", "")))
                else:
                    out.persons.append(_prepare(row, agency, dates_as_text, out))
        if out.rows >= batch:
            if mine or yield_skipped:
                out.position, out.skipped = read[0], not mine
                yield out
            number += 1
            out = Prepared(number=number)
    if out.rows and (mine or yield_skipped):
        out.position, out.skipped = read[0], not mine
        yield out


class _RecordIds:
    """The record ids of a file read so far, held compactly: a million ids as their hashes take
    about 60 MB, with their lines about 130. Only when a hash repeats is the file read again up
    to that line, for the exact ids and their first lines (a repeated id refuses the file; a
    mere clash of hashes, about one file in ten million, costs the rereading)."""

    def __init__(self, path: Path, hasher: Callable[[str], int] = hash) -> None:
        self.path = path
        self.hasher = hasher
        self.hashes: set[int] = set()
        self.lines: dict[str, int] | None = None

    def first_line(self, record_id: str, line: int) -> int:
        """`line` if the id is new, else the line it first came on."""
        if self.lines is None:
            hashed = self.hasher(record_id)
            if hashed not in self.hashes:
                self.hashes.add(hashed)
                return line
            self.lines, self.hashes = self._read_back(line), set()
        return self.lines.setdefault(record_id, line)

    def all_hashes(self) -> set[int]:
        """The hashes of every record id read so far."""
        if self.lines is None:
            return self.hashes
        return {self.hasher(record_id) for record_id in self.lines}

    def _read_back(self, before: int) -> dict[str, int]:
        lines: dict[str, int] = {}
        _kind, rows = open_rows(self.path)
        for line, raw in rows:
            if line >= before:
                break
            if isinstance(raw, BadRow):
                continue
            try:
                lines.setdefault(parse_person(line, raw).record_id, line)
            except RowInvalid:
                continue
        return lines


class EarlierFiles:
    """The record ids of the persons files an import has read before the one it reads now, held
    as hashes. A record belongs in one file of an import, so an id seen in an earlier file
    refuses the row; only when a hash recurs are the earlier files read again, once, for their
    exact ids and lines (a clash of hashes alone refuses nothing)."""

    def __init__(self, hasher: Callable[[str], int] = hash) -> None:
        self.hasher = hasher
        self.hashes: set[int] = set()
        self.paths: list[Path] = []
        self.exact: dict[str, tuple[str, int]] | None = None

    def add(self, path: Path, hashes: set[int]) -> None:
        self.paths.append(path)
        self.hashes |= hashes
        self.exact = None

    def where(self, record_id: str) -> tuple[str, int] | None:
        """The earlier file and line holding `record_id`, or None."""
        if not self.hashes or self.hasher(record_id) not in self.hashes:
            return None
        if self.exact is None:
            self.exact = {}
            for path in self.paths:
                for line, raw in open_rows(path)[1]:
                    if isinstance(raw, BadRow):
                        continue
                    try:
                        found = parse_person(line, raw).record_id
                    except RowInvalid:
                        continue
                    self.exact.setdefault(found, (str(path), line))
        return self.exact.get(record_id)


def checked_batches(
    path: Path,
    batches: Iterator[Prepared],
    earlier: EarlierFiles | None = None,
    keep_going: bool = False,
) -> Iterator[Prepared]:
    """The batches in file order with repeated record ids refused (the first one stays), in this
    file or in the `earlier` files of the import, and the bytes read since the batch before; a
    last empty batch reads to the end of the file. Once a row is refused, no later row is kept,
    unless `keep_going`."""
    name = str(path)
    seen = _RecordIds(path)
    reported = 0
    for prepared in batches:
        kept = []
        repeats = []
        for person in prepared.persons:
            first = seen.first_line(person.record_id, person.line)
            elsewhere = earlier.where(person.record_id) if earlier is not None else None
            if elsewhere is not None:
                reason = (
                    f"repeats the record_id of {elsewhere[0]}:{elsewhere[1]} "
                    "(a record belongs in one file of an import)"
                )
                repeats.append(RowError(name, person.line, "record_id", reason))
            elif first == person.line:
                kept.append(person)
            else:
                reason = f"repeats the record_id of line {first}"
                repeats.append(RowError(name, person.line, "record_id", reason))
        if repeats:
            prepared.errors = sorted([*prepared.errors, *repeats], key=lambda e: e.line)
            if not keep_going:
                cut = min(error.line for error in repeats)
                kept = [person for person in kept if person.line < cut]
        prepared.persons = kept
        prepared.bytes_read, reported = max(0, prepared.position - reported), prepared.position
        yield prepared
    if earlier is not None:
        earlier.add(path, seen.all_hashes())
    yield Prepared(bytes_read=max(0, path.stat().st_size - reported))


def _prepare(row: Any, agency: str, dates_as_text: bool, out: Prepared) -> PreparedPerson:
    identity = Identity.from_fields(
        forenames=row.forenames,
        surname=row.surname,
        date_of_birth=row.date_of_birth,
        postcode=row.postcode,
        nhs_number=row.nhs_number,
        aliases=row.aliases,
    )
    if row.postcode and identity.postcode is None:
        _warn(out, UNUSED_POSTCODE, row.line)
    if row.nhs_number and identity.nhs_number is None:
        _warn(out, UNUSED_NHS_NUMBER, row.line)
    for note in row.notes:
        _warn(out, note, row.line)
    born = row.date_of_birth
    if born is not None and dates_as_text:
        born = born.isoformat()
    data = (
        agency,
        row.record_id,
        row.forenames,
        row.surname,
        json.dumps(list(row.aliases)) if row.aliases else "[]",
        born,
        row.gender,
        row.address,
        row.postcode,
        row.nhs_number,
        json.dumps(row.extra) if row.extra else "{}",
        identity.postcode,
        identity.nhs_number,
    )
    return PreparedPerson(
        row.line, row.record_id, data, name_rows(identity), derive_packed_keys(identity)
    )


def _warn(out: Prepared, warning: str, line: int) -> None:
    out.warnings[warning] = out.warnings.get(warning, 0) + 1
    lines = out.warned_at.setdefault(warning, [])
    if len(lines) < WARNED_LINES:
        lines.append(line)


# The person_names columns of name_rows, after the record id that the writer adds.
NAME_COLUMNS = (
    "forename_norm",
    "surname_norm",
    "forename_phonetic",
    "surname_phonetic",
    "is_alias",
)


def name_rows(identity: Identity) -> list[tuple[Any, ...]]:
    """The record's person_names rows (its name and each alias), without the record id."""
    return [
        (f.forename_norm, f.surname_norm, f.forename_phonetic, f.surname_phonetic, f.is_alias)
        for f in name_forms(identity)
    ]


def prepared_batches(
    path: Path,
    agency: str,
    dates_as_text: bool,
    batch: int,
    worker_min_bytes: int,
    earlier: EarlierFiles | None = None,
    keep_going: bool = False,
) -> Iterator[Prepared]:
    """The file's batches in order, checked; prepared with a worker process when the file is
    large enough, this process preparing the batches the worker has not begun when it needs
    them (while the worker starts, and whenever writing runs ahead of preparing)."""
    # A daemonic process (a pool's worker) may not start one of its own.
    if path.stat().st_size < worker_min_bytes or multiprocessing.current_process().daemon:
        batches = prepare_persons(path, agency, dates_as_text, batch, keep_going=keep_going)
    else:
        batches = _shared(path, agency, dates_as_text, batch, keep_going)
    yield from checked_batches(path, batches, earlier, keep_going)


class _Claims:
    """Which process prepares each batch. The worker claims each batch as it reaches it; the
    importing process, when it would wait for the worker, claims the next batch the worker has
    not reached. Either way a batch is claimed once, and only the lowest not yet claimed can be."""

    def __init__(self, context: Any) -> None:
        self.unclaimed = context.Value("q", 0)  # the lowest batch nobody has claimed
        self.other: Any = None  # in the importing process: the worker, once started

    def claim(self, number: int) -> bool:
        lock = self.unclaimed.get_lock()
        # A worker killed while it held the lock would hold it for ever: wait for it only while
        # the worker lives.
        while not lock.acquire(timeout=1):
            if self.other is not None and not self.other.is_alive():
                raise RuntimeError(f"the worker stopped (exit code {self.other.exitcode})")
        try:
            if self.unclaimed.value != number:
                return False
            self.unclaimed.value = number + 1
            return True
        finally:
            lock.release()


def _shared(
    path: Path, agency: str, dates_as_text: bool, batch: int, keep_going: bool
) -> Iterator[Prepared]:
    context = multiprocessing.get_context("spawn")
    results: Any = context.Queue(maxsize=_QUEUE_DEPTH)
    claims = _Claims(context)
    worker = context.Process(
        target=_work,
        args=(results, claims, path, agency, dates_as_text, batch, os.getpid(), keep_going),
        daemon=True,
    )
    with _without_main_module():
        worker.start()
    claims.other = worker  # after start: the worker's copy of the claims never holds it
    own = prepare_persons(
        path, agency, dates_as_text, batch, claims.claim, yield_skipped=True, keep_going=keep_going
    )
    ahead: deque[Prepared] = deque()  # batches read here, in file order, not given out yet
    read_all = False
    try:
        while ahead or not read_all:
            if not ahead or (ahead[0].skipped and _idle(results, ahead, read_all)):
                # Nothing to give out, or the worker's batch is not ready: read on, preparing
                # the next batch nobody has claimed.
                following = next(own, None)
                if following is None:
                    read_all = True
                else:
                    ahead.append(following)
                continue
            head = ahead.popleft()
            if not head.skipped:
                yield head
                continue
            prepared = _receive(results, worker, path)
            if prepared is None or prepared.number != head.number:
                raise RuntimeError(f"preparing {path.name}: batch {head.number} was not sent")
            yield prepared
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()


def end_with_parent(parent: int) -> None:
    """End this process when `parent` (the process that started it) dies, even by SIGKILL,
    which no handler of the parent's sees. On Linux the kernel sends SIGKILL at once
    (prctl PR_SET_PDEATHSIG); elsewhere a daemon thread checks every WATCH_S whether the
    parent is still there. Either way the multiprocessing resource tracker, which lives as long
    as a process holds its pipe, ends with it."""
    if not _kill_me_with_my_parent():
        threading.Thread(target=_watch, args=(parent,), name="watch-parent", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the kernel was told
        os._exit(EXIT_ORPHANED)


def _kill_me_with_my_parent() -> bool:
    """Ask Linux to SIGKILL this process when its parent ends; False where that cannot be."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_S)
    os._exit(EXIT_ORPHANED)


def _idle(results: Any, ahead: deque[Prepared], read_all: bool) -> bool:
    """Whether this process would wait for the worker and may prepare a batch meanwhile."""
    held = sum(1 for prepared in ahead if not prepared.skipped)
    return not read_all and held < _READ_AHEAD and results.empty()


@contextmanager
def _without_main_module() -> Iterator[None]:
    """Start a spawned worker from this module alone. Spawn runs the parent's main module again
    in the child (the CLI's script, or a benchmark), which would load the whole node and its
    database layers into a process that only parses and derives keys (~100 MB more at a
    million records)."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _receive(results: Any, worker: Any, path: Path) -> Prepared | None:
    while True:
        try:
            message = results.get(timeout=1)
        except queue.Empty:
            if worker.is_alive():
                continue
            raise RuntimeError(
                f"preparing {path.name} stopped (exit code {worker.exitcode})"
            ) from None
        if isinstance(message, BaseException):
            raise message
        return message


def _work(
    results: Any,
    claims: _Claims,
    path: Path,
    agency: str,
    dates_as_text: bool,
    batch: int,
    parent: int,
    keep_going: bool = False,
) -> None:
    """Worker process: prepare the batches it claims and send each one, then None (or the
    exception). It ends as soon as the importing process `parent` does, however that ends."""
    import gc

    end_with_parent(parent)
    gc.set_threshold(*GC_THRESHOLDS)  # as the importing process does: no cycles to find
    try:
        owned = prepare_persons(
            path, agency, dates_as_text, batch, claims.claim, keep_going=keep_going
        )
        for prepared in owned:
            results.put(prepared)
    except Exception as exc:
        results.put(exc)
    results.put(None)
