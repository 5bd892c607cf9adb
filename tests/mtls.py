"""A federation for transport tests: a CA, boroughs' TLS identities and signing keys, an impostor
with a certificate of another CA, and a test ExistenceCheck servicer that opens envelopes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from nacl.signing import SigningKey

from mash_common import ca
from mash_common.client import client_channel
from mash_common.envelope import Acceptance, Ed25519Signer, Keyring, new_header, open_envelope, seal
from mash_common.nonces import InMemoryNonceStore
from mash_common.pki import borough_of_peer
from mash_common.server import Service, run_server
from mash_common.tls import TlsIdentity, server_credentials
from protos.mash.federation.v1 import check_pb2, check_pb2_grpc

BOROUGHS = ("hackney", "camden", "lambeth")
KEY_SET_VERSION = 2
CHECK_PAYLOAD = check_pb2.CheckPayload.DESCRIPTOR.full_name
CHECK_SERVICE = check_pb2.DESCRIPTOR.services_by_name["ExistenceCheck"]


@dataclass(frozen=True)
class Federation:
    ca_dir: Path
    identities: dict[str, TlsIdentity]
    signers: dict[str, Ed25519Signer]
    impostor: TlsIdentity  # says it is hackney, certified by another CA

    def keyring(self) -> Keyring:
        return Keyring.of((b, s.verify_key) for b, s in self.signers.items())


def make_federation(directory: Path) -> Federation:
    ca.init_ca(directory / "ca")
    identities = {}
    for borough in BOROUGHS:
        ca.issue_with_key(directory / "ca", borough, directory / borough)
        identities[borough] = TlsIdentity.from_dir(directory / borough)
    ca.init_ca(directory / "rogue-ca")
    ca.issue_with_key(directory / "rogue-ca", "hackney", directory / "impostor")
    # The impostor trusts the real CA, so only the server's check of its certificate fails.
    impostor = replace(
        TlsIdentity.from_dir(directory / "impostor"),
        ca_certificate=identities["hackney"].ca_certificate,
    )
    signers = {b: Ed25519Signer(SigningKey.generate()) for b in BOROUGHS}
    return Federation(directory / "ca", identities, signers, impostor)


@dataclass
class FakeClock:
    now: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.now


class EchoCheck(check_pb2_grpc.ExistenceCheckServicer):
    """Opens each Check's envelope and echoes its elements; FilterSnapshot streams two chunks and
    a trailer for epoch 1, and fails after one chunk for others (2: a coded error, 3: a bug)."""

    def __init__(self, accept: Acceptance) -> None:
        self.accept = accept

    def Check(self, request, context):
        payload = open_envelope(
            request.envelope,
            CHECK_PAYLOAD,
            check_pb2.CheckPayload.FromString,
            peer_borough=borough_of_peer(context),
            accept=self.accept,
        )
        if payload.header.purpose == "abort":
            context.abort(grpc.StatusCode.OUT_OF_RANGE, "the servicer's own status")
        while payload.header.purpose == "hang" and context.is_active():
            time.sleep(0.01)  # until the caller's deadline passes
        return check_pb2.CheckResponse(epoch=1, evaluated_elements=list(payload.blinded_elements))

    def FilterSnapshot(self, request, context):
        yield check_pb2.FilterChunk(data=b"first")
        if request.epoch == 2:
            raise Coded("not-found", "no filter of epoch 2", field="epoch")
        if request.epoch == 3:
            raise RuntimeError("a bug that quotes SECRET-PAYLOAD")
        yield check_pb2.FilterChunk(data=b"second")
        yield check_pb2.FilterChunk(trailer=check_pb2.FilterTrailer(epoch=1, size=11))


class Coded(Exception):
    """Like node.errors.DomainError: a code string, a message and a field."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        self.code, self.message, self.field = code, message, field
        super().__init__(message)


def acceptance(federation: Federation, clock: Callable[[], float] = time.time) -> Acceptance:
    return Acceptance(
        verify_key_for=federation.keyring(),
        nonces=InMemoryNonceStore(clock),
        key_set_versions=frozenset({KEY_SET_VERSION}),
        clock=clock,
    )


@contextmanager
def check_server(
    federation: Federation, borough: str, accept: Acceptance, identity: TlsIdentity | None = None
) -> Iterator[int]:
    """A real server for `borough` (or presenting `identity`) on an ephemeral loopback port."""
    service = Service.of(
        CHECK_SERVICE, EchoCheck(accept), check_pb2_grpc.add_ExistenceCheckServicer_to_server
    )
    credentials = server_credentials(identity or federation.identities[borough])
    with run_server([service], host="127.0.0.1", port=0, credentials=credentials) as port:
        yield port


@contextmanager
def channel_to(
    port: int, borough: str, identity: TlsIdentity, timeout: float = 5.0
) -> Iterator[grpc.Channel]:
    channel = client_channel(f"127.0.0.1:{port}", borough, identity, default_timeout=timeout)
    try:
        yield channel
    finally:
        channel.close()


def wait_serving(channel: grpc.Channel, service: str = "") -> None:
    """Wait for the server's health to say SERVING (no sleeping: the call waits for ready)."""
    response = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=service), timeout=10, wait_for_ready=True
    )
    assert response.status == health_pb2.HealthCheckResponse.SERVING


def check_request(
    federation: Federation,
    borough: str,
    *,
    clock: FakeClock | None = None,
    header_borough: str | None = None,
    key_set_version: int = KEY_SET_VERSION,
    purpose: str = "MASH-2026-0142 check",
    elements: tuple[bytes, ...] = (b"\x01" * 32,),
) -> check_pb2.CheckRequest:
    """A CheckRequest signed by `borough`'s key, as its node would send it."""
    header = new_header(
        header_borough or borough,
        key_set_version=key_set_version,
        referral_reference="HAC-2026-0142",
        purpose=purpose,
        user_pseudonym="u-7f3a",
        clock=clock or time.time,
    )
    payload = check_pb2.CheckPayload(header=header, blinded_elements=list(elements))
    signer = federation.signers[borough]
    envelope = seal(payload.SerializeToString(), CHECK_PAYLOAD, signer, borough, signer.key_id)
    return check_pb2.CheckRequest(envelope=envelope)
