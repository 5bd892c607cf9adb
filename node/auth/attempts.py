"""Sign-in attempts on the node: the shared rule of `mash_common.auth.throttle` over the node's
store, and the node administrator's view and lifting of delays (audited). Every refusal is
audited by the sign-in service."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from mash_common.auth.throttle import (
    ADDRESS_LENGTH,
    USERNAME_LENGTH,
    Attempts,
    Slowed,
    TooManyAttempts,
)
from node import audit
from node.access import Actor, require_admin
from node.store.models import SignInAttempt

__all__ = ["ADDRESS_LENGTH", "USERNAME_LENGTH", "Slowed", "TooManyAttempts"]

_ATTEMPTS = Attempts(SignInAttempt)
check_allowed = _ATTEMPTS.check_allowed
record = _ATTEMPTS.record


def slowed(session: Session, actor: Actor, now: dt.datetime) -> list[Slowed]:
    """The usernames with enough recent failures to be slowed down somewhere (read only)."""
    require_admin(actor)
    return _ATTEMPTS.slowed(session, now)


def lift(session: Session, actor: Actor, username: str) -> int:
    """A node administrator lifts a user's sign-in delays: their failed attempts are forgotten
    (each is still in the audit log). Audited; returns how many were forgotten."""
    require_admin(actor)
    forgotten = _ATTEMPTS.forget_failures(session, username)
    audit.record(
        session,
        actor,
        "sign-in.delays-lifted",
        object_ref=f"user:{username[:USERNAME_LENGTH]}",
        detail={"failures_forgotten": forgotten},
    )
    return forgotten
