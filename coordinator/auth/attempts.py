"""Sign-in attempts on the coordinator: the shared rule of `mash_common.auth.throttle` over the
coordinator's store, and the administrator's lifting of a user's delays (recorded)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from coordinator import events
from coordinator.access import Actor, require_admin
from coordinator.store.models import SignInAttempt
from mash_common.auth.throttle import USERNAME_LENGTH, Attempts

_ATTEMPTS = Attempts(SignInAttempt)
check_allowed = _ATTEMPTS.check_allowed
record = _ATTEMPTS.record


def lift(session: Session, actor: Actor, username: str) -> int:
    """An administrator lifts a user's sign-in delays: their failed attempts are forgotten (each
    is still among the access events). Recorded; returns how many were forgotten."""
    require_admin(actor)
    forgotten = _ATTEMPTS.forget_failures(session, username)
    events.record(
        session,
        actor,
        "sign-in.delays-lifted",
        user=username[:USERNAME_LENGTH],
        failures_forgotten=forgotten,
    )
    return forgotten
