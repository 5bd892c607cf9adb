"""The coordinator's own key, the one module that touches its raw bytes.

`<data_dir>/keys/web.key` (32 random bytes, readable by the owner only) signs the web session
cookie (through a derived key) and seals secrets kept in the store (users' TOTP secrets and
enrolment tokens' secrets, PyNaCl SecretBox). `<data_dir>/keys/directory.key` (an Ed25519 seed,
owner only) signs the federation directory; nodes pin its verify key when they enrol. The
coordinator's TLS files (`<data_dir>/tls/`) are mash_common.tls's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.secret import SecretBox
from nacl.signing import SigningKey
from nacl.utils import random

from coordinator.errors import DomainError, ErrorCode
from mash_common.files import PrivateFileError, private_dir, read_private, write_private

WEB_FILE = "web.key"
DIRECTORY_FILE = "directory.key"


class KeyFileError(DomainError):
    """A key file is missing, unreadable, of the wrong size or readable by others."""

    code = ErrorCode.UNAVAILABLE


@dataclass(frozen=True)
class CoordinatorKeys:
    web: bytes = field(repr=False)
    directory: bytes = field(repr=False)

    @property
    def directory_verify_key(self) -> bytes:
        """The Ed25519 verify key (32 bytes) nodes pin to check the signed directory."""
        return bytes(SigningKey(self.directory).verify_key)

    def sign_directory(self, message: bytes) -> bytes:
        """An Ed25519 signature (64 bytes) of `message` by the directory key."""
        return SigningKey(self.directory).sign(message).signature

    def cookie_secret(self) -> bytes:
        """The key that signs web session cookies, derived so it never equals the sealing key."""
        return blake2b(b"mash-coordinator-cookie/v1", key=self.web, encoder=RawEncoder)

    def seal(self, secret: bytes) -> bytes:
        """Encrypt and authenticate a secret for storage (XSalsa20-Poly1305, random nonce)."""
        return bytes(SecretBox(self.web).encrypt(secret))

    def unseal(self, sealed: bytes) -> bytes:
        """Open a sealed secret; raises nacl.exceptions.CryptoError if it was altered."""
        return SecretBox(self.web).decrypt(sealed)


def ensure_keys(keys_dir: Path) -> list[str]:
    """Create the keys that are missing (never replace one); returns the names created."""
    private_dir(keys_dir)
    made = []
    for name in (WEB_FILE, DIRECTORY_FILE):
        path = keys_dir / name
        if not path.exists():
            write_private(path, random(32))
            made.append(name)
    return made


def load_keys(keys_dir: Path) -> CoordinatorKeys:
    return CoordinatorKeys(
        web=_read(keys_dir / WEB_FILE), directory=_read(keys_dir / DIRECTORY_FILE)
    )


def _read(path: Path) -> bytes:
    try:
        data = read_private(path)
    except PrivateFileError as exc:
        raise KeyFileError(f"{exc.message}; run `mash-coordinator init`") from None
    if len(data) != 32:
        raise KeyFileError(f"{path}: expected 32 bytes of key, found {len(data)}")
    return data
