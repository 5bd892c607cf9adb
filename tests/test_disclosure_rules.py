"""The holding hub's rules for another borough's disclosure requests, on the store (SQLite and
PostgreSQL): a request follows a check of its referral; each borough has a daily allowance; a
repeat is recognised by its idempotency key and the same body, never taken twice; the deadline
follows the urgency as the hub's clocks run; an unanswered request expires a week after it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from nacl.public import PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.access import Actor
from node.config import NodeConfig, load_config, render_config
from node.disclosures import DisclosureError, holding, revocation, wire
from node.errors import ErrorCode
from node.keys import NodeKeys, ensure_keys, load_keys, seal_to
from node.store.models import (
    AuditEntry,
    DisclosureItem,
    IncomingDisclosure,
    IncomingState,
    PeerCheck,
    ReleaseState,
    Role,
    utcnow,
)
from protos.mash.federation.v1 import disclosure_pb2
from tests.helpers import MANAGER, make_hub

LAMBETH = Actor.peer("lambeth", "user-1")


@pytest.fixture
def config(tmp_path: Path) -> NodeConfig:
    path = tmp_path / "node.toml"
    path.write_text(
        render_config("hackney", "Hackney", ["police", "health"])
        + "\n[federation]\ndisclosures_per_peer_per_day = 3\n",
        encoding="utf-8",
    )
    return load_config(path)


@pytest.fixture
def keys(tmp_path: Path) -> NodeKeys:
    ensure_keys(tmp_path / "keys")
    return load_keys(tmp_path / "keys")


def _payload(
    keys: NodeKeys, key: str, *, urgency: str = "red", reference: str = "LAM-2026-00001"
) -> disclosure_pb2.RequestPayload:
    body = disclosure_pb2.RequestBody(referral_reference=reference, pathway="child")
    payload = disclosure_pb2.RequestPayload(
        idempotency_key=key,
        urgency=urgency,
        sealed_body=seal_to(keys.box_public_key, body.SerializeToString()),
    )
    payload.header.referral_reference = reference
    payload.header.purpose = "MASH referral"
    payload.header.user_pseudonym = "user-1"
    return payload


def _checked(session: Session, reference: str = "LAM-2026-00001") -> None:
    session.add(PeerCheck(borough="lambeth", referral_reference=reference, last_at=utcnow()))
    session.flush()


def _receive(
    session: Session, config: NodeConfig, keys: NodeKeys, payload: disclosure_pb2.RequestPayload
) -> holding.Received:
    return holding.receive_request(session, config, keys, LAMBETH, "Lambeth", payload)


def test_a_request_without_a_check_of_its_referral_is_refused(
    session: Session, config: NodeConfig, keys: NodeKeys
) -> None:
    make_hub(session)
    with pytest.raises(DisclosureError) as refused:
        _receive(session, config, keys, _payload(keys, "key-00000001"))
    assert refused.value.code is ErrorCode.FORBIDDEN
    assert "has not checked this borough" in refused.value.message
    stale = utcnow() - wire.CHECKED_WITHIN - dt.timedelta(minutes=1)
    session.add(PeerCheck(borough="lambeth", referral_reference="LAM-2026-00001", last_at=stale))
    session.flush()
    with pytest.raises(DisclosureError):  # a check of long ago is not enough
        _receive(session, config, keys, _payload(keys, "key-00000001"))


def test_each_borough_has_a_daily_allowance(
    session: Session, config: NodeConfig, keys: NodeKeys
) -> None:
    make_hub(session)
    _checked(session)
    taken = [_payload(keys, f"key-{n:08d}") for n in range(3)]
    for payload in taken:
        _receive(session, config, keys, payload)
    with pytest.raises(DisclosureError) as refused:
        _receive(session, config, keys, _payload(keys, "key-00000009"))
    assert refused.value.code is ErrorCode.LIMITED
    assert "3 disclosure requests today" in refused.value.message
    # a repeat of one already taken is still recognised: it is not a new request
    assert _receive(session, config, keys, taken[1]).repeated


def test_a_repeat_is_recognised_and_another_body_under_its_key_refused(
    session: Session, config: NodeConfig, keys: NodeKeys
) -> None:
    make_hub(session)
    _checked(session)
    payload = _payload(keys, "key-00000042")
    first = _receive(session, config, keys, payload)
    again = _receive(session, config, keys, payload)
    changed = disclosure_pb2.RequestPayload()
    changed.CopyFrom(payload)
    changed.urgency = "green"
    with pytest.raises(DisclosureError) as refused:
        _receive(session, config, keys, changed)

    assert (first.repeated, again.repeated) == (False, True)
    assert again.deadline == first.deadline
    assert refused.value.code is ErrorCode.CONFLICT
    count = select(func.count()).select_from(IncomingDisclosure)
    assert session.scalar(count) == 1


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("urgency", "purple", "urgency"),
        ("idempotency_key", "short", "idempotency_key"),
        ("sealed_body", b"", "sealed_body"),
    ],
)
def test_a_malformed_request_names_its_field(
    session: Session, config: NodeConfig, keys: NodeKeys, field: str, value: object, expected: str
) -> None:
    make_hub(session)
    _checked(session)
    payload = _payload(keys, "key-00000007")
    setattr(payload, field, value)
    with pytest.raises(DisclosureError) as refused:
        _receive(session, config, keys, payload)
    assert refused.value.field == expected


def test_a_body_sealed_to_another_key_is_refused(
    session: Session, config: NodeConfig, keys: NodeKeys
) -> None:
    make_hub(session)
    _checked(session)
    payload = _payload(keys, "key-00000008")
    payload.sealed_body = seal_to(bytes(PrivateKey.generate().public_key), b"for someone else")
    with pytest.raises(DisclosureError) as refused:
        _receive(session, config, keys, payload)
    assert refused.value.field == "sealed_body"


def test_the_deadline_follows_the_urgency_and_an_unanswered_request_expires(
    session: Session, config: NodeConfig, keys: NodeKeys
) -> None:
    make_hub(session)
    _checked(session)
    red = _receive(session, config, keys, _payload(keys, "key-red00001"))
    green = _receive(session, config, keys, _payload(keys, "key-green001", urgency="green"))
    assert red.deadline - utcnow() <= dt.timedelta(hours=4)
    assert green.deadline - red.deadline > dt.timedelta(hours=20)  # 72 working hours

    assert holding.expire_overdue(session, red.deadline + wire.EXPIRES_AFTER) == 1
    states = dict(
        session.execute(select(IncomingDisclosure.idempotency_key, IncomingDisclosure.state)).all()
    )
    assert states == {"key-red00001": IncomingState.EXPIRED, "key-green001": IncomingState.RECEIVED}
    expired = select(func.count()).where(AuditEntry.action == "disclosure.expired")
    assert session.scalar(expired) == 1
    assert holding.expire_overdue(session, red.deadline + wire.EXPIRES_AFTER) == 0  # once


def test_the_deadline_hours_are_configurable(
    session: Session, config: NodeConfig, keys: NodeKeys
) -> None:
    make_hub(session)
    _checked(session)
    assert config.federation is not None
    shorter = dataclasses.replace(
        config, federation=dataclasses.replace(config.federation, disclosure_red_hours=1)
    )
    received = holding.receive_request(
        session, shorter, keys, LAMBETH, "Lambeth", _payload(keys, "key-short001")
    )
    assert received.deadline - utcnow() <= dt.timedelta(hours=1)


def test_the_same_decision_again_writes_nothing_and_the_history_names_no_content(
    session: Session, config: NodeConfig, keys: NodeKeys
) -> None:
    make_hub(session)
    _checked(session)
    received = _receive(session, config, keys, _payload(keys, "key-items001"))
    request = session.scalars(select(IncomingDisclosure)).one()
    session.add(
        DisclosureItem(
            disclosure_id=request.id,
            agency_code="police",
            title="Incident: a secret only police may read",
            content="The full account",
            reference="",
        )
    )
    session.flush()
    item = session.scalars(select(DisclosureItem)).one()
    police = Actor("police.pro", Role.AGENCY_PROFESSIONAL, "police")

    decided = holding.decide_item(
        session, police, item.id, ReleaseState.RELEASED, "Needed", "Children Act 1989 s47"
    )
    version = decided.version
    again = holding.decide_item(
        session, police, item.id, ReleaseState.RELEASED, "Needed", "Children Act 1989 s47"
    )

    assert received.repeated is False
    assert again.version == version  # nothing written the second time
    steps = holding.request_history(session, request.id)
    assert [s.step for s in steps] == ["received", "item-decided"]
    assert "secret" not in steps[-1].summary and steps[-1].summary.startswith("Police released")


def test_an_answer_not_yet_delivered_to_a_revoked_node_is_cancelled_and_its_copy_dropped(
    session: Session, config: NodeConfig, keys: NodeKeys
) -> None:
    make_hub(session)
    _checked(session)
    asker_key = bytes(PrivateKey.generate().public_key)
    _receive(session, config, keys, _payload(keys, "key-revoked01"))
    _receive(session, config, keys, _payload(keys, "key-revoked02"))
    first, second = session.scalars(select(IncomingDisclosure).order_by(IncomingDisclosure.id))
    holding.decline(session, MANAGER, first.id, asker_key, "Not held here")
    holding.decline(session, MANAGER, second.id, asker_key, "Not held here")
    holding.answer_delivered(session, second.id)
    due_before = holding.answers_due(session, utcnow() + dt.timedelta(days=1))

    ended = revocation.cancel_with_revoked(session, ["southwark"])  # another borough: nothing
    ended_lambeth = revocation.cancel_with_revoked(session, ["lambeth"])
    again = revocation.cancel_with_revoked(session, ["lambeth"])

    assert due_before == [first.id]
    assert (ended, ended_lambeth, again) == (0, 1, 0)
    assert first.state is IncomingState.CANCELLED and first.sealed_answer is None
    assert second.state is IncomingState.DECLINED and second.sealed_answer is not None
    assert holding.answers_due(session, utcnow() + dt.timedelta(days=1)) == []
