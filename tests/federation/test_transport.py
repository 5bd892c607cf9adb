"""The federation's transport for real: gRPC servers over mutual TLS on loopback, each refusal a
typed status with a clear message, health and reflection answering a stock client."""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from mash_common.pki import load_private_key, new_private_key, private_key_pem
from mash_common.server import ServerStartError, Service, run_server
from mash_common.status import ERROR_FIELD_KEY, error_code_of
from mash_common.tls import TlsIdentity, server_credentials
from protos.mash.federation.v1 import check_pb2, check_pb2_grpc
from tests.mtls import (
    CHECK_SERVICE,
    EchoCheck,
    FakeClock,
    Federation,
    acceptance,
    channel_to,
    check_request,
    check_server,
    make_federation,
    wait_serving,
)


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Federation:
    return make_federation(tmp_path_factory.mktemp("federation"))


@pytest.fixture(scope="module")
def hackney_port(federation: Federation) -> Iterator[int]:
    """Hackney's server, for the module: it accepts the federation's keys on its own clock."""
    with check_server(federation, "hackney", acceptance(federation)) as port:
        yield port


@pytest.fixture
def camden_stub(
    federation: Federation, hackney_port: int
) -> Iterator[check_pb2_grpc.ExistenceCheckStub]:
    """Camden's client of hackney's server, connected and healthy."""
    with channel_to(hackney_port, "hackney", federation.identities["camden"]) as channel:
        wait_serving(channel)
        yield check_pb2_grpc.ExistenceCheckStub(channel)


def refused(call, *args) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        call(*args)
    return caught.value


def test_a_signed_check_from_its_certified_borough_is_answered(
    federation: Federation, camden_stub: check_pb2_grpc.ExistenceCheckStub
) -> None:
    elements = (b"\x01" * 32, b"\x02" * 32)
    response = camden_stub.Check(check_request(federation, "camden", elements=elements))
    assert list(response.evaluated_elements) == list(elements)


def test_an_envelope_signed_as_another_borough_than_the_certificate_is_refused(
    federation: Federation, camden_stub: check_pb2_grpc.ExistenceCheckStub
) -> None:
    # Lambeth's valid signature, sent over camden's connection.
    error = refused(camden_stub.Check, check_request(federation, "lambeth"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_code_of(error) == "wrong-borough"
    assert "'lambeth'" in error.details() and "'camden'" in error.details()


def test_a_header_naming_another_borough_than_the_envelope_is_refused(
    federation: Federation, camden_stub: check_pb2_grpc.ExistenceCheckStub
) -> None:
    request = check_request(federation, "camden", header_borough="lambeth")
    error = refused(camden_stub.Check, request)
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_code_of(error) == "wrong-borough"
    assert "header" in error.details()


def test_a_replayed_envelope_is_refused(
    federation: Federation, camden_stub: check_pb2_grpc.ExistenceCheckStub
) -> None:
    request = check_request(federation, "camden")
    camden_stub.Check(request)
    error = refused(camden_stub.Check, request)
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_code_of(error) == "replayed"
    assert "replayed" in error.details()


@pytest.mark.parametrize(("seconds", "words"), [(-301, "behind"), (301, "ahead of")])
def test_an_envelope_outside_the_window_is_refused(
    federation: Federation,
    camden_stub: check_pb2_grpc.ExistenceCheckStub,
    seconds: int,
    words: str,
) -> None:
    clock = FakeClock(time.time() + seconds)
    error = refused(camden_stub.Check, check_request(federation, "camden", clock=clock))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_code_of(error) == "stale"
    assert words in error.details() and "300 s" in error.details()
    # Just inside the window is fine.
    inside = FakeClock(time.time() + (seconds * 280) // 301)
    camden_stub.Check(check_request(federation, "camden", clock=inside))


def test_an_unknown_key_id_is_refused(
    federation: Federation, camden_stub: check_pb2_grpc.ExistenceCheckStub
) -> None:
    request = check_request(federation, "camden")
    request.envelope.key_id = "00" * 8
    error = refused(camden_stub.Check, request)
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_code_of(error) == "unknown-key"
    assert "'0000000000000000'" in error.details()


@pytest.mark.parametrize("part", ["signature", "payload"])
def test_a_bad_signature_is_refused(
    federation: Federation, camden_stub: check_pb2_grpc.ExistenceCheckStub, part: str
) -> None:
    request = check_request(federation, "camden")
    value = bytearray(getattr(request.envelope, part))
    value[len(value) // 2] ^= 0x10
    setattr(request.envelope, part, bytes(value))
    error = refused(camden_stub.Check, request)
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_code_of(error) == "bad-signature"


def test_an_unaccepted_key_set_version_is_a_failed_precondition(
    federation: Federation, camden_stub: check_pb2_grpc.ExistenceCheckStub
) -> None:
    error = refused(camden_stub.Check, check_request(federation, "camden", key_set_version=1))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_code_of(error) == "key-set-version"
    assert "version 1" in error.details() and "accepted: 2" in error.details()


def test_malformed_requests_are_invalid_arguments(
    federation: Federation, hackney_port: int, camden_stub: check_pb2_grpc.ExistenceCheckStub
) -> None:
    error = refused(camden_stub.Check, check_pb2.CheckRequest())
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "no signed envelope" in error.details()
    with channel_to(hackney_port, "hackney", federation.identities["camden"]) as channel:
        raw = channel.unary_unary("/mash.federation.v1.ExistenceCheck/Check")
        error = refused(raw, b"\xff\xff\xff")  # not a CheckRequest at all
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid message" in error.details()


def test_a_servicers_own_status_stands(
    federation: Federation, camden_stub: check_pb2_grpc.ExistenceCheckStub
) -> None:
    error = refused(camden_stub.Check, check_request(federation, "camden", purpose="abort"))
    assert error.code() == grpc.StatusCode.OUT_OF_RANGE
    assert error.details() == "the servicer's own status"


def test_every_call_has_a_deadline(federation: Federation, hackney_port: int) -> None:
    camden = federation.identities["camden"]
    with channel_to(hackney_port, "hackney", camden, timeout=0.3) as channel:
        stub = check_pb2_grpc.ExistenceCheckStub(channel)
        started = time.monotonic()
        error = refused(stub.Check, check_request(federation, "camden", purpose="hang"))
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 3


def test_streamed_errors_become_statuses_without_internals(
    camden_stub: check_pb2_grpc.ExistenceCheckStub,
) -> None:
    chunks = list(camden_stub.FilterSnapshot(check_pb2.FilterRequest(epoch=1)))
    assert [c.data for c in chunks[:2]] == [b"first", b"second"]
    assert chunks[2].trailer.size == 11

    stream = camden_stub.FilterSnapshot(check_pb2.FilterRequest(epoch=2))
    assert next(stream).data == b"first"
    with pytest.raises(grpc.RpcError) as caught:
        next(stream)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == "no filter of epoch 2"
    assert (ERROR_FIELD_KEY, "epoch") in caught.value.trailing_metadata()

    error = refused(list, camden_stub.FilterSnapshot(check_pb2.FilterRequest(epoch=3)))
    assert error.code() == grpc.StatusCode.INTERNAL
    assert "SECRET" not in error.details() and "Traceback" not in error.details()
    assert error.details() == "internal error; the server's log has the details"


def test_a_client_certificate_of_another_ca_fails_the_handshake(
    federation: Federation, hackney_port: int
) -> None:
    with channel_to(hackney_port, "hackney", federation.impostor) as channel:
        stub = check_pb2_grpc.ExistenceCheckStub(channel)
        error = refused(stub.Check, check_request(federation, "hackney"))
    assert error.code() == grpc.StatusCode.UNAVAILABLE


def test_a_client_refuses_a_server_certified_as_another_borough(
    federation: Federation, hackney_port: int
) -> None:
    with channel_to(hackney_port, "camden", federation.identities["lambeth"]) as channel:
        stub = check_pb2_grpc.ExistenceCheckStub(channel)
        error = refused(stub.Check, check_request(federation, "lambeth"))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert "Hostname Verification" in error.details() or "handshake" in error.details().lower()


def test_a_federation_certificate_naming_no_borough_is_unauthenticated(
    federation: Federation, hackney_port: int
) -> None:
    ca_key = load_private_key((federation.ca_dir / "ca.key").read_bytes(), "ca.key")
    ca_cert = x509.load_pem_x509_certificate((federation.ca_dir / "ca.crt").read_bytes())
    key = new_private_key()
    now = dt.datetime.now(dt.UTC)
    nameless = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "monitoring")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    identity = TlsIdentity(
        private_key_pem(key),
        nameless.public_bytes(serialization.Encoding.PEM),
        federation.identities["hackney"].ca_certificate,
        "",
    )
    with channel_to(hackney_port, "hackney", identity) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        error = refused(health.Check, health_pb2.HealthCheckRequest())
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_code_of(error) == "unidentified-peer"
    assert "names no borough" in error.details()


def test_health_and_reflection_answer_a_stock_client(
    federation: Federation, hackney_port: int
) -> None:
    with channel_to(hackney_port, "hackney", federation.identities["camden"]) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "mash.federation.v1.ExistenceCheck"):
            answer = health.Check(health_pb2.HealthCheckRequest(service=service))
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
        error = refused(health.Check, health_pb2.HealthCheckRequest(service="no.Such"))
        assert error.code() == grpc.StatusCode.NOT_FOUND

        database = ProtoReflectionDescriptorDatabase(channel)
        assert set(database.get_services()) == {
            "mash.federation.v1.ExistenceCheck",
            "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection",
        }
        pool = descriptor_pool.DescriptorPool(database)
        check = pool.FindServiceByName("mash.federation.v1.ExistenceCheck")
        assert [m.name for m in check.methods] == ["Check", "FilterSnapshot", "FilterDelta"]
        payload = pool.FindMessageTypeByName("mash.federation.v1.CheckPayload")
        assert payload.fields_by_name["header"].message_type.name == "RequestHeader"


def test_a_stopped_server_no_longer_listens(federation: Federation) -> None:
    with (
        check_server(federation, "lambeth", acceptance(federation)) as port,
        channel_to(port, "lambeth", federation.identities["camden"]) as channel,
    ):
        wait_serving(channel, "mash.federation.v1.ExistenceCheck")
    # Stopped: nothing listens on the port any more.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_taken_port_is_an_error_naming_it(federation: Federation, hackney_port: int) -> None:
    service = Service.of(
        CHECK_SERVICE,
        EchoCheck(acceptance(federation)),
        check_pb2_grpc.add_ExistenceCheckServicer_to_server,
    )
    credentials = server_credentials(federation.identities["hackney"])
    with (
        pytest.raises(ServerStartError, match=f"127.0.0.1:{hackney_port}"),
        run_server([service], host="127.0.0.1", port=hackney_port, credentials=credentials),
    ):
        pass


def test_tls_identity_refuses_mismatched_files(federation: Federation, tmp_path: Path) -> None:
    from mash_common.pki import CertificateError

    hackney, camden = federation.identities["hackney"], federation.identities["camden"]
    with pytest.raises(CertificateError, match="not for"):
        TlsIdentity.of(hackney.key, camden.certificate, hackney.ca_certificate)
    with pytest.raises(CertificateError, match="not issued by"):
        TlsIdentity.of(
            federation.impostor.key, federation.impostor.certificate, hackney.ca_certificate
        )
