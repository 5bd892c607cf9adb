"""Sign-in attempts: each one recorded, and the recent failures counted to slow down guessing.

The rule (mash_common.auth.throttle, shared with the coordinator): at most `PER_USERNAME`
failures per username (since its last successful sign-in) and `PER_ADDRESS` failures per client
address are allowed in any `WINDOW`; further attempts are refused, without checking the password
or code, until enough failures have aged out.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from mash_common.auth import throttle
from mash_common.auth.throttle import (
    ADDRESS_LENGTH,
    PER_ADDRESS,
    PER_USERNAME,
    USERNAME_LENGTH,
    WINDOW,
    TooManyAttempts,
)
from node.store.models import SignInAttempt

__all__ = [
    "ADDRESS_LENGTH",
    "PER_ADDRESS",
    "PER_USERNAME",
    "USERNAME_LENGTH",
    "WINDOW",
    "TooManyAttempts",
    "check_allowed",
    "record",
]


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
