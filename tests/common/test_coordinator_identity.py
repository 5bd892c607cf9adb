"""The coordinator's reserved TLS identity: issued by the federation CA, never a borough's, and
the only certificate a node's channel to the coordinator accepts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mash_common import ca
from mash_common.boroughs import is_borough_code
from mash_common.client import coordinator_channel
from mash_common.pki import (
    COORDINATOR_COMMON_NAME,
    COORDINATOR_SERVER_NAME,
    COORDINATOR_URI,
    CertificateError,
    borough_of_certificate,
    is_coordinator_certificate,
    make_coordinator_csr,
    make_csr,
)
from mash_common.server import Service, run_server
from mash_common.tls import TlsIdentity, server_credentials
from protos.mash.federation.v1 import node_pb2, node_pb2_grpc


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TlsIdentity]:
    root = tmp_path_factory.mktemp("coordinator-identity")
    ca.init_ca(root / "ca")
    ca.issue_coordinator_with_key(root / "ca", root / "coordinator")
    ca.issue_with_key(root / "ca", "hackney", root / "hackney")
    return {
        "coordinator": TlsIdentity.from_dir(root / "coordinator", coordinator=True),
        "hackney": TlsIdentity.from_dir(root / "hackney"),
    }


def test_the_coordinator_certificate_carries_only_its_reserved_names(
    issued: dict[str, TlsIdentity],
) -> None:
    certificate = x509.load_pem_x509_certificate(issued["coordinator"].certificate)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value

    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        COORDINATOR_COMMON_NAME
    )
    assert names.get_values_for_type(x509.DNSName) == [COORDINATOR_SERVER_NAME]
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == [COORDINATOR_URI]
    assert not is_borough_code(COORDINATOR_COMMON_NAME)
    assert is_coordinator_certificate(certificate)
    assert issued["coordinator"].is_coordinator and issued["coordinator"].borough == ""
    with pytest.raises(CertificateError):
        borough_of_certificate(certificate)


def test_a_borough_certificate_is_never_the_coordinators_nor_the_reverse(
    issued: dict[str, TlsIdentity], tmp_path: Path
) -> None:
    hackney = x509.load_pem_x509_certificate(issued["hackney"].certificate)
    assert not is_coordinator_certificate(hackney)
    with pytest.raises(CertificateError, match="not the coordinator's"):
        TlsIdentity.of(
            issued["hackney"].key,
            issued["hackney"].certificate,
            issued["hackney"].ca_certificate,
            coordinator=True,
        )
    with pytest.raises(CertificateError):
        TlsIdentity.of(
            issued["coordinator"].key,
            issued["coordinator"].certificate,
            issued["coordinator"].ca_certificate,
        )


def test_the_ca_issues_the_coordinator_from_its_request_and_refuses_a_boroughs(
    tmp_path: Path,
) -> None:
    ca.init_ca(tmp_path / "ca")
    request = make_coordinator_csr(tmp_path / "tls.key")
    certificate = x509.load_pem_x509_certificate(ca.issue_coordinator(tmp_path / "ca", request))
    assert is_coordinator_certificate(certificate)

    with pytest.raises(ca.CaError, match="'camden', not the coordinator"):
        ca.issue_coordinator(tmp_path / "ca", make_csr("camden", tmp_path / "camden.key"))
    with pytest.raises(ca.CaError, match="not 'camden'"):
        ca.issue(tmp_path / "ca", "camden", request)


@pytest.fixture
def server_as(issued: dict[str, TlsIdentity]) -> Iterator[dict[str, int]]:
    """Two real servers on loopback: one presenting the coordinator's certificate, one
    hackney's."""
    ports = {}
    service = Service.of(
        node_pb2.DESCRIPTOR.services_by_name["NodeInfo"],
        node_pb2_grpc.NodeInfoServicer(),
        node_pb2_grpc.add_NodeInfoServicer_to_server,
    )
    with (
        run_server(
            [service],
            host="127.0.0.1",
            port=0,
            credentials=server_credentials(issued["coordinator"]),
        ) as coordinator,
        run_server(
            [service], host="127.0.0.1", port=0, credentials=server_credentials(issued["hackney"])
        ) as hackney,
    ):
        ports["coordinator"], ports["hackney"] = coordinator, hackney
        yield ports


def _health(port: int, identity: TlsIdentity) -> int:
    channel = coordinator_channel(f"127.0.0.1:{port}", identity, default_timeout=5)
    try:
        stub = health_pb2_grpc.HealthStub(channel)
        return int(stub.Check(health_pb2.HealthCheckRequest()).status)
    finally:
        channel.close()


def test_a_nodes_channel_to_the_coordinator_accepts_only_the_coordinators_certificate(
    issued: dict[str, TlsIdentity], server_as: dict[str, int]
) -> None:
    assert _health(server_as["coordinator"], issued["hackney"]) == (
        health_pb2.HealthCheckResponse.SERVING
    )
    with pytest.raises(grpc.RpcError) as refused:
        _health(server_as["hackney"], issued["hackney"])  # a borough posing as the coordinator
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
