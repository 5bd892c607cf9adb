"""`serve_grpc`: the coordinator's gRPC server (mutual TLS with the federation CA, presenting the
coordinator's reserved identity), serving the Evaluation service with health and reflection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from coordinator.federation.reports import EVALUATION_SERVICE, EvaluationServicer, acceptance
from coordinator.keys import KeyFileError
from coordinator.runtime import Coordinator
from mash_common.files import PrivateFileError
from mash_common.pki import CertificateError
from mash_common.server import Service, run_server
from mash_common.tls import TlsIdentity, server_credentials
from protos.mash.coordinator.v1 import reports_pb2_grpc


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
    """Serve the Evaluation service until the block ends, yielding the bound port (port 0: an
    ephemeral one); host and port default to the config's [grpc] section."""
    settings = coordinator.config.grpc
    service = Service.of(
        EVALUATION_SERVICE,
        EvaluationServicer(coordinator, acceptance(coordinator)),
        reports_pb2_grpc.add_EvaluationServicer_to_server,
    )
    with run_server(
        [service],
        host=settings.host if host is None else host,
        port=settings.port if port is None else port,
        credentials=server_credentials(load_tls(coordinator)),
    ) as bound:
        yield bound
