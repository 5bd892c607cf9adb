"""Search latency: p50/p95/max of the search service on a store of a million agency records.

Run: .venv/bin/python -m bench.search_latency [--records 1000000] [--queries 300] [--backends sqlite]

The store holds four agencies' extracts of one synthetic borough (node.synthetic.extracts: health,
police, education, children's social care, with information items and the faults real extracts
have), imported agency by agency as the CLI does, so subjects span agencies. The SQLite store is
built once and kept as bench/out/search-<N>.sqlite; PostgreSQL stores are built afresh and
dropped. Each search runs as `mash-node search` runs it: one transaction holding the search, its
audit entry, the signed audit checkpoint and the commit. Name searches use a forename and surname
taken from the data (a quarter with a typo in the surname); date-of-birth and NHS-number searches
use values from the data. Each runs as an agency professional (health: sees its own records and
their items) and as a MASH manager (counts only).
"""

from __future__ import annotations

import argparse
import csv
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.import_throughput import (
    AS_OF,
    BACKENDS,
    BOROUGH,
    KEYS,
    OUT,
    ChildTimedOut,
    format_table,
    import_as_cli,
    machine_lines,
    remove_sqlite,
    run_in_child,
    setup_store,
    store_url,
)

AGENCIES = ("health", "police", "education", "childrens-social-care")
RECORDS_PER_HOUSEHOLD = 3.57  # person records these four agencies hold a household (measured)
SEED = 11
TARGET_P95_MS = 50.0
WARM_UP = 10
PURPOSE = "BENCH-2026-0001"
PROFESSIONAL_AGENCY = "health"
DEFAULT_TIMEOUT = 3_000


@dataclass(frozen=True)
class Query:
    kind: str  # "name", "date of birth", "NHS number"
    forenames: str = ""
    surname: str = ""
    date_of_birth: str = ""
    nhs_number: str = ""


@dataclass(frozen=True)
class Latencies:
    """One group of searches: end to end (with checkpoint and commit) and the service call alone."""

    actor: str
    kind: str
    total_ms: tuple[float, ...]
    service_ms: tuple[float, ...]
    subjects: tuple[int, ...]
    truncated: int


# --- the store ----------------------------------------------------------------------------------


def write_search_extracts(records: int) -> dict[str, list[Path]]:
    """Write (once) the agencies' extracts of one synthetic borough, about `records` person
    records in all, with their information items; returns each agency's files."""
    from node.synthetic.extracts import write_extracts

    folder = OUT / f"search-{records}"
    done = folder / "complete"
    if not done.exists():
        households = max(1, round(records / RECORDS_PER_HOUSEHOLD))
        formats = dict.fromkeys(AGENCIES, "csv")
        write_extracts(
            BOROUGH, AGENCIES, folder, households, seed=SEED, fmt_by_agency=formats, as_of=AS_OF
        )
        done.write_text("written\n")
    return {
        agency: [folder / f"{agency}-persons.csv", folder / f"{agency}-items.csv"]
        for agency in AGENCIES
    }


def build_store(url: str, records: int, engine_options: dict[str, Any]) -> None:
    """Child: import each agency's extract into the store at url, one CLI-like import each,
    printing each import's time as it ends."""
    setup_store(url, engine_options)
    for agency, paths in write_search_extracts(records).items():
        start = time.perf_counter()
        count, summary = import_as_cli(url, agency, paths, engine_options)
        seconds = time.perf_counter() - start
        print(
            f"  built: {agency}: {count:,} records and their items in {seconds:.1f} s "
            f"({count / seconds:,.0f} records/s; {summary})",
            flush=True,
        )


def sqlite_store(records: int, timeout: float) -> Path:
    """The kept SQLite store built from the extracts for `records`, built first if missing."""
    path = OUT / f"search-{records}.sqlite"
    if not path.exists():
        building = OUT / f"search-{records}.building"
        remove_sqlite(building)
        run_in_child(build_store, f"sqlite:///{building}", records, {}, timeout=timeout)
        building.replace(path)
    _emit([f"  store: {path.name}, {_sqlite_records(path):,} person records"])
    return path


def _sqlite_records(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (count,) = conn.execute("SELECT count(*) FROM person_records").fetchone()
    finally:
        conn.close()
    return int(count)


# --- the queries --------------------------------------------------------------------------------


def sample_queries(paths: Sequence[Path], count: int, seed: int = 7) -> dict[str, list[Query]]:
    """`count` queries of each kind, from records drawn uniformly from all the extracts."""
    rng = random.Random(seed)
    keep = count * 4
    sample: list[dict[str, str]] = []
    seen = 0
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                seen += 1
                if len(sample) < keep:
                    sample.append(row)
                elif (slot := rng.randrange(seen)) < keep:
                    sample[slot] = row
    rng.shuffle(sample)
    names = [
        Query("name", row["forenames"].split()[0], _maybe_typo(row["surname"], rng))
        for row in sample
        if row.get("forenames", "").split()
    ]
    births = [
        Query("date of birth", date_of_birth=r["date_of_birth"])
        for r in sample
        if r.get("date_of_birth")
    ]
    nhs = [
        Query("NHS number", nhs_number=r["nhs_number"])
        for r in sample
        if r.get("nhs_number") and _valid_nhs(r["nhs_number"])
    ]
    return {"name": names[:count], "date of birth": births[:count], "NHS number": nhs[:count]}


def _valid_nhs(text: str) -> bool:
    from node.matching.nhs import NhsNumberError, normalise_nhs_number

    try:
        return normalise_nhs_number(text) is not None
    except NhsNumberError:
        return False


def _maybe_typo(surname: str, rng: random.Random) -> str:
    if rng.random() >= 0.25 or len(surname) < 4:
        return surname
    at = rng.randint(1, len(surname) - 2)
    return surname[:at] + surname[at + 1] + surname[at] + surname[at + 2 :]


# --- the measurement ----------------------------------------------------------------------------


def measure(
    url: str, queries: dict[str, list[Query]], engine_options: dict[str, Any]
) -> list[Latencies]:
    """Child: every query of every kind, as a professional and as a manager, timed one by one."""
    from node import audit
    from node.access import Actor
    from node.keys import load_keys
    from node.search import SearchQuery, search
    from node.store.db import make_engine, make_sessionmaker
    from node.store.models import Role

    engine = make_engine(url, **engine_options)
    factory = make_sessionmaker(engine)
    keys = load_keys(KEYS)
    actors = {
        f"professional ({PROFESSIONAL_AGENCY})": Actor(
            "bench-pro", Role.AGENCY_PROFESSIONAL, PROFESSIONAL_AGENCY
        ),
        "MASH manager": Actor("bench-manager", Role.MASH_MANAGER),
    }

    def once(actor: Actor, query: Query) -> tuple[float, float, int, bool]:
        asked = SearchQuery(
            forenames=query.forenames,
            surname=query.surname,
            date_of_birth=query.date_of_birth,
            nhs_number=query.nhs_number,
        )
        start = time.perf_counter()
        with factory() as session, session.begin():
            found = search(session, actor, asked, PURPOSE)
            served = time.perf_counter()
            audit.checkpoint(session, keys)
        done = time.perf_counter()
        return (done - start) * 1000, (served - start) * 1000, len(found.subjects), found.truncated

    results = []
    for label, actor in actors.items():
        for kind, batch in queries.items():
            for query in batch[:WARM_UP]:
                once(actor, query)
            runs = [once(actor, query) for query in batch]
            results.append(
                Latencies(
                    label,
                    kind,
                    tuple(r[0] for r in runs),
                    tuple(r[1] for r in runs),
                    tuple(r[2] for r in runs),
                    sum(r[3] for r in runs),
                )
            )
    engine.dispose()
    return results


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1) of some values."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def report(backend: str, results: list[Latencies]) -> list[str]:
    rows = []
    for r in results:
        rows.append(
            (
                backend,
                r.actor,
                r.kind,
                len(r.total_ms),
                f"{percentile(r.total_ms, 0.5):.1f}",
                f"{percentile(r.total_ms, 0.95):.1f}",
                f"{max(r.total_ms):.1f}",
                f"{percentile(r.service_ms, 0.5):.1f}",
                f"{percentile(r.service_ms, 0.95):.1f}",
                f"{statistics.mean(r.subjects):.1f}",
                r.truncated,
            )
        )
    header = (
        "store", "actor", "search by", "n", "p50 ms", "p95 ms", "max ms",
        "svc p50", "svc p95", "subjects", "truncated",
    )  # fmt: skip
    lines = [format_table(header, rows), "targets:"]
    for r in results:
        p95 = percentile(r.total_ms, 0.95)
        met = "met" if p95 < TARGET_P95_MS else "NOT MET"
        lines.append(
            f"  [{met}] {backend}, {r.actor}, by {r.kind}: p95 {p95:.1f} ms < {TARGET_P95_MS:.0f} ms"
        )
    return lines


def run(records: int, count: int, backends: Sequence[str], timeout: float) -> None:
    """Build or reuse the store on each backend and measure every group of searches."""
    _emit([f"Search latency (about {records:,} agency records, {count} searches a group)", ""])
    _emit(machine_lines())
    extracts = write_search_extracts(records)
    queries = sample_queries([paths[0] for paths in extracts.values()], count)
    for backend in backends:
        options = BACKENDS[backend]
        try:
            if backend == "sqlite":
                path = sqlite_store(records, timeout)
                results = run_in_child(measure, f"sqlite:///{path}", queries, options)
            else:
                with store_url(backend, "search") as url:
                    run_in_child(build_store, url, records, options, timeout=timeout)
                    results = run_in_child(measure, url, queries, options)
        except ChildTimedOut as exc:
            _emit([f"  {backend}: building the store {exc}"])
            continue
        _emit(report(backend, results))
    _emit(
        [
            "",
            "p50/p95/max: end to end as the CLI runs a search (transaction, search, audit entry,",
            "signed checkpoint, commit); svc: the search service call alone (its audit entry",
            f"included, before checkpoint and commit). {WARM_UP} warm-up searches a group are not",
            "counted. subjects: mean subjects returned; truncated: searches with more than 50.",
        ]
    )


def _emit(lines: list[str]) -> None:
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="agency records, about")
    parser.add_argument("--queries", type=int, default=300, help="searches per actor and kind")
    parser.add_argument(
        "--backends", default="sqlite", help=f"comma-separated, of: {', '.join(BACKENDS)}"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds allowed to build a store (default {DEFAULT_TIMEOUT})",
    )
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        parser.error(f"--backends: unknown {', '.join(unknown)}; use {', '.join(BACKENDS)}")
    OUT.mkdir(parents=True, exist_ok=True)
    run(args.records, args.queries, backends, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
