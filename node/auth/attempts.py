"""Sign-in attempts: each one recorded, and recent failures slowing down guessing, never locking
the hub out.

Failures are counted for a username *from one address* (since that pair's last success): after
`PAIR_FREE` of them, each further attempt must wait a delay that doubles with every failure
(`FIRST_DELAY`, up to `MAX_DELAY`). Guessing across many usernames from one address
(`ADDRESS_FREE` failures in `WINDOW`), or at one username from many addresses (`USERNAME_FREE`),
slows down the same way, but only for pairs that have not signed in successfully before
(`KNOWN_FOR`): someone who keeps mistyping their password does not stop their colleagues behind
the same address, and a guesser elsewhere does not stop the user at their own desk. A node
administrator can lift a user's delays (`lift`), and every refusal is audited by the sign-in
service.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from node import audit
from node.access import Actor, require_admin
from node.errors import DomainError, ErrorCode
from node.store.models import SignInAttempt

PAIR_FREE = 3  # failures of one username from one address before delays begin
ADDRESS_FREE = 20  # failures from one address, any usernames, in WINDOW before delays begin
USERNAME_FREE = 10  # failures for one username, any addresses, in WINDOW before delays begin
FIRST_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(minutes=15)
WINDOW = dt.timedelta(minutes=15)
KNOWN_FOR = dt.timedelta(days=30)  # a success from an address makes the pair known this long
USERNAME_LENGTH = 80
ADDRESS_LENGTH = 64


class TooManyAttempts(DomainError):
    """Too many recent failed sign-in attempts: try again after `seconds`; `by` says which rule
    ("username and address", "address" or "username")."""

    code = ErrorCode.LIMITED

    def __init__(self, seconds: int, by: str) -> None:
        self.seconds = seconds
        self.minutes = max(1, math.ceil(seconds / 60))
        self.by = by
        self.wait = _wait(seconds)  # "30 seconds", "4 minutes": for the page and the prompt
        super().__init__(f"too many failed sign-in attempts by {by}; try again in {self.wait}")


@dataclass(frozen=True)
class Slowed:
    """A username whose sign-in is being slowed now, for the administrators' page."""

    username: str
    failures: int  # in the last WINDOW
    addresses: int
    last_failure: dt.datetime


def check_allowed(session: Session, username: str, address: str, now: dt.datetime) -> None:
    """Raise TooManyAttempts if this attempt must wait; otherwise return."""
    username, address = username[:USERNAME_LENGTH], address[:ADDRESS_LENGTH]
    pair = _failures_since_success(session, username, address, now - MAX_DELAY * 4)
    waits = [(_wait_after(pair, PAIR_FREE, now), "username and address")]
    if not _known(session, username, address, now):
        since = now - WINDOW
        by_address = _failures(session, SignInAttempt.address == address, since)
        by_username = _failures(session, SignInAttempt.username == username, since)
        waits.append((_wait_after(by_address, ADDRESS_FREE, now), "address"))
        waits.append((_wait_after(by_username, USERNAME_FREE, now), "username"))
    seconds, by = max(waits)
    if seconds > 0:
        raise TooManyAttempts(seconds, by)


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


def slowed(session: Session, actor: Actor, now: dt.datetime) -> list[Slowed]:
    """The usernames with enough recent failures to be slowed down somewhere (read only)."""
    require_admin(actor)
    rows = session.execute(
        select(
            SignInAttempt.username,
            func.count(),
            func.count(func.distinct(SignInAttempt.address)),
            func.max(SignInAttempt.at),
        )
        .where(SignInAttempt.succeeded.is_(False), SignInAttempt.at > now - WINDOW)
        .group_by(SignInAttempt.username)
        .having(func.count() >= PAIR_FREE)
        .order_by(func.max(SignInAttempt.at).desc())
    ).all()
    return [
        Slowed(username, failures, addresses, last) for username, failures, addresses, last in rows
    ]


def lift(session: Session, actor: Actor, username: str) -> int:
    """A node administrator lifts a user's sign-in delays: their failed attempts are forgotten
    (each is still in the audit log). Audited; returns how many were forgotten."""
    require_admin(actor)
    forgotten = session.execute(
        delete(SignInAttempt).where(
            SignInAttempt.username == username[:USERNAME_LENGTH],
            SignInAttempt.succeeded.is_(False),
        )
    ).rowcount
    audit.record(
        session,
        actor,
        "sign-in.delays-lifted",
        object_ref=f"user:{username[:USERNAME_LENGTH]}",
        detail={"failures_forgotten": forgotten},
    )
    return int(forgotten or 0)


def _wait_after(failures: list[dt.datetime], free: int, now: dt.datetime) -> int:
    """Seconds still to wait after these failures (ascending): none for the first `free`, then
    FIRST_DELAY after the last, doubling with each further failure, at most MAX_DELAY."""
    beyond = len(failures) - free
    if beyond < 0:
        return 0
    delay = min(FIRST_DELAY * (2**beyond), MAX_DELAY)
    return max(0, math.ceil((failures[-1] + delay - now).total_seconds()))


def _failures(session: Session, where: object, since: dt.datetime) -> list[dt.datetime]:
    return list(
        session.scalars(
            select(SignInAttempt.at)
            .where(where, SignInAttempt.succeeded.is_(False), SignInAttempt.at > since)  # type: ignore[arg-type]
            .order_by(SignInAttempt.at)
        )
    )


def _failures_since_success(
    session: Session, username: str, address: str, since: dt.datetime
) -> list[dt.datetime]:
    rows = session.execute(
        select(SignInAttempt.at, SignInAttempt.succeeded)
        .where(
            SignInAttempt.username == username,
            SignInAttempt.address == address,
            SignInAttempt.at > since,
        )
        .order_by(SignInAttempt.at, SignInAttempt.id)
    ).all()
    failures: list[dt.datetime] = []
    for at, succeeded in rows:
        if succeeded:
            failures.clear()
        else:
            failures.append(at)
    return failures


def _known(session: Session, username: str, address: str, now: dt.datetime) -> bool:
    """Whether this username has signed in successfully from this address lately."""
    return (
        session.scalar(
            select(SignInAttempt.id)
            .where(
                SignInAttempt.username == username,
                SignInAttempt.address == address,
                SignInAttempt.succeeded.is_(True),
                SignInAttempt.at > now - KNOWN_FOR,
            )
            .limit(1)
        )
        is not None
    )


def _wait(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
