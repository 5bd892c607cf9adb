"""Signed envelopes: a request signed by its borough's node, and the receiver's checks of it
against the mTLS peer, the signer's verify key, its clock and the nonces it has seen
(DESIGN.md §6 "Wire sketch" and §8).

Follows the DSSE pattern (github.com/secure-systems-lab/dsse): the signature is Ed25519
(RFC 8032, PyNaCl) over `b"mash-federation/v1/" + message type + b"\\x00" + payload`, where the
message type is the inner message's full proto name and the payload its serialized bytes. The
receiver verifies those exact bytes, then parses them: nothing is ever re-serialized to check a
signature. The prefix separates message types, so a signature over one type's bytes is never
accepted as another's. The inner message carries a `RequestHeader` as field 1.

Refusals (EnvelopeRefused, code → gRPC status via mash_common/status.py), checked in this order:
- wrong-borough (PERMISSION_DENIED): the envelope's borough is not the mTLS peer's, or the
  header's is not the envelope's;
- unknown-key (PERMISSION_DENIED): the receiver knows no verify key of that borough and key id;
- bad-signature (PERMISSION_DENIED): the signature is not that key's over these bytes;
- malformed (INVALID_ARGUMENT): no envelope, a payload that does not parse, no header, or a
  nonce that is not 16-64 bytes;
- key-set-version (FAILED_PRECONDITION): a match-key set the receiver does not accept;
- stale (PERMISSION_DENIED): the timestamp is outside the receiver's window (±5 minutes);
- replayed (PERMISSION_DENIED): the borough sent this nonce before. Not ALREADY_EXISTS, which
  would tell a caller its request had been carried out.
A peer without a verified certificate never reaches these checks: mash_common/interceptors.py
refuses its call (UNAUTHENTICATED).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, TypeVar

from google.protobuf.message import DecodeError, Message
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from mash_common.errors import EnvelopeRefused, Refusal
from mash_common.nonces import NonceStore
from protos.mash.federation.v1.envelope_pb2 import RequestHeader, SignedEnvelope

PREFIX = b"mash-federation/v1/"
SIGNATURE_BYTES = 64
VERIFY_KEY_BYTES = 32
NONCE_BYTES = 32  # what `new_header` draws
MIN_NONCE_BYTES = 16
MAX_NONCE_BYTES = 64
DEFAULT_WINDOW_MS = 5 * 60 * 1000

_MESSAGE_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,127}$")

M = TypeVar("M", bound=Message)


class Signer(Protocol):
    """Anything that makes a detached Ed25519 signature (64 bytes) with a node's signing key;
    `node.keys.NodeKeys` is one."""

    def sign(self, message: bytes) -> bytes: ...


# (borough, key id) -> the 32-byte Ed25519 verify key, or None if the receiver knows none.
VerifyKeyLookup = Callable[[str, str], bytes | None]


def key_id(verify_key: bytes) -> str:
    """The id envelopes name a verify key by: hex of the first 8 bytes of its SHA-256."""
    return hashlib.sha256(verify_key).digest()[:8].hex()


@dataclass(frozen=True)
class Ed25519Signer:
    """A Signer holding a PyNaCl signing key (for the coordinator and tests; a node signs with
    its NodeKeys)."""

    key: SigningKey = field(repr=False)

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message).signature

    @property
    def verify_key(self) -> bytes:
        return bytes(self.key.verify_key)

    @property
    def key_id(self) -> str:
        return key_id(self.verify_key)


@dataclass(frozen=True)
class Keyring:
    """A fixed VerifyKeyLookup: each borough's verify keys, by key id."""

    keys: Mapping[tuple[str, str], bytes]

    @classmethod
    def of(cls, entries: Iterable[tuple[str, bytes]]) -> Keyring:
        """A keyring of (borough, verify key) pairs; a borough may have several keys."""
        return cls(MappingProxyType({(b, key_id(k)): bytes(k) for b, k in entries}))

    def __call__(self, borough: str, key_id: str) -> bytes | None:
        return self.keys.get((borough, key_id))


@dataclass(frozen=True)
class Acceptance:
    """What a receiver accepts: whose keys (`verify_key_for`), which nonces it has seen, which
    match-key set versions, and how far a timestamp may be from its clock."""

    verify_key_for: VerifyKeyLookup
    nonces: NonceStore
    key_set_versions: frozenset[int]
    window_ms: int = DEFAULT_WINDOW_MS
    clock: Callable[[], float] = time.time


def signed_bytes(message_type: str, payload: bytes) -> bytes:
    """What the signature covers: the type's domain-separation prefix, then the payload."""
    if not _MESSAGE_TYPE.match(message_type):
        raise ValueError(f"message type {message_type!r} is not a full proto message name")
    return PREFIX + message_type.encode("ascii") + b"\x00" + payload


def new_header(
    borough: str,
    *,
    key_set_version: int,
    referral_reference: str = "",
    purpose: str = "",
    user_pseudonym: str = "",
    clock: Callable[[], float] = time.time,
) -> RequestHeader:
    """A fresh request header: now, and a new random nonce of NONCE_BYTES."""
    return RequestHeader(
        borough=borough,
        timestamp_ms=int(clock() * 1000),
        nonce=secrets.token_bytes(NONCE_BYTES),
        key_set_version=key_set_version,
        referral_reference=referral_reference,
        purpose=purpose,
        user_pseudonym=user_pseudonym,
    )


def seal(
    payload: bytes, message_type: str, signer: Signer, borough: str, key_id: str
) -> SignedEnvelope:
    """The envelope of `payload` (an inner message serialized once, by the caller) signed by
    `borough`'s key `key_id`. `message_type` is the inner message's full proto name
    (`CheckPayload.DESCRIPTOR.full_name`)."""
    signature = signer.sign(signed_bytes(message_type, payload))
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError(f"the signer made a {len(signature)}-byte signature, not Ed25519's 64")
    return SignedEnvelope(payload=payload, signature=signature, borough=borough, key_id=key_id)


def open_envelope(
    envelope: SignedEnvelope,
    message_type: str,
    parse: Callable[[bytes], M],
    *,
    peer_borough: str,
    accept: Acceptance,
) -> M:
    """The inner message of `envelope`, sent by `peer_borough` (from its mTLS certificate:
    mash_common.pki.borough_of_peer), once every check in this module's docstring has passed;
    raises EnvelopeRefused otherwise. `parse` makes the inner message from bytes
    (`CheckPayload.FromString`); its nonce is remembered in `accept.nonces` only if all else
    passed."""
    prefixed = signed_bytes(message_type, envelope.payload)
    if not envelope.borough:
        raise EnvelopeRefused(Refusal.MALFORMED, "the request carries no signed envelope")
    if envelope.borough != peer_borough:
        raise EnvelopeRefused(
            Refusal.WRONG_BOROUGH,
            f"the envelope is signed as {_shown(envelope.borough)}, but the connection's "
            f"certificate is {peer_borough!r}'s",
        )
    verify_key = accept.verify_key_for(envelope.borough, envelope.key_id)
    if verify_key is None or len(verify_key) != VERIFY_KEY_BYTES:
        raise EnvelopeRefused(
            Refusal.UNKNOWN_KEY,
            f"no verify key of {peer_borough!r} has id {_shown(envelope.key_id)}",
        )
    _verify(verify_key, prefixed, envelope.signature)
    inner = _parse(parse, envelope.payload, message_type)
    _check_header(inner, envelope.borough, accept)
    return inner


def _verify(verify_key: bytes, message: bytes, signature: bytes) -> None:
    if len(signature) != SIGNATURE_BYTES:
        raise EnvelopeRefused(
            Refusal.BAD_SIGNATURE, f"the signature has {len(signature)} bytes, not 64"
        )
    try:
        VerifyKey(verify_key).verify(message, signature)
    except BadSignatureError:
        raise EnvelopeRefused(
            Refusal.BAD_SIGNATURE, "the signature does not match the payload and key"
        ) from None


def _parse(parse: Callable[[bytes], M], payload: bytes, message_type: str) -> M:
    try:
        inner = parse(payload)
    except (DecodeError, ValueError, TypeError):
        raise EnvelopeRefused(
            Refusal.MALFORMED, f"the payload is not a valid {message_type}"
        ) from None
    if inner.DESCRIPTOR.full_name != message_type:
        raise ValueError(f"parse makes {inner.DESCRIPTOR.full_name}, not {message_type}")
    return inner


def _check_header(inner: Message, borough: str, accept: Acceptance) -> None:
    if not inner.HasField("header"):
        raise EnvelopeRefused(Refusal.MALFORMED, "the payload has no request header")
    header: RequestHeader = inner.header  # type: ignore[attr-defined]
    if header.borough != borough:
        raise EnvelopeRefused(
            Refusal.WRONG_BOROUGH,
            f"the header names {_shown(header.borough)}, but the envelope {borough!r}",
        )
    if header.key_set_version not in accept.key_set_versions:
        accepted = ", ".join(str(v) for v in sorted(accept.key_set_versions)) or "none"
        raise EnvelopeRefused(
            Refusal.KEY_SET_VERSION,
            f"match-key set version {header.key_set_version} is not accepted here "
            f"(accepted: {accepted})",
        )
    if not MIN_NONCE_BYTES <= len(header.nonce) <= MAX_NONCE_BYTES:
        raise EnvelopeRefused(
            Refusal.MALFORMED,
            f"the nonce has {len(header.nonce)} bytes, not {MIN_NONCE_BYTES}-{MAX_NONCE_BYTES}",
        )
    now_ms = int(accept.clock() * 1000)
    skew_ms = header.timestamp_ms - now_ms
    if abs(skew_ms) > accept.window_ms:
        direction = "ahead of" if skew_ms > 0 else "behind"
        raise EnvelopeRefused(
            Refusal.STALE,
            f"the timestamp is {abs(skew_ms) // 1000} s {direction} this node's clock; "
            f"at most {accept.window_ms // 1000} s either way is accepted",
        )
    if not accept.nonces.remember(borough, header.nonce, header.timestamp_ms + accept.window_ms):
        raise EnvelopeRefused(Refusal.REPLAYED, "this nonce was used before: a replayed request")


def _shown(text: str) -> str:
    """Text from the wire, quoted and cut short for a message."""
    return repr(text[:48] + ("…" if len(text) > 48 else ""))
