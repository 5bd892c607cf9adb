"""The courier: delivers this node's disclosure messages until each is acknowledged, whatever
restarts in between. It sends requests and withdrawals to holders and answers to askers, each
freshly signed around what the store keeps, and asks a holder how an overdue request stands.

The store says what is due (`deliveries_due`, `answers_due`): a message is marked delivered
only in the transaction after its acknowledgement, so a crash between the two sends it again,
and the receiver recognises the repeat by its idempotency key. Each call waits at most
SEND_TIMEOUT_S; no store lock is held while it does.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence

import grpc

from mash_common.status import error_code_of
from node.disclosures import asking, holding, wire
from node.federation.asking import why_failed
from node.federation.peers import Peer, PeerBook, as_book, peer_of
from node.runtime import Node
from node.store.models import IncomingDisclosure, OutgoingDisclosure, Referral, utcnow
from protos.mash.federation.v1 import disclosure_pb2, disclosure_pb2_grpc

log = logging.getLogger(__name__)
SEND_TIMEOUT_S = 10.0
POLL_S = 0.5  # how often the store is asked what is due, when nothing was
EXPIRE_EVERY = dt.timedelta(minutes=1)  # how often requests past their expiry are closed
# A holder's refusal that asking again will not change (it never checked this request's
# referral, or the request is malformed); others (over its limit, a stale key set, a clock
# out of step) are tried again with backoff.
FINAL_REFUSALS = frozenset({"forbidden", "invalid", "not-found", "conflict"})


class Courier:
    """Delivers what is due, in a thread (`start`), or at once (`deliver`, from a web worker
    just after a manager presses send: the thread would pick it up within POLL_S anyway)."""

    def __init__(
        self, node: Node, peers: Sequence[Peer] | PeerBook, channel: Callable[[Peer], grpc.Channel]
    ) -> None:
        self._node = node
        self._peers = as_book(peers)
        self._channel = channel
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mash-courier", daemon=True)
        self._next_expiry = utcnow()

    def start(self) -> Courier:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=SEND_TIMEOUT_S + 5)

    def run_once(self) -> int:
        """Deliver everything due now; returns how many messages were tried."""
        now = utcnow()
        with self._node.reading() as session:
            outgoing = asking.deliveries_due(session, now)
            answers = holding.answers_due(session, now)
        if now >= self._next_expiry:
            self._next_expiry = now + EXPIRE_EVERY
            with self._node.unit_of_work() as session:
                holding.expire_overdue(session, now)
        for kind, disclosure_id in outgoing:
            self.deliver(kind, disclosure_id)
        for request_id in answers:
            self.deliver_answer(request_id)
        return len(outgoing) + len(answers)

    def deliver(self, kind: str, disclosure_id: int) -> None:
        """Send one of this node's requests, withdrawals or status questions, and record how
        it went."""
        node = self._node
        with node.reading() as session:
            request = session.get_one(OutgoingDisclosure, disclosure_id)
            reference = session.get_one(Referral, request.referral_id).reference
            peer = peer_of(self._peers, request.holder)
            payload: disclosure_pb2.RequestPayload | disclosure_pb2.RequestRef
            if kind == asking.REQUEST:
                payload = asking.request_payload(request)
            else:
                payload = disclosure_pb2.RequestRef(
                    idempotency_key=request.idempotency_key, reason=request.cancel_reason or ""
                )
            who = node.keys.pseudonym(request.requested_by)
            purpose = f"disclosure request for MASH referral {reference}"
        if peer is None:
            self._failed(kind, disclosure_id, f"{request.holder} is not a peer of this node")
            return
        signed = wire.signed(
            node.keys,
            node.config.borough_code,
            payload,
            referral_reference=reference,
            purpose=purpose,
            user_pseudonym=who,
        )
        stub = disclosure_pb2_grpc.DisclosureStub(self._channel(peer))
        call = {asking.REQUEST: stub.Request, asking.CANCEL: stub.Cancel}.get(kind, stub.Status)
        try:
            ack = call(signed, timeout=SEND_TIMEOUT_S)
        except grpc.RpcError as error:
            code = error_code_of(error)
            if kind == asking.CANCEL and code == "not-found":  # it never reached the holder
                with node.unit_of_work() as session:
                    asking.cancel_delivered(session, disclosure_id)
                return
            self._failed(kind, disclosure_id, why_failed(error), final=code in FINAL_REFUSALS)
            return
        with node.unit_of_work() as session:
            if kind == asking.REQUEST:
                deadline = (
                    dt.datetime.fromtimestamp(ack.deadline_ms / 1000, dt.UTC)
                    if ack.deadline_ms
                    else None
                )
                asking.acknowledged(session, disclosure_id, ack.state, deadline)
            elif kind == asking.CANCEL:
                asking.cancel_delivered(session, disclosure_id)
            else:
                asking.status_asked(session, disclosure_id, ack.state)

    def deliver_answer(self, request_id: int) -> None:
        """Send this node's answer to another borough's request, and record how it went."""
        node = self._node
        with node.reading() as session:
            request = session.get_one(IncomingDisclosure, request_id)
            payload = holding.answer_payload(request)
            peer = peer_of(self._peers, request.asker)
            reference, asker = request.referral_reference, request.asker_name
            who = node.keys.pseudonym(request.answered_by or "")
        if peer is None:
            with node.unit_of_work() as session:
                holding.answer_not_delivered(
                    session, request_id, f"{asker} is not a peer of this node"
                )
            return
        signed = wire.signed(
            node.keys,
            node.config.borough_code,
            payload,
            referral_reference=reference,
            purpose=f"answer to {asker}'s disclosure request",
            user_pseudonym=who,
        )
        try:
            disclosure_pb2_grpc.DisclosureStub(self._channel(peer)).Answer(
                signed, timeout=SEND_TIMEOUT_S
            )
        except grpc.RpcError as error:
            with node.unit_of_work() as session:
                holding.answer_not_delivered(session, request_id, why_failed(error))
            return
        with node.unit_of_work() as session:
            holding.answer_delivered(session, request_id)

    def _failed(self, kind: str, disclosure_id: int, why: str, *, final: bool = False) -> None:
        with self._node.unit_of_work() as session:
            if kind == asking.REQUEST:
                asking.not_delivered(session, disclosure_id, why, permanent=final)
            else:
                asking.retry_later(session, disclosure_id, why)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the courier must outlive any one failure; it is logged
                log.exception("delivering disclosures failed")
                busy = 0
            if not busy:
                self._stop.wait(POLL_S)
