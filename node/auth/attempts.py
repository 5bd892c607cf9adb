"""Sign-in attempts: each one recorded, and the recent failures counted to slow down guessing.

At most `PER_USERNAME` failures per username (since its last successful sign-in) and
`PER_ADDRESS` failures per client address are allowed in any `WINDOW`; further attempts are
refused, without checking the password or code, until enough failures have aged out.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.store.models import SignInAttempt

PER_USERNAME = 5
PER_ADDRESS = 20
WINDOW = dt.timedelta(minutes=15)
USERNAME_LENGTH = 80
ADDRESS_LENGTH = 64


class TooManyAttempts(Exception):
    """Too many recent failed sign-in attempts for this username or from this address."""

    def __init__(self, minutes: int, by: str) -> None:
        super().__init__(f"too many failed sign-in attempts by {by}; try again in {minutes} min")
        self.minutes = minutes
        self.by = by


def check_allowed(session: Session, username: str, address: str, now: dt.datetime) -> None:
    """Raise TooManyAttempts if this username or address has used up its failures."""
    since = now - WINDOW
    by_user = _failures_since_last_success(session, username[:USERNAME_LENGTH], since)
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
    waits = []
    if len(by_user) >= PER_USERNAME:
        waits.append((_minutes_until_below(by_user, PER_USERNAME, now), "username"))
    if len(by_address) >= PER_ADDRESS:
        waits.append((_minutes_until_below(by_address, PER_ADDRESS, now), "address"))
    if waits:
        minutes, by = max(waits)
        raise TooManyAttempts(minutes, by)


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


def _failures_since_last_success(
    session: Session, username: str, since: dt.datetime
) -> list[dt.datetime]:
    rows = session.execute(
        select(SignInAttempt.at, SignInAttempt.succeeded)
        .where(SignInAttempt.username == username, SignInAttempt.at > since)
        .order_by(SignInAttempt.at, SignInAttempt.id)
    ).all()
    failures: list[dt.datetime] = []
    for at, succeeded in rows:
        if succeeded:
            failures.clear()
        else:
            failures.append(at)
    return failures


def _minutes_until_below(failures: list[dt.datetime], limit: int, now: dt.datetime) -> int:
    """Whole minutes until fewer than `limit` of these (ascending) failures lie in the window."""
    must_expire = failures[len(failures) - limit]
    seconds = (must_expire + WINDOW - now).total_seconds()
    return max(1, math.ceil(seconds / 60))
