"""Disclosure between real node processes on loopback (DESIGN section 7), through the services
the web pages call: Lambeth asks Hackney for what it holds on a child in a Lambeth referral;
Hackney matches the child, police releases an item and health declines one; the answer reaches
Lambeth (the released item in full, the health item as a signpost). Each node's courier (in its
`mash-node serve`) delivers. Southwark is the third node: nothing of the request reaches it, and
its forged answers are refused. Tampered, replayed, mis-sealed and wrong-borough messages are
refused with a status and audited.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from mash_common.envelope import new_header, seal
from mash_common.status import error_code_of
from node import users
from node.access import AccessDenied
from node.disclosures import DisclosureError, asking, holding, wire
from node.federation.asking import HOLDS
from node.federation.local import LocalNode
from node.federation.peers import load_peers
from node.importing.service import import_files
from node.keys import load_keys, seal_to
from node.matching.keys import KEY_SET_VERSION
from node.referrals.triage import record_lawful_basis
from node.runtime import Node
from node.store.models import (
    AuditEntry,
    DisclosureItem,
    IncomingDisclosure,
    IncomingState,
    OutgoingDisclosure,
    OutgoingState,
    Pathway,
    PeerCheck,
    Rag,
    ReleaseState,
    Role,
    User,
)
from protos.mash.federation.v1 import disclosure_pb2, disclosure_pb2_grpc
from tests.federation.nodes import (
    Served,
    local_federation,
    red_referral_checked,
    serving,
    wait_for_filters,
)
from tests.helpers import ADMIN, MANAGER, professional, write_csv
from tests.mtls import channel_to

BOROUGHS = [("hackney", "Hackney"), ("lambeth", "Lambeth"), ("southwark", "Southwark")]
AMARA = {
    "forenames": "Amara",
    "surname": "Mensah",
    "date_of_birth": "2016-05-09",
    "postcode": "E8 2LN",
    "nhs_number": "4857773456",
}
GRACE = {
    "forenames": "Grace",
    "surname": "Adjei",
    "date_of_birth": "1949-11-23",
    "postcode": "E8 4RA",
    "nhs_number": "",
}
POLICE_ITEM = "Domestic incident at the family home"
HEALTH_SECRET = "Attended A&E with a fractured wrist"
LAMBETH_POSTCODE = "SE11 5QY"  # where the child lives now: only Lambeth's referral has it
WAIT_S = 30.0


@dataclass
class World:
    nodes: dict[str, LocalNode]
    served: dict[str, Served]
    root: Path

    def node(self, borough: str) -> Node:
        return Node.open(self.nodes[borough].config_path)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("disclosure")
    nodes = {n.borough: n for n in local_federation(root / "nodes", BOROUGHS)}
    hackney = nodes["hackney"]
    _import(
        hackney,
        "police",
        [{"record_id": "P-1", **AMARA}, {"record_id": "P-2", **GRACE}],
        POLICE_ITEM,
        "CAD-88",
    )
    _import(hackney, "health", [{"record_id": "H-1", **AMARA}], HEALTH_SECRET, "AE-12")
    with serving(list(nodes.values())) as served:
        wait_for_filters(list(nodes.values()))
        yield World(nodes, served, root)


def _import(node: LocalNode, agency: str, rows: list[dict[str, str]], item: str, ref: str) -> None:
    people = write_csv(node.directory / f"{agency}-people.csv", rows)
    items = write_csv(
        node.directory / f"{agency}-items.csv",
        [
            {
                "item_ref": ref,
                "record_id": rows[0]["record_id"],
                "date": "2026-10-01",
                "category": "Incident",
                "summary": item,
                "detail": f"{item}: full account",
            }
        ],
    )
    with Node.open(node.config_path) as opened, opened.unit_of_work(ADMIN) as session:
        import_files(session, ADMIN, agency, [people, items])


def referral_about_amara(
    world: World, *, pathway: Pathway = Pathway.CHILD, person: dict[str, str] = AMARA
) -> int:
    """A Lambeth referral about Amara (or `person`), rated red, checked with the other
    boroughs."""
    with world.node("lambeth") as lambeth:
        referral_id, held = red_referral_checked(
            lambeth,
            MANAGER,
            person,
            postcode=LAMBETH_POSTCODE,
            account="New pupil from Hackney, arrives hungry.",
            pathway=pathway,
        )
        assert held["hackney"] == HOLDS, held
        return referral_id


def ask_hackney(world: World, referral_id: int) -> int:
    with world.node("lambeth") as lambeth, lambeth.unit_of_work() as session:
        person = asking.askable(session, referral_id)[0]
        holder = _peer(world, "lambeth", "hackney")
        request = asking.request_disclosure(
            session,
            MANAGER,
            lambeth.config,
            holder,
            referral_id,
            person.person_id,
            "Child new to the borough with signs of harm: history needed to judge risk today",
            "Children Act 1989 s.47",
        )
        return request.id


def _peer(world: World, of: str, borough: str):  # type: ignore[no-untyped-def]
    peers = load_peers(world.nodes[of].directory / "peers.toml")
    return next(p for p in peers if p.borough == borough)


def wait_until(what: str, condition: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout_s} s: {what}")


def outgoing(world: World, disclosure_id: int) -> OutgoingDisclosure:
    with world.node("lambeth") as lambeth, lambeth.reading() as session:
        request = session.get_one(OutgoingDisclosure, disclosure_id)
        session.expunge(request)
        return request


def incoming(world: World, key: str) -> IncomingDisclosure | None:
    with world.node("hackney") as hackney, hackney.reading() as session:
        request = session.scalar(
            select(IncomingDisclosure).where(IncomingDisclosure.idempotency_key == key)
        )
        if request is not None:
            session.expunge(request)
        return request


def hackney_answers(world: World, key: str, *, health: ReleaseState = ReleaseState.SIGNPOSTED):
    """Hackney matches the child, police releases its item, health decides, the manager sends."""
    received = incoming(world, key)
    assert received is not None
    with world.node("hackney") as hackney:
        keys = hackney.keys
        with hackney.unit_of_work() as session:
            found = holding.candidates(session, MANAGER, keys, received.id)
        assert found and {"date of birth", "surname", "first forename"} <= set(found[0].agrees)
        assert "postcode" in found[0].differs  # Lambeth knows the new address
        with hackney.unit_of_work() as session:
            view = holding.read_request(session, MANAGER, keys, received.id)
            assert view.body.person.surname == AMARA["surname"]
            holding.match(session, MANAGER, received.id, found[0].subject_id)
        with hackney.unit_of_work() as session:
            items = session.scalars(
                select(DisclosureItem).where(DisclosureItem.disclosure_id == received.id)
            ).all()
            by_agency = {item.agency_code: item.id for item in items}
        with hackney.unit_of_work() as session:
            holding.decide_item(
                session,
                professional("police"),
                by_agency["police"],
                ReleaseState.RELEASED,
                "Necessary to assess risk to the child",
                "Crime and Disorder Act 1998 s.115",
            )
            holding.decide_item(
                session, professional("health"), by_agency["health"], health, "Clinical detail"
            )
        asker_box = _peer(world, "hackney", "lambeth").box_key
        with hackney.unit_of_work() as session:
            holding.send_answer(session, MANAGER, received.id, asker_box, "Ring us on red cases")


def test_a_request_travels_is_answered_item_by_item_and_arrives_labelled(world: World) -> None:
    referral_id = referral_about_amara(world)
    disclosure_id = ask_hackney(world, referral_id)
    wait_until(
        "Hackney acknowledges the request",
        lambda: outgoing(world, disclosure_id).state is OutgoingState.ACKNOWLEDGED,
    )
    request = outgoing(world, disclosure_id)
    assert request.deadline_at is not None
    held = incoming(world, request.idempotency_key)
    assert held is not None and held.state is IncomingState.RECEIVED
    assert held.asker == "lambeth" and held.urgency is Rag.RED
    # red: four hours, around the clock; the asker has the holder's deadline (to the ms)
    assert abs(held.deadline_at - request.deadline_at) < dt.timedelta(milliseconds=1)
    assert dt.timedelta(hours=3, minutes=59) < held.deadline_at - held.received_at
    hackney_answers(world, request.idempotency_key)
    wait_until(
        "Lambeth receives the answer",
        lambda: outgoing(world, disclosure_id).state is OutgoingState.ANSWERED,
    )
    with world.node("lambeth") as lambeth, lambeth.reading() as session:
        items = asking.received_items(session, referral_id)
    released = [i for i in items if i.released]
    signposts = [i for i in items if not i.released]
    assert [(i.borough_name, i.title) for i in released] == [
        ("Hackney", f"Incident: {POLICE_ITEM}")
    ]
    assert POLICE_ITEM in released[0].content
    assert [(s.borough_name, s.reference) for s in signposts] == [("Hackney", "AE-12")]
    assert all(HEALTH_SECRET not in (s.title + s.content) for s in signposts)
    wait_until(
        "Hackney records the answer delivered",
        lambda: (incoming(world, request.idempotency_key) or held).answer_delivered_at is not None,
    )
    # each side keeps the steps, who took them and when
    with world.node("hackney") as hackney, hackney.reading() as session:
        steps = holding.request_history(session, held.id)
    assert [s.summary.split(":")[0] for s in steps][:3] == [
        "Request received from Lambeth",
        "Matched to hub subject " + steps[1].summary.split("subject ")[1].split(":")[0],
        "Police released CAD-88",
    ]
    with world.node("lambeth") as lambeth, lambeth.reading() as session:
        summaries = [s.summary for s in asking.history(session, disclosure_id)]
    assert summaries[0].startswith("Asked Hackney")
    assert summaries[-1] == "Hackney answered: 1 item(s) released, 1 signposted"


def test_nothing_of_the_request_reaches_a_third_borough(world: World) -> None:
    referral_about_amara(world)  # checks every borough, asks only Hackney
    with world.node("southwark") as southwark, southwark.reading() as session:
        assert session.scalar(select(IncomingDisclosure.id).limit(1)) is None
        actions = set(session.scalars(select(AuditEntry.action)))
    assert not {a for a in actions if a.startswith("disclosure")}


def test_a_repeated_request_is_recognised_and_never_makes_a_second(world: World) -> None:
    referral_id = referral_about_amara(world)
    disclosure_id = ask_hackney(world, referral_id)
    wait_until(
        "acknowledged",
        lambda: outgoing(world, disclosure_id).state is OutgoingState.ACKNOWLEDGED,
    )
    request = outgoing(world, disclosure_id)
    for _ in range(3):  # the courier's resend after a crash: freshly signed, same request
        ack = _send(world, "lambeth", "hackney", "Request", asking.request_payload(request))
        assert ack.repeated and ack.state == "received"
    with world.node("hackney") as hackney, hackney.reading() as session:
        same = session.scalars(
            select(IncomingDisclosure).where(
                IncomingDisclosure.idempotency_key == request.idempotency_key
            )
        ).all()
    assert len(same) == 1
    # the same key with another body is a conflict, not a second request
    other = asking.request_payload(request)
    other.urgency = "green"
    with pytest.raises(grpc.RpcError) as refused:
        _send(world, "lambeth", "hackney", "Request", other)
    assert error_code_of(refused.value) == "conflict"


def test_tampered_replayed_mis_sealed_and_wrong_borough_messages_are_refused_and_audited(
    world: World,
) -> None:
    referral_id = referral_about_amara(world)
    disclosure_id = ask_hackney(world, referral_id)
    wait_until(
        "acknowledged",
        lambda: outgoing(world, disclosure_id).state is OutgoingState.ACKNOWLEDGED,
    )
    request = outgoing(world, disclosure_id)
    refusals_before = _refusals(world, "hackney")

    signed = _signed(world, "lambeth", asking.request_payload(request))
    tampered = disclosure_pb2.SignedRequest()
    tampered.CopyFrom(signed)
    tampered.envelope.payload = signed.envelope.payload[:-1] + bytes(
        [signed.envelope.payload[-1] ^ 1]
    )
    assert _refused_with(world, "lambeth", "hackney", "Request", tampered) == "bad-signature"

    assert _call(world, "lambeth", "hackney", "Request", signed).repeated
    assert _refused_with(world, "lambeth", "hackney", "Request", signed) == "replayed"

    mis_sealed = asking.request_payload(request)
    mis_sealed.idempotency_key = "a-new-key-for-a-mis-sealed-body"
    southwark_box = _peer(world, "lambeth", "southwark").box_key
    mis_sealed.sealed_body = seal_to(southwark_box, b"not for hackney")
    assert (
        _refused_with(world, "lambeth", "hackney", "Request", _signed(world, "lambeth", mis_sealed))
        == "invalid"
    )

    # a request made with an older match-key set than Hackney accepts
    keys = load_keys(world.nodes["lambeth"].directory / "data" / "keys")
    stale = asking.request_payload(request)
    stale.header.CopyFrom(new_header("lambeth", key_set_version=KEY_SET_VERSION - 1))
    stale_signed = disclosure_pb2.SignedRequest(
        envelope=seal(stale.SerializeToString(), wire.REQUEST, keys, "lambeth", keys.signing_key_id)
    )
    assert _refused_with(world, "lambeth", "hackney", "Request", stale_signed) == "key-set-version"

    # Lambeth's envelope sent over Southwark's connection
    assert _refused_with(world, "southwark", "hackney", "Request", signed) == "wrong-borough"

    # an answer to Lambeth's request from Southwark, which was never asked
    forged = disclosure_pb2.AnswerPayload(
        idempotency_key=request.idempotency_key,
        outcome="answered",
        sealed_body=seal_to(_peer(world, "southwark", "lambeth").box_key, b""),
    )
    assert (
        _refused_with(world, "southwark", "lambeth", "Answer", _signed(world, "southwark", forged))
        == "not-found"
    )
    # and an answer from Hackney sealed to another key than Lambeth's
    mis_sealed_answer = disclosure_pb2.AnswerPayload(
        idempotency_key=request.idempotency_key,
        outcome="answered",
        sealed_body=seal_to(southwark_box, b""),
    )
    assert (
        _refused_with(
            world, "hackney", "lambeth", "Answer", _signed(world, "hackney", mis_sealed_answer)
        )
        == "invalid"
    )
    assert outgoing(world, disclosure_id).state is OutgoingState.ACKNOWLEDGED

    assert _refusals(world, "hackney") == refusals_before + 5
    assert _refusals(world, "lambeth") >= 2


def test_a_request_the_holder_never_checked_is_refused_for_good(world: World) -> None:
    referral_id = referral_about_amara(world)
    with world.node("hackney") as hackney, hackney.unit_of_work() as session:
        for row in session.scalars(select(PeerCheck)):  # as if Lambeth had never checked here
            session.delete(row)
    disclosure_id = ask_hackney(world, referral_id)
    wait_until(
        "the request ends refused",
        lambda: outgoing(world, disclosure_id).state is OutgoingState.REFUSED,
    )
    request = outgoing(world, disclosure_id)
    assert "has not checked this borough" in request.last_error
    assert incoming(world, request.idempotency_key) is None


def test_an_adult_request_needs_the_lawful_basis_recorded_and_the_holder_sees_it(
    world: World,
) -> None:
    referral_id = referral_about_amara(world, pathway=Pathway.ADULT, person=GRACE)
    with world.node("lambeth") as lambeth, lambeth.unit_of_work() as session:
        person = asking.askable(session, referral_id)[0]
        with pytest.raises(DisclosureError) as refused:
            asking.request_disclosure(
                session,
                MANAGER,
                lambeth.config,
                _peer(world, "lambeth", "hackney"),
                referral_id,
                person.person_id,
                "Needed",
                "Care Act 2014 s.42",
            )
    assert refused.value.field == "adult_basis"
    with world.node("lambeth") as lambeth, lambeth.unit_of_work() as session:
        record_lawful_basis(
            session, MANAGER, referral_id, "consent", "UK GDPR Art. 6(1)(a)", "Grace agreed"
        )
    disclosure_id = ask_hackney(world, referral_id)
    wait_until(
        "acknowledged",
        lambda: outgoing(world, disclosure_id).state is OutgoingState.ACKNOWLEDGED,
    )
    held = incoming(world, outgoing(world, disclosure_id).idempotency_key)
    assert held is not None
    with world.node("hackney") as hackney, hackney.unit_of_work() as session:
        view = holding.read_request(session, MANAGER, hackney.keys, held.id)
    assert view.body.pathway == "adult"
    assert view.body.adult_basis.startswith("Consent, recorded ")
    assert view.body.adult_basis.endswith(": Grace agreed")


def test_a_professional_cannot_ask_another_borough(world: World) -> None:
    referral_id = referral_about_amara(world)
    with world.node("lambeth") as lambeth, lambeth.unit_of_work() as session:
        person = asking.askable(session, referral_id)[0]
        with pytest.raises(AccessDenied):
            asking.request_disclosure(
                session,
                professional("police"),
                lambeth.config,
                _peer(world, "lambeth", "hackney"),
                referral_id,
                person.person_id,
                "Needed",
                "Children Act 1989 s.47",
            )


# --- helpers: messages sent by hand, as a peer's node would ------------------------------------


Payload = disclosure_pb2.RequestPayload | disclosure_pb2.RequestRef | disclosure_pb2.AnswerPayload


def _signed(world: World, signer: str, payload: Payload) -> disclosure_pb2.SignedRequest:
    keys = load_keys(world.nodes[signer].directory / "data" / "keys")
    return wire.signed(
        keys,
        signer,
        payload,
        referral_reference="LAM-TEST",
        purpose="a test",
        user_pseudonym=keys.pseudonym("manager"),
    )


def _call(
    world: World, via: str, receiver: str, method: str, signed: disclosure_pb2.SignedRequest
) -> disclosure_pb2.Acknowledgement:
    """Send `signed` over `via`'s mTLS connection to `receiver`'s Disclosure service."""
    port = world.nodes[receiver].federation_port
    with channel_to(port, receiver, world.served[via].identity) as channel:
        stub = disclosure_pb2_grpc.DisclosureStub(channel)
        ack: disclosure_pb2.Acknowledgement = getattr(stub, method)(signed, timeout=10)
        return ack


def _send(
    world: World, sender: str, receiver: str, method: str, payload: Payload
) -> disclosure_pb2.Acknowledgement:
    return _call(world, sender, receiver, method, _signed(world, sender, payload))


def _refused_with(
    world: World, via: str, receiver: str, method: str, signed: disclosure_pb2.SignedRequest
) -> str:
    with pytest.raises(grpc.RpcError) as refused:
        _call(world, via, receiver, method, signed)
    return error_code_of(refused.value) or refused.value.code().name


def _refusals(world: World, borough: str) -> int:
    with world.node(borough) as node, node.reading() as session:
        return len(
            session.scalars(
                select(AuditEntry.seq).where(AuditEntry.action == "disclosure.refused")
            ).all()
        )


def test_administrators_and_auditors_see_states_and_timings_only(world: World) -> None:
    referral_id = referral_about_amara(world)
    disclosure_id = ask_hackney(world, referral_id)
    wait_until(
        "acknowledged",
        lambda: outgoing(world, disclosure_id).state is OutgoingState.ACKNOWLEDGED,
    )
    key = outgoing(world, disclosure_id).idempotency_key
    hackney_answers(world, key)
    wait_until("answered", lambda: outgoing(world, disclosure_id).state is OutgoingState.ANSWERED)
    held = incoming(world, key)
    assert held is not None
    password = "Register-reader-pass-42"
    for borough in ("hackney", "lambeth"):
        with world.node(borough) as node, node.unit_of_work() as session:
            if session.scalar(select(User.id).where(User.username == "auditor")) is None:
                users.add_user(
                    session,
                    ADMIN,
                    username="auditor",
                    display_name="Ada Auditor",
                    role=Role.AUDITOR,
                    password=password,
                )

    def mash(borough: str, *args: str, user: str = "auditor") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "node.cli",
                "--config",
                str(world.nodes[borough].config_path),
                *args,
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "MASH_USER": user, "MASH_PASSWORD": password},
            check=False,
        )

    listed = mash("hackney", "disclosures", "list", "--incoming")
    shown = mash("hackney", "disclosures", "show", f"in-{held.id}")
    theirs = mash("lambeth", "disclosures", "show", f"out-{disclosure_id}")
    assert listed.returncode == 0, listed.stderr
    assert f"in-{held.id}" in listed.stdout and "Lambeth" in listed.stdout
    assert "out-" not in listed.stdout  # --incoming only
    assert shown.returncode == 0, shown.stderr
    steps = shown.stdout.split("Steps:")[1]
    for step in ("received", "matched", "item-decided", "answered", "answer-delivered"):
        assert step in steps
    assert "state:     answered" in shown.stdout
    assert theirs.returncode == 0 and "state:     answered" in theirs.stdout
    for output in (listed.stdout, shown.stdout, theirs.stdout):
        for content in (AMARA["surname"], POLICE_ITEM, HEALTH_SECRET, "Child new to the borough"):
            assert content not in output
    refused = mash("hackney", "disclosures", "show", "in-999999")
    assert refused.returncode == 1 and "no such request" in refused.stderr
    malformed = mash("hackney", "disclosures", "show", "7")
    assert malformed.returncode == 1 and "in-N" in malformed.stderr


def test_the_holder_keeps_the_request_sealed_and_logs_nothing_of_it(world: World) -> None:
    """Lambeth's new address for the child is in its request only: at Hackney it is nowhere but
    inside the sealed body (nor in either node's log), even after the match and the answer."""
    referral_id = referral_about_amara(world)
    disclosure_id = ask_hackney(world, referral_id)
    wait_until(
        "acknowledged",
        lambda: outgoing(world, disclosure_id).state is OutgoingState.ACKNOWLEDGED,
    )
    hackney_answers(world, outgoing(world, disclosure_id).idempotency_key)
    wait_until("answered", lambda: outgoing(world, disclosure_id).state is OutgoingState.ANSWERED)

    def dump(borough: str) -> str:
        store = world.nodes[borough].directory / "data" / "node.db"
        connection = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        try:
            return "\n".join(connection.iterdump())
        finally:
            connection.close()

    dumped = dump("hackney")
    assert "incoming_disclosures" in dumped
    assert LAMBETH_POSTCODE in dump("lambeth")  # the search would find it, were it there
    for text in (LAMBETH_POSTCODE, LAMBETH_POSTCODE.replace(" ", "")):
        assert text not in dumped
        for served in world.served.values():
            assert text not in served.log.read_text(encoding="utf-8")
