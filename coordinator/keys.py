"""The coordinator's own key, the one module that touches its raw bytes.

`<data_dir>/keys/web.key` (32 random bytes, readable by the owner only) signs the web session
cookie (through a derived key) and seals secrets kept in the store (users' TOTP secrets, PyNaCl
SecretBox). The coordinator's TLS files (`<data_dir>/tls/`) are mash_common.tls's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.secret import SecretBox
from nacl.utils import random

from coordinator.errors import DomainError, ErrorCode
from mash_common.files import PrivateFileError, private_dir, read_private, write_private

WEB_FILE = "web.key"


class KeyFileError(DomainError):
    """A key file is missing, unreadable, of the wrong size or readable by others."""

    code = ErrorCode.UNAVAILABLE


@dataclass(frozen=True)
class CoordinatorKeys:
    web: bytes = field(repr=False)

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
    """Create the key if it is missing (never replace it); returns the names created."""
    private_dir(keys_dir)
    path = keys_dir / WEB_FILE
    if path.exists():
        return []
    write_private(path, random(SecretBox.KEY_SIZE))
    return [WEB_FILE]


def load_keys(keys_dir: Path) -> CoordinatorKeys:
    path = keys_dir / WEB_FILE
    try:
        data = read_private(path)
    except PrivateFileError as exc:
        raise KeyFileError(f"{exc.message}; run `mash-coordinator init`") from None
    if len(data) != SecretBox.KEY_SIZE:
        raise KeyFileError(f"{path}: expected {SecretBox.KEY_SIZE} bytes of key, found {len(data)}")
    return CoordinatorKeys(web=data)
