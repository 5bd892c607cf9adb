"""`serve_grpc`: the coordinator's gRPC server (mutual TLS with the federation CA, presenting the
coordinator's reserved identity), serving the Evaluation, NodeHealth and Directory services with
health and reflection; `serve_enrolment`: the enrolment port, where nodes without a certificate yet enrol
with a one-time token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from coordinator.federation.directory import DIRECTORY_SERVICE, DirectoryServicer
from coordinator.federation.enrolling import ENROLMENT_SERVICE, EnrolmentServicer
from coordinator.federation.health import HEALTH_SERVICE, NodeHealthServicer
from coordinator.federation.reports import EVALUATION_SERVICE, EvaluationServicer, acceptance
from coordinator.keys import KeyFileError
from coordinator.runtime import Coordinator
from mash_common.files import PrivateFileError
from mash_common.pki import CertificateError
from mash_common.server import Service, run_server
from mash_common.tls import TlsIdentity, server_credentials
from protos.mash.coordinator.v1 import directory_pb2_grpc, health_pb2_grpc, reports_pb2_grpc


def load_tls(coordinator: Coordinator) -> TlsIdentity:
    """The coordinator's TLS identity (`tls.key`, `tls.crt`, `federation-ca.crt` in
    `<data_dir>/tls`, made by `mash-coordinator init`)."""
    try:
        return TlsIdentity.from_dir(coordinator.config.tls_dir, coordinator=True)
    except (PrivateFileError, CertificateError) as exc:
        raise KeyFileError(
            f"{exc.message} (the coordinator's TLS files: `mash-coordinator init` makes them "
            f"with the federation CA in {coordinator.config.grpc.ca_dir})"
        ) from None


@contextmanager
def serve_grpc(
    coordinator: Coordinator, *, host: str | None = None, port: int | None = None
) -> Iterator[int]:
    """Serve the Evaluation, NodeHealth and Directory services until the block ends, yielding the bound port
    (port 0: an ephemeral one); host and port default to the config's [grpc] section."""
    settings = coordinator.config.grpc
    accept = acceptance(coordinator)
    services = [
        Service.of(
            EVALUATION_SERVICE,
            EvaluationServicer(coordinator, accept),
            reports_pb2_grpc.add_EvaluationServicer_to_server,
        ),
        Service.of(
            HEALTH_SERVICE,
            NodeHealthServicer(coordinator, accept),
            health_pb2_grpc.add_NodeHealthServicer_to_server,
        ),
        Service.of(
            DIRECTORY_SERVICE,
            DirectoryServicer(coordinator),
            directory_pb2_grpc.add_DirectoryServicer_to_server,
        ),
    ]
    with run_server(
        services,
        host=settings.host if host is None else host,
        port=settings.port if port is None else port,
        credentials=server_credentials(load_tls(coordinator)),
    ) as bound:
        yield bound


@contextmanager
def serve_enrolment(
    coordinator: Coordinator,
    *,
    coordinator_address: str,
    host: str | None = None,
    port: int | None = None,
) -> Iterator[int]:
    """Serve the Enrolment service on the enrolment port until the block ends, yielding the
    bound port. `coordinator_address` is the mutual-TLS address enrolled nodes are told."""
    settings = coordinator.config.grpc
    service = Service.of(
        ENROLMENT_SERVICE,
        EnrolmentServicer(coordinator, coordinator_address),
        directory_pb2_grpc.add_EnrolmentServicer_to_server,
    )
    with run_server(
        [service],
        host=settings.host if host is None else host,
        port=settings.enrol_port if port is None else port,
        credentials=None,
        peer_borough_required=False,
        max_workers=2,
    ) as bound:
        yield bound
