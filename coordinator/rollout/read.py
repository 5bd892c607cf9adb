"""What the pages show of the rollout plan, as frozen read models (never live rows): the London
overview, a borough's page, the waves, the comparative investment and the history of changes."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.errors import NotFound
from coordinator.rollout.rag import days_late, is_late, milestone_rag
from coordinator.rollout.words import LIVE_STAGES, STAGE_NAMES
from coordinator.store.models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    Arrangement,
    Borough,
    BoroughPartner,
    Change,
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
)


@dataclass(frozen=True)
class SettingsView:
    police_cost_min: int
    police_cost_max: int
    amber_days: int
    version: int


@dataclass(frozen=True)
class BoroughSummary:
    code: str
    name: str
    short_name: str
    column: int
    row: int
    considering: bool
    wave_id: int | None
    wave_number: int | None
    wave_name: str | None
    stage: Stage
    target_go_live: dt.date | None
    went_live_on: dt.date | None
    framework_level: int | None
    late_milestones: int
    version: int

    @property
    def stage_name(self) -> str:
        return STAGE_NAMES[self.stage]

    @property
    def live(self) -> bool:
        return self.stage in LIVE_STAGES


@dataclass(frozen=True)
class MilestoneView:
    id: int
    borough_code: str
    borough_name: str
    title: str
    due_on: dt.date
    completed_on: dt.date | None
    notes: str
    rag: str
    late: bool
    days_late: int
    version: int
    updated_by: str
    updated_at: dt.datetime


@dataclass(frozen=True)
class WaveView:
    id: int
    number: int
    name: str
    description: str
    planned_hubs: int | None
    is_pilot: bool
    target_start: dt.date | None
    target_date: dt.date | None
    actual_date: dt.date | None
    version: int
    boroughs: tuple[BoroughSummary, ...]

    @property
    def live_count(self) -> int:
        return sum(1 for b in self.boroughs if b.live)

    @property
    def first_live(self) -> dt.date | None:
        days = [b.went_live_on for b in self.boroughs if b.went_live_on]
        return min(days) if days else None

    @property
    def last_live(self) -> dt.date | None:
        days = [b.went_live_on for b in self.boroughs if b.went_live_on]
        return max(days) if days and len(days) == len(self.boroughs) else None


@dataclass(frozen=True)
class StageCount:
    stage: Stage
    name: str
    count: int


@dataclass(frozen=True)
class Overview:
    today: dt.date
    waves: tuple[WaveView, ...]
    unassigned: tuple[BoroughSummary, ...]
    stage_counts: tuple[StageCount, ...]
    late: tuple[MilestoneView, ...]
    upcoming: tuple[MilestoneView, ...]
    boroughs: tuple[BoroughSummary, ...]
    live_count: int
    considering_count: int


@dataclass(frozen=True)
class AssessmentView:
    id: int
    assessed_on: dt.date
    level: int
    level_name: str
    notes: str
    recorded_by: str


@dataclass(frozen=True)
class PartnerView:
    agency_code: str
    agency_name: str
    arrangement: Arrangement
    since: dt.date | None
    version: int


@dataclass(frozen=True)
class AgreementView:
    kind: AgreementKind
    status: AgreementStatus
    started_on: dt.date | None
    signed_on: dt.date | None
    review_on: dt.date | None
    consultation: ConsultationStatus | None
    consultation_opened_on: dt.date | None
    consultation_closed_on: dt.date | None
    notes: str
    version: int
    updated_by: str
    updated_at: dt.datetime


@dataclass(frozen=True)
class FundingView:
    id: int
    borough_code: str
    kind: FundingKind
    funder: str
    amount_pounds: int
    notes: str
    version: int


@dataclass(frozen=True)
class ChangeView:
    id: int
    at: dt.datetime
    actor: str
    borough_code: str | None
    entity: str
    entity_id: str
    action: str
    summary: str
    fields: dict[str, list[Any]]


@dataclass(frozen=True)
class BoroughDetail:
    summary: BoroughSummary
    notes: str
    milestones: tuple[MilestoneView, ...]
    assessments: tuple[AssessmentView, ...]
    partners: tuple[PartnerView, ...]
    agreements: tuple[AgreementView, ...]
    funding: tuple[FundingView, ...]
    changes: tuple[ChangeView, ...]
    levels: tuple[tuple[int, str], ...]

    @property
    def funding_total(self) -> int:
        return sum(f.amount_pounds for f in self.funding)

    @property
    def police_cost(self) -> int | None:
        police = [f.amount_pounds for f in self.funding if f.kind is FundingKind.POLICE]
        return police[0] if police else None


def _today(today: dt.date | None) -> dt.date:
    return today or dt.datetime.now(dt.UTC).date()


def borough_name(session: Session, code: str) -> str:
    """The borough's name; NotFound if `code` is not one of London's."""
    name = session.scalar(select(Borough.name).where(Borough.code == code))
    if name is None:
        raise NotFound(f"no borough {code!r}")
    return name


def settings(session: Session) -> SettingsView:
    row = session.get_one(ProgrammeSettings, 1)
    return SettingsView(row.police_cost_min, row.police_cost_max, row.amber_days, row.version)


def _milestone_view(m: Milestone, name: str, today: dt.date, amber_days: int) -> MilestoneView:
    return MilestoneView(
        id=m.id,
        borough_code=m.borough_code,
        borough_name=name,
        title=m.title,
        due_on=m.due_on,
        completed_on=m.completed_on,
        notes=m.notes,
        rag=milestone_rag(m.due_on, m.completed_on, today, amber_days),
        late=is_late(m.due_on, m.completed_on, today),
        days_late=days_late(m.due_on, m.completed_on, today),
        version=m.version,
        updated_by=m.updated_by,
        updated_at=m.updated_at,
    )


def _latest_levels(session: Session) -> dict[str, int]:
    latest: dict[str, tuple[dt.date, int, int]] = {}
    for code, day, ident, level in session.execute(
        select(
            FrameworkAssessment.borough_code,
            FrameworkAssessment.assessed_on,
            FrameworkAssessment.id,
            FrameworkAssessment.level,
        )
    ):
        if code not in latest or (day, ident) > latest[code][:2]:
            latest[code] = (day, ident, level)
    return {code: value[2] for code, value in latest.items()}


def borough_summaries(session: Session, today: dt.date | None = None) -> list[BoroughSummary]:
    """Every authority, in name order, with its wave, stage, level and late milestones."""
    today = _today(today)
    waves = {w.id: w for w in session.scalars(select(Wave))}
    levels = _latest_levels(session)
    late = Counter(
        session.scalars(
            select(Milestone.borough_code).where(
                Milestone.completed_on.is_(None), Milestone.due_on < today
            )
        )
    )
    summaries = []
    for b in session.scalars(select(Borough).order_by(Borough.name)):
        wave = waves.get(b.wave_id) if b.wave_id is not None else None
        summaries.append(
            BoroughSummary(
                code=b.code,
                name=b.name,
                short_name=b.short_name,
                column=b.grid_column,
                row=b.grid_row,
                considering=b.considering,
                wave_id=b.wave_id,
                wave_number=wave.number if wave else None,
                wave_name=wave.name if wave else None,
                stage=b.stage,
                target_go_live=b.target_go_live,
                went_live_on=b.went_live_on,
                framework_level=levels.get(b.code),
                late_milestones=late.get(b.code, 0),
                version=b.version,
            )
        )
    return summaries


def waves(session: Session, summaries: list[BoroughSummary] | None = None) -> list[WaveView]:
    summaries = summaries if summaries is not None else borough_summaries(session)
    by_wave: dict[int, list[BoroughSummary]] = defaultdict(list)
    for summary in summaries:
        if summary.wave_id is not None:
            by_wave[summary.wave_id].append(summary)
    return [
        WaveView(
            id=w.id,
            number=w.number,
            name=w.name,
            description=w.description,
            planned_hubs=w.planned_hubs,
            is_pilot=w.is_pilot,
            target_start=w.target_start,
            target_date=w.target_date,
            actual_date=w.actual_date,
            version=w.version,
            boroughs=tuple(by_wave.get(w.id, [])),
        )
        for w in session.scalars(select(Wave).order_by(Wave.number))
    ]


def wave(session: Session, wave_id: int) -> WaveView:
    for view in waves(session):
        if view.id == wave_id:
            return view
    raise NotFound(f"no wave {wave_id}")


def overview(session: Session, today: dt.date | None = None) -> Overview:
    today = _today(today)
    amber = settings(session).amber_days
    summaries = borough_summaries(session, today)
    names = {s.code: s.name for s in summaries}
    counts = Counter(s.stage for s in summaries)
    open_milestones = [
        _milestone_view(m, names[m.borough_code], today, amber)
        for m in session.scalars(
            select(Milestone).where(Milestone.completed_on.is_(None)).order_by(Milestone.due_on)
        )
    ]
    late = tuple(
        sorted((m for m in open_milestones if m.late), key=lambda m: (-m.days_late, m.borough_name))
    )
    upcoming = tuple(m for m in open_milestones if m.rag == "amber")
    return Overview(
        today=today,
        waves=tuple(waves(session, summaries)),
        unassigned=tuple(s for s in summaries if s.wave_id is None),
        stage_counts=tuple(StageCount(stage, STAGE_NAMES[stage], counts[stage]) for stage in Stage),
        late=late,
        upcoming=upcoming,
        boroughs=tuple(summaries),
        live_count=sum(1 for s in summaries if s.live),
        considering_count=sum(1 for s in summaries if s.considering),
    )


def borough_detail(session: Session, code: str, today: dt.date | None = None) -> BoroughDetail:
    today = _today(today)
    amber = settings(session).amber_days
    summary = next((s for s in borough_summaries(session, today) if s.code == code), None)
    borough = session.get(Borough, code)
    if summary is None or borough is None:
        raise NotFound(f"no borough {code!r}")
    levels = {lv.level: lv.name for lv in session.scalars(select(FrameworkLevel))}
    agencies = {a.code: a for a in session.scalars(select(PartnerAgency))}
    partners = sorted(
        session.scalars(select(BoroughPartner).where(BoroughPartner.borough_code == code)),
        key=lambda p: agencies[p.agency_code].position,
    )
    return BoroughDetail(
        summary=summary,
        notes=borough.notes,
        milestones=tuple(
            _milestone_view(m, summary.name, today, amber)
            for m in session.scalars(
                select(Milestone)
                .where(Milestone.borough_code == code)
                .order_by(Milestone.due_on, Milestone.id)
            )
        ),
        assessments=tuple(
            AssessmentView(a.id, a.assessed_on, a.level, levels[a.level], a.notes, a.recorded_by)
            for a in session.scalars(
                select(FrameworkAssessment)
                .where(FrameworkAssessment.borough_code == code)
                .order_by(FrameworkAssessment.assessed_on, FrameworkAssessment.id)
            )
        ),
        partners=tuple(
            PartnerView(
                p.agency_code, agencies[p.agency_code].name, p.arrangement, p.since, p.version
            )
            for p in partners
        ),
        agreements=tuple(
            _agreement_view(a)
            for a in sorted(
                session.scalars(select(Agreement).where(Agreement.borough_code == code)),
                key=lambda a: list(AgreementKind).index(a.kind),
            )
        ),
        funding=tuple(
            _funding_view(f)
            for f in session.scalars(
                select(Funding)
                .where(Funding.borough_code == code)
                .order_by(Funding.kind.desc(), Funding.amount_pounds.desc(), Funding.id)
            )
        ),
        changes=tuple(history(session, borough=code, limit=100)),
        levels=tuple(sorted(levels.items())),
    )


def _agreement_view(a: Agreement) -> AgreementView:
    return AgreementView(
        kind=a.kind,
        status=a.status,
        started_on=a.started_on,
        signed_on=a.signed_on,
        review_on=a.review_on,
        consultation=a.consultation,
        consultation_opened_on=a.consultation_opened_on,
        consultation_closed_on=a.consultation_closed_on,
        notes=a.notes,
        version=a.version,
        updated_by=a.updated_by,
        updated_at=a.updated_at,
    )


def _funding_view(f: Funding) -> FundingView:
    return FundingView(f.id, f.borough_code, f.kind, f.funder, f.amount_pounds, f.notes, f.version)


def milestone(session: Session, milestone_id: int, today: dt.date | None = None) -> MilestoneView:
    row = session.get(Milestone, milestone_id)
    if row is None:
        raise NotFound(f"no milestone {milestone_id}")
    name = session.get_one(Borough, row.borough_code).name
    return _milestone_view(row, name, _today(today), settings(session).amber_days)


def agreement(session: Session, code: str, kind: AgreementKind) -> AgreementView:
    row = session.scalars(
        select(Agreement).where(Agreement.borough_code == code, Agreement.kind == kind)
    ).first()
    if row is None:
        raise NotFound(f"no {kind.value} agreement for {code!r}")
    return _agreement_view(row)


def partner(session: Session, code: str, agency: str) -> PartnerView:
    row = session.scalars(
        select(BoroughPartner).where(
            BoroughPartner.borough_code == code, BoroughPartner.agency_code == agency
        )
    ).first()
    name = session.get(PartnerAgency, agency)
    if row is None or name is None:
        raise NotFound(f"no partner agency {agency!r} in {code!r}")
    return PartnerView(agency, name.name, row.arrangement, row.since, row.version)


def funding(session: Session, funding_id: int) -> FundingView:
    row = session.get(Funding, funding_id)
    if row is None:
        raise NotFound(f"no funding {funding_id}")
    return _funding_view(row)


def history(
    session: Session, *, borough: str | None = None, limit: int = 200, offset: int = 0
) -> list[ChangeView]:
    query = select(Change).order_by(Change.id.desc()).limit(limit).offset(offset)
    if borough is not None:
        query = query.where(Change.borough_code == borough)
    return [
        ChangeView(
            c.id,
            c.at,
            c.actor,
            c.borough_code,
            c.entity,
            c.entity_id,
            c.action,
            c.summary,
            c.fields,
        )
        for c in session.scalars(query)
    ]


def change_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Change)) or 0


@dataclass(frozen=True)
class Investment:
    """One borough's hub funding a year: the police cost and each partner's contribution."""

    code: str
    name: str
    stage: Stage
    police: int
    partners: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return self.police + sum(amount for _name, amount in self.partners)

    @property
    def partner_total(self) -> int:
        return sum(amount for _name, amount in self.partners)


def investment(session: Session) -> list[Investment]:
    """The comparative investment: every borough with funding recorded, highest total first."""
    rows: dict[str, list[Funding]] = defaultdict(list)
    for row in session.scalars(select(Funding).order_by(Funding.amount_pounds.desc())):
        rows[row.borough_code].append(row)
    boroughs = {b.code: b for b in session.scalars(select(Borough))}
    found = [
        Investment(
            code=code,
            name=boroughs[code].name,
            stage=boroughs[code].stage,
            police=sum(f.amount_pounds for f in items if f.kind is FundingKind.POLICE),
            partners=tuple(
                (f.funder, f.amount_pounds) for f in items if f.kind is FundingKind.PARTNER
            ),
        )
        for code, items in rows.items()
    ]
    return sorted(found, key=lambda i: (-i.total, i.name))


@dataclass(frozen=True)
class AgreementCount:
    kind: AgreementKind
    signed: int
    in_progress: int  # started, not yet signed
    consultations_closed: int  # EIA only


def agreement_counts(session: Session) -> list[AgreementCount]:
    """How many boroughs have signed each agreement, and how many are working on it."""
    rows = list(session.scalars(select(Agreement)))
    return [
        AgreementCount(
            kind,
            sum(1 for a in rows if a.kind is kind and a.status is AgreementStatus.SIGNED),
            sum(
                1
                for a in rows
                if a.kind is kind
                and a.status not in (AgreementStatus.SIGNED, AgreementStatus.NOT_STARTED)
            ),
            sum(1 for a in rows if a.kind is kind and a.consultation is ConsultationStatus.CLOSED),
        )
        for kind in AgreementKind
    ]


def agreement_statuses(session: Session) -> dict[str, dict[AgreementKind, AgreementStatus]]:
    """Each borough's agreements' statuses, by kind."""
    found: dict[str, dict[AgreementKind, AgreementStatus]] = defaultdict(dict)
    for code, kind, status in session.execute(
        select(Agreement.borough_code, Agreement.kind, Agreement.status)
    ):
        found[code][kind] = status
    return dict(found)
