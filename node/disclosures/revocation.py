"""Disclosures with a revoked node end as cancelled: when the federation directory lists a
borough's node as revoked, this node's open requests to it and its open requests from it are
cancelled, and so is an answer to it sealed but not yet delivered (its sealed copy is dropped);
a withdrawal not yet delivered to it is not sent. No one is told over the wire: the revoked node
is not called again, and it cancels its own side when it learns of its revocation
(`everything=True`)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor
from node.disclosures import holding
from node.disclosures.asking import WAITING, _on_referral, _step
from node.store.models import (
    DisclosureEvent,
    IncomingDisclosure,
    IncomingState,
    OutgoingDisclosure,
    OutgoingState,
    utcnow,
)

ACTOR = Actor.system("directory")


def cancel_with_revoked(
    session: Session, revoked: Collection[str], *, everything: bool = False, reason: str = ""
) -> int:
    """Cancel the open disclosures with the `revoked` boroughs (all of them if `everything`:
    this node is the one revoked); returns how many were cancelled."""
    if not revoked and not everything:
        return 0
    now = utcnow()
    outgoing = select(OutgoingDisclosure).where(OutgoingDisclosure.state.in_(WAITING))
    incoming = select(IncomingDisclosure).where(IncomingDisclosure.state.in_(holding.OPEN))
    undelivered = select(IncomingDisclosure).where(
        IncomingDisclosure.sealed_answer.is_not(None),
        IncomingDisclosure.answer_delivered_at.is_(None),
    )
    withdrawals = select(OutgoingDisclosure).where(
        OutgoingDisclosure.state == OutgoingState.CANCELLED,
        OutgoingDisclosure.cancel_delivered.is_(False),
    )
    if not everything:
        outgoing = outgoing.where(OutgoingDisclosure.holder.in_(list(revoked)))
        incoming = incoming.where(IncomingDisclosure.asker.in_(list(revoked)))
        undelivered = undelivered.where(IncomingDisclosure.asker.in_(list(revoked)))
        withdrawals = withdrawals.where(OutgoingDisclosure.holder.in_(list(revoked)))
    for withdrawn in session.scalars(withdrawals.with_for_update()):
        withdrawn.cancel_delivered = True  # the revoked holder is not called again
        withdrawn.next_attempt_at = None
        withdrawn.version += 1
    cancelled = 0
    for request in session.scalars(outgoing.with_for_update()):
        why = reason or f"{request.holder_name}'s node was revoked by the coordinator"
        request.state = OutgoingState.CANCELLED
        request.cancel_reason = why
        request.cancel_delivered = True  # the revoked side is not called again
        request.closed_at = now
        request.next_attempt_at = None
        request.version += 1
        _step(session, ACTOR, request, f"Cancelled: {why}")
        _on_referral(session, ACTOR, request, "disclosure-cancelled", f"cancelled: {why}")
        cancelled += 1
    for answered in session.scalars(undelivered.with_for_update()):
        _end_incoming(session, answered, reason, was=answered.state.value)
        answered.sealed_answer = None  # never to be sent: the answer's copy is not kept
        answered.next_attempt_at = None
        cancelled += 1
    for received in session.scalars(incoming.with_for_update()):
        _end_incoming(session, received, reason, was=received.state.value)
        cancelled += 1
    session.flush()
    return cancelled


def _end_incoming(session: Session, received: IncomingDisclosure, reason: str, was: str) -> None:
    why = reason or f"{received.asker_name}'s node was revoked by the coordinator"
    received.state = IncomingState.CANCELLED
    received.version += 1
    session.add(
        DisclosureEvent(
            incoming_id=received.id, actor=ACTOR.username, step="cancelled", summary=why
        )
    )
    audit.record(
        session,
        ACTOR,
        "disclosure.cancelled",
        object_ref=f"disclosure-in:{received.id}",
        purpose="node revoked in the federation directory",
        detail={"state": received.state.value, "was": was},
    )
