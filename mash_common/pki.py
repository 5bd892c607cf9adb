"""The federation's X.509 profile: how a node's certificate names its borough, how a node makes
its TLS key and certificate signing request, and how a receiver reads the peer's borough.

A node's certificate (issued by mash_common/ca.py) names its borough three ways, which must agree:
the subject common name is the borough code; a SAN DNS name `<code>.mash-node` is what clients
verify a server against (gRPC's `grpc.ssl_target_name_override`, RFC 6125 name matching); and a
SAN URI `urn:mash:borough:<code>` is the identity a receiver reads. Keys are ECDSA P-256
(FIPS 186-4), which BoringSSL (grpcio) accepts for TLS 1.3 clients and servers alike.

The coordinator has one reserved identity of its own, which no borough's certificate can carry:
its common name is "MASH federation coordinator" (capitals and spaces, which the borough-code rule
never allows), its SAN DNS name `coordinator.mash-coordinator` (every borough's ends in
`.mash-node`) is what nodes verify it against, and its SAN URI is `urn:mash:coordinator`. A
certificate is either a borough's or the coordinator's: `borough_of_certificate` refuses the
coordinator's, and `is_coordinator_certificate` refuses a borough's.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mash_common.boroughs import is_borough_code, require_borough_code
from mash_common.errors import PeerUnidentified
from mash_common.files import read_private, write_private

ORGANISATION = "MASH federation"
SERVER_NAME_SUFFIX = ".mash-node"
BOROUGH_URI_PREFIX = "urn:mash:borough:"
COORDINATOR_COMMON_NAME = "MASH federation coordinator"
COORDINATOR_SERVER_NAME = "coordinator.mash-coordinator"
COORDINATOR_URI = "urn:mash:coordinator"


class CertificateError(ValueError):
    """A certificate, key or CSR is unreadable or does not follow the federation's profile."""

    code = "invalid"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def server_name(borough: str) -> str:
    """The DNS name in `borough`'s certificate that clients verify its server against."""
    return require_borough_code(borough) + SERVER_NAME_SUFFIX


def borough_uri(borough: str) -> str:
    """The URI in `borough`'s certificate that names its borough for receivers."""
    return BOROUGH_URI_PREFIX + require_borough_code(borough)


def new_private_key() -> ec.EllipticCurvePrivateKey:
    """A fresh ECDSA P-256 key for TLS."""
    return ec.generate_private_key(ec.SECP256R1())


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The key as unencrypted PKCS#8 PEM, for a file written 0600."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(pem: bytes, source: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from PEM; `source` names it in errors (a path)."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise CertificateError(f"{source}: not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise CertificateError(f"{source}: the key must be ECDSA P-256")
    return key


def load_certificate(pem: bytes, source: str) -> x509.Certificate:
    """One PEM certificate; `source` names it in errors (a path, or "the peer's certificate")."""
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise CertificateError(f"{source}: not a PEM certificate") from None


def make_csr(borough: str, key_path: Path) -> bytes:
    """A PEM certificate signing request for `borough`'s node, signed with the TLS key at
    `key_path`: the key is made there first (0600) if the file does not exist, and never leaves
    the node. The CA sets the certificate's names itself; the request names the borough so that
    the CA can refuse a request meant for another."""
    require_borough_code(borough)
    if key_path.exists():
        key = load_private_key(_read_key(key_path), str(key_path))
    else:
        key = new_private_key()
        write_private(key_path, private_key_pem(key))
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(borough_name(borough))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(server_name(borough)),
                    x509.UniformResourceIdentifier(borough_uri(borough)),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def make_coordinator_csr(key_path: Path) -> bytes:
    """A PEM certificate signing request for the coordinator's reserved identity, signed with
    the TLS key at `key_path` (made there first, 0600, if the file does not exist)."""
    if key_path.exists():
        key = load_private_key(_read_key(key_path), str(key_path))
    else:
        key = new_private_key()
        write_private(key_path, private_key_pem(key))
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(coordinator_name())
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(COORDINATOR_SERVER_NAME),
                    x509.UniformResourceIdentifier(COORDINATOR_URI),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def coordinator_name() -> x509.Name:
    """The subject of the coordinator's certificate: its reserved common name, O = the
    federation."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, COORDINATOR_COMMON_NAME),
        ]
    )


def is_coordinator_certificate(certificate: x509.Certificate) -> bool:
    """Whether the certificate is the coordinator's: its common name, its one `urn:mash:` URI
    and its DNS names all the coordinator's reserved ones (and nothing naming a borough)."""
    common_names = [
        a.value for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    ]
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    uris = [u for u in names.get_values_for_type(x509.UniformResourceIdentifier)]
    dns = names.get_values_for_type(x509.DNSName)
    return (
        common_names == [COORDINATOR_COMMON_NAME]
        and uris == [COORDINATOR_URI]
        and dns == [COORDINATOR_SERVER_NAME]
    )


def borough_name(borough: str) -> x509.Name:
    """The subject of `borough`'s certificate: CN = the borough code, O = the federation."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, require_borough_code(borough)),
        ]
    )


def borough_of_certificate(certificate: x509.Certificate) -> str:
    """The borough a node certificate names; raises CertificateError unless its common name,
    its one `urn:mash:borough:` URI and its `<code>.mash-node` DNS name all name the same one."""
    common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise CertificateError("the certificate has no subject alternative names") from None
    uris = [
        uri.removeprefix(BOROUGH_URI_PREFIX)
        for uri in names.get_values_for_type(x509.UniformResourceIdentifier)
        if uri.startswith(BOROUGH_URI_PREFIX)
    ]
    if len(uris) != 1 or not is_borough_code(uris[0]):
        raise CertificateError(
            f"the certificate must name one borough as a {BOROUGH_URI_PREFIX}<code> URI"
        )
    borough = uris[0]
    if len(common_names) != 1 or common_names[0].value != borough:
        raise CertificateError(f"the certificate's common name is not the borough {borough!r}")
    if server_name(borough) not in names.get_values_for_type(x509.DNSName):
        raise CertificateError(f"the certificate lacks the DNS name {server_name(borough)!r}")
    return borough


class HasAuthContext(Protocol):
    """What `borough_of_peer` reads: a grpc.ServicerContext is one."""

    def auth_context(self) -> Mapping[str, Sequence[bytes]]: ...


def borough_of_peer(context: HasAuthContext) -> str:
    """The borough of the peer of a gRPC call, read from its verified client certificate (a
    `grpc.ServicerContext`'s `auth_context()`); raises PeerUnidentified if the call has no
    verified certificate or the certificate names no borough. The server's credentials
    (mash_common/tls.py) only admit certificates of the federation CA."""
    auth = context.auth_context()
    if list(auth.get("transport_security_type", ())) != [b"ssl"]:
        raise PeerUnidentified("the call did not arrive over TLS")
    pems = auth.get("x509_pem_cert")
    if not pems:
        raise PeerUnidentified("the peer presented no client certificate")
    try:
        return _borough_of_pem(pems[0])
    except CertificateError as exc:
        raise PeerUnidentified(f"the peer's certificate names no borough: {exc}") from None


@functools.lru_cache(maxsize=512)
def _borough_of_pem(pem: bytes) -> str:
    return borough_of_certificate(load_certificate(pem, "the peer's certificate"))


def _read_key(path: Path) -> bytes:
    try:
        return read_private(path)
    except OSError as exc:
        raise CertificateError(f"{path}: cannot read the key: {exc.strerror}") from None
