"""A node's TLS identity (key, certificate, federation CA) and the mutual-TLS gRPC credentials
made from it: servers require a client certificate of the federation CA, clients trust only
that CA. A node keeps the three files in its keys dir as `tls.key` (0600), `tls.crt` and
`federation-ca.crt`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import grpc
from cryptography.exceptions import InvalidSignature

from mash_common.files import read_private
from mash_common.pki import (
    CertificateError,
    borough_of_certificate,
    is_coordinator_certificate,
    load_certificate,
    load_private_key,
)

KEY_FILE = "tls.key"
CERT_FILE = "tls.crt"
CA_FILE = "federation-ca.crt"


@dataclass(frozen=True)
class TlsIdentity:
    """PEM bytes of a node's (or the coordinator's) TLS key, its certificate and the federation
    CA's certificate, checked to belong together. Build with `load` or `from_dir`. `borough` is
    the borough the certificate names, or "" for the coordinator's (`is_coordinator`)."""

    key: bytes = field(repr=False)
    certificate: bytes
    ca_certificate: bytes
    borough: str
    is_coordinator: bool = False

    @classmethod
    def load(
        cls, key: Path, certificate: Path, ca_certificate: Path, *, coordinator: bool = False
    ) -> TlsIdentity:
        """Read the three files, refusing a key others can read, a certificate that is not the
        key's, not the CA's, or names no borough (with `coordinator`: is not the coordinator's);
        errors name the file."""
        key_pem = read_private(key)
        cert_pem = _read(certificate)
        ca_pem = _read(ca_certificate)
        return cls.of(
            key_pem,
            cert_pem,
            ca_pem,
            sources=(str(key), str(certificate), str(ca_certificate)),
            coordinator=coordinator,
        )

    @classmethod
    def from_dir(cls, directory: Path, *, coordinator: bool = False) -> TlsIdentity:
        """`load` of `tls.key`, `tls.crt` and `federation-ca.crt` in `directory`."""
        return cls.load(
            directory / KEY_FILE,
            directory / CERT_FILE,
            directory / CA_FILE,
            coordinator=coordinator,
        )

    @classmethod
    def of(
        cls,
        key: bytes,
        certificate: bytes,
        ca_certificate: bytes,
        *,
        sources: tuple[str, str, str] = ("the key", "the certificate", "the CA certificate"),
        coordinator: bool = False,
    ) -> TlsIdentity:
        """The identity of PEM bytes, checked as `load` checks files: a borough's certificate,
        or with `coordinator` the coordinator's reserved one."""
        key_source, cert_source, ca_source = sources
        private_key = load_private_key(key, key_source)
        cert = load_certificate(certificate, cert_source)
        ca = load_certificate(ca_certificate, ca_source)
        if cert.public_key() != private_key.public_key():
            raise CertificateError(f"{cert_source}: the certificate is not for {key_source}")
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            raise CertificateError(f"{cert_source}: not issued by {ca_source}") from None
        if coordinator:
            if not is_coordinator_certificate(cert):
                raise CertificateError(f"{cert_source}: not the coordinator's certificate")
            return cls(key, certificate, ca_certificate, "", is_coordinator=True)
        try:
            borough = borough_of_certificate(cert)
        except CertificateError as exc:
            raise CertificateError(f"{cert_source}: {exc.message}") from None
        return cls(key, certificate, ca_certificate, borough)


def server_credentials(identity: TlsIdentity) -> grpc.ServerCredentials:
    """Mutual TLS for a server: presents `identity`'s certificate and admits only clients with
    a certificate of the federation CA."""
    return grpc.ssl_server_credentials(
        [(identity.key, identity.certificate)],
        root_certificates=identity.ca_certificate,
        require_client_auth=True,
    )


def channel_credentials(identity: TlsIdentity) -> grpc.ChannelCredentials:
    """Mutual TLS for a client: presents `identity`'s certificate and trusts only the federation
    CA. Which borough the server must be is the channel's target name (mash_common/client.py)."""
    return grpc.ssl_channel_credentials(
        root_certificates=identity.ca_certificate,
        private_key=identity.key,
        certificate_chain=identity.certificate,
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CertificateError(f"{path}: file missing") from None
    except OSError as exc:
        raise CertificateError(f"{path}: cannot read: {exc.strerror}") from None
