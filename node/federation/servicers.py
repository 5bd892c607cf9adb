"""The federation's gRPC servicers: thin adapters over `answering` (the holder's evaluation of
a check), `index` (the published filter) and `node.disclosures` (requests and answers), each
refusal a status with a message."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import grpc
from sqlalchemy.orm import Session

from mash_common.errors import Refused
from mash_common.pki import borough_of_peer
from node.access import Actor
from node.disclosures import asking, holding, wire
from node.errors import DomainError
from node.federation import index
from node.federation.answering import Answering
from node.federation.peers import Peer, PeerBook, as_book, peer_of
from node.federation.receiving import Receiver, audit_refusal
from node.runtime import Node
from protos.mash.federation.v1 import (
    check_pb2,
    check_pb2_grpc,
    disclosure_pb2,
    disclosure_pb2_grpc,
)

CHUNK_BYTES = 1 << 20


class ExistenceCheckServicer(check_pb2_grpc.ExistenceCheckServicer):
    """Answers peers' checks, and sends them this node's filter as a snapshot or a delta."""

    def __init__(self, node: Node, answering: Answering) -> None:
        self._node = node
        self._answering = answering

    def Check(
        self, request: check_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> check_pb2.CheckResponse:
        answer = self._answering.answer(borough_of_peer(context), request)
        return check_pb2.CheckResponse(
            epoch=answer.epoch, evaluated_elements=answer.evaluated, proof=answer.proof
        )

    def FilterSnapshot(
        self, request: check_pb2.FilterRequest, context: grpc.ServicerContext
    ) -> Iterator[check_pb2.FilterChunk]:
        epoch = request.epoch or index.published_epoch(self._node)
        if epoch is None:
            context.abort(
                grpc.StatusCode.UNAVAILABLE, "no filter published yet: the index is being built"
            )
        published = index.current_snapshot(self._node, epoch)
        if published is None or not index.honoured(self._node, epoch):
            context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, f"no filter of epoch {epoch} is published here"
            )
        try:
            data = published.path.read_bytes()
        except FileNotFoundError:  # replaced by a newer snapshot just now
            context.abort(grpc.StatusCode.UNAVAILABLE, "the filter is being rebuilt: ask again")
        for start in range(0, len(data), CHUNK_BYTES):
            yield check_pb2.FilterChunk(data=data[start : start + CHUNK_BYTES])
        yield check_pb2.FilterChunk(
            trailer=self._trailer(
                index.SNAPSHOT, epoch, 0, published.sequence, data, published.digest
            )
        )

    def FilterDelta(
        self, request: check_pb2.FilterDeltaRequest, context: grpc.ServicerContext
    ) -> Iterator[check_pb2.FilterChunk]:
        if request.epoch != index.published_epoch(self._node):
            context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"epoch {request.epoch} is not the one published now: fetch the snapshot",
            )
        try:
            delta, sequence = index.delta_since(self._node, request.epoch, request.since_sequence)
        except LookupError as exc:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{exc}: fetch the snapshot")
        data = delta.to_bytes()
        yield check_pb2.FilterChunk(data=data)
        yield check_pb2.FilterChunk(
            trailer=self._trailer(
                index.DELTA, request.epoch, request.since_sequence, sequence, data, None
            )
        )

    def _trailer(
        self, kind: str, epoch: int, since: int, sequence: int, data: bytes, digest: bytes | None
    ) -> check_pb2.FilterTrailer:
        keys = self._node.keys
        digest = digest or hashlib.sha256(data).digest()
        borough = self._node.config.borough_code
        public_key = keys.oprf_public_key_of(epoch)
        message = index.trailer_message(
            borough, kind, epoch, since, sequence, len(data), digest, public_key
        )
        return check_pb2.FilterTrailer(
            epoch=epoch,
            sequence=sequence,
            size=len(data),
            digest=digest,
            signature=keys.sign(message),
            key_id=keys.signing_key_id,
            oprf_public_key=public_key,
            kind=kind,
            borough=borough,
            since_sequence=since,
        )


Ack = disclosure_pb2.Acknowledgement
P = TypeVar(
    "P", disclosure_pb2.RequestPayload, disclosure_pb2.RequestRef, disclosure_pb2.AnswerPayload
)


class DisclosureServicer(disclosure_pb2_grpc.DisclosureServicer):
    """Takes peers' disclosure requests, cancels and status questions (as the holder) and the
    answers to this node's own requests (as the asker). Each call is one transaction with its
    nonce and audit entry; a refusal is audited and returned as a status with a message."""

    def __init__(self, node: Node, peers: Sequence[Peer] | PeerBook) -> None:
        self._node = node
        self._book = as_book(peers)
        self._receiver = Receiver(self._book)

    def Request(
        self, request: disclosure_pb2.SignedRequest, context: grpc.ServicerContext
    ) -> disclosure_pb2.Acknowledgement:
        def act(session: Session, peer: Actor, payload: disclosure_pb2.RequestPayload) -> Ack:
            known = peer_of(self._book, peer.borough or "")
            name = known.name if known else peer.borough or ""
            received = holding.receive_request(
                session, self._node.config, self._node.keys, peer, name, payload
            )
            return _acknowledgement(received.state, received.repeated, received.deadline)

        return self._handle(context, request, wire.REQUEST, disclosure_pb2.RequestPayload, act)

    def Status(
        self, request: disclosure_pb2.SignedRequest, context: grpc.ServicerContext
    ) -> disclosure_pb2.Acknowledgement:
        def act(session: Session, peer: Actor, payload: disclosure_pb2.RequestRef) -> Ack:
            received = holding.status_for_asker(session, peer, payload.idempotency_key)
            return _acknowledgement(received.state, received.repeated, received.deadline)

        return self._handle(context, request, wire.REFERENCE, disclosure_pb2.RequestRef, act)

    def Cancel(
        self, request: disclosure_pb2.SignedRequest, context: grpc.ServicerContext
    ) -> disclosure_pb2.Acknowledgement:
        def act(session: Session, peer: Actor, payload: disclosure_pb2.RequestRef) -> Ack:
            received = holding.cancel_by_asker(
                session, peer, payload.idempotency_key, payload.reason
            )
            return _acknowledgement(received.state, received.repeated, received.deadline)

        return self._handle(context, request, wire.REFERENCE, disclosure_pb2.RequestRef, act)

    def Answer(
        self, request: disclosure_pb2.SignedRequest, context: grpc.ServicerContext
    ) -> disclosure_pb2.Acknowledgement:
        def act(session: Session, peer: Actor, payload: disclosure_pb2.AnswerPayload) -> Ack:
            state, repeated = asking.receive_answer(session, self._node.keys, peer, payload)
            return _acknowledgement(state, repeated, None)

        return self._handle(context, request, wire.ANSWER, disclosure_pb2.AnswerPayload, act)

    def _handle(
        self,
        context: grpc.ServicerContext,
        request: disclosure_pb2.SignedRequest,
        message_type: str,
        parse: type[P],
        act: Callable[[Session, Actor, P], Ack],
    ) -> Ack:
        borough = borough_of_peer(context)
        peer = Actor.peer(borough, "unknown")
        try:
            with self._node.unit_of_work() as session:
                payload = self._receiver.open(
                    session, request.envelope, message_type, parse.FromString, borough
                )
                peer = Actor.peer(borough, payload.header.user_pseudonym[:40] or "unnamed")
                return act(session, peer, payload)
        except (Refused, DomainError) as refusal:
            audit_refusal(self._node, peer, "disclosure.refused", refusal)
            raise


def _acknowledgement(state: str, repeated: bool, deadline: dt.datetime | None) -> Ack:
    return Ack(
        state=state,
        repeated=repeated,
        deadline_ms=int(deadline.timestamp() * 1000) if deadline else 0,
    )
