"""The Evaluation service: a node's monthly figures, received, verified and stored.

Before anything is stored, in order: the caller's certificate must be a federation certificate
naming a borough (mash_common's interceptors), and the very certificate the coordinator knows
for that borough's node (enrolled and not revoked, or listed in its config:
coordinator/nodes/known.py); the envelope must be signed by that borough (the borough of the
certificate) with the verify key known for it, fresh and never replayed (mash_common.envelope,
nonces kept in the store); the figures must keep the rules of mash_common.evaluation (no
unsuppressed count of 1 to 4). A refusal is a gRPC status with a clear message and its code in
the `mash-error-code` trailer.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc

from coordinator.evaluation.ingest import store_report
from coordinator.evaluation.nonces import StoredNonces
from coordinator.nodes.known import UnknownNode, known_keys, require_known_caller
from coordinator.runtime import Coordinator
from coordinator.store.models import ReceiptOutcome, utcnow
from mash_common.envelope import Acceptance, open_envelope
from mash_common.envelope import key_id as envelope_key_id
from mash_common.evaluation import REPORT_KEY_SET_VERSION, REPORT_PAYLOAD, from_proto
from mash_common.pki import borough_of_peer
from protos.mash.coordinator.v1 import reports_pb2, reports_pb2_grpc

EVALUATION_SERVICE = reports_pb2.DESCRIPTOR.services_by_name["Evaluation"]
_OUTCOMES = {
    ReceiptOutcome.STORED: reports_pb2.SubmitReportResponse.STORED,
    ReceiptOutcome.REPLACED: reports_pb2.SubmitReportResponse.REPLACED,
    ReceiptOutcome.ALREADY_NEWER: reports_pb2.SubmitReportResponse.ALREADY_NEWER,
}


def acceptance(coordinator: Coordinator, clock: Callable[[], float] = time.time) -> Acceptance:
    """Whose envelopes the coordinator accepts: the known nodes' verify keys (the config's and
    the enrolled ones, coordinator/nodes/known.py), nonces kept in its store, no match keys (key
    set version 0), five minutes either way of its clock."""
    return Acceptance(
        verify_key_for=lambda borough, key_id: _verify_key(coordinator, borough, key_id),
        nonces=StoredNonces(coordinator.sessions, clock),
        key_set_versions=frozenset({REPORT_KEY_SET_VERSION}),
        clock=clock,
    )


def _verify_key(coordinator: Coordinator, borough: str, key_id: str) -> bytes | None:
    with coordinator.reading() as session:
        try:
            verify_key = known_keys(session, coordinator.config, borough).verify_key
        except UnknownNode:
            return None
    return verify_key if envelope_key_id(verify_key) == key_id else None


def require_known_certificate(
    coordinator: Coordinator, borough: str, context: grpc.ServicerContext
) -> None:
    """Refuse a caller whose borough has no known node, or whose certificate is not the one
    known for it (a certificate of the same borough issued to someone else, or revoked)."""
    presented = context.auth_context().get("x509_pem_cert") or [b""]
    with coordinator.reading() as session:
        require_known_caller(session, coordinator.config, borough, presented[0])


class EvaluationServicer(reports_pb2_grpc.EvaluationServicer):
    """Verifies and stores each monthly report, through the coordinator's unit of work."""

    def __init__(self, coordinator: Coordinator, accept: Acceptance) -> None:
        self._coordinator = coordinator
        self._accept = accept

    def SubmitMonthlyReport(
        self, request: reports_pb2.SubmitReportRequest, context: grpc.ServicerContext
    ) -> reports_pb2.SubmitReportResponse:
        borough = borough_of_peer(context)
        require_known_certificate(self._coordinator, borough, context)
        payload = open_envelope(
            request.envelope,
            REPORT_PAYLOAD,
            reports_pb2.ReportPayload.FromString,
            peer_borough=borough,
            accept=self._accept,
        )
        now = utcnow()
        with self._coordinator.unit_of_work() as session:
            outcome = store_report(
                session,
                borough,
                from_proto(payload.figures),
                envelope=request.envelope.SerializeToString(),
                key_id=request.envelope.key_id,
                now=now,
            )
        return reports_pb2.SubmitReportResponse(
            borough=borough,
            month=payload.figures.month,
            outcome=_OUTCOMES[outcome],
            received_at_ms=int(now.timestamp() * 1000),
        )
