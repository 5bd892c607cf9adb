"""The coordinator's users' TOTP second factor: secrets sealed with the coordinator's web key in
`users.totp_secret`, codes checked and their reuse refused by mash_common.auth.totp."""

from __future__ import annotations

import base64
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator import events
from coordinator.access import Actor
from coordinator.keys import CoordinatorKeys
from coordinator.store.models import User
from mash_common.auth.totp import CodeRejected, check_not_reused, matching_step, new_secret


def seal_secret(keys: CoordinatorKeys, secret: str) -> str:
    return base64.b64encode(keys.seal(secret.encode("ascii"))).decode("ascii")


def unseal_secret(keys: CoordinatorKeys, sealed: str) -> str:
    return keys.unseal(base64.b64decode(sealed, validate=True)).decode("ascii")


def accept_code(
    session: Session, keys: CoordinatorKeys, user: User, code: str, now: dt.datetime
) -> int:
    """Check a sign-in code against the user's stored secret and refuse reuse; returns its step.
    The caller holds the user's row locked."""
    if user.totp_secret is None:
        raise CodeRejected(f"user {user.username} has no second factor set up")
    step = matching_step(unseal_secret(keys, user.totp_secret), code, now)
    refuse_reuse(user, step)
    return step


def refuse_reuse(user: User, step: int) -> None:
    check_not_reused(user.totp_last_step, step)
    user.totp_last_step = step


def store_secret(session: Session, keys: CoordinatorKeys, user: User, secret: str) -> None:
    user.totp_secret = seal_secret(keys, secret)
    session.flush()


def enrol_for_demo(session: Session, keys: CoordinatorKeys, username: str) -> str:
    """Give a user a fresh TOTP secret (stored sealed) and return it, for demos and tests."""
    user = session.scalars(select(User).where(User.username == username)).one()
    secret = new_secret()
    store_secret(session, keys, user, secret)
    events.record(session, Actor.system("demo"), "user.totp-enrolled", user=username)
    return secret
