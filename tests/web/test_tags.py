"""The front door's tags, time left and category lists, as the pages show them."""

from __future__ import annotations

import datetime as dt

from node.referrals.deadlines import Clock
from node.store.models import Rag, ReferralStatus, ReleaseState
from node.web.referrals.tags import category_list, rag_tag, release_tag, status_tag, time_left


def _clock(minutes: int, *, near: bool = False) -> Clock:
    remaining = dt.timedelta(minutes=minutes)
    return Clock(
        deadline=dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC),
        remaining=remaining,
        breached=minutes < 0,
        near_breach=near,
    )


def test_tags_name_the_state_in_words_and_colour() -> None:
    assert rag_tag(None) == '<strong class="govuk-tag govuk-tag--grey">Not yet rated</strong>'
    assert rag_tag(Rag.AMBER) == '<strong class="govuk-tag govuk-tag--orange">Amber</strong>'
    assert status_tag(ReferralStatus.AWAITING_LAWFUL_BASIS) == (
        '<strong class="govuk-tag govuk-tag--yellow">Awaiting lawful basis</strong>'
    )
    assert release_tag(ReleaseState.SIGNPOSTED) == (
        '<strong class="moj-badge moj-badge--blue">Signposted</strong>'
    )


def test_time_left_badges_overdue_and_nearly_due_clocks() -> None:
    assert time_left(None) == "Rate it to start the clock"
    assert time_left(_clock(200)) == "3 hours 20 minutes left"
    assert time_left(_clock(-5), stacked=True) == (
        '<strong class="moj-badge moj-badge--red">Overdue</strong><br>'
        '    <span class="govuk-!-font-weight-bold">Overdue by 5 minutes</span>'
    )
    assert time_left(_clock(30, near=True)) == (
        '<strong class="moj-badge moj-badge--black">Due soon</strong>'
        '    <span class="govuk-!-font-weight-bold">30 minutes left</span>'
    )


def test_category_names_are_escaped() -> None:
    names = {"neglect": "Neglect", "odd": "<b>Odd & new</b>"}
    assert category_list(["neglect", "odd", "unknown"], names) == (
        "Neglect, &lt;b&gt;Odd &amp; new&lt;/b&gt;, unknown"
    )
    assert category_list([], names) == ""
