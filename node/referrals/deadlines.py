"""When a contact's decision is due from its RAG rating, and how that clock reads now.

The rule: each rating has a configurable number of hours for the decision (by default red 4,
amber 24, green 72). Red runs around the clock, in real elapsed time. Amber and green count only
the hub's working hours (by default Monday to Friday 09:00-17:00, Europe/London), on working days
that are not bank holidays in England; a contact received outside working time starts its clock at
the next working moment. So an amber 24 hours is three 8-hour working days.

Working hours are wall-clock times in the hub's time zone, so they follow the clock changes; the
time counted inside them is real elapsed time (a window that straddles a clock change is an hour
shorter or longer that day). A window boundary that falls in the hour skipped in spring is taken as
the moment the clocks jump; one in the hour repeated in autumn opens at its first occurrence and
closes at its second.

Bank holidays come from the `holidays` package: ``holidays.country_holidays("GB", subdiv="ENG")``,
which follows the GOV.UK list for England and Wales, including substitute days and one-off
holidays such as the 2022 jubilee and state funeral and the 2023 coronation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from node.config import ReferralPolicy
from node.store.models import Rag

_ONE_DAY = dt.timedelta(days=1)
_ZERO = dt.timedelta(0)


@dataclass(frozen=True)
class Clock:
    """A decision deadline as it stands at one moment."""

    deadline: dt.datetime
    remaining: dt.timedelta  # negative once breached
    breached: bool
    near_breach: bool


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def _require_aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime (UTC), got naive {value}")
    return value.astimezone(dt.UTC)


def _hours_for(rag: Rag, policy: ReferralPolicy) -> dt.timedelta:
    try:
        hours = policy.hours[Rag(rag).value]
    except KeyError:
        raise ValueError(f"the referral policy sets no hours for a {rag} rating") from None
    if not hours > 0:
        raise ValueError(f"the referral policy's {rag} hours must be positive, got {hours}")
    return dt.timedelta(hours=hours)


def _check_working_week(policy: ReferralPolicy) -> None:
    if not policy.working_days or any(not 0 <= d <= 6 for d in policy.working_days):
        raise ValueError(
            f"the referral policy's working days must be weekday numbers 0-6 (Monday = 0), "
            f"at least one; got {policy.working_days}"
        )
    if not policy.day_starts < policy.day_ends:
        raise ValueError(
            f"the referral policy's working day must start before it ends, got "
            f"{policy.day_starts:%H:%M}-{policy.day_ends:%H:%M}"
        )


def _gap_end(naive: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The UTC moment the clocks jump past `naive`, a local time skipped in spring."""
    low = naive.replace(tzinfo=zone, fold=1).astimezone(dt.UTC)  # still before the jump
    high = naive.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)  # already after it
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def _moment(day: dt.date, time: dt.time, zone: ZoneInfo, fold: int) -> dt.datetime:
    """The UTC moment the local wall clock reads `time` on `day` (see the module docstring)."""
    naive = dt.datetime.combine(day, time)
    moment = naive.replace(tzinfo=zone, fold=fold).astimezone(dt.UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != naive:
        return _gap_end(naive, zone)
    return moment


def _window(
    day: dt.date, policy: ReferralPolicy, zone: ZoneInfo
) -> tuple[dt.datetime, dt.datetime] | None:
    """The UTC start and end of `day`'s working hours, or None if the hub does not work then."""
    if day.weekday() not in policy.working_days or day in _bank_holidays(day.year):
        return None
    return (
        _moment(day, policy.day_starts, zone, fold=0),
        _moment(day, policy.day_ends, zone, fold=1),
    )


def _working_deadline(
    start: dt.datetime, allowed: dt.timedelta, policy: ReferralPolicy
) -> dt.datetime:
    zone = ZoneInfo(policy.timezone)
    day = start.astimezone(zone).date()
    left = allowed
    while True:
        window = _window(day, policy, zone)
        if window is not None:
            opens, closes = window
            begin = max(opens, start)
            if begin < closes:
                if left <= closes - begin:
                    return begin + left
                left -= closes - begin
        day += _ONE_DAY


def decision_deadline(start: dt.datetime, rag: Rag, policy: ReferralPolicy) -> dt.datetime:
    """When the decision on a contact received at `start` (aware UTC) and rated `rag` is due.

    Returns an aware UTC datetime. Raises ValueError for a naive `start` or an unusable policy.
    """
    start = _require_aware(start, "start")
    allowed = _hours_for(rag, policy)
    if Rag(rag) is Rag.RED:
        return start + allowed
    _check_working_week(policy)
    return _working_deadline(start, allowed, policy)


def working_time_between(
    start: dt.datetime, end: dt.datetime, policy: ReferralPolicy
) -> dt.timedelta:
    """The hub's working time (its working hours on working days that are not bank holidays)
    between two aware moments; zero if `end` is not after `start`. What the evaluation's
    turnaround in working days counts."""
    start = _require_aware(start, "start")
    end = _require_aware(end, "end")
    _check_working_week(policy)
    zone = ZoneInfo(policy.timezone)
    total = _ZERO
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        window = _window(day, policy, zone)
        if window is not None:
            opens, closes = window
            begin, finish = max(opens, start), min(closes, end)
            if finish > begin:
                total += finish - begin
        day += _ONE_DAY
    return total


def working_day_length(policy: ReferralPolicy) -> dt.timedelta:
    """The length of the hub's working day (for turnaround in working days)."""
    today = dt.date(2000, 1, 3)
    return dt.datetime.combine(today, policy.day_ends) - dt.datetime.combine(
        today, policy.day_starts
    )


def clock(deadline: dt.datetime, now: dt.datetime, policy: ReferralPolicy) -> Clock:
    """How a deadline stands at `now`: time left in real time, breached from the deadline itself.

    Near breach means some time is left, but no more than the policy's near-breach minutes.
    """
    deadline = _require_aware(deadline, "deadline")
    remaining = deadline - _require_aware(now, "now")
    return Clock(
        deadline=deadline,
        remaining=remaining,
        breached=remaining <= _ZERO,
        near_breach=_ZERO < remaining <= dt.timedelta(minutes=policy.near_breach_minutes),
    )


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _span(amount: dt.timedelta) -> str:
    """Whole days and hours, or hours and minutes below a day; parts of a minute are dropped."""
    minutes = int(amount.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        parts = [_plural(days, "day"), _plural(hours, "hour") if hours else ""]
    else:
        parts = [_plural(hours, "hour") if hours else "", _plural(minutes, "minute")]
        if hours and not minutes:
            parts.pop()
    return " ".join(part for part in parts if part)


def describe_remaining(remaining: dt.timedelta) -> str:
    """The time left before a deadline in words, e.g. "3 hours 20 minutes left", "Overdue by 5 minutes"."""
    if remaining > _ZERO:
        if remaining < dt.timedelta(minutes=1):
            return "less than a minute left"
        return f"{_span(remaining)} left"
    if -remaining < dt.timedelta(minutes=1):
        return "Overdue by less than a minute"
    return f"Overdue by {_span(-remaining)}"
