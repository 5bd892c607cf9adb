"""The register of disclosures for administrators and auditors (`mash-node disclosures`): every
request this hub made of other boroughs and every request made of it, with states, timings and
who took each step; never what was asked or released."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor, require_audit_reader
from node.disclosures import DisclosureError
from node.errors import ErrorCode
from node.store.models import DisclosureEvent, IncomingDisclosure, OutgoingDisclosure, Referral

INCOMING, OUTGOING = "in", "out"


@dataclass(frozen=True)
class Entry:
    """One disclosure request, as the register shows it."""

    ref: str  # "in-4": the 4th request made of this hub; "out-2": the 2nd it made
    borough: str  # the other borough: the asker of an incoming request, the holder of ours
    referral: str  # the referral reference it was made for (the asker's)
    urgency: str
    state: str
    opened_at: dt.datetime
    deadline_at: dt.datetime | None
    closed_at: dt.datetime | None  # answered, declined, withdrawn, refused or expired
    delivered_at: dt.datetime | None  # when the other side acknowledged our message
    attempts: int
    last_error: str


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    actor: str
    step: str


def entries(session: Session, actor: Actor, direction: str | None = None) -> list[Entry]:
    """Every request, newest first (`direction`: only INCOMING or OUTGOING ones). Audited."""
    require_audit_reader(actor)
    found: list[Entry] = []
    if direction in (None, INCOMING):
        found += [_incoming(row) for row in session.scalars(select(IncomingDisclosure))]
    if direction in (None, OUTGOING):
        found += [
            _outgoing(row, reference)
            for row, reference in session.execute(
                select(OutgoingDisclosure, Referral.reference).join(
                    Referral, Referral.id == OutgoingDisclosure.referral_id
                )
            )
        ]
    found.sort(key=lambda entry: entry.opened_at, reverse=True)
    audit.record(session, actor, "disclosure.register", detail={"direction": direction or "both"})
    return found


def entry(session: Session, actor: Actor, ref: str) -> tuple[Entry, list[Step]]:
    """One request and its steps (`ref` as the register shows it: in-4, out-2). Audited."""
    require_audit_reader(actor)
    direction, _, number = ref.partition("-")
    if direction not in (INCOMING, OUTGOING) or not number.isdigit() or len(number) > 9:
        raise DisclosureError(
            f"{ref!r} is not a request's reference: in-N (made of this hub) or out-N (made by it)",
            field="id",
        )
    if direction == INCOMING:
        incoming = session.get(IncomingDisclosure, int(number))
        shown = _incoming(incoming) if incoming is not None else None
        column = DisclosureEvent.incoming_id
    else:
        outgoing = session.get(OutgoingDisclosure, int(number))
        shown = (
            _outgoing(outgoing, session.get_one(Referral, outgoing.referral_id).reference)
            if outgoing is not None
            else None
        )
        column = DisclosureEvent.outgoing_id
    if shown is None:
        raise DisclosureError(f"{ref}: no such request", code=ErrorCode.NOT_FOUND)
    steps = [
        Step(event.at, event.actor, event.step)
        for event in session.scalars(
            select(DisclosureEvent).where(column == int(number)).order_by(DisclosureEvent.id)
        )
    ]
    audit.record(session, actor, "disclosure.register", object_ref=f"disclosure-{ref}")
    return shown, steps


def _incoming(row: IncomingDisclosure) -> Entry:
    return Entry(
        f"{INCOMING}-{row.id}",
        row.asker_name,
        row.referral_reference,
        row.urgency.value,
        row.state.value,
        row.received_at,
        row.deadline_at,
        row.answered_at,
        row.answer_delivered_at,
        row.attempts,
        row.last_error,
    )


def _outgoing(row: OutgoingDisclosure, reference: str) -> Entry:
    return Entry(
        f"{OUTGOING}-{row.id}",
        row.holder_name,
        reference,
        row.urgency.value,
        row.state.value,
        row.created_at,
        row.deadline_at,
        row.closed_at,
        row.acknowledged_at,
        row.attempts,
        row.last_error,
    )
