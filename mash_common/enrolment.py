"""One-time enrolment tokens and the messages they authenticate (HMAC-SHA-256, RFC 2104).

A token reads `mash1.<id>.<secret>`: the id (16 hex digits) names it in the coordinator's store,
the secret (32 bytes, URL-safe base64) never travels. The node's request and the coordinator's
grant each carry an HMAC under a key derived from the secret, with a label for each direction,
so neither can be forged or turned round by someone who does not hold the token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from mash_common.errors import Refusal, Refused

TOKEN_PREFIX = "mash1"  # noqa: S105 - the format's name, not a secret
REQUEST_LABEL = b"mash-enrol/v1/request"
GRANT_LABEL = b"mash-enrol/v1/grant"
_TOKEN = re.compile(r"^mash1\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$")


class TokenMalformed(ValueError):
    """The text given is not an enrolment token."""

    def __init__(self) -> None:
        self.message = (
            "not an enrolment token: expected mash1.<16 hex digits>.<43 characters>, as "
            "`mash-coordinator enrol-token` prints it"
        )
        super().__init__(self.message)


class EnrolmentRefused(Refused):
    """An enrolment message did not authenticate, or its token cannot be used."""

    def __init__(self, message: str, code: Refusal = Refusal.ENROLMENT_REFUSED) -> None:
        super().__init__(code, message)


@dataclass(frozen=True)
class EnrolmentToken:
    token_id: str
    secret: str = field(repr=False)

    def __str__(self) -> str:
        return f"{TOKEN_PREFIX}.{self.token_id}.{self.secret}"

    @property
    def mac_key(self) -> bytes:
        return mac_key(self.secret)


def new_token() -> EnrolmentToken:
    """A fresh token: 64 bits of id, 256 bits of secret."""
    return EnrolmentToken(secrets.token_hex(8), secrets.token_urlsafe(32))


def parse_token(text: str) -> EnrolmentToken:
    found = _TOKEN.match(text.strip())
    if found is None:
        raise TokenMalformed()
    return EnrolmentToken(found.group(1), found.group(2))


def mac_key(secret: str) -> bytes:
    """The MAC key both sides derive from the token's secret."""
    return hashlib.sha256(b"mash-enrol/v1/key\x00" + secret.encode("ascii")).digest()


def request_mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, REQUEST_LABEL + body, hashlib.sha256).digest()


def grant_mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, GRANT_LABEL + body, hashlib.sha256).digest()


def require_mac(expected: bytes, given: bytes, what: str) -> None:
    """Raise EnrolmentRefused unless the MACs are equal (compared in constant time)."""
    if not hmac.compare_digest(expected, given):
        raise EnrolmentRefused(f"the {what} is not authenticated by this enrolment token")
