"""Sign-in attempts recorded, and the throttling rule of mash_common.auth.throttle applied."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.store.models import SignInAttempt
from mash_common.auth import throttle
from mash_common.auth.throttle import ADDRESS_LENGTH, USERNAME_LENGTH, WINDOW


def check_allowed(session: Session, username: str, address: str, now: dt.datetime) -> None:
    """Raise TooManyAttempts if this username or address has used up its failures."""
    since = now - WINDOW
    by_user = throttle.failures_since_last_success(
        (at, succeeded)
        for at, succeeded in session.execute(
            select(SignInAttempt.at, SignInAttempt.succeeded)
            .where(SignInAttempt.username == username[:USERNAME_LENGTH], SignInAttempt.at > since)
            .order_by(SignInAttempt.at, SignInAttempt.id)
        )
    )
    by_address = list(
        session.scalars(
            select(SignInAttempt.at)
            .where(
                SignInAttempt.address == address[:ADDRESS_LENGTH],
                SignInAttempt.at > since,
                SignInAttempt.succeeded.is_(False),
            )
            .order_by(SignInAttempt.at)
        )
    )
    throttle.check_allowed(by_user, by_address, now)


def record(
    session: Session, username: str, address: str, *, succeeded: bool, now: dt.datetime
) -> None:
    session.add(
        SignInAttempt(
            username=username[:USERNAME_LENGTH],
            address=address[:ADDRESS_LENGTH],
            succeeded=succeeded,
            at=now,
        )
    )
    session.flush()
