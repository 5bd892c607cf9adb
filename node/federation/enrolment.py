"""Enrolling this node with the coordinator (`mash-node enrol`): the node's TLS key and
certificate request are made here (the key never leaves), its public keys and endpoint are sent
with a one-time token (mash_common/enrolment.py), and the coordinator's grant, once its MAC and
nonce check, gives the certificate (checked against the key and the CA), the CA, and the
directory key, which is pinned (node/keys.py `Enrolment`)."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from dataclasses import dataclass

import grpc

from mash_common.client import DefaultDeadline
from mash_common.enrolment import (
    REQUEST_LABEL,
    EnrolmentRefused,
    EnrolmentToken,
    grant_mac,
    request_mac,
    require_mac,
)
from mash_common.pki import CertificateError, make_csr
from mash_common.tls import CA_FILE, CERT_FILE, KEY_FILE, TlsIdentity
from node.config import NodeConfig
from node.errors import DomainError, ErrorCode
from node.federation.info import software_version
from node.keys import Enrolment, load_keys, save_enrolment
from protos.mash.coordinator.v1 import directory_pb2, directory_pb2_grpc


class EnrolmentFailed(DomainError):
    """The coordinator refused the enrolment, or its answer cannot be trusted."""

    code = ErrorCode.FORBIDDEN


@dataclass(frozen=True)
class Enrolled:
    borough: str
    coordinator_address: str
    directory_version: int


def enrol(
    config: NodeConfig,
    coordinator: str,
    token: EnrolmentToken,
    *,
    endpoint: str,
    timeout: float = 15.0,
) -> Enrolled:
    """Enrol with the coordinator's enrolment port at `coordinator` ("host:port")."""
    keys_dir = config.keys_dir
    keys = load_keys(keys_dir)
    csr = make_csr(config.borough_code, keys_dir / KEY_FILE)
    nonce = secrets.token_bytes(32)
    body = directory_pb2.EnrolBody(
        borough=config.borough_code,
        csr_pem=csr.decode("ascii"),
        endpoint=endpoint,
        verify_key=bytes(keys.verify_key),
        box_key=keys.box_public_key,
        oprf_public_key=keys.oprf_public_key,
        oprf_epoch=keys.oprf_epoch,
        timestamp_ms=int(time.time() * 1000),
        nonce=nonce,
        software_version=software_version(),
    ).SerializeToString()
    request = directory_pb2.EnrolRequest(
        token_id=token.token_id,
        body=body,
        mac=request_mac(token.mac_key, body),
        signature=keys.sign(REQUEST_LABEL + body),
    )
    channel = grpc.intercept_channel(grpc.insecure_channel(coordinator), DefaultDeadline(timeout))
    try:
        response = directory_pb2_grpc.EnrolmentStub(channel).Enrol(request)
    except grpc.RpcError as error:
        status = error.code()  # type: ignore[attr-defined]
        if status in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            raise EnrolmentFailed(
                f"cannot reach the coordinator's enrolment port at {coordinator} "
                f"({status.name}); check the address and that it serves",
                code=ErrorCode.UNAVAILABLE,
            ) from None
        raise EnrolmentFailed(
            f"the coordinator refused the enrolment: {error.details()}"  # type: ignore[attr-defined]
        ) from None
    finally:
        channel.close()
    try:
        require_mac(grant_mac(token.mac_key, response.body), response.mac, "coordinator's answer")
    except EnrolmentRefused as refused:
        raise EnrolmentFailed(refused.message) from None
    grant = directory_pb2.EnrolGrant.FromString(response.body)
    if grant.request_nonce != nonce:
        raise EnrolmentFailed("the coordinator's answer is not to this request (nonce differs)")
    certificate = grant.certificate_pem.encode("ascii")
    ca_certificate = grant.ca_certificate_pem.encode("ascii")
    try:
        identity = TlsIdentity.of(
            (keys_dir / KEY_FILE).read_bytes(),
            certificate,
            ca_certificate,
            sources=(str(keys_dir / KEY_FILE), "the certificate granted", "the CA granted"),
        )
    except CertificateError as exc:
        raise EnrolmentFailed(exc.message) from None
    if identity.borough != config.borough_code:
        raise EnrolmentFailed(f"the certificate granted is {identity.borough!r}'s")
    if len(grant.directory_key) != 32:
        raise EnrolmentFailed("the coordinator's directory key is not 32 bytes")
    (keys_dir / CERT_FILE).write_bytes(certificate)
    (keys_dir / CA_FILE).write_bytes(ca_certificate)
    save_enrolment(
        keys_dir,
        Enrolment(grant.coordinator_address, bytes(grant.directory_key), dt.datetime.now(dt.UTC)),
    )
    return Enrolled(config.borough_code, grant.coordinator_address, grant.directory_version)
