"""The rule that slows down guessing at sign-in, given the recent attempts (no store here).

At most `PER_USERNAME` failures per username (since its last successful sign-in) and
`PER_ADDRESS` failures per client address are allowed in any `WINDOW`; further attempts are
refused, without checking the password or code, until enough failures have aged out.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence

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


def failures_since_last_success(
    attempts: Iterable[tuple[dt.datetime, bool]],
) -> list[dt.datetime]:
    """The times of the failures after the last success, of (time, succeeded) in time order."""
    failures: list[dt.datetime] = []
    for at, succeeded in attempts:
        if succeeded:
            failures.clear()
        else:
            failures.append(at)
    return failures


def check_allowed(
    by_username: Sequence[dt.datetime], by_address: Sequence[dt.datetime], now: dt.datetime
) -> None:
    """Raise TooManyAttempts if either list of failures in the window (ascending times: the
    username's since its last success, the address's) has used up its allowance."""
    waits = []
    if len(by_username) >= PER_USERNAME:
        waits.append((_minutes_until_below(by_username, PER_USERNAME, now), "username"))
    if len(by_address) >= PER_ADDRESS:
        waits.append((_minutes_until_below(by_address, PER_ADDRESS, now), "address"))
    if waits:
        minutes, by = max(waits)
        raise TooManyAttempts(minutes, by)


def _minutes_until_below(failures: Sequence[dt.datetime], limit: int, now: dt.datetime) -> int:
    """Whole minutes until fewer than `limit` of these (ascending) failures lie in the window."""
    must_expire = failures[len(failures) - limit]
    seconds = (must_expire + WINDOW - now).total_seconds()
    return max(1, math.ceil(seconds / 60))
