"""The asking hub's side of a disclosure: the MASH manager's request to a borough whose check
said it holds something on a subject of a referral, its delivery state, and the answer, whose
released items and signposts join the referral labelled with the borough they came from.

States: draft -> sent -> acknowledged -> answered | declined | expired | cancelled, or refused
(the holder would not take it). A request is recorded once (draft) and its sealed body is kept;
the courier sends it, freshly signed, until the holder acknowledges it. Every step is one
transaction with its audit entry, a step in the request's history and on the referral's
timeline.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from nacl.exceptions import CryptoError
from sqlalchemy import select
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor, require_borough_check
from node.config import NodeConfig
from node.disclosures import DisclosureError, wire
from node.errors import ErrorCode
from node.federation.asking import HOLDS
from node.federation.peers import Peer
from node.keys import NodeKeys, seal_to
from node.referrals.borough_checks import latest_checks
from node.referrals.common import open_referral, record_event, require_text, require_version
from node.referrals.triage import basis_in_force
from node.store.models import (
    BoroughCheck,
    DisclosureEvent,
    OutgoingDisclosure,
    OutgoingState,
    Pathway,
    PersonRecord,
    Rag,
    ReceivedItem,
    Referral,
    ReferralPerson,
    utcnow,
)
from protos.mash.federation.v1 import disclosure_pb2

WAITING = (OutgoingState.DRAFT, OutgoingState.SENT, OutgoingState.ACKNOWLEDGED)
FINAL = (
    OutgoingState.ANSWERED,
    OutgoingState.DECLINED,
    OutgoingState.EXPIRED,
    OutgoingState.CANCELLED,
    OutgoingState.REFUSED,
)
MAX_ITEMS = 1_000  # items one answer may carry


@dataclass(frozen=True)
class Askable:
    """A subject a borough said it holds something on, and whether it has been asked."""

    person_id: int
    person_name: str
    borough: str
    borough_name: str
    checked_at: dt.datetime
    asked: OutgoingDisclosure | None  # the latest request to it about this subject, if any

    @property
    def may_ask(self) -> bool:
        """Whether a request may be made now (none is awaiting an answer)."""
        return self.asked is None or self.asked.state not in WAITING


def askable(session: Session, referral_id: int) -> list[Askable]:
    """The boroughs whose latest check found something on a subject of the referral (read
    within the referral page's audited view)."""
    referral = session.get_one(Referral, referral_id)
    names = {p.id: _name(p) for p in referral.people}
    asked: dict[tuple[int, str], OutgoingDisclosure] = {}
    for row in session.scalars(
        select(OutgoingDisclosure)
        .where(OutgoingDisclosure.referral_id == referral_id)
        .order_by(OutgoingDisclosure.id)
    ):
        asked[(row.referral_person_id, row.holder)] = row
    return [
        Askable(
            check.referral_person_id,
            names.get(check.referral_person_id, ""),
            check.borough,
            check.borough_name,
            check.checked_at,
            asked.get((check.referral_person_id, check.borough)),
        )
        for check in latest_checks(session, referral_id)
        if check.outcome == HOLDS and check.referral_person_id is not None
    ]


def request_disclosure(
    session: Session,
    actor: Actor,
    config: NodeConfig,
    holder: Peer,
    referral_id: int,
    person_id: int,
    reason: str,
    lawful_basis: str,
    urgency: Rag | None = None,
) -> OutgoingDisclosure:
    """Record the MASH manager's request to `holder` for what it holds on a subject of the
    referral; the courier delivers it. Refused unless the borough's latest check said it holds
    something on them, and (adults) unless consent or another lawful basis is in force."""
    require_borough_check(actor)
    referral = open_referral(session, actor, referral_id)
    session.refresh(referral, with_for_update=True)  # one request at a time on a referral
    person = next((p for p in referral.people if p.id == person_id and p.is_subject), None)
    if person is None:
        raise DisclosureError(
            f"{referral.reference} has no subject {person_id}", code=ErrorCode.NOT_FOUND
        )
    check = _latest_check(session, referral.id, person.id, holder.borough)
    if check is None or check.outcome != HOLDS or utcnow() - check.checked_at > wire.CHECKED_WITHIN:
        raise DisclosureError(
            f"{holder.name} has not said it holds information on {_name(person)} in the last "
            f"{wire.CHECKED_WITHIN.days} days: check other boroughs first",
            code=ErrorCode.CONFLICT,
        )
    pending = session.scalar(
        select(OutgoingDisclosure).where(
            OutgoingDisclosure.referral_person_id == person.id,
            OutgoingDisclosure.holder == holder.borough,
            OutgoingDisclosure.state.in_(WAITING),
        )
    )
    if pending is not None:
        raise DisclosureError(
            f"{pending.requested_by} asked {holder.name} about {_name(person)} on "
            f"{pending.created_at:%d %B %Y at %H:%M}, and the answer is awaited",
            code=ErrorCode.CONFLICT,
        )
    adult_basis = ""
    if referral.pathway is Pathway.ADULT:
        basis = basis_in_force(session, referral)
        if basis is None:
            raise DisclosureError(
                "record the adult's consent, or another lawful basis, on the referral before "
                "asking another borough",
                field="adult_basis",
            )
        what = "Consent" if basis.kind == "consent" else basis.lawful_basis
        adult_basis = f"{what}, recorded {basis.recorded_at:%d %B %Y}: {basis.reason}"
    reason = require_text(reason, "reason", "say why it is necessary and proportionate")
    lawful_basis = require_text(lawful_basis, "lawful_basis", "name the lawful basis", limit=200)
    urgency = urgency or referral.rag
    if urgency is None:
        raise DisclosureError("choose the urgency: red, amber or green", field="urgency")
    settings = config.federation
    body = disclosure_pb2.RequestBody(
        referral_reference=referral.reference,
        pathway=referral.pathway.value,
        reason=reason,
        lawful_basis=lawful_basis,
        adult_basis=adult_basis,
        person=disclosure_pb2.Person(
            forenames=person.forenames,
            surname=person.surname,
            date_of_birth=person.date_of_birth.isoformat() if person.date_of_birth else "",
            postcode=person.postcode,
            address=person.address,
            nhs_number=_nhs_number(session, person),
            gender=person.gender,
        ),
        asked_by=actor.username,
        contact_route=(settings.hub_contact if settings else "") or f"{config.borough_name} MASH",
    )
    request = OutgoingDisclosure(
        idempotency_key=secrets.token_urlsafe(24),
        referral_id=referral.id,
        referral_person_id=person.id,
        holder=holder.borough,
        holder_name=holder.name,
        state=OutgoingState.DRAFT,
        urgency=urgency,
        reason=reason,
        lawful_basis=lawful_basis,
        sealed_body=seal_to(holder.box_key, body.SerializeToString()),
        requested_by=actor.username,
        next_attempt_at=utcnow(),
    )
    session.add(request)
    session.flush()
    _step(session, actor, request, f"Asked {holder.name} for what it holds ({urgency.value})")
    record_event(
        session,
        actor,
        referral,
        "disclosure-requested",
        f"Asked {holder.name} for what it holds on {_name(person)} ({urgency.value}): {reason}",
        audit_detail={"holder": holder.borough, "disclosure": request.id},
    )
    return request


def request_payload(request: OutgoingDisclosure) -> disclosure_pb2.RequestPayload:
    """The request to send (its header is the courier's, fresh at each attempt)."""
    return disclosure_pb2.RequestPayload(
        idempotency_key=request.idempotency_key,
        urgency=request.urgency.value,
        sealed_body=request.sealed_body,
    )


def cancel(
    session: Session,
    actor: Actor,
    disclosure_id: int,
    reason: str,
    *,
    seen_version: int | None = None,
) -> OutgoingDisclosure:
    """Withdraw a request the answer to which is no longer wanted; the holder is told."""
    require_borough_check(actor)
    request = _for_change(session, disclosure_id, seen_version)
    open_referral(session, actor, request.referral_id)
    if request.state not in WAITING:
        raise DisclosureError(
            f"the request is {request.state.value}: it cannot be withdrawn",
            code=ErrorCode.CONFLICT,
        )
    reason = require_text(reason, "reason", "say why the request is withdrawn", limit=500)
    request.state = OutgoingState.CANCELLED
    request.cancel_reason = reason
    request.closed_at = utcnow()
    request.next_attempt_at = utcnow()  # the holder is told, even if it may never have had it
    request.version += 1
    _step(session, actor, request, f"Withdrawn: {reason}")
    _on_referral(session, actor, request, "disclosure-cancelled", f"withdrawn: {reason}")
    return request


# --- delivery (the courier's steps, each one transaction) ------------------------------------


REQUEST, CANCEL, STATUS = "request", "cancel", "status"
ASK_STATUS_EVERY = dt.timedelta(hours=1)  # an overdue request's state, asked of its holder


def deliveries_due(session: Session, now: dt.datetime) -> list[tuple[str, int]]:
    """What the courier has to send now: requests not yet acknowledged, withdrawals not yet
    told, and (a week past their deadline, hourly) how unanswered requests stand."""
    due = [
        (REQUEST, id_)
        for id_ in session.scalars(
            select(OutgoingDisclosure.id)
            .where(
                OutgoingDisclosure.state.in_((OutgoingState.DRAFT, OutgoingState.SENT)),
                OutgoingDisclosure.next_attempt_at <= now,
            )
            .order_by(OutgoingDisclosure.next_attempt_at)
        )
    ]
    due += [
        (CANCEL, id_)
        for id_ in session.scalars(
            select(OutgoingDisclosure.id).where(
                OutgoingDisclosure.state == OutgoingState.CANCELLED,
                OutgoingDisclosure.cancel_delivered.is_(False),
                OutgoingDisclosure.next_attempt_at <= now,
            )
        )
    ]
    due += [
        (STATUS, id_)
        for id_ in session.scalars(
            select(OutgoingDisclosure.id).where(
                OutgoingDisclosure.state == OutgoingState.ACKNOWLEDGED,
                OutgoingDisclosure.deadline_at <= now - wire.EXPIRES_AFTER,
                (OutgoingDisclosure.next_attempt_at.is_(None))
                | (OutgoingDisclosure.next_attempt_at <= now),
            )
        )
    ]
    return due


def status_asked(session: Session, disclosure_id: int, state: str) -> None:
    """What the holder says of an overdue request: expired ends it here too."""
    if state == "expired":
        expired(session, disclosure_id)
        return
    request = _locked(session, disclosure_id)
    request.next_attempt_at = utcnow() + ASK_STATUS_EVERY


def acknowledged(
    session: Session, disclosure_id: int, state: str, deadline: dt.datetime | None
) -> None:
    """The holder has the request (perhaps already answered: the answer comes on its own)."""
    request = _locked(session, disclosure_id)
    if request.state not in (OutgoingState.DRAFT, OutgoingState.SENT):
        return  # answered or withdrawn meanwhile
    request.state = OutgoingState.ACKNOWLEDGED
    request.acknowledged_at = utcnow()
    request.deadline_at = deadline
    request.last_error = ""
    request.next_attempt_at = None
    request.version += 1
    due = f", to be answered by {deadline:%d %B %Y %H:%M} UTC" if deadline else ""
    _step(session, _courier(), request, f"{request.holder_name} has the request ({state}){due}")


def not_delivered(session: Session, disclosure_id: int, why: str, *, permanent: bool) -> None:
    """A delivery attempt failed: tried again later, or (refused by the holder) ended."""
    request = _locked(session, disclosure_id)
    if request.state not in (OutgoingState.DRAFT, OutgoingState.SENT):
        return
    wire.not_delivered(request, why)
    if permanent:
        request.state = OutgoingState.REFUSED
        request.closed_at = utcnow()
        request.next_attempt_at = None
        request.version += 1
        _step(session, _courier(), request, f"Refused by {request.holder_name}: {why}")
        _on_referral(session, _courier(), request, "disclosure-refused", f"refused: {why}")
        return
    if request.state is OutgoingState.DRAFT:
        request.state = OutgoingState.SENT
        request.version += 1
        _step(session, _courier(), request, f"Not delivered yet ({why}): trying again", "retrying")


def cancel_delivered(session: Session, disclosure_id: int) -> None:
    request = _locked(session, disclosure_id)
    if not request.cancel_delivered:
        request.cancel_delivered = True
        request.next_attempt_at = None
        _step(
            session,
            _courier(),
            request,
            f"{request.holder_name} was told of the withdrawal",
            "withdrawal-delivered",
        )


def retry_later(session: Session, disclosure_id: int, why: str) -> None:
    """A withdrawal or status question was not delivered: tried again later."""
    wire.not_delivered(_locked(session, disclosure_id), why)


def expired(session: Session, disclosure_id: int) -> None:
    """The holder says the request expired unanswered."""
    request = _locked(session, disclosure_id)
    if request.state in WAITING:
        request.state = OutgoingState.EXPIRED
        request.closed_at = utcnow()
        request.next_attempt_at = None
        request.version += 1
        _step(session, _courier(), request, "Expired at the holder without an answer")
        _on_referral(session, _courier(), request, "disclosure-expired", "expired unanswered")


# --- the answer --------------------------------------------------------------------------------


def receive_answer(
    session: Session, keys: NodeKeys, peer: Actor, payload: disclosure_pb2.AnswerPayload
) -> tuple[str, bool]:
    """Take the holder's answer (its envelope already checked): kept once, however often it is
    sent; only from the borough asked. Returns the request's state and whether it was a repeat."""
    request = session.scalar(
        select(OutgoingDisclosure)
        .where(OutgoingDisclosure.idempotency_key == payload.idempotency_key)
        .with_for_update()
    )
    if request is None or request.holder != peer.borough:
        raise DisclosureError(
            f"no request of this borough to {peer.borough} has this idempotency key",
            code=ErrorCode.NOT_FOUND,
        )
    digest = wire.digest(payload)
    if request.answer_digest is not None:
        if request.answer_digest != digest:
            raise DisclosureError(
                "another answer to this request was received before", code=ErrorCode.CONFLICT
            )
        return request.state.value, True
    outcomes = {"answered": OutgoingState.ANSWERED, "declined": OutgoingState.DECLINED}
    if payload.outcome not in outcomes:
        raise DisclosureError("outcome must be answered or declined", field="outcome")
    try:
        body = disclosure_pb2.AnswerBody.FromString(keys.open_sealed(payload.sealed_body))
    except (CryptoError, ValueError, DecodeError):
        raise DisclosureError(
            "the answer is not sealed to this node's key", field="sealed_body"
        ) from None
    if len(body.released) + len(body.signposts) > MAX_ITEMS:
        raise DisclosureError(f"an answer carries at most {MAX_ITEMS} items", field="released")
    request.answer_digest = digest
    if request.state not in WAITING:  # withdrawn before the answer came: nothing is kept
        _step(
            session,
            peer,
            request,
            f"{request.holder_name}'s answer came after {request.state}: not kept",
            "late-answer",
        )
        return request.state.value, False
    for item in body.released:
        session.add(
            ReceivedItem(
                disclosure_id=request.id,
                borough_name=request.holder_name,
                released=True,
                agency=item.agency[:200],
                title=item.title[:300],
                content=item.content,
                reference=item.reference[:200],
                lawful_basis=item.lawful_basis[:200],
            )
        )
    for signpost in body.signposts:
        session.add(
            ReceivedItem(
                disclosure_id=request.id,
                borough_name=request.holder_name,
                released=False,
                agency=signpost.agency[:200],
                reference=signpost.reference[:200],
                contact_route=signpost.contact_route[:300],
            )
        )
    request.state = outcomes[payload.outcome]
    request.matched = body.matched
    request.answer_note = body.note
    request.answered_by = f"{body.answered_by[:80]} ({request.holder_name})"
    request.closed_at = utcnow()
    request.next_attempt_at = None
    request.version += 1
    if request.state is OutgoingState.DECLINED:
        said = f"declined: {body.note}"
    elif not body.matched:
        said = "answered: nobody there matches"
    else:
        said = f"answered: {len(body.released)} item(s) released, {len(body.signposts)} signposted"
    _step(session, peer, request, f"{request.holder_name} {said}")
    _on_referral(session, peer, request, f"disclosure-{payload.outcome}", said)
    return request.state.value, False


# --- reading ---------------------------------------------------------------------------------


def requests_of(session: Session, referral_id: int) -> list[OutgoingDisclosure]:
    """A referral's requests to other boroughs, newest first (within its audited view)."""
    return list(
        session.scalars(
            select(OutgoingDisclosure)
            .where(OutgoingDisclosure.referral_id == referral_id)
            .order_by(OutgoingDisclosure.id.desc())
        )
    )


def outgoing_queue(session: Session, actor: Actor) -> list[tuple[OutgoingDisclosure, str]]:
    """This hub's requests to other boroughs with their referrals' references, those awaiting
    an answer first, the most overdue first (the MASH manager's list; states and boroughs)."""
    require_borough_check(actor)
    rows = [
        (request, reference)
        for request, reference in session.execute(
            select(OutgoingDisclosure, Referral.reference)
            .join(Referral, Referral.id == OutgoingDisclosure.referral_id)
            .order_by(OutgoingDisclosure.id.desc())
        )
    ]
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda row: (row[0].state not in WAITING, row[0].deadline_at or far))
    return rows


def referral_of(session: Session, disclosure_id: int) -> int | None:
    request = session.get(OutgoingDisclosure, disclosure_id)
    return request.referral_id if request is not None else None


def received_items(session: Session, referral_id: int) -> list[ReceivedItem]:
    """What other boroughs released or signposted for a referral (within its audited view)."""
    return list(
        session.scalars(
            select(ReceivedItem)
            .join(OutgoingDisclosure, OutgoingDisclosure.id == ReceivedItem.disclosure_id)
            .where(
                OutgoingDisclosure.referral_id == referral_id,
                OutgoingDisclosure.state == OutgoingState.ANSWERED,
            )
            .order_by(ReceivedItem.borough_name, ReceivedItem.released.desc(), ReceivedItem.id)
        )
    )


def overdue(request: OutgoingDisclosure, now: dt.datetime | None = None) -> bool:
    """Acknowledged, unanswered, and past the holder's deadline."""
    return (
        request.state is OutgoingState.ACKNOWLEDGED
        and request.deadline_at is not None
        and (now or utcnow()) > request.deadline_at
    )


def overdue_by_referral(session: Session, now: dt.datetime) -> dict[int, list[str]]:
    """The boroughs past their deadline to answer each referral's requests (the queue's flag),
    by the rule of `overdue`."""
    found: dict[int, list[str]] = {}
    for referral_id, holder in session.execute(
        select(OutgoingDisclosure.referral_id, OutgoingDisclosure.holder_name).where(
            OutgoingDisclosure.state == OutgoingState.ACKNOWLEDGED,
            OutgoingDisclosure.deadline_at < now,
        )
    ):
        found.setdefault(referral_id, []).append(holder)
    return found


def history(session: Session, disclosure_id: int) -> list[DisclosureEvent]:
    return list(
        session.scalars(
            select(DisclosureEvent)
            .where(DisclosureEvent.outgoing_id == disclosure_id)
            .order_by(DisclosureEvent.id)
        )
    )


# --- helpers -------------------------------------------------------------------------------


def _latest_check(
    session: Session, referral_id: int, person_id: int, borough: str
) -> BoroughCheck | None:
    return session.scalars(
        select(BoroughCheck)
        .where(
            BoroughCheck.referral_id == referral_id,
            BoroughCheck.referral_person_id == person_id,
            BoroughCheck.borough == borough,
        )
        .order_by(BoroughCheck.checked_at.desc(), BoroughCheck.id.desc())
        .limit(1)
    ).first()


def _nhs_number(session: Session, person: ReferralPerson) -> str:
    """The subject's NHS number, if the hub's records of them agree on one."""
    if person.subject_id is None:
        return ""
    numbers = set(
        session.scalars(
            select(PersonRecord.nhs_number).where(
                PersonRecord.subject_id == person.subject_id,
                PersonRecord.nhs_number.is_not(None),
                PersonRecord.nhs_number != "",
            )
        )
    )
    return numbers.pop() if len(numbers) == 1 else ""


def _name(person: ReferralPerson) -> str:
    return f"{person.forenames} {person.surname}".strip() or "the subject"


def _for_change(
    session: Session, disclosure_id: int, seen_version: int | None
) -> OutgoingDisclosure:
    request = _locked(session, disclosure_id)
    events = history(session, request.id)
    last = events[-1] if events else None
    require_version(
        seen_version,
        request.version,
        "The request",
        last.actor if last else None,
        last.at if last else None,
    )
    return request


def _locked(session: Session, disclosure_id: int) -> OutgoingDisclosure:
    request = session.get(
        OutgoingDisclosure, disclosure_id, with_for_update=True, populate_existing=True
    )
    if request is None:
        raise DisclosureError(f"request {disclosure_id}: no such request", code=ErrorCode.NOT_FOUND)
    return request


def _courier() -> Actor:
    return Actor.system("disclosure-courier")


def _step(
    session: Session,
    actor: Actor,
    request: OutgoingDisclosure,
    summary: str,
    step: str | None = None,
) -> None:
    """One step of the request: its history (`step` names it, by default its new state) and
    its audit entry."""
    step = step or request.state.value
    session.add(
        DisclosureEvent(outgoing_id=request.id, actor=actor.username, step=step, summary=summary)
    )
    audit.record(
        session,
        actor,
        "disclosure.request-" + step,
        object_ref=f"disclosure-out:{request.id}",
        purpose=f"disclosure request to {request.holder_name}",
        detail={"state": request.state.value, "holder": request.holder},
    )


def _on_referral(
    session: Session, actor: Actor, request: OutgoingDisclosure, kind: str, said: str
) -> None:
    """The step on the referral's timeline too."""
    referral = session.get_one(Referral, request.referral_id)
    record_event(
        session,
        actor,
        referral,
        kind,
        f"Request to {request.holder_name} {said}",
        audit_detail={"holder": request.holder, "disclosure": request.id},
    )
