"""Session tokens: 32 random bytes for the browser to keep, and only their SHA-256 on the server."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(TOKEN_BYTES)).decode("ascii")


def token_digest(token: str) -> bytes | None:
    """The SHA-256 kept on the server for a token, or None if the text is not a token."""
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if len(raw) != TOKEN_BYTES:
        return None
    return hashlib.sha256(raw).digest()
