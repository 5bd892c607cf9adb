"""Import throughput: one agency extract imported as the CLI does it, against bare sqlite3 writes.

Run: .venv/bin/python -m bench.import_throughput [--sizes 100000,1000000] [--backends sqlite,postgresql]

For each size and backend a child process (spawn) creates a fresh store, runs the migrations,
syncs the standard agencies and imports bench/out/persons-<size>.csv in one transaction as a
node administrator, with the audit checkpoint the CLI signs before it commits. The time is that
transaction end to end (read, validate, normalise, match keys, linking, writes, commit); the peak
memory is the largest resident set of the child and the import's worker process together. Two
baselines run on the same file: bare sqlite3 executemany of the same rows, the person records
with their match keys as the import writes them (computed outside the clock, the keys in key
order; not the names and subjects the import writes as well), which the issue's target of "a
third of the speed" is judged against; and of the raw columns into person_records alone (no
keys, nothing normalised), the fastest write of the file's rows at all, whose ratio is printed
beside it.

The other benchmarks use this module's helpers: machine description, table, child processes,
stores and CLI-like imports.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import multiprocessing
import os
import platform
import resource
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

OUT = Path(__file__).resolve().parent / "out"
KEYS = OUT / "keys"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
BOROUGH = "hackney"
AS_OF = dt.date(2026, 1, 1)  # the synthetic data's "today", fixed so a seed gives the same files
AGENCY = "health"
TARGET_RECORDS_PER_SECOND = 20_000
TARGET_BASELINE_SHARE = 1 / 3
TARGET_PEAK_MB_AT_1M = 500
DEFAULT_TIMEOUT = 1_500
BATCH = 2_000
PERSON_COLUMNS = (
    "record_id",
    "forenames",
    "surname",
    "date_of_birth",
    "gender",
    "address",
    "postcode",
    "nhs_number",
)
# Backends: the node as it is on each store, and (opt-in) PostgreSQL with psycopg's automatic
# server-side prepared statements off, through make_engine's engine options: the fix proposed for
# the linking query's stale generic plan (see bench/README.md).
BACKENDS: dict[str, dict[str, Any]] = {
    "sqlite": {},
    "postgresql": {},
    "postgresql-noprepare": {"connect_args": {"prepare_threshold": None}},
}

T = TypeVar("T")


class ChildTimedOut(Exception):
    """A measured child process ran past its time limit and was stopped."""


# --- the extract --------------------------------------------------------------------------------


def write_persons_csv(path: Path, count: int, seed: int = 1) -> Path:
    """Write (once) a persons file of `count` records of one agency; reuse it if present.

    The rows come from node.synthetic.extracts.iter_person_rows: distinct people, every field
    filled, valid NHS numbers, no faults (the fast generator meant for benchmarks).
    """
    from node.synthetic.extracts import iter_person_rows

    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=PERSON_COLUMNS)
        writer.writeheader()
        writer.writerows(iter_person_rows(BOROUGH, count, seed, as_of=AS_OF))
    partial.replace(path)
    return path


# --- shared by the benchmarks -------------------------------------------------------------------


def machine_lines() -> list[str]:
    """The machine and the moment, as printed above every benchmark's figures."""
    return [
        f"date:      {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"platform:  {platform.platform()}",
        f"processor: {_proc_field('/proc/cpuinfo', 'model name') or platform.processor()}",
        f"cpus:      {os.cpu_count()}",
        f"memory:    {int(_proc_field('/proc/meminfo', 'MemTotal').split()[0]) / 2**20:.1f} GiB",
        f"python:    {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
        f"load:      {', '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min, at start)",
        f"code:      {_code_version()}",
    ]


def _code_version() -> str:
    """The commit measured, marked "-dirty" when the working tree differs from it."""
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return described.stdout.strip()


def _proc_field(path: str, name: str) -> str:
    for line in Path(path).read_text().splitlines():
        if line.startswith(name):
            return line.split(":", 1)[1].strip()
    return "0 kB"


def status_mb(field: str, pid: int | str = "self") -> float:
    """A field of a process's /proc status in MB: VmRSS (resident now), VmHWM (its peak), ..."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def format_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A plain-text table; ints get thousands separators, floats one decimal."""
    cells = [list(header)] + [[_cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def run_in_child(function: Callable[..., T], *args: object, timeout: float | None = None) -> T:
    """Run function(*args) in a fresh spawned process; raise ChildTimedOut past timeout s.

    The child is not a daemon, so the import in it may start its own worker process.
    """
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, function, args))
    child.start()
    send.close()
    try:
        if not receive.poll(timeout):
            raise ChildTimedOut(f"stopped after {timeout:.0f} s")
        ok, value = receive.recv()
    except EOFError:
        raise RuntimeError(f"the measured child died (exit code {child.exitcode})") from None
    finally:
        child.join(timeout=30)  # a child that answered is exiting: let it finish cleanly
        if child.is_alive():
            child.terminate()
            child.join()
        receive.close()
    if not ok:
        raise value
    return value


def _child(send: Any, function: Callable[..., Any], args: tuple[object, ...]) -> None:
    # Stopped by terminate() (a timeout): unwind, so that the import stops its own worker.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        result = (True, function(*args))
    except Exception as exc:  # handed to the parent, which raises it
        result = (False, exc)
    send.send(result)
    send.close()


def peak_rss_mb() -> float:
    """This process's peak resident set so far, in MB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the bench server, dropped afterwards; yields its URL."""
    import psycopg

    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def store_url(backend: str, name: str) -> Iterator[str]:
    """A fresh store for a backend: a SQLite file bench/out/<name>.sqlite (kept afterwards for
    inspection and reuse) or a PostgreSQL database (dropped afterwards)."""
    if backend == "sqlite":
        path = OUT / f"{name}.sqlite"
        remove_sqlite(path)
        yield f"sqlite:///{path}"
    elif backend.startswith("postgresql"):
        with postgres_database("mash_bench") as url:
            yield url
    else:
        raise SystemExit(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def setup_store(url: str, engine_options: dict[str, Any] | None = None) -> None:
    """Bring the store at url to the newest schema and sync the standard agencies; keys in KEYS."""
    from node.agencies import STANDARD_AGENCIES, sync_agencies
    from node.keys import ensure_keys
    from node.store.db import make_engine, make_sessionmaker, transaction, upgrade

    ensure_keys(KEYS)
    engine = make_engine(url, **(engine_options or {}))
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        sync_agencies(session, list(STANDARD_AGENCIES.values()))
    engine.dispose()


def import_as_cli(
    url: str, agency: str, paths: Sequence[Path], engine_options: dict[str, Any] | None = None
) -> tuple[int, str]:
    """Import files as `mash-node import` does: one transaction, signed checkpoint, commit.

    Returns the person records written and a one-line summary (counts only, no personal data).
    """
    from node import audit
    from node.access import Actor
    from node.importing.service import import_files
    from node.keys import load_keys
    from node.store.db import make_engine, make_sessionmaker, transaction
    from node.store.models import Role

    engine = make_engine(url, **(engine_options or {}))
    keys = load_keys(KEYS)
    admin = Actor("bench-admin", Role.NODE_ADMIN)
    with transaction(make_sessionmaker(engine)) as session:
        result = import_files(session, admin, agency, list(paths))
        audit.checkpoint(session, keys)
    engine.dispose()
    persons = sum(f.inserted + f.updated for f in result.files if f.kind == "persons")
    items = sum(f.inserted + f.updated for f in result.files if f.kind == "items")
    link = result.linking
    summary = (
        f"{link.subjects_created:,} new subjects, {link.records_linked:,} linked, "
        f"{link.candidates_raised:,} candidates" + (f", {items:,} items" if items else "")
    )
    return persons, summary


# --- the measured runs (each in a child process) ------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One timed run: how many records in how long, and the child's peak memory."""

    label: str
    records: int
    seconds: float
    peak_mb: float
    note: str = ""

    @property
    def per_second(self) -> float:
        return self.records / self.seconds


def measure_import(url: str, backend: str, path: Path, profile_to: Path | None) -> Measured:
    """Child: set up the fresh store at url, then time one import end to end.

    Peak MB is the largest resident set of this process and its worker together, sampled
    every 20 ms; the note adds each one's own peak (their sum bounds it from above).
    """
    options = BACKENDS[backend]
    setup_store(url, options)
    with _RssSampler() as sampler:
        start = time.perf_counter()
        if profile_to is None:
            records, summary = import_as_cli(url, AGENCY, [path], options)
        else:
            import cProfile

            profiler = cProfile.Profile()
            records, summary = profiler.runcall(import_as_cli, url, AGENCY, [path], options)
            profiler.dump_stats(profile_to)
        seconds = time.perf_counter() - start
    own = peak_rss_mb()
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    note = f"{summary}; own peaks: importer {own:.0f} MB, worker {worker:.0f} MB"
    return Measured(f"import, {backend}", records, seconds, sampler.peak_mb, note)


class _RssSampler:
    """Samples the summed resident set of this process and its children in a thread."""

    def __init__(self, every: float = 0.02) -> None:
        import threading

        self.every = every
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, _tree_rss_kib(os.getpid()) / 1024)
            self._stop.wait(self.every)


def _tree_rss_kib(pid: int) -> int:
    """Resident KiB of a process and its descendants, from /proc (0 for one that is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        rss = next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
        children = [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    except (OSError, ValueError):
        return 0
    return rss + sum(_tree_rss_kib(child) for child in children)


_PERSON_SQL = (
    "INSERT INTO person_records (id, agency_code, agency_record_id, subject_id, forenames, "
    "surname, aliases, date_of_birth, gender, address, postcode, nhs_number, extra, postcode_norm, "
    "nhs_number_norm, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_KEY_SQL = "INSERT INTO match_keys (key_value, record_id) VALUES (?, ?)"


def measure_bare_rows(csv_path: Path, db_path: Path) -> Measured:
    """Child: the raw person columns as text, csv.reader to executemany, one transaction."""
    conn = _bare_store(db_path, ["person_records"])
    now = str(dt.datetime.now(dt.UTC))
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        at = [header.index(name) for name in PERSON_COLUMNS]

        def rows() -> Iterator[tuple[object, ...]]:
            for number, values in enumerate(reader, start=1):
                rid, fore, sur, born, gender, address, postcode, nhs = (values[i] for i in at)
                # The "_norm" columns get the raw text: no normalisation here.
                yield (
                    number, AGENCY, rid, None, fore, sur, "[]", born, gender, address,
                    postcode, nhs, "{}", postcode, nhs, now, now,
                )  # fmt: skip

        conn.executemany(_PERSON_SQL, rows())
    conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    (count,) = conn.execute("SELECT count(*) FROM person_records").fetchone()
    conn.close()
    return Measured("bare sqlite3: raw person rows", count, seconds, peak_rss_mb(), "csv.reader")


def measure_bare_written(csv_path: Path, db_path: Path) -> Measured:
    """Child: the same person records with their match keys as the import writes them, by bare
    executemany: record rows (with their key values) and match_keys rows. No names or subjects:
    the import writes those too, the baseline does not. The rows are prepared batch by batch by
    the import's own code outside the clock, and the match keys of the whole file sorted by key
    outside it too, so that they go into their B-tree in one ordered pass as the import's do:
    only executemany and the commit are timed."""
    from node.importing.prepare import DATA_COLUMNS, prepare_persons
    from node.matching.keys import key_values

    columns = ("id", "subject_id", "created_at", "updated_at", "match_key_values", *DATA_COLUMNS)
    person_sql = (
        f"INSERT INTO person_records ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    conn = _bare_store(db_path, ["person_records", "match_keys"])
    now = str(dt.datetime.now(dt.UTC))
    clock = 0.0
    count = 0
    all_keys: list[tuple[bytes, int]] = []
    conn.execute("BEGIN IMMEDIATE")
    for prepared in prepare_persons(csv_path, AGENCY, True, BATCH):
        persons = []
        for number, person in enumerate(prepared.persons, start=count + 1):
            values = person.keys[0]
            persons.append((number, number, now, now, values, *person.data))
            all_keys += ((value, number) for value in key_values(values))
        started = time.perf_counter()
        conn.executemany(person_sql, persons)
        clock += time.perf_counter() - started
        count += len(persons)
    all_keys.sort()
    started = time.perf_counter()
    conn.executemany(_KEY_SQL, all_keys)
    conn.execute("COMMIT")
    clock += time.perf_counter() - started
    conn.close()
    note = f"precomputed, keys sorted; {len(all_keys) / count:.1f} match keys a record"
    return Measured("bare sqlite3: the same records and keys", count, clock, peak_rss_mb(), note)


def _bare_store(db_path: Path, tables: Sequence[str]) -> sqlite3.Connection:
    """A new SQLite file (WAL, synchronous=FULL) with the node's tables and indexes as the
    models define them, compiled for SQLite; foreign keys unchecked (sqlite3's default)."""
    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlalchemy.schema import CreateIndex, CreateTable

    from node.store.models import Base

    remove_sqlite(db_path)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    dialect = sqlite_dialect.dialect()
    for name in tables:
        table = Base.metadata.tables[name]
        conn.execute(str(CreateTable(table).compile(dialect=dialect)))
        for index in table.indexes:
            conn.execute(str(CreateIndex(index).compile(dialect=dialect)))
    return conn


# --- the benchmark ------------------------------------------------------------------------------


def run(sizes: Sequence[int], backends: Sequence[str], timeout: float, profile: bool) -> None:
    """Measure every size on every backend against both baselines; print figures and targets."""
    _emit(["Import throughput (one agency's persons file, one transaction, as the CLI does)", ""])
    _emit(machine_lines())
    for size in sizes:
        csv_path = write_persons_csv(OUT / f"persons-{size}.csv", size)
        measured: list[Measured] = []
        stopped: list[str] = []
        for backend in backends:
            profile_to = OUT / f"profile-import-{backend}-{size}.pstats" if profile else None
            with store_url(backend, f"import-{backend}-{size}") as url:
                try:
                    result = run_in_child(
                        measure_import, url, backend, csv_path, profile_to, timeout=timeout
                    )
                except ChildTimedOut as exc:
                    stopped.append(f"import, {backend}: {exc} (< {size / timeout:,.0f} records/s)")
                    _emit([f"  {stopped[-1]}"])
                    continue
            measured.append(result)
            _emit([f"  measured: {_summary(result)}"])
        bare = run_in_child(measure_bare_rows, csv_path, OUT / f"bare-rows-{size}.sqlite")
        _emit([f"  measured: {_summary(bare)}"])
        written = run_in_child(measure_bare_written, csv_path, OUT / f"bare-written-{size}.sqlite")
        _emit([f"  measured: {_summary(written)}"])
        _emit(_size_report(size, csv_path, measured, stopped, bare, written))


def _size_report(
    size: int,
    csv_path: Path,
    imports: list[Measured],
    stopped: list[str],
    bare: Measured,
    written: Measured,
) -> list[str]:
    best = max((bare, written), key=lambda m: m.per_second)
    rows = [
        (
            m.label,
            m.records,
            m.seconds,
            round(m.per_second),
            round(m.peak_mb),
            f"{m.per_second / bare.per_second:.3f}",
            f"{m.per_second / best.per_second:.3f}",
            m.note,
        )
        for m in [*imports, bare, written]
    ]
    header = ("run", "records", "seconds", "records/s", "peak MB", "/raw rows", "/best", "note")
    lines = ["", f"{size:,} records ({csv_path.name}, {csv_path.stat().st_size / 2**20:.0f} MiB)"]
    lines += [format_table(header, rows)]
    lines += [f"  {line}" for line in stopped]
    lines += [f"best baseline: {best.label}", "targets:"]
    for m in imports:
        if m.label.endswith("sqlite"):
            share = m.per_second / written.per_second
            lines.append(
                _target(
                    f"{m.label}: >= {TARGET_RECORDS_PER_SECOND:,} records/s ({m.per_second:,.0f})",
                    m.per_second >= TARGET_RECORDS_PER_SECOND,
                )
            )
            lines.append(
                _target(
                    f"{m.label}: >= 1/3 of bare sqlite3 executemany of the same rows ({share:.3f})",
                    share >= TARGET_BASELINE_SHARE,
                )
            )
            lines.append(
                f"  [for comparison] {m.label}: "
                f"{m.per_second / bare.per_second:.3f} of bare sqlite3 raw rows (person rows "
                "alone: no match keys, nothing normalised)"
            )
        if size >= 1_000_000:
            lines.append(
                _target(
                    f"{m.label}: peak < {TARGET_PEAK_MB_AT_1M} MB ({m.peak_mb:.0f} MB)",
                    m.peak_mb < TARGET_PEAK_MB_AT_1M,
                )
            )
    return lines  # fmt: skip


def _target(text: str, met: bool) -> str:
    return f"  [{'met' if met else 'NOT MET'}] {text}"


def _summary(m: Measured) -> str:
    return (
        f"{m.label}: {m.records:,} records in {m.seconds:.1f} s = {m.per_second:,.0f}/s, "
        f"peak {m.peak_mb:.0f} MB"
    )


def _emit(lines: list[str]) -> None:
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="records a run, comma-separated")
    parser.add_argument(
        "--backends",
        default="sqlite,postgresql",
        help=f"comma-separated, of: {', '.join(BACKENDS)}",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds before an import is stopped and reported as such (default {DEFAULT_TIMEOUT})",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile each import into out/")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.replace("_", "").split(",") if size]
    backends = [backend.strip() for backend in args.backends.split(",") if backend.strip()]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        parser.error(f"--backends: unknown {', '.join(unknown)}; use {', '.join(BACKENDS)}")
    OUT.mkdir(parents=True, exist_ok=True)
    run(sizes, backends, args.timeout, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
