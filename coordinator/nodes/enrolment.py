"""Enrolling a node: a token-authenticated request (mash_common/enrolment.py) answered with the
node's certificate from the federation CA, the coordinator's directory key to pin, and the
directory version that now lists the node.

The checks, in order: the token exists, is unused and unexpired; the request's MAC is the
token's; the request is for the token's borough, fresh (five minutes either way of the
coordinator's clock) and signed by the Ed25519 key it registers (proof of possession); its
keys have the right sizes and its endpoint is host:port; the CA accepts its CSR. Only then is
the token marked used and the node registered (replacing an earlier enrolment of the borough,
which is kept only if it was revoked: a revoked borough enrols again under a new token).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from sqlalchemy.orm import Session

from coordinator.keys import CoordinatorKeys
from coordinator.nodes.directory import bump_version
from coordinator.nodes.tokens import claim_token
from coordinator.store.models import EnrolledNode
from mash_common import ca
from mash_common.enrolment import (
    REQUEST_LABEL,
    EnrolmentRefused,
    grant_mac,
    request_mac,
    require_mac,
)
from mash_common.errors import Refusal
from protos.mash.coordinator.v1 import directory_pb2

WINDOW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Enrolled:
    borough: str
    directory_version: int
    response: directory_pb2.EnrolResponse


def enrol(
    session: Session,
    keys: CoordinatorKeys,
    ca_dir: Path,
    request: directory_pb2.EnrolRequest,
    *,
    coordinator_address: str,
    now: dt.datetime,
) -> Enrolled:
    """Check and carry out one enrolment request; returns the grant to send back."""
    row, key = claim_token(session, keys, request.token_id, now=now)
    require_mac(request_mac(key, request.body), request.mac, "enrolment request")
    try:
        body = directory_pb2.EnrolBody.FromString(request.body)
    except Exception:
        raise EnrolmentRefused("the enrolment request does not parse", Refusal.MALFORMED) from None
    if body.borough != row.borough:
        raise EnrolmentRefused(
            f"this token enrols {row.borough!r}'s node, not {body.borough!r}'s "
            "(check node.borough_code)"
        )
    sent = dt.datetime.fromtimestamp(body.timestamp_ms / 1000, dt.UTC)
    if abs(sent - now) > WINDOW:
        raise EnrolmentRefused(
            "the enrolment request's time is more than five minutes from the coordinator's "
            "clock: check the node's clock",
            Refusal.STALE,
        )
    for name, value in (
        ("verify_key", body.verify_key),
        ("box_key", body.box_key),
        ("oprf_public_key", body.oprf_public_key),
    ):
        if len(value) != 32:
            raise EnrolmentRefused(f"{name} must be 32 bytes", Refusal.MALFORMED)
    if len(body.nonce) < 16:
        raise EnrolmentRefused("the request's nonce is too short", Refusal.MALFORMED)
    host, _, port = body.endpoint.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise EnrolmentRefused(
            f"the endpoint {body.endpoint!r} must be host:port, as peers dial it", Refusal.MALFORMED
        )
    try:
        VerifyKey(body.verify_key).verify(REQUEST_LABEL + request.body, request.signature)
    except (BadSignatureError, ValueError):
        raise EnrolmentRefused(
            "the enrolment request is not signed by the verify key it registers",
            Refusal.BAD_SIGNATURE,
        ) from None
    try:
        certificate = ca.issue(ca_dir, row.borough, body.csr_pem.encode("ascii"))
    except (ca.CaError, UnicodeEncodeError) as exc:
        raise EnrolmentRefused(
            f"the certificate request is refused: {exc}", Refusal.MALFORMED
        ) from None
    row.used_at = now
    der = x509.load_pem_x509_certificate(certificate).public_bytes(Encoding.DER)
    node = session.get(EnrolledNode, row.borough, with_for_update=True)
    if node is None:
        node = EnrolledNode(borough=row.borough)
        session.add(node)
    node.endpoint = body.endpoint
    node.verify_key = bytes(body.verify_key)
    node.box_key = bytes(body.box_key)
    node.oprf_public_key = bytes(body.oprf_public_key)
    node.oprf_epoch = body.oprf_epoch
    node.certificate_pem = certificate.decode("ascii")
    node.certificate_sha256 = hashlib.sha256(der).digest()
    node.software_version = body.software_version[:40]
    node.enrolled_at = now
    node.token_id = row.id
    node.revoked_at = None
    node.revoked_by = None
    node.revoked_reason = None
    session.flush()
    version = bump_version(session, now)
    grant = directory_pb2.EnrolGrant(
        request_nonce=body.nonce,
        certificate_pem=certificate.decode("ascii"),
        ca_certificate_pem=ca.ca_certificate(ca_dir).decode("ascii"),
        directory_key=keys.directory_verify_key,
        coordinator_address=coordinator_address,
        directory_version=version,
    )
    grant_bytes = grant.SerializeToString()
    return Enrolled(
        row.borough,
        version,
        directory_pb2.EnrolResponse(body=grant_bytes, mac=grant_mac(key, grant_bytes)),
    )
