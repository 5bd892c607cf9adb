"""The access matrix: every route × every visitor × objects of every agency, against the firewall.

The routes come from the app's URL map, so a new route is walked as soon as it is registered (and
fails until the policy table below says who may open it). Each route is requested by every role,
by an anonymous visitor and by someone who has given only their password, with every method it
accepts, for objects they may reach and objects they must not: referrals their agency is not
working, other agencies' contributions and items, subjects, candidate links and merges.

What each visitor should get comes from the small policy table below, written from the design's
rules (DESIGN.md section 4: the secure room, the firewall, release by the owning agency only),
never from the code under test. Every refusal must be a 403 with an `access.denied` audit entry,
show no personal data and change nothing; every page that is served must hold only what the
firewall lets that visitor see.
"""

from __future__ import annotations

import datetime as dt
import enum
import html
import json
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask, session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from node import users
from node.access import Actor
from node.agencies import sync_agencies
from node.auth import sessions as auth_sessions
from node.cumulative_harm.flags import evaluate_all
from node.cumulative_harm.rules import Kind as RuleKind
from node.cumulative_harm.rules import Rule, RuleSet
from node.importing.service import import_files
from node.keys import seal_to
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.referrals.outcome import record_decision
from node.referrals.research import add_contribution, set_release
from node.referrals.triage import set_rag
from node.store.models import (
    AuditEntry,
    Base,
    CandidateStatus,
    Contribution,
    DisclosureItem,
    HarmFlag,
    IncomingDisclosure,
    IncomingState,
    InformationItem,
    MatchCandidate,
    Outcome,
    OutgoingDisclosure,
    OutgoingState,
    Pathway,
    PersonRecord,
    Rag,
    Referral,
    ReferralPerson,
    ReferralStatus,
    ReleaseState,
    ResearchTask,
    Role,
    User,
    WebSession,
    utcnow,
)
from node.subjects import confirm_candidate, unmerge
from node.web import create_app, register_blueprints, sessions
from node.web.services import current_node
from protos.mash.federation.v1 import disclosure_pb2
from tests.helpers import ADMIN, write_csv
from tests.web.conftest import WebNode, WebUser, open_node

MANAGER = Actor("manager", Role.MASH_MANAGER)
POLICE = Actor("police.pro", Role.AGENCY_PROFESSIONAL, "police")
HEALTH = Actor("health.pro", Role.AGENCY_PROFESSIONAL, "health")
EDUCATION = Actor("education.pro", Role.AGENCY_PROFESSIONAL, "education")
AGENCIES = ("police", "health", "education", "childrens-social-care")

# --- who visits -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visitor:
    """Someone asking for a page: a role's user, someone half signed in, or nobody."""

    key: str
    username: str | None
    agency: str | None = None
    second_factor_done: bool = True

    @property
    def signed_in(self) -> bool:
        return self.username is not None and self.second_factor_done


ANONYMOUS = "anonymous"
MID_SIGN_IN = "mid-sign-in"  # gave the password, not yet the second factor
VISITORS = (
    Visitor(ANONYMOUS, None),
    Visitor(MID_SIGN_IN, "police.pro", "police", second_factor_done=False),
    Visitor("node-admin", "node.admin"),
    Visitor("auditor", "auditor"),
    Visitor("analyst", "analyst"),
    Visitor("manager", "manager"),
    Visitor("police", "police.pro", "police"),
    Visitor("health", "health.pro", "health"),
    Visitor("education", "education.pro", "education"),
)

# --- the policy, from the design ----------------------------------------------------------------

ANYONE = "anyone"  # the sign-in pages
HALF_SIGNED_IN = "half-signed-in"  # only while the second factor is still to be given
SIGNED_IN = "signed-in"  # any role, both factors given
STAFF = frozenset({"manager", "police", "health", "education"})  # the hub's members
PROFESSIONALS = frozenset({"police", "health", "education"})
MANAGER_ONLY = frozenset({"manager"})
ASSESSMENT = frozenset({"manager", "analyst"})
OVERSIGHT = frozenset({"node-admin", "auditor"})  # the user list and the audit log, read only


class Reach(enum.Enum):
    """Which of the objects named in a request a visitor who may open the page may reach."""

    ANY = "any"  # no per-object rule (the page's content is filtered instead)
    ROOM = "room"  # the referral's secure room: the manager, and agencies with a research task
    OWN_ITEM = "own item"  # the room, and an item (raw record) of the visitor's own agency
    OWN_CONTRIBUTION = "own contribution"  # the room, and the visitor's agency's own item on it
    REQUEST = "request"  # another borough's request: the manager, agencies with items on it
    OWN_REQUEST_ITEM = "own request item"  # an item on such a request: its agency's only


@dataclass(frozen=True)
class Access:
    opens: str | frozenset[str]
    reach: Reach = Reach.ANY
    personal: frozenset[str] = frozenset()  # methods whose page may show personal data


GET, POST = frozenset({"GET"}), frozenset({"POST"})
BOTH = GET | POST

POLICY: dict[str, Access] = {
    "auth.sign_in": Access(ANYONE),
    "auth.two_factor": Access(HALF_SIGNED_IN),
    "auth.set_up_two_factor": Access(HALF_SIGNED_IN),
    "auth.sign_out": Access(ANYONE),
    "home.start": Access(SIGNED_IN),
    "home.favicon": Access(ANYONE),
    # Searching: professionals and the manager; the content is filtered by agency.
    "search.index": Access(STAFF, personal=POST),
    "search.subject": Access(STAFF, personal=POST),
    # Linking subjects is a professional judgement (professionals and the manager).
    "subjects.candidates": Access(STAFF),
    "subjects.decide": Access(STAFF),
    "subjects.undo": Access(STAFF),
    # The front door: anyone in the hub records contacts; the secure room sees a referral;
    # triage, lawful basis and the decision are the manager's.
    "referrals.index": Access(STAFF),
    "referrals.new": Access(STAFF, personal=POST),
    "referrals.show": Access(STAFF, Reach.ROOM, personal=BOTH),
    "referrals.rate": Access(MANAGER_ONLY, Reach.ROOM, personal=BOTH),
    "referrals.lawful_basis": Access(MANAGER_ONLY, Reach.ROOM, personal=BOTH),
    "referrals.withdraw": Access(STAFF, Reach.ROOM, personal=BOTH),
    "referrals.decide": Access(MANAGER_ONLY, Reach.ROOM, personal=BOTH),
    # Asking other boroughs: the manager's; this hub takes no part in a federation (404).
    "referrals.check_boroughs": Access(MANAGER_ONLY, Reach.ROOM),
    # Research is the agency professionals' own, on referrals their agency works; only the
    # owning agency decides the release of its items.
    "research.index": Access(PROFESSIONALS),
    "research.referral": Access(PROFESSIONALS, Reach.ROOM, personal=BOTH),
    "research.add_item": Access(PROFESSIONALS, Reach.OWN_ITEM, personal=BOTH),
    "research.add_by_reference": Access(PROFESSIONALS, Reach.ROOM, personal=BOTH),
    "research.write": Access(PROFESSIONALS, Reach.ROOM, personal=BOTH),
    "research.release": Access(PROFESSIONALS, Reach.OWN_CONTRIBUTION, personal=BOTH),
    "research.complete": Access(PROFESSIONALS, Reach.ROOM, personal=BOTH),
    # The information product, for the secure room: released items only, signposts for the rest.
    "product.show": Access(STAFF, Reach.ROOM, personal=BOTH),
    "product.pdf": Access(STAFF, Reach.ROOM, personal=BOTH),
    # Disclosure between boroughs. Asking is the manager's (this hub takes no part in a
    # federation: 404). Another borough's request is worked by the manager, and by the
    # professionals of the agencies with items on it, each deciding their own items only.
    "disclosures.index": Access(STAFF),
    "disclosures.ask": Access(MANAGER_ONLY, personal=BOTH),
    "disclosures.withdraw": Access(MANAGER_ONLY),
    "disclosures.incoming": Access(STAFF, Reach.REQUEST, personal=BOTH),
    "disclosures.match": Access(MANAGER_ONLY, Reach.REQUEST, personal=BOTH),
    "disclosures.decide": Access(PROFESSIONALS, Reach.OWN_REQUEST_ITEM, personal=BOTH),
    "disclosures.answer": Access(MANAGER_ONLY, Reach.REQUEST, personal=BOTH),
    "disclosures.decline": Access(MANAGER_ONLY, Reach.REQUEST, personal=BOTH),
    # Oversight: administrators and auditors see the users and the audit log's state, nothing
    # about children or adults.
    # Cumulative-harm flags are advice for the MASH manager: they say which agencies hold what
    # on a person, so the manager alone sees, explains and dismisses them.
    "cumulative_harm.flag": Access(MANAGER_ONLY, personal=BOTH),
    "cumulative_harm.dismiss": Access(MANAGER_ONLY, personal=BOTH),
    # The strategic assessment: aggregates only, for the manager and the partnership analyst
    # (whose role opens nothing else).
    "assessment.show": Access(ASSESSMENT),
    "assessment.export_html": Access(ASSESSMENT),
    "assessment.export_pdf": Access(ASSESSMENT),
    "assessment.export_csv": Access(ASSESSMENT),
    "admin.index": Access(OVERSIGHT),
    "admin.lift_delays": Access(frozenset({"node-admin"})),
    "audit.index": Access(OVERSIGHT),
    "audit.verify": Access(OVERSIGHT),
}

# The story of the fixture, as the design describes who works a referral: the agencies that had a
# research task opened when it was rated (none before the rating, none for an adult waiting for a
# lawful basis; only police and health on the referral rated while they were the hub's agencies).
ROOMS: dict[str, frozenset[str]] = {
    "awaiting-triage": frozenset(),
    "in-research": frozenset(AGENCIES),
    "decided": frozenset(AGENCIES),
    "adult-awaiting-basis": frozenset(),
    "police-and-health-only": frozenset({"police", "health"}),
}
MISSING = "missing"

# Which fixture objects fill each URL argument (and, for adding an item, the item in the form).
ARGUMENT_KINDS = {
    "referral_id": "referral",
    "contribution_id": "contribution",
    "subject_id": "subject",
    "candidate_id": "candidate",
    "merge_id": "merge",
    "request_id": "request",  # another borough's request to this hub
    "item_id": "request_item",  # an item on it, for its agency to decide
    "disclosure_id": "disclosure",  # this hub's request to another borough
    "person_id": "person",  # a subject of a referral
    "flag_id": "flag",  # a cumulative-harm flag on a person
}
# Another borough's requests: one matched to Kezia, with a police and a health item on it, one
# not yet matched (no items); which agencies' professionals may work each.
REQUEST_AGENCIES = {"matched": frozenset({"police", "health"}), "new": frozenset()}
REQUEST_ITEMS = {"police": "CAD-7002", "health": "GP-8003"}
FORM_OBJECTS = {"research.add_item": ("item",)}

# --- the fixture's people and what the agencies hold --------------------------------------------

KEZIA_BORN, KEZIA_TWIN_BORN = dt.date(2015, 3, 9), dt.date(2015, 9, 3)
RUBEN_BORN, WINIFRED_BORN = dt.date(2013, 11, 27), dt.date(1944, 6, 21)
KEZIA = {"forenames": "Kezia", "surname": "Thornbury", "date_of_birth": "2015-03-09"}
RUBEN = {"forenames": "Ruben", "surname": "Ashdale", "date_of_birth": "2013-11-27"}
NHS_NUMBER, NHS_SPACED = "4010232137", "401 023 2137"
POLICE_ALIAS = "Kizzy Thornbury"
HEALTH_ADDRESS = "27 Clissold Crescent"
HEALTH_ADDRESS_2 = "41 Chatsworth Road"


@dataclass(frozen=True)
class ItemText:
    ref: str
    agency: str
    record: str
    date: str
    category: str
    summary: str
    detail: str


ITEMS = (
    ItemText(
        "CAD-7001",
        "police",
        "P-101",
        "2026-01-14",
        "Domestic incident",
        "Officers attended a disturbance at the family flat",
        "A neighbour heard glass breaking after midnight",
    ),
    ItemText(
        "CAD-7002",
        "police",
        "P-101",
        "2025-08-30",
        "Missing person",
        "Reported missing overnight from a sleepover",
        "Found next morning at a relative in Enfield",
    ),
    ItemText(
        "CAD-7003",
        "police",
        "P-102",
        "2026-02-02",
        "Stop and search",
        "Stopped carrying a lock knife near the canal",
        "Diverted to the youth offending triage panel",
    ),
    ItemText(
        "GP-8001",
        "health",
        "H-201",
        "2025-12-05",
        "Emergency attendance",
        "Attended the emergency department with a scalded hand",
        "The explanation given by the carer was inconsistent",
    ),
    ItemText(
        "GP-8002",
        "health",
        "H-202",
        "2025-10-21",
        "Dental",
        "Six untreated dental abscesses noted at check-up",
        "The family did not attend the follow-up appointment",
    ),
    ItemText(
        "GP-8003",
        "health",
        "H-201",
        "2025-06-11",
        "Mental health",
        "Referred to CAMHS for low mood and self-harm",
        "Still waiting for a first appointment",
    ),
)
ITEM = {item.ref: item for item in ITEMS}
RELEASED_POLICE, HELD_HEALTH = "CAD-7001", "GP-8001"  # on the decided referral
HELD_POLICE = "CAD-7003"  # on the referral in research
EDUCATION_NOTE = ("School attendance concerns", "Attendance fell to sixty one percent this term")
HEALTH_NOTE = ("Health visitor observation", "Health visitor saw fingertip bruising on an arm")


@dataclass(frozen=True)
class ContactText:
    """What a contact says that no other referral of the fixture says."""

    household: str
    relationship: str
    account: str
    source: str


CONTACTS = {
    "awaiting-triage": ContactText(
        "Desmond Ashdale", "Father", "Arrived at school hungry and without a coat", "Mrs Penhaligon"
    ),
    "in-research": ContactText(
        "Lorraine Ashdale", "Mother", "Seen with older youths by the garages late", "Mr Okonjo"
    ),
    "decided": ContactText(
        "Marcus Thornbury",
        "Stepfather",
        "Said she was frightened to go home after shouting",
        "Ms Adeyemi",
    ),
    "adult-awaiting-basis": ContactText(
        "Terence Calloway",
        "Son",
        "Her son is said to keep her pension and leave no food",
        "Dr Fairweather",
    ),
    "police-and-health-only": ContactText(
        "Yvonne Thornbury",
        "Grandmother",
        "Grandmother phoned about bruises seen at the weekend",
        "Pastor Quaye",
    ),
}


@dataclass(frozen=True)
class Secret:
    """Personal content with the rule that decides who may see it.

    `agency`: it is that agency's own data (its professionals may see it on their own pages);
    `referral`: it was put into that referral's secure room (its pages may show it to those the
    room admits); `released`: its referral's information product may carry it.
    """

    text: str
    agency: str | None = None
    referral: str | None = None
    released: bool = False


def _secrets() -> tuple[Secret, ...]:
    contributed = {RELEASED_POLICE: "decided", HELD_HEALTH: "decided", HELD_POLICE: "in-research"}
    found = [
        Secret(text, item.agency, contributed.get(item.ref), item.ref == RELEASED_POLICE)
        for item in ITEMS
        for text in (item.summary, item.detail)
    ]
    found += [
        Secret(POLICE_ALIAS, "police"),
        Secret(HEALTH_ADDRESS, "health"),
        Secret(HEALTH_ADDRESS_2, "health"),
        Secret(NHS_NUMBER, "health"),
        Secret(NHS_SPACED, "health"),
        *(Secret(text, "education", "in-research") for text in EDUCATION_NOTE),
        *(Secret(text, "health", "police-and-health-only") for text in HEALTH_NOTE),
    ]
    for label, contact in CONTACTS.items():
        found += [
            Secret(text, None, label, released=True)
            for text in (contact.household, contact.account, contact.source)
        ]
    return tuple(found)


SECRETS = _secrets()


def _date_forms(day: dt.date) -> tuple[str, ...]:
    return (
        day.isoformat(),
        f"{day.day} {day:%B %Y}",
        f"{day:%d %B %Y}",
        f"{day.day} {day:%b %Y}",
        f"{day:%d/%m/%Y}",
        f"{day.day}/{day.month}/{day.year}",
    )


# Everything personal in the fixture: a refusal, a redirect or a page that carries no personal
# data must contain none of it.
PERSONAL: tuple[str, ...] = (
    *(secret.text for secret in SECRETS),
    *("Kezia", "Thornbury", "Ruben", "Ashdale", "Winifred", "Calloway", "Kizzy"),
    *(
        text
        for day in (KEZIA_BORN, KEZIA_TWIN_BORN, RUBEN_BORN, WINIFRED_BORN)
        for text in _date_forms(day)
    ),
    *("N16 8QT", "N168QT", "E9 6PB", "E96PB", "SE1 7PB", "SE17PB", "E5 9LT", "E59LT"),
    *("N4 2HA", "N42HA", "Blackstock Road"),
)

# --- the hub ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thing:
    """One object a URL (or form) can name: its label in this test, its id, and its owner."""

    label: str
    id: int
    referral: str | None = None  # a contribution's referral
    agency: str | None = None  # a contribution's or an item's agency
    state: ReleaseState | None = None  # a contribution's release state
    id_of_referral: int | None = None  # this hub's request to another borough: its referral


@dataclass
class Hub:
    node: WebNode
    app: Flask
    objects: dict[str, list[Thing]]
    csrf_secret: str
    csrf_token: str
    referral_ids: dict[str, int]
    tokens: dict[str, str] = field(default_factory=dict)  # visitor key -> web session token

    def session_token(self, visitor: Visitor) -> str | None:
        """The visitor's web session, started directly (sparing the password hashing and codes
        that test_auth covers) and kept until a request signs it out."""
        if visitor.username is None:
            return None
        if visitor.key not in self.tokens:
            with self.node.node.unit_of_work() as db:
                user = db.scalars(select(User).where(User.username == visitor.username)).one()
                token = auth_sessions.start(db, user, utcnow())
                if visitor.second_factor_done:
                    started = db.scalars(
                        select(WebSession).where(
                            WebSession.token_hash == auth_sessions.token_hash(token)
                        )
                    ).one()
                    token = auth_sessions.complete_second_factor(db, started.id)
            self.tokens[visitor.key] = token
        return self.tokens[visitor.key]


@pytest.fixture(scope="module")
def hub(
    web_node_template: tuple[Path, dict[str, WebUser]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Hub]:
    """The shared builder's node (copied), plus an education professional, police and health
    records on two children, referrals in every state, candidate links and merges."""
    template, people = web_node_template
    folder = tmp_path_factory.mktemp("access-matrix")
    shutil.copytree(template, folder / "node")
    node = open_node(folder / "node", people)
    with node.node.unit_of_work() as db:
        users.add_user(
            db,
            ADMIN,
            username="education.pro",
            display_name="Edie Larkspur",
            role=Role.AGENCY_PROFESSIONAL,
            agency_code="education",
            password="Correct-horse-9-battery",
        )
        _import_records(db, folder)
        subjects, candidates, merges = _link_decisions(db)
        referrals = _referrals(db, node, subjects)
        flag = _harm_flag(db, subjects)
        contributions = _research_and_decision(db, referrals)
        items = {ref: _item_id(db, ref) for ref in ITEM}
        requests, request_items, disclosure = _disclosures(db, node, subjects, referrals)
    app = create_app(node.config, testing=True)
    with app.test_request_context():
        token = generate_csrf()
        secret = str(session["csrf_token"])
    absent = 10_000
    objects = {
        "referral": [Thing(label, id_) for label, id_ in referrals.items()]
        + [Thing(MISSING, absent)],
        "contribution": contributions,
        "subject": [Thing(label, id_) for label, id_ in subjects.items()]
        + [Thing(MISSING, absent)],
        "candidate": [Thing(label, id_) for label, id_ in candidates.items()]
        + [Thing(MISSING, absent)],
        "merge": [Thing(label, id_) for label, id_ in merges.items()] + [Thing(MISSING, absent)],
        "item": [Thing(ref, id_, agency=ITEM[ref].agency) for ref, id_ in items.items()],
        "request": [Thing(label, id_) for label, id_ in requests.items()]
        + [Thing(MISSING, absent)],
        "request_item": request_items,
        "disclosure": [disclosure, Thing(MISSING, absent)],
        "flag": [Thing("ruben", flag), Thing(MISSING, absent)],
    }
    yield Hub(node, app, objects, secret, token, referrals)
    current_node(app).engine.dispose()
    node.sessions.kw["bind"].dispose()


def _import_records(db: Session, folder: Path) -> None:
    police = [
        {**KEZIA, "record_id": "P-101", "postcode": "N16 8QT", "aliases": POLICE_ALIAS},
        {**RUBEN, "record_id": "P-102", "postcode": "E5 9LT"},
        # The same name and date of birth elsewhere (a candidate), and with day and month swapped.
        {**KEZIA, "record_id": "P-103", "postcode": "E9 6PB"},
        {**KEZIA, "record_id": "P-104", "postcode": "SE1 7PB", "date_of_birth": "2015-09-03"},
    ]
    health = [
        {
            **KEZIA,
            "record_id": "H-201",
            "postcode": "N16 8QT",
            "nhs_number": NHS_NUMBER,
            "address": HEALTH_ADDRESS,
        },
        {**RUBEN, "record_id": "H-202", "postcode": "E5 9LT", "address": HEALTH_ADDRESS_2},
    ]
    for agency, records in (("police", police), ("health", health)):
        people = write_csv(folder / f"{agency}-people.csv", records)
        items = write_csv(
            folder / f"{agency}-items.csv",
            [
                {
                    "item_ref": item.ref,
                    "record_id": item.record,
                    "date": item.date,
                    "category": item.category,
                    "summary": item.summary,
                    "detail": item.detail,
                }
                for item in ITEMS
                if item.agency == agency
            ],
        )
        import_files(db, ADMIN, agency, [people, items])


def _subject_of(db: Session, record_id: str) -> int:
    subject = db.scalar(
        select(PersonRecord.subject_id).where(PersonRecord.agency_record_id == record_id)
    )
    assert subject is not None, record_id
    return subject


def _candidate(db: Session, a: int, b: int) -> int:
    pair = (min(a, b), max(a, b))
    return db.scalars(
        select(MatchCandidate.id).where(
            MatchCandidate.subject_a_id == pair[0], MatchCandidate.subject_b_id == pair[1]
        )
    ).one()


def _link_decisions(
    db: Session,
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """One merge in force, one undone (its candidate now rejected), one candidate still open."""
    kezia, ruben = _subject_of(db, "P-101"), _subject_of(db, "P-102")
    elsewhere, swapped = _subject_of(db, "P-103"), _subject_of(db, "P-104")
    assert _subject_of(db, "H-201") == kezia and _subject_of(db, "H-202") == ruben
    merged = _candidate(db, kezia, elsewhere)
    undone = _candidate(db, kezia, swapped)
    still_open = _candidate(db, elsewhere, swapped)
    in_force = confirm_candidate(db, MANAGER, merged, "Same school and the same GP practice")
    reverted = confirm_candidate(db, POLICE, undone, "Same name at a nearby address")
    unmerge(db, MANAGER, reverted.id, "The dates of birth are really different")
    subjects = {"kezia": kezia, "ruben": ruben, "merged-away": elsewhere, "unmerged": swapped}
    candidates = {"open": still_open, "confirmed": merged, "rejected": undone}
    return subjects, candidates, {"in-force": in_force.id, "undone": reverted.id}


def _referrals(db: Session, node: WebNode, subjects: dict[str, int]) -> dict[str, int]:
    policy = node.config.referrals

    def contact(label: str, subject: PersonDetails, pathway: Pathway = Pathway.CHILD) -> int:
        text = CONTACTS[label]
        household = PersonDetails(
            surname=text.household.split()[-1],
            forenames=text.household.split()[0],
            is_subject=False,
            relationship=text.relationship,
        )
        details = NewContact(
            pathway=pathway,
            source_kind="public",
            source_name=text.source,
            categories=("neglect",),
            account=text.account,
            people=(subject, household),
        )
        return record_contact(db, MANAGER, details, policy).id

    def child(name: dict[str, str], subject: int, postcode: str) -> PersonDetails:
        return PersonDetails(
            surname=name["surname"],
            forenames=name["forenames"],
            date_of_birth=dt.date.fromisoformat(name["date_of_birth"]),
            postcode=postcode,
            subject_id=subject,
        )

    kezia = child(KEZIA, subjects["kezia"], "N16 8QT")
    ruben = child(RUBEN, subjects["ruben"], "E5 9LT")
    adult = PersonDetails(
        surname="Calloway",
        forenames="Winifred",
        date_of_birth=WINIFRED_BORN,
        address="9 Blackstock Road",
        postcode="N4 2HA",
    )
    ids = {
        "awaiting-triage": contact("awaiting-triage", ruben),
        "in-research": contact("in-research", ruben),
        "decided": contact("decided", kezia),
        "adult-awaiting-basis": contact("adult-awaiting-basis", adult, Pathway.ADULT),
        "police-and-health-only": contact("police-and-health-only", kezia),
    }
    for label in ("in-research", "decided", "adult-awaiting-basis"):
        set_rag(db, MANAGER, ids[label], Rag.RED, "Injury seen at school", policy)
    # The hub's configuration once named police and health only: research opened then has no
    # task for education (nor children's social care), and keeps none when they are back.
    configured = node.config.agencies
    sync_agencies(db, [node.config.agency("police"), node.config.agency("health")])
    set_rag(db, MANAGER, ids["police-and-health-only"], Rag.AMBER, "Bruising seen", policy)
    sync_agencies(db, configured)
    subjects["adult"] = db.scalars(
        select(ReferralPerson.subject_id).where(
            ReferralPerson.referral_id == ids["adult-awaiting-basis"], ReferralPerson.is_subject
        )
    ).one()
    return ids


def _harm_flag(db: Session, subjects: dict[str, int]) -> int:
    """A cumulative-harm flag on Ruben (two contacts), from a rule set that says so."""
    rules = RuleSet(1, (Rule("repeat", RuleKind.REPEAT, 2, 730, "Repeat contacts"),))
    evaluate_all(db, MANAGER, rules, "nightly")
    return db.scalars(select(HarmFlag.id).where(HarmFlag.subject_id == subjects["ruben"])).one()


def _item_id(db: Session, ref: str) -> int:
    return db.scalars(select(InformationItem.id).where(InformationItem.item_ref == ref)).one()


def _research_and_decision(db: Session, referrals: dict[str, int]) -> list[Thing]:
    """Police release their incident and health hold theirs on the decided referral; police and
    education hold theirs on the referral in research; health holds a note on the referral
    education is not working."""
    decided, researching = referrals["decided"], referrals["in-research"]
    released = add_contribution(db, POLICE, decided, source_item_id=_item_id(db, RELEASED_POLICE))
    set_release(
        db,
        POLICE,
        released.id,
        ReleaseState.RELEASED,
        "Needed for the strategy discussion",
        "Children Act 1989 s47 (significant harm)",
    )
    held = add_contribution(db, HEALTH, decided, source_item_id=_item_id(db, HELD_HEALTH))
    record_decision(
        db,
        MANAGER,
        decided,
        Outcome.STRATEGY_DISCUSSION,
        "Threshold met for a strategy discussion",
        interventions=[("police", "Joint visit with social care")],
        research_open_confirmed=True,
    )
    police_held = add_contribution(
        db, POLICE, researching, source_item_id=_item_id(db, HELD_POLICE)
    )
    title, content = EDUCATION_NOTE
    school = add_contribution(db, EDUCATION, researching, title=title, content=content)
    title, content = HEALTH_NOTE
    note = add_contribution(
        db, HEALTH, referrals["police-and-health-only"], title=title, content=content
    )
    made = [
        ("released-police", released, "decided"),
        ("held-health", held, "decided"),
        ("held-police", police_held, "in-research"),
        ("held-education", school, "in-research"),
        ("held-health-note", note, "police-and-health-only"),
    ]
    return [
        Thing(label, row.id, referral, row.agency_code, row.release_state)
        for label, row, referral in made
    ]


def _disclosures(
    db: Session, node: WebNode, subjects: dict[str, int], referrals: dict[str, int]
) -> tuple[dict[str, int], list[Thing], Thing]:
    """Lambeth's requests to this hub (one matched to Kezia, with a police and a health item
    to decide; one new), and this hub's request to Lambeth on the decided referral."""
    body = disclosure_pb2.RequestBody(
        referral_reference="LAM-2026-00001",
        pathway="child",
        reason=PROBE,
        lawful_basis="Children Act 1989 s47 (significant harm)",
        person=disclosure_pb2.Person(
            forenames=KEZIA["forenames"],
            surname=KEZIA["surname"],
            date_of_birth=KEZIA["date_of_birth"],
            postcode="N16 8QT",
        ),
        asked_by="lambeth.manager",
        contact_route="Lambeth MASH",
    )
    sealed = seal_to(node.keys.box_public_key, body.SerializeToString())
    deadline = utcnow() + dt.timedelta(hours=4)
    requests = {}
    for label, matched in (("matched", True), ("new", None)):
        row = IncomingDisclosure(
            asker="lambeth",
            asker_name="Lambeth",
            idempotency_key=f"access-matrix-{label}",
            payload_digest=bytes(32),
            state=IncomingState.IN_REVIEW if matched else IncomingState.RECEIVED,
            urgency=Rag.RED,
            referral_reference="LAM-2026-00001",
            purpose=PROBE,
            user_pseudonym="p",
            sealed_body=sealed,
            deadline_at=deadline,
            subject_id=subjects["kezia"] if matched else None,
            matched=matched,
            matched_by="manager" if matched else None,
        )
        db.add(row)
        db.flush()
        requests[label] = row.id
    items = []
    for agency, ref in REQUEST_ITEMS.items():
        text = ITEM[ref]
        row = DisclosureItem(
            disclosure_id=requests["matched"],
            agency_code=agency,
            source_item_id=_item_id(db, ref),
            title=f"{text.category}: {text.summary}",
            content=text.detail,
            reference=ref,
        )
        db.add(row)
        db.flush()
        items.append(Thing(f"{agency}-item", row.id, "matched", agency))
    person = db.scalars(
        select(ReferralPerson.id).where(
            ReferralPerson.referral_id == referrals["decided"], ReferralPerson.is_subject
        )
    ).one()
    outgoing = OutgoingDisclosure(
        idempotency_key="access-matrix-outgoing",
        referral_id=referrals["decided"],
        referral_person_id=person,
        holder="lambeth",
        holder_name="Lambeth",
        state=OutgoingState.ACKNOWLEDGED,
        urgency=Rag.RED,
        reason=PROBE,
        lawful_basis="Children Act 1989 s47 (significant harm)",
        sealed_body=b"sealed",
        requested_by="manager",
        deadline_at=deadline,
    )
    db.add(outgoing)
    db.flush()
    return requests, items, Thing("outgoing", outgoing.id, id_of_referral=referrals["decided"])


# --- the routes -------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Route:
    endpoint: str
    rule: str
    methods: tuple[str, ...]
    arguments: tuple[str, ...]


def routes_of(app: Flask) -> list[Route]:
    return sorted(
        Route(
            rule.endpoint,
            rule.rule,
            tuple(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})),
            tuple(sorted(rule.arguments)),
        )
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
    )


def _routes() -> list[Route]:
    """Every route the blueprints register (on a bare app, so that the matrix is generated from
    the URL map when the tests are collected; a test checks the real app has the same)."""
    probe = Flask("access-matrix-probe")
    register_blueprints(probe)
    return routes_of(probe)


ROUTES = _routes()


@dataclass(frozen=True)
class Case:
    route: Route
    method: str
    visitor: Visitor
    things: Mapping[str, Thing]  # kind -> object

    @property
    def endpoint(self) -> str:
        return self.route.endpoint

    def __str__(self) -> str:
        named = ", ".join(f"{kind}={thing.label}" for kind, thing in self.things.items())
        where = f" [{named}]" if named else ""
        return f"{self.method} {self.route.rule} as {self.visitor.key}{where}"


def cases(hub: Hub, route: Route) -> Iterator[Case]:
    """Every visitor × every method × every combination of objects the route can name."""
    kinds = [ARGUMENT_KINDS.get(name, name) for name in route.arguments]
    kinds += list(FORM_OBJECTS.get(route.endpoint, ()))
    choices = [hub.objects.get(kind, [Thing("probe", 1)]) for kind in kinds]
    for visitor, method in product(VISITORS, route.methods):
        for combination in product(*choices):
            yield Case(route, method, visitor, dict(zip(kinds, combination, strict=True)))


def path_of(hub: Hub, case: Case) -> str:
    values = {name: case.things[ARGUMENT_KINDS.get(name, name)].id for name in case.route.arguments}
    adapter = hub.app.url_map.bind("localhost")
    return str(adapter.build(case.endpoint, values, method=case.method))


# --- what each visitor should get -------------------------------------------------------------


class Kind(enum.Enum):
    SERVED = "served"  # the page, or the form back with its errors, or a redirect onwards
    REDIRECTED = "redirected"  # to sign in, to the second factor, or (signed in) to the start
    REFUSED = "refused"  # 403, audited
    NOT_FOUND = "not found"  # the object named does not exist
    NO_EFFECT = "no effect"  # the URL names objects that do not belong together
    UNRULED = "unruled"  # the route has no row in the policy table yet


@dataclass(frozen=True)
class Expected:
    kind: Kind
    statuses: frozenset[int]
    location: str | None = None  # the path a redirect must lead to


def in_room(visitor: Visitor, referral: Thing) -> bool:
    if referral.label == MISSING:
        return False
    return visitor.key == "manager" or (
        visitor.agency is not None and visitor.agency in ROOMS[referral.label]
    )


def expected(case: Case) -> Expected:
    """The design's answer for this request (never the code's)."""
    access = POLICY.get(case.endpoint)
    visitor = case.visitor
    if access is None:  # a new route: only the rules for every refusal can be checked
        return Expected(Kind.UNRULED, frozenset(range(200, 600)))
    if access.opens == ANYONE:
        return served(case)
    if visitor.username is None:
        return Expected(Kind.REDIRECTED, frozenset({302}), "/sign-in")
    if not visitor.second_factor_done:
        if access.opens == HALF_SIGNED_IN:
            return served(case)
        return Expected(Kind.REDIRECTED, frozenset({302}), "/sign-in/two-factor")
    if access.opens == HALF_SIGNED_IN:
        return Expected(Kind.REDIRECTED, frozenset({302}), "/")
    if access.opens != SIGNED_IN and visitor.key not in access.opens:
        return Expected(Kind.REFUSED, frozenset({403}))
    if access.reach is Reach.ANY:
        return served(case)
    if access.reach in (Reach.REQUEST, Reach.OWN_REQUEST_ITEM):
        return _on_request(case, access.reach)
    referral = case.things["referral"]
    if access.reach is Reach.OWN_CONTRIBUTION:
        contribution = case.things["contribution"]
        if contribution.referral != referral.label:  # a URL naming two unrelated objects
            if referral.label == MISSING:
                return Expected(Kind.NO_EFFECT, frozenset({403, 404}))
            if not in_room(visitor, referral):
                return Expected(Kind.REFUSED, frozenset({403}))
            return Expected(Kind.NO_EFFECT, frozenset({200, 403, 404}))
    if referral.label == MISSING:
        return Expected(Kind.NOT_FOUND, frozenset({404}))
    if not in_room(visitor, referral):
        return Expected(Kind.REFUSED, frozenset({403}))
    if access.reach is Reach.OWN_ITEM and case.things["item"].agency != visitor.agency:
        return Expected(Kind.REFUSED, frozenset({403}))
    owner = case.things["contribution"].agency if "contribution" in case.things else None
    if access.reach is Reach.OWN_CONTRIBUTION and owner != visitor.agency:
        return Expected(Kind.REFUSED, frozenset({403}))
    return served(case)


def _on_request(case: Case, reach: Reach) -> Expected:
    """Another borough's request: the manager and the agencies with items on it may open it;
    an item on it is decided by its own agency's professional only."""
    visitor, request_ = case.visitor, case.things["request"]
    if request_.label == MISSING:
        return Expected(Kind.NOT_FOUND, frozenset({404}))
    if reach is Reach.OWN_REQUEST_ITEM:
        item = case.things["request_item"]
        if item.referral != request_.label:  # a URL naming an item of another request
            return Expected(Kind.NO_EFFECT, frozenset({404}))
        if item.agency != visitor.agency:
            return Expected(Kind.REFUSED, frozenset({403}))
        return served(case)
    if visitor.key != "manager" and visitor.agency not in REQUEST_AGENCIES[request_.label]:
        return Expected(Kind.REFUSED, frozenset({403}))
    return served(case)


def served(case: Case) -> Expected:
    """What a visitor who may make this request gets back."""
    endpoint, visitor = case.endpoint, case.visitor
    referral = case.things.get("referral")
    if endpoint == "auth.sign_in" and visitor.signed_in:
        return Expected(Kind.SERVED, frozenset({302}), "/")
    if endpoint == "auth.set_up_two_factor":  # the half-signed-in user already has a second factor
        return Expected(Kind.SERVED, frozenset({302}), "/sign-in/two-factor")
    if endpoint == "auth.sign_out":
        return Expected(Kind.SERVED, frozenset({302}), "/sign-in")
    if endpoint.startswith("product.") and referral is not None and referral.label != "decided":
        return Expected(Kind.SERVED, frozenset({302}), f"/referrals/{referral.id}")
    subject = case.things.get("subject")
    if case.method == "POST" and subject is not None and subject.label == MISSING:
        return Expected(Kind.NOT_FOUND, frozenset({404}))  # viewing a subject that is not there
    if endpoint in ("referrals.check_boroughs", "disclosures.ask"):  # no [federation] here
        return Expected(Kind.NOT_FOUND, frozenset({404}))
    if endpoint == "disclosures.withdraw":  # the reason missing said on the referral's page
        disclosure = case.things["disclosure"]
        if disclosure.label == MISSING:
            return Expected(Kind.NOT_FOUND, frozenset({404}))
        return Expected(Kind.SERVED, frozenset({302}), f"/referrals/{disclosure.id_of_referral}")
    flag = case.things.get("flag")
    if flag is not None and flag.label == MISSING:
        return Expected(Kind.NOT_FOUND, frozenset({404}))
    if endpoint == "admin.lift_delays":  # done, or what is missing said, on the admin page
        return Expected(Kind.SERVED, frozenset({302}), "/admin")
    if endpoint == "research.complete":  # done now, or already done by an earlier request
        return Expected(Kind.SERVED, frozenset({200, 302}))
    return Expected(Kind.SERVED, frozenset({200}))


# --- what is sent -----------------------------------------------------------------------------

READ_ONLY = frozenset({"search.index", "search.subject", "referrals.new", "audit.verify"})
PROBE = "Access matrix probe"


def form_data(hub: Hub, case: Case, *, harmful: bool) -> dict[str, str | list[str]]:
    """The form a browser would send: with everything needed to change something (`harmful`,
    for requests that must have no effect), or only the CSRF token (for requests that are
    allowed, so that the fixture stays as it is), or a read-only request in full."""
    if case.method != "POST":
        return {}
    fields = _plausible(case, harmful=harmful)
    prefixes = {name.rsplit("-", 1)[0] for name in fields if "-" in name}
    tokens: dict[str, str | list[str]] = {"csrf_token": hub.csrf_token}
    tokens.update({f"{prefix}-csrf_token": hub.csrf_token for prefix in prefixes})
    if harmful or case.endpoint in READ_ONLY:
        return {**fields, **tokens}
    return tokens


def _plausible(case: Case, *, harmful: bool) -> dict[str, str | list[str]]:
    """What a page would send (a change also names the version it was made from: any version
    here, since access is decided before the version is compared)."""
    fields = _plausible_fields(case, harmful=harmful)
    versioned = {
        "referrals.rate": "rating-",
        "referrals.lawful_basis": "basis-",
        "referrals.withdraw": "withdraw-",
        "referrals.decide": "decision-",
        "research.complete": "",
        "cumulative_harm.dismiss": "",
    }
    if case.endpoint in versioned:
        fields[f"{versioned[case.endpoint]}version"] = "1"
    elif case.endpoint == "research.release":
        fields[f"item-{case.things['contribution'].id}-version"] = "1"
    return fields


def _plausible_fields(case: Case, *, harmful: bool) -> dict[str, str | list[str]]:
    things = case.things
    match case.endpoint:
        case "search.index":
            return {"surname": "Thornbury", "purpose": PROBE}
        case "search.subject":
            return {"purpose": PROBE}
        case "subjects.decide":
            prefix = f"candidate-{things['candidate'].id}"
            return {f"{prefix}-decision": "confirm", f"{prefix}-reason": PROBE}
        case "subjects.undo":
            return {f"merge-{things['merge'].id}-reason": PROBE}
        case "referrals.new":
            return {
                "pathway": "child",
                "source_kind": "public",
                "categories": "neglect",
                "account": PROBE,
                "people-0-forenames": "Kezia",
                "people-0-surname": "Thornbury",
                "people-0-date_of_birth": ["9", "3", "2015"],
                "people-0-match": "new",
                "action": "record" if harmful else "find",
            }
        case "referrals.rate":
            return {"rating-rag": "green", "rating-reason": PROBE}
        case "referrals.lawful_basis":
            return {"basis-kind": "consent"}
        case "referrals.withdraw":
            return {"withdraw-reason": PROBE}
        case "referrals.decide":
            return {"decision-outcome": "no-further-action", "decision-rationale": PROBE}
        case "research.add_item":
            return {"item_id": str(things["item"].id)}
        case "research.write":
            return {"title": PROBE, "content": PROBE}
        case "admin.lift_delays":
            return {"username": "manager"}
        case "cumulative_harm.dismiss":
            return {"reason": PROBE}
        case "research.release":
            contribution = things["contribution"]
            prefix = f"item-{contribution.id}"
            state = "held" if contribution.state is ReleaseState.SIGNPOSTED else "signposted"
            return {f"{prefix}-state": state, f"{prefix}-reason": PROBE}
        case _:
            return {}


# --- asking and checking ----------------------------------------------------------------------


def browser(hub: Hub, visitor: Visitor) -> FlaskClient:
    """A fresh browser (nothing carried over from another request, not even a flashed message)
    with the visitor's session and the CSRF secret its forms are signed with."""
    client = hub.app.test_client()
    token = hub.session_token(visitor)
    with client.session_transaction() as cookie:
        cookie["csrf_token"] = hub.csrf_secret
        if token is not None:
            cookie[sessions.TOKEN_KEY] = token
    return client


AUDIT_AND_SESSIONS = frozenset(
    {"audit_entries", "audit_head", "audit_checkpoints", "web_sessions", "sign_in_attempts"}
)
TABLES = tuple(
    table.name for table in Base.metadata.sorted_tables if table.name not in AUDIT_AND_SESSIONS
)


def snapshot(hub: Hub) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the audit log's and the sessions'."""
    with hub.node.sessions() as db:
        connection = db.connection()
        return {
            name: [tuple(row) for row in connection.exec_driver_sql(f"SELECT * FROM {name}")]
            for name in TABLES
        }


def audit_size(hub: Hub) -> int:
    with hub.node.sessions() as db:
        return db.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0))) or 0


def denials_since(hub: Hub, seq: int) -> list[AuditEntry]:
    with hub.node.sessions() as db:
        return list(
            db.scalars(
                select(AuditEntry).where(AuditEntry.seq > seq, AuditEntry.action == "access.denied")
            )
        )


def readable(response: TestResponse, folder: Path) -> str:
    """What the visitor can read in the response: the page's text, or the PDF's."""
    if response.mimetype == "application/pdf":
        path = folder / "response.pdf"
        path.write_bytes(response.data)
        done = subprocess.run(
            ["/usr/bin/pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        )
        text = done.stdout
    elif response.mimetype.startswith("text/"):
        text = html.unescape(response.get_data(as_text=True))
    else:
        text = response.get_data().decode("utf-8", errors="replace")
    return " ".join(text.split())


def visible(secret: Secret, case: Case) -> bool:
    """Whether the firewall lets this visitor see this content on this page."""
    referral = case.things.get("referral")
    on_page_of = referral.label if referral is not None else None
    if case.endpoint.startswith("product."):
        return secret.released and secret.referral == on_page_of
    if secret.agency is not None and secret.agency == case.visitor.agency:
        return True
    return secret.referral is not None and secret.referral == on_page_of


def must_show(case: Case) -> list[str]:
    """Content an allowed page must show (so that the absence of the rest means something)."""
    referral = case.things.get("referral")
    label = referral.label if referral is not None else None
    agency = case.visitor.agency
    if label in CONTACTS and case.endpoint.startswith("referrals."):  # the page, or its forms
        return [CONTACTS[label].account]
    if label in CONTACTS and case.endpoint.startswith("research."):
        return [CONTACTS[label].household]
    if case.endpoint.startswith("product.") and label == "decided":
        return [ITEM[RELEASED_POLICE].summary, CONTACTS["decided"].household]
    request_ = case.things.get("request")
    on_matched = request_ is not None and request_.label == "matched"
    if case.endpoint == "disclosures.incoming" and on_matched and agency in own_items():
        return [own_items()[agency]]  # the professional sees their own item to decide it
    own = {"police": ITEM["CAD-7002"].summary, "health": ITEM["GP-8003"].summary}
    if case.endpoint == "search.index" and case.method == "POST" and agency in own:
        return [own[agency]]
    subject = case.things.get("subject")
    on_kezia = subject is not None and subject.label in ("kezia", "merged-away")
    if case.endpoint == "search.subject" and case.method == "POST" and agency in own and on_kezia:
        return [own[agency]]
    return []


def own_items() -> dict[str, str]:
    """Each agency's item on the matched request, as its professional must see it."""
    return {agency: ITEM[ref].summary for agency, ref in REQUEST_ITEMS.items()}


def unreachable_links(hub: Hub, case: Case) -> list[str]:
    """Links to referrals this visitor may not open."""
    found = []
    for thing in hub.objects["referral"]:
        if thing.label != MISSING and not in_room(case.visitor, thing):
            found += [f'/referrals/{thing.id}"', f"/referrals/{thing.id}/"]
            found += [f'/research/{thing.id}"', f"/research/{thing.id}/"]
    return found


def check(hub: Hub, case: Case, folder: Path) -> list[str]:
    """Make the request; return what is wrong with the answer (nothing, if all is well)."""
    want = expected(case)
    harmful = want.kind is not Kind.SERVED
    data = form_data(hub, case, harmful=harmful)
    client = browser(hub, case.visitor)
    audited_before = audit_size(hub)
    before = snapshot(hub) if harmful and case.method == "POST" else None
    response = client.open(path_of(hub, case), method=case.method, data=data)
    if case.endpoint == "auth.sign_out":
        hub.tokens.pop(case.visitor.key, None)  # that session has ended
    status, location = response.status_code, response.headers.get("Location")
    problems: list[str] = []

    def problem(text: str) -> None:
        problems.append(f"{case}: {text}")

    if status not in want.statuses:
        problem(f"expected {want.kind.value} {sorted(want.statuses)}, got {status} ({location})")
    elif status == 302 and want.location not in (None, urlsplit(location or "").path):
        problem(f"redirected to {location}, expected {want.location}")

    denials = [
        (entry.actor, json.loads(entry.detail).get("endpoint"))
        for entry in denials_since(hub, audited_before)
    ]
    if status == 403 and denials != [(case.visitor.username, case.endpoint)]:
        problem(f"403 without exactly one access.denied audit entry for it: {denials}")
    if status != 403 and denials:
        problem(f"{status}, yet access.denied was audited: {denials}")

    text = readable(response, folder).lower() + " " + (location or "").lower()
    access = POLICY.get(case.endpoint)
    if status != 200 or access is None or case.method not in access.personal:
        leaked = [s for s in PERSONAL if s.lower() in text]
        if leaked:
            problem(f"{status} response shows personal data: {leaked}")
    else:
        hidden = [s.text for s in SECRETS if not visible(s, case) and s.text.lower() in text]
        if hidden:
            problem(f"shows what the firewall hides from {case.visitor.key}: {hidden}")
    if status == 200 and want.kind is Kind.SERVED:
        problems += [f"{case}: {text_}" for text_ in served_page_problems(hub, case, response)]
        missing = [shown for shown in must_show(case) if shown.lower() not in text]
        if missing:
            problem(f"does not show what it should: {missing}")
        empty_form = case.method == "POST" and case.endpoint not in READ_ONLY
        if empty_form and "govuk-error-summary" not in response.get_data(as_text=True):
            problem("an empty form was accepted without saying what is missing")

    turned_away = status == 403 or urlsplit(location or "").path in (
        "/sign-in",
        "/sign-in/two-factor",
    )
    if before is not None and (want.kind is not Kind.UNRULED or turned_away):
        after = snapshot(hub)
        changed = sorted(name for name in before if before[name] != after[name])
        if changed:
            problem(f"a request that must have no effect changed {changed}")
    return problems


def served_page_problems(hub: Hub, case: Case, response: TestResponse) -> list[str]:
    """A served page links to no referral the visitor may not open."""
    if response.mimetype != "text/html":
        return []
    page = response.get_data(as_text=True)
    links = [link for link in unreachable_links(hub, case) if link in page]
    return [f"links to referrals {case.visitor.key} may not open: {links}"] if links else []


# --- the tests --------------------------------------------------------------------------------


def test_the_matrix_walks_every_route_of_the_app_and_has_a_rule_for_each(hub: Hub) -> None:
    arguments = {name for route in ROUTES for name in route.arguments}

    assert routes_of(hub.app) == ROUTES
    assert len(ROUTES) >= 20
    assert sorted({route.endpoint for route in ROUTES} - set(POLICY)) == []
    assert sorted(arguments - set(ARGUMENT_KINDS)) == []


def test_the_fixture_holds_every_state_the_matrix_relies_on(hub: Hub) -> None:
    ids = hub.referral_ids
    with hub.node.sessions() as db:
        status = {label: db.get_one(Referral, id_).status for label, id_ in ids.items()}
        rooms = {
            label: frozenset(
                db.scalars(select(ResearchTask.agency_code).where(ResearchTask.referral_id == id_))
            )
            for label, id_ in ids.items()
        }
        states = {
            thing.label: db.get_one(Contribution, thing.id).release_state
            for thing in hub.objects["contribution"]
        }
        candidates = {
            thing.label: db.get_one(MatchCandidate, thing.id).status
            for thing in hub.objects["candidate"]
            if thing.label != MISSING
        }

    assert status == {
        "awaiting-triage": ReferralStatus.AWAITING_TRIAGE,
        "in-research": ReferralStatus.IN_RESEARCH,
        "decided": ReferralStatus.DECIDED,
        "adult-awaiting-basis": ReferralStatus.AWAITING_LAWFUL_BASIS,
        "police-and-health-only": ReferralStatus.IN_RESEARCH,
    }
    assert rooms == ROOMS
    assert states["released-police"] is ReleaseState.RELEASED
    assert states["held-health"] is ReleaseState.HELD
    assert candidates == {
        "open": CandidateStatus.OPEN,
        "confirmed": CandidateStatus.CONFIRMED,
        "rejected": CandidateStatus.REJECTED,
    }


@pytest.mark.parametrize(
    "route", ROUTES, ids=[f"{r.endpoint}-{'-'.join(r.methods)}" for r in ROUTES]
)
def test_access_matrix(hub: Hub, route: Route, tmp_path: Path) -> None:
    problems: list[str] = []
    count = 0
    for case in cases(hub, route):
        problems += check(hub, case, tmp_path)
        count += 1

    assert route.endpoint in POLICY, f"{route.endpoint} ({route.rule}) has no row in POLICY"
    assert count >= len(VISITORS)
    assert problems == [], f"{len(problems)} of {count} requests went wrong:\n" + "\n".join(
        problems[:40]
    )


# Signing out without the token is test_security's.
POST_ROUTES = [r for r in ROUTES if "POST" in r.methods and r.endpoint != "auth.sign_out"]


def without_token(case: Case) -> Expected:
    """A POST without the CSRF token: the permission check answers first (redirect to sign in,
    or 403 for a role the page is not for), and only then is the missing token refused (400)."""
    access = POLICY[case.endpoint]
    visitor = case.visitor
    token_refused = Expected(Kind.NO_EFFECT, frozenset({400}))
    if access.opens == ANYONE:
        return token_refused
    if access.opens == HALF_SIGNED_IN:
        half = visitor.username is not None and not visitor.second_factor_done
        return token_refused if half else expected(case)  # or sent on
    if not visitor.signed_in:
        return expected(case)  # sent to sign in
    if access.opens != SIGNED_IN and visitor.key not in access.opens:
        return Expected(Kind.REFUSED, frozenset({403}))
    return token_refused


@pytest.mark.parametrize("route", POST_ROUTES, ids=[r.endpoint for r in POST_ROUTES])
def test_a_post_without_the_csrf_token_is_refused_by_role_first_then_for_the_token(
    hub: Hub, route: Route
) -> None:
    problems: list[str] = []
    count = 0
    for case in cases(hub, route):
        if case.method != "POST":
            continue
        count += 1
        want = without_token(case)
        data = {
            name: value
            for name, value in form_data(hub, case, harmful=True).items()
            if not name.endswith("csrf_token")
        }
        audited_before = audit_size(hub)
        before = snapshot(hub)
        response = browser(hub, case.visitor).post(path_of(hub, case), data=data)
        status = response.status_code
        denials = [
            (entry.actor, json.loads(entry.detail).get("endpoint"))
            for entry in denials_since(hub, audited_before)
        ]
        if status not in want.statuses:
            problems.append(f"{case}: expected {sorted(want.statuses)}, got {status}")
        if status == 403 and denials != [(case.visitor.username, case.endpoint)]:
            problems.append(f"{case}: 403 without exactly one access.denied entry: {denials}")
        if status != 403 and denials:
            problems.append(f"{case}: {status}, yet access.denied was audited: {denials}")
        changed = sorted(name for name, rows in snapshot(hub).items() if before[name] != rows)
        if changed:
            problems.append(f"{case}: a POST without the token changed {changed}")
    assert count >= len(VISITORS)
    assert problems == [], "\n".join(problems[:40])
