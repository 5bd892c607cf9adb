"""The node's key material, the one module that touches raw key bytes.

Three keys live in `<data_dir>/keys/`, each in a file readable by the owner only:
- `signing.key`: Ed25519 (PyNaCl), signs audit checkpoints and, later, federation messages;
- `box.key`: X25519 (PyNaCl), opens disclosures sealed to this node;
- `oprf-<epoch>.key`: a ristretto255 scalar (rbcl), the OPRF key of one epoch (RFC 9497);
- `web.key`: 32 random bytes: signs the web session cookie (via a derived key) and seals
  secrets kept in the store, such as users' TOTP secrets (PyNaCl SecretBox).

Beside them, once the federation CA has issued the node's certificate (not made by `init`):
`tls.key` (ECDSA P-256, 0600, made with the CSR by mash_common.pki.make_csr), `tls.crt` and
`federation-ca.crt`, loaded by `load_tls`. Once the node has enrolled with the coordinator
(`mash-node enrol`), `coordinator.json`: the coordinator's mutual-TLS address and its directory
verify key, pinned then (`load_enrolment`). And `audit-checkpoints`, the audit checkpoint file
(0600; `node.audit.anchor`), which holds no secret: it is kept here so that whoever can write the
store cannot also rewrite it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import rbcl
from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import SecretBox
from nacl.signing import SigningKey, VerifyKey
from nacl.utils import random

from mash_common.envelope import key_id
from mash_common.files import PrivateFileError
from mash_common.pki import CertificateError
from mash_common.tls import TlsIdentity
from node.errors import DomainError, ErrorCode

SIGNING_FILE = "signing.key"
BOX_FILE = "box.key"
WEB_FILE = "web.key"
FIRST_OPRF_EPOCH = 1


class KeyFileError(DomainError):
    """A key file is missing, unreadable, of the wrong size or readable by others."""

    code = ErrorCode.UNAVAILABLE


@dataclass(frozen=True)
class NodeKeys:
    signing: SigningKey
    box: PrivateKey
    oprf_epoch: int
    oprf: bytes
    web: bytes = field(repr=False, default=b"")
    # Every OPRF epoch whose key is still kept (the current one, and older ones in their grace
    # period after a rotation): epoch -> scalar.
    oprf_epochs: Mapping[int, bytes] = field(repr=False, default_factory=dict)

    def oprf_key(self, epoch: int) -> bytes | None:
        """The OPRF key of `epoch`, if this node still keeps it."""
        if epoch == self.oprf_epoch:
            return self.oprf
        return self.oprf_epochs.get(epoch)

    def oprf_public_key_of(self, epoch: int) -> bytes:
        key = self.oprf_key(epoch)
        if key is None:
            raise KeyError(epoch)
        return bytes(rbcl.crypto_scalarmult_ristretto255_base(key))

    @property
    def verify_key(self) -> VerifyKey:
        return self.signing.verify_key

    @property
    def signing_key_id(self) -> str:
        """The id the node's signed envelopes name its verify key by."""
        return key_id(bytes(self.signing.verify_key))

    @property
    def box_public_key(self) -> bytes:
        """The X25519 public key (32 bytes) that disclosures are sealed to."""
        return bytes(self.box.public_key)

    @property
    def oprf_public_key(self) -> bytes:
        """The OPRF key's public element (32 bytes): the ristretto255 generator times the key
        scalar, against which askers check the DLEQ proofs of this epoch (RFC 9497, pkS)."""
        return rbcl.crypto_scalarmult_ristretto255_base(self.oprf)

    def open_sealed(self, sealed: bytes) -> bytes:
        """Open something sealed to this node's X25519 key (libsodium sealed box); raises
        nacl.exceptions.CryptoError if it was not sealed to this key or was altered."""
        return SealedBox(self.box).decrypt(sealed)

    def pseudonym(self, username: str) -> str:
        """How this node names one of its users to other boroughs: stable, and meaningless
        without this node's key (so a holder's audit log can tell users apart, not name them)."""
        digest = blake2b(
            username.encode("utf-8"),
            key=self.web,
            person=b"mash-pseudonym",
            digest_size=10,
            encoder=RawEncoder,
        )
        return "user-" + digest.hex()

    def sign(self, message: bytes) -> bytes:
        """A detached Ed25519 signature over message."""
        return self.signing.sign(message, encoder=RawEncoder).signature

    def cookie_secret(self) -> bytes:
        """The key that signs web session cookies, derived so it never equals the sealing key."""
        return blake2b(b"mash-web-cookie/v1", key=self.web, encoder=RawEncoder)

    def seal(self, secret: bytes) -> bytes:
        """Encrypt and authenticate a secret for storage (XSalsa20-Poly1305, random nonce)."""
        return bytes(SecretBox(self.web).encrypt(secret))

    def unseal(self, sealed: bytes) -> bytes:
        """Open a sealed secret; raises nacl.exceptions.CryptoError if it was altered."""
        return SecretBox(self.web).decrypt(sealed)


_WANTED = {
    SIGNING_FILE: lambda: bytes(SigningKey.generate()),
    BOX_FILE: lambda: bytes(PrivateKey.generate()),
    f"oprf-{FIRST_OPRF_EPOCH}.key": rbcl.crypto_core_ristretto255_scalar_random,
    WEB_FILE: lambda: random(SecretBox.KEY_SIZE),
}


def missing_keys(keys_dir: Path) -> list[str]:
    """The names of the key files `ensure_keys` would create."""
    return [name for name in _WANTED if not (keys_dir / name).exists()]


def ensure_keys(keys_dir: Path) -> list[str]:
    """Create whichever keys are missing; never replace one. Returns the names of files created."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    created = []
    for name, generate in _WANTED.items():
        path = keys_dir / name
        if path.exists():
            continue
        _write_private(path, generate())
        created.append(name)
    return created


def load_keys(keys_dir: Path) -> NodeKeys:
    """Load the node's keys, refusing files that others can read."""
    epochs = {
        epoch: _read_private(keys_dir / _oprf_file(epoch), 32) for epoch in _oprf_epochs(keys_dir)
    }
    epoch = max(epochs)
    return NodeKeys(
        signing=SigningKey(_read_private(keys_dir / SIGNING_FILE, 32)),
        box=PrivateKey(_read_private(keys_dir / BOX_FILE, 32)),
        oprf_epoch=epoch,
        oprf=epochs[epoch],
        web=_read_private(keys_dir / WEB_FILE, SecretBox.KEY_SIZE),
        oprf_epochs=MappingProxyType(epochs),
    )


def rotate_oprf(keys_dir: Path) -> int:
    """Start a new OPRF epoch with a fresh key; returns it. The old epoch's key is kept until
    its grace period has passed (`retire_oprf`), so peers holding its filter are still answered."""
    epoch = max(_oprf_epochs(keys_dir)) + 1
    _write_private(keys_dir / _oprf_file(epoch), rbcl.crypto_core_ristretto255_scalar_random())
    return epoch


def retire_oprf(keys_dir: Path, epoch: int) -> None:
    """Delete an old epoch's OPRF key (never the current one)."""
    if epoch >= max(_oprf_epochs(keys_dir)):
        raise ValueError(f"epoch {epoch} is the current OPRF epoch: it cannot be retired")
    (keys_dir / _oprf_file(epoch)).unlink(missing_ok=True)


def load_tls(keys_dir: Path) -> TlsIdentity:
    """The node's TLS identity (`tls.key`, `tls.crt`, `federation-ca.crt` in the keys dir),
    refusing a key others can read and a certificate that is not the key's or the CA's."""
    try:
        return TlsIdentity.from_dir(keys_dir)
    except (PrivateFileError, CertificateError) as exc:
        raise KeyFileError(
            f"{exc.message} (the federation's TLS files: make a request with the node's key, "
            "have the coordinator issue the certificate, and put tls.crt and "
            f"federation-ca.crt in {keys_dir})"
        ) from None


def seal_to(box_public_key: bytes, message: bytes) -> bytes:
    """Seal `message` to a node's X25519 public key (libsodium sealed box): only that node can
    open it, and nobody, the sender included, can tell what it holds."""
    return bytes(SealedBox(PublicKey(box_public_key)).encrypt(message))


def verify_signature(verify_key: bytes, message: bytes, signature: bytes) -> None:
    """Raise nacl.exceptions.BadSignatureError unless signature is verify_key's over message."""
    VerifyKey(verify_key).verify(message, signature)


def _oprf_file(epoch: int) -> str:
    return f"oprf-{epoch}.key"


def _oprf_epochs(keys_dir: Path) -> list[int]:
    epochs = []
    for path in keys_dir.glob("oprf-*.key"):
        number = path.stem.removeprefix("oprf-")
        if number.isdigit():
            epochs.append(int(number))
    if not epochs:
        raise KeyFileError(f"{keys_dir}: no OPRF key (oprf-<epoch>.key); run `mash-node init`")
    return sorted(epochs)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _read_private(path: Path, size: int) -> bytes:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyFileError(f"{path}: key file missing; run `mash-node init`") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path}: key file is readable by others; run `chmod 600 {path}`")
    data = path.read_bytes()
    if len(data) != size:
        raise KeyFileError(f"{path}: expected {size} bytes of key, found {len(data)}")
    return data


ENROLMENT_FILE = "coordinator.json"


@dataclass(frozen=True)
class Enrolment:
    """What the node pinned when it enrolled: where the coordinator is (mutual TLS) and the
    Ed25519 key its directory must be signed with."""

    coordinator_address: str
    directory_key: bytes
    enrolled_at: dt.datetime


def save_enrolment(keys_dir: Path, enrolment: Enrolment) -> None:
    """Keep the enrolment (replacing an earlier one: enrolling again pins the key again)."""
    path = keys_dir / ENROLMENT_FILE
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    _write_private(
        temporary,
        json.dumps(
            {
                "coordinator_address": enrolment.coordinator_address,
                "directory_key": enrolment.directory_key.hex(),
                "enrolled_at": enrolment.enrolled_at.isoformat(),
            }
        ).encode("utf-8"),
    )
    os.replace(temporary, path)


def load_enrolment(keys_dir: Path) -> Enrolment | None:
    """The node's enrolment, or None if it never enrolled; KeyFileError if the file is damaged
    or others can write it."""
    path = keys_dir / ENROLMENT_FILE
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise KeyFileError(f"{path}: writable by others; run `chmod 600 {path}`")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        enrolment = Enrolment(
            str(raw["coordinator_address"]),
            bytes.fromhex(raw["directory_key"]),
            dt.datetime.fromisoformat(raw["enrolled_at"]),
        )
    except (ValueError, KeyError, TypeError):
        raise KeyFileError(f"{path}: not an enrolment this node wrote; enrol again") from None
    if len(enrolment.directory_key) != 32:
        raise KeyFileError(f"{path}: the pinned directory key is not 32 bytes; enrol again")
    return enrolment
