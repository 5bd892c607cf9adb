"""Sign-in attempts: each one recorded, and recent failures slowing down guessing, never locking
a hub (or the project team) out. One rule for the node and the coordinator; each passes its own
store's attempt model and adds who may lift delays and how that is audited.

Failures are counted for a username *from one address* (since that pair's last success): after
`PAIR_FREE` of them, each further attempt must wait a delay that doubles with every failure
(`FIRST_DELAY`, up to `MAX_DELAY`). Guessing across many usernames from one address
(`ADDRESS_FREE` failures in `WINDOW`), or at one username from many addresses (`USERNAME_FREE`),
slows down the same way, but only for pairs that have not signed in successfully before
(`KNOWN_FOR`): someone who keeps mistyping their password does not stop their colleagues behind
the same address, and a guesser elsewhere does not stop the user at their own desk.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

PAIR_FREE = 3  # failures of one username from one address before delays begin
ADDRESS_FREE = 20  # failures from one address, any usernames, in WINDOW before delays begin
USERNAME_FREE = 10  # failures for one username, any addresses, in WINDOW before delays begin
FIRST_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(minutes=15)
WINDOW = dt.timedelta(minutes=15)
KNOWN_FOR = dt.timedelta(days=30)  # a success from an address makes the pair known this long
USERNAME_LENGTH = 80
ADDRESS_LENGTH = 64


class TooManyAttempts(Exception):
    """Too many recent failed sign-in attempts: try again after `seconds`; `by` says which rule
    ("username and address", "address" or "username")."""

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


class Attempts:
    """The rule over one store's attempts. `model` is its mapped class, with the columns `id`,
    `username`, `address`, `succeeded` and `at`."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def check_allowed(
        self, session: Session, username: str, address: str, now: dt.datetime
    ) -> None:
        """Raise TooManyAttempts if this attempt must wait; otherwise return."""
        username, address = username[:USERNAME_LENGTH], address[:ADDRESS_LENGTH]
        pair = self._failures_since_success(session, username, address, now - MAX_DELAY * 4)
        waits = [(wait_after(pair, PAIR_FREE, now), "username and address")]
        if not self._known(session, username, address, now):
            since = now - WINDOW
            by_address = self._failures(session, self._model.address == address, since)
            by_username = self._failures(session, self._model.username == username, since)
            waits.append((wait_after(by_address, ADDRESS_FREE, now), "address"))
            waits.append((wait_after(by_username, USERNAME_FREE, now), "username"))
        seconds, by = max(waits)
        if seconds > 0:
            raise TooManyAttempts(seconds, by)

    def record(
        self, session: Session, username: str, address: str, *, succeeded: bool, now: dt.datetime
    ) -> None:
        session.add(
            self._model(
                username=username[:USERNAME_LENGTH],
                address=address[:ADDRESS_LENGTH],
                succeeded=succeeded,
                at=now,
            )
        )
        session.flush()

    def slowed(self, session: Session, now: dt.datetime) -> list[Slowed]:
        """The usernames with enough recent failures to be slowed down somewhere."""
        model = self._model
        rows = session.execute(
            select(
                model.username,
                func.count(),
                func.count(func.distinct(model.address)),
                func.max(model.at),
            )
            .where(model.succeeded.is_(False), model.at > now - WINDOW)
            .group_by(model.username)
            .having(func.count() >= PAIR_FREE)
            .order_by(func.max(model.at).desc())
        ).all()
        return [Slowed(name, failures, addresses, last) for name, failures, addresses, last in rows]

    def forget_failures(self, session: Session, username: str) -> int:
        """Lift a user's delays: their failed attempts are forgotten (the caller audits it).
        Returns how many were forgotten."""
        model = self._model
        forgotten = session.execute(
            delete(model).where(
                model.username == username[:USERNAME_LENGTH], model.succeeded.is_(False)
            )
        ).rowcount
        return int(forgotten or 0)

    def _failures(self, session: Session, where: Any, since: dt.datetime) -> list[dt.datetime]:
        model = self._model
        return list(
            session.scalars(
                select(model.at)
                .where(where, model.succeeded.is_(False), model.at > since)
                .order_by(model.at)
            )
        )

    def _failures_since_success(
        self, session: Session, username: str, address: str, since: dt.datetime
    ) -> list[dt.datetime]:
        model = self._model
        rows = session.execute(
            select(model.at, model.succeeded)
            .where(model.username == username, model.address == address, model.at > since)
            .order_by(model.at, model.id)
        ).all()
        failures: list[dt.datetime] = []
        for at, succeeded in rows:
            if succeeded:
                failures.clear()
            else:
                failures.append(at)
        return failures

    def _known(self, session: Session, username: str, address: str, now: dt.datetime) -> bool:
        """Whether this username has signed in successfully from this address lately."""
        model = self._model
        return (
            session.scalar(
                select(model.id)
                .where(
                    model.username == username,
                    model.address == address,
                    model.succeeded.is_(True),
                    model.at > now - KNOWN_FOR,
                )
                .limit(1)
            )
            is not None
        )


def wait_after(failures: list[dt.datetime], free: int, now: dt.datetime) -> int:
    """Seconds still to wait after these failures (ascending): none for the first `free`, then
    FIRST_DELAY after the last, doubling with each further failure, at most MAX_DELAY."""
    beyond = len(failures) - free
    if beyond < 0:
        return 0
    delay = min(FIRST_DELAY * (2**beyond), MAX_DELAY)
    return max(0, math.ceil((failures[-1] + delay - now).total_seconds()))


def _wait(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
