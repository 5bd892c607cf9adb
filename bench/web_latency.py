"""Web page latency under load: queue, referral page and subject search with a million records.

Run: .venv/bin/python -m bench.web_latency [--records 1000000] [--users 20] [--seconds 30]
     [--workers 1] [--think-ms 0] [--profile]

A hub node is built once under bench/out/web/ (reused while it holds at least --records person
records): four agencies' extracts of one synthetic population with overlap (health, police,
education, children's social care, each its own import, so records link into shared subjects),
information items for some records, a MASH manager and agency professionals, and a few dozen
referrals in every state, made through the domain services. The real server
(`python -m node.web.serve --workers N`, waitress) runs as processes of their own; each user gets a web
session made directly in the store (as tests/web do), and its cookie and CSRF token are taken
from the server itself. Debian's `wrk` then drives each page with one connection per user, for
a fixed time, one page kind per run, so each kind has its own percentiles: GET /referrals (the
queue), GET /referrals/<id> (a referral the user may see, at random), POST /search (a name,
surname and date of birth, or NHS number search from the data, with a purpose). The baselines,
in the same run and under the same load, are a static asset and the sign-in page: the floor of
the web stack. A response that is not 200 (or a search page showing a form error) is an error.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import dataclasses
import datetime as dt
import json
import os
import pstats
import random
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from select import select as wait_readable
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.import_throughput import AS_OF, BOROUGH, OUT, format_table, machine_lines
from node import users
from node.access import Actor
from node.agencies import sync_agencies
from node.audit import CheckpointFileError
from node.auth import sessions as auth_sessions
from node.auth.totp import enrol_totp_for_demo
from node.config import NodeConfig, ReferralPolicy, load_config, render_config
from node.match_key_set import KeysOutOfDate
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.referrals.outcome import record_decision
from node.referrals.research import add_contribution, own_items_for_referral, set_release
from node.referrals.triage import record_lawful_basis, set_rag
from node.runtime import Node
from node.store.db import StoreOutOfDate
from node.store.models import (
    InformationItem,
    Outcome,
    Pathway,
    PersonRecord,
    Rag,
    Referral,
    ReleaseState,
    ResearchTask,
    Role,
    User,
    WebSession,
    utcnow,
)
from node.synthetic.extracts import iter_person_rows
from node.web import create_app, sessions
from node.web.serve import THREADS
from node.web.services import current_node

WEB_OUT = OUT / "web"
NODE_DIR = WEB_OUT / "node"
READY_FILE = NODE_DIR / "built.json"
SAMPLE_FILE = NODE_DIR / "search-sample.json"
EXTRACTS_DIR = WEB_OUT / "extracts"
LUA_FILE = WEB_OUT / "load.lua"
SERVER_LOG = WEB_OUT / "server.log"
AGENCIES = ("health", "police", "education", "childrens-social-care")
SEED = 23
PURPOSE = "BENCH-WEB-2026-0001"
TARGET_P95_MS = 150.0
REFERRALS = 36  # six of each shape in `_REFERRAL_SHAPES`
SEARCH_SAMPLE = 600
WRK = "wrk"
WRK_TIMEOUT_S = 10  # a request slower than this counts as an error (wrk's timeout)
MAX_REQUESTS_PER_USER = 200_000  # the run also stops after --seconds, whichever comes first
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
SERVE = (sys.executable, "-m", "node.web.serve")
COOKIE = "mash-session"  # the node serves plain HTTP on loopback here: secure_cookies = false


# --- the store ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """Which people of the synthetic population an agency holds, and what it writes down."""

    agency: str
    prefix: str  # the agency's record id prefix
    start: float  # the people it holds: [start, stop) of the population, as shares of --records
    stop: float
    every: int  # of those, every n-th person
    nhs: bool  # whether its extract carries NHS numbers
    items_every: int  # one person in n gets information items (0: none)


# 0.5 + 0.2 + 0.2 + 0.6/6 = 1.0 of --records; 0.65 of --records distinct people. Health and
# police overlap on 0.15, police and education on 0.1, health and education on 0.05, and
# children's social care spans all three. Police and education carry no NHS numbers, so their
# records link on name, date of birth and postcode.
SHARES = (
    Share("health", "H", 0.0, 0.5, 1, nhs=True, items_every=10),
    Share("police", "P", 0.35, 0.55, 1, nhs=False, items_every=3),
    Share("education", "E", 0.45, 0.65, 1, nhs=False, items_every=8),
    Share("childrens-social-care", "C", 0.0, 0.6, 6, nhs=True, items_every=1),
)
PEOPLE_SHARE = 0.65
PERSON_COLUMNS = (
    "record_id", "forenames", "surname", "date_of_birth", "gender", "address", "postcode",
)  # fmt: skip
ITEM_COLUMNS = ("item_ref", "record_id", "date", "category", "summary", "sensitivity")
_ITEMS_BY_AGENCY = {
    "health": ("A&E attendance", "Missed appointment", "Health visitor contact"),
    "police": ("Domestic incident", "Missing person report", "Child coming to notice"),
    "education": ("Attendance concern", "Exclusion", "Welfare concern"),
    "childrens-social-care": ("Child in need plan", "Assessment", "Early help episode"),
}


def write_extracts(
    records: int, folder: Path
) -> tuple[dict[str, list[Path]], list[dict[str, str]]]:
    """Write each agency's persons and items CSV for about `records` person records; return the
    files by agency and a uniform sample of the people (for the searches)."""
    folder.mkdir(parents=True, exist_ok=True)
    people = round(records * PEOPLE_SHARE)
    rng = random.Random(SEED)
    sample: list[dict[str, str]] = []
    files: dict[str, list[Path]] = {}
    handles = []
    writers: dict[str, tuple[csv.DictWriter[str], csv.DictWriter[str]]] = {}
    try:
        for share in SHARES:
            person_path = folder / f"{share.agency}-persons.csv"
            item_path = folder / f"{share.agency}-items.csv"
            person_handle = person_path.open("w", encoding="utf-8", newline="")
            item_handle = item_path.open("w", encoding="utf-8", newline="")
            handles += [person_handle, item_handle]
            columns = PERSON_COLUMNS + (("nhs_number",) if share.nhs else ())
            person_writer = csv.DictWriter(person_handle, fieldnames=columns, extrasaction="ignore")
            item_writer = csv.DictWriter(item_handle, fieldnames=ITEM_COLUMNS)
            person_writer.writeheader()
            item_writer.writeheader()
            writers[share.agency] = (person_writer, item_writer)
            files[share.agency] = [person_path, item_path]
        for index, row in enumerate(iter_person_rows(BOROUGH, people, SEED, as_of=AS_OF)):
            if len(sample) < SEARCH_SAMPLE:
                sample.append(row)
            elif (slot := rng.randrange(index + 1)) < SEARCH_SAMPLE:
                sample[slot] = row
            for share in SHARES:
                if (
                    share.start * records <= index < share.stop * records
                    and index % share.every == 0
                ):
                    _write_person(writers[share.agency], share, index, row, rng)
    finally:
        for handle in handles:
            handle.close()
    return files, sample


def _write_person(
    writers: tuple[csv.DictWriter[str], csv.DictWriter[str]],
    share: Share,
    index: int,
    row: dict[str, str],
    rng: random.Random,
) -> None:
    person_writer, item_writer = writers
    record_id = f"{share.prefix}{index + 1:08d}"
    person_writer.writerow({**row, "record_id": record_id})
    if not share.items_every or index % share.items_every:
        return
    categories = _ITEMS_BY_AGENCY[share.agency]
    for number in range(1 + rng.randrange(3)):
        when = AS_OF - dt.timedelta(days=rng.randrange(5 * 365))
        category = categories[rng.randrange(len(categories))]
        item_writer.writerow(
            {
                "item_ref": f"{record_id}-{number + 1}",
                "record_id": record_id,
                "date": when.isoformat(),
                "category": category,
                "summary": f"{category} recorded (synthetic benchmark entry {number + 1})",
                "sensitivity": "standard",
            }
        )


def build_node(records: int) -> None:
    """Build the node under NODE_DIR: config, keys, store, the extracts imported agency by agency,
    and the referrals. Users are added separately (`ensure_users`)."""
    if NODE_DIR.exists():
        shutil.rmtree(NODE_DIR)
    NODE_DIR.mkdir(parents=True)
    text = render_config(BOROUGH, BOROUGH.capitalize(), list(AGENCIES))
    text += '\n[web]\nhost = "127.0.0.1"\nport = 0\nsecure_cookies = false\n'
    (NODE_DIR / "node.toml").write_text(text, encoding="utf-8")
    node = Node.initialise(NODE_DIR / "node.toml")  # as `mash-node init` and the demo open it
    with node.unit_of_work() as session:
        sync_agencies(session, node.config.agencies)

    started = time.perf_counter()
    files, sample = write_extracts(records, EXTRACTS_DIR)
    _say(f"  extracts written in {time.perf_counter() - started:.0f} s")
    from node.importing.service import import_files  # only needed to build the store

    admin = Actor("bench-admin", Role.NODE_ADMIN)
    total = 0
    for agency, paths in files.items():
        started = time.perf_counter()
        with node.unit_of_work(admin) as session:
            result = import_files(session, admin, agency, paths)
        persons = sum(f.inserted + f.updated for f in result.files if f.kind == "persons")
        items = sum(f.inserted + f.updated for f in result.files if f.kind == "items")
        seconds = time.perf_counter() - started
        total += persons
        link = result.linking
        _say(
            f"  imported {agency}: {persons:,} records, {items:,} items in {seconds:.0f} s "
            f"({persons / seconds:,.0f} records/s; {link.records_linked:,} linked to existing "
            f"subjects, {link.candidates_raised:,} candidates)"
        )
    with node.unit_of_work() as session:
        made = seed_referrals(session, node.config.referrals, random.Random(SEED))
    _say(f"  {made} referrals recorded through the referral services")
    node.close()
    shutil.rmtree(EXTRACTS_DIR)
    SAMPLE_FILE.write_text(json.dumps(sample), encoding="utf-8")
    READY_FILE.write_text(json.dumps({"records": total, "referrals": made}), encoding="utf-8")


# --- referrals ----------------------------------------------------------------------------------

_ACCOUNTS = (
    ("neglect", "Class teacher reports the child arrives hungry and in the same clothes."),
    ("domestic-abuse", "Police attended a domestic incident overnight; the child was present."),
    ("emotional-abuse", "A neighbour hears shouting at the child most evenings."),
    ("physical-abuse", "A&E reports an unexplained injury to a young child."),
    ("missing", "The child has been reported missing three times this month."),
)
_REFERRAL_SHAPES = ("new", "red", "amber", "green", "decided", "adult")
_MANAGER = Actor("bench-seed-manager", Role.MASH_MANAGER)


def seed_referrals(session: Session, policy: ReferralPolicy, rng: random.Random) -> int:
    """REFERRALS referrals through the domain services, six of each shape: a new contact awaiting
    triage; red with police released and health signposted; amber with police held; green with
    research just opened; decided (strategy discussion); an adult, every other one with consent."""
    children = _people(session, rng, child=True, count=REFERRALS)
    adults = _people(session, rng, child=False, count=2 * REFERRALS)
    now = dt.datetime.now(dt.UTC)
    for number in range(REFERRALS):
        shape = _REFERRAL_SHAPES[number % len(_REFERRAL_SHAPES)]
        category, account = _ACCOUNTS[number % len(_ACCOUNTS)]
        adult = shape == "adult"
        subject = adults[REFERRALS + number] if adult else children[number]
        people = (subject,) if adult else (subject, _household(adults[number]))
        referral = record_contact(
            session,
            _MANAGER,
            NewContact(
                pathway=Pathway.ADULT if adult else Pathway.CHILD,
                source_kind="agency",
                source_agency=AGENCIES[number % len(AGENCIES)],
                categories=("self-neglect",) if adult else (category,),
                account=account,
                people=people,
                received_at=now - dt.timedelta(minutes=20 + 37 * number),
            ),
            policy,
        )
        if shape == "new":
            continue
        rag = {"red": Rag.RED, "decided": Rag.RED, "green": Rag.GREEN}.get(shape, Rag.AMBER)
        if adult and number % 2:
            record_lawful_basis(session, _MANAGER, referral.id, "consent", "", "Agreed by phone")
        set_rag(session, _MANAGER, referral.id, rag, "Screened by the MASH manager", policy)
        if shape in ("red", "decided"):
            _contribute(session, referral.id, "police", release=True)
            _contribute(session, referral.id, "health", release=False)
        elif shape == "amber":
            _contribute(session, referral.id, "police", release=None)
        if shape == "decided":
            record_decision(
                session,
                _MANAGER,
                referral.id,
                Outcome.STRATEGY_DISCUSSION,
                "Reasonable cause to suspect significant harm: strategy discussion.",
                interventions=[("police", "Joint visit"), ("health", "Child protection medical")],
                research_open_confirmed=True,
            )
    return REFERRALS


def _professional(agency: str) -> Actor:
    return Actor(f"bench-seed-{agency}", Role.AGENCY_PROFESSIONAL, agency)


def _contribute(session: Session, referral_id: int, agency: str, *, release: bool | None) -> None:
    """The agency adds its first item on the referral's people (or a note if it holds none) and
    releases it (True), signposts it (False) or leaves it held (None)."""
    actor = _professional(agency)
    items = own_items_for_referral(session, actor, referral_id)
    if items:
        contribution = add_contribution(
            session, actor, referral_id, source_item_id=items[0].item_id
        )
    else:
        contribution = add_contribution(
            session, actor, referral_id, title="No records held", content="Checked: none held."
        )
    if release is True:
        set_release(
            session,
            actor,
            contribution.id,
            ReleaseState.RELEASED,
            "Necessary and proportionate for the child's safety",
            "Children Act 1989 s47 (significant harm)",
        )
    elif release is False:
        set_release(session, actor, contribution.id, ReleaseState.SIGNPOSTED, "Ask the GP")


def _people(
    session: Session, rng: random.Random, *, child: bool, count: int
) -> list[PersonDetails]:
    """`count` people from the store as a contact would name them, linked to their subjects:
    children (under 16) police hold items on, or adults (over 25)."""
    today = dt.date.today()
    statement = select(PersonRecord).where(PersonRecord.subject_id.is_not(None))
    if child:
        statement = statement.where(
            PersonRecord.agency_code == "police",
            PersonRecord.date_of_birth > today - dt.timedelta(days=16 * 366),
            PersonRecord.id.in_(select(InformationItem.record_id)),
        )
    else:
        statement = statement.where(
            PersonRecord.agency_code == "health",
            PersonRecord.date_of_birth < today - dt.timedelta(days=25 * 366),
        )
    records = list(session.scalars(statement.order_by(PersonRecord.id).limit(count * 20)))
    if len(records) < count:
        raise SystemExit(f"the store holds too few {'children' if child else 'adults'} to seed")
    return [
        PersonDetails(
            surname=r.surname,
            forenames=r.forenames,
            date_of_birth=r.date_of_birth,
            gender=r.gender,
            address=r.address,
            postcode=r.postcode,
            subject_id=r.subject_id,
        )
        for r in rng.sample(records, count)
    ]


def _household(person: PersonDetails) -> PersonDetails:
    return dataclasses.replace(person, is_subject=False, relationship="Parent")


# --- users and sessions -------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchUser:
    username: str
    agency: str | None  # None: the MASH manager


def bench_users(count: int) -> list[BenchUser]:
    """One MASH manager and count - 1 agency professionals, spread over the agencies."""
    found = [BenchUser("bench.manager", None)]
    for number in range(count - 1):
        agency = AGENCIES[number % len(AGENCIES)]
        found.append(BenchUser(f"bench.{agency}.{number // len(AGENCIES) + 1}", agency))
    return found


def ensure_users(config: NodeConfig, wanted: Sequence[BenchUser]) -> None:
    """Create the users the store does not have yet, each with a TOTP secret as the web needs."""
    admin = Actor("bench-admin", Role.NODE_ADMIN)
    with Node.open(config) as node, node.unit_of_work(admin) as session:
        existing = set(session.scalars(select(User.username)))
        for user in wanted:
            if user.username in existing:
                continue
            users.add_user(
                session,
                admin,
                username=user.username,
                display_name=f"Benchmark {user.agency or 'manager'} user",
                role=Role.MASH_MANAGER if user.agency is None else Role.AGENCY_PROFESSIONAL,
                agency_code=user.agency,
                password=secrets.token_urlsafe(18),
            )
            enrol_totp_for_demo(session, node.keys, user.username)


@dataclass(frozen=True)
class SignedIn:
    """One user's browser: its session cookie, its search form's CSRF token, and the referrals
    it may open."""

    user: BenchUser
    cookie: str
    csrf_token: str
    referral_ids: tuple[int, ...]


def start_sessions(config: NodeConfig, wanted: Sequence[BenchUser]) -> dict[str, str]:
    """A fully signed-in web session per user, made in the store as tests/web/test_referral_pages
    does (signing in itself is not measured); returns each user's signed session cookie."""
    app = create_app(config)
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    if serializer is None:
        raise RuntimeError("the app has no secret key to sign session cookies")
    cookies = {}
    with current_node(app).unit_of_work() as session:
        for user in wanted:
            row = session.scalars(select(User).where(User.username == user.username)).one()
            token = auth_sessions.start(session, row, utcnow())
            started = session.scalars(
                select(WebSession).where(WebSession.token_hash == auth_sessions.token_hash(token))
            ).one()
            token = auth_sessions.complete_second_factor(session, started.id)
            cookies[user.username] = serializer.dumps({sessions.TOKEN_KEY: token})
    current_node(app).close()
    return cookies


def visible_referrals(
    config: NodeConfig, wanted: Sequence[BenchUser]
) -> dict[str, tuple[int, ...]]:
    """The referrals each user may open: all for the manager, those their agency works for a
    professional (the same rule as node.access.require_referral_access)."""
    with Node.open(config) as node, node.reading() as session:
        every = tuple(session.scalars(select(Referral.id).order_by(Referral.id)))
        tasks = list(session.execute(select(ResearchTask.agency_code, ResearchTask.referral_id)))
    found = {}
    for user in wanted:
        if user.agency is None:
            found[user.username] = every
        else:
            found[user.username] = tuple(sorted({r for a, r in tasks if a == user.agency}))
        if not found[user.username]:
            raise SystemExit(f"{user.username} may open no referral: the store was seeded wrongly")
    return found


class _Inputs(HTMLParser):
    """The hidden CSRF token of a page's form, and whether the page shows an error summary."""

    def __init__(self) -> None:
        super().__init__()
        self.csrf_token = ""
        self.error_summary = False
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("name") == "csrf_token":
            self.csrf_token = values.get("value") or ""
        if "govuk-error-summary" in (values.get("class") or "").split():
            self.error_summary = True
        self._in_title = tag == "title"

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def fetch(
    base_url: str, path: str, cookie: str | None = None, body: str | None = None
) -> tuple[int, str, str | None]:
    """One request to the server (no redirects followed): status, page text, new cookie if set."""
    request = urllib.request.Request(
        base_url + path, data=body.encode("ascii") if body is not None else None
    )
    if cookie is not None:
        request.add_header("Cookie", f"{COOKIE}={cookie}")
    if body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with _OPENER.open(request, timeout=60) as response:
            status, text, headers = response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as exc:
        status, text, headers = exc.code, exc.read().decode(errors="replace"), exc.headers
    set_cookie = next(
        (
            value.split(";", 1)[0].split("=", 1)[1]
            for value in headers.get_all("Set-Cookie") or []
            if value.startswith(f"{COOKIE}=")
        ),
        None,
    )
    return status, text, set_cookie


def sign_in_browsers(
    base_url: str,
    cookies: dict[str, str],
    referrals: dict[str, tuple[int, ...]],
    wanted: Sequence[BenchUser],
    searches: Sequence[str],
) -> list[SignedIn]:
    """Open the search page as each user to get the CSRF token (and the cookie that carries its
    secret), then check each page kind once: a real 200 page, not a redirect to sign in."""
    browsers = []
    for number, user in enumerate(wanted):
        status, text, new_cookie = fetch(base_url, "/search", cookies[user.username])
        page = _parse(text)
        if status != 200 or not page.csrf_token or new_cookie is None:
            raise SystemExit(
                f"{user.username}: GET /search gave {status} ({page.title.strip()!r}), "
                "not the search form with a CSRF token"
            )
        browser = SignedIn(user, new_cookie, page.csrf_token, referrals[user.username])
        _check_pages(base_url, browser, searches[number % len(searches)])
        browsers.append(browser)
    return browsers


def _check_pages(base_url: str, browser: SignedIn, search: str) -> None:
    checks = (
        ("/referrals", None),
        (f"/referrals/{browser.referral_ids[0]}", None),
        ("/search", search_body(browser.csrf_token, search)),
    )
    for path, body in checks:
        status, text, _ = fetch(base_url, path, browser.cookie, body)
        page = _parse(text)
        if status != 200 or page.error_summary:
            raise SystemExit(
                f"{browser.user.username}: {'POST' if body else 'GET'} {path} gave {status} "
                f"({page.title.strip()!r}{', with form errors' if page.error_summary else ''})"
            )


def _parse(text: str) -> _Inputs:
    parser = _Inputs()
    parser.feed(text)
    return parser


# --- searches -----------------------------------------------------------------------------------


def search_fields(sample: Sequence[dict[str, str]]) -> list[str]:
    """The search forms' fields (without token and purpose), url-encoded, one a sampled person,
    in turn: forename and surname; surname and date of birth; NHS number."""
    bodies = []
    for number, person in enumerate(sample):
        kind = number % 3
        if kind == 0:
            fields = {"forenames": person["forenames"], "surname": person["surname"]}
        elif kind == 1:
            year, month, day = person["date_of_birth"].split("-")
            fields = {
                "surname": person["surname"],
                "date_of_birth-day": str(int(day)),
                "date_of_birth-month": str(int(month)),
                "date_of_birth-year": year,
            }
        else:
            fields = {"nhs_number": person["nhs_number"]}
        bodies.append(urllib.parse.urlencode(fields))
    return bodies


def search_body(csrf_token: str, fields: str) -> str:
    start = urllib.parse.urlencode({"csrf_token": csrf_token, "purpose": PURPOSE})
    return f"{start}&{fields}"


# --- the server ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int


@contextmanager
def running_server(config_path: Path, workers: int) -> Iterator[Server]:
    """`python -m node.web.serve` on a free loopback port, stopped with SIGTERM afterwards."""
    log = SERVER_LOG.open("w", encoding="utf-8")
    command = [*SERVE, "--config", str(config_path), "--host", "127.0.0.1", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--workers", str(workers)],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = wait_readable([process.stdout], [], [], START_TIMEOUT_S)
        line = process.stdout.readline() if ready else ""
        if not line.startswith("Listening on http://"):
            raise SystemExit(f"the server did not start (see {SERVER_LOG}): {line.strip()!r}")
        yield Server(line.removeprefix("Listening on ").strip(), process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def machine_busy_seconds() -> float:
    """CPU time all cores of the machine have spent busy so far (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time so far of a process and its live child processes (the server's
    workers), from /proc."""
    total = 0.0
    for one in (pid, *_children(pid)):
        fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


# --- the load -----------------------------------------------------------------------------------

# One wrk thread per connection, so that each thread's Lua state is one user's browser: `setup`
# gives each thread its number, `init` loads that user's cookie, CSRF token and referrals.
LUA = r"""
local data_file, mode, limit = nil, nil, nil
local threads = {}
local counter = 1

function setup(thread)
  thread:set("number", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  data_file, mode, limit, think = args[1], args[2], tonumber(args[3]), tonumber(args[4])
  if think > 0 then
    -- a user reads the page before the next click: uniform in [think / 2, 3 * think / 2] ms
    delay = function() return think * (0.5 + math.random()) end
  end
  local data = dofile(data_file)
  local user = data.users[((number - 1) % #data.users) + 1]
  searches = data.searches
  referrals = user.referrals
  purpose_and_token = user.search_start
  cookie = {["Cookie"] = data.cookie_name .. "=" .. user.cookie}
  post_headers = {["Cookie"] = cookie["Cookie"],
                  ["Content-Type"] = "application/x-www-form-urlencoded"}
  math.randomseed(number * 7919 + os.time())
  non200, bad_pages, done_count = 0, 0, 0
  if mode == "static" then
    fixed = wrk.format("GET", data.static_path)
  elseif mode == "sign-in" then
    fixed = wrk.format("GET", "/sign-in")
  elseif mode == "queue" then
    fixed = wrk.format("GET", "/referrals", cookie)
  end
end

function request()
  if fixed then
    return fixed
  elseif mode == "referral" then
    return wrk.format("GET", "/referrals/" .. referrals[math.random(#referrals)], cookie)
  else
    local fields = searches[math.random(#searches)]
    return wrk.format("POST", "/search", post_headers, purpose_and_token .. "&" .. fields)
  end
end

function response(status, headers, body)
  done_count = done_count + 1
  if status ~= 200 then
    non200 = non200 + 1
  elseif mode == "search" and string.find(body, "govuk-error-summary", 1, true) then
    bad_pages = bad_pages + 1
  end
  if done_count >= limit then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local n, bad = 0, 0
  for _, thread in ipairs(threads) do
    n = n + thread:get("non200")
    bad = bad + thread:get("bad_pages")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "non200": %d, "bad_pages": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, n, bad, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def _lua_string(text: str) -> str:
    if not text.isascii() or any(ord(c) < 32 for c in text):
        raise ValueError("only printable ASCII goes into the load script's data")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_load_data(browsers: Sequence[SignedIn], searches: Sequence[str], path: Path) -> None:
    """The Lua data file the load script reads: each user's cookie, token and referrals."""
    users = []
    for browser in browsers:
        start = urllib.parse.urlencode({"csrf_token": browser.csrf_token, "purpose": PURPOSE})
        referral_list = ", ".join(str(i) for i in browser.referral_ids)
        users.append(
            f"{{cookie = {_lua_string(browser.cookie)}, search_start = {_lua_string(start)}, "
            f"referrals = {{{referral_list}}}}}"
        )
    lines = [
        "return {",
        f"  cookie_name = {_lua_string(COOKIE)},",
        '  static_path = "/static/app.css",',
        "  users = {",
        *(f"    {user}," for user in users),
        "  },",
        "  searches = {",
        *(f"    {_lua_string(fields)}," for fields in searches),
        "  },",
        "}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


@dataclass(frozen=True)
class PageRun:
    """One page kind under load: wrk's counts and latency percentiles, and the CPU it took."""

    page: str
    connections: int
    requests: int
    seconds: float
    errors: int  # non-200 responses, search pages with form errors, socket errors, timeouts
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    server_cpu: float  # cores the server process used on average (2 = both cores)
    wrk_cpu: float  # cores wrk used on average
    other_cpu: float  # cores everything else on the machine used on average meanwhile

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


PAGES = {
    "static": "GET /static/app.css (baseline)",
    "sign-in": "GET /sign-in (baseline)",
    "queue": "GET /referrals (queue)",
    "referral": "GET /referrals/<id>",
    "search": "POST /search",
}
BASELINES = ("static", "sign-in")


def run_wrk(
    server: Server, mode: str, connections: int, seconds: float, data_path: Path, think_ms: float
) -> PageRun:
    """Drive one page kind with `connections` users for `seconds`, one wrk thread each, each
    waiting about `think_ms` between an answer and its next request (0: none)."""
    busy_before = machine_busy_seconds()
    cpu_before = process_cpu_seconds(server.pid)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    command = [
        WRK, f"-t{connections}", f"-c{connections}", f"-d{seconds:g}s",
        f"--timeout={WRK_TIMEOUT_S}s", "-s", str(LUA_FILE), server.base_url + "/",
        "--", str(data_path), mode, str(MAX_REQUESTS_PER_USER), str(think_ms),
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    wall = time.perf_counter() - started
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = (process_cpu_seconds(server.pid) - cpu_before) / wall
    busy = (machine_busy_seconds() - busy_before) / wall
    wrk_cpu = (
        children_after.ru_utime - children_before.ru_utime
        + children_after.ru_stime - children_before.ru_stime
    ) / wall  # fmt: skip
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    result = json.loads(line.removeprefix("WRK_RESULT "))
    errors = sum(
        result[key] for key in ("connect", "read", "write", "timeout", "non200", "bad_pages")
    )
    return PageRun(
        page=mode,
        connections=connections,
        requests=result["requests"],
        seconds=result["duration_us"] / 1e6,
        errors=errors,
        p50_ms=result["p50_us"] / 1000,
        p95_ms=result["p95_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        max_ms=result["max_us"] / 1000,
        server_cpu=server_cpu,
        wrk_cpu=wrk_cpu,
        other_cpu=max(0.0, busy - server_cpu - wrk_cpu),
    )


# --- the report ---------------------------------------------------------------------------------


def report(runs: Sequence[PageRun]) -> list[str]:
    """The table with each page's ratio to the best baseline's p95, and the targets."""
    floor = min((r for r in runs if r.page in BASELINES), key=lambda r: r.p95_ms)
    rows = [
        (
            PAGES[r.page],
            r.requests,
            f"{r.per_second:,.0f}",
            f"{r.p50_ms:.1f}",
            f"{r.p95_ms:.1f}",
            f"{r.p99_ms:.1f}",
            f"{r.max_ms:.0f}",
            r.errors,
            f"{r.p95_ms / floor.p95_ms:.1f}x" if floor.p95_ms else "-",
            f"{r.server_cpu:.2f}",
            f"{r.wrk_cpu:.2f}",
            f"{r.other_cpu:.2f}",
        )
        for r in runs
    ]
    header = (
        "page", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors",
        "p95/floor", "server cores", "wrk cores", "other cores",
    )  # fmt: skip
    lines = [
        format_table(header, rows),
        "",
        f"floor: {PAGES[floor.page]}, p95 {floor.p95_ms:.1f} ms",
    ]
    lines.append("targets:")
    for r in runs:
        if r.page in BASELINES:
            continue
        met = r.p95_ms < TARGET_P95_MS and r.errors == 0
        lines.append(
            f"  [{'met' if met else 'NOT MET'}] {PAGES[r.page]}: p95 {r.p95_ms:.1f} ms "
            f"< {TARGET_P95_MS:.0f} ms, {r.errors} errors"
        )
    return lines


# --- where the time goes -----------------------------------------------------------------------

PROFILE_REQUESTS = 20
_SQLITE_STEPS = tuple(
    f"<method '{name}' of 'sqlite3.Cursor' objects>"
    for name in ("execute", "executemany", "fetchone", "fetchmany", "fetchall")
)
# Parts of a request, each the cumulative time of the functions named (file suffix, function).
_PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "templates": (("flask/templating.py", "render_template"),),
    "session check": (("node/web/sessions.py", "identify_user"),),
    "SQLite statements": tuple(("~", step) for step in _SQLITE_STEPS),
    # Every SQLite connection of the store is the queued one, whose commit calls sqlite3's: its
    # cumulative time alone (adding sqlite3's as well counted each commit twice).
    "SQLite commits": (("node/store/db.py", "commit"),),
}


def profile_pages(
    config: NodeConfig, browsers: Sequence[SignedIn], searches: Sequence[str]
) -> list[str]:
    """Each page kind, one request at a time in this process (Flask's test client with the
    user's cookie), as the manager and as the first professional: the time of a request alone,
    and under cProfile where it goes. Writes bench/out/web/profile-<user>-<page>.pstats."""
    app = create_app(config)
    rows = []
    for browser in browsers:
        for kind in ("sign-in", "queue", "referral", "search"):
            if kind == "sign-in" and browser is not browsers[0]:
                continue
            rows.append(_profile_page(app, browser, kind, searches))
    current_node(app).engine.dispose()
    header = ("user", "page", "alone p50 ms", "profiled ms", *_PARTS)
    return [
        f"One request at a time, in process ({PROFILE_REQUESTS} of each, after 3 unmeasured; "
        "profiled ms per request; parts overlap: the session check includes its commit):",
        format_table(header, rows),
        f"profiles: {WEB_OUT}/profile-<user>-<page>.pstats",
    ]


def _profile_page(
    app: Flask, browser: SignedIn, kind: str, searches: Sequence[str]
) -> tuple[str, ...]:
    client = app.test_client()
    client.set_cookie(COOKIE, browser.cookie)
    rng = random.Random(SEED)

    def one() -> None:
        if kind == "sign-in":
            response = app.test_client().get("/sign-in")
        elif kind == "queue":
            response = client.get("/referrals")
        elif kind == "referral":
            response = client.get(f"/referrals/{rng.choice(browser.referral_ids)}")
        else:
            body = search_body(browser.csrf_token, rng.choice(searches))
            response = client.post(
                "/search", data=body, content_type="application/x-www-form-urlencoded"
            )
        if response.status_code != 200:
            raise SystemExit(f"profile: {PAGES[kind]} answered {response.status_code} in process")

    alone = []
    for _ in range(PROFILE_REQUESTS + 3):
        started = time.perf_counter()
        one()
        alone.append((time.perf_counter() - started) * 1000)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(PROFILE_REQUESTS):
        one()
    profiler.disable()
    path = WEB_OUT / f"profile-{browser.user.username}-{kind}.pstats"
    profiler.dump_stats(path)
    stats = pstats.Stats(str(path))
    total = stats.total_tt * 1000 / PROFILE_REQUESTS  # type: ignore[attr-defined]
    parts = [_part_ms(stats, names) for names in _PARTS.values()]
    return (
        browser.user.username,
        PAGES[kind],
        f"{statistics.median(alone[3:]):.1f}",
        f"{total:.1f}",
        *(f"{ms:.1f} ({ms / total:.0%})" for ms in parts),
    )


def _part_ms(stats: pstats.Stats, names: tuple[tuple[str, str], ...]) -> float:
    found = 0.0
    for (filename, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        if any(filename.endswith(suffix) and function == name for suffix, name in names):
            found += row[3]  # cumulative seconds
    return found * 1000 / PROFILE_REQUESTS


# --- main ---------------------------------------------------------------------------------------


def ready_store(records: int) -> dict[str, int]:
    """The node's store, built first unless it already holds at least `records` records."""
    if READY_FILE.exists():
        built: dict[str, int] = json.loads(READY_FILE.read_text(encoding="utf-8"))
        if built["records"] >= records and _schema_current():
            return built
    _say(f"Building the node store ({records:,} records) under {NODE_DIR} ...")
    started = time.perf_counter()
    build_node(records)
    _say(f"  built in {time.perf_counter() - started:.0f} s")
    built = json.loads(READY_FILE.read_text(encoding="utf-8"))
    return built


def _schema_current() -> bool:
    """Whether the built store's schema is this code's (a store from before a migration is
    rebuilt, not upgraded: the figures are for stores the importer of today writes)."""
    try:
        Node.open(NODE_DIR / "node.toml").close()
    except (StoreOutOfDate, KeysOutOfDate) as exc:
        _say(f"The node store is out of date ({exc}); rebuilding it.")
        return False
    except CheckpointFileError:  # built before the audit checkpoint file: start it, as init does
        Node.initialise(NODE_DIR / "node.toml").close()
    return True


def run(
    records: int,
    users: int,
    seconds: float,
    warm_up: float,
    think_ms: float,
    *,
    workers: int = 1,
    profile: bool = False,
) -> list[PageRun]:
    """Build or reuse the store, start the server, sign the users in and load each page kind."""
    if shutil.which(WRK) is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    WEB_OUT.mkdir(parents=True, exist_ok=True)
    built = ready_store(records)
    config = load_config(NODE_DIR / "node.toml")
    wanted = bench_users(users)
    ensure_users(config, wanted)
    sample = json.loads(SAMPLE_FILE.read_text(encoding="utf-8"))
    searches = search_fields(sample)
    cookies = start_sessions(config, wanted)
    referrals = visible_referrals(config, wanted)
    LUA_FILE.write_text(LUA, encoding="ascii")
    data_path = WEB_OUT / "load-data.lua"
    _say(
        [
            f"Web page latency: {built['records']:,} agency records, {built['referrals']} "
            f"referrals, {users} signed-in users ({users - 1} agency professionals, 1 MASH "
            f"manager), {seconds:g} s a page",
            "",
            *machine_lines(),
            f"server:    python -m node.web.serve --workers {workers} (waitress, {THREADS} "
            "threads each), SQLite store",
            f"load:      wrk, {users} connections on {users} threads, one user each; think time "
            + (f"{think_ms:g} ms on average" if think_ms else "none (closed loop, saturated)"),
        ]
    )
    runs = []
    with running_server(NODE_DIR / "node.toml", workers) as server:
        browsers = sign_in_browsers(server.base_url, cookies, referrals, wanted, searches)
        write_load_data(browsers, searches, data_path)
        if warm_up > 0:
            for mode in PAGES:
                run_wrk(server, mode, users, warm_up, data_path, think_ms)
        for mode in PAGES:
            runs.append(run_wrk(server, mode, users, seconds, data_path, think_ms))
            _say(f"  {PAGES[mode]}: done, p95 {runs[-1].p95_ms:.1f} ms")
    _say(["", *report(runs), "", *NOTES])
    if profile:
        _say(["", *profile_pages(config, browsers[:2], searches)])
    return runs


NOTES = [
    "Each page kind runs on its own (one wrk run each); every connection is a signed-in user",
    "who sends the next request when the last is answered (after --think-ms, if given; without",
    "it the server is saturated and latency ~ users / throughput). Queue and referral pages are",
    "GETs with the user's cookie (a referral the user may open, at random); the search is a POST",
    "with the CSRF token and a purpose: forename and surname, surname and date of birth, or NHS",
    "number, in equal shares, of people in the data. errors: non-200 responses, search pages",
    "with a form error, socket errors, timeouts. p95/floor: p95 over the lower baseline p95.",
    "cores: CPU time over wall time (the machine has 2) of the server, of wrk, and of everything",
    "else on the machine during the run (other people's work).",
]


def _say(lines: str | list[str]) -> None:
    print(lines if isinstance(lines, str) else "\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="agency person records")
    parser.add_argument("--users", type=int, default=20, help="signed-in users (connections)")
    parser.add_argument("--seconds", type=float, default=30, help="measured seconds per page")
    parser.add_argument(
        "--warm-up", type=float, default=5, help="seconds of unmeasured load per page first"
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0,
        help="each user's pause between an answer and the next request, on average (default 0: "
        "none, the server saturated)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (node.web.serve --workers)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="afterwards, time and cProfile each page one request at a time, in process",
    )
    args = parser.parse_args(argv)
    if args.users < 2:
        parser.error("--users: at least 2 (a manager and a professional)")
    run(
        args.records,
        args.users,
        args.seconds,
        args.warm_up,
        args.think_ms,
        workers=args.workers,
        profile=args.profile,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
