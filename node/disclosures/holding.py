"""The holding hub's side of a disclosure: a request received (checked, deadline from its
urgency, once however often it is resent), read and matched to a local subject under the
request's purpose, each item decided by its owning agency (as a local release is), and the
answer built by the firewall's one rule and sent only when a named MASH manager says so.

States: received -> in-review -> answered | declined | expired (or cancelled by the asker).
Every step is one transaction with its audit entry and a step in the request's history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace

from nacl.exceptions import CryptoError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node import audit
from node.access import (
    Actor,
    own_agency,
    require_disclosure_access,
    require_hub_member,
    require_manager,
    require_release_decision,
    sees_every_request,
)
from node.config import NodeConfig
from node.errors import DomainError, ErrorCode
from node.firewall import AgencyContact, HubItem, what_may_leave
from node.keys import NodeKeys, seal_to
from node.referrals.common import require_text, require_version
from node.referrals.deadlines import decision_deadline
from node.store.models import (
    Agency,
    DisclosureEvent,
    DisclosureItem,
    IncomingDisclosure,
    IncomingState,
    InformationItem,
    PeerCheck,
    PersonRecord,
    Rag,
    ReleaseState,
    utcnow,
)
from node.subjects import live_subject
from protos.mash.federation.v1 import disclosure_pb2

OPEN = (IncomingState.RECEIVED, IncomingState.IN_REVIEW)
CHECKED_WITHIN = dt.timedelta(days=30)  # a request follows a check of the same referral


class DisclosureError(DomainError):
    """A step on a disclosure cannot be taken as asked."""


@dataclass(frozen=True)
class Received:
    """What the holder says back to a request: its state and deadline, and whether it had it."""

    state: str
    deadline: dt.datetime
    repeated: bool


def receive_request(
    session: Session,
    config: NodeConfig,
    peer: Actor,
    asker_name: str,
    payload: disclosure_pb2.RequestPayload,
    payload_bytes: bytes,
) -> Received:
    """Take a request from `peer` (its envelope already checked): once per idempotency key,
    only for a referral it has checked here, within its daily allowance."""
    borough = peer.borough or ""
    key = payload.idempotency_key
    if not 8 <= len(key) <= 64:
        raise DisclosureError("the request has no idempotency key", field="idempotency_key")
    digest = hashlib.sha256(payload_bytes).digest()
    existing = session.scalar(
        select(IncomingDisclosure).where(
            IncomingDisclosure.asker == borough, IncomingDisclosure.idempotency_key == key
        )
    )
    header = payload.header
    if existing is not None:
        if existing.payload_digest != digest:
            raise DisclosureError(
                "another request was sent with this idempotency key",
                code=ErrorCode.CONFLICT,
            )
        return Received(existing.state.value, existing.deadline_at, True)
    try:
        urgency = Rag(payload.urgency)
    except ValueError:
        raise DisclosureError("urgency must be red, amber or green", field="urgency") from None
    if not payload.sealed_body:
        raise DisclosureError("the request carries no sealed body", field="sealed_body")
    checked = session.get(PeerCheck, (borough, header.referral_reference[:100]))
    if checked is None or utcnow() - checked.last_at > CHECKED_WITHIN:
        raise DisclosureError(
            f"{borough} has not checked this borough for {header.referral_reference!r}: "
            "a disclosure request follows a check that found something",
            code=ErrorCode.FORBIDDEN,
        )
    settings = config.federation
    allowance = settings.disclosures_per_peer_per_day if settings else 50
    today = dt.datetime.combine(utcnow().date(), dt.time(), tzinfo=dt.UTC)
    asked_today = (
        session.scalar(
            select(func.count())
            .select_from(IncomingDisclosure)
            .where(IncomingDisclosure.asker == borough, IncomingDisclosure.received_at >= today)
        )
        or 0
    )
    if asked_today >= allowance:
        raise DisclosureError(
            f"{borough} has made {asked_today} disclosure requests today, its allowance",
            code=ErrorCode.LIMITED,
        )
    now = utcnow()
    hours = settings.disclosure_hours() if settings else {"red": 4.0, "amber": 24.0, "green": 72.0}
    deadline = decision_deadline(now, urgency, replace(config.referrals, hours=hours))
    request = IncomingDisclosure(
        asker=borough,
        asker_name=asker_name,
        idempotency_key=key,
        payload_digest=digest,
        state=IncomingState.RECEIVED,
        urgency=urgency,
        referral_reference=header.referral_reference[:100],
        purpose=header.purpose[:500],
        user_pseudonym=header.user_pseudonym[:60],
        sealed_body=payload.sealed_body,
        received_at=now,
        deadline_at=deadline,
    )
    session.add(request)
    session.flush()
    _step(session, peer, request, "disclosure.received", f"Request received from {asker_name}")
    return Received(request.state.value, deadline, False)


@dataclass(frozen=True)
class RequestView:
    """A request as the holding hub reads it: the opened body, the request, its items."""

    request: IncomingDisclosure
    body: disclosure_pb2.RequestBody
    items: tuple[DisclosureItem, ...]
    events: tuple[DisclosureEvent, ...]


def read_request(session: Session, actor: Actor, keys: NodeKeys, request_id: int) -> RequestView:
    """Open a request (the MASH manager, or a professional whose agency has items on it);
    the reading is audited under the request's purpose."""
    require_hub_member(actor)
    request = _get(session, request_id)
    items = tuple(
        session.scalars(
            select(DisclosureItem)
            .where(DisclosureItem.disclosure_id == request.id)
            .order_by(DisclosureItem.agency_code, DisclosureItem.id)
        )
    )
    require_disclosure_access(actor, {item.agency_code for item in items})
    try:
        body = disclosure_pb2.RequestBody.FromString(keys.open_sealed(request.sealed_body))
    except (CryptoError, ValueError):
        raise DisclosureError(
            "this request cannot be opened with this node's key", code=ErrorCode.CONFLICT
        ) from None
    if request.state is IncomingState.RECEIVED and sees_every_request(actor):
        request.state = IncomingState.IN_REVIEW
        request.version += 1
    audit.record(
        session,
        actor,
        "disclosure.read",
        object_ref=f"disclosure-in:{request.id}",
        purpose=f"{request.asker_name} {request.referral_reference}: {request.purpose}"[:500],
    )
    events = tuple(
        session.scalars(
            select(DisclosureEvent)
            .where(DisclosureEvent.incoming_id == request.id)
            .order_by(DisclosureEvent.id)
        )
    )
    return RequestView(request, body, items, events)


def match(
    session: Session,
    actor: Actor,
    request_id: int,
    subject_id: int | None,
    *,
    seen_version: int | None = None,
) -> IncomingDisclosure:
    """The MASH manager says which local subject the request is about (None: nobody here
    matches). Each agency's items on the subject are then theirs to decide."""
    require_manager(actor)
    request = _open_for_change(session, request_id, seen_version)
    if request.matched is not None:
        raise DisclosureError("the request has been matched already", code=ErrorCode.CONFLICT)
    request.matched_by = actor.username
    request.state = IncomingState.IN_REVIEW
    request.version += 1
    if subject_id is None:
        request.matched = False
        _step(session, actor, request, "disclosure.no-match", "Nobody here matches the request")
        return request
    subject = live_subject(session, subject_id)
    request.matched = True
    request.subject_id = subject.id
    rows = session.execute(
        select(InformationItem, PersonRecord.agency_code)
        .join(PersonRecord, PersonRecord.id == InformationItem.record_id)
        .where(PersonRecord.subject_id == subject.id)
        .order_by(PersonRecord.agency_code, InformationItem.occurred_on.desc())
    ).all()
    for item, agency in rows:
        session.add(
            DisclosureItem(
                disclosure_id=request.id,
                agency_code=agency,
                source_item_id=item.id,
                title=f"{item.category}: {item.summary}"[:300],
                content="\n\n".join(
                    part
                    for part in (f"{item.occurred_on:%d %B %Y}: {item.summary}", item.detail)
                    if part
                ),
                reference=item.item_ref[:200],
            )
        )
    _step(
        session,
        actor,
        request,
        "disclosure.matched",
        f"Matched to hub subject {subject.id}: {len(rows)} item(s) for their agencies to decide",
    )
    return request


def decide_item(
    session: Session,
    actor: Actor,
    item_id: int,
    state: ReleaseState,
    reason: str,
    lawful_basis: str = "",
    *,
    seen_version: int | None = None,
) -> DisclosureItem:
    """The owning agency's professional releases or declines (signposts) one of its items, as
    a local release is decided (health's by a health professional)."""
    item = session.get(DisclosureItem, item_id, with_for_update=True, populate_existing=True)
    if item is None:
        raise DisclosureError(f"item {item_id}: no such item", code=ErrorCode.NOT_FOUND)
    require_release_decision(actor, item.agency_code)
    request = _get(session, item.disclosure_id)
    if request.state not in OPEN:
        raise DisclosureError(
            f"the request is {request.state.value}: nothing more can be decided",
            code=ErrorCode.CONFLICT,
        )
    require_version(
        seen_version,
        item.version,
        f"The decision on '{item.title}'",
        item.decided_by,
        item.decided_at,
    )
    if state is ReleaseState.HELD:
        raise DisclosureError("release it or decline it (a signpost)", field="state")
    reason = require_text(reason, "reason", "say why (necessary and proportionate)")
    if state is ReleaseState.RELEASED:
        lawful_basis = require_text(
            lawful_basis, "lawful_basis", "name the lawful basis", limit=200
        )
    item.release_state = state
    item.decided = True
    item.reason = reason
    item.lawful_basis = lawful_basis.strip() if state is ReleaseState.RELEASED else ""
    item.decided_by = actor.username
    item.decided_at = utcnow()
    item.version += 1
    verb = "released" if state is ReleaseState.RELEASED else "declined (signposted)"
    _step(
        session,
        actor,
        request,
        "disclosure.item-decided",
        f"{item.agency_code} {verb} {item.reference or item.title}",
    )
    return item


@dataclass(frozen=True)
class Ready:
    """Whether the answer can go: every item decided, or the deadline come."""

    undecided: int
    deadline_passed: bool

    @property
    def may_send(self) -> bool:
        return self.undecided == 0 or self.deadline_passed


def readiness(session: Session, request: IncomingDisclosure) -> Ready:
    undecided = (
        session.scalar(
            select(func.count())
            .select_from(DisclosureItem)
            .where(DisclosureItem.disclosure_id == request.id, DisclosureItem.decided.is_(False))
        )
        or 0
    )
    return Ready(int(undecided), utcnow() >= request.deadline_at)


def send_answer(
    session: Session,
    actor: Actor,
    keys: NodeKeys,
    request_id: int,
    asker_box_key: bytes,
    borough: str,
    note: str = "",
    *,
    seen_version: int | None = None,
) -> IncomingDisclosure:
    """A named MASH manager sends the answer: the released items in full and a signpost for
    every other item (undecided ones too, at the deadline), by the firewall's one rule."""
    require_manager(actor)
    request = _open_for_change(session, request_id, seen_version)
    if request.state not in OPEN:
        raise DisclosureError(f"the request is {request.state.value}", code=ErrorCode.CONFLICT)
    if request.matched is None:
        raise DisclosureError(
            "say first who the request is about, or that nobody matches", field="subject"
        )
    ready = readiness(session, request)
    if not ready.may_send:
        raise DisclosureError(
            f"{ready.undecided} item(s) still wait for their agency's decision, and the deadline "
            "has not come",
            code=ErrorCode.CONFLICT,
        )
    agencies = {
        a.code: AgencyContact(a.name, a.contact_route) for a in session.scalars(select(Agency))
    }
    items = session.scalars(
        select(DisclosureItem)
        .where(DisclosureItem.disclosure_id == request.id)
        .order_by(DisclosureItem.id)
    )
    outgoing = what_may_leave(
        (
            HubItem(i.agency_code, i.title, i.content, i.reference, i.release_state, i.lawful_basis)
            for i in items
        ),
        agencies,
        release_blocked=False,
    )
    body = disclosure_pb2.AnswerBody(
        released=[
            disclosure_pb2.ReleasedItem(
                agency=r.agency,
                title=r.title,
                content=r.content,
                reference=r.reference,
                lawful_basis=r.lawful_basis,
            )
            for r in outgoing.released
        ],
        signposts=[
            disclosure_pb2.Signpost(
                agency=s.agency, contact_route=s.contact_route, reference=s.reference
            )
            for s in outgoing.signposts
        ],
        matched=bool(request.matched),
        note=note.strip()[:2000],
        answered_by=actor.username,
    )
    _finish(session, actor, keys, request, asker_box_key, borough, "answered", body)
    _step(
        session,
        actor,
        request,
        "disclosure.answered",
        f"Answer sent: {len(outgoing.released)} item(s) released, {len(outgoing.signposts)} signposted",
    )
    return request


def decline(
    session: Session,
    actor: Actor,
    keys: NodeKeys,
    request_id: int,
    asker_box_key: bytes,
    borough: str,
    reason: str,
    *,
    seen_version: int | None = None,
) -> IncomingDisclosure:
    """The MASH manager declines the whole request (with the reason the asker reads)."""
    require_manager(actor)
    request = _open_for_change(session, request_id, seen_version)
    if request.state not in OPEN:
        raise DisclosureError(f"the request is {request.state.value}", code=ErrorCode.CONFLICT)
    reason = require_text(reason, "reason", "say why the request is declined")
    body = disclosure_pb2.AnswerBody(
        matched=bool(request.matched), note=reason, answered_by=actor.username
    )
    _finish(session, actor, keys, request, asker_box_key, borough, "declined", body)
    _step(session, actor, request, "disclosure.declined", f"Request declined: {reason}")
    return request


def _finish(
    session: Session,
    actor: Actor,
    keys: NodeKeys,
    request: IncomingDisclosure,
    asker_box_key: bytes,
    borough: str,
    outcome: str,
    body: disclosure_pb2.AnswerBody,
) -> None:
    from mash_common.envelope import new_header, seal
    from node.matching.keys import KEY_SET_VERSION

    header = new_header(
        borough,
        key_set_version=KEY_SET_VERSION,
        referral_reference=request.referral_reference,
        purpose=f"answer to {request.asker_name}'s request",
        user_pseudonym=keys.pseudonym(actor.username),
    )
    payload = disclosure_pb2.AnswerPayload(
        header=header,
        idempotency_key=request.idempotency_key,
        outcome=outcome,
        sealed_body=seal_to(asker_box_key, body.SerializeToString()),
    )
    envelope = seal(
        payload.SerializeToString(),
        disclosure_pb2.AnswerPayload.DESCRIPTOR.full_name,
        keys,
        borough,
        keys.signing_key_id,
    )
    request.signed_answer = disclosure_pb2.SignedRequest(envelope=envelope).SerializeToString()
    request.state = IncomingState.ANSWERED if outcome == "answered" else IncomingState.DECLINED
    request.outcome = outcome
    request.note = body.note
    request.answered_by = actor.username
    request.answered_at = utcnow()
    request.next_attempt_at = utcnow()
    request.version += 1


def cancel_by_asker(session: Session, peer: Actor, key: str, reason: str) -> Received:
    request = session.scalar(
        select(IncomingDisclosure).where(
            IncomingDisclosure.asker == peer.borough, IncomingDisclosure.idempotency_key == key
        )
    )
    if request is None:
        raise DisclosureError("no such request", code=ErrorCode.NOT_FOUND)
    repeated = request.state is IncomingState.CANCELLED
    if request.state in OPEN:
        request.state = IncomingState.CANCELLED
        request.version += 1
        _step(
            session,
            peer,
            request,
            "disclosure.cancelled",
            f"Withdrawn by {request.asker_name}: {reason[:300]}",
        )
    return Received(request.state.value, request.deadline_at, repeated)


def status_for_asker(session: Session, peer: Actor, key: str) -> Received:
    request = session.scalar(
        select(IncomingDisclosure).where(
            IncomingDisclosure.asker == peer.borough, IncomingDisclosure.idempotency_key == key
        )
    )
    if request is None:
        raise DisclosureError("no such request", code=ErrorCode.NOT_FOUND)
    return Received(request.state.value, request.deadline_at, True)


def expire_overdue(session: Session, now: dt.datetime | None = None) -> int:
    """Requests whose deadline passed without an answer end as expired (the asker is told by
    the state it asks for)."""
    now = now or utcnow()
    overdue = list(
        session.scalars(
            select(IncomingDisclosure).where(
                IncomingDisclosure.state.in_(OPEN),
                IncomingDisclosure.deadline_at < now - dt.timedelta(days=7),
            )
        )
    )
    for request in overdue:
        request.state = IncomingState.EXPIRED
        request.version += 1
        _step(
            session,
            Actor.system("disclosure"),
            request,
            "disclosure.expired",
            "Expired a week after its deadline without an answer",
        )
    return len(overdue)


def incoming_queue(session: Session, actor: Actor) -> list[IncomingDisclosure]:
    """Open requests first, nearest deadline first (managers: all; professionals: those with
    their agency's items). Not personal data: what identifies the person stays sealed."""
    require_hub_member(actor)
    statement = select(IncomingDisclosure)
    if not sees_every_request(actor):
        statement = statement.where(
            IncomingDisclosure.id.in_(
                select(DisclosureItem.disclosure_id).where(
                    DisclosureItem.agency_code == own_agency(actor)
                )
            )
        )
    rows = list(session.scalars(statement))
    rows.sort(key=lambda r: (r.state not in OPEN, r.deadline_at))
    return rows


def _get(session: Session, request_id: int) -> IncomingDisclosure:
    request = session.get(IncomingDisclosure, request_id)
    if request is None:
        raise DisclosureError(f"request {request_id}: no such request", code=ErrorCode.NOT_FOUND)
    return request


def _open_for_change(
    session: Session, request_id: int, seen_version: int | None
) -> IncomingDisclosure:
    request = session.get(
        IncomingDisclosure, request_id, with_for_update=True, populate_existing=True
    )
    if request is None:
        raise DisclosureError(f"request {request_id}: no such request", code=ErrorCode.NOT_FOUND)
    last = session.scalars(
        select(DisclosureEvent)
        .where(DisclosureEvent.incoming_id == request.id)
        .order_by(DisclosureEvent.id.desc())
        .limit(1)
    ).first()
    require_version(
        seen_version,
        request.version,
        "The request",
        last.actor if last else None,
        last.at if last else None,
    )
    return request


def _step(
    session: Session, actor: Actor, request: IncomingDisclosure, action: str, summary: str
) -> None:
    session.add(DisclosureEvent(incoming_id=request.id, actor=actor.username, summary=summary))
    audit.record(
        session,
        actor,
        action,
        object_ref=f"disclosure-in:{request.id}",
        purpose=f"{request.asker_name} {request.referral_reference}"[:500],
        detail={"state": request.state.value},
    )
