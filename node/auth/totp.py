"""The TOTP second factor (RFC 6238: SHA-1, 6 digits, 30-second steps) of the hub's users: enrol,
verify, refuse reuse. The primitives (codes, secrets, QR codes) are mash_common.auth.totp's.

Secrets are stored sealed with the node's web key (`NodeKeys.seal`), base64-encoded, in
`users.totp_secret`. A code is accepted for the current step or one step either side, and only for
a step later than the last one the user signed in or enrolled with: each successful use is
audited with its step, and the audit log is where the last used step is read back from.
"""

from __future__ import annotations

import base64
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from mash_common.auth.totp import (
    DIGITS,
    STEP_SECONDS,
    CodeRejected,
    CodeReused,
    check_not_reused,
    grouped,
    matching_step,
    new_secret,
    normalise_code,
    provisioning_uri,
    qr_code_svg,
)
from node import audit
from node.access import Actor
from node.keys import NodeKeys
from node.store.db import dialect_of
from node.store.models import User

ENROLLED = "user.totp-enrolled"
SIGNED_IN = "sign-in.succeeded"

__all__ = [
    "DIGITS",
    "STEP_SECONDS",
    "CodeRejected",
    "CodeReused",
    "grouped",
    "matching_step",
    "new_secret",
    "normalise_code",
    "provisioning_uri",
    "qr_code_svg",
]


class SecretNotStored(Exception):
    """The sealed secret cannot be stored (the column is too narrow) or read back."""


def seal_secret(keys: NodeKeys, secret: str) -> str:
    return base64.b64encode(keys.seal(secret.encode("ascii"))).decode("ascii")


def unseal_secret(keys: NodeKeys, sealed: str) -> str:
    return keys.unseal(base64.b64decode(sealed, validate=True)).decode("ascii")


def last_used_step(user: User) -> int | None:
    """The latest time-step this user signed in or enrolled with."""
    return user.totp_last_step


def accept_code(session: Session, keys: NodeKeys, user: User, code: str, now: dt.datetime) -> int:
    """Check a sign-in code against the user's stored secret and refuse reuse; returns its step.

    Lock the user's row first (`with_for_update`) so that two requests cannot both use one code.
    The caller audits the sign-in with the step (`SIGNED_IN`, detail `totp_step`).
    """
    if user.totp_secret is None:
        raise CodeRejected(f"user {user.username} has no second factor set up")
    step = matching_step(unseal_secret(keys, user.totp_secret), code, now)
    refuse_reuse(user, step)
    return step


def refuse_reuse(user: User, step: int) -> None:
    """Refuse a code whose time-step is not after the last one used, then remember this one.
    The caller holds the user's row locked, so two requests cannot both pass."""
    check_not_reused(last_used_step(user), step)
    user.totp_last_step = step


def store_secret(session: Session, keys: NodeKeys, user: User, secret: str) -> None:
    """Seal and store a user's TOTP secret, replacing any they had."""
    sealed = seal_secret(keys, secret)
    limit = User.__table__.c.totp_secret.type.length
    enforced = dialect_of(session) != "sqlite"  # SQLite ignores VARCHAR lengths
    if enforced and limit is not None and len(sealed) > limit:
        raise SecretNotStored(
            f"users.totp_secret holds {limit} characters but a sealed secret needs {len(sealed)}: "
            "the column must be widened by a migration"
        )
    user.totp_secret = sealed
    session.flush()


def enrol_totp_for_demo(
    session: Session, keys: NodeKeys, username: str, secret: str | None = None
) -> str:
    """Give a user a TOTP secret (stored sealed; a fresh one unless given, as when the demo's
    boroughs share their accounts) and return it, for the demo to print."""
    user = session.scalars(select(User).where(User.username == username)).one()
    secret = secret or new_secret()
    store_secret(session, keys, user, secret)
    audit.record(session, Actor.system("demo"), ENROLLED, object_ref=f"user:{username}")
    return secret
