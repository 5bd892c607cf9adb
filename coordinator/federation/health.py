"""The NodeHealth service: heartbeats and audit checkpoints from the nodes, each in an envelope
signed by the node (its borough that of its certificate, fresh, never replayed, the key the
coordinator knows for it), and the checkpoints held of the caller's own log. Thin: the rules are
coordinator/nodes/heartbeats.py's and witness.py's."""

from __future__ import annotations

import logging
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from coordinator.federation.reports import require_known_certificate
from coordinator.nodes.heartbeats import record_heartbeat
from coordinator.nodes.known import known_keys
from coordinator.nodes.witness import held_checkpoints, witness
from coordinator.runtime import Coordinator
from coordinator.store.models import utcnow
from mash_common.envelope import Acceptance, open_envelope
from mash_common.pki import borough_of_peer
from protos.mash.coordinator.v1 import health_pb2, health_pb2_grpc
from protos.mash.federation.v1.envelope_pb2 import SignedEnvelope

HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["NodeHealth"]
HEARTBEAT_PAYLOAD = health_pb2.HeartbeatPayload.DESCRIPTOR.full_name
CHECKPOINTS_PAYLOAD = health_pb2.CheckpointsPayload.DESCRIPTOR.full_name
log = logging.getLogger(__name__)
M = TypeVar("M", bound=Message)


class NodeHealthServicer(health_pb2_grpc.NodeHealthServicer):
    def __init__(self, coordinator: Coordinator, accept: Acceptance) -> None:
        self._coordinator = coordinator
        self._accept = accept

    def _caller(self, context: grpc.ServicerContext) -> str:
        borough = borough_of_peer(context)
        require_known_certificate(self._coordinator, borough, context)
        return borough

    def _open(self, envelope: SignedEnvelope, message_type: str, kind: type[M], borough: str) -> M:
        """The signed message inside `envelope`, once the envelope's checks have passed."""
        return open_envelope(
            envelope, message_type, kind.FromString, peer_borough=borough, accept=self._accept
        )

    def Heartbeat(
        self, request: health_pb2.HeartbeatRequest, context: grpc.ServicerContext
    ) -> health_pb2.HeartbeatResponse:
        borough = self._caller(context)
        beat = self._open(request.envelope, HEARTBEAT_PAYLOAD, health_pb2.HeartbeatPayload, borough)
        now = utcnow()
        with self._coordinator.unit_of_work() as session:
            record_heartbeat(session, borough, beat, now)
        return health_pb2.HeartbeatResponse(received_at_ms=int(now.timestamp() * 1000))

    def SubmitCheckpoints(
        self, request: health_pb2.CheckpointsRequest, context: grpc.ServicerContext
    ) -> health_pb2.CheckpointsResponse:
        borough = self._caller(context)
        payload = self._open(
            request.envelope, CHECKPOINTS_PAYLOAD, health_pb2.CheckpointsPayload, borough
        )
        coordinator = self._coordinator
        with coordinator.unit_of_work() as session:
            verify_key = known_keys(session, coordinator.config, borough).verify_key
            done = witness(session, borough, verify_key, payload.checkpoints, utcnow())
        for why in done.inconsistencies:
            log.warning("audit witness: %s's log is inconsistent: %s", borough, why)
        return health_pb2.CheckpointsResponse(
            stored=done.stored,
            already_held=done.already_held,
            inconsistencies=list(done.inconsistencies),
        )

    def GetCheckpoints(
        self, request: health_pb2.GetCheckpointsRequest, context: grpc.ServicerContext
    ) -> health_pb2.HeldCheckpoints:
        borough = self._caller(context)
        with self._coordinator.reading() as session:
            rows, found = held_checkpoints(session, borough)
            return health_pb2.HeldCheckpoints(
                checkpoints=[
                    health_pb2.AuditCheckpoint(
                        size=r.size,
                        head_hash=r.head_hash,
                        signed_at=r.signed_at,
                        verify_key=r.verify_key,
                        signature=r.signature,
                    )
                    for r in rows
                ],
                inconsistencies=found,
            )
