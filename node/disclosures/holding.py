"""The holding hub's side of a disclosure: a request received (checked, deadline from its
urgency, once however often it is resent), read and matched to a local subject under the
request's purpose, each item decided by its owning agency (as a local release is), and the
answer built by the firewall's one rule and sent only when a named MASH manager says so.

States: received -> in-review -> answered | declined | expired (or cancelled by the asker).
Every step is one transaction with its audit entry and a step in the request's history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from google.protobuf.message import DecodeError
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
from node.disclosures import DisclosureError, wire
from node.errors import ErrorCode
from node.firewall import AgencyContact, HubItem, what_may_leave
from node.keys import NodeKeys, seal_to
from node.matching.keys import Identity, derive_keys
from node.matching.normalise import (
    DateError,
    canonical_forename,
    normalise_name,
    normalise_postcode,
)
from node.referrals.common import require_text, require_version
from node.referrals.deadlines import decision_deadline
from node.store.models import (
    Agency,
    DisclosureEvent,
    DisclosureItem,
    IncomingDisclosure,
    IncomingState,
    InformationItem,
    MatchKey,
    PeerCheck,
    PersonRecord,
    Rag,
    ReleaseState,
    utcnow,
)
from node.subjects import live_subject
from protos.mash.federation.v1 import disclosure_pb2

OPEN = (IncomingState.RECEIVED, IncomingState.IN_REVIEW)
MAX_CANDIDATES = 20  # local subjects offered for one request's match


@dataclass(frozen=True)
class Received:
    """What the holder says back to a request: its state and deadline, and whether it had it."""

    state: str
    deadline: dt.datetime
    repeated: bool


def receive_request(
    session: Session,
    config: NodeConfig,
    keys: NodeKeys,
    peer: Actor,
    asker_name: str,
    payload: disclosure_pb2.RequestPayload,
) -> Received:
    """Take a request from `peer` (its envelope already checked): once per idempotency key,
    only for a referral it has checked here, within its daily allowance, and only if its body
    opens with this node's key (it is kept sealed, and opened again when someone reads it)."""
    borough = peer.borough or ""
    key = payload.idempotency_key
    if not 8 <= len(key) <= 64:
        raise DisclosureError("the request has no idempotency key", field="idempotency_key")
    digest = wire.digest(payload)
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
    _open_body(keys, payload.sealed_body)
    checked = session.get(PeerCheck, (borough, header.referral_reference[:100]))
    if checked is None or utcnow() - checked.last_at > wire.CHECKED_WITHIN:
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
    body = _open_body(keys, request.sealed_body)
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
    return RequestView(request, body, items, tuple(request_history(session, request.id)))


@dataclass(frozen=True)
class Candidate:
    """A local subject the request may be about: which agencies hold records on them, and
    which of the request's details their records agree with (the details themselves are not
    shown: the match is judged on agreement, as a hub manager sees holdings only)."""

    subject_id: int
    holdings: dict[str, int]
    agrees: tuple[str, ...]
    differs: tuple[str, ...]


def candidates(session: Session, actor: Actor, keys: NodeKeys, request_id: int) -> list[Candidate]:
    """The local subjects the request may be about: those with a record sharing a match key
    with the request's details (as the check that led to it found them), those agreeing on most
    details first. Looked for under the request's purpose, and audited."""
    require_manager(actor)
    request = _get(session, request_id)
    person = _open_body(keys, request.sealed_body).person
    try:
        identity = Identity.from_fields(
            person.forenames,
            person.surname,
            person.date_of_birth or None,
            person.postcode,
            person.nhs_number or None,
        )
    except DateError:
        identity = Identity.from_fields(
            person.forenames, person.surname, None, person.postcode, person.nhs_number or None
        )
    values = [key.value for key in derive_keys(identity)]
    subject_ids = sorted(
        set(
            session.scalars(
                select(PersonRecord.subject_id)
                .join(MatchKey, MatchKey.record_id == PersonRecord.id)
                .where(MatchKey.key_value.in_(values), PersonRecord.subject_id.is_not(None))
            )
        )
    )[:MAX_CANDIDATES]
    wanted = _comparable(
        person.forenames, person.surname, person.date_of_birth, person.postcode, person.nhs_number
    )
    shown = []
    for subject_id in subject_ids:
        records = list(
            session.scalars(select(PersonRecord).where(PersonRecord.subject_id == subject_id))
        )
        held = [
            _comparable(
                r.forenames,
                r.surname,
                r.date_of_birth.isoformat() if r.date_of_birth else "",
                r.postcode,
                r.nhs_number,
            )
            for r in records
        ]
        agrees = tuple(
            label
            for label, value in wanted.items()
            if value and any(h[label] == value for h in held)
        )
        differs = tuple(
            label
            for label, value in wanted.items()
            if value and label not in agrees and any(h[label] for h in held)
        )
        holdings: dict[str, int] = {}
        for record in records:
            holdings[record.agency_code] = holdings.get(record.agency_code, 0) + 1
        shown.append(Candidate(subject_id, holdings, agrees, differs))
    shown.sort(key=lambda c: (-len(c.agrees), len(c.differs), c.subject_id))
    audit.record(
        session,
        actor,
        "disclosure.match-search",
        object_ref=f"disclosure-in:{request.id}",
        purpose=f"{request.asker_name} {request.referral_reference}: {request.purpose}"[:500],
        detail={"subjects": [c.subject_id for c in shown]},
    )
    return shown


def _comparable(
    forenames: str, surname: str, date_of_birth: str, postcode: str, nhs_number: str
) -> dict[str, str]:
    """The details a match is judged on, normalised as the matcher does."""
    return {
        "NHS number": "".join(ch for ch in nhs_number if ch.isdigit()),
        "date of birth": date_of_birth.strip(),
        "surname": normalise_name(surname),
        "first forename": canonical_forename(forenames),
        "postcode": normalise_postcode(postcode) or "",
    }


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
    _require_open(request)
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


def require_item_of(session: Session, actor: Actor, request_id: int, item_id: int) -> None:
    """The item is on this request, and the actor's agency owns it (or AccessDenied)."""
    item = session.get(DisclosureItem, item_id)
    if item is None or item.disclosure_id != request_id:
        raise DisclosureError(
            f"request {request_id} has no item {item_id}", code=ErrorCode.NOT_FOUND
        )
    require_release_decision(actor, item.agency_code)


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
    _require_open(request)
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
    basis = lawful_basis.strip() if state is ReleaseState.RELEASED else ""
    if item.decided and (item.release_state, item.reason, item.lawful_basis) == (
        state,
        reason,
        basis,
    ):
        return item  # decided so already: nothing is written
    item.release_state = state
    item.decided = True
    item.reason = reason
    item.lawful_basis = basis
    item.decided_by = actor.username
    item.decided_at = utcnow()
    item.version += 1
    agency = session.get(Agency, item.agency_code)
    verb = "released" if state is ReleaseState.RELEASED else "declined (signposted)"
    _step(  # the history is read by every agency working the request: a reference, no title
        session,
        actor,
        request,
        "disclosure.item-decided",
        f"{agency.name if agency else item.agency_code} {verb} "
        f"{item.reference or f'item {item.id}'}",
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
    request_id: int,
    asker_box_key: bytes,
    note: str = "",
    *,
    seen_version: int | None = None,
) -> IncomingDisclosure:
    """A named MASH manager sends the answer: the released items in full and a signpost for
    every other item (undecided ones too, at the deadline), by the firewall's one rule."""
    require_manager(actor)
    request = _open_for_change(session, request_id, seen_version)
    _require_open(request)
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
    _finish(session, actor, request, asker_box_key, IncomingState.ANSWERED, body)
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
    request_id: int,
    asker_box_key: bytes,
    reason: str,
    *,
    seen_version: int | None = None,
) -> IncomingDisclosure:
    """The MASH manager declines the whole request (with the reason the asker reads)."""
    require_manager(actor)
    request = _open_for_change(session, request_id, seen_version)
    _require_open(request)
    reason = require_text(reason, "reason", "say why the request is declined")
    body = disclosure_pb2.AnswerBody(
        matched=bool(request.matched), note=reason, answered_by=actor.username
    )
    _finish(session, actor, request, asker_box_key, IncomingState.DECLINED, body)
    _step(session, actor, request, "disclosure.declined", f"Request declined: {reason}")
    return request


def _finish(
    session: Session,
    actor: Actor,
    request: IncomingDisclosure,
    asker_box_key: bytes,
    outcome: IncomingState,
    body: disclosure_pb2.AnswerBody,
) -> None:
    """Seal the answer to the asker, once; the courier signs and sends it until acknowledged."""
    request.sealed_answer = seal_to(asker_box_key, body.SerializeToString())
    request.state = outcome
    request.outcome = outcome.value
    request.note = body.note
    request.answered_by = actor.username
    request.answered_at = utcnow()
    request.next_attempt_at = utcnow()
    request.version += 1


def answer_payload(request: IncomingDisclosure) -> disclosure_pb2.AnswerPayload:
    """The answer to send (its header is the courier's, fresh at each attempt)."""
    if request.sealed_answer is None:
        raise DisclosureError(f"request {request.id} has not been answered")
    return disclosure_pb2.AnswerPayload(
        idempotency_key=request.idempotency_key,
        outcome=request.outcome,
        sealed_body=request.sealed_answer,
    )


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
                IncomingDisclosure.deadline_at <= now - wire.EXPIRES_AFTER,
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


def asker_of(session: Session, request_id: int) -> str:
    """The borough that made a request."""
    return _get(session, request_id).asker


def request_history(session: Session, request_id: int) -> list[DisclosureEvent]:
    """The steps taken on a request, oldest first (states and who; no content)."""
    return list(
        session.scalars(
            select(DisclosureEvent)
            .where(DisclosureEvent.incoming_id == request_id)
            .order_by(DisclosureEvent.id)
        )
    )


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


def _open_body(keys: NodeKeys, sealed: bytes) -> disclosure_pb2.RequestBody:
    try:
        return disclosure_pb2.RequestBody.FromString(keys.open_sealed(sealed))
    except (CryptoError, ValueError, DecodeError):
        raise DisclosureError(
            "the request's body is not sealed to this node's key", field="sealed_body"
        ) from None


def _require_open(request: IncomingDisclosure) -> None:
    if request.state not in OPEN:
        raise DisclosureError(
            f"the request is {request.state.value}: nothing more can be done on it",
            code=ErrorCode.CONFLICT,
        )
    if utcnow() >= request.deadline_at + wire.EXPIRES_AFTER:
        raise DisclosureError(
            "the request expired a week after its deadline without an answer",
            code=ErrorCode.CONFLICT,
        )


def _get(session: Session, request_id: int) -> IncomingDisclosure:
    request = session.get(IncomingDisclosure, request_id)
    if request is None:
        raise DisclosureError(f"request {request_id}: no such request", code=ErrorCode.NOT_FOUND)
    return request


def _open_for_change(
    session: Session, request_id: int, seen_version: int | None
) -> IncomingDisclosure:
    request = _get_locked(session, request_id)
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
    session.add(
        DisclosureEvent(
            incoming_id=request.id,
            actor=actor.username,
            step=action.removeprefix("disclosure."),
            summary=summary,
        )
    )
    audit.record(
        session,
        actor,
        action,
        object_ref=f"disclosure-in:{request.id}",
        purpose=f"{request.asker_name} {request.referral_reference}"[:500],
        detail={"state": request.state.value},
    )


# --- delivery of answers (the courier's steps, each one transaction) ---------------------------


def answers_due(session: Session, now: dt.datetime) -> list[int]:
    """Answers and declines not yet acknowledged by their asker, due another attempt."""
    return list(
        session.scalars(
            select(IncomingDisclosure.id)
            .where(
                IncomingDisclosure.sealed_answer.is_not(None),
                IncomingDisclosure.answer_delivered_at.is_(None),
                IncomingDisclosure.next_attempt_at <= now,
            )
            .order_by(IncomingDisclosure.next_attempt_at)
        )
    )


def answer_delivered(session: Session, request_id: int) -> None:
    request = _get_locked(session, request_id)
    if request.answer_delivered_at is None:
        request.answer_delivered_at = utcnow()
        request.next_attempt_at = None
        request.last_error = ""
        _step(
            session,
            Actor.system("disclosure-courier"),
            request,
            "disclosure.answer-delivered",
            f"{request.asker_name} has the answer",
        )


def answer_not_delivered(session: Session, request_id: int, why: str) -> None:
    wire.not_delivered(_get_locked(session, request_id), why)


def _get_locked(session: Session, request_id: int) -> IncomingDisclosure:
    request = session.get(
        IncomingDisclosure, request_id, with_for_update=True, populate_existing=True
    )
    if request is None:
        raise DisclosureError(f"request {request_id}: no such request", code=ErrorCode.NOT_FOUND)
    return request
