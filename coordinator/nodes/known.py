"""Which nodes the coordinator accepts calls from: those its config lists (until every node
enrols) and those enrolled and not revoked, each only with the very certificate it was issued."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.orm import Session

from coordinator.config import CoordinatorConfig
from coordinator.errors import DomainError, ErrorCode
from coordinator.store.models import EnrolledNode


class UnknownNode(DomainError):
    """The caller is not a node this coordinator knows, or not with this certificate."""

    code = ErrorCode.FORBIDDEN


@dataclass(frozen=True)
class KnownKeys:
    verify_key: bytes
    certificate_sha256: bytes


def certificate_sha256(pem: bytes) -> bytes:
    """SHA-256 of a PEM certificate's DER encoding (ValueError if it is not one)."""
    return hashlib.sha256(x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)).digest()


def known_keys(
    session: Session, config: CoordinatorConfig, borough: str, *, revoked_too: bool = False
) -> KnownKeys:
    """The keys the coordinator accepts from `borough`'s node; UnknownNode if none (or revoked,
    unless `revoked_too`: a revoked node may still fetch the directory that says so)."""
    enrolled = session.get(EnrolledNode, borough)
    if enrolled is not None:
        if enrolled.revoked_at is not None and not revoked_too:
            raise UnknownNode(f"{borough!r}'s node has been revoked by the project team")
        return KnownKeys(enrolled.verify_key, enrolled.certificate_sha256)
    listed = config.node(borough)
    if listed is None:
        raise UnknownNode(f"no node of {borough!r} is known to this coordinator")
    return KnownKeys(listed.verify_key, certificate_sha256(listed.certificate_pem))


def require_known_caller(
    session: Session,
    config: CoordinatorConfig,
    borough: str,
    presented_pem: bytes,
    *,
    revoked_too: bool = False,
) -> KnownKeys:
    """`known_keys`, refused unless the caller presented the certificate known for it."""
    keys = known_keys(session, config, borough, revoked_too=revoked_too)
    try:
        same = certificate_sha256(presented_pem) == keys.certificate_sha256
    except ValueError:
        same = False
    if not same:
        raise UnknownNode(
            f"the certificate presented is not the one this coordinator knows for {borough!r}'s "
            "node"
        )
    return keys
