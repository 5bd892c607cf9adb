"""Partnership intelligence at a large borough's scale: the nightly cumulative-harm evaluation,
the strategic assessment for a year (page and PDF), and what evaluating after an import costs it.

Run: .venv/bin/python -m bench.partnership [--records 1000000] [--contacts 20000] [--runs 3]

The store (SQLite, kept as bench/out/partnership-<records>.sqlite) is the search benchmark's four
agencies' realistic extracts, about `records` person records with their information items
(dated up to 2026-01-01), imported as `mash-node import` does; then a year of contacts (2025,
`contacts` of them, 1-3 subjects each, most with a household member, from agencies, the public
and others, most rated, most decided) written in bulk about people the agencies hold. Measured,
each in a child process on a copy of the kept store:

- the nightly evaluation (`evaluate_all` with the default rules, as of 2026-01-01) in one
  transaction, against a baseline in the same run: bare sqlite3 reading the rows it reads (the
  contacts' people, the contacts, the named categories' items);
- the strategic assessment for 2025 through the web app (test client, a signed-in manager):
  the page and the PDF export, each the median of `runs`, against a baseline: bare sqlite3
  counting the year's contacts by month and category;
- an agency import of 100,000 new person records (with items) into the store, alone and then
  followed by the evaluation `mash-node import` runs after it (target: at most 15 % slower).

Targets (issue 16): nightly evaluation under 60 s; the year's assessment under 2 s, its PDF
under 5 s; the import with its evaluation at most 15 % slower than without.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

from bench.import_throughput import (
    KEYS,
    OUT,
    format_table,
    machine_lines,
    remove_sqlite,
    run_in_child,
)
from bench.search_latency import build_store

AS_OF = dt.date(2026, 1, 1)
YEAR = "2025"
IMPORT_RECORDS = 100_000
TARGET_NIGHTLY_S = 60.0
TARGET_PAGE_S = 2.0
TARGET_PDF_S = 5.0
TARGET_IMPORT_LOSS = 0.15
CATEGORIES = (
    "neglect",
    "domestic-abuse",
    "physical-abuse",
    "emotional-abuse",
    "missing",
    "child-criminal-exploitation",
    "mental-health",
)
SOURCES = ("police", "police", "police", "education", "health", "childrens-social-care")


def kept_store(records: int, contacts: int, timeout: float) -> Path:
    """The store with `records` agency records and a year of `contacts`, built once."""
    path = OUT / f"partnership-{records}-{contacts}.sqlite"
    if path.exists():
        return path
    building = OUT / f"partnership-{records}-{contacts}.building"
    remove_sqlite(building)
    started = time.perf_counter()
    run_in_child(build_store, f"sqlite:///{building}", records, {}, timeout=timeout)
    print(f"  agencies' records imported in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    seed_contacts(building, contacts)
    print(f"  {contacts:,} contacts written in {time.perf_counter() - started:.0f} s", flush=True)
    building.replace(path)
    return path


def seed_contacts(path: Path, count: int, seed: int = 16) -> None:
    """A year of contacts about people the agencies hold, written in bulk (no personal data
    beyond the synthetic records' own names and postcodes)."""
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    known = conn.execute(
        "SELECT subject_id, forenames, surname, postcode FROM person_records "
        "WHERE subject_id IS NOT NULL AND agency_code IN ('education', 'health') ORDER BY id"
    ).fetchall()
    people = rng.sample(known, min(len(known), count * 3))
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    referrals, named, decisions = [], [], []
    for number in range(1, count + 1):
        received = start + dt.timedelta(seconds=rng.randrange(365 * 86_400))
        kind = rng.choices(("agency", "public", "other"), (8, 1, 1))[0]
        rag = rng.choices(("red", "amber", "green", None), (2, 4, 3, 1))[0]
        status = (
            "decided"
            if rag and rng.random() < 0.85
            else ("in-research" if rag else "awaiting-triage")
        )
        categories = rng.sample(CATEGORIES, rng.choice((1, 1, 2)))
        referrals.append(
            (
                number,
                f"HAC-2025-{number:05d}",
                "child",
                status,
                _stored(received),
                kind,
                rng.choice(SOURCES) if kind == "agency" else None,
                _json(categories),
                "Bench contact",
                rag,
                "bench",
                _stored(received),
            )
        )
        # Repeat contacts: a fifth name someone named before.
        pool = people[: max(1, number * 2)] if rng.random() < 0.2 else people
        subject = rng.choice(pool)
        named.append((number, subject[0], 1, "", subject[1], subject[2], subject[3]))
        if rng.random() < 0.7:
            member = rng.choice(people)
            named.append((number, member[0], 0, "Parent", member[1], member[2], member[3]))
        if status == "decided":
            outcome = rng.choice(
                ("no-further-action", "early-help", "assessment", "strategy-discussion")
            )
            decided = received + dt.timedelta(hours=rng.randint(2, 72))
            decisions.append((number, outcome, "Bench", "bench", _stored(decided)))
    conn.executemany(
        "INSERT INTO referrals (id, reference, pathway, status, received_at, source_kind, "
        "source_agency, categories, account, rag, created_by, created_at, source_name, "
        "source_contact, version, research_agencies) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', 1, '[]')",
        referrals,
    )
    conn.executemany(
        "INSERT INTO referral_people (referral_id, subject_id, is_subject, relationship, "
        "forenames, surname, postcode, gender, address) VALUES (?, ?, ?, ?, ?, ?, ?, '', '')",
        named,
    )
    conn.executemany(
        "INSERT INTO decisions (referral_id, outcome, rationale, decided_by, decided_at, "
        "referred_to, breached, research_open) VALUES (?, ?, ?, ?, ?, '', 0, '[]')",
        decisions,
    )
    conn.commit()
    conn.close()


def _stored(moment: dt.datetime) -> str:
    """A UTC time as SQLAlchemy writes it to SQLite."""
    return f"{moment:%Y-%m-%d %H:%M:%S.%f}"


def _json(values: list[str]) -> str:
    import json

    return json.dumps(values)


def _copy(kept: Path, name: str) -> Path:
    target = OUT / name
    remove_sqlite(target)
    shutil.copyfile(kept, target)
    return target


# --- the measured runs (children) -----------------------------------------------------------


def nightly(path: Path) -> dict[str, Any]:
    from node import audit
    from node.access import Actor
    from node.cumulative_harm.flags import NIGHTLY, evaluate_all
    from node.cumulative_harm.rules import DEFAULT_RULES
    from node.keys import load_keys
    from node.store.db import make_engine, make_sessionmaker, transaction

    engine = make_engine(f"sqlite:///{path}")
    keys = load_keys(KEYS)
    started = time.perf_counter()
    with transaction(make_sessionmaker(engine)) as session:
        done = evaluate_all(session, Actor.system("cumulative-harm"), DEFAULT_RULES, NIGHTLY, AS_OF)
        audit.checkpoint(session, keys)
    seconds = time.perf_counter() - started
    again = time.perf_counter()
    with transaction(make_sessionmaker(engine)) as session:
        evaluate_all(session, Actor.system("cumulative-harm"), DEFAULT_RULES, NIGHTLY, AS_OF)
    second = time.perf_counter() - again
    engine.dispose()
    return {
        "seconds": seconds,
        "second": second,
        "people": done.people,
        "raised": done.raised,
        "open": done.open,
    }


def nightly_baseline(path: Path) -> float:
    """Bare sqlite3 reading what the evaluation reads (365 days back; the named categories)."""
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    since = "2025-01-01"
    conn.execute(
        "SELECT p.referral_id, p.subject_id, p.is_subject FROM referral_people p "
        "JOIN referrals r ON r.id = p.referral_id WHERE r.received_at >= ? "
        "AND p.subject_id IS NOT NULL",
        (since,),
    ).fetchall()
    conn.execute(
        "SELECT id, reference, received_at, source_agency, categories, rag FROM referrals "
        "WHERE received_at >= ?",
        (since,),
    ).fetchall()
    conn.execute(
        "SELECT r.subject_id, i.id, i.agency_code, i.occurred_on, i.category "
        "FROM information_items i JOIN person_records r ON r.id = i.record_id "
        "WHERE i.occurred_on > '2025-10-03' AND i.occurred_on <= '2026-01-01' "
        "AND lower(i.category) IN ('a&e attendance', 'missing episode')"
    ).fetchall()
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def assessment(path: Path, runs: int) -> dict[str, Any]:
    """The year's assessment page and PDF through the web app, as a signed-in manager."""
    from sqlalchemy import select

    from node import users
    from node.access import Actor
    from node.auth import sessions as auth_sessions
    from node.config import parse_config
    from node.runtime import Node
    from node.store.db import make_engine, make_sessionmaker, transaction
    from node.store.models import Role, User, WebSession, utcnow
    from node.web import create_app, sessions

    folder = path.parent / "partnership-node"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "keys").mkdir(exist_ok=True)
    for key in KEYS.iterdir():
        shutil.copy(key, folder / "keys" / key.name)
    config = parse_config(
        {
            "node": {
                "borough_code": "hackney",
                "borough_name": "Hackney",
                "data_dir": str(folder),
                "database_url": f"sqlite:///{path}",
            },
            "hub": {"agencies": ["police", "health", "education", "childrens-social-care"]},
            "web": {"secure_cookies": False},
        },
        folder / "node.toml",
    )
    Node.initialise(config).close()  # the checkpoint file, started from the store's log
    engine = make_engine(config.database_url)
    with transaction(make_sessionmaker(engine)) as session:
        if session.scalar(select(User).where(User.username == "bench.manager")) is None:
            users.add_user(
                session,
                Actor("bench-admin", Role.NODE_ADMIN),
                username="bench.manager",
                display_name="Bench manager",
                role=Role.MASH_MANAGER,
                password="Bench-correct-horse-battery",
            )
        user = session.scalars(select(User).where(User.username == "bench.manager")).one()
        token = auth_sessions.start(session, user, utcnow())
        started = session.scalars(
            select(WebSession).where(WebSession.token_hash == auth_sessions.token_hash(token))
        ).one()
        token = auth_sessions.complete_second_factor(session, started.id)
    engine.dispose()
    app = create_app(config, testing=True)
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie[sessions.TOKEN_KEY] = token
    timings: dict[str, list[float]] = {"page": [], "pdf": [], "csv": []}
    sizes: dict[str, int] = {}
    for _ in range(runs):
        for name, url in (
            ("page", f"/assessment?period={YEAR}"),
            ("pdf", f"/assessment/export.pdf?period={YEAR}"),
            ("csv", f"/assessment/export.csv?period={YEAR}"),
        ):
            started_at = time.perf_counter()
            response = client.get(url)
            timings[name].append(time.perf_counter() - started_at)
            assert response.status_code == 200, (url, response.status_code)
            sizes[name] = len(response.data)
    return {
        name: {"median": statistics.median(values), "max": max(values), "bytes": sizes[name]}
        for name, values in timings.items()
    }


def assessment_baseline(path: Path) -> float:
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    conn.execute(
        "SELECT substr(received_at, 1, 7), j.value, count(*) FROM referrals, json_each(categories) j "
        "WHERE received_at >= '2025-01-01' AND received_at < '2026-01-01' GROUP BY 1, 2"
    ).fetchall()
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def agency_import(path: Path, files: list[Path], evaluate: bool) -> dict[str, float]:
    """One agency's import as `mash-node import` runs it, with or without its evaluation."""
    from node import audit
    from node.access import Actor
    from node.cumulative_harm.flags import IMPORT, IMPORT_KINDS, evaluate_all
    from node.cumulative_harm.rules import DEFAULT_RULES
    from node.importing.service import import_files
    from node.keys import load_keys
    from node.store.db import make_engine, make_sessionmaker, transaction
    from node.store.models import Role

    engine = make_engine(f"sqlite:///{path}")
    keys = load_keys(KEYS)
    admin = Actor("bench-admin", Role.NODE_ADMIN)
    started = time.perf_counter()
    with transaction(make_sessionmaker(engine)) as session:
        result = import_files(session, admin, "housing", files)
        audit.checkpoint(session, keys)
    imported = time.perf_counter() - started
    records = sum(f.inserted for f in result.files if f.kind == "persons")
    evaluated = 0.0
    if evaluate:
        again = time.perf_counter()
        with transaction(make_sessionmaker(engine)) as session:
            evaluate_all(
                session,
                Actor.system("cumulative-harm"),
                DEFAULT_RULES,
                IMPORT,
                AS_OF,
                IMPORT_KINDS,
            )
            audit.checkpoint(session, keys)
        evaluated = time.perf_counter() - again
    engine.dispose()
    return {"import": imported, "evaluation": evaluated, "records": records}


def housing_extract(records: int) -> list[Path]:
    """A housing extract of about `records` people of another synthetic borough (new records)."""
    from node.synthetic.extracts import write_extracts

    folder = OUT / f"partnership-housing-{records}"
    if not (folder / "complete").exists():
        write_extracts("hackney", ["housing"], folder, round(records / 1.6), seed=23, as_of=AS_OF)
        (folder / "complete").write_text("written\n")
    return sorted(folder.glob("housing-*.csv"), key=lambda p: "items" in p.name)


# --- the report -------------------------------------------------------------------------------


def run(records: int, contacts: int, runs: int, timeout: float) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    print("\n".join(machine_lines()), flush=True)
    kept = kept_store(records, contacts, timeout)
    conn = sqlite3.connect(f"file:{kept}?mode=ro", uri=True)
    held = conn.execute("SELECT count(*) FROM person_records").fetchone()[0]
    items = conn.execute("SELECT count(*) FROM information_items").fetchone()[0]
    made = conn.execute("SELECT count(*) FROM referrals").fetchone()[0]
    conn.close()
    print(f"Store: {held:,} agency person records, {items:,} items, {made:,} contacts", flush=True)

    work = _copy(kept, "partnership-work.sqlite")
    night = run_in_child(nightly, work, timeout=timeout)
    night_base = nightly_baseline(work)
    page = run_in_child(assessment, work, runs, timeout=timeout)
    page_base = assessment_baseline(work)

    files = housing_extract(IMPORT_RECORDS)
    without = run_in_child(
        agency_import, _copy(kept, "partnership-import-a.sqlite"), files, False, timeout=timeout
    )
    with_eval = run_in_child(
        agency_import, _copy(kept, "partnership-import-b.sqlite"), files, True, timeout=timeout
    )
    for name in (
        "partnership-work.sqlite",
        "partnership-import-a.sqlite",
        "partnership-import-b.sqlite",
    ):
        remove_sqlite(OUT / name)
    plain = without["import"]
    total = with_eval["import"] + with_eval["evaluation"]
    loss = total / plain - 1
    rows = [
        (
            "nightly evaluation",
            f"{night['seconds']:.2f} s (again: {night['second']:.2f} s)",
            f"{night_base:.2f} s",
            f"{night['seconds'] / night_base:.1f}x",
            f"< {TARGET_NIGHTLY_S:.0f} s: {'met' if night['seconds'] < TARGET_NIGHTLY_S else 'NOT met'}",
        ),
        (
            f"assessment page, {YEAR}",
            f"{page['page']['median']:.2f} s (max {page['page']['max']:.2f})",
            f"{page_base:.3f} s",
            f"{page['page']['median'] / page_base:.0f}x",
            f"< {TARGET_PAGE_S:.0f} s: {'met' if page['page']['median'] < TARGET_PAGE_S else 'NOT met'}",
        ),
        (
            f"assessment PDF, {YEAR}",
            f"{page['pdf']['median']:.2f} s (max {page['pdf']['max']:.2f})",
            f"{page_base:.3f} s",
            f"{page['pdf']['median'] / page_base:.0f}x",
            f"< {TARGET_PDF_S:.0f} s: {'met' if page['pdf']['median'] < TARGET_PDF_S else 'NOT met'}",
        ),
        (
            f"assessment CSV, {YEAR}",
            f"{page['csv']['median']:.2f} s",
            f"{page_base:.3f} s",
            f"{page['csv']['median'] / page_base:.0f}x",
            "",
        ),
        (
            f"housing import ({int(without['records']):,} records) + evaluation",
            f"{plain:.1f} s alone; {with_eval['import']:.1f} + {with_eval['evaluation']:.1f} s",
            f"{plain:.1f} s",
            f"{total / plain:.2f}x",
            f"≤ +{TARGET_IMPORT_LOSS:.0%}: {'met' if loss <= TARGET_IMPORT_LOSS else 'NOT met'} ({loss:+.1%})",
        ),
    ]
    print(
        f"Nightly: {night['people']:,} people evaluated, {night['raised']:,} flags raised, "
        f"{night['open']:,} open; PDF {page['pdf']['bytes']:,} bytes, page "
        f"{page['page']['bytes']:,} bytes"
    )
    print(format_table(("run", "measured", "baseline", "ratio", "target"), rows), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=3_600)
    args = parser.parse_args(argv)
    run(args.records, args.contacts, args.runs, args.timeout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
