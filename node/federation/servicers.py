"""The federation's gRPC servicers for existence checks: thin adapters over `answering` (the
holder's evaluation) and `index` (the published filter), each refusal a status with a message."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import grpc

from mash_common.pki import borough_of_peer
from node.federation import index
from node.federation.answering import Answering
from node.runtime import Node
from protos.mash.federation.v1 import check_pb2, check_pb2_grpc

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
