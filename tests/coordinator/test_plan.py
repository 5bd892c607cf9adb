"""Changing the plan: each change refused with the field it is about, or made whole and kept as
history (who, when, before, after); a change made from an old version refused with who changed
it and when; only editors may change anything."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.access import AccessDenied
from coordinator.errors import ChangedSince, DomainError
from coordinator.evaluation import baselines
from coordinator.rollout import plan, read
from coordinator.rollout.changes import generation
from coordinator.store.models import (
    AgreementKind,
    AgreementStatus,
    Arrangement,
    Change,
    ConsultationStatus,
    FundingKind,
    Milestone,
    Stage,
)
from tests.coordinator.conftest import ADMIN, EDITOR, VIEWER

TODAY = dt.date(2026, 12, 1)
OTHER = type(EDITOR)("second.editor", EDITOR.role)


def _milestone(db: Session, **fields) -> int:  # type: ignore[no-untyped-def]
    values = {"title": "ISA signed", "due_on": dt.date(2026, 11, 1), **fields}
    return plan.add_milestone(db, EDITOR, "hackney", plan.MilestoneFields(**values), today=TODAY)


def test_a_milestone_change_is_kept_as_history_with_before_and_after(db: Session) -> None:
    milestone_id = _milestone(db)
    before = generation(db)

    plan.update_milestone(
        db,
        OTHER,
        milestone_id,
        1,
        plan.MilestoneFields(
            "ISA signed", dt.date(2026, 11, 1), completed_on=dt.date(2026, 11, 20)
        ),
        today=TODAY,
    )

    change = db.scalars(select(Change).order_by(Change.id.desc())).first()
    assert change is not None
    assert (change.actor, change.entity, change.action) == ("second.editor", "milestone", "changed")
    assert change.fields == {"completed_on": [None, "2026-11-20"]}
    assert db.get_one(Milestone, milestone_id).version == 2
    assert generation(db) == before + 1
    view = read.milestone(db, milestone_id, TODAY)
    assert (view.rag, view.late, view.days_late) == ("complete", True, 19)


def test_a_change_from_an_old_version_is_refused_naming_who_and_when(db: Session) -> None:
    milestone_id = _milestone(db)
    plan.update_milestone(
        db,
        OTHER,
        milestone_id,
        1,
        plan.MilestoneFields("ISA agreed", dt.date(2026, 11, 1)),
        today=TODAY,
    )

    with pytest.raises(ChangedSince) as refused:
        plan.update_milestone(
            db,
            EDITOR,
            milestone_id,
            1,
            plan.MilestoneFields("ISA", dt.date(2026, 12, 1)),
            today=TODAY,
        )

    assert refused.value.by == "second.editor"
    assert refused.value.version == 2
    assert "second.editor" in refused.value.message
    assert db.get_one(Milestone, milestone_id).title == "ISA agreed"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"due_on": None}, "due_on"),
        ({"due_on": dt.date(1999, 12, 31)}, "due_on"),
        ({"completed_on": dt.date(2027, 1, 1)}, "completed_on"),
        ({"notes": "n" * 2001}, "notes"),
    ],
)
def test_a_bad_milestone_is_refused_naming_the_field(db: Session, fields, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as refused:
        _milestone(db, **fields)
    assert refused.value.field == field
    assert db.scalar(select(Milestone.id).where(Milestone.borough_code == "hackney")) is None


def test_a_live_stage_needs_its_go_live_day_and_a_go_live_day_a_live_stage(db: Session) -> None:
    with pytest.raises(DomainError) as no_day:
        plan.update_borough(
            db,
            EDITOR,
            "hackney",
            1,
            plan.BoroughPlan(Stage.HUB_LIVE, None, None, None),
            today=TODAY,
        )
    with pytest.raises(DomainError) as not_live:
        plan.update_borough(
            db,
            EDITOR,
            "hackney",
            1,
            plan.BoroughPlan(Stage.CONSIDERING, None, None, dt.date(2026, 11, 3)),
            today=TODAY,
        )
    with pytest.raises(DomainError) as wave:
        plan.update_borough(
            db,
            EDITOR,
            "hackney",
            1,
            plan.BoroughPlan(Stage.CONSIDERING, 999, None, None),
            today=TODAY,
        )

    assert (no_day.value.field, not_live.value.field, wave.value.field) == (
        "went_live_on",
        "stage",
        "wave_id",
    )


def test_only_editors_change_the_plan(db: Session) -> None:
    for actor in (VIEWER, ADMIN):
        with pytest.raises(AccessDenied):
            _milestone_as(db, actor)
        with pytest.raises(AccessDenied):
            plan.update_settings(db, actor, 1, 50_000, 100_000, 14)


def _milestone_as(db: Session, actor) -> None:  # type: ignore[no-untyped-def]
    plan.add_milestone(
        db, actor, "hackney", plan.MilestoneFields("x", dt.date(2026, 1, 1)), today=TODAY
    )


def test_agreements_keep_their_dates_in_order_and_the_eia_its_consultation(db: Session) -> None:
    def eia(**kw) -> None:  # type: ignore[no-untyped-def]
        version = read.agreement(db, "lambeth", AgreementKind.EIA).version
        fields = {"status": AgreementStatus.SIGNED, "started_on": dt.date(2026, 6, 1), **kw}
        plan.update_agreement(
            db,
            EDITOR,
            "lambeth",
            AgreementKind.EIA,
            version,
            plan.AgreementFields(**fields),
            today=TODAY,
        )

    with pytest.raises(DomainError) as unsigned:
        eia()
    with pytest.raises(DomainError) as backwards:
        eia(signed_on=dt.date(2026, 5, 1))
    with pytest.raises(DomainError) as closed:
        eia(
            signed_on=dt.date(2026, 9, 1),
            consultation=ConsultationStatus.CLOSED,
            consultation_opened_on=dt.date(2026, 7, 1),
        )
    eia(
        signed_on=dt.date(2026, 9, 1),
        consultation=ConsultationStatus.CLOSED,
        consultation_opened_on=dt.date(2026, 7, 1),
        consultation_closed_on=dt.date(2026, 8, 1),
    )

    assert (unsigned.value.field, backwards.value.field, closed.value.field) == (
        "signed_on",
        "signed_on",
        "consultation_closed_on",
    )
    view = read.agreement(db, "lambeth", AgreementKind.EIA)
    assert (view.status, view.consultation) == (AgreementStatus.SIGNED, ConsultationStatus.CLOSED)


def test_the_police_cost_is_within_the_programmes_range_once_a_hub(db: Session) -> None:
    police = plan.FundingFields(FundingKind.POLICE, "Metropolitan Police Service", 75_000)
    with pytest.raises(DomainError) as too_much:
        plan.add_funding(
            db, EDITOR, "hackney", plan.FundingFields(FundingKind.POLICE, "Met", 120_000)
        )
    plan.add_funding(db, EDITOR, "hackney", police)
    with pytest.raises(DomainError) as twice:
        plan.add_funding(db, EDITOR, "hackney", police)
    plan.add_funding(
        db,
        EDITOR,
        "hackney",
        plan.FundingFields(FundingKind.PARTNER, "Children's services", 180_000),
    )

    assert (too_much.value.field, twice.value.field) == ("amount_pounds", "kind")
    [hackney] = [i for i in read.investment(db) if i.code == "hackney"]
    assert (hackney.police, hackney.partner_total, hackney.total) == (75_000, 180_000, 255_000)


def test_a_partner_and_a_framework_assessment_are_recorded(db: Session) -> None:
    partner = read.partner(db, "brent", "health")
    plan.update_partner(
        db,
        EDITOR,
        "brent",
        "health",
        partner.version,
        Arrangement.VIRTUAL,
        dt.date(2026, 9, 1),
        today=TODAY,
    )
    plan.record_assessment(db, EDITOR, "brent", dt.date(2026, 3, 1), 2, today=TODAY)
    plan.record_assessment(db, EDITOR, "brent", dt.date(2026, 9, 1), 4, today=TODAY)
    with pytest.raises(DomainError) as level:
        plan.record_assessment(db, EDITOR, "brent", dt.date(2026, 9, 1), 7, today=TODAY)

    detail = read.borough_detail(db, "brent", TODAY)
    assert [(a.assessed_on.month, a.level) for a in detail.assessments] == [(3, 2), (9, 4)]
    assert detail.summary.framework_level == 4
    assert [p.arrangement for p in detail.partners if p.agency_code == "health"] == [
        Arrangement.VIRTUAL
    ]
    assert level.value.field == "level"


def _baseline(**changes) -> baselines.BaselineFields:  # type: ignore[no-untyped-def]
    rag = baselines.RagBaseline(40.0, 1.5, 1.0)
    values = {
        "period_from": dt.date(2026, 1, 1),
        "period_to": dt.date(2026, 1, 31),
        "sample_size": 120,
        "red": rag,
        "amber": baselines.RagBaseline(150.0, 3.5, 3.0),
        "green": baselines.RagBaseline(300.0, 6.0, 5.0),
        **changes,
    }
    return baselines.BaselineFields(**values)


def test_a_baseline_is_entered_then_changed_from_its_version(db: Session) -> None:
    baselines.set_baseline(db, EDITOR, "southwark", None, _baseline(), today=TODAY)
    with pytest.raises(ChangedSince):
        baselines.set_baseline(db, OTHER, "southwark", None, _baseline(), today=TODAY)
    baselines.set_baseline(db, OTHER, "southwark", 1, _baseline(sample_size=150), today=TODAY)
    with pytest.raises(DomainError) as bad:
        baselines.set_baseline(
            db,
            EDITOR,
            "southwark",
            2,
            _baseline(green=baselines.RagBaseline(300.0, None, 5.0)),
            today=TODAY,
        )

    view = baselines.baseline(db, "southwark")
    assert view is not None
    assert (view.sample_size, view.version, view.contacts) == (150, 2, 490.0)
    assert view.mean_days_weighted() == pytest.approx((40 * 1.5 + 150 * 3.5 + 300 * 6) / 490)
    assert bad.value.field == "green_mean_days"
