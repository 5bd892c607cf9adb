"""Refusals of the federation's shared code, each with a stable code the gRPC adapter maps to a
status (mash_common/status.py) without reading its message."""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    """Why a call or a signed message was refused. The values travel to the caller in the
    `mash-error-code` trailing metadata, beside the status code and message."""

    UNIDENTIFIED_PEER = "unidentified-peer"  # no verified federation certificate naming a borough
    WRONG_BOROUGH = "wrong-borough"  # envelope, header and certificate name different boroughs
    UNKNOWN_KEY = "unknown-key"  # no verify key of that borough with that key id
    BAD_SIGNATURE = "bad-signature"  # the signature is not the key's over these bytes
    MALFORMED = "malformed"  # the payload does not parse, or a field is missing or out of range
    STALE = "stale"  # the timestamp is outside the receiver's window
    REPLAYED = "replayed"  # the borough has sent this nonce before
    KEY_SET_VERSION = "key-set-version"  # a match-key set this receiver does not accept
    ENROLMENT_REFUSED = "enrolment-refused"  # a token unknown, used, expired or not matching
    REVOKED = "revoked"  # the federation directory lists the peer (or its certificate) as revoked
    NOT_IN_DIRECTORY = "not-in-directory"  # the directory does not list the peer as it called


class Refused(Exception):
    """A refusal with its code and a message for people (no payload contents in it)."""

    code: Refusal

    def __init__(self, code: Refusal, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class PeerUnidentified(Refused):
    """The gRPC peer presented no verified federation certificate naming one borough."""

    def __init__(self, message: str) -> None:
        super().__init__(Refusal.UNIDENTIFIED_PEER, message)


class EnvelopeRefused(Refused):
    """A signed envelope, or the request inside it, is refused (see mash_common/envelope.py)."""
