"""The Evaluation service: a node's monthly figures, received, verified and stored.

Before anything is stored, in order: the caller's certificate must be a federation certificate
naming a borough (mash_common's interceptors), and the very certificate this coordinator's config
lists for that borough's node (until the directory of part 2 replaces the config); the envelope
must be signed by that borough (the borough of the certificate) with the verify key the config
lists, fresh and never replayed (mash_common.envelope, nonces kept in the store); the figures
must keep the rules of mash_common.evaluation (no unsuppressed count of 1 to 4). A refusal is a
gRPC status with a clear message and its code in the `mash-error-code` trailer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache

import grpc
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from coordinator.config import CoordinatorConfig
from coordinator.errors import DomainError, ErrorCode
from coordinator.evaluation.ingest import store_report
from coordinator.evaluation.nonces import StoredNonces
from coordinator.runtime import Coordinator
from coordinator.store.models import ReceiptOutcome, utcnow
from mash_common.envelope import Acceptance, Keyring, open_envelope
from mash_common.evaluation import REPORT_KEY_SET_VERSION, REPORT_PAYLOAD, from_proto
from mash_common.pki import borough_of_peer
from protos.mash.coordinator.v1 import reports_pb2, reports_pb2_grpc

EVALUATION_SERVICE = reports_pb2.DESCRIPTOR.services_by_name["Evaluation"]
_OUTCOMES = {
    ReceiptOutcome.STORED: reports_pb2.SubmitReportResponse.STORED,
    ReceiptOutcome.REPLACED: reports_pb2.SubmitReportResponse.REPLACED,
    ReceiptOutcome.ALREADY_NEWER: reports_pb2.SubmitReportResponse.ALREADY_NEWER,
}


class UnknownNode(DomainError):
    """The caller is not a node this coordinator knows, or not with this certificate."""

    code = ErrorCode.FORBIDDEN


def acceptance(coordinator: Coordinator, clock: Callable[[], float] = time.time) -> Acceptance:
    """Whose envelopes the coordinator accepts: the configured nodes' verify keys, nonces kept in
    its store, no match keys (key set version 0), five minutes either way of its clock."""
    return Acceptance(
        verify_key_for=Keyring.of((n.borough, n.verify_key) for n in coordinator.config.nodes),
        nonces=StoredNonces(coordinator.sessions, clock),
        key_set_versions=frozenset({REPORT_KEY_SET_VERSION}),
        clock=clock,
    )


@lru_cache(maxsize=256)
def _der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)


def require_known_certificate(
    config: CoordinatorConfig, borough: str, context: grpc.ServicerContext
) -> None:
    """Refuse a caller whose borough has no node in the config, or whose certificate is not the
    one the config lists for it (a certificate of the same borough issued to someone else)."""
    node = config.node(borough)
    if node is None:
        raise UnknownNode(f"no node of {borough!r} is known to this coordinator")
    presented = context.auth_context().get("x509_pem_cert") or [b""]
    try:
        same = _der(presented[0]) == _der(node.certificate_pem)
    except ValueError:
        same = False
    if not same:
        raise UnknownNode(
            f"the certificate presented is not the one this coordinator knows for {borough!r}'s "
            "node"
        )


class EvaluationServicer(reports_pb2_grpc.EvaluationServicer):
    """Verifies and stores each monthly report, through the coordinator's unit of work."""

    def __init__(self, coordinator: Coordinator, accept: Acceptance) -> None:
        self._coordinator = coordinator
        self._accept = accept

    def SubmitMonthlyReport(
        self, request: reports_pb2.SubmitReportRequest, context: grpc.ServicerContext
    ) -> reports_pb2.SubmitReportResponse:
        borough = borough_of_peer(context)
        require_known_certificate(self._coordinator.config, borough, context)
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
