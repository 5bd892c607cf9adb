"""A disclosure's messages on the wire: what each side keeps (the sealed body, made once) and
what it sends (a fresh signed envelope around it at every attempt, so a resend is never taken
for a replay, and a replay of one attempt is refused by its nonce).

A request or answer is the same one however often it is sent when its idempotency key and its
`digest` (everything but the header: key, urgency or outcome, and the sealed body) are the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from typing import Protocol

from mash_common.envelope import new_header, seal
from node.matching.keys import KEY_SET_VERSION
from node.store.models import utcnow
from protos.mash.federation.v1 import disclosure_pb2

REQUEST = disclosure_pb2.RequestPayload.DESCRIPTOR.full_name
REFERENCE = disclosure_pb2.RequestRef.DESCRIPTOR.full_name
ANSWER = disclosure_pb2.AnswerPayload.DESCRIPTOR.full_name
CHECKED_WITHIN = dt.timedelta(days=30)  # a request follows a check of the same referral
EXPIRES_AFTER = dt.timedelta(days=7)  # an unanswered request ends this long after its deadline
RETRY_FIRST_S, RETRY_MOST_S = 1.0, 60.0  # delivery retries: from a second, doubling to a minute


class Signing(Protocol):
    @property
    def signing_key_id(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


def digest(payload: disclosure_pb2.RequestPayload | disclosure_pb2.AnswerPayload) -> bytes:
    """What makes a request or answer the same one: all of it but its header."""
    copy = type(payload)()
    copy.CopyFrom(payload)
    copy.ClearField("header")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).digest()


def signed(
    keys: Signing,
    borough: str,
    payload: disclosure_pb2.RequestPayload
    | disclosure_pb2.RequestRef
    | disclosure_pb2.AnswerPayload,
    *,
    referral_reference: str,
    purpose: str,
    user_pseudonym: str,
) -> disclosure_pb2.SignedRequest:
    """`payload` with a fresh header (now, a new nonce), in an envelope signed by this node."""
    payload.header.CopyFrom(
        new_header(
            borough,
            key_set_version=KEY_SET_VERSION,
            referral_reference=referral_reference,
            purpose=purpose,
            user_pseudonym=user_pseudonym,
        )
    )
    envelope = seal(
        payload.SerializeToString(),
        payload.DESCRIPTOR.full_name,
        keys,
        borough,
        keys.signing_key_id,
    )
    return disclosure_pb2.SignedRequest(envelope=envelope)


def retry_after(attempts: int) -> dt.timedelta:
    """From a second, doubling to a minute, with a little jitter so peers do not beat together."""
    seconds = min(RETRY_MOST_S, RETRY_FIRST_S * 2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=seconds * random.uniform(0.8, 1.0))


class Delivered(Protocol):
    attempts: int
    last_error: str
    next_attempt_at: dt.datetime | None


def not_delivered(record: Delivered, why: str) -> None:
    """A message of `record` did not get through: count the attempt, keep why, try later."""
    record.attempts += 1
    record.last_error = why[:300]
    record.next_attempt_at = utcnow() + retry_after(record.attempts)
