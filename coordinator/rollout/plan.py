"""Changing the rollout plan: a borough's stage, wave and dates, its milestones, framework
assessments, partner agencies, agreements and funding; the waves; the programme's settings.

Each service takes the actor (project-team editors only) and, for a change to something that
exists, the version the editor's form was made from: a change made from an older version is
refused with who changed it and when (coordinator/rollout/changes.py). Every bad input is refused
with the field it is about; nothing is written unless everything is right.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.access import Actor, require_editor
from coordinator.errors import DomainError, ErrorCode, NotFound
from coordinator.rollout import changes
from coordinator.rollout.words import (
    AGREEMENT_NAMES,
    LIVE_STAGES,
    STAGE_NAMES,
)
from coordinator.store.models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    Arrangement,
    Borough,
    BoroughPartner,
    ConsultationStatus,
    FrameworkAssessment,
    FrameworkLevel,
    Funding,
    FundingKind,
    Milestone,
    PartnerAgency,
    ProgrammeSettings,
    Stage,
    Wave,
    utcnow,
)

EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 12, 31)
NOTES_LIMIT = 2000


class PlanError(DomainError):
    """A change to the plan is refused as asked (`field` says which input)."""


def _today(today: dt.date | None) -> dt.date:
    return today or dt.datetime.now(dt.UTC).date()


def _text(value: str, field: str, *, limit: int, required: str | None = None) -> str:
    value = (value or "").strip()
    if required and not value:
        raise PlanError(required, field=field)
    if len(value) > limit:
        raise PlanError(f"must be {limit:,} characters or fewer", field=field)
    return value


def _date(
    value: dt.date | None,
    field: str,
    *,
    required: str | None = None,
    not_after: dt.date | None = None,
) -> dt.date | None:
    if value is None:
        if required:
            raise PlanError(required, field=field)
        return None
    if not EARLIEST <= value <= LATEST:
        raise PlanError("must be a date between 2000 and 2100", field=field)
    if not_after is not None and value > not_after:
        raise PlanError("must be today or in the past", field=field)
    return value


def _borough(session: Session, code: str, *, lock: bool = False) -> Borough:
    borough = session.get(Borough, code, with_for_update=lock)
    if borough is None:
        raise NotFound(f"no borough {code!r}")
    return borough


def _row(session: Session, model: type[Any], key: Any, what: str) -> Any:
    row = session.get(model, key, with_for_update=True)
    if row is None:
        raise NotFound(f"no {what} {key!r}")
    return row


# --- a borough's place in the rollout -------------------------------------------------------------


@dataclass(frozen=True)
class BoroughPlan:
    stage: Stage
    wave_id: int | None
    target_go_live: dt.date | None
    went_live_on: dt.date | None
    notes: str = ""


def update_borough(
    session: Session,
    actor: Actor,
    code: str,
    version: int,
    plan: BoroughPlan,
    *,
    today: dt.date | None = None,
) -> None:
    require_editor(actor)
    borough = _borough(session, code, lock=True)
    changes.require_version(
        session, borough, version, f"{borough.name}'s stage and wave", "borough", code
    )
    if plan.wave_id is not None and session.get(Wave, plan.wave_id) is None:
        raise PlanError("choose one of the waves", field="wave_id")
    _date(plan.target_go_live, "target_go_live")
    went_live = _date(plan.went_live_on, "went_live_on", not_after=_today(today))
    if plan.stage in LIVE_STAGES and went_live is None:
        raise PlanError(
            f"give the day the hub went live (the stage is {STAGE_NAMES[plan.stage]})",
            field="went_live_on",
        )
    if plan.stage not in LIVE_STAGES and went_live is not None:
        raise PlanError(
            "a hub with a go-live date is live: choose Hub live or a later stage, or clear the "
            "go-live date",
            field="stage",
        )
    changes.apply(
        session,
        actor,
        borough,
        {
            "stage": plan.stage,
            "wave_id": plan.wave_id,
            "target_go_live": plan.target_go_live,
            "went_live_on": went_live,
            "notes": _text(plan.notes, "notes", limit=NOTES_LIMIT),
        },
        entity="borough",
        entity_id=code,
        borough=code,
        summary=f"{borough.name}: stage, wave and dates",
    )


# --- milestones -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneFields:
    title: str
    due_on: dt.date | None
    completed_on: dt.date | None = None
    notes: str = ""


def _milestone_values(fields: MilestoneFields, today: dt.date) -> dict[str, Any]:
    return {
        "title": _text(fields.title, "title", limit=200, required="enter the milestone"),
        "due_on": _date(fields.due_on, "due_on", required="enter the date it is due"),
        "completed_on": _date(fields.completed_on, "completed_on", not_after=today),
        "notes": _text(fields.notes, "notes", limit=NOTES_LIMIT),
    }


def add_milestone(
    session: Session,
    actor: Actor,
    code: str,
    fields: MilestoneFields,
    *,
    today: dt.date | None = None,
) -> int:
    require_editor(actor)
    borough = _borough(session, code)
    values = _milestone_values(fields, _today(today))
    now = utcnow()
    milestone = Milestone(
        borough_code=code,
        created_by=actor.username,
        created_at=now,
        updated_by=actor.username,
        updated_at=now,
        **values,
    )
    session.add(milestone)
    session.flush()
    changes.record(
        session,
        actor,
        borough=code,
        entity="milestone",
        entity_id=str(milestone.id),
        action="created",
        summary=f"{borough.name}: milestone “{values['title']}” added",
        fields={name: [None, changes.shown(value)] for name, value in values.items() if value},
    )
    return milestone.id


def update_milestone(
    session: Session,
    actor: Actor,
    milestone_id: int,
    version: int,
    fields: MilestoneFields,
    *,
    today: dt.date | None = None,
) -> None:
    require_editor(actor)
    milestone: Milestone = _row(session, Milestone, milestone_id, "milestone")
    changes.require_version(
        session,
        milestone,
        version,
        f"The milestone “{milestone.title}”",
        "milestone",
        str(milestone_id),
    )
    values = _milestone_values(fields, _today(today))
    borough = _borough(session, milestone.borough_code)
    changes.apply(
        session,
        actor,
        milestone,
        values,
        entity="milestone",
        entity_id=str(milestone_id),
        borough=milestone.borough_code,
        summary=f"{borough.name}: milestone “{values['title']}” changed",
    )


def remove_milestone(session: Session, actor: Actor, milestone_id: int, version: int) -> None:
    require_editor(actor)
    milestone: Milestone = _row(session, Milestone, milestone_id, "milestone")
    changes.require_version(
        session,
        milestone,
        version,
        f"The milestone “{milestone.title}”",
        "milestone",
        str(milestone_id),
    )
    borough = _borough(session, milestone.borough_code)
    fields = {
        name: [changes.shown(getattr(milestone, name)), None]
        for name in ("title", "due_on", "completed_on", "notes")
        if getattr(milestone, name)
    }
    session.delete(milestone)
    changes.record(
        session,
        actor,
        borough=milestone.borough_code,
        entity="milestone",
        entity_id=str(milestone_id),
        action="removed",
        summary=f"{borough.name}: milestone “{milestone.title}” removed",
        fields=fields,
    )


# --- the progression framework ------------------------------------------------------------------


def record_assessment(
    session: Session,
    actor: Actor,
    code: str,
    assessed_on: dt.date | None,
    level: int | None,
    notes: str = "",
    *,
    today: dt.date | None = None,
) -> int:
    """Record the borough's progression-framework level as assessed on a day (kept: the list
    of assessments is the level over time)."""
    require_editor(actor)
    borough = _borough(session, code)
    day = _date(
        assessed_on,
        "assessed_on",
        required="enter the day of the assessment",
        not_after=_today(today),
    )
    if level is None or session.get(FrameworkLevel, level) is None:
        raise PlanError("choose the level the borough was assessed at", field="level")
    notes = _text(notes, "notes", limit=NOTES_LIMIT)
    assessment = FrameworkAssessment(
        borough_code=code, assessed_on=day, level=level, notes=notes, recorded_by=actor.username
    )
    session.add(assessment)
    session.flush()
    changes.record(
        session,
        actor,
        borough=code,
        entity="assessment",
        entity_id=str(assessment.id),
        action="created",
        summary=f"{borough.name}: progression framework assessed at level {level}",
        fields={"assessed_on": [None, changes.shown(day)], "level": [None, level]},
    )
    return assessment.id


# --- partner agencies -------------------------------------------------------------------------------


def update_partner(
    session: Session,
    actor: Actor,
    code: str,
    agency: str,
    version: int,
    arrangement: Arrangement,
    since: dt.date | None,
    *,
    today: dt.date | None = None,
) -> None:
    require_editor(actor)
    borough = _borough(session, code)
    partner = session.scalars(
        select(BoroughPartner)
        .where(BoroughPartner.borough_code == code, BoroughPartner.agency_code == agency)
        .with_for_update()
    ).first()
    name = session.get(PartnerAgency, agency)
    if partner is None or name is None:
        raise NotFound(f"no partner agency {agency!r}")
    changes.require_version(
        session, partner, version, f"{name.name} in {borough.name}", "partner", f"{code}/{agency}"
    )
    since = _date(since, "since", not_after=_today(today))
    if arrangement is Arrangement.NOT_INVOLVED:
        since = None
    changes.apply(
        session,
        actor,
        partner,
        {"arrangement": arrangement, "since": since},
        entity="partner",
        entity_id=f"{code}/{agency}",
        borough=code,
        summary=f"{borough.name}: {name.name}",
    )


# --- agreements ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementFields:
    status: AgreementStatus
    started_on: dt.date | None = None
    signed_on: dt.date | None = None
    review_on: dt.date | None = None
    consultation: ConsultationStatus | None = None
    consultation_opened_on: dt.date | None = None
    consultation_closed_on: dt.date | None = None
    notes: str = ""


def update_agreement(
    session: Session,
    actor: Actor,
    code: str,
    kind: AgreementKind,
    version: int,
    fields: AgreementFields,
    *,
    today: dt.date | None = None,
) -> None:
    require_editor(actor)
    today = _today(today)
    borough = _borough(session, code)
    agreement = session.scalars(
        select(Agreement)
        .where(Agreement.borough_code == code, Agreement.kind == kind)
        .with_for_update()
    ).first()
    if agreement is None:
        raise NotFound(f"no {kind.value} agreement for {code!r}")
    what = f"{borough.name}'s {AGREEMENT_NAMES[kind]}"
    changes.require_version(session, agreement, version, what, "agreement", f"{code}/{kind.value}")
    started = _date(fields.started_on, "started_on", not_after=today)
    signed = _date(fields.signed_on, "signed_on", not_after=today)
    review = _date(fields.review_on, "review_on")
    if fields.status is AgreementStatus.SIGNED and signed is None:
        raise PlanError("enter the day it was signed", field="signed_on")
    if fields.status is not AgreementStatus.SIGNED and signed is not None:
        raise PlanError(
            "a signing date means it is signed: choose Signed, or clear the date", field="status"
        )
    if fields.status is not AgreementStatus.NOT_STARTED and started is None:
        raise PlanError("enter the day work on it started", field="started_on")
    if started and signed and signed < started:
        raise PlanError("must be on or after the day work started", field="signed_on")
    if review and signed and review < signed:
        raise PlanError("must be on or after the day it was signed", field="review_on")
    values: dict[str, Any] = {
        "status": fields.status,
        "started_on": started,
        "signed_on": signed,
        "review_on": review,
        "notes": _text(fields.notes, "notes", limit=NOTES_LIMIT),
    }
    if kind is AgreementKind.EIA:  # only the EIA's local consultation is monitored centrally
        values.update(_consultation(fields, today))
    changes.apply(
        session,
        actor,
        agreement,
        values,
        entity="agreement",
        entity_id=f"{code}/{kind.value}",
        borough=code,
        summary=what,
    )


def _consultation(fields: AgreementFields, today: dt.date) -> dict[str, Any]:
    status = fields.consultation or ConsultationStatus.NOT_STARTED
    opened = _date(fields.consultation_opened_on, "consultation_opened_on", not_after=today)
    closed = _date(fields.consultation_closed_on, "consultation_closed_on", not_after=today)
    if status is not ConsultationStatus.NOT_STARTED and opened is None:
        raise PlanError("enter the day the consultation opened", field="consultation_opened_on")
    if status is ConsultationStatus.CLOSED and closed is None:
        raise PlanError("enter the day the consultation closed", field="consultation_closed_on")
    if status is not ConsultationStatus.CLOSED and closed is not None:
        raise PlanError(
            "a closing date means it has closed: choose Closed, or clear the date",
            field="consultation",
        )
    if opened and closed and closed < opened:
        raise PlanError("must be on or after the day it opened", field="consultation_closed_on")
    return {
        "consultation": status,
        "consultation_opened_on": opened,
        "consultation_closed_on": closed,
    }


# --- funding ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundingFields:
    kind: FundingKind
    funder: str
    amount_pounds: int | None
    notes: str = ""


def _funding_values(
    session: Session, code: str, fields: FundingFields, funding_id: int | None
) -> dict[str, Any]:
    funder = _text(fields.funder, "funder", limit=200, required="enter who pays")
    amount = fields.amount_pounds
    if amount is None:
        raise PlanError("enter the amount in pounds a year", field="amount_pounds")
    if not 0 <= amount <= 100_000_000:
        raise PlanError("must be between £0 and £100,000,000", field="amount_pounds")
    if fields.kind is FundingKind.POLICE:
        settings = session.get_one(ProgrammeSettings, 1)
        if not settings.police_cost_min <= amount <= settings.police_cost_max:
            raise PlanError(
                f"the police cost of a hub is £{settings.police_cost_min:,} to "
                f"£{settings.police_cost_max:,} by the programme's range (see Settings)",
                field="amount_pounds",
            )
        others = select(Funding.id).where(
            Funding.borough_code == code, Funding.kind == FundingKind.POLICE
        )
        if funding_id is not None:
            others = others.where(Funding.id != funding_id)
        if session.scalar(others.limit(1)) is not None:
            raise PlanError(
                "this hub already has its police cost: change that one instead", field="kind"
            )
    return {
        "kind": fields.kind,
        "funder": funder,
        "amount_pounds": amount,
        "notes": _text(fields.notes, "notes", limit=NOTES_LIMIT),
    }


def add_funding(session: Session, actor: Actor, code: str, fields: FundingFields) -> int:
    require_editor(actor)
    borough = _borough(session, code, lock=True)
    values = _funding_values(session, code, fields, None)
    funding = Funding(borough_code=code, updated_by=actor.username, updated_at=utcnow(), **values)
    session.add(funding)
    session.flush()
    changes.record(
        session,
        actor,
        borough=code,
        entity="funding",
        entity_id=str(funding.id),
        action="created",
        summary=f"{borough.name}: £{values['amount_pounds']:,} a year from {values['funder']}",
        fields={name: [None, changes.shown(value)] for name, value in values.items() if value},
    )
    return funding.id


def update_funding(
    session: Session, actor: Actor, funding_id: int, version: int, fields: FundingFields
) -> None:
    require_editor(actor)
    funding: Funding = _row(session, Funding, funding_id, "funding")
    borough = _borough(session, funding.borough_code, lock=True)
    changes.require_version(
        session,
        funding,
        version,
        f"{borough.name}'s funding from {funding.funder}",
        "funding",
        str(funding_id),
    )
    values = _funding_values(session, funding.borough_code, fields, funding_id)
    changes.apply(
        session,
        actor,
        funding,
        values,
        entity="funding",
        entity_id=str(funding_id),
        borough=funding.borough_code,
        summary=f"{borough.name}: funding from {values['funder']}",
    )


def remove_funding(session: Session, actor: Actor, funding_id: int, version: int) -> None:
    require_editor(actor)
    funding: Funding = _row(session, Funding, funding_id, "funding")
    borough = _borough(session, funding.borough_code)
    changes.require_version(
        session,
        funding,
        version,
        f"{borough.name}'s funding from {funding.funder}",
        "funding",
        str(funding_id),
    )
    session.delete(funding)
    changes.record(
        session,
        actor,
        borough=funding.borough_code,
        entity="funding",
        entity_id=str(funding_id),
        action="removed",
        summary=f"{borough.name}: funding from {funding.funder} removed",
        fields={
            "funder": [funding.funder, None],
            "amount_pounds": [funding.amount_pounds, None],
        },
    )


# --- waves and settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WaveFields:
    name: str
    description: str
    planned_hubs: int | None
    target_start: dt.date | None
    target_date: dt.date | None
    actual_date: dt.date | None


def update_wave(
    session: Session,
    actor: Actor,
    wave_id: int,
    version: int,
    fields: WaveFields,
    *,
    today: dt.date | None = None,
) -> None:
    require_editor(actor)
    wave: Wave = _row(session, Wave, wave_id, "wave")
    changes.require_version(session, wave, version, wave.name, "wave", str(wave_id))
    if fields.planned_hubs is not None and not 0 <= fields.planned_hubs <= 33:
        raise PlanError("must be a number of hubs from 0 to 33", field="planned_hubs")
    start = _date(fields.target_start, "target_start")
    target = _date(fields.target_date, "target_date")
    if start and target and target < start:
        raise PlanError("must be on or after the planned start", field="target_date")
    values = {
        "name": _text(fields.name, "name", limit=100, required="enter the wave's name"),
        "description": _text(fields.description, "description", limit=500),
        "planned_hubs": fields.planned_hubs,
        "target_start": start,
        "target_date": target,
        "actual_date": _date(fields.actual_date, "actual_date", not_after=_today(today)),
    }
    clash = session.scalar(select(Wave.id).where(Wave.name == values["name"], Wave.id != wave_id))
    if clash is not None:
        raise PlanError("another wave has this name", field="name", code=ErrorCode.CONFLICT)
    changes.apply(
        session,
        actor,
        wave,
        values,
        entity="wave",
        entity_id=str(wave_id),
        borough=None,
        summary=f"{values['name']}: plan",
    )


def update_settings(
    session: Session,
    actor: Actor,
    version: int,
    police_cost_min: int | None,
    police_cost_max: int | None,
    amber_days: int | None,
) -> None:
    require_editor(actor)
    settings: ProgrammeSettings = _row(session, ProgrammeSettings, 1, "settings")
    changes.require_version(session, settings, version, "The programme settings", "settings", "1")
    if police_cost_min is None or not 0 <= police_cost_min <= 10_000_000:
        raise PlanError("enter the lowest police cost of a hub in pounds", field="police_cost_min")
    if police_cost_max is None or not 0 <= police_cost_max <= 10_000_000:
        raise PlanError("enter the highest police cost of a hub in pounds", field="police_cost_max")
    if police_cost_max < police_cost_min:
        raise PlanError("must not be below the lowest", field="police_cost_max")
    if amber_days is None or not 1 <= amber_days <= 365:
        raise PlanError("must be a number of days from 1 to 365", field="amber_days")
    changes.apply(
        session,
        actor,
        settings,
        {
            "police_cost_min": police_cost_min,
            "police_cost_max": police_cost_max,
            "amber_days": amber_days,
        },
        entity="settings",
        entity_id="1",
        borough=None,
        summary="Programme settings",
    )
