"""RAG decision deadlines: hand-worked answers, clock changes, bank holidays and a slow reference."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.config import ReferralPolicy
from node.referrals.deadlines import Clock, clock, decision_deadline, describe_remaining
from node.store.models import Rag

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC

DEFAULT = ReferralPolicy(
    reference_prefix="HAC",
    hours={"red": 4.0, "amber": 24.0, "green": 72.0},
    working_days=(0, 1, 2, 3, 4),
    day_starts=dt.time(9, 0),
    day_ends=dt.time(17, 0),
    timezone="Europe/London",
    near_breach_minutes=60,
)
# A hub that sits only on Mondays and Wednesdays, 08:30-18:00 (9.5 hours a day).
MON_WED = dataclasses.replace(
    DEFAULT, working_days=(0, 2), day_starts=dt.time(8, 30), day_ends=dt.time(18, 0)
)
# A window every night across London's clock-change hour (01:00-02:00 local), so that the spring
# day has one hour of work and the autumn day three.
NIGHT = dataclasses.replace(
    DEFAULT, working_days=tuple(range(7)), day_starts=dt.time(0, 30), day_ends=dt.time(2, 30)
)


def london(*fields: int) -> dt.datetime:
    """A London wall-clock time as an aware UTC datetime (fold 0 for a repeated hour)."""
    return dt.datetime(*fields, tzinfo=LONDON).astimezone(UTC)


def in_london(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(LONDON)


def with_hours(policy: ReferralPolicy, rag: Rag, hours: float) -> ReferralPolicy:
    return dataclasses.replace(policy, hours={**policy.hours, rag.value: hours})


# --- known answers, worked by hand ---------------------------------------------------------------


def test_amber_from_friday_afternoon_is_due_wednesday_afternoon() -> None:
    # Friday 15 Jan 2027 16:00 (no holidays near): 1 hour Friday, 8 Monday, 8 Tuesday = 17, and
    # the remaining 7 hours run Wednesday 09:00-16:00.
    due = decision_deadline(london(2027, 1, 15, 16), Rag.AMBER, DEFAULT)
    assert due == london(2027, 1, 20, 16)
    assert due.tzinfo is UTC


def test_green_from_monday_morning_takes_nine_working_days() -> None:
    # 72 hours / 8 a day = 9 full days: Mon 11 to Fri 15 (5), Mon 18 to Thu 21 (4). The last hour
    # ends at Thursday 17:00, not Friday 09:00.
    due = decision_deadline(london(2027, 1, 11, 9), Rag.GREEN, DEFAULT)
    assert due == london(2027, 1, 21, 17)


def test_red_runs_through_the_night() -> None:
    # Red counts every hour: 23:00 + 4 hours is 03:00 the next day.
    assert decision_deadline(london(2027, 1, 12, 23), Rag.RED, DEFAULT) == london(2027, 1, 13, 3)


def test_library_names_28_december_2026_the_boxing_day_substitute() -> None:
    england = holidays.country_holidays("GB", subdiv="ENG", years=2026)
    assert "Christmas Day" in england.get(dt.date(2026, 12, 25), "")
    assert "Boxing Day" in england.get(dt.date(2026, 12, 28), "")  # 26 Dec 2026 is a Saturday
    assert dt.date(2026, 12, 29) not in england


def test_amber_over_christmas_2026_skips_christmas_and_the_boxing_day_substitute() -> None:
    # Thu 24 Dec 15:00: 2 hours Thursday; Fri 25 (Christmas), the weekend and Mon 28 (Boxing Day
    # substitute) are skipped; Tue 29 and Wed 30 give 16 (18 in all); the last 6 run Thu 31
    # 09:00-15:00.
    due = decision_deadline(london(2026, 12, 24, 15), Rag.AMBER, DEFAULT)
    assert due == london(2026, 12, 31, 15)


def test_amber_skips_a_one_off_bank_holiday() -> None:
    # Fri 5 May 2023 09:00: 8 hours Friday; Mon 8 May 2023 was the coronation bank holiday;
    # Tue 9 and Wed 10 give the other 16, ending Wednesday 17:00.
    due = decision_deadline(london(2023, 5, 5, 9), Rag.AMBER, DEFAULT)
    assert due == london(2023, 5, 10, 17)


def test_a_contact_on_saturday_starts_the_clock_on_monday_morning() -> None:
    # Sat 16 Jan 2027 10:00: nothing counts until Mon 18 09:00; 24 hours is Mon, Tue, Wed in full.
    saturday = london(2027, 1, 16, 10)
    monday_morning = london(2027, 1, 18, 9)
    assert decision_deadline(saturday, Rag.AMBER, DEFAULT) == london(2027, 1, 20, 17)
    for rag in (Rag.AMBER, Rag.GREEN):
        assert decision_deadline(saturday, rag, DEFAULT) == decision_deadline(
            monday_morning, rag, DEFAULT
        )
    # Half an hour of amber from the weekend is due at 09:30 on Monday.
    short = with_hours(DEFAULT, Rag.AMBER, 0.5)
    assert decision_deadline(saturday, Rag.AMBER, short) == london(2027, 1, 18, 9, 30)


def test_before_and_after_the_working_day() -> None:
    short = with_hours(DEFAULT, Rag.AMBER, 1)
    # 07:00 Tuesday waits for 09:00; 17:00 exactly is already outside, so Wednesday 09:00-10:00.
    assert decision_deadline(london(2027, 1, 12, 7), Rag.AMBER, short) == london(2027, 1, 12, 10)
    assert decision_deadline(london(2027, 1, 12, 17), Rag.AMBER, short) == london(2027, 1, 13, 10)


def test_red_across_the_spring_clock_change_is_four_real_hours() -> None:
    # Sun 29 Mar 2026: 00:00 GMT is 00:00 UTC; 4 real hours later is 04:00 UTC, which the clocks
    # (gone forward at 01:00) show as 05:00 BST.
    due = decision_deadline(london(2026, 3, 29, 0), Rag.RED, DEFAULT)
    assert due == dt.datetime(2026, 3, 29, 4, tzinfo=UTC)
    assert in_london(due).replace(tzinfo=None) == dt.datetime(2026, 3, 29, 5)


def test_red_across_the_autumn_clock_change_is_four_real_hours() -> None:
    # Sun 25 Oct 2026: 00:00 BST is 23:00 UTC on the 24th; 4 real hours later is 03:00 UTC, which
    # the clocks (gone back at 02:00) show as 03:00 GMT.
    due = decision_deadline(london(2026, 10, 25, 0), Rag.RED, DEFAULT)
    assert due == dt.datetime(2026, 10, 25, 3, tzinfo=UTC)
    assert in_london(due).replace(tzinfo=None) == dt.datetime(2026, 10, 25, 3)


def test_red_given_a_london_aware_start_counts_real_hours() -> None:
    # Adding 4 hours to a London-aware datetime directly would add wall-clock hours (giving 04:00
    # BST = 03:00 UTC); the deadline must be the same as for the equivalent UTC start.
    start = dt.datetime(2026, 3, 29, 0, tzinfo=LONDON)
    assert decision_deadline(start, Rag.RED, DEFAULT) == dt.datetime(2026, 3, 29, 4, tzinfo=UTC)


def test_amber_across_the_spring_clock_change_keeps_wall_clock_hours() -> None:
    # Fri 27 Mar 2026 13:00 GMT: 4 hours Friday, 8 Monday 30, 8 Tuesday 31 (20), 4 more on
    # Wed 1 Apr: 13:00 BST, which is 12:00 UTC (Good Friday is 3 April, after the deadline).
    due = decision_deadline(london(2026, 3, 27, 13), Rag.AMBER, DEFAULT)
    assert due == dt.datetime(2026, 4, 1, 12, tzinfo=UTC)
    assert in_london(due).hour == 13


def test_amber_across_the_autumn_clock_change_keeps_wall_clock_hours() -> None:
    # Fri 23 Oct 2026 13:00 BST (12:00 UTC): 4 + 8 + 8 + 4 ends Wed 28 Oct 13:00 GMT = 13:00 UTC.
    due = decision_deadline(london(2026, 10, 23, 13), Rag.AMBER, DEFAULT)
    assert due == dt.datetime(2026, 10, 28, 13, tzinfo=UTC)


def test_a_working_window_across_the_clock_change_is_shorter_in_spring_longer_in_autumn() -> None:
    # NIGHT works 00:30-02:30 local every day. On Sun 29 Mar 2026 that is 00:30 GMT to 02:30 BST,
    # one real hour; on Sun 25 Oct 2026 it is 00:30 BST to 02:30 GMT, three real hours.
    one_hour, three_hours = with_hours(NIGHT, Rag.AMBER, 1), with_hours(NIGHT, Rag.AMBER, 3)
    spring = decision_deadline(london(2026, 3, 29, 0), Rag.AMBER, one_hour)
    assert spring == london(2026, 3, 29, 2, 30) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    autumn = decision_deadline(london(2026, 10, 25, 0), Rag.AMBER, three_hours)
    assert autumn == dt.datetime(2026, 10, 25, 2, 30, tzinfo=UTC)
    # One more minute of work than the spring night holds runs into the next night's 00:31 BST.
    one_hour_one_minute = with_hours(NIGHT, Rag.AMBER, 61 / 60)
    due = decision_deadline(london(2026, 3, 29, 0), Rag.AMBER, one_hour_one_minute)
    assert due == london(2026, 3, 30, 0, 31)


def test_a_day_starting_in_the_skipped_hour_starts_when_the_clocks_jump() -> None:
    # Working 01:30-03:00 local: on Sun 29 Mar 2026, 01:30 never shows; the clocks jump from
    # 01:00 GMT to 02:00 BST, so the day opens at 01:00 UTC and holds one hour, to 03:00 BST.
    policy = dataclasses.replace(
        NIGHT, day_starts=dt.time(1, 30), day_ends=dt.time(3, 0), hours={"amber": 1.0}
    )
    due = decision_deadline(london(2026, 3, 28, 12), Rag.AMBER, policy)
    assert due == dt.datetime(2026, 3, 29, 2, tzinfo=UTC)
    assert in_london(due).replace(tzinfo=None) == dt.datetime(2026, 3, 29, 3)


def test_a_boundary_in_the_repeated_hour_opens_first_time_and_closes_second_time() -> None:
    # On Sun 25 Oct 2026 the clocks show 01:00-02:00 twice (BST, then GMT). Working 00:30-01:30
    # runs from 00:30 BST (23:30 UTC on the 24th) to the second 01:30, GMT (01:30 UTC): 2 hours.
    policy = dataclasses.replace(NIGHT, day_ends=dt.time(1, 30), hours={"amber": 2.0})
    due = decision_deadline(london(2026, 10, 24, 12), Rag.AMBER, policy)
    assert due == dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    # Working 01:30-03:00 opens at the first 01:30, BST (00:30 UTC), and holds 2.5 hours.
    policy = dataclasses.replace(
        NIGHT, day_starts=dt.time(1, 30), day_ends=dt.time(3, 0), hours={"amber": 2.5}
    )
    due = decision_deadline(london(2026, 10, 24, 12), Rag.AMBER, policy)
    assert due == dt.datetime(2026, 10, 25, 3, tzinfo=UTC)


def test_monday_and_wednesday_hub() -> None:
    # Mon 11 Jan 2027 08:30: 9.5 hours Monday, 9.5 Wednesday (19), the last 5 hours the next
    # Monday 08:30-13:30.
    assert decision_deadline(london(2027, 1, 11, 8, 30), Rag.AMBER, MON_WED) == london(
        2027, 1, 18, 13, 30
    )
    # Tuesday 12:00 waits for Wednesday 08:30; 2 hours is due at 10:30.
    short = with_hours(MON_WED, Rag.GREEN, 2)
    assert decision_deadline(london(2027, 1, 12, 12), Rag.GREEN, short) == london(
        2027, 1, 13, 10, 30
    )


# --- refusals ------------------------------------------------------------------------------------


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decision_deadline(dt.datetime(2027, 1, 11, 9), Rag.AMBER, DEFAULT)


def test_naive_times_are_refused_by_the_clock() -> None:
    aware = london(2027, 1, 11, 9)
    with pytest.raises(ValueError, match="now must be a timezone-aware"):
        clock(aware, dt.datetime(2027, 1, 11, 9), DEFAULT)
    with pytest.raises(ValueError, match="deadline must be a timezone-aware"):
        clock(dt.datetime(2027, 1, 11, 9), aware, DEFAULT)


def test_policy_without_working_days_or_hours_for_the_rating_is_refused() -> None:
    start = london(2027, 1, 11, 9)
    with pytest.raises(ValueError, match="working days"):
        decision_deadline(start, Rag.GREEN, dataclasses.replace(DEFAULT, working_days=()))
    with pytest.raises(ValueError, match="no hours for a green rating"):
        decision_deadline(start, Rag.GREEN, dataclasses.replace(DEFAULT, hours={"red": 4.0}))
    with pytest.raises(ValueError, match="must be positive"):
        decision_deadline(start, Rag.AMBER, with_hours(DEFAULT, Rag.AMBER, 0))


# --- the clock and its words ---------------------------------------------------------------------


def test_clock_counts_real_time_to_the_deadline() -> None:
    deadline = london(2027, 1, 20, 16)
    shown = clock(deadline, london(2027, 1, 20, 12, 40), DEFAULT)
    assert shown == Clock(deadline, dt.timedelta(hours=3, minutes=20), False, False)
    # Across the autumn clock change: 00:30 BST to 02:30 GMT is three real hours.
    overnight = clock(london(2026, 10, 25, 2, 30), london(2026, 10, 25, 0, 30), DEFAULT)
    assert overnight.remaining == dt.timedelta(hours=3)


@pytest.mark.parametrize(
    ("minutes_left", "breached", "near"),
    [
        (61, False, False),
        (60, False, True),  # exactly the near-breach margin counts as near
        (1, False, True),
        (0, True, False),  # at the deadline itself time is up
        (-5, True, False),
    ],
)
def test_breach_and_near_breach(minutes_left: int, breached: bool, near: bool) -> None:
    deadline = london(2027, 1, 20, 16)
    shown = clock(deadline, deadline - dt.timedelta(minutes=minutes_left), DEFAULT)
    assert shown.remaining == dt.timedelta(minutes=minutes_left)
    assert (shown.breached, shown.near_breach) == (breached, near)


@pytest.mark.parametrize(
    ("remaining", "words"),
    [
        (dt.timedelta(hours=3, minutes=20, seconds=59), "3 hours 20 minutes left"),
        (dt.timedelta(minutes=45), "45 minutes left"),
        (dt.timedelta(minutes=1), "1 minute left"),
        (dt.timedelta(hours=1), "1 hour left"),
        (dt.timedelta(days=2, hours=1, minutes=30), "2 days 1 hour left"),
        (dt.timedelta(days=1, minutes=30), "1 day left"),
        (dt.timedelta(seconds=20), "less than a minute left"),
        (dt.timedelta(0), "Overdue by less than a minute"),
        (-dt.timedelta(hours=1, minutes=5, seconds=10), "Overdue by 1 hour 5 minutes"),
        (-dt.timedelta(minutes=2), "Overdue by 2 minutes"),
        (-dt.timedelta(days=3, hours=2), "Overdue by 3 days 2 hours"),
    ],
)
def test_describe_remaining(remaining: dt.timedelta, words: str) -> None:
    assert describe_remaining(remaining) == words


def test_green_deadline_is_computed_quickly() -> None:
    # Day by day, not minute by minute: a 72-hour green takes tens of microseconds (a minute loop
    # would take milliseconds); 500 of them over a year of starts in well under a second.
    starts = [london(2027, 1, 1) + dt.timedelta(hours=17 * i) for i in range(500)]
    began = time.perf_counter()
    for start in starts:
        decision_deadline(start, Rag.GREEN, DEFAULT)
    assert (time.perf_counter() - began) / len(starts) < 0.001


# --- properties against a slow reference ---------------------------------------------------------

_ENGLAND = holidays.country_holidays("GB", subdiv="ENG", years=range(2026, 2030))


def is_working_minute(minute: dt.datetime, policy: ReferralPolicy) -> bool:
    """Whether the local wall clock, at the start of this minute, reads inside working hours."""
    local = minute.astimezone(ZoneInfo(policy.timezone))
    return (
        local.weekday() in policy.working_days
        and local.date() not in _ENGLAND
        and policy.day_starts <= local.time() < policy.day_ends
    )


def slow_deadline(start: dt.datetime, minutes: int, policy: ReferralPolicy) -> dt.datetime:
    """Walk minute by minute from start until `minutes` working minutes have passed."""
    minute, counted = start, 0
    while True:
        if is_working_minute(minute, policy):
            counted += 1
            if counted == minutes:
                return minute + dt.timedelta(minutes=1)
        minute += dt.timedelta(minutes=1)


def starts_between(first: dt.datetime, last: dt.datetime) -> st.SearchStrategy[dt.datetime]:
    """Whole-minute UTC starts."""
    return st.datetimes(min_value=first, max_value=last).map(
        lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
    )


STARTS = starts_between(dt.datetime(2027, 1, 1), dt.datetime(2028, 12, 31))
POLICIES = st.sampled_from([DEFAULT, MON_WED, NIGHT])
WORKING_RAGS = st.sampled_from([Rag.AMBER, Rag.GREEN])


@settings(max_examples=300, deadline=None)
@given(STARTS, st.integers(1, 32), POLICIES, WORKING_RAGS)
def test_working_time_to_the_deadline_equals_the_hours(
    start: dt.datetime, quarters: int, policy: ReferralPolicy, rag: Rag
) -> None:
    policy = with_hours(policy, rag, quarters / 4)
    assert decision_deadline(start, rag, policy) == slow_deadline(start, quarters * 15, policy)


_CLOCK_CHANGES = [dt.datetime(2027, 3, 28), dt.datetime(2027, 10, 31), dt.datetime(2028, 3, 26)]


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(_CLOCK_CHANGES),
    st.integers(-3 * 24 * 60, 24 * 60),
    st.integers(1, 16),
    POLICIES,
)
def test_working_time_across_clock_changes_equals_the_hours(
    change_day: dt.datetime, offset_minutes: int, quarters: int, policy: ReferralPolicy
) -> None:
    start = change_day.replace(tzinfo=UTC) + dt.timedelta(minutes=offset_minutes)
    policy = with_hours(policy, Rag.AMBER, quarters / 4)
    assert decision_deadline(start, Rag.AMBER, policy) == slow_deadline(
        start, quarters * 15, policy
    )


@settings(max_examples=200, deadline=None)
@given(STARTS, st.floats(0.1, 720), POLICIES, WORKING_RAGS)
def test_working_deadline_falls_inside_working_time(
    start: dt.datetime, hours: float, policy: ReferralPolicy, rag: Rag
) -> None:
    policy = with_hours(policy, rag, hours)
    due = in_london(decision_deadline(start, rag, policy))
    assert due.weekday() in policy.working_days
    assert due.date() not in holidays.country_holidays("GB", subdiv="ENG", years=due.year)
    assert policy.day_starts < due.time() <= policy.day_ends  # may end exactly at day's end


@settings(max_examples=200, deadline=None)
@given(STARTS, STARTS, POLICIES, st.sampled_from(list(Rag)))
def test_deadline_never_moves_earlier_for_a_later_start(
    first: dt.datetime, second: dt.datetime, policy: ReferralPolicy, rag: Rag
) -> None:
    earlier, later = sorted([first, second])
    assert decision_deadline(earlier, rag, policy) <= decision_deadline(later, rag, policy)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(
        min_value=dt.datetime(2026, 1, 1),
        max_value=dt.datetime(2029, 12, 31),
        timezones=st.sampled_from([UTC, LONDON]),
    ),
    st.floats(0.1, 720),
)
def test_red_deadline_is_start_plus_the_hours(start: dt.datetime, hours: float) -> None:
    policy = with_hours(DEFAULT, Rag.RED, hours)
    due = decision_deadline(start, Rag.RED, policy)
    assert due - start == dt.timedelta(hours=hours)
    assert due.tzinfo is UTC
