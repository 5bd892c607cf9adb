"""The hub's monthly evaluation figures, computed from the front door's records: what each family
counts, the month's edges in the hub's time zone, repeat contacts, turnaround against the
deadline, and every count of 1 to 4 suppressed before anything leaves the node."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mash_common.evaluation import SUPPRESS_BELOW, problems
from node.config import ReferralPolicy, load_config, render_config
from node.evaluation import month_bounds, monthly_figures
from node.referrals.deadlines import working_time_between
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.referrals.outcome import record_decision
from node.referrals.triage import set_rag
from node.store.models import (
    BoroughCheck,
    IncomingDisclosure,
    IncomingState,
    Outcome,
    Pathway,
    Rag,
    ReferralPerson,
)
from tests.helpers import MANAGER, make_hub

NOVEMBER = dt.date(2025, 11, 1)
MONDAY = dt.datetime(2025, 11, 3, 10, 0, tzinfo=dt.UTC)  # 10:00 in London (GMT)


@pytest.fixture
def policy(tmp_path: Path) -> ReferralPolicy:
    path = tmp_path / "node.toml"
    path.write_text(render_config("hackney", "Hackney", ["police"]), encoding="utf-8")
    return load_config(path).referrals


def _contact(
    session: Session,
    policy: ReferralPolicy,
    received: dt.datetime,
    *,
    source: str = "police",
    category: str = "neglect",
    pathway: Pathway = Pathway.CHILD,
    child: PersonDetails | None = None,
) -> int:
    person = child or PersonDetails(
        surname=f"Person{received:%d%H%M}",
        forenames="Alex",
        date_of_birth=dt.date(2016, 5, 1),
        gender="F",
    )
    kind = "agency" if source not in ("public", "other") else source
    referral = record_contact(
        session,
        MANAGER,
        NewContact(
            pathway=pathway,
            source_kind=kind,
            source_agency=source if kind == "agency" else None,
            categories=(category,),
            account="Concern reported to the hub",
            people=(person,),
            received_at=received,
        ),
        policy,
    )
    return referral.id


def _decide(
    session: Session,
    policy: ReferralPolicy,
    referral_id: int,
    rag: Rag,
    after: dt.timedelta,
    outcome: Outcome = Outcome.ASSESSMENT,
    interventions: list[tuple[str, str]] | None = None,
) -> None:
    referral = set_rag(session, MANAGER, referral_id, rag, "as screened", policy)
    record_decision(
        session,
        MANAGER,
        referral_id,
        outcome,
        "decided on the research",
        interventions=interventions,
        research_open_confirmed=True,
        now=referral.received_at + after,
    )


def _counts(figures) -> dict[tuple[str, str], object]:  # type: ignore[no-untyped-def]
    return {
        (c.family, c.category): ("suppressed" if c.suppressed else c.value) for c in figures.counts
    }


def test_the_months_contacts_and_decisions_are_counted_with_small_counts_suppressed(
    session: Session, policy: ReferralPolicy
) -> None:
    make_hub(session)
    ids = [_contact(session, policy, MONDAY + dt.timedelta(hours=i)) for i in range(7)]
    for i in range(2):
        _contact(session, policy, MONDAY + dt.timedelta(days=1, hours=i), source="public")
    # Amber: six decided two working days after arrival (within 24 working hours), one late.
    for referral_id in ids[:6]:
        _decide(
            session,
            policy,
            referral_id,
            Rag.AMBER,
            dt.timedelta(days=2),
            interventions=[("police", "patrol the address"), ("health", "health visitor call")],
        )
    _decide(session, policy, ids[6], Rag.RED, dt.timedelta(hours=2), Outcome.NO_FURTHER_ACTION)
    # Outside the month: the evening of 31 October and the first moment of December in London.
    _contact(session, policy, dt.datetime(2025, 10, 31, 23, 59, tzinfo=dt.UTC))
    _contact(session, policy, dt.datetime(2025, 12, 1, 0, 0, tzinfo=dt.UTC))

    figures = monthly_figures(session, NOVEMBER, policy)
    counts = _counts(figures)
    stats = {(s.family, s.category): s for s in figures.statistics}

    assert figures.month == "2025-11"
    assert counts[("contacts.total", "all")] == 9
    assert counts[("contacts.source", "police")] == 7
    assert counts[("contacts.source", "public")] == "suppressed"
    assert counts[("contacts.concern", "neglect")] == 9
    assert counts[("contacts.rag", "amber")] == 6
    assert counts[("contacts.rag", "red")] == "suppressed"
    assert counts[("contacts.rag", "not-rated")] == "suppressed"
    assert counts[("decisions.rag", "amber")] == 6
    assert counts[("decisions.within_deadline", "amber")] == 6
    assert counts[("referrals.total", "all")] == 6  # the red one ended in no further action
    assert counts[("decisions.outcome", "no-further-action")] == "suppressed"
    assert counts[("interventions.agency", "police")] == 6
    assert counts[("interventions.agency", "health")] == 6
    assert counts[("equality.gender", "female")] == 9
    assert counts[("equality.age_band", "5-9")] == 9
    assert counts[("equality.ethnicity", "not-recorded")] == 9
    assert counts[("checks.existence", "asked")] == 0
    assert counts[("disclosures.requests", "made")] == 0
    assert stats[("turnaround.median_working_days", "amber")].basis == 6
    assert stats[("turnaround.median_working_days", "amber")].value == 2.0  # 16 working hours
    assert stats[("turnaround.median_hours", "amber")].value == 48.0
    assert stats[("turnaround.mean_working_days", "red")].suppressed  # one red decision
    assert all(c.suppressed or c.value == 0 or c.value >= SUPPRESS_BELOW for c in figures.counts)
    assert problems(figures) == []


def test_a_contact_about_a_child_named_in_the_year_before_is_a_repeat(
    session: Session, policy: ReferralPolicy
) -> None:
    make_hub(session)
    children = [
        PersonDetails(surname=f"Repeat{i}", forenames="Sam", date_of_birth=dt.date(2012, 1, i + 1))
        for i in range(6)
    ]
    first_ids = [
        _contact(session, policy, dt.datetime(2025, 3, 3, 10, i, tzinfo=dt.UTC), child=child)
        for i, child in enumerate(children)
    ]
    from node.store.models import ReferralPerson

    subjects = [
        session.query(ReferralPerson.subject_id).filter_by(referral_id=i).scalar()
        for i in first_ids
    ]
    for i, subject in enumerate(subjects[:5]):  # five named again in November, by subject
        again = PersonDetails(**{**children[i].__dict__, "subject_id": subject})
        _contact(session, policy, MONDAY + dt.timedelta(minutes=i), child=again)
    _contact(session, policy, MONDAY + dt.timedelta(hours=3))  # someone new

    counts = _counts(monthly_figures(session, NOVEMBER, policy))

    assert counts[("contacts.total", "all")] == 6
    assert counts[("contacts.re_referral", "within-12-months")] == 5


def test_the_month_is_the_hubs_calendar_month_across_the_clock_change(
    policy: ReferralPolicy,
) -> None:
    start, end = month_bounds(dt.date(2026, 4, 1), policy.timezone)

    assert start == dt.datetime(2026, 3, 31, 23, 0, tzinfo=dt.UTC)  # BST began on 29 March
    assert end == dt.datetime(2026, 4, 30, 23, 0, tzinfo=dt.UTC)


def test_working_time_counts_only_working_hours_on_working_days(policy: ReferralPolicy) -> None:
    friday_four = dt.datetime(2025, 11, 7, 16, 0, tzinfo=dt.UTC)
    monday_ten = dt.datetime(2025, 11, 10, 10, 0, tzinfo=dt.UTC)

    assert working_time_between(friday_four, monday_ten, policy) == dt.timedelta(hours=2)
    assert working_time_between(monday_ten, friday_four, policy) == dt.timedelta(0)


def test_cross_borough_checks_and_disclosures_are_counted(
    session: Session, policy: ReferralPolicy
) -> None:
    make_hub(session)
    referral_id = _contact(session, policy, MONDAY)
    person = session.scalars(
        select(ReferralPerson.id).where(ReferralPerson.referral_id == referral_id)
    ).one()
    in_month = MONDAY + dt.timedelta(hours=3)
    outcomes = ["holds"] * 5 + ["holds-nothing"] * 6 + ["not-answered"] * 2
    for i, outcome in enumerate(outcomes):
        session.add(
            BoroughCheck(
                referral_id=referral_id,
                referral_person_id=person,
                borough=f"borough{i}",
                borough_name=f"Borough {i}",
                outcome=outcome,
                checked_by="manager",
                checked_at=in_month,
            )
        )
    ends = [IncomingState.ANSWERED] * 6 + [IncomingState.DECLINED, IncomingState.IN_REVIEW]
    for i, state in enumerate(ends):
        answered = state in (IncomingState.ANSWERED, IncomingState.DECLINED)
        session.add(
            IncomingDisclosure(
                asker="lambeth",
                asker_name="Lambeth",
                idempotency_key=f"key-{i:04d}",
                payload_digest=bytes(32),
                state=state,
                urgency=Rag.RED,
                referral_reference="LAM-1",
                purpose="p",
                user_pseudonym="u",
                sealed_body=b"s",
                received_at=in_month,
                deadline_at=in_month + dt.timedelta(hours=4),
                answered_at=in_month + dt.timedelta(hours=2 + i) if answered else None,
            )
        )
    session.flush()

    figures = monthly_figures(session, NOVEMBER, policy)
    counts = _counts(figures)
    stats = {(s.family, s.category): s for s in figures.statistics}

    assert counts[("checks.existence", "asked")] == 13
    assert counts[("checks.existence", "answered")] == 11
    assert counts[("checks.existence", "holds")] == 5
    assert counts[("disclosures.requests", "received")] == 8
    assert counts[("disclosures.requests", "approved")] == 6
    assert counts[("disclosures.requests", "declined")] == "suppressed"
    assert counts[("disclosures.requests", "made")] == 0
    median = stats[("disclosures.median_hours", "all")]
    assert (median.basis, median.value) == (7, 5.0)  # 2..8 hours after receipt
    assert problems(figures) == []
