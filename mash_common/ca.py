"""The federation's certificate authority: a directory with its private key (`ca.key`, 0600, never
leaving the directory) and self-signed certificate (`ca.crt`), which issues node certificates as
mash_common/pki.py's profile says (RFC 5280: CA basic constraints, key usage, key identifiers;
node certificates, and the coordinator's reserved one, for TLS serverAuth and clientAuth). The
coordinator runs it
(`mash-coordinator ca ...`); tests and air-gapped demos use `issue_with_key` as well.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mash_common.boroughs import require_borough_code
from mash_common.files import private_dir, read_private, write_private
from mash_common.pki import (
    COORDINATOR_COMMON_NAME,
    COORDINATOR_SERVER_NAME,
    COORDINATOR_URI,
    ORGANISATION,
    CertificateError,
    borough_name,
    borough_uri,
    coordinator_name,
    load_certificate,
    load_private_key,
    new_private_key,
    private_key_pem,
    server_name,
)
from mash_common.tls import CA_FILE, CERT_FILE, KEY_FILE

CA_KEY_FILE = "ca.key"
CA_CERT_FILE = "ca.crt"
CA_NAME = "MASH federation CA"
CA_VALID_DAYS = 10 * 365
NODE_VALID_DAYS = 2 * 365
_BACKDATE = dt.timedelta(minutes=5)  # a peer whose clock is a little behind still accepts it


class CaError(Exception):
    """The CA directory is incomplete, or a request to it is refused; the message says which."""

    code = "invalid"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class CaCreated:
    """What `init_ca` found or made."""

    certificate: Path
    created: bool  # False: the CA was there already and is kept


@dataclass(frozen=True)
class IssuedFiles:
    """A node's TLS files as `issue_with_key` wrote them (the layout of a node's keys dir)."""

    key: Path
    certificate: Path
    ca_certificate: Path


def init_ca(ca_dir: Path, *, now: dt.datetime | None = None) -> CaCreated:
    """Create the CA in `ca_dir` (made 0700) unless it exists: an ECDSA P-256 key and a
    self-signed certificate valid for ten years. An existing CA is kept, never replaced."""
    key_path, cert_path = ca_dir / CA_KEY_FILE, ca_dir / CA_CERT_FILE
    if key_path.exists() and cert_path.exists():
        _load(ca_dir)  # refuse a damaged CA rather than report it as kept
        return CaCreated(cert_path, created=False)
    if key_path.exists() or cert_path.exists():
        present = key_path if key_path.exists() else cert_path
        raise CaError(f"{ca_dir}: only {present.name} is there; restore the other or start over")
    private_dir(ca_dir)
    now = now or _now()
    key = new_private_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + dt.timedelta(days=CA_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private(key_path, private_key_pem(key))
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return CaCreated(cert_path, created=True)


def ca_certificate(ca_dir: Path) -> bytes:
    """The CA's certificate (PEM): what every node trusts, as `federation-ca.crt`."""
    return _load(ca_dir)[1].public_bytes(serialization.Encoding.PEM)


def issue(
    ca_dir: Path,
    borough: str,
    csr_pem: bytes,
    *,
    valid_days: int = NODE_VALID_DAYS,
    now: dt.datetime | None = None,
) -> bytes:
    """Sign a node's certificate signing request (PEM) for `borough`; returns the certificate
    (PEM). The certificate's names come from `borough`, not from the request; a request whose
    signature is bad, whose key is not ECDSA P-256, or which names another borough is refused."""
    require_borough_code(borough)
    csr, public_key = _request(csr_pem)
    named = [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if named and named != [borough]:
        raise CaError(
            f"the certificate signing request is for {named[0]!r}, not {borough!r}; "
            "check --borough and which node made the request"
        )
    return _sign(ca_dir, _borough_names(borough), public_key, valid_days, now or _now())


def issue_coordinator(
    ca_dir: Path,
    csr_pem: bytes,
    *,
    valid_days: int = NODE_VALID_DAYS,
    now: dt.datetime | None = None,
) -> bytes:
    """Sign the coordinator's certificate signing request (PEM); returns its certificate (PEM)
    with the coordinator's reserved names (mash_common/pki.py). A request naming anything else
    is refused."""
    csr, public_key = _request(csr_pem)
    named = [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if named and named != [COORDINATOR_COMMON_NAME]:
        raise CaError(f"the certificate signing request is for {named[0]!r}, not the coordinator")
    return _sign(ca_dir, _coordinator_names(), public_key, valid_days, now or _now())


def issue_coordinator_with_key(
    ca_dir: Path, out_dir: Path, *, valid_days: int = NODE_VALID_DAYS
) -> IssuedFiles:
    """Make the coordinator's TLS key and certificate in `out_dir` (made 0700): `tls.key`
    (0600), `tls.crt` and `federation-ca.crt`. The coordinator runs the CA, so its key is made
    beside it (`mash-coordinator init`). Refuses to replace a `tls.key`."""
    return _issue_with_key(ca_dir, _coordinator_names(), out_dir, valid_days)


def _request(csr_pem: bytes) -> tuple[x509.CertificateSigningRequest, ec.EllipticCurvePublicKey]:
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
    except ValueError:
        raise CaError("the certificate signing request is not a PEM CSR") from None
    if not csr.is_signature_valid:
        raise CaError("the certificate signing request's signature is not valid")
    public_key = csr.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != (
        "secp256r1"
    ):
        raise CaError("the certificate signing request's key must be ECDSA P-256")
    return csr, public_key


@dataclass(frozen=True)
class _Names:
    """What a certificate is issued to: its subject and its subject alternative names."""

    subject: x509.Name
    alternatives: tuple[x509.GeneralName, ...]


def _borough_names(borough: str) -> _Names:
    return _Names(
        borough_name(borough),
        (x509.DNSName(server_name(borough)), x509.UniformResourceIdentifier(borough_uri(borough))),
    )


def _coordinator_names() -> _Names:
    return _Names(
        coordinator_name(),
        (x509.DNSName(COORDINATOR_SERVER_NAME), x509.UniformResourceIdentifier(COORDINATOR_URI)),
    )


def issue_with_key(
    ca_dir: Path, borough: str, out_dir: Path, *, valid_days: int = NODE_VALID_DAYS
) -> IssuedFiles:
    """Make a key and certificate for `borough` here, writing `tls.key` (0600), `tls.crt` and
    `federation-ca.crt` into `out_dir` (made 0700): for tests and air-gapped demos only, since
    the node's private key is then made outside the node. Refuses to replace a `tls.key`."""
    require_borough_code(borough)
    return _issue_with_key(ca_dir, _borough_names(borough), out_dir, valid_days)


def _issue_with_key(ca_dir: Path, names: _Names, out_dir: Path, valid_days: int) -> IssuedFiles:
    _load(ca_dir)
    private_dir(out_dir)
    files = IssuedFiles(out_dir / KEY_FILE, out_dir / CERT_FILE, out_dir / CA_FILE)
    if files.key.exists():
        raise CaError(f"{files.key}: a TLS key is already there; it is never replaced")
    key = new_private_key()
    certificate = _sign(ca_dir, names, key.public_key(), valid_days, _now())
    write_private(files.key, private_key_pem(key))
    files.certificate.write_bytes(certificate)
    files.ca_certificate.write_bytes(ca_certificate(ca_dir))
    return files


def _sign(
    ca_dir: Path,
    names: _Names,
    public_key: ec.EllipticCurvePublicKey,
    valid_days: int,
    now: dt.datetime,
) -> bytes:
    if not 1 <= valid_days <= CA_VALID_DAYS:
        raise CaError(f"a node certificate is valid for 1-{CA_VALID_DAYS} days, not {valid_days}")
    ca_key, ca_cert = _load(ca_dir)
    not_after = min(now + dt.timedelta(days=valid_days), ca_cert.not_valid_after_utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(names.subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(list(names.alternatives)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def _load(ca_dir: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key_path, cert_path = ca_dir / CA_KEY_FILE, ca_dir / CA_CERT_FILE
    if not key_path.exists() or not cert_path.exists():
        raise CaError(f"{ca_dir}: no federation CA here; run `mash-coordinator ca init`")
    key = load_private_key(read_private(key_path), str(key_path))
    try:
        certificate = load_certificate(cert_path.read_bytes(), str(cert_path))
    except CertificateError as exc:
        raise CaError(exc.message) from None
    if certificate.public_key() != key.public_key():
        raise CaError(f"{cert_path}: the certificate is not {key_path.name}'s")
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        raise CaError(f"{cert_path}: not a self-signed CA certificate") from None
    return key, certificate


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
